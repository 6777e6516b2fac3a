//! Job control: sexton's controlling terminal, who holds its foreground, and what sexton does
//! when its command stops, so that neither the shell nor the command can tell sexton is there.
//!
//! Invariants:
//! - The terminal is sexton's controlling terminal (`/dev/tty`), never merely whatever is on
//!   stdin: with stdin a pipe, a command that prompts on /dev/tty (sudo, ssh, gpg) still needs
//!   the foreground. It is opened for each decision and closed after it, so sexton holds no
//!   descriptor of it while the command runs.
//! - sexton never takes the foreground from anyone: it hands it to the command only while
//!   sexton's own group holds it, and takes it back at the end only while the command's group
//!   still holds it.
//! - At start the command gets the foreground only when sexton's job is sexton alone; in a
//!   pipeline (or when sexton's parent shares its group) the command gets it the moment it
//!   asks for it, by stopping on SIGTTIN or SIGTTOU.
//! - A terminal stop (TSTP, TTIN, TTOU) of the command stops sexton too when a job-control
//!   shell can resume it, so the shell sees its job stop; otherwise, on a terminal, the
//!   command is continued, because nothing else ever would. Without a terminal there is no
//!   Ctrl-Z: a SIGTSTP came from someone who can send SIGCONT, and the command stays stopped.
//! - While sexton continues the command itself, SIGCONT is not forwarded (`Forwarding::
//!   hold_continue`): the command is continued only after it has the foreground again, so it
//!   never resumes in the background of a terminal it was reading.
//! - SIGTTOU stays ignored in sexton (`forward`), so sexton can set the foreground group while
//!   in the background without being stopped.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::libc::{self, c_int};
use nix::unistd::{Pid, getpgrp, getpid, getppid, tcgetpgrp, tcsetpgrp};

use crate::forward::{self, Forwarding};
use crate::procfs::Procfs;
use crate::signal::{Set, Signal};

/// sexton's controlling terminal, open for one decision.
pub struct Terminal(OwnedFd);

/// Which process group holds the terminal's foreground.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// sexton's own group: the job the shell put in the foreground.
    Sexton,
    /// The command's group.
    Command,
    /// Another group: the shell, another job.
    Other,
    /// sexton has no controlling terminal.
    Nobody,
}

