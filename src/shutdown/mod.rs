//! Clean shutdown of leftovers: once COMMAND has exited, every other process sexton is
//! responsible for gets SIGTERM (and SIGCONT, so a stopped one sees it), then SIGKILL when the
//! grace period ends; sexton returns the moment none is left, and in any case one second after
//! the grace period, saying once what it could not do.
//!
//! Invariants:
//! - Scope. As PID 1 sexton is responsible for every process of its PID namespace, children or
//!   not, and reaches them all with `kill(-1, …)`, checking `getpid() == 1` right there: from
//!   anything else that call signals the whole host. Anywhere else sexton is a subreaper
//!   responsible for its own descendants, and never signals anything outside its tree.
//! - Finding. Pids are read from /proc only once /proc is proven to be the /proc of sexton's
//!   own PID namespace (`procfs`). Without that proof sexton uses only what it can prove:
//!   COMMAND's process group and, as PID 1, `kill(-1, …)`.
//! - Signalling. A signal to a pid read from /proc goes through a pidfd that pins the process,
//!   sent only once its parent, read again, is sexton or in the tree; when no pidfd can be had
//!   or the kernel refuses to send through it (a seccomp filter), the same check guards
//!   `kill(2)`. sexton's own children need no check: only sexton reaps them, so their pids
//!   cannot change hands while it looks. As PID 1 nothing needs one: every pid it can reach is
//!   in its namespace.
//! - Passes. The first pass sends SIGTERM to everything found, once; during the grace period
//!   sexton only watches (a leftover's own shutdown may start helpers); after it every pass
//!   sends SIGKILL to all that is left, and passes repeat until nothing is, so a process that
//!   keeps forking cannot escape one scan.
//! - Waiting. Between passes sexton sleeps in poll(2) on the pidfds of what is left, woken by
//!   an exit or a deadline. Only while something is left that no pidfd watches (no proof of
//!   /proc, no pidfds) does it look again every 10 ms.
//! - cgroups are not used. sexton's cgroup is not "everything it started": in a container it
//!   is the container's, the set `kill(-1, …)` already reaches; as a subreaper (a systemd unit,
//!   a CI job) it holds the launcher and its other children too, so `cgroup.kill` would reach
//!   outside the tree. An exact set needs a cgroup of its own with COMMAND moved into it: that
//!   takes a delegated, writable cgroup v2 tree, fails where controllers are enabled (no
//!   internal processes), and changes the program's cgroup behind the runtime's back.

mod procfs;

use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc::{self, c_int};
use nix::unistd::{Pid, getpid};

use crate::error::Error;
use crate::pidfd::Pidfd;
use crate::reap::Reaper;
use crate::signal::Signal;

use procfs::Procfs;

/// How long after the grace period sexton still waits for what it has sent SIGKILL: a
/// little under a second, so that it has exited when the second is over.
const LAST_SECOND: Duration = Duration::from_millis(900);
/// How often sexton looks again while something is left that no pidfd watches.
const BLIND_POLL: Duration = Duration::from_millis(10);

/// The processes sexton shuts down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// Shuts down whatever is left in `scope` once COMMAND, whose process group is `group`, has
/// exited, and reaps it all. Returns as soon as nothing is left, and at the latest
/// [`LAST_SECOND`] after the grace period.
pub fn leftovers(scope: Scope, grace: Duration, group: Pid, reaper: Reaper) -> Result<(), Error> {
    if nothing_left(scope, reaper)? {
        return Ok(());
    }
    let kill_at = Instant::now() + grace;
    let give_up = kill_at + LAST_SECOND;
    let mut shutdown = Shutdown::new(scope, group, grace);
    loop {
        let children = reaper.has_children()?;
        let left = shutdown.find();
        if !children && !left.others {
            return Ok(());
        }
        let now = Instant::now();
        if now >= give_up {
            shutdown.give_up(&left);
            return Ok(());
        }
        let killing = now >= kill_at;
        let watch = shutdown.pass(&left, killing);
        let mut timeout = if killing { give_up } else { kill_at } - now;
        if watch.blind || watch.pidfds.is_empty() {
            timeout = timeout.min(BLIND_POLL);
        }
        wait_any(&watch.pidfds, timeout);
    }
}

