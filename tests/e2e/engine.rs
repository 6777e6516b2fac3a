//! What Docker and Podman (rootful and rootless) are checked for alike: their command lines
//! agree on `run`, `exec`, `inspect` and `stop`.

use std::process::Command;
use std::time::Duration;

use crate::cmd::{self, OnDrop, Out};
use crate::lab::Lab;
use crate::ready;

/// The image every engine imports from the busybox rootfs; its /sbin/sexton is the init.
pub const IMAGE: &str = "sexton-e2e:busybox";

pub trait Engine {
    /// How the measurements it prints name it.
    fn name(&self) -> &'static str;
    /// The client, set up to talk to this engine only; arguments follow.
    fn cli(&self) -> Command;
    /// Removes a container at once, running or not.
    fn remove(&self, id: &str) -> Command;
    /// Where `run --init` puts the init inside the container.
    fn init_path(&self) -> &'static str;

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.cli();
        cmd.args(args);
        cmd
    }

    /// `run --rm` of `args` (options, image, command), to its end.
    fn run(&self, args: &[&str]) -> Out {
        cmd::run(self.cmd(&["run", "--rm", "--network", "none"]).args(args))
    }

    /// `run -d`: the container's id, and a guard that removes it.
    fn detached(&self, args: &[&str]) -> (String, OnDrop) {
        let id = cmd::ok(self.cmd(&["run", "-d", "--network", "none"]).args(args));
        let guard = cmd::on_drop(self.remove(&id));
        (id, guard)
    }

    fn inspect(&self, id: &str, format: &str) -> String {
        cmd::ok(&mut self.cmd(&["inspect", "-f", format, id]))
    }

    /// The host pid of the container's first process.
    fn pid(&self, id: &str) -> i32 {
        self.inspect(id, "{{.State.Pid}}").parse().expect("a pid")
    }
}

/// One line `key=value` of a container's output.
fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {out}"))
}

/// `run OPTIONS IMAGE` makes the lab's init PID 1 (`INIT -- sh -c ...`), byte for byte.
pub fn init_is_ours(lab: &Lab, engine: &impl Engine, options: &[&str]) {
    let init = engine.init_path();
    let script = format!(
        r#"echo "cmdline=$(tr "\0" " " </proc/1/cmdline)"
        echo "sha=$(sha256sum {init} | cut -d" " -f1)"
        echo "version=$({init} --version 2>&1 | head -1)""#
    );
    let out = engine
        .run(&[options, &[IMAGE, "sh", "-c", &script]].concat())
        .ok();
    let ours = cmd::ok(&mut cmd::command("sha256sum", [&lab.init]));
    assert!(
        field(&out, "cmdline").starts_with(&format!("{init} -- sh -c ")),
        "PID 1 is not {init} -- sh -c ...: {out}"
    );
    assert_eq!(
        field(&out, "sha"),
        ours.split(' ').next().unwrap(),
        "{init} is not {:?}",
        lab.init
    );
    assert_eq!(field(&out, "version"), lab.version());
}

/// With --init, the exit code passes through (`exit 3` gives 3) and death by a signal gives
/// 128+N (SIGKILL, 137).
pub fn exit_codes(engine: &impl Engine) {
    engine
        .run(&["--init", IMAGE, "sh", "-c", "exit 3"])
        .expect(3);
    engine
        .run(&["--init", IMAGE, "sh", "-c", "kill -KILL $$"])
        .expect(137);
}

/// Starts 10 orphans then execs `sleep 30` (with or without --init); once no orphaned sleep
/// runs any more, the container's process list (one /proc/PID/stat line a process).
pub fn after_orphans(engine: &impl Engine, options: &[&str]) -> String {
    let args = [
        options,
        &[IMAGE, "/e2e/orphans-then-exec.sh", "10", "sleep", "30"],
    ]
    .concat();
    let (id, _rm) = engine.detached(&args);
    let list = || cmd::run(&mut engine.cmd(&["exec", &id, "/e2e/states.sh"]));
    if options.contains(&"--init") {
        when_orphans_reaped(list)
    } else {
        when_orphans_ended(list)
    }
}

/// The sleeps of a states.sh listing that still run (not zombies).
fn running_sleeps(listing: &str) -> usize {
    listing
        .lines()
        .filter(|l| l.contains(" (sleep) ") && l.split(' ').nth(2) != Some("Z"))
        .count()
}

