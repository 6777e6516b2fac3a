//! --pause: no command; sexton sleeps, reaps whatever is reparented to it, and exits 0 on
//! SIGTERM, SIGINT or SIGHUP (a pod's pause process).

pub mod util;

use std::os::unix::process::ExitStatusExt;

use kit::libc::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGWINCH};
use util::{NO_ZOMBIES_LEFT, ORPHAN, sexton};

#[test]
fn pause_exits_0_on_term_int_and_hup_as_pid_1() {
    for sig in [SIGTERM, SIGINT, SIGHUP] {
        let mut pause = sexton(["--pause"]).in_pid_namespace().spawn();
        let pid = pause.sexton_pid();
        kit::wait::until_blocked(pid, sig);
        pause.signal(sig);
        pause.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn pause_exits_0_on_term_int_and_hup() {
    for (options, sig) in [
        (&["--pause"][..], SIGTERM),
        (&["-P"], SIGINT),
        (&["-P", "-v"], SIGHUP),
    ] {
        let mut pause = sexton(options).spawn();
        kit::wait::until_blocked(pause.pid(), sig);
        pause.signal(sig);
        let out = pause.wait();
        out.assert_code(0);
        assert!(
            out.stderr.lines().all(|l| l.starts_with("sexton: ")),
            "{out}"
        );
    }
    let mut pause = sexton(Vec::<&str>::new()).env("SEXTON_PAUSE", "1").spawn();
    kit::wait::until_blocked(pause.pid(), SIGTERM);
    pause.signal(SIGTERM);
    pause.wait().assert_code(0).assert_quiet();
}

#[test]
fn pause_sleeps_through_other_signals() {
    let mut pause = sexton(["--pause"]).in_pid_namespace().spawn();
    let pid = pause.sexton_pid();
    kit::wait::until_blocked(pid, SIGTERM);
    // Forwarded to the placeholder, which only waits for TERM, INT and HUP; it must not die
    // of USR1 (which would end the run with 138). USR1 reaches it before the TERM sent after
    // it: sexton forwards in order, and takes the lowest number first of those pending.
    pause.signal(SIGUSR1);
    pause.signal(SIGWINCH);
    pause.signal(SIGTERM);
    pause.wait().assert_code(0).assert_quiet();
}

#[test]
fn pause_with_a_command_is_a_usage_error() {
    sexton(["--pause", "true"])
        .run()
        .assert_code(125)
        .assert_one_error_line(&["--pause"]);
    sexton(["true"])
        .env("SEXTON_PAUSE", "1")
        .run()
        .assert_code(125)
        .assert_one_error_line(&["--pause"]);
}

#[test]
fn pause_set_false_in_the_environment_is_off() {
    sexton(["sh", "-c", "exit 3"])
        .env("SEXTON_PAUSE", "0")
        .run()
        .assert_code(3)
        .assert_quiet();
    sexton::<[&str; 0], &str>([])
        .env("SEXTON_PAUSE", "false")
        .run()
        .assert_code(125)
        .assert_one_error_line(&["COMMAND"]);
}

#[test]
fn pause_reaps_orphans_of_its_namespace() {
    // -w: sexton names each orphan it reaps.
    let mut pause = sexton(["--pause", "-w"]).in_pid_namespace().spawn();
    let host_pid = pause.sexton_pid();
    // Processes entered into the namespace are children of nsenter, but their orphans are
    // reparented to the namespace's PID 1, sexton: ORPHAN exits only once it has been.
    let script = format!(
        r#"i=0
        while [ $i -lt 50 ]; do ( sleep 0.1 & ); ( : & ); i=$((i+1)); done
        {ORPHAN}"#
    );
    let dir = kit::TempDir::new();
    let enter = |script: &str| {
        util::direct(kit::ns::nsenter_argv(host_pid))
            .args(["--", "sh", "-c", script])
            .dir(&dir)
            .run()
    };
    enter(&script).assert_code(0);
    let orphan = dir.wait_for_pid("orphan");
    let reaped = format!("reaped pid {orphan},");
    kit::wait::until("sexton to reap the 101 orphans", || {
        let stderr = pause.stderr();
        stderr.contains(&reaped) && stderr.matches("reaped pid ").count() == 101
    });
    enter(NO_ZOMBIES_LEFT).assert_code(0);
    pause.signal(kit::libc::SIGTERM);
    let out = pause.wait();
    out.assert_code(0);
    for line in out.stderr.lines() {
        assert!(line.starts_with("sexton: warn: reaped pid "), "{out}");
    }
}

#[test]
fn pause_ends_on_term_int_and_hup_even_if_the_launcher_ignored_them() {
    // `sh -c 'sexton -P &'` starts it with SIGINT ignored; `nohup` ignores SIGHUP.
    for sig in [SIGTERM, SIGINT, SIGHUP] {
        let mut pause = sexton(["--pause"]).ignore_signal(sig).spawn();
        kit::wait::until_blocked(pause.pid(), sig);
        // sexton blocks it first and takes it back from SIG_IGN a moment later: one sent in
        // between, while still ignored, the kernel would discard.
        kit::wait::until("sexton to no longer ignore the signal", || {
            !kit::procfs::has_signal(kit::procfs::signal_set(pause.pid(), "SigIgn"), sig)
        });
        pause.signal(sig);
        pause.wait().assert_code(0).assert_quiet();
    }
}

#[test]
fn the_placeholder_queues_nothing_it_never_takes() {
    let rt = kit::sigrtmin() + 1;
    let mut pause = sexton(["--pause", "-vv"]).spawn();
    let placeholder = pause.sexton_child();
    kit::wait::until_blocked(pause.pid(), rt);
    // Until the placeholder has set itself up after the fork, it still blocks what sexton
    // blocks, and a signal forwarded then would wait there for a moment.
    kit::wait::until("the placeholder to ignore what it never takes", || {
        kit::procfs::has_signal(kit::procfs::signal_set(placeholder, "SigIgn"), rt)
    });
    for _ in 0..5 {
        pause.signal(rt);
    }
    kit::wait::until("sexton to forward the signals", || {
        pause.stderr().matches("forwarded SIGRTMIN+1").count() == 5
    });
    for set in ["SigPnd", "ShdPnd"] {
        let pending = kit::procfs::signal_set(placeholder, set);
        assert!(
            !kit::procfs::has_signal(pending, rt),
            "{set} {pending:x}: the signal is queued"
        );
    }
    pause.signal(SIGTERM);
    pause.wait().assert_code(0);
}

#[test]
fn pause_as_pid_1_gives_every_process_in_the_pod_its_graceful_exit() {
    // The apps are entered into sexton's namespace from outside (as a pod's containers are):
    // they are not sexton's children. On SIGTERM each must get SIGTERM and the time to finish
    // its own handler (exit 42); one that ignores SIGTERM is killed when the grace period ends.
    let mut pause = sexton(["--pause", "-t", "1"]).in_pid_namespace().spawn();
    let host_pid = pause.sexton_pid();
    let app = |dir: &kit::TempDir, on_term: &str| {
        let script = format!(
            r#"trap '{on_term}' TERM; touch "$D/ready"
               while [ -d "$D" ]; do sleep 0.05 & wait $!; done"#
        );
        let app = util::direct(kit::ns::nsenter_argv(host_pid))
            .args(["--", "sh", "-c", &script])
            .dir(dir)
            .spawn();
        dir.wait_for("ready");
        app
    };
    let (obeys, ignores) = (kit::TempDir::new(), kit::TempDir::new());
    let mut graceful = app(&obeys, "sleep 0.3; exit 42");
    let mut stubborn = app(&ignores, "");
    pause.signal(SIGTERM);
    graceful.wait().assert_code(42);
    // nsenter ends itself with the signal that ended the app.
    let out = stubborn.wait();
    assert_eq!(out.status.signal(), Some(kit::libc::SIGKILL), "{out}");
    pause.wait().assert_code(0);
}
