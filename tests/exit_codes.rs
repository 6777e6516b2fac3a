//! Exit codes: COMMAND's own, 128+N for a death by signal N, and sexton's 125/126/127, each
//! failure with exactly one `sexton: ` line on stderr.

pub mod util;

use std::os::unix::fs::PermissionsExt;

use kit::TempDir;
use util::sexton;

#[test]
fn success_is_zero_and_silent() {
    sexton(["true"]).run().assert_code(0).assert_quiet();
    sexton(["--", "true"]).run().assert_code(0).assert_quiet();
}

#[test]
fn exit_status_passes_through() {
    for code in [1, 3, 42, 124, 125, 126, 127, 255] {
        sexton(["sh", "-c", &format!("exit {code}")])
            .run()
            .assert_code(code)
            .assert_quiet();
    }
}

#[test]
fn death_by_signal_is_128_plus_n() {
    sexton(["sh", "-c", "kill -TERM $$"])
        .run()
        .assert_code(143)
        .assert_quiet();
    sexton(["sh", "-c", "kill -KILL $$"])
        .run()
        .assert_code(137)
        .assert_quiet();
    sexton(["sh", "-c", "kill -USR1 $$"]).run().assert_code(138);
    // A realtime signal: dash's kill takes numbers.
    let rt = kit::sigrtmin() + 4;
    sexton(["sh", "-c", &format!("kill -s {rt} $$")])
        .run()
        .assert_code(128 + rt);
}

#[test]
fn usage_errors_exit_125_with_one_line() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["--bogus", "true"], &["--bogus"]),
        (&["-x", "true"], &["-x"]),
        (&[], &["COMMAND"]),
        (&["--"], &["COMMAND"]),
        (&["-t", "1"], &["COMMAND"]),
        (&["-t", "abc", "true"], &["--grace", "abc"]),
        (&["--grace=-1", "true"], &["--grace"]),
        (&["-e", "300", "true"], &["--remap-exit", "300"]),
        (&["-e", "x", "true"], &["--remap-exit"]),
        (&["-p", "NOPE", "true"], &["--pdeathsig", "NOPE"]),
        (&["-r", "KILL:TERM", "true"], &["--rewrite", "KILL:TERM"]),
        (&["-r", "TERM", "true"], &["--rewrite", "TERM"]),
        (&["-r", "TERM:NOPE", "true"], &["--rewrite"]),
        (&["--pause", "true"], &["--pause"]),
    ];
    for (args, needles) in cases {
        sexton(*args)
            .run()
            .assert_code(125)
            .assert_one_error_line(needles);
    }
}

#[test]
fn a_file_without_execute_permission_is_126() {
    let dir = TempDir::new();
    let script = dir.join("script");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let name = script.to_str().unwrap();
    sexton([name])
        .run()
        .assert_code(126)
        .assert_one_error_line(&[name]);
    // With the clap path too (an option before COMMAND).
    sexton(["-t", "1", name])
        .run()
        .assert_code(126)
        .assert_one_error_line(&[name]);
}

#[test]
fn a_directory_is_126() {
    let dir = TempDir::new();
    let name = dir.path().to_str().unwrap();
    sexton([name])
        .run()
        .assert_code(126)
        .assert_one_error_line(&[name]);
}

#[test]
fn a_missing_command_is_127() {
    sexton(["sexton-no-such-command"])
        .run()
        .assert_code(127)
        .assert_one_error_line(&["sexton-no-such-command"]);
    sexton(["/nonexistent/sexton-cmd", "arg"])
        .run()
        .assert_code(127)
        .assert_one_error_line(&["/nonexistent/sexton-cmd"]);
    sexton(["-v", "--", "sexton-no-such-command"])
        .run()
        .assert_code(127);
}

#[test]
fn path_is_searched_as_a_shell_does() {
    // A directory of PATH holding a non-executable file of the name, then one that holds an
    // executable: the executable runs. Without it, the name was found but cannot run: 126.
    let dir = TempDir::new();
    let first = dir.join("first");
    let second = dir.join("second");
    for (d, mode) in [(&first, 0o644), (&second, 0o755)] {
        std::fs::create_dir(d).unwrap();
        let file = d.join("sexton-cmd");
        std::fs::write(&file, "#!/bin/sh\nexit 7\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let path = |dirs: &[&std::path::Path]| {
        let mut dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        dirs.push("/usr/bin:/bin".into());
        dirs.join(":")
    };
    sexton(["sexton-cmd"])
        .env("PATH", path(&[&first, &second]))
        .run()
        .assert_code(7);
    sexton(["sexton-cmd"])
        .env("PATH", path(&[&first]))
        .run()
        .assert_code(126)
        .assert_one_error_line(&["sexton-cmd"]);
    sexton(["sexton-cmd"])
        .env("PATH", path(&[]))
        .run()
        .assert_code(127);
}

#[test]
fn version_help_and_license() {
    let out = sexton(["--version"]).run();
    out.assert_code(0).assert_quiet();
    // The one format dockerd's `docker info` accepts from an init.
    let version = format!("tini version {}_sexton", env!("CARGO_PKG_VERSION"));
    let line = out.stdout();
    let commit = line.strip_prefix(&version).expect(&line);
    assert!(commit == "\n" || commit.starts_with(" - git."), "{line}");
    sexton(["-V"]).run().assert_code(0);

    for flag in ["-h", "--help"] {
        let out = sexton([flag]).run();
        out.assert_code(0).assert_quiet();
        let text = out.stdout();
        assert!(text.contains("Usage: sexton"), "{out}");
        assert!(text.contains("--grace"), "{out}");
        assert!(
            text.contains("125"),
            "the help explains the exit codes:\n{out}"
        );
    }

    let out = sexton(["-l"]).run();
    out.assert_code(0).assert_quiet();
    let text = out.stdout();
    assert!(text.starts_with("MIT License"), "{out}");
    assert!(text.contains("Permission is hereby granted"), "{out}");
    assert_eq!(text, sexton(["--license"]).run().stdout());
}
