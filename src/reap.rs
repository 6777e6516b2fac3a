//! The reap loop: a blocking `waitpid(-1)` that collects the exit status of every child and
//! of every orphan the kernel hands to sexton.
//!
//! Invariants:
//! - sexton never waits any other way, and never lets std reap (`Child::wait`): this loop is
//!   the only place that consumes an exit status, so none is lost or stolen. (The one
//!   exception runs before it: `spawn` reaps the child of an exec that failed.)
//! - While idle the loop sleeps in the kernel: it wakes for a child's death (or a stop, see
//!   below) only, never on a timer or a signal (forwarding has a thread of its own).
//! - Until the main child exits, sexton always has a child, so `waitpid` never returns
//!   ECHILD and the loop cannot spin.
//! - Until then it also reports the main child's stops (WUNTRACED), for job control
//!   (`terminal`); a stopped orphan is left to whoever stopped it.

use nix::errno::Errno;
use nix::libc::{self, c_int};
use nix::unistd::Pid;

use crate::error::Error;
use crate::exit::Outcome;
use crate::signal::Signal;

/// Where a run of the loop stopped.
enum Stop {
    /// The main child exited.
    Exited(Outcome),
    /// Children are left but none has exited (only without blocking).
    Running,
    /// No child is left.
    Empty,
}

/// The reap loop, and what it says of the orphans it reaps.
#[derive(Clone, Copy)]
pub struct Reaper {
    /// `-w`: each orphan reaped is worth a warning, not just a debug line.
    warn: bool,
}

impl Reaper {
    pub fn new(warn_on_reap: bool) -> Reaper {
        Reaper { warn: warn_on_reap }
    }

    /// Reaps until `main` exits and returns how it ended; `stopped` hears of each time `main`
    /// is stopped, and by which signal.
    pub fn until_exit(self, main: Pid, mut stopped: impl FnMut(Signal)) -> Result<Outcome, Error> {
        match self.reap(libc::WUNTRACED, Some((main, &mut stopped)))? {
            Stop::Exited(outcome) => {
                log::info!("command (pid {main}) {outcome}");
                Ok(outcome)
            }
            Stop::Running | Stop::Empty => Err(Error::Sys {
                call: "waitpid",
                errno: Errno::ECHILD,
            }),
        }
    }

    /// Reaps what has already exited, without blocking; returns whether any child is left.
    pub fn has_children(self) -> Result<bool, Error> {
        Ok(matches!(self.reap(libc::WNOHANG, None)?, Stop::Running))
    }

    /// The loop itself, on raw `waitpid(-1)`: nix's wrapper fails on a death by a realtime
    /// signal.
    fn reap(
        self,
        flags: c_int,
        mut main: Option<(Pid, &mut dyn FnMut(Signal))>,
    ) -> Result<Stop, Error> {
        loop {
            let mut status = 0;
            // SAFETY: `status` is a valid out-pointer for the call.
            let pid = unsafe { libc::waitpid(-1, &mut status, flags) };
            match pid {
                0 => return Ok(Stop::Running),
                -1 => match Errno::last() {
                    // sexton installs no signal handler, so nothing should interrupt; if
                    // anything does, waiting again is right.
                    Errno::EINTR => {}
                    Errno::ECHILD => return Ok(Stop::Empty),
                    errno => {
                        return Err(Error::Sys {
                            call: "waitpid",
                            errno,
                        });
                    }
                },
                pid if libc::WIFSTOPPED(status) => {
                    match (&mut main, Signal::new(libc::WSTOPSIG(status))) {
                        (Some((main, stopped)), Some(sig)) if main.as_raw() == pid => stopped(sig),
                        _ => log::debug!("pid {pid} was stopped"),
                    }
                }
                pid if main.as_ref().is_some_and(|(main, _)| main.as_raw() == pid) => {
                    return Ok(Stop::Exited(decode(status)));
                }
                pid => self.orphan(Pid::from_raw(pid), decode(status)),
            }
        }
    }

    fn orphan(self, pid: Pid, outcome: Outcome) {
        if self.warn {
            log::warn!("reaped pid {pid}, which {outcome}");
        } else {
            log::debug!("reaped pid {pid}, which {outcome}");
        }
    }
}

/// The outcome in an exit status; never a stop's, which the loop takes first. A process that
/// exited has no signal in it (WTERMSIG is 0), one that a signal killed has one.
fn decode(status: c_int) -> Outcome {
    match Signal::new(libc::WTERMSIG(status)) {
        Some(sig) => Outcome::Signaled(sig),
        None => Outcome::Exited(libc::WEXITSTATUS(status) as u8),
    }
}
