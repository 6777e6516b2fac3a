//! The one harness every integration test shares: run the real `sexton` binary (or, to
//! compare, a program without it) with a deadline, read /proc, and wait on conditions.
//!
//! Rules it enforces for the tests:
//! - Every process a test starts is owned by a [`Proc`], which on drop kills it by pid (and,
//!   outside a PID namespace, its descendants, so a failing test leaks nothing) and reaps it.
//! - Runs in a PID namespace go through `unshare --kill-child`: killing `unshare` kills the
//!   whole namespace.
//! - Nothing sleeps to synchronise: [`wait_until`] polls a condition against a deadline.
//! - sexton's own environment variables (`SEXTON_*`, `TINI_*`) are removed from every run, so
//!   the developer's environment cannot change a result.
//!
//! A note for the shell scripts the tests run: a dash script that traps a signal idles with
//! `while :; do sleep 0.05 & wait $!; done`, not `while :; do sleep 0.05; done`. dash starts a
//! foreground command with vfork, and a signal that reaches the shell and its vfork child at
//! that moment can be lost to the trap; `wait` on a background job has no such window.
#![allow(dead_code)]

use std::cell::OnceCell;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

pub use nix::libc;

/// The binary under test.
pub const SEXTON: &str = env!("CARGO_BIN_EXE_sexton");

/// How long a run or a condition may take before the test fails. Generous: CI machines are
/// small and often busy; a healthy run takes a fraction of it.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(5);

// ------------------------------------------------------------------------------ temp dirs --

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "sexton-test-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.join(name).exists()
    }

    /// The file's text, or "" if it does not exist (yet).
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// Waits until `name` exists.
    pub fn wait_for(&self, name: &str) {
        wait_until(&format!("{name} to exist in {}", self.0.display()), || {
            self.exists(name)
        });
    }

    /// Waits until `name` holds a complete line (as `echo $$ > name` writes it) and returns
    /// the number on it.
    pub fn wait_for_pid(&self, name: &str) -> i32 {
        let mut pid = 0;
        wait_until(&format!("a pid in {name}"), || {
            let text = self.read(name);
            match text.strip_suffix('\n').map(str::trim).map(str::parse) {
                Some(Ok(n)) => {
                    pid = n;
                    true
                }
                _ => false,
            }
        });
        pid
    }

    /// When `name` was last modified.
    pub fn modified(&self, name: &str) -> SystemTime {
        fs::metadata(self.join(name))
            .and_then(|m| m.modified())
            .unwrap_or_else(|err| panic!("{name}: {err}"))
    }

    /// Waits until the file `name` contains `needle`, and returns its text.
    pub fn wait_for_text(&self, name: &str, needle: &str) -> String {
        let mut text = String::new();
        wait_until(&format!("{name:?} to contain {needle:?}"), || {
            text = self.read(name);
            text.contains(needle)
        });
        text
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------------------------ launching --

/// What the launcher does in the forked child before exec (async-signal-safe calls only).
#[derive(Clone, Copy, Debug)]
enum Setup {
    Close(RawFd),
    Ignore(i32),
    Block(i32),
    Dup { from: RawFd, to: RawFd },
    ControllingTerminal,
}

/// A run of sexton (or, to compare, of a program on its own): a builder in the style of
/// ripgrep's `TestCommand`.
pub struct Run {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    namespace: bool,
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
    pub fn in_pid_namespace(mut self) -> Run {
        self.namespace = true;
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
            let mut command = Command::new("unshare");
            command.args(["--pid", "--fork", "--mount-proc", "--kill-child"]);
            // SAFETY: geteuid(2) cannot fail.
            if unsafe { libc::geteuid() } != 0 {
                command.args(["--user", "--map-root-user"]);
            }
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
        if !setup.is_empty() {
            // SAFETY: the closure only makes async-signal-safe calls (close, signal,
            // sigprocmask, dup2, fcntl, setsid, ioctl) and does not allocate.
            unsafe {
                command.pre_exec(move || {
                    for step in &setup {
                        apply(*step)?;
                    }
                    Ok(())
                });
            }
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
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
        Proc {
            pid: child.id() as i32,
            child,
            reaped: false,
            namespace: self.namespace,
            sexton_pid: OnceCell::new(),
            started: Instant::now(),
            deadline: self.deadline,
            out,
            what,
        }
    }
}

/// Runs in the forked child: see [`Setup`].
fn apply(step: Setup) -> std::io::Result<()> {
    let check = |ret: libc::c_int| {
        if ret == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
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
                check(libc::sigprocmask(
                    libc::SIG_BLOCK,
                    &set,
                    std::ptr::null_mut(),
                ))?;
            }
            Setup::Dup { from, to } if from == to => {
                check(libc::fcntl(from, libc::F_SETFD, 0))?;
            }
            Setup::Dup { from, to } => {
                check(libc::dup2(from, to))?;
            }
            Setup::ControllingTerminal => {
                check(libc::setsid())?;
                check(libc::ioctl(0, libc::TIOCSCTTY, 0))?;
            }
        }
    }
    Ok(())
}

// -------------------------------------------------------------------------------- running --

