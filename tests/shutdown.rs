//! Shutdown: once COMMAND exits, whatever it left behind gets SIGTERM, then SIGKILL when the
//! grace period ends; sexton exits (with COMMAND's status) only when all of it is reaped, and
//! never touches a process outside its responsibility.

pub mod util;

use std::time::Duration;

use kit::{TempDir, libc};
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

/// A run of [`MAIN`] with a grace period of 30 s exited 9 with no line from sexton, well
/// before the grace period was over.
fn assert_ended_quietly_within_the_grace_period(dir: &TempDir, out: &Output) {
    out.assert_code(9).assert_sexton_quiet();
    let took = shutdown_time(dir, out);
    assert!(
        took < 10.0,
        "shutdown took {took:.3} s of a 30 s grace period"
    );
}

/// `sh -c SCRIPT`, where the script runs "$SEXTON" on COMMAND "$MAIN" beside processes of its
/// own.
fn script_running_sexton(script: &str, main: &str, dir: &TempDir) -> util::Run {
    util::direct(["sh", "-c", script])
        .env("SEXTON", SEXTON)
        .env("MAIN", main)
        .dir(dir)
}

/// Whether the test is skipped, for want of root to do what `needs` says; says so.
fn not_root(needs: &str) -> bool {
    let skip = !kit::ns::is_root();
    if skip {
        eprintln!("skipped: needs root {needs}");
    }
    skip
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

both_modes!(
    fn a_run_that_leaves_nothing_never_reads_proc(pid1: bool) {
        // With nothing left, the shutdown ends on a waitpid (and, as PID 1, a kill(-1, 0))
        // without proving /proc. Under a filter that fails readlink(2) the proof fails and
        // says so, as it does when something is left.
        let proves = |command: &str| {
            let out = sexton(["-vv", "sh", "-c", command])
                .as_pid1(pid1)
                .refuse_syscall(libc::SYS_readlink, libc::ENOSYS)
                .refuse_syscall(libc::SYS_readlinkat, libc::ENOSYS)
                .run();
            out.assert_code(0);
            out.stderr.contains("not reading /proc")
        };
        assert!(!proves("exit 0"));
        assert!(proves("sleep 0.2 & exit 0"));
    }
);

#[test]
fn leftovers_get_term_as_pid_1() {
    let (dir, out) = run_with_leftover(&[], OBEYS, true);
    out.assert_code(9).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "term\n", "{out}");
}

