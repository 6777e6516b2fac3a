//! The sexton harness every integration test shares: run the real `sexton` binary (or, to
//! compare, a program without it) with a deadline, and check how it ended. The generic
//! plumbing (/proc, waits, process-tree guards, namespaces, cgroups, temp dirs) is the test
//! kit's, `kit` (tests/kit).
//!
//! Rules it enforces for the tests:
//! - Every process a test starts is owned by a [`Proc`], whose [`kit::tree::Tree`] kills it
//!   and its descendants by pid when dropped, so a failing test leaks nothing, and reaps it.
//! - Runs in a PID namespace go through `unshare --kill-child` ([`kit::ns`]): killing
//!   `unshare` kills the whole namespace.
//! - Nothing sleeps to synchronise: [`kit::wait`] polls a condition against a deadline.
//! - sexton's own environment variables (`SEXTON_*`, `TINI_*`) are removed from every run, so
//!   the developer's environment cannot change a result.
//!
//! Each test file declares it `pub mod util;`: it is the harness's API, of which each file
//! uses a part.
//!
//! A note for the shell scripts the tests run: a dash script that traps a signal idles with
//! `while :; do sleep 0.05 & wait $!; done`, not `while :; do sleep 0.05; done`. dash starts a
//! foreground command with vfork, and a signal that reaches the shell and its vfork child at
//! that moment can be lost to the trap; `wait` on a background job has no such window.

use std::cell::OnceCell;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

use kit::libc;
use kit::tree::Tree;
use kit::{DEADLINE, TempDir, procfs, wait};
use nix::errno::Errno;

/// The binary under test.
pub const SEXTON: &str = env!("CARGO_BIN_EXE_sexton");

// ------------------------------------------------------------------------------ launching --

/// What the launcher does in the forked child before exec (async-signal-safe calls only).
#[derive(Clone, Copy, Debug)]
enum Setup {
    Close(RawFd),
    Ignore(i32),
    Block(i32),
    Dup { from: RawFd, to: RawFd },
    ControllingTerminal,
    Refuse { syscall: libc::c_long, errno: i32 },
}

/// A run of sexton (or, to compare, of a program on its own): a builder in the style of
/// ripgrep's `TestCommand`.
pub struct Run {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    namespace: bool,
    foreign_proc: bool,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
    setup: Vec<Setup>,
    cwd: Option<PathBuf>,
    deadline: Duration,
}

/// `sexton ARGS...`
pub fn sexton<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> Run {
    Run::new(SEXTON.into()).args(args)
}

/// `PROGRAM ARGS...` without sexton, from the same launcher: the baseline to compare with.
pub fn direct<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(program_and_args: I) -> Run {
    let mut words = program_and_args.into_iter();
    let program = words.next().expect("a program").as_ref().to_owned();
    Run::new(program).args(words)
}

