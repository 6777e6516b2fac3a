//! Reaping: as PID 1 sexton reaps every orphan of its namespace; anywhere else it becomes a
//! subreaper, so its command's orphans are reparented to it and reaped too.

mod util;

use util::{TempDir, sexton};

/// Waits (up to ~10 s) until /proc shows no zombie, then exits 0; exits 1 if zombies remain.
/// Run inside a PID namespace, where /proc is the namespace's own.
const NO_ZOMBIES_LEFT: &str = r#"
n=0
while :; do
    z=0
    for f in /proc/[0-9]*/stat; do
        read -r l < "$f" 2>/dev/null || continue
        case $l in *") Z "*) z=$((z+1));; esac
    done
    [ $z -eq 0 ] && exit 0
    n=$((n+1))
    [ $n -gt 200 ] && { echo "zombies left: $z" >&2; exit 1; }
    sleep 0.05
done
"#;

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
        "only {reaped} orphans reported reaped:\n{}",
        out.stdout()
    );
    assert!(
        !out.stderr.contains("zombies left"),
        "{}",
        out.stderr.lines().last().unwrap_or_default()
    );
}

#[test]
fn orphans_are_adopted_and_reaped_when_not_pid_1() {
    let dir = TempDir::new();
    // The orphan: a grandchild whose parent (the subshell) exits at once. It runs until "go".
    let script = r#"
        ( sh -c 'echo $$ > "$D/orphan"; while [ ! -e "$D/go" ]; do sleep 0.02; done' & )
        while [ ! -e "$D/done" ]; do sleep 0.02; done
        exit 7
    "#;
    let mut run = sexton(["sh", "-c", script]).dir(&dir).spawn();
    let sexton_pid = run.pid();
    let orphan = dir.wait_for_pid("orphan");
    util::wait_until("the orphan to be reparented to sexton", || {
        util::stat(orphan).is_some_and(|s| s.ppid == sexton_pid)
    });
    std::fs::write(dir.join("go"), "").unwrap();
    // Once it exits, nobody but sexton can reap it: it must vanish, not stay a zombie.
    util::wait_until("the orphan to be reaped", || util::stat(orphan).is_none());
    assert_eq!(util::zombie_children(sexton_pid), Vec::<i32>::new());
    assert!(run.try_wait().is_none(), "sexton exited before its command");
    std::fs::write(dir.join("done"), "").unwrap();
    run.wait().assert_code(7).assert_quiet();
}

#[test]
fn warn_on_reap_logs_each_orphan() {
    let dir = TempDir::new();
    let script = r#"( : & echo $! > "$D/orphan" ); exit 0"#;
    let out = sexton(["-w", "sh", "-c", script]).dir(&dir).run();
    out.assert_code(0);
    let orphan = dir.read("orphan");
    let orphan = orphan.trim();
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("sexton: ") && l.contains("reaped") && l.contains(orphan)),
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
fn pause_reaps_orphans_of_its_namespace() {
    let mut pause = sexton(["--pause"]).in_pid_namespace().spawn();
    let host_pid = pause.sexton_pid();
    // Processes entered into the namespace are children of nsenter, but their orphans are
    // reparented to the namespace's PID 1: sexton.
    let script = format!(
        r#"i=0
        while [ $i -lt 50 ]; do ( sleep 0.1 & ); i=$((i+1)); done
        o=$( sleep 0.5 > /dev/null & echo $! )
        read -r pid comm state ppid rest < /proc/$o/stat
        echo "orphan=$o ppid=$ppid"
        {NO_ZOMBIES_LEFT}"#
    );
    let mut nsenter = vec![
        "nsenter".to_owned(),
        "--target".to_owned(),
        host_pid.to_string(),
        "--pid".to_owned(),
        "--mount".to_owned(),
    ];
    // SAFETY: geteuid(2) cannot fail.
    if unsafe { util::libc::geteuid() } != 0 {
        nsenter.push("--user".to_owned());
        nsenter.push("--preserve-credentials".to_owned());
    }
    let out = util::direct(nsenter)
        .args(["--", "sh", "-c", &script])
        .run();
    out.assert_code(0);
    assert!(
        out.stdout().contains("ppid=1"),
        "the orphan was not reparented to PID 1:\n{out}"
    );
    pause.signal(util::libc::SIGTERM);
    pause.wait().assert_code(0).assert_quiet();
}
