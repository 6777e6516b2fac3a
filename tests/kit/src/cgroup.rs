//! A cgroup with a small `pids.max`, to fill the process table of what runs in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::tree::Tree;
use crate::{dir, wait};

/// A shell script that joins the cgroup "$CG" and then runs its arguments there: pass it to
/// `sh -c JOIN sh PROGRAM ARGS...` with `CG` set to [`Cgroup::path`].
pub const JOIN: &str = r#"echo $$ > "$CG/cgroup.procs" || exit 99; exec "$@""#;

/// A cgroup limited to a number of tasks. Dropping it kills, by pid, whatever is left in it
/// (only its test puts processes there) and removes it.
pub struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// A new cgroup limited to `limit` tasks, in the first hierarchy with a pids controller
    /// this process may write to; otherwise the reasons why none fits.
    pub fn new(limit: u32) -> Result<Cgroup, String> {
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
            let dir = match dir::create_unique(base) {
                Ok(dir) => dir,
                Err(err) => {
                    reasons.push(format!("{}: {err}", base.display()));
                    continue;
                }
            };
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
    pub fn or_skip(limit: u32) -> Option<Cgroup> {
        Cgroup::new(limit)
            .map_err(|reason| {
                eprintln!("skipped: no pids cgroup controller to write to ({reason})")
            })
            .ok()
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The processes in the cgroup.
    pub fn procs(&self) -> Vec<i32> {
        fs::read_to_string(self.dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect()
    }

    /// Tasks charged to the cgroup: zombies count until they are reaped.
    pub fn current(&self) -> u64 {
        fs::read_to_string(self.dir.join("pids.current"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // A process's pid stays in cgroup.procs until it is reaped, by whoever its parent is.
        wait::poll(Duration::from_secs(10), || {
            let procs = self.procs();
            procs.into_iter().for_each(|pid| drop(Tree::new(pid)));
            fs::remove_dir(&self.dir).is_ok()
        });
    }
}
