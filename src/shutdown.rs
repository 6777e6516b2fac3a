//! Clean shutdown of leftovers: once the main child has exited, every other process sexton is
//! responsible for gets SIGTERM, then SIGKILL when the grace period ends, and sexton exits only
//! when all of them are reaped.
//!
//! Invariants:
//! - As PID 1 sexton is responsible for its whole PID namespace and signals it with
//!   `kill(-1, …)`. Anywhere else it is a subreaper responsible for its own descendants only,
//!   found in /proc, and never signals anything outside its tree: `kill(-1, …)` outside a PID
//!   namespace would reach every process on the host, and a pid that changed hands since the
//!   scan is not signalled (each signal goes through a pidfd, after the process's parent is
//!   checked again).
//! - The grace timer is a thread that exists only during shutdown; it sleeps, then sends
//!   SIGKILL. The reap loop stays a blocking `waitpid`, and returns as soon as the last
//!   leftover is gone, so a leftover that obeys SIGTERM costs no more than its own exit.

use std::fs;
use std::time::Duration;

use nix::errno::Errno;
use nix::libc::c_int;
use nix::unistd::getpid;

use crate::error::Error;
use crate::pidfd::Pidfd;
use crate::reap::Reaper;
use crate::signal::Signal;
use crate::{forward, thread};

/// The processes sexton shuts down.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// Everything in the PID namespace: sexton is its PID 1.
    Namespace,
    /// sexton's descendants: sexton is a subreaper somewhere in a bigger tree.
    Descendants,
}

impl Scope {
    /// Works out sexton's place; when it is not PID 1 it becomes a child subreaper, so the
    /// orphans of its command are reparented to it rather than to the host's init.
    pub fn take_up() -> Scope {
        if getpid().as_raw() == 1 {
            return Scope::Namespace;
        }
        if let Err(errno) = nix::sys::prctl::set_child_subreaper(true) {
            log::warn!(
                "cannot become a subreaper ({errno}); orphans will escape to the host's init"
            );
        }
        Scope::Descendants
    }

    /// Sends `sig` to every process in scope.
    fn signal(self, sig: Signal) {
        let me = getpid().as_raw();
        match self {
            // PID 1 is checked here again, where it matters: kill(-1, …) from anything else
            // signals the whole host.
            Scope::Namespace if me == 1 => forward::send(-1, sig),
            _ => {
                let tree = descendants(me);
                for &pid in &tree {
                    signal_in_tree(pid, me, &tree, sig);
                }
            }
        }
    }
}

/// Sends `sig` to `pid` only while it is still a process of the tree found in /proc: between
/// the scan and the signal the process may have exited and its pid gone to another. A pidfd
/// pins the process, whose parent, read again, must then be sexton or in `tree`.
fn signal_in_tree(pid: c_int, me: c_int, tree: &[c_int], sig: Signal) {
    let pidfd = match Pidfd::open(pid) {
        Ok(pidfd) => pidfd,
        Err(Errno::ESRCH) => return,
        Err(_) => {
            // No pidfd (Linux before 5.3, a seccomp filter, no free descriptor): the process
            // still gets its signal, with the small window left open.
            forward::send(pid, sig);
            return;
        }
    };
    if parent_of(pid).is_some_and(|parent| parent == me || tree.contains(&parent)) {
        // A process that has exited since fails with ESRCH, which needs nothing.
        let _ = pidfd.send(sig);
    }
}

/// Shuts down whatever is left in `scope` and reaps it all.
pub fn leftovers(scope: Scope, grace: Duration, reaper: Reaper) -> Result<(), Error> {
    if !reaper.has_children()? {
        return Ok(());
    }
    log::info!("sending SIGTERM to leftover processes; SIGKILL in {grace:?}");
    scope.signal(Signal::TERM);
    // A stopped process would sleep through SIGTERM until the SIGKILL.
    scope.signal(Signal::CONT);
    if grace.is_zero() {
        scope.signal(Signal::KILL);
    } else if let Err(err) = start_grace_timer(scope, grace) {
        // A full process table (pids.max) refuses threads too; waiting without a timer could
        // hang on a leftover that ignores SIGTERM, so end them now.
        log::warn!("cannot start the grace timer ({err}); sending SIGKILL to leftover processes");
        scope.signal(Signal::KILL);
    }
    reaper.until_empty()
}

fn start_grace_timer(scope: Scope, grace: Duration) -> Result<(), Errno> {
    thread::start(move || {
        std::thread::sleep(grace);
        log::warn!("grace period of {grace:?} is over; sending SIGKILL to leftover processes");
        scope.signal(Signal::KILL);
    })
}

/// The live descendants of `root`, from /proc.
fn descendants(root: c_int) -> Vec<c_int> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let table: Vec<(c_int, c_int)> = dir
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter_map(|pid: c_int| Some((pid, parent_of(pid)?)))
        .collect();
    descendants_in(root, &table)
}

/// The parent of `pid`, from /proc; `None` once it is gone.
fn parent_of(pid: c_int) -> Option<c_int> {
    parent_in_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The parent pid in a /proc/PID/stat line; the command name before it may hold anything.
fn parent_in_stat(stat: &str) -> Option<c_int> {
    let (_, fields) = stat.rsplit_once(')')?;
    fields.split_whitespace().nth(1)?.parse().ok()
}

/// Every pid in `table` (pid, parent) whose chain of parents reaches `root`.
fn descendants_in(root: c_int, table: &[(c_int, c_int)]) -> Vec<c_int> {
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(
            table
                .iter()
                .filter(|&&(_, p)| p == parent)
                .map(|&(pid, _)| pid),
        );
        next += 1;
    }
    found.remove(0);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parent_past_any_command_name() {
        assert_eq!(parent_in_stat("42 (sleep) S 7 42 1 0"), Some(7));
        assert_eq!(parent_in_stat("42 (a) b) S 9 42"), Some(9));
        assert_eq!(parent_in_stat("garbage"), None);
    }

    #[test]
    fn finds_the_whole_tree_and_nothing_else() {
        let table = [(10, 1), (11, 10), (12, 11), (13, 10), (20, 1), (21, 20)];
        let mut found = descendants_in(10, &table);
        found.sort();
        assert_eq!(found, [11, 12, 13]);
        assert!(descendants_in(12, &table).is_empty());
    }
}
