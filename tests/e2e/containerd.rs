//! A private containerd 1.6 (own root, state and socket): `ctr run` with sexton as the
//! entrypoint; its CRI plugin (sandbox image: `sexton --pause`) serves [`crate::cri`].

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, Out, Running};
use crate::engine::{self, Engine, IMAGE};
use crate::lab::{Created, Lab};
use crate::{Check, check, ready};

pub const CHECKS: &[Check] = &[
    check!(exit_code),
    check!(zombies_reaped),
    check!(kill_term_reaches_child),
];

/// The images as containerd names them (imported from podman's docker-archives).
pub const APP_IMAGE: &str = "localhost/sexton-e2e:busybox";
pub const PAUSE_IMAGE: &str = "localhost/sexton-e2e:pause";
/// The namespace of the `ctr` checks, and the CRI's.
const NAMESPACES: [&str; 2] = ["sexton-e2e", "k8s.io"];

pub struct Containerd {
    pub socket: PathBuf,
    daemon: Running,
    /// containerd 1.6's shims keep sockets, fifos and runc state there, whatever the config.
    _created: Created,
}

impl Containerd {
    pub fn start(lab: &Lab) -> Containerd {
        let dir = lab.scratch.join("containerd");
        fs::create_dir_all(&dir).expect("create containerd's directory");
        let socket = dir.join("containerd.sock");
        // No CAP_SYS_RESOURCE here: the CRI may only raise containers' oom_score_adj.
        let config = format!(
            r#"version = 2
root = "{dir}/root"
state = "{dir}/state"
plugin_dir = "{dir}/plugins"
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{dir}/cni/bin"
    conf_dir = "{dir}/cni/conf"
"#,
            dir = dir.display(),
            sock = socket.display()
        );
        fs::write(dir.join("config.toml"), config).expect("write containerd's config");
        let mut containerd = cmd::command(
            "containerd",
            ["--config".as_ref(), dir.join("config.toml").as_os_str()],
        );
        containerd.args(["--log-level", "warn"]);
        let created = Created::note(&["/run/containerd"]);
        let mut c = Containerd {
            socket,
            daemon: cmd::spawn(&mut containerd),
            _created: created,
        };
        let up = kit::wait::poll(Duration::from_secs(60), || {
            c.daemon.wait(Duration::ZERO).is_none()
                && cmd::run(&mut c.ctr("default", &["version"])).code() == 0
        });
        assert!(
            up,
            "the private containerd did not start:\n{}",
            c.daemon.output()
        );
        c.import(lab, &dir);
        c
    }

    /// The images come from podman (rootful), which saves them as docker-archives; the pause
    /// image is the app image whose command is `/sbin/sexton --pause`.
    fn import(&self, lab: &Lab, dir: &std::path::Path) {
        let podman = lab.podman();
        let tar = fs::File::open(&lab.rootfs_tar).expect("open the rootfs tar");
        let cmd_pause = r#"CMD ["/sbin/sexton", "--pause"]"#;
        cmd::ok(
            podman
                .cmd(&["import", "--change", cmd_pause, "-", "sexton-e2e:pause"])
                .stdin(tar),
        );
        for (name, image) in [("app", IMAGE), ("pause", "sexton-e2e:pause")] {
            let archive = dir.join(format!("{name}.tar"));
            let out = archive.to_str().expect("a UTF-8 path");
            cmd::ok(&mut podman.cmd(&["save", "--format", "docker-archive", "-o", out, image]));
            for ns in NAMESPACES {
                cmd::ok(&mut self.ctr(ns, &["images", "import", "--snapshotter", "native", out]));
            }
        }
    }

    pub fn ctr(&self, namespace: &str, args: &[&str]) -> Command {
        let mut cmd = cmd::command("ctr", ["--address".as_ref(), self.socket.as_os_str()]);
        cmd.args(["--namespace", namespace]).args(args);
        cmd
    }

