//! /proc, read only once it is proven to be the /proc of sexton's own PID namespace: in any
//! other (the host's, a parent namespace's, an empty tmpfs mounted over it) a pid names some
//! other process than the one sexton would reach with it.
//!
//! Used by `shutdown` (which processes are left) and `terminal` (whether sexton's process
//! group is orphaned), so /proc is read and trusted one way.
//!
//! Everything is parsed as bytes: a command name need not be UTF-8 (`prctl(PR_SET_NAME)`
//! takes any bytes, and the kernel cuts names at 15 bytes, mid-character).

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::str::FromStr;

use nix::libc::c_int;

/// A process as /proc/PID/stat shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pid: c_int,
    pub parent: c_int,
    pub group: c_int,
    pub session: c_int,
    /// Neither a zombie nor dead nor a kernel thread (which ignores every signal): a process
    /// that still runs and that a signal can end.
    pub live: bool,
}

/// PF_KTHREAD, in the flags of /proc/PID/stat: kthreadd and its children, which the initial
/// PID namespace shows beside its processes.
const KERNEL_THREAD: u32 = 0x0020_0000;

/// The inode of the initial PID namespace (PROC_PID_INIT_INO), fixed by the kernel.
const INITIAL_PID_NAMESPACE: &[u8] = b"pid:[4026531836]";

/// The proof that /proc is sexton's own; only then are its pids read.
#[derive(Debug)]
pub struct Procfs {
    initial: bool,
}

impl Procfs {
    /// Proves that /proc belongs to the PID namespace of sexton, whose pid is `me`: `/proc/self`
    /// must name `me`, and the NSpid line of /proc/self/status, which holds one pid for each
    /// namespace from /proc's down to sexton's, must hold `me` alone. Otherwise says why not.
    pub fn prove(me: c_int) -> Result<Procfs, &'static str> {
        let Ok(link) = fs::read_link("/proc/self") else {
            return Err("/proc has no /proc/self (it is empty, or not a proc file system)");
        };
        if link.as_os_str().as_bytes() != me.to_string().as_bytes() {
            return Err("/proc belongs to another PID namespace");
        }
        let Ok(status) = fs::read("/proc/self/status") else {
            return Err("/proc/self/status cannot be read");
        };
        match ns_pids(&status) {
            None => Err("/proc/self/status has no NSpid line (Linux before 4.1)"),
            Some(pids) if pids == [me] => Ok(Procfs {
                initial: fs::read_link("/proc/self/ns/pid")
                    .is_ok_and(|ns| ns.as_os_str().as_bytes() == INITIAL_PID_NAMESPACE),
            }),
            Some(_) => Err("/proc belongs to an ancestor PID namespace"),
        }
    }

    /// Whether this is the initial PID namespace (sexton is a machine's init): there the
    /// kernel's threads always answer kill(-1, 0), so only /proc tells whether anything is left.
    pub fn initial_namespace(&self) -> bool {
        self.initial
    }

    /// sexton's own children, zombies included, from the children lists of its threads; these
    /// are sexton's own entries, so `hidepid` hides none of them. `None` if the kernel has no
    /// children lists (CONFIG_PROC_CHILDREN).
    pub fn children(&self) -> Option<Vec<c_int>> {
        let tasks = fs::read_dir("/proc/self/task").ok()?;
        let mut children = Vec::new();
        for task in tasks {
            let list = fs::read(task.ok()?.path().join("children")).ok()?;
            children.extend(
                list.split(u8::is_ascii_whitespace)
                    .filter_map(number::<c_int>),
            );
        }
        Some(children)
    }

    /// Every process /proc shows (`hidepid` may hide some).
    pub fn table(&self) -> Vec<Entry> {
        let Ok(dir) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|entry| number(entry.ok()?.file_name().as_bytes()))
            .filter_map(|pid| self.entry(pid))
            .collect()
    }

    /// `pid`'s entry; `None` once it is gone (or hidden).
    pub fn entry(&self, pid: c_int) -> Option<Entry> {
        let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(pid, &stat)
    }
}

