//! What /proc says about processes: the fields of /proc/PID/stat, children and descendants,
//! the signal sets of /proc/PID/status.
//!
//! Children come from /proc/PID/task/TID/children (`CONFIG_PROC_CHILDREN`), read for every
//! thread: an orphan is reparented to one thread of its new parent, not always the main one.
//! No scan of /proc, so a test can poll it in a tight loop, and it works in a PID namespace
//! whose /proc is crowded with thousands of zombies. A kernel without those files fails the
//! first call loudly rather than making every process look childless.

use std::fs;
use std::io::ErrorKind;
use std::sync::Once;

/// The fields of /proc/PID/stat the tests and the bench use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    /// The command name, as bytes: a program may give itself any name, UTF-8 or not.
    pub comm: Vec<u8>,
    /// R, S, D, T, Z...
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    /// Clock ticks spent in user and in kernel mode, all threads.
    pub utime: u64,
    pub stime: u64,
    /// Clock ticks from boot to the start: with the pid, it names one process.
    pub starttime: u64,
}

impl Stat {
    /// Parses the text of /proc/PID/stat. The command name may hold spaces and parentheses:
    /// it ends at the last `)`.
    pub fn parse(bytes: &[u8]) -> Option<Stat> {
        let open = bytes.iter().position(|&b| b == b'(')?;
        let close = bytes.iter().rposition(|&b| b == b')')?;
        let pid = std::str::from_utf8(&bytes[..open])
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let rest = std::str::from_utf8(bytes.get(close + 1..)?).ok()?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Stat {
            pid,
            comm: bytes[open + 1..close].to_vec(),
            state: fields.first()?.chars().next()?,
            ppid: field(&fields, 4)?,
            pgrp: field(&fields, 5)?,
            session: field(&fields, 6)?,
            utime: field(&fields, 14)?,
            stime: field(&fields, 15)?,
            starttime: field(&fields, 22)?,
        })
    }

    /// Whether the command name is `name`.
    pub fn is_named(&self, name: &str) -> bool {
        self.comm == name.as_bytes()
    }
}

/// Field `n` of proc(5)'s numbering, from the fields after the command name (field 3 on).
fn field<T: std::str::FromStr>(after_comm: &[&str], n: usize) -> Option<T> {
    after_comm.get(n - 3)?.parse().ok()
}

/// /proc/PID/stat; `None` once the process is gone.
pub fn stat(pid: i32) -> Option<Stat> {
    Stat::parse(&fs::read(format!("/proc/{pid}/stat")).ok()?)
}