impl Terminal {
    /// sexton's controlling terminal, if it has one.
    pub fn open() -> Option<Terminal> {
        // SAFETY: a NUL-terminated path and plain flags. /dev/tty names the controlling
        // terminal sexton has (there is none to acquire), and reading and setting its
        // foreground needs no more than read access.
        let fd = unsafe { libc::open(c"/dev/tty".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        // SAFETY: open(2) just returned this descriptor, which nothing else owns.
        (fd >= 0).then(|| Terminal(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The descriptor, for the child to take the foreground with before exec. It is
    /// close-on-exec, so the command does not inherit it.
    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Who holds the foreground; `command` is the command's group, once there is one.
    fn holder(&self, command: Option<Pid>) -> Holder {
        match tcgetpgrp(&self.0) {
            Ok(pgrp) if pgrp == getpgrp() => Holder::Sexton,
            Ok(pgrp) if Some(pgrp) == command => Holder::Command,
            _ => Holder::Other,
        }
    }

    /// Whether the command gets the foreground before it execs; see [`at_start`].
    pub fn hand_over_at_start(&self) -> bool {
        let holder = self.holder(None);
        at_start(holder, getpgrp() == getpid(), is_pipe(libc::STDOUT_FILENO))
    }

    fn hand_to(&self, pgrp: Pid) {
        match tcsetpgrp(&self.0, pgrp) {
            Ok(()) => log::debug!("made process group {pgrp} the terminal's foreground"),
            Err(errno) => {
                log::debug!("cannot make group {pgrp} the terminal's foreground: {errno}")
            }
        }
    }
}

/// Gives the foreground back to sexton's group at the end, if the command's group (`command`)
/// still holds it, so a shell without job control finds its terminal as it left it. A shell
/// that took it back meanwhile (`kill -STOP` sexton, then `bg`) keeps it.
pub fn give_back(command: Pid) {
    if let Some(terminal) = Terminal::open().filter(|t| t.holder(Some(command)) == Holder::Command)
    {
        terminal.hand_to(getpgrp());
    }
}

/// At start: the command gets the foreground only if sexton's group holds it and sexton's job
/// is sexton alone. A shell makes the first member of a pipeline the group's leader, so sexton
/// leading its group with its stdout not a pipe is a job of its own; otherwise another member
/// (`sexton -- sleep 3 | sh -c 'read x </dev/tty'`) or a parent in the same group may need the
/// terminal, and the command gets it only when it asks (see [`on_stop`]).
fn at_start(holder: Holder, leader: bool, stdout_piped: bool) -> bool {
    holder == Holder::Sexton && leader && !stdout_piped
}

fn is_pipe(fd: c_int) -> bool {
    // SAFETY: an all-zero stat is a valid buffer for fstat(2) to fill.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid out-pointer.
    unsafe { libc::fstat(fd, &mut stat) == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFIFO }
}

/// What sexton does when its command stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave it stopped: whoever stopped it continues it (`kill -STOP`, a debugger, or a
    /// `kill -TSTP` where there is no terminal).
    Leave,
    /// It wants a terminal another group holds, and only a job-control shell could give it:
    /// continuing it would only stop it again.
    Stuck,
    /// Stop sexton too, so the job-control shell sees its job stop; continue the command when
    /// sexton is continued.
    Suspend,
    /// Continue it now.
    Continue,
}

/// The decision for a command stopped by `sig` while `holder` holds the terminal;
/// `job_control` says whether a job-control shell can resume sexton.
pub fn on_stop(sig: Signal, holder: Holder, job_control: bool) -> Action {
    let wants_terminal = sig == Signal::TTIN || sig == Signal::TTOU;
    match holder {
        _ if !wants_terminal && sig != Signal::TSTP => Action::Leave,
        // sexton's job holds the terminal the command asks for: it gets it and goes on, as it
        // would in sexton's group. Its own group holding it means the stop is old news.
        Holder::Sexton | Holder::Command if wants_terminal => Action::Continue,
        _ if job_control => Action::Suspend,
        _ if wants_terminal => Action::Stuck,
        // No terminal, so no Ctrl-Z: someone sent SIGTSTP, and can send SIGCONT.
        Holder::Nobody => Action::Leave,
        _ => Action::Continue,
    }
}

/// Whether the command should hold the foreground when it goes on: it did when it stopped, or
/// it stopped asking for it.
fn wants_foreground(sig: Signal, holder: Holder) -> bool {
    holder == Holder::Command || sig == Signal::TTIN || sig == Signal::TTOU
}

/// The job-control side of one run: the command's stops, as the reap loop reports them.
pub struct Jobs<'a> {
    command: Pid,
    forwarding: &'a Forwarding,
}

impl<'a> Jobs<'a> {
    pub fn new(command: Pid, forwarding: &'a Forwarding) -> Jobs<'a> {
        Jobs {
            command,
            forwarding,
        }
    }

    /// The command (pid and group `command`) was stopped by `sig`.
    pub fn stopped(&self, sig: Signal) {
        let terminal = Terminal::open();
        let holder = terminal
            .as_ref()
            .map_or(Holder::Nobody, |t| t.holder(Some(self.command)));
        let no_shell = no_job_control();
        let why = no_shell.unwrap_or_default();
        let wants = wants_foreground(sig, holder);
        let command = self.command;
        match on_stop(sig, holder, no_shell.is_none()) {
            Action::Leave => log::debug!("command (pid {command}) was stopped by {sig}"),
            Action::Stuck => log::info!(
                "command (pid {command}) was stopped by {sig}: it wants the terminal, which \
                 another process group holds, and {why}; it stays stopped until it gets SIGCONT"
            ),
            Action::Suspend => {
                drop(terminal);
                log::debug!("command (pid {command}) was stopped by {sig}; stopping sexton");
                self.forwarding.hold_continue(true);
                suspend(sig);
                self.resume(Terminal::open(), wants);
                self.forwarding.hold_continue(false);
            }
            Action::Continue => {
                if no_shell.is_some() && sig == Signal::TSTP {
                    log::info!(
                        "command (pid {command}) was stopped by {sig} and {why}; continuing it"
                    );
                }
                self.resume(terminal, wants);
            }
        }
    }

    /// Continues the command, in the foreground if it `wants` it and sexton's group holds it
    /// (after `fg`, not after `bg`).
    fn resume(&self, terminal: Option<Terminal>, wants: bool) {
        let ours = |t: &Terminal| wants && t.holder(Some(self.command)) == Holder::Sexton;
        if let Some(terminal) = terminal.filter(ours) {
            terminal.hand_to(self.command);
        }
        forward::send(-self.command.as_raw(), Signal::CONT);
    }
}

/// Stops sexton with `sig`, the signal that stopped the command, so the shell reports the job
/// as it would the command alone (`Stopped(SIGTTIN)`); returns once the shell has continued
/// it (`fg` or `bg`). The signal goes to this thread alone, with its default action for the
/// moment: the forwarder, which takes SIGTSTP, never sees it, and sexton ignores TTIN and TTOU
/// otherwise. Should sexton's group be orphaned after all, the kernel discards the stop and
/// sexton goes straight on to continue the command: it can never stay stopped for good.
fn suspend(sig: Signal) {
    let handler = forward::disposition(sig, Some(libc::SIG_DFL));
    let only = Set::from_iter([sig]).to_sigset();
    let mut mask = Set::default().to_sigset();
    // SAFETY: both sets are initialised; gettid(2) and tgkill(2) take plain integers, which
    // name this thread. The stop takes effect before tgkill returns to user space, so the mask
    // and the handler are restored only once sexton is continued.
    unsafe {
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &only, &mut mask);
        libc::syscall(
            libc::SYS_tgkill,
            libc::getpid(),
            libc::syscall(libc::SYS_gettid),
            sig.number(),
        );
        libc::pthread_sigmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut());
    }
    forward::disposition(sig, Some(handler));
}

/// Why no job-control shell can resume sexton, if none can: sexton's process group is
/// orphaned (as PID 1 it always is: its parent is outside its PID namespace).
fn no_job_control() -> Option<&'static str> {
    if getpid().as_raw() == 1 {
        return Some("sexton is PID 1, with no job-control shell to resume it");
    }
    let me = Ids {
        ppid: getppid().as_raw(),
        pgrp: getpgrp().as_raw(),
        // SAFETY: getsid(0) asks for the caller's own session and cannot fail.
        session: unsafe { libc::getsid(0) },
    };
    // A parent outside sexton's PID namespace shows as pid 0: no ids, so orphaned.
    let procfs = Procfs::prove(getpid().as_raw()).ok();
    (!leads_outside(me, |pid| ids_of(procfs.as_ref(), pid)))
        .then_some("sexton's process group is orphaned, with no job-control shell to resume it")
}

/// The ids of a process that job control depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ids {
    ppid: c_int,
    pgrp: c_int,
    session: c_int,
}

