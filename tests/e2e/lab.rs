//! The provisioned environment, and the runtimes started in it on first use.
//!
//! Everything a run creates lives below one scratch directory and one cgroup name of its own
//! (both carry the test process's pid), so the end of the run can find and remove what a
//! runtime's own clean-up missed, and report what it could not remove.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kit::libc::SIGKILL;

use crate::cmd;
use crate::containerd::Containerd;
use crate::docker::Docker;
use crate::podman::Podman;
use crate::rootless::Rootless;

pub struct Lab {
    /// The static init under test, as installed in the images at /sbin/sexton.
    pub init: PathBuf,
    pub rootfs: PathBuf,
    pub rootfs_tar: PathBuf,
    /// The venv's Python, with the CRI stubs and grpcio.
    pub python: PathBuf,
    /// This run's directory: runtimes' roots, sockets, the files checks exchange.
    pub scratch: PathBuf,
    /// This run's cgroup name, below every hierarchy's root.
    pub cgroup: String,
    version: String,
    docker: OnceCell<Docker>,
    podman: OnceCell<Podman>,
    rootless: OnceCell<Rootless>,
    containerd: OnceCell<Containerd>,
}

impl Lab {
    /// The environment `SEXTON_E2E_ENV` names; `None` when it is unset (outside CI).
    pub fn from_env() -> Result<Option<Lab>, String> {
        let Some(file) = std::env::var_os("SEXTON_E2E_ENV") else {
            return match std::env::var("CI") {
                Ok(ci) if ci == "true" => Err("SEXTON_E2E_ENV is not set under CI=true: \
                    .ci/run must provision the suite (bash .ci/e2e-provision) first"
                    .into()),
                _ => Ok(None),
            };
        };
        let text = fs::read_to_string(&file)
            .map_err(|e| format!("cannot read SEXTON_E2E_ENV={}: {e}", file.to_string_lossy()))?;
        let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
        let path = |key: &str| {
            vars.get(key)
                .map(PathBuf::from)
                .filter(|p| p.exists())
                .ok_or_else(|| {
                    format!(
                        "{}: {key} is missing or names no file",
                        file.to_string_lossy()
                    )
                })
        };
        // /proc/self belongs to the effective user.
        if fs::metadata("/proc/self").map(|m| m.uid()).ok() != Some(0) {
            return Err("the e2e suite runs as root (runc, dockerd, podman, containerd)".into());
        }
        let (init, rootfs) = (path("SEXTON_E2E_INIT")?, path("SEXTON_E2E_ROOTFS")?);
        let version =
            cmd::run(cmd::command("chroot", [&rootfs, Path::new("/sbin/sexton")]).arg("--version"));
        if version.code() != 0 {
            return Err(format!(
                "the init cannot run inside the busybox rootfs (not static?): {version}"
            ));
        }
        let pid = std::process::id();
        let scratch = rootfs
            .parent()
            .expect("the rootfs has a parent")
            .join(format!("run-{pid}"));
        fs::create_dir_all(&scratch).map_err(|e| format!("create {}: {e}", scratch.display()))?;
        fs::set_permissions(&scratch, fs::Permissions::from_mode(0o755)).expect("chmod scratch");
        Ok(Some(Lab {
            init,
            rootfs,
            rootfs_tar: path("SEXTON_E2E_ROOTFS_TAR")?,
            python: path("SEXTON_E2E_PYTHON")?,
            scratch,
            cgroup: format!("sexton-e2e-{pid}"),
            version: version.stdout.lines().next().unwrap_or("").to_owned(),
            docker: OnceCell::new(),
            podman: OnceCell::new(),
            rootless: OnceCell::new(),
            containerd: OnceCell::new(),
        }))
    }

    /// The first line of `init --version`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the init is sexton, not a stand-in (whose `--version` does not name sexton).
    pub fn is_sexton(&self) -> bool {
        self.version.contains("sexton")
    }

    /// A new empty directory every user may write, e.g. bind-mounted at /out.
    pub fn fresh_dir(&self, name: &str) -> PathBuf {
        let dir = self.scratch.join("out").join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a directory for a check");
        for d in [dir.parent().expect("out"), &dir] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        dir
    }

    pub fn docker(&self) -> &Docker {
        self.docker.get_or_init(|| Docker::start(self))
    }

    pub fn podman(&self) -> &Podman {
        self.podman.get_or_init(|| Podman::rootful(self))
    }

