//! -p/--pdeathsig: sexton receives a signal when its parent dies.
//!
//! To see sexton's end after its parent is gone, this test binary makes itself a child
//! subreaper: sexton, orphaned, is reparented to the test, which can then wait for it. (Its
//! own binary, so no other test's orphans come here.)

mod util;

use util::libc::{self, SIGKILL, SIGTERM};
use util::{SEXTON, TempDir, direct};

/// Makes the test process the reaper of its orphaned descendants.
fn become_subreaper() {
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
}

/// Kills and reaps, by pid and in order, the processes this test adopted, whatever happens:
/// those of them that are (by then) children of the test, so a pid since reused is never
/// touched. List a parent before its child: the child is the test's once the parent is gone.
struct Adopted(Vec<i32>);

impl Drop for Adopted {
    fn drop(&mut self) {
        let me = std::process::id() as i32;
        for &pid in &self.0 {
            if util::stat(pid).is_some_and(|s| s.ppid == me) && util::send(pid, SIGKILL) {
                // SAFETY: plain arguments; the status is not needed.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            }
        }
    }
}

/// Waits for the adopted `pid` to end and returns its wait status.
fn reap(pid: i32) -> i32 {
    let mut status = 0;
    util::wait_until(&format!("adopted pid {pid} to end"), || {
        // SAFETY: `status` is a valid out-pointer.
        unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) == pid }
    });
    status
}

/// The parent: starts `sexton ARGS...` in the background, waits until COMMAND runs, exits.
const PARENT: &str = r#"
    "$SEXTON" "$@" &
    echo $! > "$D/sexton"
    while [ ! -s "$D/child" ]; do sleep 0.02; done
"#;

const COMMAND: &str = r#"echo $$ > "$D/child"; while :; do sleep 0.05; done"#;

/// Starts `sexton OPTIONS -- COMMAND` under a parent that exits once COMMAND runs; returns
/// sexton's pid, COMMAND's, and the guard that ends them.
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
    let mut adopted = Adopted(Vec::new());
    let sexton = dir.wait_for_pid("sexton");
    adopted.0.push(sexton);
    let child = dir.wait_for_pid("child");
    adopted.0.push(child);
    out.assert_code(0);
    (sexton, child, adopted)
}

/// Runs sexton with `options` under a parent that then dies; returns sexton's wait status
/// and COMMAND's pid.
fn when_the_parent_dies(options: &[&str], env: &[(&str, &str)]) -> (i32, i32, Adopted) {
    let (sexton, child, adopted) = orphaned_sexton(options, env);
    (reap(sexton), child, adopted)
}

#[test]
fn pdeathsig_kill_kills_sexton() {
    let (status, child, _adopted) = when_the_parent_dies(&["-p", "KILL"], &[]);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == SIGKILL,
        "sexton's wait status: {status:#x}"
    );
    // SIGKILL gave sexton no chance to stop COMMAND: it is orphaned, and the test's to end.
    assert!(util::is_alive(child));
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
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 128 + SIGTERM,
            "{options:?} {env:?}: sexton's wait status: {status:#x}"
        );
        assert!(!util::is_alive(child), "COMMAND outlived sexton");
    }
}

#[test]
fn without_pdeathsig_sexton_outlives_its_parent() {
    let (status, child, _adopted) = {
        let (sexton, child, adopted) = orphaned_sexton(&[], &[]);
        util::wait_until("sexton to be reparented to the test", || {
            util::stat(sexton).is_some_and(|s| s.ppid == std::process::id() as i32)
        });
        assert!(util::is_alive(sexton), "sexton died with its parent");
        assert!(util::send(sexton, SIGTERM));
        (reap(sexton), child, adopted)
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 128 + SIGTERM,
        "sexton's wait status: {status:#x}"
    );
    assert!(!util::is_alive(child));
}
