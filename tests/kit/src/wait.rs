//! Waiting on conditions under deadlines. Nothing in the tests or the bench sleeps to
//! synchronise: each wait polls a condition and gives up at a deadline.

use std::fmt::Display;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::procfs;

/// How long a condition may take to hold before a test fails. Generous: CI machines are
/// small and often busy; a healthy run takes a fraction of it.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The first pause between polls; each pause doubles, up to [`MAX_PAUSE`]. Short at first, so
/// a condition that holds soon is seen soon (the bench times some of these waits).
const FIRST_PAUSE: Duration = Duration::from_micros(20);
const MAX_PAUSE: Duration = Duration::from_millis(1);

/// Polls `cond` until it holds (true) or `timeout` passes (false).
pub fn poll(timeout: Duration, cond: impl FnMut() -> bool) -> bool {
    let mut pause = FIRST_PAUSE;
    deadline_loop(timeout, cond, || {
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    })
}

/// Polls `cond` until it holds; panics "timed out after {timeout} waiting for {what}".
pub fn within(timeout: Duration, what: impl Display, cond: impl FnMut() -> bool) {
    assert!(
        poll(timeout, cond),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// [`within`] the [`DEADLINE`].
pub fn until(what: impl Display, cond: impl FnMut() -> bool) {
    within(DEADLINE, what, cond);
}

/// Polls `found` until it gives a value, which it returns; panics at the [`DEADLINE`].
pub fn for_some<T>(what: impl Display, mut found: impl FnMut() -> Option<T>) -> T {
    let mut value = None;
    until(what, || {
        value = found();
        value.is_some()
    });
    value.expect("the condition held")
}

/// [`for_some`] without a pause between polls, only a yield: for a test that aims at the
/// first microseconds of a run, such as a signal sent as soon as sexton has blocked it.
pub fn spin_for_some<T>(what: impl Display, mut found: impl FnMut() -> Option<T>) -> T {
    let mut value = None;
    let held = deadline_loop(
        DEADLINE,
        || {
            value = found();
            value.is_some()
        },
        std::thread::yield_now,
    );
    assert!(held, "timed out after {DEADLINE:?} waiting for {what}");
    value.expect("the condition held")
}

/// Waits until `pid` has blocked `sig` ([`procfs::blocks`]): the readiness check before
/// signalling sexton, which as PID 1 would otherwise lose the signal to the kernel.
pub fn until_blocked(pid: i32, sig: i32) {
    until(format_args!("pid {pid} to block signal {sig}"), || {
        procfs::blocks(pid, sig)
    });
}

/// Whether `fd` becomes readable (or hung up) within `timeout`: one blocking poll(2), so the
/// wait ends the moment it does (a pidfd when its process exits, a pipe when data comes).
pub fn readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let end = Instant::now() + timeout;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ms = left.as_micros().div_ceil(1000);
        let ms = PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, ms) {
            Ok(ready) => return Ok(ready > 0),
            Err(Errno::EINTR) => continue,
            Err(err) => return Err(io::Error::from_raw_os_error(err as i32)),
        }
    }
}

/// Checks `cond`, pausing with `pause` between checks, until it holds or `timeout` passes.
fn deadline_loop(
    timeout: Duration,
    mut cond: impl FnMut() -> bool,
    mut pause: impl FnMut(),
) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        pause();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_sees_a_condition_that_comes_true() {
        let mut calls = 0;
        assert!(poll(DEADLINE, || {
            calls += 1;
            calls == 3
        }));
        assert_eq!(calls, 3);
    }

    #[test]
    fn poll_gives_up_at_the_timeout() {
        let start = Instant::now();
        assert!(!poll(Duration::from_millis(20), || false));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    #[should_panic(expected = "waiting for the impossible")]
    fn within_panics_naming_what_it_waited_for() {
        within(Duration::from_millis(1), "the impossible", || false);
    }

    #[test]
    fn for_some_returns_the_value_found() {
        let mut n = 0;
        assert_eq!(
            for_some("three", || {
                n += 1;
                (n == 3).then_some(n)
            }),
            3
        );
    }
}