impl Run {
    fn new(program: OsString) -> Run {
        Run {
            program,
            args: Vec::new(),
            envs: Vec::new(),
            namespace: false,
            foreign_proc: false,
            stdin: None,
            stdout: None,
            stderr: None,
            setup: Vec::new(),
            cwd: None,
            deadline: DEADLINE,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Run {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Sets each `(key, value)` of `vars`, as [`Run::env`] does.
    pub fn envs(self, vars: &[(&str, &str)]) -> Run {
        vars.iter()
            .fold(self, |run, (key, value)| run.env(key, value))
    }

    /// Sets `D` to `dir`: the scripts of the tests keep their files in "$D".
    pub fn dir(self, dir: &TempDir) -> Run {
        self.env("D", dir.path())
    }

    /// Runs as PID 1 of a fresh PID namespace with its own /proc:
    /// `unshare --pid --fork --mount-proc --kill-child` (plus a user namespace when not root).
    pub fn in_pid_namespace(self) -> Run {
        self.as_pid1(true)
    }

    /// [`Run::in_pid_namespace`] if `pid1`: for a body run in both modes (see [`both_modes`]).
    pub fn as_pid1(mut self, pid1: bool) -> Run {
        self.namespace = pid1;
        self
    }

    /// Runs as PID 1 of a fresh PID namespace that keeps the launcher's /proc (no
    /// `--mount-proc`): its pids are not the namespace's.
    pub fn in_pid_namespace_with_foreign_proc(mut self) -> Run {
        self.namespace = true;
        self.foreign_proc = true;
        self
    }

    pub fn stdin(mut self, stdin: impl Into<Stdio>) -> Run {
        self.stdin = Some(stdin.into());
        self
    }

    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Run {
        self.stdout = Some(stdout.into());
        self
    }

    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Run {
        self.stderr = Some(stderr.into());
        self
    }

    /// Closes `fd` in the launched process: not /dev/null, truly closed.
    pub fn close_fd(mut self, fd: RawFd) -> Run {
        self.setup.push(Setup::Close(fd));
        self
    }

    /// Launches with `sig` set to SIG_IGN, as `nohup` does for SIGHUP.
    pub fn ignore_signal(mut self, sig: i32) -> Run {
        self.setup.push(Setup::Ignore(sig));
        self
    }

    /// Launches with `sig` blocked.
    pub fn block_signal(mut self, sig: i32) -> Run {
        self.setup.push(Setup::Block(sig));
        self
    }

    /// Passes the test's descriptor `from` (which must stay open until spawn) as descriptor
    /// `to`, inherited across exec.
    pub fn pass_fd(mut self, from: RawFd, to: RawFd) -> Run {
        self.setup.push(Setup::Dup { from, to });
        self
    }

    /// Launches under a seccomp filter that fails `syscall` with `errno` (for sexton and all
    /// it starts), as a container runtime's profile may.
    pub fn refuse_syscall(mut self, syscall: libc::c_long, errno: i32) -> Run {
        self.setup.push(Setup::Refuse { syscall, errno });
        self
    }

    /// Launches as a session leader whose controlling terminal is its stdin (set stdin to a
    /// terminal too).
    pub fn controlling_terminal(mut self) -> Run {
        self.setup.push(Setup::ControllingTerminal);
        self
    }

    /// Launches in `dir` rather than in the test's working directory.
    pub fn current_dir(mut self, dir: &Path) -> Run {
        self.cwd = Some(dir.to_owned());
        self
    }

    pub fn deadline(mut self, deadline: Duration) -> Run {
        self.deadline = deadline;
        self
    }

    /// Runs to the end (within the deadline) and returns how it went.
    pub fn run(self) -> Output {
        self.spawn().wait()
    }

    /// Starts the run; the returned [`Proc`] ends it by pid if the test does not.
    pub fn spawn(mut self) -> Proc {
        let out = TempDir::new();
        let mut command = if self.namespace {
            let argv = kit::ns::unshare_argv();
            let mut command = Command::new(argv[0]);
            let foreign_proc = self.foreign_proc;
            command.args(
                argv[1..]
                    .iter()
                    .filter(|&&arg| !(foreign_proc && arg == "--mount-proc")),
            );
            command.arg(&self.program);
            command
        } else {
            Command::new(&self.program)
        };
        command.args(&self.args);
        for (key, _) in std::env::vars_os() {
            let key_bytes = key.as_bytes();
            if key_bytes.starts_with(b"SEXTON_") || key_bytes.starts_with(b"TINI_") {
                command.env_remove(&key);
            }
        }
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        let file = |name: &str| File::create(out.join(name)).expect("create output file");
        command.stdin(self.stdin.take().unwrap_or_else(Stdio::null));
        command.stdout(self.stdout.take().unwrap_or_else(|| file("stdout").into()));
        command.stderr(self.stderr.take().unwrap_or_else(|| file("stderr").into()));
        let setup = self.setup.clone();
        // SAFETY: the closure only makes async-signal-safe calls (close, signal, sigprocmask,
        // dup2, fcntl, setsid, ioctl, prctl) and does not allocate.
        unsafe {
            command.pre_exec(move || {
                clean_signal_state();
                for step in &setup {
                    apply(*step)?;
                }
                Ok(())
            });
        }
        let what = format!(
            "{}{:?} {:?}",
            if self.namespace {
                "(in a PID namespace) "
            } else {
                ""
            },
            self.program,
            self.args
        );
        let tree =
            Tree::spawn(&mut command).unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        Proc {
            pid: tree.pid().expect("a process just started"),
            tree,
            namespace: self.namespace,
            sexton_pid: OnceCell::new(),
            started: Instant::now(),
            deadline: self.deadline,
            out,
            what,
        }
    }
}

/// Runs in the forked child, before any [`Setup`]: every run starts from a launcher with no
/// signal ignored or blocked, however the tests themselves were started (a background job of
/// a script has SIGINT and SIGQUIT ignored, which sexton would rightly pass on).
fn clean_signal_state() {
    // SAFETY: signal(2) and sigprocmask(2) are async-signal-safe; the set is initialised by
    // sigemptyset before use. SIGKILL and SIGSTOP are refused with EINVAL, which is harmless.
    unsafe {
        for sig in 1..32 {
            libc::signal(sig, libc::SIG_DFL);
        }
        let mut none = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    }
}

/// Runs in the forked child: see [`Setup`].
fn apply(step: Setup) -> std::io::Result<()> {
    // SAFETY: each call is async-signal-safe and gets valid arguments.
    unsafe {
        match step {
            Setup::Close(fd) => {
                libc::close(fd);
            }
            Setup::Ignore(sig) => {
                if libc::signal(sig, libc::SIG_IGN) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Setup::Block(sig) => {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, sig);
                Errno::result(libc::sigprocmask(
                    libc::SIG_BLOCK,
                    &set,
                    std::ptr::null_mut(),
                ))?;
            }
            Setup::Dup { from, to } if from == to => {
                Errno::result(libc::fcntl(from, libc::F_SETFD, 0))?;
            }
            Setup::Dup { from, to } => {
                Errno::result(libc::dup2(from, to))?;
            }
            Setup::ControllingTerminal => {
                Errno::result(libc::setsid())?;
                Errno::result(libc::ioctl(0, libc::TIOCSCTTY, 0))?;
            }
            Setup::Refuse { syscall, errno } => {
                // Load the syscall number; if it is `syscall`, fail it with `errno`, else allow.
                let op = |code, k| libc::sock_filter {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                };
                let jump = libc::sock_filter {
                    code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 1,
                    k: syscall as u32,
                };
                let mut program = [
                    op((libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16, 0),
                    jump,
                    op(
                        (libc::BPF_RET | libc::BPF_K) as u16,
                        libc::SECCOMP_RET_ERRNO | errno as u32,
                    ),
                    op(
                        (libc::BPF_RET | libc::BPF_K) as u16,
                        libc::SECCOMP_RET_ALLOW,
                    ),
                ];
                let filter = libc::sock_fprog {
                    len: program.len() as u16,
                    filter: program.as_mut_ptr(),
                };
                Errno::result(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
                Errno::result(libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &filter as *const libc::sock_fprog,
                ))?;
            }
        }
    }
    Ok(())
}

// -------------------------------------------------------------------------------- running --

/// A started run. Dropping it kills what is left of it, by pid, and reaps it.
pub struct Proc {
    tree: Tree,
    pid: i32,
    namespace: bool,
    sexton_pid: OnceCell<i32>,
    started: Instant,
    deadline: Duration,
    out: TempDir,
    what: String,
}

impl Proc {
    /// The pid of the process started: sexton, or `unshare` in a PID namespace.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// sexton's pid as the test sees it. In a PID namespace sexton is the child of `unshare`:
    /// this waits until that child has exec'd sexton.
    pub fn sexton_pid(&self) -> i32 {
        if !self.namespace {
            return self.pid;
        }
        *self.sexton_pid.get_or_init(|| {
            wait::for_some("unshare to start sexton", || {
                procfs::child_named(self.pid, "sexton")
            })
        })
    }

    /// The main child sexton started (the first of its children to appear).
    pub fn sexton_child(&self) -> i32 {
        let sexton = self.sexton_pid();
        wait::for_some("sexton to start its child", || procfs::first_child(sexton))
    }

    /// Sends `sig` to sexton (inside the namespace, if there is one).
    pub fn signal(&self, sig: i32) {
        assert!(
            kit::send(self.sexton_pid(), sig),
            "cannot send signal {sig} to {}",
            self.what
        );
    }

    /// What sexton has written to stderr so far (with the default capture).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.out.join("stderr")).unwrap_or_default()
    }

    /// Waits until the run's stderr holds `needle`: sexton has logged what it did.
    pub fn wait_for_log(&self, needle: &str) {
        kit::wait::until(format_args!("stderr to hold {needle:?}"), || {
            self.stderr().contains(needle)
        });
    }

    pub fn stdout(&self) -> String {
        fs::read_to_string(self.out.join("stdout")).unwrap_or_default()
    }

    /// Whether it has exited (and then it is reaped: later calls of `wait` return at once).
    pub fn try_wait(&mut self) -> Option<Output> {
        let status = self.tree.try_wait().expect("waitid")?;
        Some(self.output(status))
    }

    /// Waits for the end within the run's deadline; past it, kills everything and fails.
    pub fn wait(&mut self) -> Output {
        let deadline = self.deadline;
        self.wait_for(deadline)
    }

    pub fn wait_for(&mut self, deadline: Duration) -> Output {
        match self.wait_timeout(deadline) {
            Some(output) => output,
            None => {
                let (stdout, stderr) = (self.stdout(), self.stderr());
                self.kill();
                panic!(
                    "{} did not finish within {deadline:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
                    self.what
                );
            }
        }
    }

    /// Waits up to `timeout`; `None` if still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<Output> {
        let status = self.tree.wait_timeout(timeout).expect("waitid")?;
        Some(self.output(status))
    }

    fn output(&self, status: ExitStatus) -> Output {
        Output {
            what: self.what.clone(),
            status,
            stdout: fs::read(self.out.join("stdout")).unwrap_or_default(),
            stderr: self.stderr(),
            elapsed: self.started.elapsed(),
            ended_at: SystemTime::now(),
        }
    }

    /// Kills the run and what it started, by pid, and reaps it. In a namespace, killing
    /// `unshare`'s child, PID 1, kills the whole namespace.
    pub fn kill(&mut self) {
        self.tree.kill();
    }
}

/// How a run ended.
pub struct Output {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// From spawn to the moment the test saw the exit.
    pub elapsed: Duration,
    /// The same moment by the wall clock, to compare with files' modification times.
    pub ended_at: SystemTime,
}

impl Output {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(self.status.code(), Some(code), "wrong exit status:\n{self}");
        self
    }

    /// Nothing on stderr.
    pub fn assert_quiet(&self) -> &Output {
        assert_eq!(self.stderr, "", "expected nothing on stderr:\n{self}");
        self
    }

    /// No line from sexton on stderr (COMMAND's own lines, such as a shell's "Hangup" for a
    /// child killed by SIGHUP, may be there).
    pub fn assert_sexton_quiet(&self) -> &Output {
        assert!(
            !self.stderr.lines().any(|l| l.starts_with("sexton")),
            "expected no line from sexton on stderr:\n{self}"
        );
        self
    }

    /// Exactly one line on stderr, starting `sexton: ` and containing every one of `needles`.
    pub fn assert_one_error_line(&self, needles: &[&str]) -> &Output {
        assert!(
            self.stderr.ends_with('\n') && self.stderr.lines().count() == 1,
            "expected exactly one line on stderr:\n{self}"
        );
        assert!(
            self.stderr.starts_with("sexton: "),
            "the error line must start with 'sexton: ':\n{self}"
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "the error line must mention {needle:?}:\n{self}"
            );
        }
        self
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.what)?;
        match (self.status.code(), self.status.signal()) {
            (Some(code), _) => writeln!(f, "exit code: {code}")?,
            (_, Some(sig)) => writeln!(f, "killed by signal {sig}")?,
            _ => writeln!(f, "status: {:?}", self.status)?,
        }
        writeln!(f, "elapsed: {:?}", self.elapsed)?;
        writeln!(f, "--- stdout:\n{}", self.stdout())?;
        write!(f, "--- stderr:\n{}", self.stderr)
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// ------------------------------------------------------------------------------- scripts --

/// A shell snippet that leaves one orphan: a process whose parent (a subshell) exits while it
/// runs, and which exits only once it has been reparented to sexton, so only sexton can reap
/// it. (With a plain `( : & )` the subshell itself sometimes reaps its child first when the
/// machine is busy.) Its pid goes to "$D/orphan" if `D` is set.
pub const ORPHAN: &str = r#"( sh -c '
      while read -r _ _ _ pp _ < /proc/$$/stat && read -r c < /proc/$pp/comm && [ "$c" != sexton ]
      do sleep 0.01; done' 2>/dev/null &
  [ -n "$D" ] && echo $! > "$D/orphan" )"#;