/// Whether nothing can be left, known without /proc, so that the common exit costs a
/// waitpid and a kill rather than a proof of /proc and a read of the whole process table.
/// Orphans are reparented to sexton, a subreaper: with no child it has no descendant. As
/// PID 1, kill(-1, 0) finds nothing only when sexton is alone in its namespace.
fn nothing_left(scope: Scope, reaper: Reaper) -> Result<bool, Error> {
    if reaper.has_children()? {
        return Ok(false);
    }
    Ok(match scope {
        Scope::Descendants => true,
        Scope::Namespace => reach_namespace(None) == Err(Errno::ESRCH),
    })
}

/// One shutdown, from COMMAND's exit to sexton's.
struct Shutdown {
    scope: Scope,
    group: Pid,
    grace: Duration,
    me: c_int,
    /// The proof that /proc is sexton's own, or why there is none.
    procfs: Result<Procfs, &'static str>,
    /// Whether the first pass, which sends SIGTERM to everything, is done.
    termed: bool,
    /// Whether SIGKILL has been sent, and said so.
    sent_kill: bool,
    /// The first thing that could not be done, for the one line that reports it.
    trouble: Option<String>,
}

/// What a look found.
struct Left {
    /// The live processes in scope seen in /proc.
    found: Vec<Found>,
    /// Whether every live process in scope was seen (false without proof of /proc, without
    /// children lists, or when kill(-1, 0) finds what /proc does not show).
    complete: bool,
    /// As PID 1: whether anything is left in the namespace (children or not).
    others: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Found {
    pid: c_int,
    /// Whether its parent must be checked again before it is signalled: not for sexton's own
    /// children, nor for anything in PID 1's namespace.
    check: bool,
}

/// What to sleep on until the next pass.
struct Watch {
    pidfds: Vec<Pidfd>,
    /// Something is left that no pidfd watches.
    blind: bool,
}

impl Shutdown {
    fn new(scope: Scope, group: Pid, grace: Duration) -> Shutdown {
        let me = getpid().as_raw();
        let procfs = Procfs::prove(me);
        if let Err(reason) = procfs {
            log::debug!("not reading /proc: {reason}");
        }
        Shutdown {
            scope,
            group,
            grace,
            me,
            procfs,
            termed: false,
            sent_kill: false,
            trouble: None,
        }
    }

    /// Looks for what is left.
    fn find(&self) -> Left {
        let procfs = self.procfs.as_ref().ok();
        match self.scope {
            Scope::Namespace => {
                let found: Vec<Found> = procfs
                    .map(Procfs::table)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|entry| entry.live && entry.pid != self.me)
                    .map(|entry| Found {
                        pid: entry.pid,
                        check: false,
                    })
                    .collect();
                // What /proc does not show (none proven, `hidepid`), kill(-1, 0) still finds;
                // but in the initial PID namespace the kernel's threads always answer it, so
                // there a proven /proc is trusted (without one sexton cannot tell).
                let unseen = found.is_empty()
                    && !procfs.is_some_and(Procfs::initial_namespace)
                    && reach_namespace(None).is_ok();
                Left {
                    others: !found.is_empty() || unseen,
                    complete: !unseen,
                    found,
                }
            }
            Scope::Descendants => {
                let Some(procfs) = procfs else {
                    return Left {
                        found: Vec::new(),
                        complete: false,
                        others: false,
                    };
                };
                let children = procfs.children();
                let mut roots = vec![self.me];
                roots.extend(children.iter().flatten());
                let links: Vec<(c_int, c_int)> = procfs
                    .table()
                    .iter()
                    .filter(|entry| entry.live)
                    .map(|entry| (entry.pid, entry.parent))
                    .collect();
                let mut found: Vec<Found> = children
                    .iter()
                    .flatten()
                    .map(|&pid| Found { pid, check: false })
                    .collect();
                for pid in descendants_in(&roots, &links) {
                    if !found.iter().any(|f| f.pid == pid) {
                        found.push(Found { pid, check: true });
                    }
                }
                Left {
                    found,
                    complete: children.is_some(),
                    others: false,
                }
            }
        }
    }

