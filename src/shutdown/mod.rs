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
//! - Nothing left. With no child (as a subreaper: orphans come to sexton, so no child means
//!   no descendant) or, as PID 1, when kill(-1, 0) finds nothing, sexton returns before it
//!   proves /proc or reads it: the common exit costs a waitpid and at most a kill.
//! - Passes. The first pass sends SIGTERM to everything found; during the grace period each
//!   later pass sends SIGTERM to what it finds that has not had it (a helper started by a
//!   leftover's own shutdown, the next link of a fork chain), never twice to one process;
//!   after it every pass sends SIGKILL to all that is left, and passes repeat until nothing
//!   is, so a process that keeps forking cannot escape one scan. Without /proc (only
//!   `kill(-1, …)` or COMMAND's group) SIGTERM goes out once: nothing tells what is new.
//! - COMMAND's process group, signalled only without /proc, is looked at on every pass; once
//!   it is empty its id can go to an unrelated group, so sexton never signals it again.
//! - Kernel threads (a machine's init, in the initial PID namespace) are no leftovers: they
//!   are skipped in /proc, and because they answer kill(-1, 0) there, a proven /proc is what
//!   tells that nothing is left (without one, sexton cannot tell, and waits to the end).
//! - Reporting. What could not be done is kept only for a signal that was not sent at all (a
//!   refused pidfd that kill(2) made good is no trouble), tied to the pid it was for, so the
//!   line that names what is left gives its real cause.
//! - Waiting. Between passes sexton sleeps in poll(2) on the pidfds of what is left, woken by
//!   an exit or a deadline. Only while something is left that no pidfd watches (no proof of
//!   /proc, no pidfds) does it look again every 10 ms.
//! - cgroups are not used. sexton's cgroup is not "everything it started": in a container it
//!   is the container's, the set `kill(-1, …)` already reaches; as a subreaper (a systemd unit,
//!   a CI job) it holds the launcher and its other children too, so `cgroup.kill` would reach
//!   outside the tree. An exact set needs a cgroup of its own with COMMAND moved into it: that
//!   takes a delegated, writable cgroup v2 tree, fails where controllers are enabled (no
//!   internal processes), and changes the program's cgroup behind the runtime's back.

use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc::{self, c_int};
use nix::unistd::{Pid, getpid};

