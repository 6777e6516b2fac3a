//! Socket activation (`sd_listen_fds(3)`) through sexton: the command must get the sockets as
//! if its launcher had started it directly.
//!
//! systemd, `systemd-socket-activate` and podman pass listening sockets as descriptors 3 and
//! up, count them in `LISTEN_FDS`, name them in `LISTEN_FDNAMES`, and name the process meant
//! to take them in `LISTEN_PID`; a program takes them only if `LISTEN_PID` is its own pid.
//! When it names sexton, the command gets it rewritten to the command's pid. The descriptors
//! and the other two variables pass on unchanged, and `LISTEN_PIDFDID` (newer systemd: the
//! inode of a pidfd of the process named) is left out, since it would name sexton and no
//! pidfd of the command exists before its exec; `sd_listen_fds` then checks the pid alone.
//!
//! The command's pid is known only in the forked child, where nothing may allocate: the
//! environment is built here, before the fork, with room for the digits, which `spawn` writes
//! in the child.

use std::ffi::c_char;

use nix::unistd::getpid;

use crate::environ::{self, Var};

const LISTEN_PID: &[u8] = b"LISTEN_PID=";
const LISTEN_PIDFDID: &[u8] = b"LISTEN_PIDFDID=";

/// Room for the decimal digits of any pid and the NUL after them.
pub const PID_ROOM: usize = 11;

/// The command's environment when the launcher's sockets were meant for sexton.
pub struct Environment {
    /// `LISTEN_PID=` and [`PID_ROOM`] bytes for the command's pid: the string `envp` names.
    /// Only ever reached through `slot`, so the child's write and execve's read go through
    /// the same pointer.
    _listen_pid: Vec<u8>,
    slot: *mut u8,
    envp: Vec<*const c_char>,
}

impl Environment {
    /// The environment the command needs, or `None` if sexton's own will do: no `LISTEN_PID`,
    /// or one that names another process.
    pub fn for_command() -> Option<Environment> {
        let (_, value) = environ::all()
            .filter(|var| var.starts_with(LISTEN_PID))
            .find_map(Var::split)?;
        if !names(value, getpid().as_raw()) {
            return None;
        }
        let mut listen_pid = [LISTEN_PID, &[0; PID_ROOM]].concat();
        let slot = listen_pid.as_mut_ptr().cast::<c_char>();
        let envp = environ::all()
            .filter(|var| !var.starts_with(LISTEN_PIDFDID))
            .map(|var| {
                if var.starts_with(LISTEN_PID) {
                    slot.cast_const()
                } else {
                    var.as_ptr()
                }
            })
            .chain([std::ptr::null()])
            .collect();
        Some(Environment {
            _listen_pid: listen_pid,
            slot: slot.cast(),
            envp,
        })
    }

    /// The NULL-terminated array to pass to execve.
    pub fn envp(&self) -> *const *const c_char {
        self.envp.as_ptr()
    }

    /// Where the child writes its pid: the bytes after `LISTEN_PID=`.
    pub fn pid_slot(&mut self) -> &mut [u8; PID_ROOM] {
        // SAFETY: `slot` points to `LISTEN_PID.len() + PID_ROOM` bytes owned by `self`, which
        // is borrowed mutably for as long as the result lives.
        unsafe { &mut *self.slot.add(LISTEN_PID.len()).cast::<[u8; PID_ROOM]>() }
    }
}

/// Whether `LISTEN_PID`'s value names `pid`.
fn names(value: &[u8], pid: i32) -> bool {
    std::str::from_utf8(value).is_ok_and(|text| text.parse() == Ok(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_the_exact_pid() {
        assert!(names(b"1", 1));
        assert!(names(b"4194304", 4194304));
        assert!(!names(b"12", 1));
        assert!(!names(b"", 1));
        assert!(!names(b"1 ", 1));
        assert!(!names(b"x", 1));
    }
}
