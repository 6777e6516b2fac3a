//! sexton, a container init. See `run` for the shape of a run and each module for its duty.
//!
//! sexton has its own C `main`: Rust's runtime would set SIGPIPE to SIG_IGN before `main`,
//! and with that lose whether the launcher had it ignored, which the child must inherit.
#![cfg_attr(not(test), no_main)]

mod activation;
mod args;
mod cli;
mod environ;
mod error;
mod exit;
mod forward;
mod logging;
mod pidfd;
mod procfs;
mod reap;
mod release;
mod run;
mod seconds;
mod shutdown;
mod signal;
mod spawn;
mod terminal;
mod thread;

/// The process's entry, exported as `main`. Unit tests have the test harness's `main` and do
/// not call this one, which keeps everything it reaches in their build too.
#[cfg_attr(not(test), unsafe(export_name = "main"))]
#[cfg_attr(test, allow(dead_code))]
extern "C" fn c_main(
    argc: std::ffi::c_int,
    argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    use std::os::unix::ffi::OsStrExt;
    let args = (0..argc as usize).map(|i| {
        // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings in `argv`.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
    });
    let code = run::run(args).unwrap_or_else(error::Error::report);
    code.0.into()
}
