//! Running a workload: a started process guarded by the kit's [`Tree`], and its pipes.

use std::env;
use std::io::Read;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus};
use std::time::Duration;

use kit::tree::Tree;

/// A process we started (an init, usually). Dropping it SIGKILLs it and everything below it,
/// by pid, and reaps it, so no path — errors included — leaves anything behind.
pub struct Running {
    tree: Tree,
    pid: i32,
}

impl Running {
    pub fn spawn(cmd: &mut Command) -> Result<Running, String> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let tree = Tree::spawn(cmd).map_err(|e| format!("cannot start {program}: {e}"))?;
        let pid = tree
            .pid()
            .ok_or_else(|| format!("{program} vanished at once"))?;
        Ok(Running { tree, pid })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Its stdout, if piped.
    pub fn stdout(&mut self) -> Option<&mut ChildStdout> {
        self.tree.child()?.stdout.as_mut()
    }

    pub fn stderr(&mut self) -> Option<&mut ChildStderr> {
        self.tree.child()?.stderr.as_mut()
    }

    /// Waits up to `timeout` for the exit; past it the process is killed and this is an error.
    /// Exact (a pidfd): no polling granularity in timed launches.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        match self.tree.wait_timeout(timeout) {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(format!("still running after {timeout:?}; killed")),
            Err(e) => Err(format!("waiting: {e}")),
        }
        // On error, drop does the killing.
    }

    /// The polite ending: kill what the init runs, by pid, and expect the init to exit in
    /// its wake.
    pub fn finish(mut self, timeout: Duration) -> Result<ExitStatus, String> {
        self.tree.kill_descendants();
        self.wait(timeout)
    }
}

/// One byte from a pipe, within `timeout`.
pub fn read_byte(pipe: &mut ChildStdout, timeout: Duration) -> Result<u8, String> {
    if !kit::wait::readable(pipe.as_fd(), timeout).map_err(|e| e.to_string())? {
        return Err(format!("nothing within {timeout:?}"));
    }
    let mut byte = [0];
    match pipe.read(&mut byte) {
        Ok(1) => Ok(byte[0]),
        Ok(_) => Err("pipe closed".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// What is left in a pipe of an exited process (lossy; empty if none).
pub fn read_rest(pipe: Option<&mut impl Read>) -> String {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

pub fn find_program(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}
