//! Running the runtimes' command-line tools: always with a deadline, output kept for the
//! failure message, and whatever a command leaves running killed by pid with it.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use kit::libc;
use kit::tree::Tree;

/// How long one runtime command may take. Generous: a cold `podman run` under load on two
/// cores takes seconds.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// `program args...` with stdin from /dev/null (a runtime must not read the test's terminal).
pub fn command<I, S>(program: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// What a finished command did.
pub struct Out {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Out {
    /// The exit status as a shell reports it: the code, or 128 + the signal that ended it.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }

    /// Panics unless the command exited 0; returns its trimmed stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code(), 0, "{self}");
        self.stdout.trim().to_owned()
    }

    /// Panics unless the command exited with `code`.
    pub fn expect(&self, code: i32) -> &Out {
        assert_eq!(self.code(), code, "want exit {code}: {self}");
        self
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "`{}` exited {} after {:.2}s\n--- stdout\n{}--- stderr\n{}---",
            self.what,
            self.code(),
            self.took.as_secs_f64(),
            self.stdout,
            self.stderr
        )
    }
}

/// A command running in the background; killed with its descendants if dropped unfinished.
pub struct Running {
    what: String,
    tree: Tree,
    stdout: PathBuf,
    stderr: PathBuf,
    started: Instant,
}

/// Starts `cmd` in the background, its output going to temporary files.
pub fn spawn(cmd: &mut Command) -> Running {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let what = describe(cmd);
    let base = std::env::temp_dir().join(format!(
        "sexton-e2e-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Relaxed)
    ));
    let (stdout, stderr) = (base.with_extension("out"), base.with_extension("err"));
    let create = |path: &PathBuf| File::create(path).expect("create an output file");
    cmd.stdout(create(&stdout)).stderr(create(&stderr));
    let tree = Tree::spawn(cmd).unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    Running {
        what,
        tree,
        stdout,
        stderr,
        started: Instant::now(),
    }
}

impl Running {
    /// The output so far.
    pub fn output(&self) -> String {
        let read = |path| fs::read_to_string(path).unwrap_or_default();
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }

    /// Waits at most `timeout` for the command to end.
    pub fn wait(&mut self, timeout: Duration) -> Option<Out> {
        let status = self.tree.wait_timeout(timeout).expect("waitid")?;
        let read = |path| fs::read_to_string(path).unwrap_or_default();
        Some(Out {
            what: self.what.clone(),
            status,
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
            took: self.started.elapsed(),
        })
    }

    /// Stops a daemon: SIGTERM, up to `grace` to exit; past it, dropping kills its tree.
    pub fn stop(&mut self, grace: Duration) -> Option<Out> {
        self.tree.signal(libc::SIGTERM);
        self.wait(grace)
    }

    /// Waits for the end; panics (killing it) past `timeout`.
    pub fn finish(mut self, timeout: Duration) -> Out {
        self.wait(timeout).unwrap_or_else(|| {
            panic!(
                "`{}` still running after {timeout:?}:\n{}",
                self.what,
                self.output()
            )
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.stdout);
        let _ = fs::remove_file(&self.stderr);
    }
}

/// Runs `cmd` to its end, at most [`TIMEOUT`].
pub fn run(cmd: &mut Command) -> Out {
    spawn(cmd).finish(TIMEOUT)
}

/// Runs `cmd` and returns its trimmed stdout; panics unless it exits 0.
pub fn ok(cmd: &mut Command) -> String {
    run(cmd).ok()
}

/// Runs commands when dropped, in order (and ignores how they went): removes what a check
/// created on every path, e.g. `docker rm -f ID`.
pub struct OnDrop(Vec<Command>);

pub fn on_drop(cmd: Command) -> OnDrop {
    OnDrop(vec![cmd])
}

pub fn on_drop_all(cmds: Vec<Command>) -> OnDrop {
    OnDrop(cmds)
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        for cmd in &mut self.0 {
            let _ = spawn(cmd).wait(TIMEOUT);
        }
    }
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
