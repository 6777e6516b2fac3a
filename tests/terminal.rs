//! On a terminal: COMMAND gets the foreground (it can read the terminal and gets Ctrl-C),
//! the job-control signals never stop sexton itself, and under a job-control shell Ctrl-Z,
//! `fg`, `bg` and `&` work as they do without sexton. Real pseudo-terminals throughout; and
//! a stop in the instant before COMMAND's exec, held open by a seccomp filter
//! ([`util::seccomp_hold`]).

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
    /// Where the next [`Pty::read_until`] starts looking: past the last text it found.
    from: usize,
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
            from: 0,
        }
    }

    fn slave(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().expect("dup the slave"))
    }

    /// Starts `run` on the terminal, as a session leader with it as controlling terminal.
    /// The test keeps no slave descriptor: once the run is over the master reads EIO.
    fn start(self, run: Run) -> (Pty, Proc) {
        self.attach(run.controlling_terminal())
    }

    /// Starts `run` with the terminal as stdin, stdout and stderr only.
    fn attach(self, run: Run) -> (Pty, Proc) {
        let proc = run
            .stdin(self.slave())
            .stdout(self.slave())
            .stderr(self.slave())
            .spawn();
        let pty = Pty {
            slave: File::open("/dev/null").unwrap().into(),
            ..self
        };
        (pty, proc)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to the terminal");
    }

    /// Reads until the output since the last text found holds `needle`; fails after the
    /// deadline.
    fn read_until(&mut self, needle: &str) {
        let shown = kit::wait::poll(kit::DEADLINE, || {
            let rest = &self.seen[self.from..];
            if let Some(at) = rest
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                self.from += at + needle.len();
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

    /// Types `line` to bash until the output it gives before its next prompt holds `needle`.
    /// bash hears of a job's change when the kernel tells it (SIGCHLD), which may come only
    /// after it has answered: so a person at the terminal presses Enter again.
    fn ask_until(&mut self, line: &str, needle: &str) {
        let shown = kit::wait::poll(kit::DEADLINE, || {
            let from = self.from;
            self.write(format!("{line}\n").as_bytes());
            self.read_until(PROMPT);
            let answer = &self.seen[from..self.from];
            answer.windows(needle.len()).any(|w| w == needle.as_bytes())
        });
        assert!(
            shown,
            "bash never answered {line:?} with {needle:?}; the terminal showed {:?}",
            String::from_utf8_lossy(&self.seen)
        );
    }

    /// The terminal's foreground process group.
    fn foreground(&self) -> i32 {
        nix::unistd::tcgetpgrp(&self.master).map_or(0, |pgrp| pgrp.as_raw())
    }

    /// Types `line` for COMMAND, which reads it and echoes `got:LINE`, and waits for that.
    fn answer(&mut self, line: &str) {
        self.write(format!("{line}\n").as_bytes());
        self.read_until(&format!("got:{line}"));
    }

    /// Waits until COMMAND's group (led by `child`) is the terminal's foreground.
    fn wait_for_foreground(&self, child: i32) {
        kit::wait::until("COMMAND to be the terminal's foreground", || {
            self.foreground() == child
        });
    }
}

#[test]
fn the_command_can_read_the_terminal() {
    let (mut pty, mut run) =
        Pty::open().start(sexton(["sh", "-c", r#"read line; echo "got:$line""#]));
    pty.answer("hello");
    run.wait().assert_code(0);
}

#[test]
fn the_command_is_the_foreground_and_ctrl_c_reaches_it() {
    let (mut pty, mut run) = Pty::open().start(sexton(["sleep", "30"]));
    let child = run.sexton_child();
    pty.wait_for_foreground(child);
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
    let command = r#"sh -c 'trap "echo winch >> \"\$D/log\"" WINCH; touch "$D/ready"; sleep 300 & while [ -d "$D" ]; do wait; done'"#;
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

    // CONT is forwarded, and stops nothing. (TSTP is forwarded too, and the job stops as
    // with Ctrl-Z: see the tests under bash.)
    assert!(kit::send(sexton, SIGCONT));
    assert!(kit::send(sexton, SIGWINCH));
    dir.wait_for_text("log", "winch\nwinch");
    assert_ne!(kit::procfs::state(child), Some('T'), "COMMAND stopped");
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

/// bash's prompt in [`interactive_bash`].
const PROMPT: &str = "$ ";

/// bash as [`interactive_bash`] runs it.
const BASH: [&str; 6] = [
    "bash",
    "--norc",
    "--noprofile",
    "--noediting",
    "--posix",
    "-i",
];

/// An interactive bash on the terminal, as a terminal emulator starts one: a session leader
/// with job control. Without line editing, so what the test types is read line by line; in
/// POSIX mode, so it names the signal that stopped a job: `Stopped(SIGTSTP)`.
fn interactive_bash(dir: &TempDir) -> (Pty, Proc) {
    let (mut pty, run) = Pty::open().start(
        util::direct(BASH)
            .env("PS1", PROMPT)
            .env("SEXTON", SEXTON)
            .dir(dir),
    );
    pty.read_until(PROMPT);
    (pty, run)
}

/// Types `line`, which starts sexton, to `bash`; returns the pids of sexton and COMMAND.
fn type_sexton(pty: &mut Pty, bash: &Proc, line: &str) -> (i32, i32) {
    pty.write(format!("{line}\n").as_bytes());
    let sexton = kit::wait::for_some("bash to start sexton", || {
        kit::procfs::child_named(bash.pid(), "sexton")
    });
    let child = kit::wait::for_some("sexton to start COMMAND", || {
        kit::procfs::first_child(sexton)
    });
    (sexton, child)
}

/// Waits for a job of `bash` (its pid `sexton`) to end, then has bash print its status.
fn job_status(pty: &mut Pty, sexton: i32, status: &str) {
    kit::wait::until("sexton to exit", || !kit::procfs::is_alive(sexton));
    pty.write(b"echo \"rc=$?\"\n");
    pty.read_until(&format!("rc={status}\r\n"));
}

/// Has `bash` exit, as it does when all went well.
fn exit(pty: &mut Pty, bash: &mut Proc) {
    pty.write(b"exit\n");
    bash.wait().assert_code(0);
}

/// `sexton -- sleep 30` in the foreground of bash, then Ctrl-Z: bash has its prompt back.
fn ctrl_z_in_bash(dir: &TempDir) -> (Pty, Proc, i32, i32) {
    let (mut pty, bash) = interactive_bash(dir);
    let (sexton, child) = type_sexton(&mut pty, &bash, r#""$SEXTON" -- sleep 30"#);
    pty.wait_for_foreground(child);
    pty.write(b"\x1a");
    pty.read_until("Stopped(SIGTSTP)");
    assert_eq!(kit::procfs::state(sexton), Some('T'), "sexton did not stop");
    assert_eq!(
        pty.foreground(),
        bash.pid(),
        "bash did not get its terminal back"
    );
    (pty, bash, sexton, child)
}

#[test]
fn ctrl_z_stops_the_job_and_fg_resumes_it_in_the_foreground() {
    let dir = TempDir::new();
    let (mut pty, mut bash, sexton, child) = ctrl_z_in_bash(&dir);
    let fg = |pty: &mut Pty| {
        pty.write(b"fg\n");
        kit::wait::until("COMMAND to run in the foreground again", || {
            pty.foreground() == child && kit::procfs::state(child) != Some('T')
        });
    };
    fg(&mut pty);
    // A SIGTSTP sent to sexton stops the job as Ctrl-Z does.
    assert!(kit::send(sexton, SIGTSTP));
    pty.read_until("Stopped(SIGTSTP)");
    fg(&mut pty);
    pty.write(b"\x03");
    job_status(&mut pty, sexton, "130");
    exit(&mut pty, &mut bash);
}

#[test]
fn bg_resumes_the_stopped_job_in_the_background() {
    let dir = TempDir::new();
    let (mut pty, mut bash, sexton, child) = ctrl_z_in_bash(&dir);
    pty.write(b"bg\n");
    kit::wait::until("sexton and COMMAND to run again", || {
        kit::procfs::state(sexton) != Some('T') && kit::procfs::state(child) != Some('T')
    });
    assert_eq!(
        pty.foreground(),
        bash.pid(),
        "bg took the terminal from bash"
    );
    pty.write(b"jobs\n");
    pty.read_until("Running");
    // The job's status is sexton's: COMMAND's SIGTERM.
    pty.write(b"kill %1; wait %1; echo \"rc=$?\"\n");
    pty.read_until("rc=143\r\n");
    exit(&mut pty, &mut bash);
}

#[test]
fn a_job_started_with_ampersand_reads_the_terminal_after_fg() {
    let dir = TempDir::new();
    let (mut pty, mut bash) = interactive_bash(&dir);
    let line = r#""$SEXTON" -- sh -c 'read x; echo "got:$x"' &"#;
    let (sexton, child) = type_sexton(&mut pty, &bash, line);
    // COMMAND reads in the background and stops: so does its job, as COMMAND alone would.
    // The job has stopped once every thread of sexton has: /proc/PID/stat is the main
    // thread's, which stops first, and the kernel tells bash only when the last one has.
    kit::wait::until("sexton to stop with COMMAND", || {
        let threads = kit::procfs::tasks(sexton);
        !threads.is_empty()
            && threads
                .iter()
                .all(|&thread| kit::procfs::state(thread) == Some('T'))
    });
    pty.ask_until("jobs", "Stopped(SIGTTIN)");
    pty.write(b"fg\n");
    pty.wait_for_foreground(child);
    pty.answer("hello");
    job_status(&mut pty, sexton, "0");
    exit(&mut pty, &mut bash);
}

#[test]
fn a_prompt_on_dev_tty_with_stdin_a_pipe_gets_the_terminal() {
    // As sudo, ssh or gpg prompt: stdin is not the terminal, /dev/tty is, and the prompt
    // turns echo off (tcsetattr) before it reads.
    let dir = TempDir::new();
    let (mut pty, mut bash) = interactive_bash(&dir);
    let line = r#"echo | "$SEXTON" -- sh -c 'stty -echo </dev/tty; read x </dev/tty; stty echo </dev/tty; echo "got:$x"'"#;
    let (sexton, _) = type_sexton(&mut pty, &bash, line);
    pty.answer("secret");
    job_status(&mut pty, sexton, "0");
    exit(&mut pty, &mut bash);
}

#[test]
fn the_other_members_of_a_pipeline_keep_the_terminal() {
    let dir = TempDir::new();
    let (mut pty, bash) = interactive_bash(&dir);
    // The reader starts reading only once COMMAND runs, so after any hand-over to COMMAND.
    let line = r#""$SEXTON" -- sleep 30 | sh -c 'while [ -d "$D" ] && [ ! -e "$D/go" ]; do sleep 0.05; done; read x </dev/tty; echo "got:$x"'"#;
    let (_, child) = type_sexton(&mut pty, &bash, line);
    kit::wait::until("COMMAND to run", || {
        kit::procfs::stat(child).is_some_and(|s| s.is_named("sleep"))
    });
    std::fs::write(dir.join("go"), "").unwrap();
    pty.answer("hello");
}

#[test]
fn sexton_never_takes_the_terminal_back_from_the_shell() {
    let dir = TempDir::new();
    let (mut pty, mut bash) = interactive_bash(&dir);
    let line = r#""$SEXTON" -- sh -c 'while [ -d "$D" ] && [ ! -e "$D/go" ]; do sleep 0.05; done'"#;
    let (sexton, child) = type_sexton(&mut pty, &bash, line);
    pty.wait_for_foreground(child);
    // sexton alone stops; bash takes its terminal back, and `bg` leaves it there.
    assert!(kit::send(sexton, libc::SIGSTOP));
    pty.read_until("Stopped(SIGSTOP)");
    pty.write(b"bg\n");
    kit::wait::until("sexton to run again", || {
        kit::procfs::state(sexton) != Some('T')
    });
    std::fs::write(dir.join("go"), "").unwrap();
    job_status(&mut pty, sexton, "0");
    assert_eq!(pty.foreground(), bash.pid(), "sexton took the terminal");
    exit(&mut pty, &mut bash);
}

/// sexton leading a session of its own on the terminal, with no job-control shell that could
/// ever continue a stopped command: Ctrl-Z stops COMMAND, sexton continues it (and says
/// `why`), COMMAND goes on reading, and Ctrl-C still ends it.
fn a_terminal_stop_is_undone(run: Run, why: &str) {
    let script = r#"read x; echo "got:$x"; exec sleep 30"#;
    let (mut pty, mut run) =
        Pty::open().attach(run.args(["--ctty", SEXTON, "-v", "--", "sh", "-c", script]));
    let child = run.sexton_child();
    pty.wait_for_foreground(child);
    pty.write(b"\x1a");
    pty.read_until(&format!(
        "{why}, with no job-control shell to resume it; continuing it"
    ));
    pty.answer("hello");
    kit::wait::until("COMMAND to exec sleep", || {
        kit::procfs::stat(child).is_some_and(|s| s.is_named("sleep"))
    });
    pty.write(b"\x03");
    run.wait().assert_code(130);
}

#[test]
fn as_pid_1_a_terminal_stop_is_undone() {
    // As `docker run -it` starts it: PID 1 of its namespace, leading its session.
    a_terminal_stop_is_undone(
        util::direct(["setsid"]).in_pid_namespace(),
        "sexton is PID 1",
    );
}

#[test]
fn in_an_orphaned_group_a_terminal_stop_is_undone() {
    // As `script -c sexton ...` starts it: its parent is in another session.
    a_terminal_stop_is_undone(
        util::direct(["setsid"]),
        "sexton's process group is orphaned",
    );
}

#[test]
fn without_a_terminal_a_sigtstp_stops_command_until_sigcont() {
    // No terminal, so no Ctrl-Z: whoever sent SIGTSTP is there to send SIGCONT.
    let mut run = sexton(["-vv", "--", "sleep", "30"])
        .in_pid_namespace()
        .spawn();
    let child = run.sexton_child();
    kit::wait::until("sleep to run", || {
        kit::procfs::stat(child).is_some_and(|s| s.is_named("sleep"))
    });
    run.signal(SIGTSTP);
    run.wait_for_log("was stopped by SIGTSTP");
    assert_eq!(
        kit::procfs::state(child),
        Some('T'),
        "COMMAND was continued"
    );
    run.signal(SIGCONT);
    kit::wait::until("COMMAND to continue", || {
        kit::procfs::state(child) != Some('T')
    });
    run.signal(libc::SIGTERM);
    run.wait().assert_code(143);
}

/// The rest of a [`util::seccomp_hold`] script, `HOLD_EXEC SEXTON ARGS...`: holds COMMAND's
/// execve(2), so the instant between its fork and its exec, where a Ctrl-Z can land, lasts as
/// long as the test needs. It stops COMMAND there with SIGSTOP, and lets the exec go on only if
/// COMMAND is continued (its execve is then made again). Prints what happened and sexton's
/// exit code.
const HOLD_EXEC: &str = r#"
def comm_and_state(pid):
    stat = open("/proc/%d/stat" % pid, "rb").read()
    return stat[stat.index(b"(") + 1:stat.rindex(b")")], stat[stat.rindex(b")") + 2:][:1]

sexton, listener = launch(int(os.environ["SYS_EXECVE"]), sys.argv[1:])
first = held(listener, 10)
if first is None:
    print("COMMAND never called execve")
    os.kill(sexton, signal.SIGKILL)
else:
    child = first[1]
    os.kill(child, signal.SIGSTOP)
    again = held(listener, 10)
    if again is None:
        print("stopped before its exec for good")
    else:
        go_on(listener, again[0])
        end = time.monotonic() + 10
        while comm_and_state(child) != (b"sleep", b"T") and time.monotonic() < end:
            time.sleep(0.01)
        print("after its exec:", comm_and_state(child))
    os.kill(child, signal.SIGKILL)
print("code=%d" % os.waitstatus_to_exitcode(os.waitpid(sexton, 0)[1]))
"#;

#[test]
fn a_stop_before_the_exec_is_held_until_the_command_runs() {
    // Stopped between fork and exec (a Ctrl-Z once COMMAND has the foreground), COMMAND would
    // never exec, and sexton, waiting for the exec, would wait for ever. sexton continues it
    // and, once it has exec'd, stops it again with the same signal.
    let out = util::seccomp_hold(HOLD_EXEC, [SEXTON, "sleep", "30"])
        .deadline(Duration::from_secs(40))
        .run();
    assert_eq!(
        out.stdout(),
        "after its exec: (b'sleep', b'T')\ncode=137\n",
        "{out}"
    );
}

#[test]
fn the_hand_over_uses_dev_tty_and_leaves_the_command_no_descriptor_of_it() {
    // stdin is not the terminal, so COMMAND can take the foreground before its exec only
    // through the descriptor of /dev/tty that sexton opened, close-on-exec: COMMAND gets the
    // terminal without stopping, and inherits no descriptor of it.
    let dir = TempDir::new();
    let script = r#"
        read x </dev/tty; echo "got:$x"
        for f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done > "$D/fds"
    "#;
    let launch = r#"exec "$SEXTON" -vv -- sh -c "$SCRIPT" </dev/null"#;
    let (mut pty, mut run) = Pty::open().attach(
        util::direct(["setsid", "--ctty", "sh", "-c", launch])
            .env("SEXTON", SEXTON)
            .env("SCRIPT", script)
            .dir(&dir),
    );
    let child = run.sexton_child();
    pty.answer("hello");
    run.wait().assert_code(0);
    // (What the test's own launcher leaks, such as the terminal's other descriptors, is not
    // sexton's to close: only the one it opened, of /dev/tty, must not be there.)
    let fds = dir.read("fds");
    assert!(
        !fds.lines().any(|l| l.ends_with(" /dev/tty")),
        "COMMAND inherited sexton's descriptor of /dev/tty:\n{fds}"
    );
    let seen = String::from_utf8_lossy(&pty.seen);
    assert!(
        !seen.contains(&format!(
            "made process group {child} the terminal's foreground"
        )),
        "COMMAND had to stop to get the terminal:\n{seen}"
    );
}

/// `python3 -c GIVES_FOREGROUND SEXTON ARGS...`, as a session leader on a terminal without
/// job control: runs sexton in a process group of its own in the foreground, then prints which
/// group holds the foreground once sexton has exited.
const GIVES_FOREGROUND: &str = r#"import os, signal, sys
tty = os.open("/dev/tty", os.O_RDWR)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    os.tcsetpgrp(tty, os.getpid())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.argv[1], sys.argv[1:])
os.waitpid(pid, 0)
print("foreground:", "sexton's group" if os.tcgetpgrp(tty) == pid else "another group")
"#;

#[test]
fn at_the_end_the_foreground_goes_back_to_sextons_group() {
    // A launcher without job control that gave sexton's group the terminal finds it as it
    // left it, not with COMMAND's group, which is gone.
    let (mut pty, mut run) = Pty::open().attach(util::direct([
        "setsid",
        "--ctty",
        "python3",
        "-c",
        GIVES_FOREGROUND,
        SEXTON,
        "--",
        "true",
    ]));
    pty.read_until("foreground: ");
    pty.read_until("sexton's group");
    run.wait().assert_code(0);
}

/// The rest of a [`util::seccomp_hold`] script, `HOLD_HAND_OVER SHELL ARGS...`: runs the shell
/// with every ioctl(2) of it and of all it starts passed through this script, and holds the
/// first TIOCSPGRP of sexton's (its pid in "$D/sexton") once "$D/fg" exists: the hand-over of
/// the terminal to COMMAND after `fg`. Meanwhile it watches "$D/beats", which COMMAND writes to
/// while it runs, and says whether COMMAND ran before it had the terminal.
const HOLD_HAND_OVER: &str = r#"
TIOCSPGRP = 0x5410
d = os.environ["D"]
shell, listener = launch(int(os.environ["SYS_IOCTL"]), sys.argv[1:])
def beats():
    return os.path.getsize(d + "/beats")
checked = False
def each(caller, args):
    global checked
    if not checked and args[1] == TIOCSPGRP and os.path.exists(d + "/fg") \
            and caller == int(open(d + "/sexton").read()):
        checked = True
        before = beats()
        time.sleep(0.5)
        ran = beats() != before
        print("COMMAND", "ran before it had the terminal" if ran else "waited for the terminal")
serve(listener, shell, each)
"#;

#[test]
fn after_fg_the_command_goes_on_only_once_it_has_the_terminal() {
    // The shell's `fg` sends SIGCONT to sexton's group. sexton holds it back from COMMAND
    // until it has handed COMMAND the terminal: here that hand-over is held, and COMMAND, which
    // would run in the background of the terminal, must stay stopped meanwhile.
    let dir = TempDir::new();
    let (mut pty, mut bash) = Pty::open().start(
        util::seccomp_hold(HOLD_HAND_OVER, BASH)
            .env("PS1", PROMPT)
            .env("SEXTON", SEXTON)
            .dir(&dir),
    );
    pty.read_until(PROMPT);
    let command =
        r#"echo $PPID > "$D/sexton"; while :; do echo >> "$D/beats"; sleep 0.05 & wait $!; done"#;
    pty.write(format!("\"$SEXTON\" -- sh -c '{command}'\n").as_bytes());
    dir.wait_for("beats");
    pty.write(b"\x1a");
    pty.read_until("Stopped(SIGTSTP)");
    std::fs::write(dir.join("fg"), "").unwrap();
    pty.write(b"fg\n");
    pty.read_until("COMMAND waited for the terminal");
    pty.write(b"\x03");
    pty.read_until(PROMPT);
    pty.write(b"exit\n");
    bash.wait().assert_code(0);
}