/// POSIX's test of a group that is not orphaned, along sexton's ancestry: the first ancestor
/// outside sexton's group (`me`) is in sexton's session. Unknown (a foreign or hidden /proc)
/// counts as orphaned, the answer that can never leave the command stopped for good.
fn leads_outside(me: Ids, ids: impl Fn(c_int) -> Option<Ids>) -> bool {
    let mut pid = me.ppid;
    // A pid's parent was started before it, so the walk ends; the bound is for a /proc that
    // lies.
    for _ in 0..4096 {
        let Some(ancestor) = ids(pid).filter(|_| pid > 0) else {
            return false;
        };
        if ancestor.pgrp != me.pgrp {
            return ancestor.session == me.session;
        }
        pid = ancestor.ppid;
    }
    false
}

/// The ids of `pid` from `procfs`, which must be proven sexton's own: in any other /proc a
/// pid names some other process.
fn ids_of(procfs: Option<&Procfs>, pid: c_int) -> Option<Ids> {
    let entry = procfs?.entry(pid)?;
    Some(Ids {
        ppid: entry.parent,
        pgrp: entry.group,
        session: entry.session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLDERS: [Holder; 4] = [
        Holder::Sexton,
        Holder::Command,
        Holder::Other,
        Holder::Nobody,
    ];

    #[test]
    fn only_a_job_of_its_own_hands_over_at_start() {
        assert!(at_start(Holder::Sexton, true, false));
        assert!(!at_start(Holder::Sexton, true, true), "first in a pipeline");
        assert!(
            !at_start(Holder::Sexton, false, false),
            "a later pipeline member"
        );
        assert!(!at_start(Holder::Other, true, false), "in the background");
    }

    #[test]
    fn ctrl_z_stops_the_job_under_a_shell_and_is_undone_without() {
        for holder in HOLDERS {
            assert_eq!(on_stop(Signal::TSTP, holder, true), Action::Suspend);
        }
        for holder in [Holder::Sexton, Holder::Command, Holder::Other] {
            assert_eq!(on_stop(Signal::TSTP, holder, false), Action::Continue);
        }
        // Without a terminal there is no Ctrl-Z: whoever sent SIGTSTP continues the command.
        assert_eq!(on_stop(Signal::TSTP, Holder::Nobody, false), Action::Leave);
    }

    #[test]
    fn a_command_asking_for_the_terminal_of_sexton_s_job_gets_it() {
        for sig in [Signal::TTIN, Signal::TTOU] {
            for job_control in [true, false] {
                for holder in [Holder::Sexton, Holder::Command] {
                    assert_eq!(on_stop(sig, holder, job_control), Action::Continue);
                }
            }
            for holder in [Holder::Other, Holder::Nobody] {
                assert_eq!(on_stop(sig, holder, true), Action::Suspend);
                assert_eq!(on_stop(sig, holder, false), Action::Stuck);
                assert!(wants_foreground(sig, holder));
            }
        }
    }

    #[test]
    fn other_stops_are_left_alone() {
        for holder in HOLDERS {
            for job_control in [true, false] {
                assert_eq!(
                    on_stop(Signal::new(libc::SIGSTOP).unwrap(), holder, job_control),
                    Action::Leave
                );
            }
        }
    }

    #[test]
    fn the_foreground_goes_back_only_to_a_command_that_had_it() {
        assert!(wants_foreground(Signal::TSTP, Holder::Command));
        assert!(!wants_foreground(Signal::TSTP, Holder::Sexton));
        assert!(!wants_foreground(Signal::TSTP, Holder::Other));
    }

    #[test]
    fn a_group_is_orphaned_unless_an_ancestor_outside_it_shares_the_session() {
        let me = Ids {
            ppid: 10,
            pgrp: 20,
            session: 5,
        };
        let leads = |rows: &[(c_int, Ids)]| {
            leads_outside(me, |pid| {
                rows.iter().find(|(p, _)| *p == pid).map(|(_, ids)| *ids)
            })
        };
        let ids = |ppid, pgrp, session| Ids {
            ppid,
            pgrp,
            session,
        };
        // An interactive shell: parent in another group of the same session.
        assert!(leads(&[(10, ids(1, 10, 5))]));
        // A parent in sexton's group (`sh -c` without job control) under such a shell.
        assert!(leads(&[(10, ids(9, 20, 5)), (9, ids(1, 9, 5))]));
        // The first ancestor outside the group is in another session: orphaned.
        assert!(!leads(&[(10, ids(1, 10, 6))]));
        assert!(!leads(&[(10, ids(9, 20, 5)), (9, ids(1, 9, 6))]));
        // Nothing known of the parent.
        assert!(!leads(&[]));
        // A parent outside sexton's PID namespace shows as pid 0: orphaned, whatever a table
        // says of pid 0.
        let outside = Ids { ppid: 0, ..me };
        assert!(!leads_outside(outside, |_| Some(ids(1, 10, 5))));
    }
}
