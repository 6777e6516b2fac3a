//! -p/--pdeathsig: sexton receives a signal when its parent dies.
//!
//! To see sexton's end after its parent is gone, this test binary makes itself a child
//! subreaper: sexton, orphaned, is reparented to the test, which can then wait for it. (Its
//! own binary, so no other test's orphans come here.)

pub mod util;

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use kit::TempDir;
use kit::libc::{SIGKILL, SIGTERM};
use kit::tree::Tree;
use util::{SEXTON, direct};

/// Makes the test process the reaper of its orphaned descendants.
fn become_subreaper() {
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
}

/// Waits for the adopted process of `tree` to end, reaps it and returns how it ended.
fn reap(tree: &mut Tree) -> ExitStatus {
    tree.wait_timeout(kit::DEADLINE)
        .expect("waitid")
        .expect("the adopted process to end")
}

/// The parent: starts `sexton ARGS...` in the background, waits until COMMAND runs, exits.
const PARENT: &str = r#"
    "$SEXTON" "$@" &
    echo $! > "$D/sexton"
    while [ ! -s "$D/child" ]; do sleep 0.02; done
"#;

const COMMAND: &str = r#"echo $$ > "$D/child"; while :; do sleep 0.05; done"#;

/// The adopted sexton and COMMAND: each guarded, since COMMAND may outlive sexton and be
/// adopted by the test in turn. Dropped in order, sexton first.
struct Adopted {
    sexton: Tree,
    _command: Tree,
}

/// Starts `sexton OPTIONS -- COMMAND` under a parent that exits once COMMAND runs; returns
/// sexton's pid, COMMAND's, and the guards that end them.
fn orphaned_sexton(options: &[&str], env: &[(&str, &str)]) -> (i32, i32, Adopted) {
    become_subreaper();
    let dir = TempDir::new();
    let out = direct(["sh", "-c", PARENT, "sh"])
        .args(options)
        .args(["--", "sh", "-c", COMMAND])
        .env("SEXTON", SEXTON)
        .envs(env)
        .dir(&dir)
        .run();
    let sexton = dir.wait_for_pid("sexton");
    let child = dir.wait_for_pid("child");
    let adopted = Adopted {
        sexton: Tree::new(sexton),
        _command: Tree::new(child),
    };
    out.assert_code(0);
    (sexton, child, adopted)
}

/// Runs sexton with `options` under a parent that then dies; returns how sexton ended,
/// COMMAND's pid and the guards.
fn when_the_parent_dies(options: &[&str], env: &[(&str, &str)]) -> (ExitStatus, i32, Adopted) {
    let (_, child, mut adopted) = orphaned_sexton(options, env);
    (reap(&mut adopted.sexton), child, adopted)
}

#[test]
fn pdeathsig_kill_kills_sexton() {
    let (status, child, _adopted) = when_the_parent_dies(&["-p", "KILL"], &[]);
    assert_eq!(status.signal(), Some(SIGKILL), "sexton: {status}");
    // SIGKILL gave sexton no chance to stop COMMAND: it is orphaned, and the test's to end.
    assert!(kit::procfs::is_alive(child));
}

#[test]
fn pdeathsig_term_is_forwarded() {
    for (options, env) in [
        (&["-p", "TERM"][..], &[][..]),
        (&["--pdeathsig", "SIGTERM"], &[]),
        (&["-p", "15"], &[]),
        (&[], &[("SEXTON_PDEATHSIG", "TERM")]),
    ] {
        let (status, child, _adopted) = when_the_parent_dies(options, env);
        assert_eq!(
            status.code(),
            Some(128 + SIGTERM),
            "{options:?} {env:?}: sexton: {status}"
        );
        assert!(!kit::procfs::is_alive(child), "COMMAND outlived sexton");
    }
}

#[test]
fn without_pdeathsig_sexton_outlives_its_parent() {
    let (sexton, child, mut adopted) = orphaned_sexton(&[], &[]);
    kit::wait::until("sexton to be reparented to the test", || {
        kit::procfs::stat(sexton).is_some_and(|s| s.ppid == std::process::id() as i32)
    });
    assert!(kit::procfs::is_alive(sexton), "sexton died with its parent");
    assert!(kit::send(sexton, SIGTERM));
    let status = reap(&mut adopted.sexton);
    assert_eq!(status.code(), Some(128 + SIGTERM), "sexton: {status}");
    assert!(!kit::procfs::is_alive(child));
}
