//! Reaping: as PID 1 sexton reaps every orphan of its namespace; anywhere else it becomes a
//! subreaper, so its command's orphans are reparented to it and reaped too.

pub mod util;

use kit::TempDir;
use util::{NO_ZOMBIES_LEFT, ORPHAN, sexton};

#[test]
fn five_thousand_orphans_are_reaped_as_pid_1() {
    let script = format!(
        r#"i=0
        while [ $i -lt 5000 ]; do ( : & ); i=$((i+1)); done
        {NO_ZOMBIES_LEFT}"#
    );
    // -w logs every orphan reaped: 5,000 lines prove each one went through sexton.
    let out = sexton(["-w", "sh", "-c", &script])
        .in_pid_namespace()
        .deadline(std::time::Duration::from_secs(60))
        .run();
    out.assert_code(0);
    let reaped = out.stderr.lines().filter(|l| l.contains("reaped")).count();
    assert!(
        reaped >= 5000,
        "only {reaped} orphans reported reaped; the last line: {}",
        out.stderr.lines().last().unwrap_or_default()
    );
}

#[test]
fn orphans_are_adopted_and_reaped_when_not_pid_1() {
    let dir = TempDir::new();
    // The orphan: a grandchild whose parent (the subshell) exits at once. It runs until "go",
    // or until the test's directory is gone (a failed test leaves it nothing to wait for).
    let script = r#"
        ( sh -c 'echo $$ > "$D/orphan"
                 while [ -d "$D" ] && [ ! -e "$D/go" ]; do sleep 0.02; done' & )
        while [ ! -e "$D/done" ]; do sleep 0.02; done
        exit 7
    "#;
    let mut run = sexton(["sh", "-c", script]).dir(&dir).spawn();
    let sexton_pid = run.pid();
    let orphan = dir.wait_for_pid("orphan");
    kit::wait::until("the orphan to be reparented to sexton", || {
        kit::procfs::stat(orphan).is_some_and(|s| s.ppid == sexton_pid)
    });
    std::fs::write(dir.join("go"), "").unwrap();
    // Once it exits, nobody but sexton can reap it: it must vanish, not stay a zombie.
    kit::wait::until("the orphan to be reaped", || {
        kit::procfs::stat(orphan).is_none()
    });
    assert_eq!(kit::procfs::zombie_children(sexton_pid), Vec::<i32>::new());
    assert!(run.try_wait().is_none(), "sexton exited before its command");
    std::fs::write(dir.join("done"), "").unwrap();
    run.wait().assert_code(7).assert_quiet();
}

#[test]
fn warn_on_reap_logs_each_orphan() {
    let dir = TempDir::new();
    let script = format!("{ORPHAN}; exit 0");
    let out = sexton(["-w", "sh", "-c", &script]).dir(&dir).run();
    out.assert_code(0);
    let orphan = dir.wait_for_pid("orphan");
    let reaped = format!("reaped pid {orphan},");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("sexton: ") && l.contains(&reaped)),
        "no warning for orphan {orphan}:\n{out}"
    );
    // Only warnings: -w alone adds no info or debug lines.
    for line in out.stderr.lines() {
        assert!(line.starts_with("sexton: warn: "), "{out}");
    }
}

#[test]
fn a_healthy_run_with_orphans_is_silent_without_w() {
    sexton(["sh", "-c", "( : & ); ( sleep 0.1 & ); exit 0"])
        .run()
        .assert_code(0)
        .assert_quiet();
}

#[test]
fn a_stopped_orphan_is_not_taken_for_the_command() {
    // An adopted orphan stops itself: its stop is its own, left to whoever continues it, and
    // nothing sexton does about COMMAND's stops (job control) applies to it.
    let dir = TempDir::new();
    let script = r#"
        ( sh -c 'echo $$ > "$D/orphan"; kill -STOP $$' & )
        while [ -d "$D" ] && [ ! -e "$D/done" ]; do sleep 0.02 & wait $!; done
    "#;
    let mut run = sexton(["-vv", "sh", "-c", script]).dir(&dir).spawn();
    let orphan = dir.wait_for_pid("orphan");
    run.wait_for_log(&format!("pid {orphan} was stopped"));
    let stderr = run.stderr();
    assert!(!stderr.contains("command (pid"), "{stderr}");
    assert_eq!(kit::procfs::state(orphan), Some('T'));
    // SAFETY: kill(2) on the orphan's pid, which stays its own until sexton reaps it.
    unsafe { kit::libc::kill(orphan, kit::libc::SIGKILL) };
    std::fs::write(dir.join("done"), "").unwrap();
    run.wait().assert_code(0);
}