/// The state letter: R, S, D, T, Z...; `None` once the process is gone.
pub fn state(pid: i32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// Exists and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    matches!(state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// A field of /proc/PID/status, e.g. "SigBlk" (PID may be a thread's id).
pub fn status_field(pid: i32, name: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

/// The number of a field of /proc/PID/status, its unit (such as `kB`) dropped.
pub fn status_number(pid: i32, name: &str) -> Option<u64> {
    status_field(pid, name)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Voluntary plus involuntary context switches of all threads of `pid`.
pub fn context_switches(pid: i32) -> Option<u64> {
    let tasks = tasks(pid);
    if tasks.is_empty() {
        return None;
    }
    tasks.into_iter().try_fold(0, |total, tid| {
        Some(
            total
                + status_number(tid, "voluntary_ctxt_switches")?
                + status_number(tid, "nonvoluntary_ctxt_switches")?,
        )
    })
}

/// A signal set of /proc/PID/status ("SigBlk", "SigIgn", "SigCgt", "ShdPnd"); 0 if gone.
pub fn signal_set(pid: i32, name: &str) -> u64 {
    status_field(pid, name)
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .unwrap_or(0)
}

/// Whether `set` (as in /proc/PID/status) holds `sig`.
pub fn has_signal(set: u64, sig: i32) -> bool {
    set & (1 << (sig - 1)) != 0
}

/// Whether `pid` blocks `sig`. This is the readiness check before signalling sexton: it
/// blocks every signal it forwards in its first step, and as PID 1 a signal it had neither
/// blocked nor caught would be dropped by the kernel.
pub fn blocks(pid: i32, sig: i32) -> bool {
    has_signal(signal_set(pid, "SigBlk"), sig)
}

/// /proc/PID/cmdline: the arguments, each ended by a NUL; empty once gone.
pub fn cmdline(pid: i32) -> Vec<u8> {
    fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()
}

/// The ids of the threads of `pid`; empty once it is gone.
pub fn tasks(pid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every process (zombies included) whose parent is `parent`, lowest pid first.
pub fn children(parent: i32) -> Vec<i32> {
    require_children_lists();
    let mut children: Vec<i32> = tasks(parent)
        .into_iter()
        .filter_map(|tid| fs::read_to_string(format!("/proc/{parent}/task/{tid}/children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    children.sort_unstable();
    children
}

/// Panics, once and for all, if this kernel has no /proc/PID/task/TID/children.
fn require_children_lists() {
    static CHECKED: Once = Once::new();
    CHECKED.call_once(|| {
        let tid = nix::unistd::gettid();
        let path = format!("/proc/self/task/{tid}/children");
        if fs::metadata(&path).is_err_and(|err| err.kind() == ErrorKind::NotFound) {
            panic!(
                "{path} is missing: the test kit needs a kernel built with \
                 CONFIG_PROC_CHILDREN (and a /proc of this PID namespace)"
            );
        }
    });
}

/// The child of `parent` whose command name is `comm`, if there is one yet.
pub fn child_named(parent: i32, comm: &str) -> Option<i32> {
    children(parent)
        .into_iter()
        .find(|&pid| stat(pid).is_some_and(|s| s.is_named(comm)))
}

/// The oldest child of `parent` (the lowest pid), if there is one yet.
pub fn first_child(parent: i32) -> Option<i32> {
    children(parent).into_iter().next()
}

/// Every process below `root` in the process tree, each parent before its children.
pub fn descendants(root: i32) -> Vec<i32> {
    children(root)
        .into_iter()
        .flat_map(|child| std::iter::once(child).chain(descendants(child)))
        .collect()
}

/// The zombies among the children of `parent`.
pub fn zombie_children(parent: i32) -> Vec<i32> {
    children(parent)
        .into_iter()
        .filter(|&pid| state(pid) == Some('Z'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_parentheses_and_no_utf8() {
        let mut line =
            b"42 (a) b\xff (c)) S 1 42 42 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 99 1 2".to_vec();
        line.push(b'\n');
        let stat = Stat::parse(&line).unwrap();
        assert_eq!(stat.pid, 42);
        assert_eq!(stat.comm, b"a) b\xff (c)");
        assert_eq!(stat.state, 'S');
        assert_eq!((stat.ppid, stat.pgrp, stat.session), (1, 42, 42));
        assert_eq!((stat.utime, stat.stime, stat.starttime), (5, 6, 99));
    }

    #[test]
    fn a_truncated_line_is_none() {
        assert_eq!(Stat::parse(b"42 (sh) S 1 42"), None);
        assert_eq!(Stat::parse(b""), None);
    }

    #[test]
    fn this_process_reads_as_itself() {
        let me = std::process::id() as i32;
        let stat = stat(me).unwrap();
        assert_eq!(stat.pid, me);
        assert!(is_alive(me));
        assert!(tasks(me).contains(&me));
    }

    #[test]
    fn a_child_is_listed_and_its_stat_names_the_parent() {
        let mut child = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .unwrap();
        let (me, pid) = (std::process::id() as i32, child.id() as i32);
        assert!(children(me).contains(&pid));
        assert!(descendants(me).contains(&pid));
        assert_eq!(stat(pid).unwrap().ppid, me);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!children(me).contains(&pid));
    }

    #[test]
    fn signal_sets_count_from_one() {
        assert!(has_signal(0b1, 1));
        assert!(has_signal(1 << 14, 15));
        assert!(!has_signal(1 << 14, 14));
    }
}
