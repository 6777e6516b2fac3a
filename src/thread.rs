//! sexton's helper thread, the signal forwarder, started straight on
//! `pthread_create`.
//!
//! `std::thread::spawn` keeps a shared handle, a result packet and spawn hooks for each
//! thread: some 4,500 instructions on every start of sexton and 12 KB of binary, none of which
//! a thread that is never joined needs.
//!
//! Invariants:
//! - A thread started here is detached: it ends with its body or with the process, and
//!   nothing waits for it.
//! - It inherits the starting thread's signal mask, so it never takes a signal sexton
//!   forwards (those stay blocked in every thread but the forwarder's `sigwaitinfo`).

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ptr;

use nix::errno::Errno;
use nix::libc;

/// Runs `body` on a new detached thread with the C library's default stack.
pub fn start<F: FnOnce() + Send + 'static>(body: F) -> Result<(), Errno> {
    // A closure that captures nothing has no size, and boxing it allocates nothing.
    let arg = Box::into_raw(Box::new(body)).cast::<c_void>();
    let mut thread = MaybeUninit::uninit();
    // SAFETY: `thread` is a valid out-pointer, a null attribute means the defaults, and
    // `run::<F>` receives the pointer just made from a `Box<F>`.
    let errno = unsafe { libc::pthread_create(thread.as_mut_ptr(), ptr::null(), run::<F>, arg) };
    if errno != 0 {
        // SAFETY: no thread was started, so the box is still this function's to free.
        drop(unsafe { Box::from_raw(arg.cast::<F>()) });
        return Err(Errno::from_raw(errno));
    }
    // SAFETY: pthread_create succeeded, so `thread` is a live thread not yet detached.
    unsafe { libc::pthread_detach(thread.assume_init()) };
    Ok(())
}

/// The thread's entry: takes back the box [`start`] made and runs the body. A panic cannot
/// unwind out of an `extern "C"` function: it aborts the process.
extern "C" fn run<F: FnOnce()>(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `start` passes a pointer from `Box::into_raw(Box<F>)`, to this thread alone.
    let body = unsafe { Box::from_raw(arg.cast::<F>()) };
    body();
    ptr::null_mut()
}
