//! What COMMAND inherits: exactly what it would get if the launcher ran it directly (signal
//! mask and ignored signals, open descriptors, sockets passed for activation, a script
//! without `#!` run as execvp runs it), while sexton keeps none of the launcher's descriptors
//! or its directory; and sexton copes with closed or broken stdio.

pub mod util;

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kit::TempDir;
use kit::libc::{SIGHUP, SIGPIPE, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR2};
use util::{Run, direct, sexton};

const SIGNAL_STATE: [&str; 3] = ["grep", "-E", "^Sig(Blk|Ign|Cgt)"];

/// The signal state `grep` sees, run directly and under sexton (both start paths, plain and
/// with an option), from launchers set up by `launcher`.
fn compare_signal_state(launcher: impl Fn(Run) -> Run) {
    let status = "/proc/self/status";
    let direct = launcher(direct(SIGNAL_STATE).arg(status)).run();
    direct.assert_code(0);
    let expected = direct.stdout();
    assert_eq!(expected.lines().count(), 3, "{direct}");
    for options in [
        &[][..],
        &["--"],
        &["-t", "1", "--"],
        &["-c", "-g", "-s", "--"],
    ] {
        let under = launcher(sexton(options).args(SIGNAL_STATE).arg(status)).run();
        under.assert_code(0).assert_quiet();
        assert_eq!(under.stdout(), expected, "options {options:?}");
    }
}

#[test]
fn default_signal_state_is_passed_on() {
    compare_signal_state(|run| run);
}

#[test]
fn ignored_and_blocked_signals_are_passed_on() {
    let rt = kit::sigrtmin() + 3;
    compare_signal_state(|run| {
        run.ignore_signal(SIGHUP)
            .ignore_signal(SIGPIPE)
            .ignore_signal(SIGTTOU)
            .block_signal(SIGUSR2)
            .block_signal(SIGTERM)
            .block_signal(SIGTTIN)
            .block_signal(rt)
    });
}

#[test]
fn nohup_is_respected() {
    // SIGHUP ignored by the launcher: sexton does not forward it, and COMMAND ignores it too.
    let dir = TempDir::new();
    let mut run = sexton([
        "sh",
        "-c",
        r#"touch "$D/ready"; while :; do sleep 0.05; done"#,
    ])
    .ignore_signal(SIGHUP)
    .env("SEXTON_LOG", "debug")
    .dir(&dir)
    .spawn();
    dir.wait_for("ready");
    let child = run.sexton_child();
    assert!(kit::procfs::has_signal(
        kit::procfs::signal_set(child, "SigIgn"),
        SIGHUP
    ));
    // sexton leaves it ignored and unblocked, so the kernel discards it on arrival rather
    // than queue it for the forwarder.
    let sexton = run.sexton_pid();
    assert!(kit::procfs::has_signal(
        kit::procfs::signal_set(sexton, "SigIgn"),
        SIGHUP
    ));
    assert!(!kit::procfs::blocks(sexton, SIGHUP));
    run.signal(SIGHUP);
    run.signal(SIGTERM);
    let out = run.wait();
    out.assert_code(143);
    assert!(out.stderr.contains("forwarded SIGTERM"), "{out}");
    assert!(!out.stderr.contains("SIGHUP"), "{out}");
}

fn fds(run: Run) -> String {
    let out = run.run();
    out.assert_code(0);
    out.stdout()
}

