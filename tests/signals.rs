//! Signal forwarding: what sexton receives goes to COMMAND's whole process group (or to
//! COMMAND alone with -c), rewritten by -r, and nothing sent at start-up is lost.

pub mod util;

use std::time::Duration;

use kit::TempDir;
use kit::libc::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use util::sexton;

/// The group member: a second shell in COMMAND's process group (run in the foreground of
/// the first, so that even SIGINT is not ignored in it) that logs signal $S and exits 0.
const MEMBER: &str = r#"
    trap 'echo member >> "$D/log"; exit 0' "$S"
    touch "$D/ready"
    while :; do sleep 0.05 & wait $!; done
"#;

/// COMMAND: logs signal $S and exits 42, once its member has exited.
const MAIN: &str = r#"
    trap 'echo main >> "$D/log"; exit 42' "$S"
    sh -c "$MEMBER"
    while :; do sleep 0.05 & wait $!; done
"#;

fn forwarded_to_the_group(sig: i32) {
    let dir = TempDir::new();
    let mut run = sexton(["sh", "-c", MAIN])
        .env("MEMBER", MEMBER)
        .env("S", sig.to_string())
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    run.signal(sig);
    let out = run.wait();
    out.assert_code(42).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "member\nmain\n", "signal {sig}:\n{out}");
}

#[test]
fn term_is_forwarded_to_the_group() {
    forwarded_to_the_group(SIGTERM);
}

#[test]
fn usr1_is_forwarded_to_the_group() {
    forwarded_to_the_group(SIGUSR1);
}

#[test]
fn hup_is_forwarded_to_the_group() {
    forwarded_to_the_group(SIGHUP);
}

#[test]
fn int_is_forwarded_to_the_group() {
    forwarded_to_the_group(SIGINT);
}

#[test]
fn winch_is_forwarded_to_the_group() {
    forwarded_to_the_group(SIGWINCH);
}

#[test]
fn a_realtime_signal_is_forwarded_to_the_group() {
    forwarded_to_the_group(kit::sigrtmin() + 1);
}

