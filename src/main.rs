//! sexton, a container init. See `run` for the shape of a run and each module for its duty.
//!
//! sexton has its own C `main`: Rust's runtime would set SIGPIPE to SIG_IGN before `main`,
//! and with that lose whether the launcher had it ignored, which the child must inherit.
#![cfg_attr(not(test), no_main)]
// Unit tests are built without `main`, so what only `main` reaches looks unused to them.
#![cfg_attr(test, allow(dead_code))]

mod activation;
mod args;
mod cli;
mod environ;
mod error;
mod exit;
mod forward;
mod logging;
mod pidfd;
mod reap;
mod release;
mod run;
mod seconds;
mod shutdown;
mod signal;
mod spawn;
mod terminal;
mod thread;

#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStrExt;
    let args = (0..argc as usize).map(|i| {
        // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings in `argv`.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
    });
    let code = run::run(args).unwrap_or_else(error::Error::report);
    code.0.into()
}
