//! Reliability under load: floods of signals, and a process table that is full.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use util::libc::{SIGKILL, SIGTERM, SIGUSR1};
use util::{Run, SEXTON, TempDir, direct, sexton};

#[test]
fn a_burst_of_signals_neither_hangs_nor_crashes_sexton() {
    // USR1 (standard: coalesced while pending) mixed with a realtime signal (queued, each
    // one forwarded), 3,000 in all, as fast as the test can send them.
    let rt = util::sigrtmin() + 2;
    let script =
        r#"trap : USR1; trap : "$RT"; touch "$D/ready"; while :; do sleep 0.05 & wait $!; done"#;
    for namespace in [false, true] {
        let dir = TempDir::new();
        let mut run = sexton(["sh", "-c", script])
            .env("RT", rt.to_string())
            .dir(&dir);
        if namespace {
            run = run.in_pid_namespace();
        }
        let mut run = run.spawn();
        dir.wait_for("ready");
        let pid = run.sexton_pid();
        for i in 0..3000 {
            // A full realtime queue (EAGAIN) is the kernel's limit, not sexton's.
            util::send(pid, if i % 2 == 0 { SIGUSR1 } else { rt });
        }
        let state = util::state(pid);
        assert!(
            matches!(state, Some('R' | 'S' | 'D')),
            "after the burst sexton is {state:?} (as PID 1: {namespace})"
        );
        assert!(run.try_wait().is_none(), "sexton exited during the burst");
        run.signal(SIGTERM);
        run.wait().assert_code(143).assert_sexton_quiet();
    }
}

