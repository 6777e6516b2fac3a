//! `--delay SIGNAL:SECONDS`: SIGNAL is held that long before it is forwarded, so a load
//! balancer can drain; other signals pass meanwhile, a second SIGNAL is forwarded at once, and
//! COMMAND exiting ends the run as usual.

pub mod util;

use std::time::{Duration, Instant};

use kit::TempDir;
use kit::libc::{SIGINT, SIGTERM, SIGUSR1};
use util::sexton;

/// COMMAND: logs each of TERM, INT and USR1 as it arrives; exits 7 on TERM, or 3 when "$D/quit"
/// appears. Like every script of the tests it also ends once the test's directory is gone, so
/// a test that fails leaves nothing running.
const LOGS: &str = r#"
    trap 'echo term >> "$D/log"; exit 7' TERM
    trap 'echo int >> "$D/log"' INT
    trap 'echo usr1 >> "$D/log"' USR1
    touch "$D/ready"
    while [ -d "$D" ] && [ ! -e "$D/quit" ]; do sleep 0.05 & wait $!; done
    exit 3
"#;

fn logging(options: &[&str], dir: &TempDir) -> util::Proc {
    let run = sexton(options).args(["sh", "-c", LOGS]).dir(dir).spawn();
    dir.wait_for("ready");
    run
}

#[test]
fn a_delayed_signal_arrives_after_its_delay_and_others_pass_meanwhile() {
    let dir = TempDir::new();
    let mut run = logging(&["-v", "-d", "TERM:1.5"], &dir);
    let sent = Instant::now();
    run.signal(SIGTERM);
    run.signal(SIGUSR1);
    let out = run.wait();
    let held = sent.elapsed();
    out.assert_code(7);
    assert_eq!(dir.read("log"), "usr1\nterm\n", "{out}");
    assert!(
        held >= Duration::from_millis(1500),
        "held only {held:?}:\n{out}"
    );
    assert!(out.stderr.contains("holding SIGTERM for 1.5s"), "{out}");
}

#[test]
fn a_second_signal_is_forwarded_at_once() {
    let dir = TempDir::new();
    // Held for longer than any test deadline: only the second TERM can end the run in time.
    let mut run = logging(&["-v", "-d", "TERM:1000"], &dir);
    run.signal(SIGTERM);
    run.wait_for_log("holding SIGTERM");
    run.signal(SIGTERM);
    let out = run.wait();
    out.assert_code(7);
    assert_eq!(dir.read("log"), "term\n", "{out}");
}

#[test]
fn the_command_exiting_while_a_signal_is_held_ends_the_run() {
    let dir = TempDir::new();
    let mut run = logging(&["-v", "-d", "TERM:1000"], &dir);
    run.signal(SIGTERM);
    run.wait_for_log("holding SIGTERM");
    std::fs::write(dir.join("quit"), "").unwrap();
    let out = run.wait();
    out.assert_code(3);
    assert_eq!(dir.read("log"), "", "{out}");
}

#[test]
fn delays_come_from_the_environment_too() {
    let dir = TempDir::new();
    let mut run = sexton(["-v", "sh", "-c", LOGS])
        .env("SEXTON_DELAY", "INT:1000,TERM:1000")
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    run.signal(SIGINT);
    run.signal(SIGTERM);
    kit::wait::until("sexton to hold SIGINT and SIGTERM", || {
        let log = run.stderr();
        log.contains("holding SIGINT") && log.contains("holding SIGTERM")
    });
    run.signal(SIGTERM);
    let out = run.wait();
    out.assert_code(7);
    assert_eq!(dir.read("log"), "term\n", "{out}");
}

#[test]
fn only_forwarded_signals_can_be_delayed() {
    for bad in ["KILL:1", "TERM", "TERM:soon"] {
        sexton(["-d", bad, "true"])
            .run()
            .assert_one_error_line(&["see 'sexton --help'"])
            .assert_code(125);
    }
}

/// The hold of a signal ends while sexton shuts down what COMMAND left (a leftover that
/// ignores SIGTERM keeps it waiting): the signal is dropped, and no line says it went.
#[test]
fn a_held_signal_due_after_the_command_exited_is_not_claimed_forwarded() {
    let dir = TempDir::new();
    let script = r#"sh -c 'trap "" TERM; while [ -d "$D" ]; do sleep 0.05 & wait $!; done' &
        touch "$D/ready"; while [ -d "$D" ] && [ ! -e "$D/quit" ]; do sleep 0.05 & wait $!; done"#;
    let mut run = sexton(["-vv", "-d", "TERM:0.5", "-t", "2", "sh", "-c", script])
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    run.signal(SIGTERM);
    run.wait_for_log("holding SIGTERM");
    std::fs::write(dir.join("quit"), "").unwrap();
    run.wait_for_log("dropped SIGTERM: the command has exited");
    let out = run.wait();
    out.assert_code(0);
    assert!(!out.stderr.contains("forwarded SIGTERM"), "{out}");
    assert!(!out.stderr.contains("long enough"), "{out}");
}

#[test]
fn a_signal_that_is_dropped_is_not_held() {
    let dir = TempDir::new();
    let mut run = logging(&["-vv", "-d", "USR1:1000", "-r", "USR1:0"], &dir);
    run.signal(SIGUSR1);
    run.wait_for_log("dropped SIGUSR1");
    run.signal(SIGTERM);
    let out = run.wait();
    out.assert_code(7);
    assert!(!out.stderr.contains("holding SIGUSR1"), "{out}");
}
