//! Shutdown: once COMMAND exits, whatever it left behind gets SIGTERM, then SIGKILL when the
//! grace period ends; sexton exits (with COMMAND's status) only when all of it is reaped, and
//! never touches a process outside its responsibility.

pub mod util;

use kit::TempDir;
use util::{Output, SEXTON, sexton};

/// COMMAND: starts "$LEFT" in the background, waits until it has written "$D/left", notes
/// the moment it exits in "$D/exiting" and exits 9.
const MAIN: &str = r#"
    sh -c "$LEFT" &
    while [ ! -s "$D/left" ]; do sleep 0.02; done
    touch "$D/exiting"
    exit 9
"#;

/// A leftover that logs SIGTERM and exits, with a child of its own. (The child reports its
/// pid after exec: until then it has the shell's trap, and a SIGTERM would only run that.)
/// Like every leftover here, it also ends once the test's directory is gone, so a test that
/// fails leaves nothing running.
const OBEYS: &str = r#"
    trap 'echo term >> "$D/log"; exit 0' TERM
    sh -c 'echo $$ > "$D/grandchild"; exec sleep 60' &
    while [ ! -s "$D/grandchild" ]; do sleep 0.01; done
    echo $$ > "$D/left"
    while [ -d "$D" ]; do sleep 0.05 & wait $!; done
"#;

/// A leftover that ignores SIGTERM (and so do its children).
const IGNORES: &str = r#"
    trap '' TERM
    echo $$ > "$D/left"
    while [ -d "$D" ]; do sleep 0.05 & wait $!; done
"#;

fn run_with_leftover(options: &[&str], left: &str, namespace: bool) -> (TempDir, Output) {
    let dir = TempDir::new();
    let out = sexton(options)
        .args(["sh", "-c", MAIN])
        .env("LEFT", left)
        .dir(&dir)
        .as_pid1(namespace)
        .run();
    (dir, out)
}

/// Seconds from COMMAND's exit (the "exiting" file) to sexton's.
fn shutdown_time(dir: &TempDir, out: &Output) -> f64 {
    let exiting = dir.modified("exiting");
    match out.ended_at.duration_since(exiting) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// sexton's only line: the warning that the grace period is over.
fn assert_kill_warning(out: &Output) {
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("sexton"))
        .collect();
    assert!(
        lines.len() == 1 && lines[0].starts_with("sexton: warn: ") && lines[0].contains("SIGKILL"),
        "expected one warning about SIGKILL:\n{out}"
    );
}

fn gone(pid: i32) -> bool {
    !kit::procfs::is_alive(pid)
}

#[test]
fn leftovers_get_term_before_sexton_exits() {
    let (dir, out) = run_with_leftover(&[], OBEYS, false);
    out.assert_code(9).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "term\n", "{out}");
    let grandchild = dir.wait_for_pid("grandchild");
    assert!(
        gone(grandchild),
        "the leftover's own child is still running"
    );
    assert!(shutdown_time(&dir, &out) < 10.0, "{out}");
}

#[test]
fn leftovers_get_term_as_pid_1() {
    let (dir, out) = run_with_leftover(&[], OBEYS, true);
    out.assert_code(9).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "term\n", "{out}");
}

#[test]
fn a_leftover_ignoring_term_is_killed_after_the_grace_period() {
    let (dir, out) = run_with_leftover(&["--grace", "1"], IGNORES, false);
    out.assert_code(9);
    assert_kill_warning(&out);
    let took = shutdown_time(&dir, &out);
    // The bounds leave room for the files' coarse clock (a few ms) and a loaded machine.
    assert!(
        took >= 0.95,
        "SIGKILL came {took:.3} s after COMMAND exited, before the grace period"
    );
    assert!(took < 4.0, "SIGKILL came {took:.3} s after COMMAND exited");
    let left = dir.wait_for_pid("left");
    assert!(gone(left));
}

#[test]
fn a_leftover_ignoring_term_is_killed_after_the_grace_period_as_pid_1() {
    let (dir, out) = run_with_leftover(&["-t", "1"], IGNORES, true);
    out.assert_code(9);
    assert_kill_warning(&out);
    let took = shutdown_time(&dir, &out);
    assert!((0.95..4.0).contains(&took), "shutdown took {took:.3} s");
}

both_modes!(
    fn an_obeying_leftover_does_not_cost_the_grace_period(pid1: bool) {
        let (dir, out) = run_with_leftover(&["--grace", "30"], OBEYS, pid1);
        out.assert_code(9).assert_sexton_quiet();
        assert_eq!(dir.read("log"), "term\n");
        let took = shutdown_time(&dir, &out);
        assert!(
            took < 10.0,
            "shutdown took {took:.3} s of a 30 s grace period"
        );
    }
);

#[test]
fn grace_zero_kills_at_once() {
    for (options, env) in [(&["--grace", "0"][..], None), (&[][..], Some("0"))] {
        let dir = TempDir::new();
        let mut run = sexton(options)
            .args(["sh", "-c", MAIN])
            .env("LEFT", IGNORES)
            .dir(&dir);
        if let Some(grace) = env {
            run = run.env("SEXTON_GRACE", grace);
        }
        let out = run.run();
        out.assert_code(9);
        // The default grace is 5 s; at once means well under that.
        let took = shutdown_time(&dir, &out);
        assert!(took < 3.0, "{options:?} {env:?}: shutdown took {took:.3} s");
    }
}

