//! sexton as the infra (pause) process of a Podman pod that shares one PID namespace: PID 1
//! of every container in the pod, reaping the orphans of processes it did not start.

use std::time::Duration;

use crate::cmd::{self, OnDrop};
use crate::engine::{self, Engine, IMAGE};
use crate::lab::Lab;
use crate::podman::Podman;
use crate::{Check, check};

pub const CHECKS: &[Check] = &[
    check!(infra_is_sexton_pause, sexton_only),
    check!(orphans_reaped_by_infra, sexton_only),
    check!(stop_lets_apps_finish, sexton_only),
];

/// The README's pod: `podman pod create --share pid` with sexton as the infra command.
fn create_pod(podman: &Podman, name: &str) -> OnDrop {
    cmd::ok(&mut podman.cmd(&[
        "pod",
        "create",
        "--name",
        name,
        "--share",
        "pid",
        "--network",
        "none",
        "--infra-image",
        IMAGE,
        "--infra-command",
        "/sbin/sexton --pause",
    ]));
    let guard = cmd::on_drop(podman.cmd(&["pod", "rm", "-f", "-t", "0", name]));
    cmd::ok(&mut podman.cmd(&["pod", "start", name]));
    guard
}

/// PID 1 of a container in the pod is the infra's `/sbin/sexton --pause`.
fn infra_is_sexton_pause(lab: &Lab) {
    let podman = lab.podman();
    let _pod = create_pod(podman, "e2e-infra");
    let pid1 = podman
        .run(&["--pod", "e2e-infra", IMAGE, "cat", "/proc/1/cmdline"])
        .ok();
    assert_eq!(pid1, "/sbin/sexton\0--pause\0", "PID 1 of the pod");
}

/// Orphans of another container in the pod (no init of its own) are reaped by the infra.
fn orphans_reaped_by_infra(lab: &Lab) {
    let podman = lab.podman();
    let _pod = create_pod(podman, "e2e-orphans");
    let args = [
        "--pod",
        "e2e-orphans",
        IMAGE,
        "/e2e/orphans-then-exec.sh",
        "10",
        "sleep",
        "30",
    ];
    let (id, _rm) = podman.detached(&args);
    let listing =
        engine::when_orphans_reaped(|| cmd::run(&mut podman.cmd(&["exec", &id, "/e2e/states.sh"])));
    engine::assert_reaped(&listing, "sexton");
}

/// `podman pod stop` lets an app that sexton did not start finish its SIGTERM handler: the
/// app's 42, not the kernel's SIGKILL (137) when PID 1 leaves first.
fn stop_lets_apps_finish(lab: &Lab) {
    let podman = lab.podman();
    let out = lab.fresh_dir("podstop");
    let _pod = create_pod(podman, "e2e-stop");
    let volume = format!("{}:/out", out.display());
    let args = [
        "--pod",
        "e2e-stop",
        "-v",
        &volume,
        IMAGE,
        "/e2e/drain.sh",
        "app",
        "42",
    ];
    let (id, _rm) = podman.detached(&args);
    kit::wait::until("the app to trap SIGTERM", || out.join("app.ready").exists());
    let stop = cmd::run(&mut podman.cmd(&["pod", "stop", "-t", "10", "e2e-stop"]));
    stop.expect(0);
    assert!(
        out.join("app.done").exists(),
        "the app's SIGTERM handler did not finish"
    );
    assert_eq!(podman.inspect(&id, "{{.State.ExitCode}}"), "42");
    assert!(
        stop.took < Duration::from_secs(9),
        "pod stop took {:?}: the timeout's SIGKILL",
        stop.took
    );
}
