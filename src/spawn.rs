//! Starting the main child: everything that runs between fork and exec lives here.
//!
//! Invariants:
//! - The child runs in its own process group, so one `kill(-pgid)` reaches it and everything
//!   it starts, and so a terminal's Ctrl-C reaches it and not sexton.
//! - Before exec the child gets back the launcher's signal state: its mask (sexton blocked
//!   everything it forwards) and its SIG_IGN dispositions (sexton ignores TTIN, TTOU and PIPE
//!   for itself; std's `Command` resets PIPE). Handlers are reset by exec itself.
//! - Code in the forked child only makes async-signal-safe system calls: no allocation, no
//!   locks, no logging. Everything it needs is computed in the parent beforehand.
//! - Nothing here waits for the child: `reap` owns every exit status.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::errno::Errno;
use nix::libc::{self, sigset_t};
use nix::unistd::Pid;

use crate::error::Error;
use crate::signals::{self, Signal, Startup};

/// Runs `argv` (PATH is searched for `argv[0]`) in a new process group; with `foreground`,
/// that group is handed the terminal on stdin before exec.
pub fn command(argv: &[OsString], startup: &Startup, foreground: bool) -> Result<Pid, Error> {
    let restore = Restore::from(startup);
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).process_group(0);
    // SAFETY: the closure runs in the forked child and only makes async-signal-safe calls on
    // values copied in beforehand; see `Restore::apply`.
    unsafe {
        command.pre_exec(move || {
            if foreground {
                take_terminal();
            }
            restore.apply();
            Ok(())
        })
    };
    // Dropping the `Child` neither waits for nor kills it.
    match command.spawn() {
        Ok(child) => Ok(Pid::from_raw(child.id() as i32)),
        Err(err) => Err(Error::Spawn {
            command: argv[0].to_string_lossy().into_owned(),
            errno: Errno::from_raw(err.raw_os_error().unwrap_or(libc::EINVAL)),
        }),
    }
}

/// `--pause`: forks a child that only waits for SIGTERM, SIGINT or SIGHUP and then exits 0.
/// It stands in for a command, so pause mode shares every path of a normal run: forwarding,
/// reaping and the shutdown of leftovers.
pub fn placeholder() -> Result<Pid, Error> {
    let stop = signals::set_of([Signal::TERM, Signal::INT, Signal::HUP]);
    // SAFETY: sexton has one thread here, and the child makes only async-signal-safe calls
    // (setpgid, sigwait, _exit) on a set built before the fork.
    match unsafe { libc::fork() } {
        -1 => Err(Error::Sys {
            call: "fork",
            errno: Errno::last(),
        }),
        0 => unsafe {
            libc::setpgid(0, 0);
            // The stop signals are still blocked from `signals::shield`, so none is lost.
            let mut sig = 0;
            while libc::sigwait(&stop, &mut sig) != 0 {}
            libc::_exit(0)
        },
        pid => {
            // Also set from the parent, so forwarding to the group cannot beat the child to it.
            // SAFETY: plain integer arguments; EACCES after the child's own call is harmless.
            unsafe { libc::setpgid(pid, pid) };
            Ok(Pid::from_raw(pid))
        }
    }
}

/// The launcher's signal state, copied out of `Startup` so the child needs no allocation.
#[derive(Clone, Copy)]
struct Restore {
    mask: sigset_t,
    dispositions: [(libc::c_int, libc::sighandler_t); signals::SELF_IGNORED.len()],
}

impl From<&Startup> for Restore {
    fn from(startup: &Startup) -> Restore {
        let dispositions = signals::SELF_IGNORED.map(|sig| {
            let handler = if startup.ignored(sig) {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            (sig, handler)
        });
        Restore {
            mask: startup.mask,
            dispositions,
        }
    }
}

impl Restore {
    /// Runs in the child, between fork and exec.
    fn apply(&self) {
        for &(sig, handler) in &self.dispositions {
            // SAFETY: signal(2) and sigprocmask(2) are async-signal-safe; the mask is a valid
            // sigset_t copied from the launcher's.
            unsafe { libc::signal(sig, handler) };
        }
        // SAFETY: as above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut()) };
    }
}

/// Runs in the child: makes its new process group the terminal's foreground, so it can read
/// the terminal and gets Ctrl-C and Ctrl-Z. SIGTTOU is still ignored from sexton, so the
/// call cannot stop the child while it is in the background.
fn take_terminal() {
    // SAFETY: tcsetpgrp(3) and getpid(2) are async-signal-safe; failure leaves the terminal
    // as it was, which is all there is to do about it here.
    unsafe { libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpid()) };
}
