//! Options and their environment variables: -e, logging (-v, -w, SEXTON_LOG, TINI_VERBOSITY),
//! and the flags and variables accepted for tini and dumb-init users.

pub mod util;

use util::{ORPHAN, sexton};

const EXIT_3: [&str; 3] = ["sh", "-c", "exit 3"];

#[test]
fn remap_exit_turns_listed_codes_into_success() {
    sexton(["-e", "3"])
        .args(EXIT_3)
        .run()
        .assert_code(0)
        .assert_quiet();
    sexton(["--remap-exit", "3"])
        .args(EXIT_3)
        .run()
        .assert_code(0);
    sexton(["-e", "4", "-e", "3"])
        .args(EXIT_3)
        .run()
        .assert_code(0);
    sexton(["-e", "4,3"]).args(EXIT_3).run().assert_code(0);
    // Other codes are unchanged.
    sexton(["-e", "4"]).args(EXIT_3).run().assert_code(3);
    sexton(["-e", "0"]).args(EXIT_3).run().assert_code(3);
    sexton(["-e", "3", "sh", "-c", "exit 1"])
        .run()
        .assert_code(1);
}

#[test]
fn remap_exit_applies_to_death_by_signal() {
    let term = ["sh", "-c", "kill -TERM $$"];
    sexton(["-e", "143"]).args(term).run().assert_code(0);
    sexton(["-e", "15"]).args(term).run().assert_code(143);
    sexton(["-e", "143"])
        .args(["sh", "-c", "kill -KILL $$"])
        .run()
        .assert_code(137);
}

#[test]
fn remap_exit_from_the_environment() {
    let run = |value: &str, args: &[&str]| sexton(args).env("SEXTON_REMAP_EXIT", value).run();
    run("3", &EXIT_3).assert_code(0).assert_quiet();
    run("4,3", &EXIT_3).assert_code(0);
    run("4", &EXIT_3).assert_code(3);
    run("143", &["sh", "-c", "kill -TERM $$"]).assert_code(0);
}

#[test]
fn bad_environment_values_are_usage_errors() {
    for (key, value, option) in [
        ("SEXTON_GRACE", "abc", "--grace"),
        ("SEXTON_GRACE", "-1", "--grace"),
        ("SEXTON_REMAP_EXIT", "300", "--remap-exit"),
        ("SEXTON_REWRITE", "KILL:TERM", "--rewrite"),
        ("SEXTON_PDEATHSIG", "NOPE", "--pdeathsig"),
        ("SEXTON_DELAY", "TERM:1,soon", "--delay"),
    ] {
        // Without any option, so the plain start path must notice the variable. The line
        // names the variable the user set, and the flag it stands for.
        sexton(["true"])
            .env(key, value)
            .run()
            .assert_code(125)
            .assert_one_error_line(&[key, option, value.rsplit(',').next().unwrap()]);
    }
}

#[test]
fn a_bad_value_on_the_command_line_is_not_blamed_on_the_variable() {
    // With both set, the command line wins, and a bad value there is the flag's alone.
    let out = sexton(["-r", "NOPE:1", "true"])
        .env("SEXTON_REWRITE", "TERM:QUIT,INT:QUIT")
        .run();
    out.assert_code(125)
        .assert_one_error_line(&["'NOPE:1'", "for '--rewrite"]);
    assert!(!out.stderr.contains("SEXTON_REWRITE"), "{out}");
}

#[test]
fn warn_on_reap_from_the_environment() {
    let script = format!("{ORPHAN}; exit 0");
    let orphan = ["sh", "-c", &script];
    let out = sexton(orphan).env("SEXTON_WARN_ON_REAP", "1").run();
    out.assert_code(0);
    assert!(out.stderr.contains("sexton: warn: reaped"), "{out}");
    // A false value turns it off.
    for value in ["0", "false", "no", "off", ""] {
        sexton(orphan)
            .env("SEXTON_WARN_ON_REAP", value)
            .run()
            .assert_code(0)
            .assert_quiet();
    }
}