/// A started run. Dropping it kills what is left of it, by pid, and reaps it.
pub struct Proc {
    child: Child,
    pid: i32,
    reaped: bool,
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
            wait_for_some("unshare to start sexton", || {
                child_named(self.pid, "sexton")
            })
        })
    }

    /// The main child sexton started (the first of its children to appear).
    pub fn sexton_child(&self) -> i32 {
        let sexton = self.sexton_pid();
        wait_for_some("sexton to start its child", || first_child(sexton))
    }

    /// Sends `sig` to sexton (inside the namespace, if there is one).
    pub fn signal(&self, sig: i32) {
        assert!(
            send(self.sexton_pid(), sig),
            "cannot send signal {sig} to {}",
            self.what
        );
    }

    /// What sexton has written to stderr so far (with the default capture).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.out.join("stderr")).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        fs::read_to_string(self.out.join("stdout")).unwrap_or_default()
    }

    /// Whether it has exited (and then it is reaped: later calls of `wait` return at once).
    pub fn try_wait(&mut self) -> Option<Output> {
        let status = self.child.try_wait().expect("waitpid")?;
        self.reaped = true;
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
        let end = Instant::now() + timeout;
        loop {
            if let Some(output) = self.try_wait() {
                return Some(output);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(POLL);
        }
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

    /// Kills the run and what it started, by pid, and reaps it.
    pub fn kill(&mut self) {
        if self.reaped {
            return;
        }
        if !self.namespace {
            // sexton's descendants would outlive it; kill them first, while sexton still reaps.
            for _ in 0..3 {
                for pid in descendants(self.pid) {
                    send(pid, libc::SIGKILL);
                }
            }
        }
        // In a namespace, killing `unshare` kills its child (--kill-child), PID 1, and with it
        // the whole namespace.
        send(self.pid, libc::SIGKILL);
        let _ = self.child.wait();
        self.reaped = true;
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
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

// -------------------------------------------------------------------------------- waiting --

/// Polls `cond` until it holds; fails the test after [`DEADLINE`].
pub fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    assert!(
        poll_until(DEADLINE, cond),
        "timed out after {DEADLINE:?} waiting for {what}"
    );
}

/// Polls `found` until it gives a value, which it returns; fails the test at the deadline.
pub fn wait_for_some<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let mut value = None;
    wait_until(what, || {
        value = found();
        value.is_some()
    });
    value.expect("the condition held")
}

/// Polls `cond` until it holds (true) or `deadline` passes (false).
pub fn poll_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

// ----------------------------------------------------------------------------------- /proc --

/// The fields of /proc/PID/stat the tests use.
#[derive(Clone, Debug)]
pub struct Stat {
    pub comm: String,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

pub fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let mut fields = text[close + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let mut number = || fields.next()?.parse().ok();
    Some(Stat {
        comm: text[open + 1..close].to_owned(),
        state,
        ppid: number()?,
        pgrp: number()?,
    })
}

/// The state letter: R, S, D, T, Z...; `None` once the process is gone.
pub fn state(pid: i32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

/// Exists and is not a zombie.
pub fn is_alive(pid: i32) -> bool {
    matches!(state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// A field of /proc/PID/status, e.g. "SigBlk".
pub fn status_field(pid: i32, name: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name).then(|| value.trim().to_owned())
    })
}

/// A signal set of /proc/PID/status ("SigBlk", "SigIgn", "SigCgt", "SigPnd"); 0 if gone.
pub fn signal_set(pid: i32, name: &str) -> u64 {
    status_field(pid, name)
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .unwrap_or(0)
}

/// Whether `set` (as in /proc/PID/status) holds `sig`.
pub fn has_signal(set: u64, sig: i32) -> bool {
    set & (1 << (sig - 1)) != 0
}

pub fn cmdline(pid: i32) -> Vec<u8> {
    fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default()
}

/// Every process (zombies included) whose parent is `parent`, from the children lists of its
/// threads: no scan of /proc, so tests can poll it in a tight loop.
pub fn children(parent: i32) -> Vec<i32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{parent}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| fs::read_to_string(task.ok()?.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

/// The child of `parent` running `comm`, if there is one yet.
pub fn child_named(parent: i32, comm: &str) -> Option<i32> {
    children(parent)
        .into_iter()
        .find(|&pid| stat(pid).is_some_and(|s| s.comm == comm))
}

/// The oldest child of `parent` (the lowest pid), if there is one yet.
pub fn first_child(parent: i32) -> Option<i32> {
    children(parent).into_iter().min()
}

/// Whether `pid` blocks `sig`. sexton blocks every signal it forwards from its first step:
/// as PID 1, a signal it had neither blocked nor caught would be dropped by the kernel.
pub fn blocks(pid: i32, sig: i32) -> bool {
    has_signal(signal_set(pid, "SigBlk"), sig)
}

/// Every process below `root` in the process tree.
pub fn descendants(root: i32) -> Vec<i32> {
    children(root)
        .into_iter()
        .flat_map(|child| std::iter::once(child).chain(descendants(child)))
        .collect()
}

/// The zombies among the children of `parent`.
pub fn zombie_children(parent: i32) -> Vec<i32> {
    children(parent)
        .into_iter()
        .filter(|&pid| state(pid) == Some('Z'))
        .collect()
}

/// kill(2) by pid; true if the signal was sent. Never a group, never -1.
pub fn send(pid: i32, sig: i32) -> bool {
    assert!(pid > 0, "tests signal single processes only, not {pid}");
    // SAFETY: kill(2) takes plain integers.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// SIGRTMIN as the C library (and so dash) numbers it.
pub fn sigrtmin() -> i32 {
    libc::SIGRTMIN()
}

/// A pipe whose read end is already closed: writing to it fails with EPIPE (or SIGPIPE).
pub fn broken_pipe() -> OwnedFd {
    let (read, write) = pipe();
    drop(read);
    write
}

/// A close-on-exec pipe: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors, which we then own.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0, "pipe2");
        use std::os::fd::FromRawFd;
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    }
}

/// The raw descriptor of `fd`, for [`Run::pass_fd`].
pub fn raw(fd: &impl AsRawFd) -> RawFd {
    fd.as_raw_fd()
}
