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
    kit::wait::until("sexton to hold SIGTERM", || {
        run.stderr().contains("holding SIGTERM")
    });
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
    kit::wait::until("sexton to hold SIGTERM", || {
        run.stderr().contains("holding SIGTERM")
    });
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
