//! A guard for a process and everything below it: dropping it kills them all, by pid.
//!
//! Each process is pinned by a pidfd (Linux 5.3+) as soon as it is seen, so a pid that ends
//! and is reused meanwhile is never signalled; without pidfds the pid is checked against the
//! start time first seen. The descendants are killed before the root and each parent before
//! its children: a killed parent forks no more, and while the root (sexton, a subreaper or PID
//! 1) lives, orphans are reparented to it and so stay in view for the next pass.

use std::io;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use crate::{libc, procfs, wait};

/// How long [`Tree::kill`] keeps killing descendants that go on appearing.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long it then waits for the root to reap them (a root that never reaps costs this).
const REAP_TIMEOUT: Duration = Duration::from_secs(2);

/// A process and its descendants, killed (SIGKILL) when dropped; the root, and any descendant
/// that has become this process's child, are reaped too.
pub struct Tree {
    root: Option<Pin>,
    /// The root as std started it, kept for its pipes; the tree, not std, reaps it.
    child: Option<Child>,
    /// Set once the root is reaped: its pid means nothing any more.
    status: Option<ExitStatus>,
}

impl Tree {
    /// Guards `pid` (a process already gone makes an empty guard).
    pub fn new(pid: i32) -> Tree {
        Tree {
            root: Pin::new(pid),
            child: None,
            status: None,
        }
    }

    /// Starts `command` and guards the process started.
    pub fn spawn(command: &mut Command) -> io::Result<Tree> {
        let child = command.spawn()?;
        let mut tree = Tree::new(child.id() as i32);
        tree.child = Some(child);
        Ok(tree)
    }

    /// The process as [`Tree::spawn`] started it, for its piped stdin, stdout and stderr.
    /// Never wait on it: the tree reaps it.
    pub fn child(&mut self) -> Option<&mut Child> {
        self.child.as_mut()
    }

    /// The root's pid.
    pub fn pid(&self) -> Option<i32> {
        self.root.as_ref().map(|root| root.pid)
    }

    /// Sends `sig` to the root alone; false if it is gone (or reaped).
    pub fn signal(&self, sig: i32) -> bool {
        self.status.is_none() && self.root.as_ref().is_some_and(|root| root.send(sig))
    }