#[test]
fn leftovers_get_term_as_pid_1_even_with_a_foreign_proc() {
    // /proc names no process of the namespace: kill(-1, …) still reaches them all, and
    // kill(-1, 0) tells when they are gone.
    let dir = TempDir::new();
    let out = sexton(["sh", "-c", MAIN])
        .env("LEFT", OBEYS)
        .dir(&dir)
        .in_pid_namespace_with_foreign_proc()
        .run();
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
fn the_child_of_a_leftover_ignoring_term_gets_term_too() {
    // The child's parent lives on until SIGKILL ends the grace period: the child must be found
    // through it and get SIGTERM, not be found only once orphaned, when SIGKILL is all it
    // gets.
    // (The child starts before its parent ignores SIGTERM: a shell cannot trap a signal that
    // was ignored when it started.)
    let ignores_with_a_child = r#"
        sh -c 'trap "echo child term >> \"\$D/log\"; exit 0" TERM
               echo $$ > "$D/child"; while [ -d "$D" ]; do sleep 0.05 & wait $!; done' &
        while [ ! -s "$D/child" ]; do sleep 0.01; done
        trap '' TERM
        echo $$ > "$D/left"
        while [ -d "$D" ]; do sleep 0.05 & wait $!; done
    "#;
    let (dir, out) = run_with_leftover(&["--grace", "2"], ignores_with_a_child, false);
    out.assert_code(9);
    assert_kill_warning(&out);
    assert_eq!(dir.read("log"), "child term\n", "{out}");
}

both_modes!(
    fn sexton_sleeps_through_the_grace_period(pid1: bool) {
        // Between passes sexton sleeps on the pidfds of what is left, until one exits or the
        // grace period ends: with /proc it never has to look again every 10 ms. The leftover
        // ignores SIGTERM and, unlike IGNORES, starts nothing whose exit would wake sexton.
        let dir = TempDir::new();
        let mut run = sexton(["-t", "3", "sh", "-c", MAIN])
            .env(
                "LEFT",
                r#"trap '' TERM; echo $$ > "$D/left"; exec sleep 1000"#,
            )
            .dir(&dir)
            .as_pid1(pid1)
            .spawn();
        dir.wait_for("exiting");
        let pid = run.sexton_pid();
        let switches = || kit::procfs::context_switches(pid).expect("sexton runs");
        let before = switches();
        // The measurement window itself, not a synchronisation delay: well inside the grace
        // period, in which a sexton looking every 10 ms would wake some 80 times.
        std::thread::sleep(Duration::from_millis(800));
        let woke = switches() - before;
        assert!(
            woke < 20,
            "sexton woke {woke} times in 0.8 s of the grace period"
        );
        run.wait().assert_code(9);
    }
);

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
        assert_ended_quietly_within_the_grace_period(&dir, &out);
        assert_eq!(dir.read("log"), "term\n");
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
    let out = script_running_sexton(script, main, &dir)
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

// ------------------------------------------------------- what holds whatever /proc shows --

/// A leftover that escaped COMMAND's process group into a session of its own, and obeys
/// SIGTERM; its pid goes to "$D/escaped". COMMAND waits for it and exits 3.
const ESCAPED_THEN_EXIT_3: &str = r#"
    setsid sh -c 'echo $$ > "$D/escaped.tmp"; mv "$D/escaped.tmp" "$D/escaped"
                  while [ -d "$D" ]; do sleep 0.05; done' &
    while [ ! -s "$D/escaped" ]; do sleep 0.01; done
    exit 3
"#;

#[test]
fn a_foreign_proc_is_never_trusted() {
    // Not PID 1, in a PID namespace whose /proc is the host's: its pids name other processes
    // than sexton's. Eight unrelated siblings must survive; the leftover in COMMAND's group
    // must still get SIGTERM.
    let main = r#"sleep 1000 & echo $! > "$D/left"; exit 3"#;
    let script = r#"
        i=0; s=
        while [ $i -lt 8 ]; do sleep 300 & s="$s $!"; i=$((i+1)); done
        "$SEXTON" -t 1 -- sh -c "$MAIN"
        echo "code=$?"
        n=0; for p in $s; do kill -0 $p 2>/dev/null && n=$((n+1)); done
        echo "alive=$n"
        read -r left < "$D/left"
        kill -0 $left 2>/dev/null && echo "leftover remains"
        kill -9 $s
    "#;
    let dir = TempDir::new();
    let out = script_running_sexton(script, main, &dir)
        .in_pid_namespace_with_foreign_proc()
        .run();
    out.assert_code(0);
    let text = out.stdout();
    assert!(text.contains("code=3\n"), "{out}");
    assert!(
        text.contains("alive=8\n"),
        "unrelated processes were signalled:\n{out}"
    );
    assert!(!text.contains("remains"), "{out}");
}

/// `python3 -c CLONE_IN_BOTH HOLDER PROGRAM ARGS...`: runs PROGRAM in the PID namespace of
/// HOLDER (a pid of this one) with one pid in both namespaces, through clone3(2)'s `set_tid`
/// (root only). Exits with PROGRAM's status.
const CLONE_IN_BOTH: &str = r#"import ctypes, os, random, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.setns(os.open("/proc/%s/ns/pid" % sys.argv[1], os.O_RDONLY), 0x20000000) != 0:
    sys.exit("setns: " + os.strerror(ctypes.get_errno()))
class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in "flags pidfd child_tid parent_tid "
                "exit_signal stack stack_size tls set_tid set_tid_size cgroup".split()]
