//! sexton as the process of an OCI bundle under runc: no engine in between.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cmd::{self, Out, Running};
use crate::lab::Lab;
use crate::{Check, check, engine, ready};

pub const CHECKS: &[Check] = &[
    check!(runs_a_container),
    check!(exit_code),
    check!(exec_errors),
    check!(zombies_reaped),
    check!(kill_term_reaches_child),
    check!(leftovers_get_sigterm),
    check!(grace_kills_stubborn_leftover, sexton_only),
    check!(pause_exits_0_on_term, sexton_only),
];

const RUN_TIMEOUT: Duration = Duration::from_secs(30);

/// A bundle for container `id` running `args` as its process, with `out` at /out.
fn bundle(lab: &Lab, id: &str, out: &Path, args: &[&str]) -> PathBuf {
    let dir = lab.scratch.join("bundles").join(id);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the bundle directory");
    // runc's own default spec (namespaces, mounts, capabilities), adapted.
    cmd::ok(cmd::command("runc", ["spec", "--bundle"]).arg(&dir));
    let file = dir.join("config.json");
    let mut config: Value = serde_json::from_slice(&fs::read(&file).expect("read config.json"))
        .expect("runc spec writes JSON");
    config["process"]["terminal"] = json!(false);
    config["process"]["args"] = json!(args);
    config["root"] = json!({ "path": lab.rootfs, "readonly": true });
    config["hostname"] = json!("sexton-e2e");
    config["mounts"].as_array_mut().expect("mounts").push(
        json!({ "destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"] }),
    );
    config["linux"]["cgroupsPath"] = json!(format!("/{}/{id}", lab.cgroup));
    fs::write(&file, serde_json::to_vec_pretty(&config).expect("JSON")).expect("write config.json");
    dir
}

fn runc(lab: &Lab) -> std::process::Command {
    cmd::command(
        "runc",
        ["--root".as_ref(), lab.scratch.join("runc").as_os_str()],
    )
}

/// A container started with `runc run` in the background; killed and deleted when dropped.
struct Container<'a> {
    lab: &'a Lab,
    id: String,
    run: Running,
    out: PathBuf,
}

