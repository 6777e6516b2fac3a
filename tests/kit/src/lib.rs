//! The test kit: the plumbing sexton's integration tests, its benchmark and its end-to-end
//! checks share, written once.
//!
//! - [`procfs`]: what /proc says about a process (stat, children, signal sets).
//! - [`wait`]: waiting on a condition under a deadline, never a bare sleep.
//! - [`tree`]: a guard that kills a process and its descendants, by pid, when dropped.
//! - [`ns`]: running a program as PID 1 of a fresh PID namespace, or entering one.
//! - [`cgroup`]: a cgroup with a small `pids.max`, emptied and removed when dropped.
//! - [`TempDir`]: a scratch directory, removed when dropped.
//!
//! It depends on nothing of sexton's: it is the oracle for sexton's own /proc tree walk, and
//! sharing sexton's parser would let a parsing bug pass its own tests.

pub mod cgroup;
mod dir;
pub mod ns;
pub mod procfs;
pub mod tree;
pub mod wait;

use std::os::fd::OwnedFd;

pub use dir::TempDir;
pub use nix::libc;
pub use wait::DEADLINE;

/// kill(2) by pid; true if the signal was sent. Never a group, never -1: a test or bench
/// signals single processes only.
pub fn send(pid: i32, sig: i32) -> bool {
    assert!(pid > 0, "the kit signals single processes only, not {pid}");
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// SIGRTMIN as the C library (and so dash) numbers it.
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe2")
}

/// A pipe whose read end is already closed: writing to it fails with EPIPE (or SIGPIPE).
pub fn broken_pipe() -> OwnedFd {
    let (read, write) = pipe();
    drop(read);
    write
}