use crate::error::Error;
use crate::pidfd::Pidfd;
use crate::procfs::Procfs;
use crate::reap::Reaper;
use crate::signal::Signal;

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
    started: bool,
    /// The pids found and tried once, whether the signal got through or not, so that each
    /// gets SIGTERM once in the grace period (after it the list is kept but not read). A pid
    /// that a look no longer finds drops out: whoever has it next is a new process.
    termed: Vec<c_int>,
    /// COMMAND's process group was found empty: from then on its id may be another group's.
    group_gone: bool,
    /// Whether SIGTERM and SIGKILL have been sent, and said so.
    sent_term: bool,
    sent_kill: bool,
    /// Why the last signal to a pid was not sent, for each pid it was not sent to.
    refused: Refusals,
    /// Why the last signal to what is reached without pids was not sent.
    refused_broadcast: Option<String>,
    /// Whether sexton has said that it fell back to kill(2).
    fell_back: bool,
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
            started: false,
            termed: Vec::new(),
            group_gone: false,
            sent_term: false,
            sent_kill: false,
            refused: Refusals::default(),
            refused_broadcast: None,
            fell_back: false,
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

    /// Signals what is left: SIGTERM (and SIGCONT) to everything on the first pass, during the
    /// grace period SIGTERM to each process found that has not had it (one started by a
    /// leftover's own shutdown, or by a fork chain), and SIGKILL to everything on every pass
    /// after it.
    fn pass(&mut self, left: &Left, killing: bool) -> Watch {
        self.termed
            .retain(|&pid| left.found.iter().any(|f| f.pid == pid));
        if self.reaches_group() && kill(-self.group.as_raw(), None) == Err(Errno::ESRCH) {
            self.forget_group();
        }
        let sig = if killing { Signal::KILL } else { Signal::TERM };
        // The namespace as PID 1, COMMAND's group without /proc: reached without pids, and
        // without them nothing tells a process new in the grace period from one termed.
        let reached = if killing || !self.started {
            self.broadcast(sig)
        } else {
            None
        };
        self.started = true;
        let mut watch = Watch {
            pidfds: Vec::new(),
            blind: !left.complete,
        };
        let tree: Vec<c_int> = left.found.iter().map(|f| f.pid).collect();
        let mut count = 0;
        let mut out_of_descriptors = false;
        for &found in &left.found {
            let pidfd = if out_of_descriptors {
                Err(Errno::EMFILE)
            } else {
                Pidfd::open(found.pid)
            };
            match &pidfd {
                Err(Errno::ESRCH) => continue,
                Err(errno @ (Errno::EMFILE | Errno::ENFILE)) if !out_of_descriptors => {
                    // The rest of the pass goes without pidfds, and one goes back, so that
                    // the parents of what is left can still be read in /proc.
                    out_of_descriptors = true;
                    watch.pidfds.pop();
                    self.fall_back(format!("pidfd_open failed ({errno})"));
                    watch.blind = true;
                }
                Err(errno) => {
                    self.fall_back(format!("pidfd_open failed ({errno})"));
                    watch.blind = true;
                }
                Ok(_) if !self.ours(found, &tree) => continue,
                Ok(_) => {}
            }
            let new = !self.termed.contains(&found.pid);
            if new {
                self.termed.push(found.pid);
            }
            if reached.is_none()
                && (killing || new)
                && self.signal(found, pidfd.as_ref().ok(), sig, &tree)
            {
                count += 1;
                if sig == Signal::TERM {
                    self.signal(found, pidfd.as_ref().ok(), Signal::CONT, &tree);
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
        if let Some(what) = what {
            self.log_sent(sig, &what);
        }
        watch
    }

    /// Whether COMMAND's process group is what sexton signals, as it does without /proc, and
    /// may still be.
    fn reaches_group(&self) -> bool {
        self.scope == Scope::Descendants && self.procfs.is_err() && !self.group_gone
    }

    /// Once COMMAND's process group is empty its id can go to an unrelated group: it is never
    /// signalled again.
    fn forget_group(&mut self) {
        self.group_gone = true;
        log::debug!("COMMAND's process group {} is empty", self.group);
    }

    /// Sends `sig` (and SIGCONT after SIGTERM) to what is reached without pids; returns what
    /// that was, if the kernel signalled anything.
    fn broadcast(&mut self, sig: Signal) -> Option<&'static str> {
        let (what, target) = match self.scope {
            Scope::Namespace => ("every process in the PID namespace", None),
            Scope::Descendants if self.reaches_group() => {
                ("COMMAND's process group", Some(-self.group.as_raw()))
            }
            Scope::Descendants => return None,
        };
        let reach = |sig| target.map_or_else(|| reach_namespace(sig), |group| kill(group, sig));
        self.refused_broadcast = None;
        match reach(Some(sig)) {
            Ok(()) => {
                if sig == Signal::TERM {
                    let _ = reach(Some(Signal::CONT));
                }
                Some(what)
            }
            Err(Errno::ESRCH) => {
                if target.is_some() {
                    self.forget_group();
                }
                None
            }
            Err(errno) => {
                let why = format!("cannot send {sig} to {what} ({errno})");
                log::debug!("{why}");
                self.refused_broadcast = Some(why);
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

    /// Sends `sig` to `found` (see [`Shutdown::send`]), and keeps why if it was not sent.
    /// Returns whether it was sent.
    fn signal(&mut self, found: Found, pidfd: Option<&Pidfd>, sig: Signal, tree: &[c_int]) -> bool {
        let sent = self.send(found, pidfd, sig, tree);
        self.refused.record(found.pid, sent)
    }

    /// Sends `sig` to `found` through its pidfd, or when there is none or the kernel refuses
    /// it, with kill(2) after checking again that the pid is still ours. Ok(whether it was
    /// sent: not to a process gone or no longer ours), or why it could not be.
    fn send(
        &mut self,
        found: Found,
        pidfd: Option<&Pidfd>,
        sig: Signal,
        tree: &[c_int],
    ) -> Result<bool, String> {
        if let Some(pidfd) = pidfd {
            match pidfd.send(sig) {
                Ok(()) => return Ok(true),
                Err(Errno::ESRCH) => return Ok(false),
                Err(errno) => self.fall_back(format!("pidfd_send_signal failed ({errno})")),
            }
        }
        if !self.ours(found, tree) {
            return Ok(false);
        }
        match kill(found.pid, Some(sig)) {
            Ok(()) => Ok(true),
            Err(Errno::ESRCH) => Ok(false),
            Err(errno) => Err(format!("cannot send {sig} to pid {} ({errno})", found.pid)),
        }
    }

    /// Says once, at debug level, that pidfds cannot be used and why: no trouble, as kill(2)
    /// after the same check does their work.
    fn fall_back(&mut self, why: String) {
        if !self.fell_back {
            self.fell_back = true;
            log::debug!("{why}; signalling with kill(2) after checking the parent again");
        }
    }

    /// Says what was sent: the first SIGTERM at info level, the first SIGKILL after a grace
    /// period as a warning (a leftover did not obey SIGTERM); later passes only at debug level.
    fn log_sent(&mut self, sig: Signal, what: &str) {
        let grace = self.grace;
        if sig == Signal::TERM {
            if self.sent_term {
                log::debug!("sent SIGTERM to {what} new in the grace period");
            } else {
                log::info!("sent SIGTERM to {what}; SIGKILL in {grace:?}");
            }
        } else if self.sent_kill {
            log::debug!("sent SIGKILL again to {what}");
        } else if grace.is_zero() {
            log::info!("sent SIGKILL to {what}");
        } else {
            log::warn!("grace period of {grace:?} is over; sent SIGKILL to {what}");
        }
        self.sent_term |= sig == Signal::TERM;
        self.sent_kill |= sig == Signal::KILL;
    }

    /// Says, once, what is left behind and why.
    fn give_up(&self, left: &Left) {
        let when = format!("{LAST_SECOND:?} after the grace period of {:?}", self.grace);
        if left.found.is_empty() {
            let (what, hint) = unfound(self.scope, self.procfs.is_ok());
            let cause = match (&self.refused_broadcast, &self.procfs) {
                (Some(why), _) => why.clone(),
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
            .refused
            .cause(&left.found)
            .unwrap_or("they did not exit after SIGKILL");
        log::warn!(
            "leaving {} (pid {}{more}) behind {when}: {cause}",
            leftovers_counted(left.found.len()),
            pids.join(" ")
        );
    }
}

/// Why signals were not sent, for each pid the last one was not sent to: a failure that a
/// fallback made good, or a pid since signalled, is no cause of what is left.
#[derive(Default)]
struct Refusals(Vec<(c_int, String)>);

impl Refusals {
    /// Records how the last signal to `pid` went; returns whether it was sent.
    fn record(&mut self, pid: c_int, sent: Result<bool, String>) -> bool {
        self.0.retain(|(refused, _)| *refused != pid);
        match sent {
            Ok(sent) => sent,
            Err(why) => {
                log::debug!("{why}");
                self.0.push((pid, why));
                false
            }
        }
    }

    /// Why a signal was not sent to one of `left`, if it was not.
    fn cause(&self, left: &[Found]) -> Option<&str> {
        left.iter().find_map(|found| {
            self.0
                .iter()
                .find(|(pid, _)| *pid == found.pid)
                .map(|(_, why)| why.as_str())
        })
    }
}

/// What is left when nothing left is found, and what would find it: as a subreaper without
/// /proc sexton signalled COMMAND's process group, so what is left is outside it; with /proc
/// it signalled no group, and /proc hides what is left.
fn unfound(scope: Scope, proven: bool) -> (&'static str, &'static str) {
    match (scope, proven) {
        (Scope::Namespace, _) => (
            "processes that /proc does not show",
            "mount the PID namespace's own /proc",
        ),
        (Scope::Descendants, false) => (
            "leftover processes outside COMMAND's process group",
            "mount the PID namespace's own /proc, or run sexton as PID 1",
        ),
        (Scope::Descendants, true) => (
            "leftover processes that /proc does not show",
            "mount /proc without hidepid, or run sexton as PID 1",
        ),
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
    fn only_a_signal_not_sent_to_what_is_left_is_its_cause() {
        let left = |pid| Found { pid, check: true };
        let mut refusals = Refusals::default();
        // pidfd_send_signal refused but kill(2) sent it (a process stuck in D state).
        assert!(refusals.record(5, Ok(true)));
        assert_eq!(refusals.cause(&[left(5)]), None);
        // Refused, then sent on a later pass.
        assert!(!refusals.record(5, Err("cannot send SIGKILL to pid 5 (EPERM)".into())));
        assert!(refusals.record(5, Ok(true)));
        assert_eq!(refusals.cause(&[left(5)]), None);
        // Refused for a pid that is gone since: no cause of what is left.
        assert!(!refusals.record(7, Err("cannot send SIGKILL to pid 7 (EPERM)".into())));
        assert_eq!(refusals.cause(&[left(5)]), None);
        assert_eq!(
            refusals.cause(&[left(5), left(7)]),
            Some("cannot send SIGKILL to pid 7 (EPERM)")
        );
        assert!(!refusals.record(7, Ok(false)));
        assert_eq!(refusals.cause(&[left(7)]), None);
    }

    #[test]
    fn what_is_not_found_is_named_for_what_was_signalled() {
        // Only without /proc does a subreaper signal COMMAND's process group.
        assert!(
            unfound(Scope::Descendants, false)
                .0
                .contains("process group")
        );
        for (scope, proven) in [
            (Scope::Descendants, true),
            (Scope::Namespace, true),
            (Scope::Namespace, false),
        ] {
            let (what, hint) = unfound(scope, proven);
            assert!(!what.contains("group"), "{scope:?} {proven}: {what}");
            assert!(hint.contains("/proc"), "{scope:?} {proven}: {hint}");
        }
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