    /// Signals what is left: SIGTERM (and SIGCONT) to everything on the first pass, nothing
    /// more during the grace period (a leftover's own shutdown may start helpers, which are
    /// its business), SIGKILL to everything on every pass after it.
    fn pass(&mut self, left: &Left, killing: bool) -> Watch {
        let sig = match (killing, self.termed) {
            (true, _) => Some(Signal::KILL),
            (false, false) => Some(Signal::TERM),
            (false, true) => None,
        };
        self.termed = true;
        // The namespace as PID 1, COMMAND's group without /proc: reached without pids.
        let reached = sig.and_then(|sig| self.broadcast(sig));
        let send = sig.filter(|_| reached.is_none());
        let mut watch = Watch {
            pidfds: Vec::new(),
            blind: !left.complete,
        };
        let tree: Vec<c_int> = left.found.iter().map(|f| f.pid).collect();
        let mut count = 0;
        for &found in &left.found {
            let pidfd = Pidfd::open(found.pid);
            match &pidfd {
                Err(Errno::ESRCH) => continue,
                Err(errno) => {
                    self.note(format!("pidfd_open failed ({errno})"));
                    watch.blind = true;
                }
                Ok(_) if !self.ours(found, &tree) => continue,
                Ok(_) => {}
            }
            if let Some(sig) = send {
                if self.signal(found, pidfd.as_ref().ok(), sig, &tree) {
                    count += 1;
                    if sig == Signal::TERM {
                        self.signal(found, pidfd.as_ref().ok(), Signal::CONT, &tree);
                    }
                }
            }
            if let Ok(pidfd) = pidfd {
                watch.pidfds.push(pidfd);
            }
        }
        let what = match reached {
            Some(what) => Some(what.to_owned()),
            None if count > 0 => Some(leftovers_counted(count)),
            None => None,
        };
        if let (Some(sig), Some(what)) = (sig, what) {
            self.log_sent(sig, &what);
        }
        watch
    }

    /// Sends `sig` (and SIGCONT after SIGTERM) to what is reached without pids; returns what
    /// that was, if the kernel signalled anything.
    fn broadcast(&mut self, sig: Signal) -> Option<&'static str> {
        let (what, target) = match (self.scope, &self.procfs) {
            (Scope::Namespace, _) => ("every process in the PID namespace", None),
            (Scope::Descendants, Err(_)) => ("COMMAND's process group", Some(-self.group.as_raw())),
            (Scope::Descendants, Ok(_)) => return None,
        };
        let reach = |sig| target.map_or_else(|| reach_namespace(sig), |group| kill(group, sig));
        match reach(Some(sig)) {
            Ok(()) => {
                if sig == Signal::TERM {
                    let _ = reach(Some(Signal::CONT));
                }
                Some(what)
            }
            Err(Errno::ESRCH) => None,
            Err(errno) => {
                self.note(format!("cannot send {sig} to {what} ({errno})"));
                None
            }
        }
    }
}

impl Shutdown {
    /// Whether `found` is still in the tree: its parent, read again, is sexton or in `tree`.
    fn ours(&self, found: Found, tree: &[c_int]) -> bool {
        if !found.check {
            return true;
        }
        let Ok(procfs) = &self.procfs else {
            return false;
        };
        procfs
            .entry(found.pid)
            .is_some_and(|entry| entry.parent == self.me || tree.contains(&entry.parent))
    }

    /// Sends `sig` to `found` through its pidfd, or when there is none or the kernel refuses
    /// it, with kill(2) after checking again that the pid is still ours. Returns whether the
    /// signal was sent.
    fn signal(&mut self, found: Found, pidfd: Option<&Pidfd>, sig: Signal, tree: &[c_int]) -> bool {
        if let Some(pidfd) = pidfd {
            match pidfd.send(sig) {
                Ok(()) => return true,
                Err(Errno::ESRCH) => return false,
                Err(errno) => self.note(format!("pidfd_send_signal failed ({errno})")),
            }
        }
        if !self.ours(found, tree) {
            return false;
        }
        match kill(found.pid, Some(sig)) {
            Ok(()) => true,
            Err(Errno::ESRCH) => false,
            Err(errno) => {
                self.note(format!("cannot send {sig} to pid {} ({errno})", found.pid));
                false
            }
        }
    }

    /// Keeps the first thing that could not be done, to report it if anything is left.
    fn note(&mut self, trouble: String) {
        if self.trouble.is_none() {
            log::debug!("{trouble}");
            self.trouble = Some(trouble);
        }
    }

    /// Says what was sent: SIGTERM at info level, the first SIGKILL after a grace period as a
    /// warning (a leftover did not obey SIGTERM); later passes only at debug level.
    fn log_sent(&mut self, sig: Signal, what: &str) {
        let grace = self.grace;
        if sig == Signal::TERM {
            log::info!("sent SIGTERM to {what}; SIGKILL in {grace:?}");
        } else if self.sent_kill {
            log::debug!("sent SIGKILL again to {what}");
        } else if grace.is_zero() {
            log::info!("sent SIGKILL to {what}");
        } else {
            log::warn!("grace period of {grace:?} is over; sent SIGKILL to {what}");
        }
        self.sent_kill |= sig == Signal::KILL;
    }

