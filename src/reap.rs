//! The reap loop: a blocking `waitpid(-1)` that collects the exit status of every child and
//! of every orphan the kernel hands to sexton.
//!
//! Invariants:
//! - sexton never waits any other way, and never lets std reap (`Child::wait`): this loop is
//!   the only place that consumes an exit status, so none is lost or stolen.
//! - While idle the loop sleeps in the kernel: it wakes for a child's death only, never on a
//!   timer or a signal (forwarding has a thread of its own).
//! - Until the main child exits, sexton always has a child, so `waitpid` never returns
//!   ECHILD and the loop cannot spin.

use nix::errno::Errno;
use nix::libc::{self, c_int};
use nix::unistd::Pid;

use crate::error::Error;
use crate::exit::Outcome;
use crate::signals::Signal;

/// Where a run of the loop stopped.
enum Stop {
    /// The main child exited.
    Exited(Outcome),
    /// Children are left but none has exited (only without blocking).
    Running,
    /// No child is left.
    Empty,
}

/// Reaps until `main` exits and returns how it ended.
pub fn until_exit(main: Pid, warn_on_reap: bool) -> Result<Outcome, Error> {
    match reap(0, Some(main), warn_on_reap)? {
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

/// Reaps until sexton has no children left.
pub fn until_empty(warn_on_reap: bool) -> Result<(), Error> {
    reap(0, None, warn_on_reap).map(drop)
}

/// Reaps what has already exited, without blocking; returns whether any child is left.
pub fn has_children(warn_on_reap: bool) -> Result<bool, Error> {
    Ok(matches!(
        reap(libc::WNOHANG, None, warn_on_reap)?,
        Stop::Running
    ))
}

/// The loop itself, on raw `waitpid(-1)`: nix's wrapper fails on a death by a realtime signal.
fn reap(flags: c_int, main: Option<Pid>, warn_on_reap: bool) -> Result<Stop, Error> {
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
            pid if Some(Pid::from_raw(pid)) == main => return Ok(Stop::Exited(decode(status))),
            pid => orphan(Pid::from_raw(pid), decode(status), warn_on_reap),
        }
    }
}

fn orphan(pid: Pid, outcome: Outcome, warn_on_reap: bool) {
    if warn_on_reap {
        log::warn!("reaped pid {pid}, which {outcome}");
    } else {
        log::debug!("reaped pid {pid}, which {outcome}");
    }
}

fn decode(status: c_int) -> Outcome {
    match Signal::new(libc::WTERMSIG(status)) {
        Some(sig) if libc::WIFSIGNALED(status) => Outcome::Signaled(sig),
        _ => Outcome::Exited(libc::WEXITSTATUS(status) as u8),
    }
}
