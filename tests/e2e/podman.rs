//! sexton as Podman's init: `podman run --init` runs it as /run/podman-init, from
//! `--init-path` or from `init_path` in containers.conf.
//!
//! Podman keeps no daemon: each instance here is a private configuration (containers.conf,
//! storage.conf, graph and run roots below the scratch directory) used through environment
//! variables, for root or, in [`crate::rootless`], for an unprivileged user.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd;
use crate::engine::{self, Engine, IMAGE};
use crate::lab::{self, Created, Lab};
use crate::{Check, check};

pub const CHECKS: &[Check] = &[
    check!(init_path_flag),
    check!(init_path_in_containers_conf),
    check!(exit_codes),
    check!(zombies_reaped),
    check!(stop_is_fast_with_init),
    check!(stop_times_out_without_init),
    check!(sexton_env_reaches_init, sexton_only),
];

/// What rootful podman creates whatever its configuration says: a blob information cache
/// below /var/lib/containers, and (cgroupfs) its containers' parent cgroup in every hierarchy.
const CGROUP_PARENT: &str = "libpod_parent";

pub struct Podman {
    dir: PathBuf,
    /// The unprivileged user it runs as, if rootless.
    user: Option<String>,
    created_cgroup_parent: bool,
    _created: Option<Created>,
}

impl Podman {
    pub fn rootful(lab: &Lab) -> Podman {
        Podman::configure(lab, &lab.scratch.join("podman"), None)
    }

    /// A private configuration in `dir` (for `user`, or root), with the image imported.
    pub fn configure(lab: &Lab, dir: &Path, user: Option<(&str, u32)>) -> Podman {
        let (home, run) = (dir.join("home"), dir.join("run"));
        for d in [dir, &home, &run] {
            fs::create_dir_all(d).expect("create podman's directories");
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).expect("chmod");
        if let Some((_, uid)) = user {
            chown(&home, Some(uid), None).expect("chown home");
            chown(&run, Some(uid), None).expect("chown run");
        }
        // Both ulimits stay below the host's hard limits: podman's defaults exceed them here
        // (and even the hard limit itself cannot be set again for nproc).
        let conf = format!(
            r#"[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
init_path = "{init}"
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{home}/events.log"
runtime = "runc"
tmp_dir = "{run}/tmp"
"#,
            init = lab.init.display(),
            home = home.display(),
            run = run.display()
        );
        let storage = format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}/storage\"\nrunroot = \"{}/storage\"\n",
            home.display(),
            run.display()
        );
        fs::write(dir.join("containers.conf"), conf).expect("write containers.conf");
        fs::write(dir.join("storage.conf"), storage).expect("write storage.conf");
        let podman = Podman {
            dir: dir.to_owned(),
            user: user.map(|(name, _)| name.to_owned()),
            created_cgroup_parent: user.is_none() && lab::cgroups(CGROUP_PARENT).is_empty(),
            _created: user
                .is_none()
                .then(|| Created::note(&["/var/lib/containers"])),
        };
        let tar = fs::File::open(&lab.rootfs_tar).expect("open the rootfs tar");
        cmd::ok(podman.cmd(&["import", "-", IMAGE]).stdin(tar));
        podman
    }
}

impl Engine for Podman {
    fn name(&self) -> &'static str {
        if self.user.is_some() {
            "podman (rootless)"
        } else {
            "podman"
        }
    }

    fn cli(&self) -> Command {
        let vars = [
            ("HOME", self.dir.join("home")),
            ("XDG_RUNTIME_DIR", self.dir.join("run")),
            ("CONTAINERS_CONF", self.dir.join("containers.conf")),
            ("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf")),
        ];
        let mut cmd = match &self.user {
            Some(user) => cmd::command("runuser", ["-u", user, "--", "env"]),
            None => cmd::command("env", [] as [&str; 0]),
        };
        for (key, value) in vars {
            cmd.arg(format!("{key}={}", value.display()));
        }
        cmd.arg("podman");
        cmd
    }

    fn remove(&self, id: &str) -> Command {
        self.cmd(&["rm", "-f", "-t", "0", id])
    }

    fn init_path(&self) -> &'static str {
        "/run/podman-init"
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = cmd::run(&mut self.cmd(&["pod", "rm", "-f", "-a", "-t", "0"]));
        let _ = cmd::run(&mut self.cmd(&["rm", "-f", "-a", "-t", "0"]));
        let _ = cmd::run(&mut self.cmd(&["rmi", "-f", "-a"]));
        if self.created_cgroup_parent {
            for cgroup in lab::cgroups(CGROUP_PARENT) {
                lab::remove_cgroup(&cgroup);
            }
        }
    }
}

/// `podman run --init --init-path SEXTON` makes it PID 1 as /run/podman-init.
fn init_path_flag(lab: &Lab) {
    let init = lab.init.to_str().expect("a UTF-8 path");
    engine::init_is_ours(lab, lab.podman(), &["--init", "--init-path", init]);
}

/// `init_path` in containers.conf does the same for a plain `podman run --init`.
fn init_path_in_containers_conf(lab: &Lab) {
    engine::init_is_ours(lab, lab.podman(), &["--init"]);
}

/// With --init, `exit 3` gives 3 and death by SIGKILL 137.
fn exit_codes(lab: &Lab) {
    engine::exit_codes(lab.podman());
}

/// With --init, the orphans are reaped.
fn zombies_reaped(lab: &Lab) {
    engine::orphans_reaped(lab.podman(), "podman-init");
}

/// `podman stop` of `sleep 1000` with --init is fast and exits 143.
fn stop_is_fast_with_init(lab: &Lab) {
    engine::stop_is_fast(lab.podman());
}

/// `podman stop` of `sleep 1000` without an init takes the 10 s timeout (137).
fn stop_times_out_without_init(lab: &Lab) {
    engine::stop_times_out_without_init(lab.podman());
}

/// `-e SEXTON_*` reaches the init: SEXTON_REMAP_EXIT=3 turns `exit 3` into 0.
fn sexton_env_reaches_init(lab: &Lab) {
    let podman = lab.podman();
    podman
        .run(&[
            "--init",
            "-e",
            "SEXTON_REMAP_EXIT=3",
            IMAGE,
            "sh",
            "-c",
            "exit 3",
        ])
        .expect(0);
}