#[test]
fn no_descriptor_leaks_into_the_command() {
    // An extra descriptor the launcher passes on (as socket activation does) must get through,
    // and sexton must add none of its own.
    let dir = TempDir::new();
    let extra = File::create(dir.join("extra")).unwrap();
    let launch = |run: Run| run.pass_fd(extra.as_raw_fd(), 9);
    let expected = fds(launch(direct(["ls", "/proc/self/fd"])));
    assert!(expected.lines().any(|l| l == "9"), "{expected}");
    for options in [&[][..], &["-t", "1", "--"], &["-v", "--"]] {
        let under = launch(sexton(options).args(["ls", "/proc/self/fd"]));
        assert_eq!(fds(under), expected, "options {options:?}");
    }
    // As PID 1 as well (unshare passes the descriptor on unchanged).
    let expected = fds(launch(direct(["ls", "/proc/self/fd"]).in_pid_namespace()));
    let under = launch(sexton(["ls", "/proc/self/fd"]).in_pid_namespace());
    assert_eq!(fds(under), expected);
}

#[test]
fn closed_stderr() {
    // -v makes sexton log; with nowhere to write, it carries on and exits as COMMAND did.
    sexton(["-v", "sh", "-c", "exit 5"])
        .close_fd(2)
        .run()
        .assert_code(5);
    sexton([
        "-vvv",
        "-t",
        "0.2",
        "sh",
        "-c",
        "sleep 30 & ( : & ); exit 6",
    ])
    .close_fd(2)
    .run()
    .assert_code(6);
    // Failures too: the message is lost, the code is not.
    sexton(["sexton-no-such-command"])
        .close_fd(2)
        .run()
        .assert_code(127);
    sexton(["--bogus"]).close_fd(2).run().assert_code(125);
}

#[test]
fn closed_stdout() {
    sexton(["-v", "sh", "-c", "exit 5"])
        .close_fd(1)
        .run()
        .assert_code(5);
    // As in coreutils, text that cannot be written is a failure.
    for flag in ["--version", "--help", "--license"] {
        sexton([flag])
            .close_fd(1)
            .run()
            .assert_one_error_line(&["sexton: cannot write to stdout"])
            .assert_code(125);
    }
}

#[test]
fn help_to_a_full_disk_fails() {
    for flag in ["--help", "--license", "--version"] {
        let full = std::fs::File::create("/dev/full").unwrap();
        sexton([flag])
            .stdout(full)
            .run()
            .assert_one_error_line(&["No space left on device"])
            .assert_code(125);
    }
}

/// With 0, 1 and 2 closed, sexton's own descriptors (its exec-failure pipe) take those
/// numbers; COMMAND must still find them closed.
#[test]
fn closed_stdin_stdout_and_stderr() {
    let dir = TempDir::new();
    let script = r#"ls /proc/$$/fd > "$D/fds.$1"; exit 4"#;
    let close_all = |run: Run| run.close_fd(0).close_fd(1).close_fd(2).dir(&dir);
    close_all(direct(["sh", "-c", script, "sh", "direct"]))
        .run()
        .assert_code(4);
    close_all(sexton(["-v", "sh", "-c", script, "sh", "sexton"]))
        .run()
        .assert_code(4);
    assert!(dir.exists("fds.direct") && dir.exists("fds.sexton"));
    assert_eq!(dir.read("fds.sexton"), dir.read("fds.direct"));
}

#[test]
fn a_broken_pipe_on_stderr() {
    // Writing a log line gets EPIPE; SIGPIPE must not kill sexton.
    let out = sexton(["-vv", "sh", "-c", "( : & ); exit 5"])
        .stderr(kit::broken_pipe())
        .run();
    out.assert_code(5);
    let out = sexton(["sexton-no-such-command"])
        .stderr(kit::broken_pipe())
        .run();
    out.assert_code(127);
    let out = sexton(["--version"]).stdout(kit::broken_pipe()).run();
    out.assert_code(0);
}

/// The descriptors `pid` has open from 3 up.
fn descriptors_from_3(pid: i32) -> Vec<i32> {
    let mut fds: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|err| panic!("/proc/{pid}/fd: {err}"))
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= 3)
        .collect();
    fds.sort();
    fds
}

