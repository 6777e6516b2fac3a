//! On a terminal: COMMAND gets the foreground (it can read the terminal and gets Ctrl-C),
//! and the job-control signals never stop sexton itself. Real pseudo-terminals throughout.

pub mod util;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

use kit::TempDir;
use kit::libc::{self, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH};
use util::{Proc, Run, SEXTON, sexton};

/// A pseudo-terminal: the test holds the master side.
struct Pty {
    master: File,
    slave: OwnedFd,
    /// Everything read from the master so far.
    seen: Vec<u8>,
}

impl Pty {
    fn open() -> Pty {
        let pty = nix::pty::openpty(None, None).expect("openpty");
        // SAFETY: fcntl on a descriptor we own.
        unsafe {
            let fd = pty.master.as_raw_fd();
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Pty {
            master: File::from(pty.master),
            slave: pty.slave,
            seen: Vec::new(),
        }
    }

    fn slave(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().expect("dup the slave"))
    }

    /// Starts `run` on the terminal, as a session leader with it as controlling terminal.
    /// The test keeps no slave descriptor: once the run is over the master reads EIO.
    fn start(self, run: Run) -> (Pty, Proc) {
        let proc = run
            .stdin(self.slave())
            .stdout(self.slave())
            .stderr(self.slave())
            .controlling_terminal()
            .spawn();
        let Pty {
            master,
            slave,
            seen,
        } = self;
        drop(slave);
        let pty = Pty {
            master,
            slave: File::open("/dev/null").unwrap().into(),
            seen,
        };
        (pty, proc)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to the terminal");
    }