/// Polls `list` (states.sh run in a container whose main process is `sleep 30`) until no
/// other sleep runs any more; the last listing.
pub fn when_orphans_ended(mut list: impl FnMut() -> Out) -> String {
    kit::wait::for_some("the orphaned sleeps to end", || {
        let listing = list();
        (listing.code() == 0 && running_sleeps(&listing.stdout) <= 1).then_some(listing.stdout)
    })
}

/// As [`when_orphans_ended`], and until no zombie is left either: an orphan that has just
/// exited is a zombie until its init reaps it, a moment later. An init that never reaps
/// leaves the wait at the deadline, with the zombies in the last listing.
pub fn when_orphans_reaped(mut list: impl FnMut() -> Out) -> String {
    let mut last = String::new();
    kit::wait::poll(kit::DEADLINE, || {
        let listing = list();
        let listed = listing.code() == 0;
        last = listing.stdout;
        listed && running_sleeps(&last) <= 1 && zombies(&last).is_empty()
    });
    last
}

/// The zombies of a states.sh listing.
pub fn zombies(listing: &str) -> Vec<&str> {
    listing
        .lines()
        .filter(|l| l.split(' ').nth(2) == Some("Z"))
        .collect()
}

/// A states.sh listing shows `comm` as PID 1 and no zombie.
pub fn assert_reaped(listing: &str, comm: &str) {
    let pid1 = format!("1 ({comm}) ");
    assert!(
        listing.lines().any(|l| l.starts_with(&pid1)),
        "PID 1 is not {comm}: {listing}"
    );
    assert!(zombies(listing).is_empty(), "zombies: {listing}");
}

/// The orphans of a container run with --init are reaped, and PID 1 is the init (`comm`).
pub fn orphans_reaped(engine: &impl Engine, comm: &str) {
    assert_reaped(&after_orphans(engine, &["--init"]), comm);
}

/// `stop -t 10` of the container: how long it took, and its exit code (both printed, for the
/// README's table).
pub fn stop(engine: &impl Engine, id: &str, what: &str) -> (Duration, i32) {
    let out = cmd::run(&mut engine.cmd(&["stop", "-t", "10", id]));
    out.expect(0);
    let code = engine
        .inspect(id, "{{.State.ExitCode}}")
        .parse()
        .expect("an exit code");
    println!(
        "    {} stop -t 10 of {what}: {:.2} s, exit {code}",
        engine.name(),
        out.took.as_secs_f64()
    );
    (out.took, code)
}

/// Waits until `pid` (an init) is ready for SIGTERM and has started a child named `comm`.
pub fn wait_for_child(pid: i32, comm: &str) {
    ready::wait_for_sigterm(pid);
    kit::wait::until(format_args!("a {comm} child of pid {pid}"), || {
        kit::procfs::child_named(pid, comm).is_some()
    });
}

/// `stop` of `sleep 1000` with --init is fast: the init forwards SIGTERM (exit 143).
pub fn stop_is_fast(engine: &impl Engine) {
    let (id, _rm) = engine.detached(&["--init", IMAGE, "sleep", "1000"]);
    wait_for_child(engine.pid(&id), "sleep");
    let (took, code) = stop(engine, &id, "sleep 1000 with --init");
    // 143, not the 137 of the runtime's SIGKILL, and before that SIGKILL's 10 s: no speed
    // target (the time is printed, for the README), only proof that SIGTERM did it.
    assert_eq!(code, 143);
    assert!(
        took < Duration::from_secs(8),
        "stop took {took:?}, want well under the 10 s timeout"
    );
}

/// The contrast: without an init, `sleep 1000` as PID 1 ignores SIGTERM, so stop takes the
/// whole 10 s timeout and ends it with SIGKILL (137).
pub fn stop_times_out_without_init(engine: &impl Engine) {
    let (id, _rm) = engine.detached(&[IMAGE, "sleep", "1000"]);
    let (took, code) = stop(engine, &id, "sleep 1000 without an init");
    assert_eq!(code, 137);
    assert!(
        took > Duration::from_secs(9),
        "took {took:?}, want the full ~10 s timeout"
    );
}