#[test]
fn sexton_log_takes_filters() {
    let script = format!("{ORPHAN}; exit 0");
    let orphan = ["sh", "-c", &script];
    for args in [&orphan[..], &["-t", "1", "sh", "-c", &script]] {
        let out = sexton(args).env("SEXTON_LOG", "debug").run();
        out.assert_code(0);
        assert!(out.stderr.contains("sexton: debug: "), "{out}");
        assert!(
            out.stderr.lines().all(|l| l.starts_with("sexton: ")),
            "{out}"
        );
    }
    // SEXTON_LOG overrides -v.
    let out = sexton(["-vvv"])
        .args(orphan)
        .env("SEXTON_LOG", "error")
        .run();
    out.assert_code(0).assert_quiet();
}

#[test]
fn verbose_logs_info_and_more() {
    let script = format!("{ORPHAN}; exit 0");
    let orphan = ["sh", "-c", &script];
    let out = sexton(["-v"]).args(orphan).run();
    out.assert_code(0);
    assert!(out.stderr.contains("sexton: info: "), "{out}");
    assert!(!out.stderr.contains("sexton: debug: "), "{out}");
    let out = sexton(["-vv"]).args(orphan).run();
    assert!(out.stderr.contains("sexton: debug: "), "{out}");
    for args in [&["-vvv"][..], &["-v", "-v", "-v"], &["--verbose", "-vv"]] {
        let out = sexton(args).args(orphan).run();
        out.assert_code(0);
        assert!(out.stderr.contains("sexton: debug: "), "{args:?}:\n{out}");
        assert!(
            out.stderr.lines().all(|l| l.starts_with("sexton: ")),
            "{out}"
        );
    }
}

#[test]
fn tini_verbosity_sets_the_level() {
    let script = format!("{ORPHAN}; exit 0");
    let orphan = ["sh", "-c", &script];
    let out = sexton(orphan).env("TINI_VERBOSITY", "3").run();
    out.assert_code(0);
    assert!(out.stderr.contains("sexton: info: "), "{out}");
    assert!(out.stderr.contains("sexton: debug: "), "{out}");
    let out = sexton(orphan).env("TINI_VERBOSITY", "2").run();
    assert!(out.stderr.contains("sexton: info: "), "{out}");
    assert!(!out.stderr.contains("sexton: debug: "), "{out}");
    sexton(orphan)
        .env("TINI_VERBOSITY", "1")
        .run()
        .assert_code(0)
        .assert_quiet();
}

#[test]
fn tini_and_dumb_init_flags_are_accepted() {
    for args in [
        &["-s"][..],
        &["-g"],
        &["-s", "-g"],
        &["-sg"],
        &["--subreaper", "--process-group"],
        &["-w"],
    ] {
        sexton(args)
            .args(EXIT_3)
            .run()
            .assert_code(3)
            .assert_quiet();
    }
    for args in [&["-v"][..], &["-vvv"], &["-s", "-g", "-v"]] {
        let out = sexton(args).args(EXIT_3).run();
        out.assert_code(3);
        assert!(
            out.stderr.lines().all(|l| l.starts_with("sexton: ")),
            "{out}"
        );
    }
}

#[test]
fn tini_and_dumb_init_variables_are_accepted() {
    for env in [
        &[("TINI_SUBREAPER", "1")][..],
        &[("TINI_KILL_PROCESS_GROUP", "1")],
        &[("TINI_SUBREAPER", ""), ("TINI_KILL_PROCESS_GROUP", "1")],
        &[("SEXTON_SUBREAPER", "1"), ("SEXTON_PROCESS_GROUP", "1")],
        &[("SEXTON_SINGLE_CHILD", "1")],
        &[("DUMB_INIT_SETSID", "0")],
    ] {
        sexton(EXIT_3).envs(env).run().assert_code(3).assert_quiet();
    }
}