/// Waits until sexton holds no descriptor from 3 up: the child runs before sexton hears that
/// its exec succeeded, and only then does sexton let go.
fn wait_until_sexton_holds_nothing(run: &util::Proc) {
    let sexton = run.sexton_pid();
    kit::wait::until("sexton to hold no descriptor from 3 up", || {
        descriptors_from_3(sexton).is_empty()
    });
}

/// Whether something listens on the loopback `port` (a connection is refused once no process
/// holds the listening socket any more).
fn listening(port: u16) -> bool {
    match TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => true,
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "connect: {err}");
            false
        }
    }
}

/// A pipe's write end and a listening socket, passed as 5 and 6 to sexton started by
/// `launcher`: once COMMAND closes its copies, the reader sees end of file and the port is
/// free, while sexton still runs.
fn lets_go_of_a_pipe_and_a_socket(launcher: Run) {
    let dir = TempDir::new();
    let (read, write) = kit::pipe();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut run = launcher
        .args([
            "sh",
            "-c",
            r#"exec 5>&- 6>&-; touch "$D/closed"; exec sleep 30"#,
        ])
        .pass_fd(write.as_raw_fd(), 5)
        .pass_fd(listener.as_raw_fd(), 6)
        .dir(&dir)
        .spawn();
    drop((write, listener));
    dir.wait_for("closed");
    kit::wait::until("the pipe's reader to see end of file", || hung_up(&read));
    kit::wait::until("the port to be free", || !listening(port));
    assert!(kit::procfs::is_alive(run.sexton_pid()));
    wait_until_sexton_holds_nothing(&run);
    run.signal(SIGTERM);
    run.wait().assert_code(143);
}

#[test]
fn sexton_keeps_no_inherited_descriptor() {
    lets_go_of_a_pipe_and_a_socket(sexton(["--"]));
}

#[test]
fn sexton_keeps_no_inherited_descriptor_without_close_range() {
    // As on Linux before 5.9, or under a container profile that does not know the call.
    lets_go_of_a_pipe_and_a_socket(
        sexton(["--"]).refuse_syscall(kit::libc::SYS_close_range, kit::libc::ENOSYS),
    );
}

#[test]
fn without_close_range_or_proc_every_descriptor_below_the_limit_is_let_go() {
    // The last fallback closes every number below the descriptor limit. The pipe is passed as
    // the highest descriptor the limit allows, well above the 1024 a guess would stop at.
    let mut limit = kit::libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer.
    unsafe { kit::libc::getrlimit(kit::libc::RLIMIT_NOFILE, &mut limit) };
    let Some(high) = i32::try_from(limit.rlim_cur)
        .ok()
        .map(|n| n - 1)
        .filter(|&n| n > 1024)
    else {
        eprintln!(
            "skipped: the descriptor limit ({}) is too low",
            limit.rlim_cur
        );
        return;
    };
    let dir = TempDir::new();
    let (read, write) = kit::pipe();
    let script = r#"mount -t tmpfs none /proc && exec "$SEXTON" -- python3 -c "$CLOSE""#;
    let close = "import os, time\n\
                 os.close(int(os.environ['HIGH']))\n\
                 open(os.environ['D'] + '/closed', 'w').close()\n\
                 time.sleep(30)";
    let mut run = direct(kit::ns::unshare_argv_with(&["--mount"]))
        .args(["sh", "-c", script])
        .env("SEXTON", util::SEXTON)
        .env("CLOSE", close)
        .env("HIGH", high.to_string())
        .refuse_syscall(kit::libc::SYS_close_range, kit::libc::ENOSYS)
        .pass_fd(write.as_raw_fd(), high)
        .dir(&dir)
        .spawn();
    drop(write);
    dir.wait_for("closed");
    kit::wait::until("the pipe's reader to see end of file", || hung_up(&read));
    run.signal(SIGTERM);
    run.wait().assert_code(143);
}