#[test]
fn term_reaches_a_background_member() {
    // A real background job (`&`) of COMMAND. COMMAND's trap waits (briefly) for the member's
    // marker, so the marker proves the forwarded signal reached it, not the shutdown's TERM.
    let dir = TempDir::new();
    let script = r#"
        trap 'i=0
              while [ ! -e "$D/member" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
              [ -e "$D/member" ] && echo member-first >> "$D/log"
              exit 42' TERM
        sh -c 'trap "touch \"\$D/member\"; exit 0" TERM; touch "$D/ready"; while :; do sleep 0.05 & wait $!; done' &
        while :; do sleep 0.05 & wait $!; done
    "#;
    let mut run = sexton(["sh", "-c", script]).dir(&dir).spawn();
    dir.wait_for("ready");
    run.signal(SIGTERM);
    run.wait().assert_code(42).assert_sexton_quiet();
    assert_eq!(dir.read("log"), "member-first\n");
}

/// For -c: COMMAND logs USR1 and goes on; its background member logs USR1 and USR2 and
/// exits on USR2.
const SINGLE: &str = r#"
    trap 'echo main-usr1 >> "$D/log"' USR1
    sh -c 'trap "echo member-usr1 >> \"\$D/log\"" USR1
           trap "echo member-usr2 >> \"\$D/log\"; exit 0" USR2
           echo $$ > "$D/member"
           while :; do sleep 0.05 & wait $!; done' &
    while :; do sleep 0.05 & wait $!; done
"#;

/// Sends USR1 to sexton, then (once COMMAND has logged it) USR2 straight to the member. The
/// member's shell runs pending traps lowest signal first, so had the USR1 reached it, it
/// would be logged before its USR2. Returns the member's lines of the log.
fn member_sees(single_child: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let dir = TempDir::new();
    let mut run = sexton(single_child)
        .args(["sh", "-c", SINGLE])
        .envs(env)
        .dir(&dir)
        .spawn();
    let member = dir.wait_for_pid("member");
    run.signal(SIGUSR1);
    dir.wait_for_text("log", "main-usr1");
    assert!(kit::send(member, SIGUSR2));
    let log = dir.wait_for_text("log", "member-usr2");
    run.signal(SIGTERM);
    run.wait().assert_code(143).assert_sexton_quiet();
    log.lines()
        .filter(|l| l.starts_with("member"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn single_child_spares_the_rest_of_the_group() {
    assert_eq!(member_sees(&["-c"], &[]), ["member-usr2"]);
    assert_eq!(member_sees(&["--single-child"], &[]), ["member-usr2"]);
    assert_eq!(
        member_sees(&[], &[("SEXTON_SINGLE_CHILD", "1")]),
        ["member-usr2"]
    );
}

#[test]
fn without_single_child_the_whole_group_gets_it() {
    assert_eq!(member_sees(&[], &[]), ["member-usr1", "member-usr2"]);
    assert_eq!(
        member_sees(&[], &[("SEXTON_SINGLE_CHILD", "0")]),
        ["member-usr1", "member-usr2"]
    );
}

/// COMMAND for the -r tests: logs TERM, USR1, $RT and $RT3 by name, exits on none of them.
const LOGS_SIGNALS: &str = r#"
    trap 'echo term >> "$D/log"' TERM
    trap 'echo usr1 >> "$D/log"' USR1
    trap 'echo rt >> "$D/log"' "$RT"
    trap 'echo rt3 >> "$D/log"' "$RT3"
    touch "$D/ready"
    while :; do sleep 0.05 & wait $!; done
"#;

/// Runs LOGS_SIGNALS under `sexton OPTIONS`, sends TERM and then SIGRTMIN+2 to sexton, and
/// once COMMAND has logged "rt", SIGRTMIN+3, which it logs as "rt3". By then sexton is long
/// done with TERM, and COMMAND runs pending traps lowest signal first, so whatever TERM
/// became is in the log. Returns the log without the "rt" and "rt3" lines.
fn term_becomes(options: &[&str], env: &[(&str, &str)]) -> String {
    let dir = TempDir::new();
    let rt = kit::sigrtmin() + 2;
    let mut run = sexton(options)
        .args(["sh", "-c", LOGS_SIGNALS])
        .env("RT", rt.to_string())
        .env("RT3", (rt + 1).to_string())
        .envs(env)
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    run.signal(SIGTERM);
    run.signal(rt);
    dir.wait_for_text("log", "rt\n");
    run.signal(rt + 1);
    let log = dir.wait_for_text("log", "rt3\n");
    assert!(run.try_wait().is_none(), "COMMAND ended on its own: {log}");
    // SIGINT is forwarded as itself and not trapped: COMMAND dies of it.
    run.signal(SIGINT);
    run.wait().assert_code(130).assert_sexton_quiet();
    log.lines()
        .filter(|l| !l.starts_with("rt"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn rewrite_term_to_usr1() {
    assert_eq!(term_becomes(&[], &[]), "term\n");
    assert_eq!(term_becomes(&["-r", "TERM:USR1"], &[]), "usr1\n");
    assert_eq!(
        term_becomes(&["--rewrite", "SIGTERM:SIGUSR1"], &[]),
        "usr1\n"
    );
    assert_eq!(term_becomes(&["-r", "15:10"], &[]), "usr1\n");
    assert_eq!(
        term_becomes(&[], &[("SEXTON_REWRITE", "TERM:USR1")]),
        "usr1\n"
    );
}

#[test]
fn rewrite_to_zero_drops_the_signal() {
    assert_eq!(term_becomes(&["-r", "TERM:0"], &[]), "");
    assert_eq!(term_becomes(&["-r", "15:0"], &[]), "");
    assert_eq!(term_becomes(&[], &[("SEXTON_REWRITE", "TERM:0")]), "");
}

#[test]
fn rewrite_rules_combine_and_the_last_wins() {
    assert_eq!(
        term_becomes(&["-r", "TERM:0", "-r", "TERM:USR1"], &[]),
        "usr1\n"
    );
    assert_eq!(term_becomes(&["-r", "HUP:0,TERM:USR1"], &[]), "usr1\n");
}

/// A signal dropped by a rule is still taken: a realtime one must not pile up in sexton's
/// queue, and COMMAND never sees it (it would kill the shell).
#[test]
fn dropped_signals_are_taken_not_left_pending() {
    let dir = TempDir::new();
    let rt = kit::sigrtmin() + 2;
    let rule = format!("{rt}:0");
    let script = r#"touch "$D/ready"; while :; do sleep 0.05 & wait $!; done"#;
    let mut run = sexton(["-r", &rule, "sh", "-c", script]).dir(&dir).spawn();
    dir.wait_for("ready");
    let pid = run.sexton_pid();
    for _ in 0..100 {
        run.signal(rt);
    }
    let taken = kit::wait::poll(Duration::from_secs(10), || {
        !kit::procfs::has_signal(kit::procfs::signal_set(pid, "ShdPnd"), rt)
    });
    assert!(taken, "SIGRTMIN+2 left pending at sexton");
    run.signal(SIGTERM);
    run.wait().assert_code(143).assert_sexton_quiet();
}

/// Signals sent to sexton one after the other reach COMMAND in that order. (TERM before
/// SIGRTMIN+2: were both pending at once, the kernel too would deliver TERM first.) The
/// forwarder must send each on before it takes the next.
#[test]
fn forwarding_keeps_the_order_of_signals() {
    let dir = TempDir::new();
    let rt = kit::sigrtmin() + 2;
    let script = r#"
        trap 'echo term >> "$D/log"' TERM
        trap 'echo rt >> "$D/log"' "$RT"
        touch "$D/ready"
        while :; do sleep 0.05 & wait $!; done
    "#;
    let mut run = sexton(["sh", "-c", script])
        .env("RT", rt.to_string())
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    let mut inverted = 0;
    for round in 1..=50 {
        run.signal(SIGTERM);
        run.signal(rt);
        let mut log = String::new();
        kit::wait::until("both signals to be logged", || {
            log = dir.read("log");
            log.lines().count() == 2 * round
        });
        let last: Vec<&str> = log.lines().skip(2 * round - 2).collect();
        if last != ["term", "rt"] {
            inverted += 1;
        }
    }
    run.signal(SIGINT);
    run.wait().assert_code(130);
    assert_eq!(
        inverted, 0,
        "SIGRTMIN+2 overtook SIGTERM in {inverted} of 50 rounds"
    );
}

/// Starts `sexton COMMAND` and signals it at once, again and again: however early the
/// signal lands, it is either forwarded (COMMAND dies of it: 143) or it kills sexton before
/// sexton has set anything up, and so before COMMAND exists. Never lost, never a hang, never
/// a COMMAND left running. Once sexton has blocked it, it must be forwarded.
#[test]
fn a_signal_at_start_up_is_not_lost() {
    let dir = TempDir::new();
    let script = r#"echo $$ > "$D/pid.$1"; while :; do sleep 0.05; done"#;
    let mut forwarded = 0;
    for i in 0..40 {
        let mut run = sexton(["sh", "-c", script, "sh", &i.to_string()])
            .dir(&dir)
            .spawn();
        let pid = run.pid();
        if i % 2 == 1 {
            // Every other run, aim just past sexton's first step (the signal is blocked from
            // then on) and so before COMMAND exists, most of the time.
            kit::wait::spin_for_some(format_args!("run {i}: sexton to block SIGTERM"), || {
                kit::procfs::blocks(pid, SIGTERM).then_some(())
            });
        }
        assert!(kit::send(pid, SIGTERM));
        let out = run.wait();
        use std::os::unix::process::ExitStatusExt;
        match (out.status.code(), out.status.signal()) {
            (Some(143), _) => forwarded += 1,
            (None, Some(SIGTERM)) if i % 2 == 0 => {
                assert!(
                    !dir.exists(&format!("pid.{i}")),
                    "sexton died but COMMAND ran:\n{out}"
                )
            }
            _ => panic!("run {i}:\n{out}"),
        }
        // The file may be there but empty: the shell died between creating and writing it.
        if let Ok(pid) = dir.read(&format!("pid.{i}")).trim().parse() {
            // The pid may have gone to another process since: COMMAND is the one running
            // this test's script.
            let script = script.as_bytes();
            let ours = kit::procfs::is_alive(pid)
                && kit::procfs::cmdline(pid)
                    .windows(script.len())
                    .any(|window| window == script);
            if ours {
                kit::send(pid, kit::libc::SIGKILL);
            }
            assert!(!ours, "run {i}: COMMAND (pid {pid}) outlived sexton");
        }
    }
    eprintln!("{forwarded} of 40 signals were forwarded, the rest came before sexton's set-up");
}

/// The same as PID 1 of a PID namespace. There the kernel drops a signal whose action is the
/// default, so the signal is sent as soon as sexton has blocked it (its very first step; the
/// test spins on /proc to see it), which is mostly before COMMAND exists.
#[test]
fn a_signal_at_start_up_is_not_lost_as_pid_1() {
    let mut early = 0;
    for i in 0..30 {
        let mut run = sexton(["sh", "-c", "while :; do sleep 0.05; done"])
            .in_pid_namespace()
            .spawn();
        let unshare = run.pid();
        let sexton =
            kit::wait::spin_for_some(format_args!("run {i}: sexton to block SIGTERM"), || {
                kit::procfs::child_named(unshare, "sexton")
                    .filter(|&pid| kit::procfs::blocks(pid, SIGTERM))
            });
        assert!(kit::send(sexton, SIGTERM));
        if kit::procfs::children(sexton).is_empty() {
            early += 1;
        }
        run.wait().assert_code(143).assert_sexton_quiet();
    }
    eprintln!("{early} of 30 signals arrived before sexton had started COMMAND");
}

#[test]
fn signals_in_a_burst_all_arrive() {
    // Different standard signals sent back to back are each forwarded once.
    let dir = TempDir::new();
    let script = r#"
        for s in HUP USR1 USR2 WINCH; do trap "echo $s >> \"\$D/log\"" $s; done
        trap 'echo TERM >> "$D/log"; exit 3' TERM
        touch "$D/ready"
        while :; do sleep 0.05 & wait $!; done
    "#;
    let mut run = sexton(["-c", "sh", "-c", script]).dir(&dir).spawn();
    dir.wait_for("ready");
    for sig in [SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH] {
        run.signal(sig);
    }
    let log = dir.wait_for_text("log", "WINCH");
    run.signal(SIGTERM);
    run.wait().assert_code(3).assert_sexton_quiet();
    let mut seen: Vec<&str> = log.lines().collect();
    seen.sort();
    assert_eq!(seen, ["HUP", "USR1", "USR2", "WINCH"]);
}

/// With -vv sexton says what it forwarded each signal as.
#[test]
fn the_debug_log_names_each_signal_as_forwarded() {
    let dir = TempDir::new();
    let script = r#"trap 'echo usr1 >> "$D/log"' USR1; touch "$D/ready"; while :; do sleep 0.05 & wait $!; done"#;
    let mut run = sexton(["-vv", "-r", "TERM:USR1", "sh", "-c", script])
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    run.signal(SIGTERM);
    dir.wait_for_text("log", "usr1\n");
    run.signal(SIGINT);
    let out = run.wait();
    out.assert_code(130);
    assert!(
        out.stderr.contains("forwarded SIGTERM as SIGUSR1\n"),
        "{out}"
    );
    assert!(out.stderr.contains("forwarded SIGINT\n"), "{out}");
}

/// Once COMMAND has exited, its pid and group may go to other processes: what sexton
/// receives while it shuts the leftovers down is dropped, not sent to COMMAND's old group,
/// where a leftover of it still is.
#[test]
fn nothing_is_forwarded_once_the_command_has_exited() {
    let dir = TempDir::new();
    let left = r#"trap '' TERM; trap 'echo usr1 >> "$D/log"' USR1; touch "$D/left"
        while [ -d "$D" ]; do sleep 0.05 & wait $!; done"#;
    let script = r#"sh -c "$LEFT" & while [ ! -e "$D/left" ]; do sleep 0.02; done; exit 9"#;
    let run = sexton(["-vv", "-t", "1000", "sh", "-c", script])
        .env("LEFT", left)
        .dir(&dir)
        .spawn();
    run.wait_for_log("sent SIGTERM to ");
    run.signal(SIGUSR1);
    run.wait_for_log("dropped SIGUSR1: the command has exited");
    assert_eq!(dir.read("log"), "", "{}", run.stderr());
}