/// A shell snippet: waits (up to ~10 s) until /proc shows no zombie, then exits 0; exits 1
/// if zombies remain. For a PID namespace, where /proc is the namespace's own.
pub const NO_ZOMBIES_LEFT: &str = r#"
n=0
while :; do
    z=0
    for f in /proc/[0-9]*/stat; do
        read -r l < "$f" 2>/dev/null || continue
        case $l in *") Z "*) z=$((z+1));; esac
    done
    [ $z -eq 0 ] && exit 0
    n=$((n+1))
    [ $n -gt 200 ] && { echo "zombies left: $z" >&2; exit 1; }
    sleep 0.05
done
"#;

// ------------------------------------------------------------------------------- variants --

/// The start of a `python3 -c` script that holds one system call of sexton's until it answers
/// it (a seccomp user notification), so a window of microseconds lasts as long as a test
/// needs. `launch(syscall, argv)` forks and runs `argv` (found in PATH; started with
/// execveat(2), which the filter lets through) with every `syscall` of it and of all it starts held, and
/// returns its pid and the listener; `held(listener, seconds)` returns the next call held as
/// (id, pid, args), or None; `go_on(listener, id)` lets it run; `serve(listener, pid, each)`
/// lets every call run after `each(caller, args)`, until `pid` has exited. Run through
/// [`seccomp_hold`].
const SECCOMP_HOLD: &str = r#"import ctypes, os, select, shutil, signal, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
EXECVEAT, SECCOMP = int(os.environ["SYS_EXECVEAT"]), int(os.environ["SYS_SECCOMP"])