    pub fn rootless(&self) -> &Rootless {
        self.rootless.get_or_init(|| Rootless::start(self))
    }

    pub fn containerd(&self) -> &Containerd {
        self.containerd.get_or_init(|| Containerd::start(self))
    }

    /// Stops every runtime (each removes its containers, images and state as it goes), then
    /// removes what is left below the scratch directory and this run's cgroups. Returns what
    /// could not be removed.
    pub fn tear_down(mut self) -> Vec<String> {
        drop(self.rootless.take());
        drop(self.podman.take());
        drop(self.containerd.take());
        drop(self.docker.take());
        let mut leaks = Vec::new();
        // Shims and conmons name the scratch directory; containers' processes are in the cgroup.
        let left = || [processes_under(&self.scratch), processes_in(&self.cgroup)].concat();
        for pid in left() {
            kit::send(pid, SIGKILL);
        }
        if !kit::wait::poll(kit::DEADLINE, || left().is_empty()) {
            leaks.push(format!("processes still running: {:?}", left()));
        }
        let user = crate::rootless::user_name();
        let entry = format!("{user}:");
        if fs::read_to_string("/etc/passwd").is_ok_and(|p| p.lines().any(|l| l.starts_with(&entry)))
        {
            leaks.push(format!("the user {user} still exists"));
        }
        for mount in mounts_under(&self.scratch) {
            let _ = cmd::run(&mut cmd::command("umount", [&mount]));
        }
        for mount in mounts_under(&self.scratch) {
            let _ = cmd::run(&mut cmd::command(
                "umount",
                ["-l".as_ref(), mount.as_os_str()],
            ));
        }
        if let Some(mount) = mounts_under(&self.scratch).first() {
            leaks.push(format!("{} is still mounted", mount.display()));
        } else if fs::remove_dir_all(&self.scratch).is_err() {
            leaks.push(format!("cannot remove {}", self.scratch.display()));
        }
        for ours in cgroups(&self.cgroup) {
            if !remove_cgroup(&ours) {
                leaks.push(format!("cannot remove the cgroup {}", ours.display()));
            }
        }
        leaks
    }
}

/// Paths a runtime creates outside its roots whatever its configuration says; those that did
/// not exist when it started are removed when this drops, after the runtime has stopped.
pub struct Created(Vec<&'static str>);

impl Created {
    pub fn note(paths: &[&'static str]) -> Created {
        Created(
            paths
                .iter()
                .copied()
                .filter(|p| !Path::new(p).exists())
                .collect(),
        )
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = fs::remove_file(path).or_else(|_| fs::remove_dir_all(path));
        }
    }
}

/// Mount points at or below `dir`, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<PathBuf> = text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(PathBuf::from)
        .filter(|m| m.starts_with(dir))
        .collect();
    mounts.sort_by(|a, b| b.cmp(a));
    mounts
}

/// Processes whose command line names a path below `dir`: shims, conmons, daemons of this run.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let needle = dir.as_os_str().as_encoded_bytes();
    processes(|pid| {
        kit::procfs::cmdline(pid)
            .windows(needle.len())
            .any(|w| w == needle)
    })
}

/// Every process but this one for which `pred` holds.
pub fn processes(mut pred: impl FnMut(i32) -> bool) -> Vec<i32> {
    let me = std::process::id() as i32;
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me && pred(pid))
        .collect()
}

/// The cgroup `name` (below the root) in every hierarchy that has it.
pub fn cgroups(name: &str) -> Vec<PathBuf> {
    let hierarchies = fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten();
    hierarchies
        .map(|h| h.path().join(name))
        .filter(|c| c.is_dir())
        .collect()
}

/// The processes in the cgroup `name` or below it, in any hierarchy.
fn processes_in(name: &str) -> Vec<i32> {
    fn walk(dir: &Path, pids: &mut Vec<i32>) {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        pids.extend(
            procs
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
        for child in fs::read_dir(dir).into_iter().flatten().flatten() {
            if child.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&child.path(), pids);
            }
        }
    }
    let mut pids = Vec::new();
    cgroups(name).iter().for_each(|c| walk(c, &mut pids));
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// rmdir a cgroup and its children, deepest first (once their processes are gone).
pub fn remove_cgroup(dir: &Path) -> bool {
    for child in fs::read_dir(dir).into_iter().flatten().flatten() {
        if child.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup(&child.path());
        }
    }
    kit::wait::poll(kit::DEADLINE, || {
        fs::remove_dir(dir).is_ok() || !dir.exists()
    })
}