    /// Says, once, what is left behind and why.
    fn give_up(&self, left: &Left) {
        let when = format!("{LAST_SECOND:?} after the grace period of {:?}", self.grace);
        if left.found.is_empty() {
            let (what, hint) = match self.scope {
                Scope::Namespace => (
                    "processes that /proc does not show",
                    "mount the PID namespace's own /proc",
                ),
                Scope::Descendants => (
                    "leftover processes outside COMMAND's process group",
                    "mount the PID namespace's own /proc, or run sexton as PID 1",
                ),
            };
            let cause = match (&self.trouble, &self.procfs) {
                (Some(trouble), _) => trouble.clone(),
                (None, Err(reason)) => format!("they cannot be found: {reason}"),
                (None, Ok(_)) => "they cannot be found: /proc hides them (hidepid)".to_owned(),
            };
            log::warn!("leaving {what} behind {when}: {cause}; {hint}");
            return;
        }
        let pids: Vec<String> = left
            .found
            .iter()
            .take(10)
            .map(|f| f.pid.to_string())
            .collect();
        let more = if left.found.len() > 10 { " ..." } else { "" };
        let cause = self
            .trouble
            .clone()
            .unwrap_or_else(|| "they did not exit after SIGKILL".to_owned());
        log::warn!(
            "leaving {} (pid {}{more}) behind {when}: {cause}",
            leftovers_counted(left.found.len()),
            pids.join(" ")
        );
    }
}

/// "1 leftover process", "3 leftover processes".
fn leftovers_counted(n: usize) -> String {
    match n {
        1 => "1 leftover process".to_owned(),
        n => format!("{n} leftover processes"),
    }
}

/// Sleeps until one of `pidfds` has exited or `timeout` has passed.
fn wait_any(pidfds: &[Pidfd], timeout: Duration) {
    let mut polled: Vec<libc::pollfd> = pidfds
        .iter()
        .map(|pidfd| libc::pollfd {
            fd: pidfd.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // Rounded up, so a deadline is not woken for just before it passes.
    let millis = timeout
        .as_nanos()
        .div_ceil(1_000_000)
        .min(c_int::MAX as u128) as c_int;
    // SAFETY: `polled` holds `polled.len()` valid pollfd entries. EINTR or any other failure
    // only ends the sleep early: the caller looks again and sleeps again.
    unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, millis) };
}

/// kill(-1, …), every process in the namespace but sexton; `None` only asks whether there is
/// any. Refused unless sexton is PID 1, checked here: from anything else it is the whole host.
fn reach_namespace(sig: Option<Signal>) -> Result<(), Errno> {
    if getpid().as_raw() != 1 {
        return Err(Errno::EPERM);
    }
    kill(-1, sig)
}

/// kill(2); `None` only asks whether `pid` exists.
fn kill(pid: c_int, sig: Option<Signal>) -> Result<(), Errno> {
    // SAFETY: kill(2) takes plain integers.
    let done = unsafe { libc::kill(pid, sig.map_or(0, Signal::number)) };
    if done == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Every pid in `links` (pid, parent) whose chain of parents reaches one of `roots`, roots
/// excluded.
fn descendants_in(roots: &[c_int], links: &[(c_int, c_int)]) -> Vec<c_int> {
    let mut found = roots.to_vec();
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        for &(pid, _) in links.iter().filter(|&&(_, p)| p == parent) {
            if !found.contains(&pid) {
                found.push(pid);
            }
        }
        next += 1;
    }
    found.split_off(roots.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_words() {
        assert_eq!(leftovers_counted(1), "1 leftover process");
        assert_eq!(leftovers_counted(2), "2 leftover processes");
    }

    #[test]
    fn finds_the_whole_tree_and_nothing_else() {
        let links = [(10, 1), (11, 10), (12, 11), (13, 10), (20, 1), (21, 20)];
        let mut found = descendants_in(&[10], &links);
        found.sort();
        assert_eq!(found, [11, 12, 13]);
        assert!(descendants_in(&[12], &links).is_empty());
        // A child hidden from the table (hidepid) still roots its own subtree.
        let mut found = descendants_in(&[1, 30], &[(31, 30), (32, 31)]);
        found.sort();
        assert_eq!(found, [31, 32]);
    }
}