    /// The ids `ctr LIST` prints (first column, after the header).
    fn ids(&self, namespace: &str, list: &[&str]) -> Vec<String> {
        let out = cmd::run(&mut self.ctr(namespace, list)).stdout;
        out.lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for ns in NAMESPACES {
            for task in self.ids(ns, &["tasks", "ls"]) {
                let _ = cmd::run(&mut self.ctr(ns, &["tasks", "kill", "-s", "KILL", &task]));
                let _ = cmd::run(&mut self.ctr(ns, &["tasks", "rm", "-f", &task]));
            }
            for container in self.ids(ns, &["containers", "ls"]) {
                let _ = cmd::run(&mut self.ctr(ns, &["containers", "rm", &container]));
            }
            for image in self.ids(ns, &["images", "ls"]) {
                let _ = cmd::run(&mut self.ctr(ns, &["images", "rm", &image]));
            }
        }
        // The shims left (their command lines name the socket) end with the lab.
        let _ = self.daemon.stop(Duration::from_secs(20));
    }
}

/// `ctr run ID ARGS...` of the app image in the lab's cgroup, in the background.
fn ctr_run(lab: &Lab, id: &str, out: &std::path::Path, args: &[&str]) -> (Running, cmd::OnDrop) {
    let c = lab.containerd();
    let cgroup = format!("/{}/ctr-{id}", lab.cgroup);
    let mount = format!("type=bind,src={},dst=/out,options=rbind:rw", out.display());
    let mut run = c.ctr(
        NAMESPACES[0],
        &[
            "run",
            "--rm",
            "--snapshotter",
            "native",
            "--cgroup",
            &cgroup,
        ],
    );
    run.args(["--mount", &mount, APP_IMAGE, id]).args(args);
    let running = cmd::spawn(&mut run);
    let rm = cmd::on_drop_all(vec![
        c.ctr(NAMESPACES[0], &["tasks", "kill", "-s", "KILL", id]),
        c.ctr(NAMESPACES[0], &["tasks", "rm", "-f", id]),
        c.ctr(NAMESPACES[0], &["containers", "rm", id]),
    ]);
    (running, rm)
}

fn ctr_run_to_end(lab: &Lab, id: &str, args: &[&str]) -> Out {
    let out = lab.fresh_dir(id);
    let (running, _rm) = ctr_run(lab, id, &out, args);
    running.finish(Duration::from_secs(30))
}

/// `ctr run` with sexton as the entrypoint: `sh -c 'exit 7'` gives 7.
fn exit_code(lab: &Lab) {
    ctr_run_to_end(lab, "exit7", &["/sbin/sexton", "--", "sh", "-c", "exit 7"]).expect(7);
}

/// Orphans are reaped: no zombie left, and PID 1 is sexton.
fn zombies_reaped(lab: &Lab) {
    let out = ctr_run_to_end(
        lab,
        "zomb",
        &["/sbin/sexton", "--", "/e2e/zombies.sh", "10"],
    );
    engine::assert_reaped(&out.expect(0).stdout, "sexton");
}

/// `ctr task kill -s TERM` reaches a trapping child, whose 42 is the task's exit status.
fn kill_term_reaches_child(lab: &Lab) {
    let out = lab.fresh_dir("cterm");
    let (mut running, _rm) = ctr_run(
        lab,
        "cterm",
        &out,
        &["/sbin/sexton", "--", "/e2e/trap.sh", "term", "42"],
    );
    kit::wait::until("the trapping child to start", || {
        assert!(
            running.wait(Duration::ZERO).is_none(),
            "ctr run ended early: {}",
            running.output()
        );
        out.join("term.ready").exists()
    });
    let c = lab.containerd();
    let pid = cmd::ok(&mut c.ctr(NAMESPACES[0], &["tasks", "ls"]));
    let pid = pid.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        (f.next() == Some("cterm")).then(|| f.next()?.parse::<i32>().ok())?
    });
    ready::wait_for_sigterm(pid.expect("the task's pid in ctr tasks ls"));
    cmd::ok(&mut c.ctr(NAMESPACES[0], &["tasks", "kill", "-s", "TERM", "cterm"]));
    running.finish(Duration::from_secs(10)).expect(42);
}
