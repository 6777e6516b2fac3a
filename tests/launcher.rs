//! What a launcher may hand sexton: a SIGCHLD it ignored, variables that are not text, a
//! command that cannot run. sexton copes, and leaves nothing behind for its own parent.

pub mod util;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use kit::libc::SIGCHLD;
use util::{SEXTON, sexton};

#[test]
fn a_launcher_ignoring_sigchld_still_gets_the_commands_status() {
    // Ignored, SIGCHLD makes the kernel reap on its own: the status would be lost.
    sexton(["sh", "-c", "exit 3"])
        .ignore_signal(SIGCHLD)
        .run()
        .assert_code(3)
        .assert_quiet();
    // The command still gets the launcher's disposition back.
    let out = sexton(["grep", "SigIgn", "/proc/self/status"])
        .ignore_signal(SIGCHLD)
        .run();
    out.assert_code(0);
    let ignored = out
        .stdout()
        .split_whitespace()
        .nth(1)
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .unwrap_or_else(|| panic!("no SigIgn:\n{out}"));
    assert!(kit::procfs::has_signal(ignored, SIGCHLD), "{out}");
}

#[test]
fn a_command_that_cannot_run_leaves_no_zombie() {
    // The outer sexton is the inner one's subreaper: a child the inner one forked and did not
    // reap would fall to it, and -w would report it.
    let out = sexton(["-w", "--", SEXTON, "/nonexistent"]).run();
    out.assert_code(127)
        .assert_one_error_line(&["cannot run '/nonexistent'"]);
}

#[test]
fn a_variable_that_is_not_text_is_named() {
    sexton(["true"])
        .env("SEXTON_GRACE", OsStr::from_bytes(b"1\xff"))
        .run()
        .assert_code(125)
        .assert_one_error_line(&["SEXTON_GRACE", "UTF-8"]);
}

#[test]
fn a_variable_that_is_no_option_of_sextons_may_hold_anything() {
    // Only the variables that stand for options must be text.
    sexton(["true"])
        .env("SEXTON_NO_SUCH_OPTION", OsStr::from_bytes(b"\xff"))
        .run()
        .assert_code(0)
        .assert_quiet();
}
