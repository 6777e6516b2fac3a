//! containerd's CRI driven as a kubelet would (through tests/e2e/cri.py, PyPI's generated CRI
//! v1 stubs): a pod sandbox whose image runs `sexton --pause` as PID 1 of a PID namespace its
//! containers share (`shareProcessNamespace: true`), and containers running `sexton -- app`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::cmd::{self, OnDrop};
use crate::containerd::APP_IMAGE;
use crate::engine;
use crate::lab::Lab;
use crate::{Check, check};

pub const CHECKS: &[Check] = &[
    check!(sandbox_reaps_orphans, sexton_only),
    check!(stop_container_is_graceful, sexton_only),
    check!(stop_and_remove_sandbox_is_clean, sexton_only),
];

/// One pod sandbox; stopped and removed when dropped.
struct Pod<'a> {
    lab: &'a Lab,
    name: String,
    id: String,
    /// The sandbox's configuration, which CreateContainer is given again.
    cgroup: String,
    logs: String,
    _remove: OnDrop,
}

fn cri(lab: &Lab, args: &[&str]) -> Command {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/cri.py");
    let mut cmd = cmd::command(
        &lab.python,
        [driver.as_os_str(), lab.containerd().socket.as_os_str()],
    );
    cmd.args(args);
    cmd
}

impl<'a> Pod<'a> {
    fn run(lab: &'a Lab, name: &str) -> Pod<'a> {
        let cgroup = format!("/{}/cri-{name}", lab.cgroup);
        let logs = lab.fresh_dir(&format!("{name}-logs"));
        let logs = logs.to_str().expect("a UTF-8 path").to_owned();
        let id = cmd::ok(&mut cri(lab, &["runp", name, &cgroup, &logs]));
        let remove = cmd::on_drop_all(vec![cri(lab, &["stopp", &id]), cri(lab, &["rmp", &id])]);
        Pod {
            lab,
            name: name.into(),
            id,
            cgroup,
            logs,
            _remove: remove,
        }
    }

    /// Creates and starts a container running `command`, with `out` at /out.
    fn start(&self, name: &str, out: &Path, command: &[&str]) -> String {
        let out = out.to_str().expect("a UTF-8 path");
        let create = [
            &[
                "create",
                &self.id,
                &self.name,
                &self.cgroup,
                &self.logs,
                name,
                APP_IMAGE,
                out,
            ],
            command,
        ]
        .concat();
        let id = cmd::ok(&mut cri(self.lab, &create));
        cmd::ok(&mut cri(self.lab, &["start", &id]));
        id
    }

    fn exec(&self, container: &str, command: &[&str]) -> cmd::Out {
        cmd::run(&mut cri(
            self.lab,
            &[&["exec", container], command].concat(),
        ))
    }

    fn pid(&self) -> i32 {
        cmd::ok(&mut cri(self.lab, &["pid", &self.id]))
            .parse()
            .expect("a pid")
    }
}

/// PID 1 of the pod is the sandbox image's `sexton --pause`, and it reaps the orphans of a
/// container (without an init of its own) in the shared namespace.
fn sandbox_reaps_orphans(lab: &Lab) {
    let pod = Pod::run(lab, "orphans");
    let out = lab.fresh_dir("cri-orphans");
    let id = pod.start(
        "orphans",
        &out,
        &["/e2e/orphans-then-exec.sh", "10", "sleep", "30"],
    );
    assert_eq!(
        pod.exec(&id, &["cat", "/proc/1/cmdline"]).ok(),
        "/sbin/sexton\0--pause\0"
    );
    engine::assert_reaped(
        &engine::when_orphans_reaped(|| pod.exec(&id, &["/e2e/states.sh"])),
        "sexton",
    );
}

/// StopContainer of `sexton -- trap.sh` is graceful: SIGTERM reaches the app, whose 42 is the
/// container's exit code, well before the kubelet's timeout would SIGKILL it.
fn stop_container_is_graceful(lab: &Lab) {
    let pod = Pod::run(lab, "stop");
    let out = lab.fresh_dir("cri-stop");
    let id = pod.start(
        "app",
        &out,
        &["/sbin/sexton", "--", "/e2e/trap.sh", "app", "42"],
    );
    kit::wait::until("the app to trap SIGTERM", || out.join("app.ready").exists());
    let stop = cmd::run(&mut cri(lab, &["stop", &id, "10"]));
    stop.expect(0);
    let status: Value =
        serde_json::from_str(&cmd::ok(&mut cri(lab, &["status", &id]))).expect("JSON");
    assert_eq!(status["state"], "CONTAINER_EXITED");
    assert_eq!(status["exit_code"], 42, "the app's own exit code");
    assert!(
        stop.took < Duration::from_secs(9),
        "StopContainer took {:?}: the timeout's SIGKILL",
        stop.took
    );
}

/// StopPodSandbox and RemovePodSandbox leave nothing: no sandbox, no container, the pause
/// process gone, no process left in the pod's cgroup.
fn stop_and_remove_sandbox_is_clean(lab: &Lab) {
    let pod = Pod::run(lab, "clean");
    let out = lab.fresh_dir("cri-clean");
    pod.start("app", &out, &["/sbin/sexton", "--", "sleep", "1000"]);
    let pause = pod.pid();
    cmd::ok(&mut cri(lab, &["stopp", &pod.id]));
    cmd::ok(&mut cri(lab, &["rmp", &pod.id]));
    let list: Value = serde_json::from_str(&cmd::ok(&mut cri(lab, &["list"]))).expect("JSON");
    assert_eq!(list["sandboxes"], serde_json::json!([]), "sandboxes left");
    assert_eq!(list["containers"], serde_json::json!([]), "containers left");
    kit::wait::until("the pause process to be gone", || {
        !kit::procfs::is_alive(pause)
    });
    let procs = std::fs::read_to_string(format!("/sys/fs/cgroup/pids{}/cgroup.procs", pod.cgroup))
        .unwrap_or_default();
    assert!(
        procs.trim().is_empty(),
        "processes left in the pod's cgroup: {procs}"
    );
}
