//! sexton as Docker's init: a private dockerd whose `--init-path` is sexton, so that
//! `docker run --init` makes it PID 1 as /sbin/docker-init.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, Running};
use crate::engine::{self, Engine, IMAGE};
use crate::lab::{Created, Lab};
use crate::{Check, check};

pub const CHECKS: &[Check] = &[
    check!(runs_a_container),
    check!(init_is_ours),
    check!(exit_codes),
    check!(zombies_without_init),
    check!(zombies_reaped),
    check!(stop_is_fast_with_init),
    check!(stop_times_out_without_init),
    check!(stop_reaches_group_and_setsid),
    check!(info_shows_init_version),
];

/// A private dockerd (and the containerd it starts), its state below the scratch directory.
pub struct Docker {
    root: PathBuf,
    host: String,
    daemon: Running,
    _created: Created,
}

impl Docker {
    pub fn start(lab: &Lab) -> Docker {
        let root = lab.scratch.join("docker");
        fs::create_dir_all(root.join("config")).expect("create the docker root");
        let host = format!("unix://{}", root.join("docker.sock").display());
        let created = Created::note(&["/etc/docker/key.json", "/run/docker", "/run/containerd"]);
        let mut dockerd = cmd::command(
            "dockerd",
            ["--data-root".as_ref(), root.join("data").as_os_str()],
        );
        dockerd
            .arg("--exec-root")
            .arg(root.join("exec"))
            .arg("--pidfile")
            .arg(root.join("dockerd.pid"))
            .args([
                "-H",
                &host,
                "--bridge=none",
                "--storage-driver",
                "vfs",
                "--log-level",
                "warn",
            ])
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ])
            .arg(format!("--cgroup-parent=/{}", lab.cgroup))
            .arg("--init-path")
            .arg(&lab.init);
        let mut docker = Docker {
            root,
            host,
            daemon: cmd::spawn(&mut dockerd),
            _created: created,
        };
        let up = kit::wait::poll(Duration::from_secs(60), || {
            docker.daemon.wait(Duration::ZERO).is_none()
                && cmd::run(&mut docker.cmd(&["version"])).code() == 0
        });
        assert!(
            up,
            "the private dockerd did not start:\n{}",
            docker.daemon.output()
        );
        let tar = fs::File::open(&lab.rootfs_tar).expect("open the rootfs tar");
        cmd::ok(docker.cmd(&["import", "-", IMAGE]).stdin(tar));
        docker
    }
}

impl Engine for Docker {
    fn name(&self) -> &'static str {
        "docker"
    }

    /// The docker.io client (it matches the daemon) talking to the private dockerd only.
    fn cli(&self) -> Command {
        let mut cmd = cmd::command("/usr/bin/docker", [] as [&str; 0]);
        cmd.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", self.root.join("config"))
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        cmd
    }

    fn remove(&self, id: &str) -> Command {
        self.cmd(&["rm", "-f", id])
    }

    fn init_path(&self) -> &'static str {
        "/sbin/docker-init"
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        let ids = cmd::run(&mut self.cmd(&["ps", "-aq"])).stdout;
        for id in ids.split_whitespace() {
            let _ = cmd::run(&mut self.remove(id));
        }
        let _ = cmd::run(&mut self.cmd(&["rmi", "-f", IMAGE]));
        // dockerd stops the containerd it started; the lab's end kills what is left by path.
        let _ = self.daemon.stop(Duration::from_secs(20));
    }
}

/// A container runs in the private engine.
fn runs_a_container(lab: &Lab) {
    assert_eq!(lab.docker().run(&[IMAGE, "echo", "hello"]).ok(), "hello");
}

/// `docker run --init` makes our binary PID 1, as /sbin/docker-init.
fn init_is_ours(lab: &Lab) {
    engine::init_is_ours(lab, lab.docker(), &["--init"]);
}

/// With --init, `exit 3` gives 3 and death by SIGKILL 137.
fn exit_codes(lab: &Lab) {
    engine::exit_codes(lab.docker());
}

/// Control: without an init, the orphans stay zombies (so the next check can fail).
fn zombies_without_init(lab: &Lab) {
    let listing = engine::after_orphans(lab.docker(), &[]);
    let z = engine::zombies(&listing)
        .iter()
        .filter(|l| l.contains("(sleep)"))
        .count();
    assert!(
        z >= 10,
        "want 10 zombie sleeps without an init, saw {z}: {listing}"
    );
}

/// With --init, the orphans are reaped.
fn zombies_reaped(lab: &Lab) {
    engine::orphans_reaped(lab.docker(), "docker-init");
}

/// `docker stop` of `sleep 1000` with --init is fast and exits 143.
fn stop_is_fast_with_init(lab: &Lab) {
    engine::stop_is_fast(lab.docker());
}

/// `docker stop` of `sleep 1000` without an init takes the 10 s timeout (137).
fn stop_times_out_without_init(lab: &Lab) {
    engine::stop_times_out_without_init(lab.docker());
}

/// `docker stop` sends SIGTERM to a background process in the main group (forwarded) and to
/// one that left it with setsid (sexton's shutdown) before the container ends.
fn stop_reaches_group_and_setsid(lab: &Lab) {
    let docker = lab.docker();
    let out = lab.fresh_dir("dstop");
    let volume = format!("{}:/out", out.display());
    let args = [
        "--init",
        "-v",
        &volume,
        IMAGE,
        "/e2e/leftovers.sh",
        "dstop",
        "sleep",
        "1000",
    ];
    let (id, _rm) = docker.detached(&args);
    kit::wait::until("the leftovers to be ready", || {
        out.join("dstop.setsid.ready").exists() && out.join("dstop.group.ready").exists()
    });
    engine::wait_for_child(docker.pid(&id), "sleep");
    let (took, code) = engine::stop(docker, &id, "leftovers.sh with --init");
    assert!(
        out.join("dstop.group").exists(),
        "the background subshell in the main group got no SIGTERM"
    );
    assert!(
        out.join("dstop.setsid").exists(),
        "the process that left the group got no SIGTERM"
    );
    assert_eq!(code, 143);
    assert!(took < Duration::from_secs(5), "docker stop took {took:?}");
}

/// `docker info` shows the init's version (dockerd runs `INIT --version` and parses it as
/// tini's), and dockerd logged no parse warning.
fn info_shows_init_version(lab: &Lab) {
    let docker = lab.docker();
    let commit = cmd::ok(&mut docker.cmd(&["info", "--format", "{{.InitCommit.ID}}"]));
    let log = docker.daemon.output();
    let warnings: Vec<_> = log
        .lines()
        .filter(|l| l.contains("failed to parse"))
        .collect();
    assert!(
        !commit.is_empty() && commit != "N/A" && warnings.is_empty(),
        "docker info shows init commit {commit:?}; dockerd logged {warnings:?}"
    );
}
