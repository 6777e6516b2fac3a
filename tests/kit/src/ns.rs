//! PID namespaces: running a program as PID 1 of a fresh one, and entering one.
//!
//! As root, `unshare --pid` needs nothing more; any other user gets the same through a user
//! namespace that maps it to root (`--user --map-root-user`), so the tests run unprivileged too.

use std::process::Command;

/// Whether this process runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The argv prefix that runs a program as PID 1 of a fresh PID namespace with its own /proc:
/// `unshare --pid --fork --mount-proc --kill-child`, plus `--user --map-root-user` when not
/// root. With `--kill-child`, killing `unshare` kills that PID 1, and with it the namespace.
pub fn unshare_argv() -> Vec<&'static str> {
    unshare_argv_with(&["--pid", "--fork", "--mount-proc", "--kill-child"])
}

/// The argv prefix `unshare OPTIONS...`, plus `--user --map-root-user` when not root, so that
/// the new namespaces can be set up (mounts, say) without root.
pub fn unshare_argv_with(options: &[&'static str]) -> Vec<&'static str> {
    let mut argv = vec!["unshare"];
    argv.extend(options);
    if !is_root() {
        argv.extend(["--user", "--map-root-user"]);
    }
    argv
}

/// [`unshare_argv`] as a command: add the program and its arguments.
pub fn unshare() -> Command {
    let argv = unshare_argv();
    let mut command = Command::new(argv[0]);
    command.args(&argv[1..]);
    command
}

/// The argv prefix that runs a program inside the PID (and mount) namespace of `target`:
/// `nsenter --target PID --pid --mount`, plus `--user --preserve-credentials` when not root.
/// The program is a child of `nsenter`; its orphans go to the namespace's PID 1.
pub fn nsenter_argv(target: i32) -> Vec<String> {
    let mut argv: Vec<String> = [
        "nsenter",
        "--target",
        &target.to_string(),
        "--pid",
        "--mount",
    ]
    .map(String::from)
    .into();
    if !is_root() {
        argv.extend(["--user", "--preserve-credentials"].map(String::from));
    }
    argv
}
