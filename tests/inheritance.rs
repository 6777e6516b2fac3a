//! What COMMAND inherits: exactly what it would get if the launcher ran it directly (signal
//! mask and ignored signals, open descriptors), and sexton copes with closed or broken stdio.

pub mod util;

use std::fs::File;
use std::os::fd::AsRawFd;

use kit::TempDir;
use kit::libc::{SIGHUP, SIGPIPE, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR2};
use util::{Run, direct, sexton};

const SIGNAL_STATE: [&str; 3] = ["grep", "-E", "^Sig(Blk|Ign|Cgt)"];

/// The signal state `grep` sees, run directly and under sexton (both start paths, plain and
/// with an option), from launchers set up by `launcher`.
fn compare_signal_state(launcher: impl Fn(Run) -> Run) {
    let status = "/proc/self/status";
    let direct = launcher(direct(SIGNAL_STATE).arg(status)).run();
    direct.assert_code(0);
    let expected = direct.stdout();
    assert_eq!(expected.lines().count(), 3, "{direct}");
    for options in [
        &[][..],
        &["--"],
        &["-t", "1", "--"],
        &["-c", "-g", "-s", "--"],
    ] {
        let under = launcher(sexton(options).args(SIGNAL_STATE).arg(status)).run();
        under.assert_code(0).assert_quiet();
        assert_eq!(under.stdout(), expected, "options {options:?}");
    }
}

#[test]
fn default_signal_state_is_passed_on() {
    compare_signal_state(|run| run);
}

#[test]
fn ignored_and_blocked_signals_are_passed_on() {
    let rt = kit::sigrtmin() + 3;
    compare_signal_state(|run| {
        run.ignore_signal(SIGHUP)
            .ignore_signal(SIGPIPE)
            .ignore_signal(SIGTTOU)
            .block_signal(SIGUSR2)
            .block_signal(SIGTERM)
            .block_signal(SIGTTIN)
            .block_signal(rt)
    });
}

#[test]
fn nohup_is_respected() {
    // SIGHUP ignored by the launcher: sexton does not forward it, and COMMAND ignores it too.
    let dir = TempDir::new();
    let mut run = sexton([
        "sh",
        "-c",
        r#"touch "$D/ready"; while :; do sleep 0.05; done"#,
    ])
    .ignore_signal(SIGHUP)
    .env("SEXTON_LOG", "debug")
    .dir(&dir)
    .spawn();
    dir.wait_for("ready");
    let child = run.sexton_child();
    assert!(kit::procfs::has_signal(
        kit::procfs::signal_set(child, "SigIgn"),
        SIGHUP
    ));
    // sexton leaves it ignored and unblocked, so the kernel discards it on arrival rather
    // than queue it for the forwarder.
    let sexton = run.sexton_pid();
    assert!(kit::procfs::has_signal(
        kit::procfs::signal_set(sexton, "SigIgn"),
        SIGHUP
    ));
    assert!(!kit::procfs::blocks(sexton, SIGHUP));
    run.signal(SIGHUP);
    run.signal(SIGTERM);
    let out = run.wait();
    out.assert_code(143);
    assert!(out.stderr.contains("forwarded SIGTERM"), "{out}");
    assert!(!out.stderr.contains("SIGHUP"), "{out}");
}

fn fds(run: Run) -> String {
    let out = run.run();
    out.assert_code(0);
    out.stdout()
}

#[test]
fn no_descriptor_leaks_into_the_command() {
    // An extra descriptor the launcher passes on (as socket activation does) must get through,
    // and sexton must add none of its own.
    let dir = TempDir::new();
    let extra = File::create(dir.join("extra")).unwrap();
    let launch = |run: Run| run.pass_fd(extra.as_raw_fd(), 9);
    let expected = fds(launch(direct(["ls", "/proc/self/fd"])));
    assert!(expected.lines().any(|l| l == "9"), "{expected}");
    for options in [&[][..], &["-t", "1", "--"], &["-v", "--"]] {
        let under = launch(sexton(options).args(["ls", "/proc/self/fd"]));
        assert_eq!(fds(under), expected, "options {options:?}");
    }
    // As PID 1 as well (unshare passes the descriptor on unchanged).
    let expected = fds(launch(direct(["ls", "/proc/self/fd"]).in_pid_namespace()));
    let under = launch(sexton(["ls", "/proc/self/fd"]).in_pid_namespace());
    assert_eq!(fds(under), expected);
}

#[test]
fn closed_stderr() {
    // -v makes sexton log; with nowhere to write, it carries on and exits as COMMAND did.
    sexton(["-v", "sh", "-c", "exit 5"])
        .close_fd(2)
        .run()
        .assert_code(5);
    sexton([
        "-vvv",
        "-t",
        "0.2",
        "sh",
        "-c",
        "sleep 30 & ( : & ); exit 6",
    ])
    .close_fd(2)
    .run()
    .assert_code(6);
    // Failures too: the message is lost, the code is not.
    sexton(["sexton-no-such-command"])
        .close_fd(2)
        .run()
        .assert_code(127);
    sexton(["--bogus"]).close_fd(2).run().assert_code(125);
}

#[test]
fn closed_stdout() {
    sexton(["-v", "sh", "-c", "exit 5"])
        .close_fd(1)
        .run()
        .assert_code(5);
    for flag in ["--version", "--help", "--license"] {
        sexton([flag]).close_fd(1).run().assert_code(0);
    }
}

/// With 0, 1 and 2 closed, sexton's own descriptors (its exec-failure pipe) take those
/// numbers; COMMAND must still find them closed.
#[test]
fn closed_stdin_stdout_and_stderr() {
    let dir = TempDir::new();
    let script = r#"ls /proc/$$/fd > "$D/fds.$1"; exit 4"#;
    let close_all = |run: Run| run.close_fd(0).close_fd(1).close_fd(2).dir(&dir);
    close_all(direct(["sh", "-c", script, "sh", "direct"]))
        .run()
        .assert_code(4);
    close_all(sexton(["-v", "sh", "-c", script, "sh", "sexton"]))
        .run()
        .assert_code(4);
    assert!(dir.exists("fds.direct") && dir.exists("fds.sexton"));
    assert_eq!(dir.read("fds.sexton"), dir.read("fds.direct"));
}

#[test]
fn a_broken_pipe_on_stderr() {
    // Writing a log line gets EPIPE; SIGPIPE must not kill sexton.
    let out = sexton(["-vv", "sh", "-c", "( : & ); exit 5"])
        .stderr(kit::broken_pipe())
        .run();
    out.assert_code(5);
    let out = sexton(["sexton-no-such-command"])
        .stderr(kit::broken_pipe())
        .run();
    out.assert_code(127);
    let out = sexton(["--version"]).stdout(kit::broken_pipe()).run();
    out.assert_code(0);
}
