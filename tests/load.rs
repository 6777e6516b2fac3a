//! Reliability under load: floods of signals, and a process table that is full.

pub mod util;

use std::time::Duration;

use kit::TempDir;
use kit::cgroup::Cgroup;
use kit::libc::{SIGTERM, SIGUSR1};
use util::{Run, SEXTON, direct, sexton};

both_modes!(
    fn a_burst_of_signals_neither_hangs_nor_crashes_sexton(pid1: bool) {
        // USR1 (standard: coalesced while pending) mixed with a realtime signal (queued, each
        // one forwarded), 3,000 in all, as fast as the test can send them.
        let rt = kit::sigrtmin() + 2;
        let script = r#"trap : USR1; trap : "$RT"; touch "$D/ready"; while :; do sleep 0.05 & wait $!; done"#;
        let dir = TempDir::new();
        let mut run = sexton(["sh", "-c", script])
            .env("RT", rt.to_string())
            .dir(&dir)
            .as_pid1(pid1)
            .spawn();
        dir.wait_for("ready");
        let pid = run.sexton_pid();
        for i in 0..3000 {
            // A full realtime queue (EAGAIN) is the kernel's limit, not sexton's.
            kit::send(pid, if i % 2 == 0 { SIGUSR1 } else { rt });
        }
        let state = kit::procfs::state(pid);
        assert!(
            matches!(state, Some('R' | 'S' | 'D')),
            "after the burst sexton is {state:?}"
        );
        assert!(run.try_wait().is_none(), "sexton exited during the burst");
        run.signal(SIGTERM);
        run.wait().assert_code(143).assert_sexton_quiet();
    }
);

/// `sexton ARGS...`, run inside `cgroup`.
fn sexton_in(cgroup: &Cgroup, args: &[&str]) -> Run {
    direct(["sh", "-c", kit::cgroup::JOIN, "sh", SEXTON])
        .args(args)
        .env("CG", cgroup.path())
}

#[test]
fn orphans_are_reaped_while_the_process_table_is_full() {
    let Some(cgroup) = Cgroup::or_skip(20) else {
        return;
    };
    // COMMAND forks orphans until forks have failed (EAGAIN) at least 50 times and 100 have
    // been made: five times the limit, possible only if sexton reaps them as they exit. Then
    // it runs one more `sleep 0.3`, retried until the fork succeeds, which outlasts the
    // orphans' 0.2 s, so most end on their own rather than at the shutdown, and exits 0.
    let load = r#"
        exec 2>/dev/null
        ok=0; fail=0; i=0
        while [ $i -lt 300000 ]; do
            i=$((i+1))
            if ( sleep 0.2 & ); then ok=$((ok+1)); else fail=$((fail+1)); fi
            [ $fail -ge 50 ] && [ $ok -ge 100 ] && break
        done
        echo "ok=$ok fail=$fail"
        until sleep 0.3; do :; done
        [ $fail -ge 50 ] && [ $ok -ge 100 ]
    "#;
    let out = sexton_in(&cgroup, &["--", "sh", "-c", load])
        .deadline(Duration::from_secs(60))
        .run();
    out.assert_code(0).assert_quiet();
    assert!(out.stdout().starts_with("ok="), "{out}");
    // Everything sexton was responsible for is gone and reaped: not even a zombie is charged.
    assert_eq!(cgroup.procs(), Vec::<i32>::new());
    assert_eq!(cgroup.current(), 0);
}

#[test]
fn leftovers_are_killed_while_the_process_table_is_full() {
    let Some(cgroup) = Cgroup::or_skip(12) else {
        return;
    };
    // Leftovers that ignore SIGTERM keep the table full while sexton shuts down: eight
    // sleepers, and one process that forks without pause and so takes every slot that frees
    // up (with a single forker, the slot its own failed attempt frees is its next one: a
    // fork that fails ends dash). sexton must still kill them all after the grace period and
    // exit with COMMAND's 7. COMMAND exits once the table is full (it reads pids.current).
    // It fills it only once sexton's forwarder thread runs (sexton has two tasks), since a
    // full table before that is the other test's case.
    let load = r#"
        exec 2>/dev/null
        trap '' TERM
        set -- /proc/$PPID/task/*
        until [ $# -ge 2 ]; do set -- /proc/$PPID/task/*; done
        i=0
        while [ $i -lt 8 ]; do sleep 60 & i=$((i+1)); done
        sh -c 'while :; do ( sleep 1 & ); done' &
        until read -r n < "$CG/pids.current" && [ "$n" -ge 12 ]; do :; done
        exit 7
    "#;
    let out = sexton_in(&cgroup, &["-t", "1", "--", "sh", "-c", load]).run();
    assert!(
        cgroup.procs().is_empty(),
        "processes outlived sexton: {:?}\n{out}",
        cgroup.procs()
    );
    out.assert_code(7);
    assert!(out.elapsed < Duration::from_secs(15), "{out}");
}

#[test]
fn no_room_for_the_forwarder_is_a_clean_failure() {
    // sexton and COMMAND take the cgroup's two slots, so the forwarder thread cannot start.
    // A COMMAND that no signal could reach must not be left running: sexton kills it, says
    // why, and fails with its own code, 125.
    let Some(cgroup) = Cgroup::or_skip(2) else {
        return;
    };
    let out = sexton_in(&cgroup, &["--", "sleep", "60"])
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(125);
    assert!(
        out.stderr
            .contains("sexton: pthread_create (the signal forwarder) failed"),
        "{out}"
    );
    assert!(
        out.stderr.contains("check the container's process"),
        "{out}"
    );
    assert_eq!(cgroup.procs(), Vec::<i32>::new());
    assert_eq!(cgroup.current(), 0);
}