pid_max = int(open("/proc/sys/kernel/pid_max").read())
for _ in range(50):
    pid = random.randrange(pid_max // 2, pid_max)
    tids = (ctypes.c_int * 2)(pid, pid)
    args = CloneArgs(exit_signal=signal.SIGCHLD, set_tid=ctypes.addressof(tids), set_tid_size=2)
    child = libc.syscall(435, ctypes.byref(args), ctypes.sizeof(args))
    if child == 0:
        os.execv(sys.argv[2], sys.argv[2:])
    if child > 0:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
sys.exit("clone3: " + os.strerror(ctypes.get_errno()))
"#;

#[test]
fn an_ancestors_proc_is_not_trusted_though_it_names_sextons_pid() {
    // sexton has the same pid in its PID namespace and in the parent one, whose /proc it sees:
    // /proc/self names its pid, and only the NSpid line tells that this /proc is not its own.
    // Trusted, it would look for sexton's children under their pids in the parent namespace;
    // untrusted, COMMAND's process group is signalled, and the leftover gets SIGTERM.
    if not_root("to choose pids with clone3") {
        return;
    }
    let main = r#"
        sh -c 'trap "echo term >> \"\$D/log\"; exit 0" TERM
               echo $$ > "$D/left"; while [ -d "$D" ]; do sleep 0.05 & wait $!; done' &
        while [ ! -s "$D/left" ]; do sleep 0.01; done
        exit 3
    "#;
    let script = r#"
        unshare --pid --fork --kill-child sleep 1000 & u=$!
        until h=$(cat /proc/$u/task/*/children 2>/dev/null) && [ -n "$h" ]; do sleep 0.01; done
        python3 -c "$CLONE" $h "$SEXTON" -t 1 -- sh -c "$MAIN"
        echo "code=$?"
        kill $u
    "#;
    let dir = TempDir::new();
    let out = script_running_sexton(script, main, &dir)
        .env("CLONE", CLONE_IN_BOTH)
        .deadline(Duration::from_secs(15))
        .run();
    out.assert_code(0);
    assert!(out.stdout().contains("code=3\n"), "{out}");
    assert_eq!(
        dir.read("log"),
        "term\n",
        "the leftover did not get SIGTERM:\n{out}"
    );
}

/// `python3 -c HIDDEN NAME`: a process that /proc mounted with `hidepid=2` shows to no one
/// but root, since it is not dumpable (ssh-agent is such a process). It writes its pid to
/// "$D/NAME", logs SIGTERM in "$D/log" and exits on it, and ends once "$D" is gone.
const HIDDEN: &str = r#"import ctypes, os, signal, sys, time
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
d = os.environ["D"]
def term(*_):
    open(d + "/log", "a").write("term\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
open(d + "/" + sys.argv[1], "w").write("%d\n" % os.getpid())
while os.path.isdir(d): time.sleep(0.05)
"#;

/// Shell lines that let a user other than root run sexton from "$D/sexton" and write in "$D",
/// and set `$as_nobody` to the command prefix that runs a program as that user.
const AS_NOBODY: &str = r#"
    cp "$SEXTON" "$D/sexton" && chmod 755 "$D/sexton" && chmod 777 "$D" || exit 99
    as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
"#;

#[test]
fn as_pid_1_a_process_hidden_by_hidepid_still_gets_term() {
    // A process that entered the namespace from outside (nsenter) is no descendant of
    // sexton's, and /proc does not show it to sexton; kill(-1, 0) still finds it, so it must
    // get SIGTERM.
    if not_root("to mount /proc with hidepid and enter the namespace") {
        return;
    }
    let main = r#"
        : > "$D/ready"
        while [ ! -s "$D/hidden" ]; do sleep 0.01; done
        read -r p < "$D/hidden"
        [ -e /proc/$p ] && echo "hidden process visible"
        exit 3
    "#;
    let script = format!(
        "{AS_NOBODY}{}",
        r#"
        unshare --pid --fork --mount --kill-child sh -c '
            mount -t proc -o hidepid=2 proc /proc || exit 99
            exec '"$as_nobody"' "$D/sexton" -t 5 -- sh -c "$MAIN"' & u=$!
        until [ -e "$D/ready" ]; do kill -0 $u 2>/dev/null || exit 98; sleep 0.01; done
        s=$(cat /proc/$u/task/*/children)
        nsenter --target $s --pid $as_nobody /usr/bin/python3 -c "$HIDDEN" hidden & n=$!
        wait $u
        echo "code=$?"
        kill -9 $n 2>/dev/null
        exit 0
    "#
    );
    let dir = TempDir::new();
    let out = script_running_sexton(&script, main, &dir)
        .env("HIDDEN", HIDDEN)
        .deadline(Duration::from_secs(15))
        .run();
    out.assert_code(0);
    let text = out.stdout();
    assert!(text.contains("code=3\n"), "{out}");
    assert!(!text.contains("visible"), "hidepid did not hide it:\n{out}");
    assert_eq!(
        dir.read("log"),
        "term\n",
        "the hidden process did not get SIGTERM:\n{out}"
    );
}