/// In pause mode there is no program to pass anything to: neither sexton nor its placeholder
/// keeps what sexton was launched with.
#[test]
fn pause_keeps_no_inherited_descriptor() {
    let (read, write) = kit::pipe();
    let mut run = sexton(["--pause"]).pass_fd(write.as_raw_fd(), 5).spawn();
    drop(write);
    kit::wait::until("the pipe's reader to see end of file", || hung_up(&read));
    run.signal(SIGTERM);
    run.wait().assert_code(0);
}

/// Whether the writers of the pipe `read` reads from are all gone.
fn hung_up(read: &impl AsRawFd) -> bool {
    let mut poll = kit::libc::pollfd {
        fd: read.as_raw_fd(),
        events: kit::libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout returns at once.
    unsafe { kit::libc::poll(&mut poll, 1, 0) };
    poll.revents & kit::libc::POLLHUP != 0
}

/// A COMMAND that says it runs and then idles until it is signalled.
const READY_THEN_SLEEP: &str = r#"touch "$D/ready"; exec sleep 30"#;

#[test]
fn sexton_as_pid_1_keeps_no_inherited_descriptor() {
    // `unshare` keeps its own copy, so here it is sexton's descriptors that tell.
    let dir = TempDir::new();
    let extra = File::create(dir.join("extra")).unwrap();
    let mut run = sexton(["sh", "-c", READY_THEN_SLEEP])
        .pass_fd(extra.as_raw_fd(), 5)
        .in_pid_namespace()
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    assert!(descriptors_from_3(run.sexton_child()).contains(&5));
    wait_until_sexton_holds_nothing(&run);
    run.signal(SIGTERM);
    run.wait().assert_code(143);
}

#[test]
fn sexton_leaves_the_launch_directory() {
    let dir = TempDir::new();
    let cwd = |pid: i32| std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    let mut run = sexton(["sh", "-c", READY_THEN_SLEEP])
        .current_dir(dir.path())
        .dir(&dir)
        .spawn();
    dir.wait_for("ready");
    assert_eq!(cwd(run.sexton_child()), dir.path());
    // The child runs before sexton hears that its exec succeeded, and so lets go.
    kit::wait::until("sexton to move to /", || {
        cwd(run.sexton_pid()) == Path::new("/")
    });
    run.signal(SIGTERM);
    run.wait().assert_code(143);
}

#[test]
fn a_launch_directory_that_cannot_be_left_is_said_only_then() {
    // A seccomp profile may refuse chdir(2): the command runs all the same, and sexton says
    // why it stays, at debug level; when it does leave, it says nothing.
    let said = |verbose: &str, refused: bool| {
        let mut run = sexton([verbose, "true"]);
        if refused {
            run = run.refuse_syscall(kit::libc::SYS_chdir, kit::libc::EACCES);
        }
        let out = run.run();
        out.assert_code(0);
        out.stderr.contains("cannot leave the launch directory")
    };
    assert!(!said("-vv", false));
    assert!(said("-vv", true));
    assert!(!said("-v", true), "said above debug level");
}

/// A socket-activated server: takes the listening socket on descriptor 3 as `sd_listen_fds`
/// would, accepts one connection, closes the listener, writes its pid and what it was told,
/// and exits when the client hangs up.
const ACTIVATED: &str = r#"
import os, socket
listener = socket.socket(fileno=3)
conn, _ = listener.accept()
listener.close()
env = os.environ
told = [env.get(name, "-") for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LISTEN_PIDFDID")]
conn.sendall(("%d %s\n" % (os.getpid(), " ".join(told))).encode())
conn.recv(1)
"#;

/// Connects to the activated server on `port` and returns its pid and what it was told, with
/// the connection to close when done.
fn ask_activated(port: u16) -> (Vec<String>, TcpStream) {
    let conn = kit::wait::for_some("the activated socket to listen", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    conn.set_read_timeout(Some(kit::DEADLINE)).unwrap();
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line).unwrap();
    (line.split_whitespace().map(str::to_owned).collect(), conn)
}

#[test]
fn socket_activation_reaches_the_command() {
    // systemd-socket-activate names itself in LISTEN_PID and execs sexton in place.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut run = direct(["systemd-socket-activate", "--fdname=web", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args([util::SEXTON, "--", "python3", "-c", ACTIVATED])
        .spawn();
    let (told, conn) = ask_activated(port);
    assert_eq!(
        told[1], told[0],
        "LISTEN_PID must be the command's own pid: {told:?}"
    );
    assert_eq!(told[2..], ["1", "web", "-"], "{told:?}");
    kit::wait::until("the port to be free", || !listening(port));
    assert!(kit::procfs::is_alive(run.sexton_pid()));
    drop(conn);
    // systemd-socket-activate says on stderr what it did; sexton has nothing to say.
    run.wait().assert_code(0).assert_sexton_quiet();
}

#[test]
fn socket_activation_of_pid_1() {
    // podman passes sockets to its container's PID 1 with LISTEN_PID=1.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut run = sexton(["python3", "-c", ACTIVATED])
        .envs(&[
            ("LISTEN_PID", "1"),
            ("LISTEN_FDS", "1"),
            ("LISTEN_FDNAMES", "web"),
            ("LISTEN_PIDFDID", "12345"),
        ])
        .pass_fd(listener.as_raw_fd(), 3)
        .in_pid_namespace()
        .spawn();
    drop(listener);
    let (told, conn) = ask_activated(port);
    assert_ne!(told[0], "1");
    assert_eq!(
        told[1], told[0],
        "LISTEN_PID must be the command's own pid: {told:?}"
    );
    // LISTEN_PIDFDID named sexton: left out, so the pid alone is checked.
    assert_eq!(told[2..], ["1", "web", "-"], "{told:?}");
    wait_until_sexton_holds_nothing(&run);
    drop(conn);
    run.wait().assert_code(0).assert_quiet();
}

#[test]
fn a_script_without_interpreter_line_runs_as_execvp_runs_it() {
    // The kernel refuses a file without `#!` (ENOEXEC); execvp then runs it with /bin/sh, the
    // file as $0 and the arguments after it. `env` runs its command with execvp.
    let dir = TempDir::new();
    let script = dir.join("sexton-script");
    std::fs::write(&script, "echo \"$0|$1|$2\"\nexit 7\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    let file = script.to_str().unwrap();
    for (name, path) in [(file, None), ("sexton-script", Some(path.as_str()))] {
        let launch = |run: Run| match path {
            Some(path) => run.env("PATH", path),
            None => run,
        };
        let expected = launch(direct(["env", name, "a b", "c"])).run();
        expected.assert_code(7);
        assert_eq!(expected.stdout(), format!("{file}|a b|c\n"));
        let under = launch(sexton([name, "a b", "c"])).run();
        under.assert_code(7).assert_quiet();
        assert_eq!(under.stdout(), expected.stdout());
    }
}

#[test]
fn once_the_command_runs_sexton_no_longer_blocks_sigchld() {
    // While it waits for COMMAND's exec, sexton takes SIGCHLD through a signalfd, blocked;
    // after it, the mask it had is back, so no SIGCHLD stays pending for good.
    let dir = TempDir::new();
    let mut run = sexton(["sh", "-c", READY_THEN_SLEEP]).dir(&dir).spawn();
    dir.wait_for("ready");
    let pid = run.sexton_pid();
    assert!(
        kit::procfs::blocks(pid, SIGTERM),
        "sexton blocks what it forwards"
    );
    // COMMAND may be ready a moment before sexton has heard that its exec succeeded.
    kit::wait::until("sexton to unblock SIGCHLD", || {
        !kit::procfs::blocks(pid, kit::libc::SIGCHLD)
    });
    run.signal(SIGTERM);
    run.wait().assert_code(143);
}
