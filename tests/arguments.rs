//! The command line: options end at the first word that is not one (or at `--`), and every
//! word after that reaches COMMAND untouched, byte for byte.

pub mod util;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use kit::TempDir;
use util::sexton;

/// A script that writes each of its arguments, one per line, to "$D/args".
const WRITE_ARGS: &str = r#"printf '%s\n' "$@" > "$D/args""#;

/// Runs `sexton SEXTON_ARGS... sh -c WRITE_ARGS sh CHILD_ARGS...` and returns what the child
/// received, as raw bytes.
fn child_args(sexton_args: &[&str], child_args: &[&OsStr]) -> Vec<u8> {
    let dir = TempDir::new();
    let out = sexton(sexton_args)
        .args(["sh", "-c", WRITE_ARGS, "sh"])
        .args(child_args)
        .dir(&dir)
        .run();
    out.assert_code(0).assert_quiet();
    std::fs::read(dir.join("args")).unwrap()
}

fn lines(words: &[&OsStr]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in words {
        bytes.extend_from_slice(word.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

#[test]
fn options_stop_at_the_command() {
    // `-c` belongs to sh, not to sexton (whose -c is --single-child).
    sexton(["sh", "-c", "exit 3"])
        .run()
        .assert_code(3)
        .assert_quiet();
    sexton(["-t", "1", "sh", "-c", "exit 3"])
        .run()
        .assert_code(3)
        .assert_quiet();
    sexton(["-e", "4", "sh", "-c", "exit 3"])
        .run()
        .assert_code(3)
        .assert_quiet();
    // After COMMAND, sexton's own options are COMMAND's arguments: -e 3 here is no remap.
    sexton(["sh", "-c", "exit 3", "-e", "3"])
        .run()
        .assert_code(3)
        .assert_quiet();
}

#[test]
fn words_after_the_command_are_untouched() {
    let words: Vec<&OsStr> = ["-v", "--", "-t", "abc", "--help", "-P", "", " two words "]
        .iter()
        .map(OsStr::new)
        .collect();
    let expected = lines(&words);
    // The shortcut path (no option) and clap's path (an option before COMMAND) alike.
    assert_eq!(child_args(&[], &words), expected);
    assert_eq!(child_args(&["--"], &words), expected);
    assert_eq!(child_args(&["-t", "1"], &words), expected);
    assert_eq!(child_args(&["-t", "1", "--"], &words), expected);
}

#[test]
fn a_command_that_looks_like_an_option_follows_double_dash() {
    // A program named "-v" does not exist: sexton must try to run it, not log verbosely.
    sexton(["--", "-v"])
        .run()
        .assert_code(127)
        .assert_one_error_line(&["-v"]);
    // `--` after `--` is an argument.
    let words = [OsStr::new("--"), OsStr::new("x")];
    assert_eq!(child_args(&["--"], &words), lines(&words));
}

#[test]
fn non_utf8_arguments_reach_the_child_byte_exact() {
    let odd: Vec<OsString> = [
        &b"\xff"[..],
        b"\xff\xfe-v\x80",
        b"caf\xe9",
        b"--\xff",
        b"\xc3\x28 invalid sequence",
    ]
    .iter()
    .map(|bytes| OsString::from_vec(bytes.to_vec()))
    .collect();
    let words: Vec<&OsStr> = odd.iter().map(OsString::as_os_str).collect();
    let expected = lines(&words);
    assert_eq!(child_args(&[], &words), expected);
    assert_eq!(child_args(&["-t", "1"], &words), expected);
    assert_eq!(child_args(&["-t", "1", "--"], &words), expected);
}

#[test]
fn a_non_utf8_command_name_is_reported() {
    let name = OsString::from_vec(b"/nonexistent/sexton-\xff".to_vec());
    sexton([&name])
        .run()
        .assert_code(127)
        .assert_one_error_line(&["/nonexistent/sexton-"]);
}

#[test]
fn the_environment_reaches_the_child() {
    let dir = TempDir::new();
    sexton(["sh", "-c", r#"printf '%s' "$SEXTON_TEST_VALUE" > "$D/env""#])
        .env("SEXTON_TEST_VALUE", "a b\tc")
        .dir(&dir)
        .run()
        .assert_code(0);
    assert_eq!(dir.read("env"), "a b\tc");
}