#[test]
fn a_leftover_whose_name_is_not_utf8_is_shut_down() {
    // The kernel cuts the name at 15 bytes, in the middle of a character.
    let main = r#"
        cp "$(command -v sleep)" "$D/a-データベース"
        setsid sh -c 'echo $$ > "$D/left"; exec "$D/a-データベース" 1000' &
        while [ ! -s "$D/left" ]; do sleep 0.01; done
        read -r p < "$D/left"
        until read -r c < /proc/$p/comm && [ "$c" != sh ]; do sleep 0.01; done
        exit 3
    "#;
    let dir = TempDir::new();
    let out = sexton(["-t", "1", "sh", "-c", main])
        .dir(&dir)
        .deadline(Duration::from_secs(15))
        .run();
    out.assert_code(3).assert_sexton_quiet();
    let left = dir.wait_for_pid("left");
    assert!(gone(left), "the leftover is {:?}", kit::procfs::state(left));
}

#[test]
fn without_a_usable_proc_sexton_ends_and_says_what_it_left() {
    // An empty /proc (a tmpfs over it): the leftover in COMMAND's group still gets SIGTERM,
    // the one that escaped the group cannot be found; sexton says so once and exits with
    // COMMAND's status one second after the grace period, not never.
    let main = format!(r#"sleep 1000 & echo $! > "$D/left"; {ESCAPED_THEN_EXIT_3}"#);
    let dir = TempDir::new();
    let out = util::direct(kit::ns::unshare_argv_with(&["--mount"]))
        .args([
            "sh",
            "-c",
            r#"mount -t tmpfs none /proc && exec "$SEXTON" -t 1 -- sh -c "$MAIN""#,
        ])
        .env("SEXTON", SEXTON)
        .env("MAIN", &main)
        .dir(&dir)
        .deadline(Duration::from_secs(15))
        .run();
    let escaped = dir.wait_for_pid("escaped");
    let still_there = kit::procfs::is_alive(escaped);
    kit::send(escaped, libc::SIGKILL);
    out.assert_code(3)
        .assert_one_error_line(&["warn", "leaving", "process group", "/proc"]);
    assert!(
        still_there,
        "the escaped leftover was found after all:\n{out}"
    );
    let left = dir.wait_for_pid("left");
    assert!(gone(left), "COMMAND's group was not signalled:\n{out}");
    assert!(!out.stderr.contains("sent SIGKILL"), "{out}");
}

#[test]
fn a_fork_chain_cannot_escape_the_kill() {
    // Each generation ignores SIGTERM, starts the next and exits: a single scan of /proc
    // always finds one that has already handed over. Three chains, fifteen runs.
    let chain = r#"trap '' TERM; [ -d "$D" ] && sh -c "$CHAIN" & exit 0"#;
    let main = r#"
        for i in 1 2 3; do sh -c "$CHAIN" & done
        sleep 0.2
        exit 3
    "#;
    for run in 0..15 {
        let dir = TempDir::new();
        let out = sexton(["-t", "0", "sh", "-c", main])
            .env("CHAIN", chain)
            .dir(&dir)
            .deadline(Duration::from_secs(15))
            .run();
        out.assert_code(3);
        assert!(!out.stderr.contains("leaving"), "run {run}:\n{out}");
    }
}

#[test]
fn a_seccomp_filter_refusing_pidfds_does_not_stop_the_shutdown() {
    // Refused sends (EPERM from a profile, ENOSYS from an older one) and refused pidfds fall
    // back to kill(2), after the parent is checked again.
    for (syscall, errno) in [
        (libc::SYS_pidfd_send_signal, libc::EPERM),
        (libc::SYS_pidfd_send_signal, libc::ENOSYS),
        (libc::SYS_pidfd_open, libc::EPERM),
    ] {
        let dir = TempDir::new();
        let out = sexton(["-t", "1", "sh", "-c", ESCAPED_THEN_EXIT_3])
            .dir(&dir)
            .refuse_syscall(syscall, errno)
            .deadline(Duration::from_secs(15))
            .run();
        out.assert_code(3).assert_sexton_quiet();
        let escaped = dir.wait_for_pid("escaped");
        assert!(
            gone(escaped),
            "{syscall} {errno}: the leftover is {:?}",
            kit::procfs::state(escaped)
        );
    }
}

#[test]
fn the_fall_back_to_kill_is_said_once() {
    // Without pidfds every pass signals with kill(2); sexton says so at debug level, once.
    let dir = TempDir::new();
    let out = sexton(["-vv", "-t", "1", "sh", "-c", ESCAPED_THEN_EXIT_3])
        .dir(&dir)
        .refuse_syscall(libc::SYS_pidfd_open, libc::EPERM)
        .run();
    out.assert_code(3);
    let said = out.stderr.matches("signalling with kill(2)").count();
    assert_eq!(said, 1, "{out}");
}

#[test]
fn an_empty_grace_variable_is_the_default() {
    sexton(["sh", "-c", "exit 3"])
        .env("SEXTON_GRACE", "")
        .run()
        .assert_code(3)
        .assert_quiet();
}

#[test]
fn a_leftover_hidden_by_hidepid_is_still_shut_down() {
    // A non-root sexton under `hidepid=2` cannot see a non-dumpable process of its own user in
    // /proc; once orphaned, it is still sexton's child.
    if not_root("to mount /proc with hidepid and drop to another user") {
        return;
    }
    let main = r#"
        setsid /usr/bin/python3 -c "$HIDDEN" left &
        while [ ! -s "$D/left" ]; do sleep 0.01; done
        read -r p < "$D/left"
        [ -e /proc/$p ] && echo "leftover visible"
        exit 3
    "#;
    let script = format!(
        "mount -t proc -o hidepid=2 proc /proc || exit 99{AS_NOBODY}{}",
        r#"
        $as_nobody "$D/sexton" -t 1 -- sh -c "$MAIN"
        echo "code=$?"
        read -r p < "$D/left"
        kill -0 $p 2>/dev/null && { echo "leftover remains"; kill -9 $p; }
        exit 0
    "#
    );
    let dir = TempDir::new();
    let out = util::direct(["unshare", "--pid", "--fork", "--mount", "--kill-child"])
        .args(["sh", "-c", &script])
        .env("SEXTON", SEXTON)
        .env("MAIN", main)
        .env("HIDDEN", HIDDEN)
        .dir(&dir)
        .deadline(Duration::from_secs(15))
        .run();
    out.assert_code(0);
    let text = out.stdout();
    assert!(text.contains("code=3\n"), "{out}");
    assert!(
        !text.contains("visible"),
        "hidepid did not hide the leftover:\n{out}"
    );
    assert!(!text.contains("remains"), "{out}");
}

#[test]
fn a_leftover_killed_in_the_shutdown_is_reported_in_words() {
    let (_dir, out) = run_with_leftover(&["-w", "-t", "0"], IGNORES, false);
    out.assert_code(9);
    assert!(
        out.stderr.contains(", which was killed by SIGKILL\n"),
        "{out}"
    );
}

/// A leftover whose own shutdown starts a helper and exits: the helper is new in the grace
/// period. (It starts with SIGTERM's default action: a copy of the shell with the trap would
/// take the one SIGTERM and then exec the helper.)
const OBEYS_WITH_A_HELPER: &str = r#"
    helper='while [ -d "$D" ]; do sleep 0.05 & wait $!; done'
    trap 'trap - TERM; sh -c "$helper" & exit 0' TERM
    echo $$ > "$D/left"
    while [ -d "$D" ]; do sleep 0.05 & wait $!; done
"#;

both_modes!(
    fn a_process_started_in_the_grace_period_gets_term_too(pid1: bool) {
        // The helper must get SIGTERM then, not SIGKILL 30 s later.
        let (dir, out) = run_with_leftover(&["-t", "30"], OBEYS_WITH_A_HELPER, pid1);
        assert_ended_quietly_within_the_grace_period(&dir, &out);
    }
);

#[test]
fn with_too_few_descriptors_for_pidfds_sexton_keeps_looking() {
    // Under a low descriptor limit most leftovers get no pidfd (EMFILE), so no pidfd tells
    // of what happens to them: sexton must look again every 10 ms, not sleep until the end of
    // the grace period. A process started meanwhile by a leftover must get SIGTERM then.
    let main = r#"
        i=0
        while [ $i -lt 16 ]; do sh -c 'trap "" TERM; exec sleep 1000' & i=$((i + 1)); done
        python3 -c "$LATE_PY" &
        while [ ! -e "$D/waiting" ]; do sleep 0.01; done
        touch "$D/exiting"
        exit 3
    "#;
    // A leftover that ignores SIGTERM and, half a second into the grace period, starts one
    // that logs it, with SIGTERM blocked until its handler is there: sexton, looking every
    // 10 ms, may find it at once.
    let late = r#"import os, signal, subprocess, sys, time
d = os.environ["D"]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(d + "/waiting", "w").close()
while not os.path.exists(d + "/exiting"): time.sleep(0.01)
time.sleep(0.5)
def blocked():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
subprocess.Popen([sys.executable, "-c", os.environ["LOGS_TERM"]], preexec_fn=blocked)
while os.path.isdir(d): time.sleep(0.05)
"#;
    let logs_term = r#"import os, signal, sys, time
d = os.environ["D"]
def term(*_):
    open(d + "/log", "a").write("late term\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
while os.path.isdir(d): time.sleep(0.05)
"#;
    let dir = TempDir::new();
    let out = util::direct([
        "sh",
        "-c",
        r#"ulimit -n 16 && exec "$SEXTON" -t 3 -- sh -c "$MAIN""#,
    ])
    .env("SEXTON", SEXTON)
    .env("MAIN", main)
    .env("LATE_PY", late)
    .env("LOGS_TERM", logs_term)
    .dir(&dir)
    .run();
    out.assert_code(3);
    assert_eq!(dir.read("log"), "late term\n", "{out}");
}

#[test]
fn as_pid_1_a_leftover_gets_sigterm_once() {
    // The first pass reaches the whole namespace with kill(-1, SIGTERM); the later passes of
    // the grace period (woken here by the exits of the leftover's own children) send SIGTERM
    // only to processes new since, not to the namespace again.
    let traps_and_stays = r#"
        trap 'echo term >> "$D/log"' TERM
        echo $$ > "$D/left"
        while [ -d "$D" ]; do sleep 0.05 & wait $!; done
    "#;
    let (dir, out) = run_with_leftover(&["-t", "1"], traps_and_stays, true);
    out.assert_code(9);
    assert_eq!(dir.read("log"), "term\n", "{out}");
}

/// The rest of a [`util::seccomp_hold`] script, run as PID 1 of a PID namespace, `HOLD_PIDFD
/// SEXTON ARGS...`: holds sexton's pidfd_open(2) of the process whose pid COMMAND wrote to
/// "$D/g", and meanwhile gives that pid to an unrelated process (a child of this script's,
/// through ns_last_pid) that logs SIGTERM. Prints whether the pid was used again, sexton's
/// exit code, and what the unrelated process got.
const HOLD_PIDFD: &str = r#"
d = os.environ["D"]
sexton, listener = launch(int(os.environ["SYS_PIDFD_OPEN"]), sys.argv[1:])
while not (os.path.exists(d + "/g") and open(d + "/g").read().strip()): time.sleep(0.01)
g = int(open(d + "/g").read())
unrelated = None
def each(caller, args):
    global unrelated
    if args[0] == g and unrelated is None:
        os.kill(g, signal.SIGKILL)
        while os.path.exists("/proc/%d" % g): time.sleep(0.01)
        signal.signal(signal.SIGTERM, lambda *_: (open(d + "/log", "a").write("unrelated term\n"), os._exit(0)))
        open("/proc/sys/kernel/ns_last_pid", "w").write(str(g - 1))
        unrelated = os.fork()
        if unrelated == 0:
            while os.path.isdir(d): time.sleep(0.05)
            os._exit(0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        print("reused" if unrelated == g else "not reused: %d" % unrelated)
serve(listener, sexton, each)
print("done")
if unrelated:
    os.kill(unrelated, signal.SIGKILL)
"#;

#[test]
fn a_pid_that_changed_hands_after_the_look_is_not_signalled() {
    // Between the look that finds a leftover's child and the pidfd that pins it, the child
    // dies and its pid goes to a process outside sexton's tree. The pidfd then pins that
    // process: the parent, read again, shows it is not sexton's, and it must not be signalled.
    let main = r#"
        sh -c 'trap "" TERM
               sh -c "echo \$\$ > \"\$D/g\"; exec sleep 1000" &
               wait; exec sleep 1000' &
        while [ ! -s "$D/g" ]; do sleep 0.01; done
        exit 3
    "#;
    let dir = TempDir::new();
    let out = util::seccomp_hold(HOLD_PIDFD, [SEXTON, "-t", "1", "--", "sh", "-c", main])
        .dir(&dir)
        .in_pid_namespace()
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(0);
    assert_eq!(out.stdout(), "reused\ndone\n", "{out}");
    assert_eq!(
        dir.read("log"),
        "",
        "the unrelated process was signalled:\n{out}"
    );
}

#[test]
fn only_the_first_sigterm_is_said_at_info_level() {
    // What later passes send to processes new in the grace period is said at debug level.
    let (_dir, out) = run_with_leftover(&["-v", "-t", "30"], OBEYS_WITH_A_HELPER, false);
    out.assert_code(9);
    let said: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("sent SIGTERM"))
        .collect();
    assert!(
        said.len() == 1 && said[0].ends_with("SIGKILL in 30s"),
        "expected the first pass's line alone:\n{out}"
    );
}

#[test]
fn what_is_left_behind_is_named_by_ten_pids_at_most() {
    // A seccomp profile that refuses every way of signalling leaves the leftovers running;
    // the warning names ten of them, then "...".
    let main = r#"
        i=0
        while [ $i -lt "$N" ]; do python3 -c "$WAIT" & i=$((i + 1)); done
        exit 3
    "#;
    let wait = "import os, time\nwhile os.path.isdir(os.environ['D']): time.sleep(0.05)";
    for (n, more) in [(10, ""), (11, " ...")] {
        let dir = TempDir::new();
        let out = sexton(["-t", "0", "sh", "-c", main])
            .env("N", n.to_string())
            .env("WAIT", wait)
            .dir(&dir)
            .refuse_syscall(libc::SYS_kill, libc::EPERM)
            .refuse_syscall(libc::SYS_pidfd_send_signal, libc::EPERM)
            .run();
        out.assert_code(3);
        let named = out
            .stderr
            .split_once(&format!("leaving {n} leftover processes (pid "))
            .and_then(|(_, rest)| rest.split_once(") behind"))
            .map(|(pids, _)| pids)
            .unwrap_or_else(|| panic!("no warning naming {n} leftovers:\n{out}"));
        let (pids, tail) = named.split_at(named.len() - more.len());
        assert_eq!(tail, more, "{out}");
        assert_eq!(pids.split(' ').count(), 10, "{out}");
    }
}

#[test]
fn a_pid_used_again_in_the_grace_period_is_a_new_process() {
    // A leftover that had SIGTERM exits; its pid goes to a new process during the grace period
    // (through ns_last_pid, with sexton PID 1). The new process must get SIGTERM too, not be
    // taken for the one that already had it. The leftover's handler starts a helper, which
    // sexton finds new once the leftover has gone; the helper's own handler starts the new
    // process under the old pid, and exits once that one is ready. Each starts with SIGTERM
    // blocked, so one sent before its handler is there waits for it. A bystander that ignores
    // SIGTERM lives on until the new process has had SIGTERM: the look that finds the new
    // process must forget the old pid because that pid is not among what it finds, which a
    // look that finds the new process alone could not tell.
    let bystander = r#"import os, signal, time
d = os.environ["D"]
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(d + "/bystander", "w").write("ready\n")
while os.path.isdir(d) and not os.path.exists(d + "/log"): time.sleep(0.05)
"#;
    let left = r#"import os, signal, sys, time
d = os.environ["D"]
def term(*_):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    os.environ["P"] = str(os.getpid())
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", os.environ["HELPER"]])
    os._exit(0)
signal.signal(signal.SIGTERM, term)
open(d + "/left", "w").write("%d\n" % os.getpid())
while os.path.isdir(d): time.sleep(0.05)
"#;
    let helper = r#"import os, signal, sys, time
d = os.environ["D"]
def term(*_):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    open("/proc/sys/kernel/ns_last_pid", "w").write(str(int(os.environ["P"]) - 1))
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", os.environ["AGAIN"]])
    while not os.path.exists(d + "/again"): time.sleep(0.01)
    os._exit(0)
signal.signal(signal.SIGTERM, term)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
while os.path.isdir(d): time.sleep(0.05)
"#;
    let again = r#"import os, signal, time
d = os.environ["D"]
def term(*_):
    open(d + "/log", "a").write("again term\n")
    os._exit(0)
signal.signal(signal.SIGTERM, term)
open(d + "/again", "w").write("%d\n" % os.getpid())
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
while os.path.isdir(d): time.sleep(0.05)
"#;
    let dir = TempDir::new();
    let out = sexton(["-t", "5", "sh", "-c", MAIN])
        .env(
            "LEFT",
            r#"python3 -c "$BYSTANDER" &
               while [ ! -s "$D/bystander" ]; do sleep 0.01; done
               exec python3 -c "$LEFT_PY""#,
        )
        .env("BYSTANDER", bystander)
        .env("LEFT_PY", left)
        .env("HELPER", helper)
        .env("AGAIN", again)
        .dir(&dir)
        .in_pid_namespace()
        .run();
    out.assert_code(9);
    assert_eq!(
        dir.read("again"),
        dir.read("left"),
        "the pid was not used again:\n{out}"
    );
    assert_eq!(dir.read("log"), "again term\n", "{out}");
}

#[test]
fn without_proc_an_emptied_process_group_is_never_signalled_again() {
    // Without /proc sexton signals COMMAND's process group. Once the group is empty its id
    // can go to an unrelated group, which the SIGKILL at the end of the grace period must
    // spare. The pid is handed out again through ns_last_pid.
    if not_root("to set ns_last_pid") {
        return;
    }
    let main = r#"
        echo $$ > "$D/group"
        sleep 1000 & echo $! > "$D/member"
        setsid sh -c 'trap "" TERM; echo $$ > "$D/escaped"; exec sleep 1000' &
        while [ ! -s "$D/escaped" ]; do sleep 0.01; done
        exit 3
    "#;
    let script = r#"
        unshare --mount sh -c 'mount -t tmpfs none /proc && exec "$SEXTON" -vv -t 3 -- sh -c "$MAIN"' 2> "$D/err" &
        s=$!
        until [ -s "$D/member" ] && [ -s "$D/escaped" ]; do sleep 0.01; done
        read -r g < "$D/group"; read -r m < "$D/member"
        # The member dies of SIGTERM and sexton reaps it; give sexton up to a second to notice.
        while [ -e /proc/$m ]; do sleep 0.01; done
        n=0; until grep -q "group $g is empty" "$D/err" || [ $n -gt 100 ]; do sleep 0.01; n=$((n+1)); done
        echo $((g - 1)) > /proc/sys/kernel/ns_last_pid
        setsid sleep 300 & u=$!
        [ "$u" = "$g" ] && echo reused
        wait $s; echo "code=$?"
        read -r pid comm state rest < /proc/$u/stat && echo "unrelated=$state"
        read -r e < "$D/escaped"; kill -9 $e $u 2>/dev/null; exit 0
    "#;
    let dir = TempDir::new();
    let out = script_running_sexton(script, main, &dir)
        .in_pid_namespace()
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(0);
    let text = out.stdout();
    assert!(
        text.contains("reused\n"),
        "the group's id was not reused:\n{out}"
    );
    assert!(text.contains("code=3\n"), "{out}");
    assert!(
        text.contains("unrelated=S"),
        "the unrelated group was signalled:\n{out}\n--- sexton:\n{}",
        dir.read("err")
    );
}