impl<'a> Container<'a> {
    fn start(lab: &'a Lab, id: &str, args: &[&str]) -> Container<'a> {
        let out = lab.fresh_dir(id);
        let dir = bundle(lab, id, &out, args);
        let run = cmd::spawn(runc(lab).args(["run", "--bundle"]).arg(&dir).arg(id));
        Container {
            lab,
            id: id.into(),
            run,
            out,
        }
    }

    /// The host pid of the container's process, once runc reports it running.
    fn pid(&mut self) -> i32 {
        let what = format!("runc to report container {} running", self.id);
        kit::wait::for_some(&what, || {
            if let Some(out) = self.run.wait(Duration::ZERO) {
                panic!("the container ended before it ran: {out}");
            }
            let state = cmd::run(runc(self.lab).args(["state", &self.id]));
            let state: Value = serde_json::from_str(&state.stdout).ok()?;
            (state["status"] == "running")
                .then(|| state["pid"].as_i64())?
                .map(|p| p as i32)
        })
    }

    /// `runc kill ID TERM` once the init is ready for it; the end of `runc run`.
    fn term(mut self, timeout: Duration) -> Out {
        ready::wait_for_sigterm(self.pid());
        cmd::ok(runc(self.lab).args(["kill", &self.id, "TERM"]));
        let Some(out) = self.run.wait(timeout) else {
            panic!(
                "container still running {timeout:?} after runc kill TERM: {}",
                self.run.output()
            );
        };
        out
    }

    fn wait_for_file(&mut self, name: &str) {
        let path = self.out.join(name);
        let run = &mut self.run;
        kit::wait::until(format_args!("{} in the container", path.display()), || {
            if let Some(out) = run.wait(Duration::ZERO) {
                panic!("the container ended early: {out}");
            }
            path.exists()
        });
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = cmd::run(runc(self.lab).args(["kill", &self.id, "KILL"]));
        let _ = self.run.wait(cmd::TIMEOUT);
        let _ = cmd::run(runc(self.lab).args(["delete", "-f", &self.id]));
    }
}

/// Runs a container to its end (at most 30 s); the container and its /out directory.
fn run(lab: &Lab, id: &str, args: &[&str]) -> (Out, PathBuf) {
    let mut container = Container::start(lab, id, args);
    let out = container.run.wait(RUN_TIMEOUT);
    let out =
        out.unwrap_or_else(|| panic!("`runc run` of {args:?} still running after {RUN_TIMEOUT:?}"));
    (out, container.out.clone())
}

/// A container runs at all here (the other checks would fail for a reason that is not sexton).
fn runs_a_container(lab: &Lab) {
    run(lab, "smoke", &["/bin/true"]).0.expect(0);
}

/// The command's exit code passes through: `sh -c 'exit 7'` gives 7.
fn exit_code(lab: &Lab) {
    run(lab, "exit7", &["/sbin/sexton", "--", "sh", "-c", "exit 7"])
        .0
        .expect(7);
}

/// Exec errors give 127 (not found) and 126 (not executable).
fn exec_errors(lab: &Lab) {
    run(lab, "nf", &["/sbin/sexton", "--", "/no/such/command"])
        .0
        .expect(127);
    run(lab, "nx", &["/sbin/sexton", "--", "/e2e/not-executable"])
        .0
        .expect(126);
}

/// Orphans are reaped: no zombie left in the container, and PID 1 is sexton.
fn zombies_reaped(lab: &Lab) {
    let (out, _) = run(
        lab,
        "zomb",
        &["/sbin/sexton", "--", "/e2e/zombies.sh", "10"],
    );
    engine::assert_reaped(&out.expect(0).stdout, "sexton");
}

/// `runc kill TERM` reaches a trapping child, whose exit code (42) is the container's.
fn kill_term_reaches_child(lab: &Lab) {
    let mut c = Container::start(
        lab,
        "term",
        &["/sbin/sexton", "--", "/e2e/trap.sh", "term", "42"],
    );
    c.wait_for_file("term.ready");
    c.term(Duration::from_secs(10)).expect(42);
}

/// After the main child exits, leftovers in its group and outside it (setsid) get SIGTERM,
/// and the container ends at once, not after the grace period (5 s by default).
fn leftovers_get_sigterm(lab: &Lab) {
    let args = [
        "/sbin/sexton",
        "--",
        "/e2e/leftovers.sh",
        "left",
        "sh",
        "-c",
        "exit 5",
    ];
    let (out, dir) = run(lab, "left", &args);
    out.expect(5);
    assert!(
        dir.join("left.group").exists(),
        "the background process in the main group got no SIGTERM"
    );
    assert!(
        dir.join("left.setsid").exists(),
        "the process outside the group (setsid) got no SIGTERM"
    );
    assert!(
        out.took < Duration::from_secs(4),
        "took {:?}: TERMed leftovers exit at once",
        out.took
    );
}

/// `--grace 1` SIGKILLs a leftover that ignores SIGTERM after about 1 s.
fn grace_kills_stubborn_leftover(lab: &Lab) {
    let (out, dir) = run(
        lab,
        "grace",
        &["/sbin/sexton", "--grace", "1", "--", "/e2e/stubborn.sh"],
    );
    out.expect(0);
    assert!(
        dir.join("stubborn.ready").exists(),
        "the TERM-ignoring helper never started"
    );
    assert!(
        out.took > Duration::from_millis(800) && out.took < Duration::from_secs(4),
        "took {:?}, want about 1 s (SIGKILL after --grace 1)",
        out.took
    );
}

/// `--pause` exits 0 on `runc kill TERM`.
fn pause_exits_0_on_term(lab: &Lab) {
    let c = Container::start(lab, "pause", &["/sbin/sexton", "--pause"]);
    c.term(Duration::from_secs(5)).expect(0);
}