    /// Reads until the output holds `needle`; fails after the deadline.
    fn read_until(&mut self, needle: &str) {
        let shown = kit::wait::poll(kit::DEADLINE, || {
            if String::from_utf8_lossy(&self.seen).contains(needle) {
                return true;
            }
            let _ = kit::wait::readable(self.master.as_fd(), Duration::from_millis(50));
            let mut buf = [0; 4096];
            match self.master.read(&mut buf) {
                Ok(n) => self.seen.extend_from_slice(&buf[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) if err.raw_os_error() == Some(libc::EIO) => {
                    // Nobody has the terminal open any more: nothing else will come.
                    panic!(
                        "the terminal closed without showing {needle:?}; it showed {:?}",
                        String::from_utf8_lossy(&self.seen)
                    );
                }
                Err(err) => panic!("read the terminal: {err}"),
            }
            false
        });
        assert!(
            shown,
            "the terminal never showed {needle:?}; it showed {:?}",
            String::from_utf8_lossy(&self.seen)
        );
    }

    /// The terminal's foreground process group.
    fn foreground(&self) -> i32 {
        nix::unistd::tcgetpgrp(&self.master).map_or(0, |pgrp| pgrp.as_raw())
    }
}

#[test]
fn the_command_can_read_the_terminal() {
    let (mut pty, mut run) =
        Pty::open().start(sexton(["sh", "-c", r#"read line; echo "got:$line""#]));
    pty.write(b"hello\n");
    pty.read_until("got:hello");
    run.wait().assert_code(0);
}

#[test]
fn the_command_is_the_foreground_and_ctrl_c_reaches_it() {
    let (mut pty, mut run) = Pty::open().start(sexton(["sleep", "30"]));
    let child = run.sexton_child();
    kit::wait::until("COMMAND to be the terminal's foreground", || {
        pty.foreground() == child
    });
    assert_eq!(
        kit::procfs::stat(child).unwrap().pgrp,
        child,
        "COMMAND has no group of its own"
    );
    pty.write(b"\x03");
    run.wait().assert_code(130);
}

/// Under a job-control shell, as from an interactive one: sexton is a job in a group of
/// its own, and that group is not orphaned, so a stop signal it did not ignore would stop it.
fn under_a_shell(command: &str, dir: &TempDir) -> (Pty, Proc, i32, i32) {
    let script = format!(r#""$SEXTON" -- {command}; echo "rc=$?""#);
    let (pty, run) = Pty::open().start(
        util::direct(["sh", "-m", "-c", &script])
            .env("SEXTON", SEXTON)
            .dir(dir),
    );
    let sexton = kit::wait::for_some("the shell to start sexton", || {
        kit::procfs::child_named(run.pid(), "sexton")
    });
    let child = kit::wait::for_some("sexton's command to take the terminal", || {
        kit::procfs::first_child(sexton).filter(|&child| pty.foreground() == child)
    });
    assert_eq!(
        kit::procfs::stat(sexton).unwrap().pgrp,
        sexton,
        "the shell did no job control"
    );
    (pty, run, sexton, child)
}

#[test]
fn ctrl_c_under_a_job_control_shell() {
    let dir = TempDir::new();
    let (mut pty, mut run, _, _) = under_a_shell("sleep 30", &dir);
    pty.write(b"\x03");
    pty.read_until("rc=130");
    run.wait().assert_code(0);
}

#[test]
fn job_control_signals_never_stop_sexton() {
    let dir = TempDir::new();
    // COMMAND forks nothing while the test signals it: dash forks with vfork, and a vfork
    // child stopped before its exec would hold its parent in the kernel, unstoppable.
    let command = r#"sh -c 'trap "echo winch >> \"\$D/log\"" WINCH; touch "$D/ready"; sleep 300 & while :; do wait; done'"#;
    let (mut pty, mut run, sexton, child) = under_a_shell(command, &dir);
    dir.wait_for("ready");
    let not_stopped = |what: &str| {
        assert_ne!(
            kit::procfs::state(sexton),
            Some('T'),
            "sexton was stopped by {what}"
        );
    };

    // TTIN and TTOU are ignored by sexton, not forwarded. Had either stopped sexton, its
    // forwarder would be stopped too, and the WINCH sent after them would never reach COMMAND.
    assert!(kit::send(sexton, SIGTTIN));
    assert!(kit::send(sexton, SIGTTOU));
    assert!(kit::send(sexton, SIGWINCH));
    dir.wait_for_text("log", "winch");
    not_stopped("SIGTTIN or SIGTTOU");

    // TSTP is forwarded: COMMAND stops, sexton does not.
    assert!(kit::send(sexton, SIGTSTP));
    kit::wait::until("COMMAND to stop", || kit::procfs::state(child) == Some('T'));
    not_stopped("SIGTSTP");
    assert!(kit::send(sexton, SIGCONT));
    kit::wait::until("COMMAND to continue", || {
        kit::procfs::state(child) != Some('T')
    });
    not_stopped("SIGCONT");

    // And the run ends normally, with COMMAND's status.
    pty.write(b"\x03");
    pty.read_until("rc=130");
    run.wait().assert_code(0);
}

#[test]
fn a_background_sexton_leaves_the_terminal_alone() {
    // Started in the background of a job-control shell, sexton must not take the terminal
    // from the shell's foreground job.
    let dir = TempDir::new();
    let script = r#"
        "$SEXTON" -- sh -c 'echo $$ > "$D/child"; while :; do sleep 0.05; done' &
        echo $! > "$D/sexton"
        read line
        echo "got:$line"
        kill $(cat "$D/sexton")
        wait
    "#;
    let (mut pty, mut run) = Pty::open().start(
        util::direct(["sh", "-m", "-c", script])
            .env("SEXTON", SEXTON)
            .dir(&dir),
    );
    // COMMAND writes its pid after exec, so after any hand-over of the terminal.
    dir.wait_for_pid("child");
    let shell = run.pid();
    assert_eq!(
        pty.foreground(),
        shell,
        "the terminal left the shell's foreground"
    );
    pty.write(b"still mine\n");
    pty.read_until("got:still mine");
    run.wait().assert_code(0);
}
