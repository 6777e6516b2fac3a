//! Process file descriptors: a handle on one process that a reused pid can never redirect.
//!
//! A pid names whichever process has it now; once the process is reaped its pid can go to
//! another. A pidfd names the process it was opened for: signalling it after that process is
//! reaped fails with ESRCH instead of reaching a stranger.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr;

use nix::errno::Errno;
use nix::libc::{self, c_int};

use crate::signal::Signal;

pub struct Pidfd(OwnedFd);

impl Pidfd {
    /// Pins the process that has `pid` now. Fails with ESRCH if there is none, and with
    /// ENOSYS, EPERM or EMFILE where pidfds cannot be had (Linux before 5.3, a seccomp filter,
    /// no free descriptor).
    pub fn open(pid: c_int) -> Result<Pidfd, Errno> {
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
        let fd = Errno::result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
        // SAFETY: pidfd_open just returned this descriptor, which nothing else owns; it is
        // close-on-exec by definition.
        Ok(Pidfd(unsafe { OwnedFd::from_raw_fd(fd as c_int) }))
    }

    /// Sends `sig` to the pinned process; ESRCH once it has been reaped.
    pub fn send(&self, sig: Signal) -> Result<(), Errno> {
        // SAFETY: pidfd_send_signal(2) takes a pidfd we own, a signal number, no siginfo and
        // no flags.
        let done = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                sig.number(),
                ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        Errno::result(done).map(drop)
    }
}

/// For poll(2): a pidfd is readable once its process has exited, child or not.
impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