/// A cgroup with a small pids.max, removed (after killing, by pid, anything left in it) on
/// drop.
struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// A new cgroup limited to `limit` tasks, in the first hierarchy with a pids controller
    /// the test may write to; the reasons why none fits otherwise.
    fn new(limit: u32) -> Result<Cgroup, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "sexton-test-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Relaxed)
        );
        let mut reasons = Vec::new();
        for base in [
            "/sys/fs/cgroup",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup/pids",
        ] {
            let base = Path::new(base);
            if !base.join("cgroup.procs").exists() {
                reasons.push(format!("{}: not a cgroup hierarchy", base.display()));
                continue;
            }
            if base.join("cgroup.controllers").exists() {
                // cgroup v2: children get pids.max only if the parent enables the controller.
                let enabled =
                    fs::read_to_string(base.join("cgroup.subtree_control")).unwrap_or_default();
                if !enabled.split_whitespace().any(|c| c == "pids") {
                    reasons.push(format!("{}: pids controller not enabled", base.display()));
                    continue;
                }
            }
            let dir = base.join(&name);
            if let Err(err) = fs::create_dir(&dir) {
                reasons.push(format!("{}: {err}", dir.display()));
                continue;
            }
            let cgroup = Cgroup { dir };
            if let Err(err) = fs::write(cgroup.dir.join("pids.max"), limit.to_string()) {
                reasons.push(format!("{}/pids.max: {err}", cgroup.dir.display()));
                continue;
            }
            return Ok(cgroup);
        }
        Err(reasons.join("; "))
    }

    /// [`Cgroup::new`], or `None` after printing why the test is skipped.
    fn or_skip(limit: u32) -> Option<Cgroup> {
        Cgroup::new(limit)
            .map_err(|reason| {
                eprintln!("skipped: no pids cgroup controller to write to ({reason})")
            })
            .ok()
    }

    /// `sexton ARGS...`, run inside this cgroup.
    fn sexton(&self, args: &[&str]) -> Run {
        direct(["sh", "-c", IN_CGROUP, "sh"])
            .args(args)
            .env("CG", &self.dir)
            .env("SEXTON", SEXTON)
    }

    fn procs(&self) -> Vec<i32> {
        fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect()
    }

    /// Tasks charged to the cgroup: zombies count until they are reaped.
    fn current(&self) -> u64 {
        fs::read_to_string(self.dir.join("pids.current"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Only this test puts processes here: whatever is left is its own.
        util::poll_until(Duration::from_secs(10), || {
            let procs = self.procs();
            for &pid in &procs {
                util::send(pid, SIGKILL);
            }
            procs.is_empty() && fs::remove_dir(&self.dir).is_ok()
        });
        let _ = fs::remove_dir(&self.dir);
    }
}

/// Joins the cgroup "$CG", then runs sexton there: `$SEXTON "$@"`.
const IN_CGROUP: &str = r#"echo $$ > "$CG/cgroup.procs" || exit 99; exec "$SEXTON" "$@""#;

#[test]
fn orphans_are_reaped_while_the_process_table_is_full() {
    let Some(cgroup) = Cgroup::or_skip(20) else {
        return;
    };
    // COMMAND forks orphans until forks have failed (EAGAIN) at least 50 times and 100 have
    // been made: five times the limit, possible only if sexton reaps them as they exit. Then
    // it runs one more `sleep 0.3`, retried until the fork succeeds, which outlasts the
    // orphans' 0.2 s, so most end on their own rather than at the shutdown, and exits 0.
    let load = r#"
        exec 2>/dev/null
        ok=0; fail=0; i=0
        while [ $i -lt 300000 ]; do
            i=$((i+1))
            if ( sleep 0.2 & ); then ok=$((ok+1)); else fail=$((fail+1)); fi
            [ $fail -ge 50 ] && [ $ok -ge 100 ] && break
        done
        echo "ok=$ok fail=$fail"
        until sleep 0.3; do :; done
        [ $fail -ge 50 ] && [ $ok -ge 100 ]
    "#;
    let out = cgroup
        .sexton(&["--", "sh", "-c", load])
        .deadline(Duration::from_secs(60))
        .run();
    out.assert_code(0).assert_quiet();
    assert!(out.stdout().starts_with("ok="), "{out}");
    // Everything sexton was responsible for is gone and reaped: not even a zombie is charged.
    assert_eq!(cgroup.procs(), Vec::<i32>::new());
    assert_eq!(cgroup.current(), 0);
}

#[test]
fn leftovers_are_killed_while_the_process_table_is_full() {
    let Some(cgroup) = Cgroup::or_skip(12) else {
        return;
    };
    // Leftovers that ignore SIGTERM keep the table full while sexton shuts down: eight
    // sleepers, and one process that forks without pause and so takes every slot that frees
    // up (with a single forker, the slot its own failed attempt frees is its next one: a
    // fork that fails ends dash). sexton must still kill them all after the grace period and
    // exit with COMMAND's 7. COMMAND exits once the table is full (it reads pids.current).
    let load = r#"
        exec 2>/dev/null
        trap '' TERM
        i=0
        while [ $i -lt 8 ]; do sleep 60 & i=$((i+1)); done
        sh -c 'while :; do ( sleep 1 & ); done' &
        until read -r n < "$CG/pids.current" && [ "$n" -ge 12 ]; do :; done
        exit 7
    "#;
    let out = cgroup.sexton(&["-t", "1", "--", "sh", "-c", load]).run();
    assert!(
        cgroup.procs().is_empty(),
        "processes outlived sexton: {:?}\n{out}",
        cgroup.procs()
    );
    out.assert_code(7);
    assert!(out.elapsed < Duration::from_secs(15), "{out}");
}

#[test]
fn no_room_for_the_forwarder_is_a_clean_failure() {
    // sexton and COMMAND take the cgroup's two slots, so the forwarder thread cannot start.
    // A COMMAND that no signal could reach must not be left running: sexton kills it, says
    // why, and fails with its own code, 125.
    let Some(cgroup) = Cgroup::or_skip(2) else {
        return;
    };
    let out = cgroup
        .sexton(&["--", "sleep", "60"])
        .deadline(Duration::from_secs(20))
        .run();
    out.assert_code(125);
    assert!(
        out.stderr
            .contains("sexton: pthread_create (the signal forwarder) failed"),
        "{out}"
    );
    assert!(
        out.stderr.contains("check the container's process"),
        "{out}"
    );
    assert_eq!(cgroup.procs(), Vec::<i32>::new());
    assert_eq!(cgroup.current(), 0);
}