#[test]
fn grace_from_the_environment() {
    let dir = TempDir::new();
    let out = sexton(["sh", "-c", MAIN])
        .env("LEFT", IGNORES)
        .env("SEXTON_GRACE", "1.5")
        .dir(&dir)
        .run();
    out.assert_code(9);
    assert_kill_warning(&out);
    let took = shutdown_time(&dir, &out);
    assert!((1.45..4.5).contains(&took), "shutdown took {took:.3} s");
    // The command line wins over the environment.
    let dir = TempDir::new();
    let out = sexton(["-t", "0", "sh", "-c", MAIN])
        .env("LEFT", IGNORES)
        .env("SEXTON_GRACE", "30")
        .dir(&dir)
        .run();
    out.assert_code(9);
    assert!(shutdown_time(&dir, &out) < 3.0, "{out}");
}

#[test]
fn a_stopped_leftover_is_continued_to_see_term() {
    // Stopped, it would sleep through SIGTERM until the SIGKILL 30 s later. COMMAND exits
    // only once the leftover is stopped.
    let stopped = r#"
        trap 'echo term >> "$D/log"; exit 0' TERM
        echo $$ > "$D/left"
        kill -STOP $$
        while [ -d "$D" ]; do sleep 0.05 & wait $!; done
    "#;
    let main = r#"
        sh -c "$LEFT" &
        while [ ! -s "$D/left" ]; do sleep 0.01; done
        read -r left < "$D/left"
        until read -r _ _ state _ < /proc/$left/stat && [ "$state" = T ]; do sleep 0.01; done
        touch "$D/exiting"
        exit 9
    "#;
    let dir = TempDir::new();
    let out = sexton(["-t", "30", "sh", "-c", main])
        .env("LEFT", stopped)
        .dir(&dir)
        .run();
    out.assert_code(9).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "term\n");
    assert!(shutdown_time(&dir, &out) < 10.0, "{out}");
}

/// A leftover that escaped into a session of its own, and whose parent is gone.
const ESCAPES: &str = r#"
    ( setsid sh -c '
        trap "echo term >> \"\$D/log\"; exit 0" TERM
        read -r pid comm state ppid pgrp sid rest < /proc/$$/stat
        [ "$sid" = "$$" ] && touch "$D/own-session"
        echo $$ > "$D/left"
        while [ -d "$D" ]; do sleep 0.05 & wait $!; done' & )
    while [ ! -s "$D/left" ]; do sleep 0.02; done
    exit 4
"#;

both_modes!(
    fn leftovers_that_escaped_with_setsid_get_term(pid1: bool) {
        let dir = TempDir::new();
        let out = sexton(["sh", "-c", ESCAPES]).dir(&dir).as_pid1(pid1).run();
        out.assert_code(4).assert_sexton_quiet();
        assert!(
            dir.exists("own-session"),
            "setsid did not give it a session"
        );
        assert_eq!(dir.read("log"), "term\n", "{out}");
    }
);

#[test]
fn shutdown_spares_processes_outside_its_tree() {
    // Not PID 1: sexton runs below a shell that is PID 1 of a namespace (which contains any
    // mistake, such as a kill(-1)). Its sibling, an unrelated sleep in the same process group,
    // must survive sexton's shutdown; its own leftovers must not.
    let main = r#"
        sh -c 'echo $$ > "$D/left.1"; while [ -d "$D" ]; do sleep 0.05; done' &
        sh -c 'trap "" TERM; echo $$ > "$D/left.2"; while [ -d "$D" ]; do sleep 0.05; done' &
        while [ ! -s "$D/left.1" ] || [ ! -s "$D/left.2" ]; do sleep 0.02; done
        exit 3
    "#;
    let script = r#"
        sleep 60 & u=$!
        "$SEXTON" -t 1 -- sh -c "$MAIN"
        echo "code=$?"
        read -r pid comm state rest < /proc/$u/stat && echo "unrelated=$state"
        kill -0 $u && echo alive
        for f in "$D"/left.*; do
            read -r p < "$f"
            [ -e /proc/$p ] && echo "leftover $p remains"
        done
        kill -9 $u
    "#;
    let dir = TempDir::new();
    let out = util::direct(["sh", "-c", script])
        .env("SEXTON", SEXTON)
        .env("MAIN", main)
        .dir(&dir)
        .in_pid_namespace()
        .run();
    out.assert_code(0);
    assert_kill_warning(&out);
    let text = out.stdout();
    assert!(text.contains("code=3\n"), "{out}");
    assert!(text.contains("alive\n"), "{out}");
    assert!(
        text.contains("unrelated=S") || text.contains("unrelated=R"),
        "{out}"
    );
    assert!(!text.contains("remains"), "{out}");
}

#[test]
fn shutdown_spares_the_launchers_other_children() {
    // The same on the host, without any namespace: the test's own sleep, started before
    // sexton, is no descendant of sexton and must survive. (A sexton that signalled its
    // process group would kill it: it is in the test's group, as sexton is.)
    let unrelated = util::direct(["sleep", "60"]).spawn();
    let pid = unrelated.pid();
    let (_dir, out) = run_with_leftover(&["-t", "0.5"], IGNORES, false);
    out.assert_code(9);
    assert!(
        kit::procfs::is_alive(pid),
        "the unrelated process is {:?}",
        kit::procfs::state(pid)
    );
}

#[test]
fn exit_code_is_commands_even_when_leftovers_are_killed() {
    let dir = TempDir::new();
    let main = r#"sh -c "$LEFT" & while [ ! -s "$D/left" ]; do sleep 0.02; done; kill -USR1 $$"#;
    let out = sexton(["-t", "0.2", "sh", "-c", main])
        .env("LEFT", IGNORES)
        .dir(&dir)
        .run();
    out.assert_code(138);
}
