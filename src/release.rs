//! What sexton lets go of once the child runs: the descriptors and the working directory it was
//! launched with. The child has its own copies; an init that kept them would show: a pipe the
//! program closes would never reach end of file, a socket it closes would keep its port, and
//! the directory it was started in (often a mount) would stay busy.
//!
//! Why closing every descriptor from 3 up is safe, and when it happens:
//! - It runs once, in the parent, right after the child's exec succeeded and the exec-report
//!   pipe is closed (in pause mode, before the placeholder is forked, which runs no program),
//!   and before sexton starts a thread or opens anything of its own: at that moment every
//!   descriptor from 3 up is one sexton inherited. What sexton opens later
//!   (pidfds while it shuts down) comes after, and is close-on-exec like all it opens, so none
//!   of it reaches the child either. A descriptor sexton opened before the spawn would have to
//!   move after this call.
//! - sexton uses no relative path after it, so running from `/` changes nothing for sexton.

use std::fs;

use nix::errno::Errno;
use nix::libc::{self, c_int, c_uint};

/// Closes what sexton inherited from 3 up and moves to `/`.
pub fn inherited() {
    close_from(3);
    // SAFETY: chdir(2) takes a valid C string.
    if unsafe { libc::chdir(c"/".as_ptr()) } != 0 {
        log::debug!("cannot leave the launch directory: {}", Errno::last());
    }
}

/// Closes every descriptor from `first` up.
fn close_from(first: c_int) {
    // SAFETY: close_range(2) takes plain integers and only closes descriptors.
    if unsafe { libc::syscall(libc::SYS_close_range, first, c_uint::MAX, 0) } == 0 {
        return;
    }
    // No close_range (Linux before 5.9, or a seccomp filter that does not know it): the open
    // ones from /proc, or, without /proc, every number below the descriptor limit.
    let close = |fd| {
        // SAFETY: closing a descriptor number; one that is not open gives EBADF, nothing more.
        unsafe { libc::close(fd) };
    };
    match fs::read_dir("/proc/self/fd") {
        Ok(dir) => {
            // The directory's own descriptor is among them; it is closed once `collect` is done.
            let open: Vec<c_int> = dir
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .filter(|&fd| fd >= first)
                .collect();
            open.into_iter().for_each(close);
        }
        Err(_) => (first..limit()).for_each(close),
    }
}

/// The soft limit on descriptors (at most the kernel's `fs.nr_open`): no descriptor sexton got
/// is numbered above it, unless the limit was lowered after it was opened.
fn limit() -> c_int {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    c_int::try_from(limit.rlim_cur).unwrap_or(c_int::MAX)
}