    /// Whether the root (a child of this process) has exited, reaping it if so.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.wait_timeout(Duration::ZERO)
    }

    /// Waits up to `timeout` for the root, a child of this process, to exit, and reaps it;
    /// `None` if it still runs. Exact: the wait ends when the root exits, with no polling.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        if self.status.is_some() {
            return Ok(self.status);
        }
        let Some(root) = &self.root else {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        };
        if !timeout.is_zero() {
            root.exited_within(timeout)?;
        }
        self.status = root.reap(false)?;
        Ok(self.status)
    }

    /// Kills every process below the root, each parent before its children, by pid, until
    /// none is left alive (within a bound), and reaps those that are this process's children.
    pub fn kill_descendants(&self) {
        let Some(root) = self.root.as_ref().filter(|_| self.status.is_none()) else {
            return;
        };
        let mut killed = Vec::new();
        wait::poll(KILL_TIMEOUT, || {
            let alive: Vec<Pin> = root
                .descendants()
                .into_iter()
                .filter(Pin::is_alive)
                .collect();
            for pin in &alive {
                pin.send(libc::SIGKILL);
            }
            let done = alive.is_empty();
            killed.extend(alive);
            done
        });
        for pin in killed.iter().filter(|pin| pin.is_child()) {
            let _ = pin.reap(true);
        }
        // The rest are zombies for the root (sexton, an init) to reap: killed before it has,
        // it would hand them to the host's init instead.
        wait::poll(REAP_TIMEOUT, || root.descendants().is_empty());
    }

    /// Kills the descendants, then the root, and reaps the root if it is this process's child.
    pub fn kill(&mut self) {
        self.kill_descendants();
        if self.status.is_some() {
            return;
        }
        if let Some(root) = &self.root {
            root.send(libc::SIGKILL);
            if root.is_child() {
                self.status = root.reap(true).ok().flatten();
            }
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One process, pinned: by a pidfd where the kernel has them, else by its start time.
struct Pin {
    pid: i32,
    pidfd: Option<OwnedFd>,
    starttime: Option<u64>,
}

impl Pin {
    /// `None` if `pid` is already gone.
    fn new(pid: i32) -> Option<Pin> {
        match pidfd_open(pid) {
            Ok(pidfd) => Some(Pin {
                pid,
                pidfd: Some(pidfd),
                starttime: None,
            }),
            Err(Errno::ESRCH) => None,
            // No pidfds here: the start time tells a reused pid apart.
            Err(_) => Some(Pin {
                pid,
                pidfd: None,
                starttime: Some(procfs::stat(pid)?.starttime),
            }),
        }
    }

    /// Whether this is still the process pinned (it may be a zombie).
    fn is_same(&self) -> bool {
        self.pidfd.is_some() || procfs::stat(self.pid).map(|s| s.starttime) == self.starttime
    }

    /// Whether it is (still) a child of this process, which alone can reap it.
    fn is_child(&self) -> bool {
        self.is_same()
            && procfs::stat(self.pid).is_some_and(|s| s.ppid == std::process::id() as i32)
    }

    fn is_alive(&self) -> bool {
        self.is_same() && procfs::is_alive(self.pid)
    }

    fn send(&self, sig: i32) -> bool {
        match &self.pidfd {
            Some(pidfd) => {
                use std::os::fd::AsRawFd;
                // SAFETY: pidfd_send_signal(2) with a pidfd we own, no siginfo and no flags.
                let sent = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        pidfd.as_raw_fd(),
                        sig,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    )
                };
                Errno::result(sent).is_ok()
            }
            None => self.is_same() && crate::send(self.pid, sig),
        }
    }

    /// Pinned processes below this one, each parent before its children. A child is pinned,
    /// then checked to still be this one's child, so a reused pid is never taken for it.
    fn descendants(&self) -> Vec<Pin> {
        let mut below = Vec::new();
        for child in procfs::children(self.pid) {
            let Some(pin) = Pin::new(child) else { continue };
            if procfs::stat(child).is_some_and(|s| s.ppid == self.pid) {
                let grandchildren = pin.descendants();
                below.push(pin);
                below.extend(grandchildren);
            }
        }
        below
    }

    /// Waits until the process exits, up to `timeout` (no error if it does not).
    fn exited_within(&self, timeout: Duration) -> io::Result<()> {
        match &self.pidfd {
            Some(pidfd) => wait::readable(pidfd.as_fd(), timeout).map(drop),
            None => {
                wait::poll(timeout, || !procfs::is_alive(self.pid));
                Ok(())
            }
        }
    }

    /// Reaps the process, a child of this one, if it has exited: `Ok(None)` while it runs.
    /// With `block`, first waits (up to the kit's deadline) for it to exit. A process that is
    /// not this one's child is an error (ECHILD).
    fn reap(&self, block: bool) -> io::Result<Option<ExitStatus>> {
        if block {
            self.exited_within(wait::DEADLINE)?;
        }
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG;
        let status = match &self.pidfd {
            Some(pidfd) => waitid(Id::PIDFd(pidfd.as_fd()), flags),
            None if self.is_same() => waitpid(Pid::from_raw(self.pid), Some(WaitPidFlag::WNOHANG)),
            None => Err(Errno::ECHILD),
        };
        match status.map_err(|err| io::Error::from_raw_os_error(err as i32))? {
            WaitStatus::Exited(_, code) => Ok(Some(ExitStatus::from_raw((code & 0xff) << 8))),
            WaitStatus::Signaled(_, sig, core) => Ok(Some(ExitStatus::from_raw(
                sig as i32 | if core { 0x80 } else { 0 },
            ))),
            _ => Ok(None),
        }
    }
}

fn pidfd_open(pid: i32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open(2) takes plain integers; a non-negative result is a new descriptor
    // that nothing else owns.
    let fd = Errno::result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: as above: `fd` is open and ours alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Tree {
        Tree::spawn(Command::new("sh").args(["-c", script])).unwrap()
    }

    #[test]
    fn dropping_kills_the_root_and_its_descendants() {
        let tree = sh("sleep 60 & sleep 60 & wait");
        let root = tree.pid().unwrap();
        let below = wait::for_some("two sleeps", || {
            Some(procfs::descendants(root)).filter(|d| d.len() == 2)
        });
        drop(tree);
        assert!(!procfs::is_alive(root));
        assert!(below.iter().all(|&pid| !procfs::is_alive(pid)));
        // Reaped, not left a zombie.
        assert_eq!(procfs::stat(root), None);
    }

    #[test]
    fn waiting_reaps_and_reports_the_status() {
        let mut tree = sh("exit 3");
        let status = tree.wait_timeout(wait::DEADLINE).unwrap().unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(tree.try_wait().unwrap(), Some(status));
    }

    #[test]
    fn a_killed_root_reports_the_signal() {
        let mut tree = sh("sleep 60");
        assert_eq!(tree.try_wait().unwrap(), None);
        assert!(tree.signal(libc::SIGTERM));
        let status = tree.wait_timeout(wait::DEADLINE).unwrap().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }
}