def launch(syscall, argv):
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = b"".join(struct.pack("=HBBI", *op) for op in [
            (0x20, 0, 0, 0),           # load the syscall number
            (0x15, 0, 1, syscall),     # the one held: ask the listener, else allow
            (0x06, 0, 0, 0x7fc00000),  # SECCOMP_RET_USER_NOTIF
            (0x06, 0, 0, 0x7fff0000),  # SECCOMP_RET_ALLOW
        ])
        program = ctypes.create_string_buffer(code)
        fprog = struct.pack("=HxxxxxxQ", 4, ctypes.addressof(program))
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        listener = libc.syscall(SECCOMP, 1, 8, fprog)  # SET_MODE_FILTER, FLAG_NEW_LISTENER
        if listener < 0:
            print("seccomp:", os.strerror(ctypes.get_errno()))
            os._exit(99)
        socket.send_fds(theirs, [b"l"], [listener])
        args = [a.encode() for a in argv]
        env = [("%s=%s" % kv).encode() for kv in os.environ.items()]
        c_argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
        c_envp = (ctypes.c_char_p * (len(env) + 1))(*env, None)
        path = (shutil.which(argv[0]) or argv[0]).encode()
        libc.syscall(EXECVEAT, ctypes.c_long(-100), path, c_argv, c_envp, 0)
        os._exit(99)
    theirs.close()
    _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    if not fds:
        sys.exit("no listener: code=%d" % os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    return pid, fds[0]

def held(listener, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if select.select([listener], [], [], max(0, end - time.monotonic()))[0]:
            notif = ctypes.create_string_buffer(80)
            if libc.ioctl(listener, ctypes.c_ulong(0xC0502100), notif) == 0:  # NOTIF_RECV
                ident, pid, _, _, _, _, *args = struct.unpack_from("=QIIiIQ6Q", notif)
                return ident, pid, args
    return None

def go_on(listener, ident):
    libc.ioctl(listener, ctypes.c_ulong(0xC0182101),  # NOTIF_SEND, FLAG_CONTINUE
               struct.pack("=QqiI", ident, 0, 0, 1))

def serve(listener, pid, each):
    while os.waitpid(pid, os.WNOHANG)[0] == 0:
        call = held(listener, 0.1)
        if call is not None:
            each(call[1], call[2])
            go_on(listener, call[0])
"#;

/// `python3 -u -c SECCOMP_HOLD+SCRIPT ARGS...`: see [`SECCOMP_HOLD`]. Debian's python3, run
/// as it is: a wrapper script in between (pyenv's) would drop variables such as PS1, which a
/// shell started by the script needs. The script finds the
/// numbers of the system calls it may hold in `SYS_EXECVE`, `SYS_PIDFD_OPEN` and `SYS_IOCTL`.
pub fn seccomp_hold<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(script: &str, args: I) -> Run {
    direct([
        "/usr/bin/python3",
        "-u",
        "-c",
        &format!("{SECCOMP_HOLD}{script}"),
    ])
    .args(args)
    .env("SYS_EXECVE", libc::SYS_execve.to_string())
    .env("SYS_EXECVEAT", libc::SYS_execveat.to_string())
    .env("SYS_SECCOMP", libc::SYS_seccomp.to_string())
    .env("SYS_PIDFD_OPEN", libc::SYS_pidfd_open.to_string())
    .env("SYS_IOCTL", libc::SYS_ioctl.to_string())
}

/// One test body, two tests: `both_modes!(fn name(pid1: bool) { ... })` defines `name` and
/// the tests `name::as_pid1` (the body with `true`: sexton as PID 1 of a PID namespace) and
/// `name::as_subreaper` (with `false`: sexton on the host, a child subreaper), so a failure
/// in one mode does not hide the other. `cargo test name` runs both.
#[macro_export]
macro_rules! both_modes {
    ($(#[$attr:meta])* fn $name:ident($pid1:ident: bool) $body:block) => {
        $(#[$attr])*
        fn $name($pid1: bool) $body

        mod $name {
            #[test]
            fn as_pid1() {
                super::$name(true)
            }

            #[test]
            fn as_subreaper() {
                super::$name(false)
            }
        }
    };
}
