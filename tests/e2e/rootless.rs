//! Podman rootless: an unprivileged user of this run, with subordinate ids (uidmap), vfs
//! storage, and the core checks of [`crate::podman`] again.

use std::fs;
use std::time::Duration;

use kit::libc::SIGKILL;

use crate::cmd;
use crate::engine;
use crate::lab::{self, Lab};
use crate::podman::Podman;
use crate::{Check, check};

pub const CHECKS: &[Check] = &[
    check!(init_path_flag),
    check!(exit_codes),
    check!(zombies_reaped),
    check!(stop_is_fast_with_init),
];

pub struct Rootless {
    pub podman: Podman,
    _user: User,
}

impl Rootless {
    pub fn start(lab: &Lab) -> Rootless {
        let user = User::create(&user_name());
        let dir = lab.scratch.join("rootless");
        let podman = Podman::configure(lab, &dir, Some((&user.name, user.uid)));
        Rootless {
            podman,
            _user: user,
        }
    }
}

/// The name of this run's user.
pub fn user_name() -> String {
    format!("sexton-e2e-{}", std::process::id())
}

/// A user of this run, with the subordinate ids useradd gives it; on drop, every process it
/// still has (podman's rootless pause process, conmons) is killed by pid, then it is deleted
/// (userdel also removes its subordinate ids).
struct User {
    name: String,
    uid: u32,
}

impl User {
    fn create(name: &str) -> User {
        cmd::ok(&mut cmd::command(
            "useradd",
            ["--no-create-home", "--shell", "/bin/sh", name],
        ));
        let user = User {
            name: name.to_owned(),
            uid: cmd::ok(&mut cmd::command("id", ["-u", name]))
                .parse()
                .expect("a uid"),
        };
        for file in ["/etc/subuid", "/etc/subgid"] {
            let ids = fs::read_to_string(file).unwrap_or_default();
            let prefix = format!("{name}:");
            assert!(
                ids.lines().any(|l| l.starts_with(&prefix)),
                "useradd gave {name} no range in {file}"
            );
        }
        user
    }

    fn processes(&self) -> Vec<i32> {
        let uid = self.uid.to_string();
        lab::processes(|pid| {
            kit::procfs::status_field(pid, "Uid")
                .is_some_and(|ids| ids.split_whitespace().next() == Some(&uid))
        })
    }
}

impl Drop for User {
    fn drop(&mut self) {
        for pid in self.processes() {
            kit::send(pid, SIGKILL);
        }
        // What is left over shows in the lab's final check for the user.
        kit::wait::poll(Duration::from_secs(10), || self.processes().is_empty());
        let _ = cmd::run(&mut cmd::command("userdel", [&self.name]));
    }
}

/// `podman run --init --init-path SEXTON` as the user makes it PID 1.
fn init_path_flag(lab: &Lab) {
    let init = lab.init.to_str().expect("a UTF-8 path");
    engine::init_is_ours(
        lab,
        &lab.rootless().podman,
        &["--init", "--init-path", init],
    );
}

/// With --init, `exit 3` gives 3 and death by SIGKILL 137.
fn exit_codes(lab: &Lab) {
    engine::exit_codes(&lab.rootless().podman);
}

/// With --init, the orphans are reaped.
fn zombies_reaped(lab: &Lab) {
    engine::orphans_reaped(&lab.rootless().podman, "podman-init");
}

/// `podman stop` of `sleep 1000` with --init is fast and exits 143.
fn stop_is_fast_with_init(lab: &Lab) {
    engine::stop_is_fast(&lab.rootless().podman);
}