/// The pids of the NSpid line of a /proc/PID/status.
fn ns_pids(status: &[u8]) -> Option<Vec<c_int>> {
    let line = status
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"NSpid:"))?;
    line.split(u8::is_ascii_whitespace)
        .filter(|word| !word.is_empty())
        .map(number)
        .collect()
}

/// The state, parent and flags in a /proc/PID/stat line; the command name before them, in
/// parentheses, may hold any byte, `)` and spaces included.
fn parse_stat(pid: c_int, stat: &[u8]) -> Option<Entry> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat[close + 1..]
        .split(u8::is_ascii_whitespace)
        .filter(|word| !word.is_empty());
    let state = *fields.next()?.first()?;
    let parent = number(fields.next()?)?;
    let group = number(fields.next()?)?;
    let session = number(fields.next()?)?;
    // Past the terminal and its foreground group (-1 for none).
    let flags: u32 = number(fields.nth(2)?)?;
    Some(Entry {
        pid,
        parent,
        group,
        session,
        live: !matches!(state, b'Z' | b'X' | b'x') && flags & KERNEL_THREAD == 0,
    })
}

/// A decimal number of ASCII digits, nothing else.
fn number<T: FromStr>(text: &[u8]) -> Option<T> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parent_past_any_command_name() {
        let entry = |pid, parent, live| {
            Some(Entry {
                pid,
                parent,
                group: pid,
                session: if pid == 42 { 1 } else { 5 },
                live,
            })
        };
        assert_eq!(
            parse_stat(42, b"42 (sleep) S 7 42 1 0 -1 4194560 91 0"),
            entry(42, 7, true)
        );
        assert_eq!(
            parse_stat(42, b"42 (a) b) S 9 42 1 0 -1 4194304"),
            entry(42, 9, true)
        );
        assert_eq!(
            parse_stat(
                5,
                b"5 (a-\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf\xe3) R 1 5 5 0 -1 4194304"
            ),
            entry(5, 1, true)
        );
        assert_eq!(
            parse_stat(5, b"5 (\xff\xfe) Z 3 5 5 0 -1 4227084"),
            entry(5, 3, false)
        );
        assert_eq!(parse_stat(5, b"garbage"), None);
        assert_eq!(parse_stat(5, b"5 (x) S -1 5 5 0 -1 0"), None);
    }

    #[test]
    fn kernel_threads_are_not_live() {
        let live = |pid, stat| parse_stat(pid, stat).map(|entry| entry.live);
        // kthreadd and a child of it, as the initial PID namespace shows them.
        assert_eq!(
            live(2, b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0"),
            Some(false)
        );
        assert_eq!(
            live(15, b"15 (ksoftirqd/0) S 2 0 0 0 -1 69238848"),
            Some(false)
        );
        // Any other flag, the highest included, is a process's.
        assert_eq!(live(9, b"9 (sh) S 1 9 9 34816 9 4194304"), Some(true));
        assert_eq!(live(9, b"9 (sh) S 1 9 9 0 -1 2147483648"), Some(true));
        // A line cut before the flags is no entry.
        assert_eq!(live(9, b"9 (sh) S 1 9 9 0 -1"), None);
    }

    #[test]
    fn reads_one_pid_per_namespace() {
        let status = b"Name:\tsexton\nPid:\t1\nNSpid:\t4242\t1\nNSpgid:\t1\n";
        assert_eq!(ns_pids(status), Some(vec![4242, 1]));
        assert_eq!(ns_pids(b"Pid:\t9\nNSpid:\t9\n"), Some(vec![9]));
        assert_eq!(ns_pids(b"Pid:\t9\n"), None);
        assert_eq!(ns_pids(b"NSpid:\t9 x\n"), None);
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number::<c_int>(b"123"), Some(123));
        for bad in [&b""[..], b"+1", b"-1", b"1a", b"self", b"99999999999"] {
            assert_eq!(number::<c_int>(bad), None, "{bad:?}");
        }
    }
}
