//! Starting the main child: everything that runs between fork and exec lives here.
//!
//! Invariants:
//! - The child runs in its own process group, so one `kill(-pgid)` reaches it and everything
//!   it starts, and so a terminal's Ctrl-C reaches it and not sexton.
//! - Before exec the child gets back the launcher's signal state: its mask (sexton blocked
//!   everything it forwards) and its SIG_IGN dispositions (sexton ignores TTIN, TTOU and PIPE
//!   for itself and sets CHLD to the default, and changes no other disposition).
//! - sexton forks and execs itself rather than use std's `Command`, which costs a third of a
//!   start in allocations, resets SIGPIPE behind the launcher's back, and reaps on its own.
//! - Code in the forked child only makes async-signal-safe system calls: no allocation, no
//!   locks, no logging. Everything it needs is computed in the parent beforehand.
//! - The child gets sexton's environment, except that a `LISTEN_PID` naming sexton names the
//!   child instead (`activation`), and a file the kernel cannot run (ENOEXEC: a script
//!   without `#!`) runs through `/bin/sh`, as execvp runs it.
//! - Nothing here reaps the child: `reap` owns every exit status. Only a stop before the exec
//!   is consumed here (`StopWatch`), undone, and done again once the command runs: sexton
//!   waits for the exec before its reap loop starts, and would otherwise wait for ever.
//! - When `command` returns the child has exec'd and sexton holds nothing of its own yet:
//!   the exec-report pipe is closed. That is when `release` lets go of what sexton inherited.

use std::borrow::Cow;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use nix::errno::Errno;
use nix::libc::{self, c_char, c_int, sigset_t};
use nix::unistd::Pid;

use crate::activation::{Environment, PID_ROOM};
use crate::environ;
use crate::error::Error;
use crate::forward::{self, Startup};
use crate::signal::{self, Set, Signal};

/// The shell execvp hands a file the kernel cannot run.
const SHELL: &CStr = c"/bin/sh";

/// Runs `argv` (PATH is searched for `argv[0]` as a shell does) in a new process group;
/// with a `terminal` (a close-on-exec descriptor), that group is made its foreground before
/// exec. Returns once the exec has succeeded, or with the reason it failed.
pub fn command(
    argv: Vec<OsString>,
    startup: &Startup,
    terminal: Option<c_int>,
) -> Result<Pid, Error> {
    // Arguments come from the C argv, so they hold no NUL.
    let args: Vec<CString> = argv
        .into_iter()
        .map(|arg| CString::new(arg.into_vec()).unwrap_or_default())
        .collect();
    let name = || args[0].to_string_lossy().into_owned();
    let program = find_program(&args[0]).map_err(|errno| Error::Spawn {
        command: name(),
        errno,
    })?;
    // One array serves both execs: from its second slot it is the command's argv; whole, with
    // the file in that slot, it is `/bin/sh FILE ARGS...`, which is how execvp runs a script
    // without `#!` (the kernel's ENOEXEC).
    let mut argv = Vec::with_capacity(args.len() + 2);
    argv.push(SHELL.as_ptr());
    argv.extend(args.iter().map(|arg| arg.as_ptr()));
    argv.push(std::ptr::null::<c_char>());
    let mut activation = Environment::for_command();
    let envp = activation
        .as_ref()
        .map_or_else(environ::envp, Environment::envp);
    let restore = Restore::from(startup);
    let stops = StopWatch::start();
    let (report, reported) = exec_report_pipe()?;
    let report_fd = report.as_raw_fd();
    let child = fork_into(|| {
        // SAFETY: setpgid(2), getpid(2), execve(2), write(2) and errno are async-signal-safe;
        // the rest are plain stores into memory built before the fork, which stays valid in
        // the child's copy of it.
        unsafe {
            libc::setpgid(0, 0);
            if let Some(terminal) = terminal {
                take_terminal(terminal);
            }
            restore.apply();
            if let Some(activation) = activation.as_mut() {
                write_decimal(libc::getpid().unsigned_abs(), activation.pid_slot());
            }
            libc::execve(program.as_ptr(), argv.as_ptr().add(1), envp);
            let mut errno = Errno::last_raw();
            if errno == libc::ENOEXEC {
                *argv.as_mut_ptr().add(1) = program.as_ptr();
                libc::execve(SHELL.as_ptr(), argv.as_ptr(), envp);
                // The file is still what could not run, whatever stopped the shell.
                errno = libc::ENOEXEC;
            }
            libc::write(report_fd, (&raw const errno).cast(), size_of_val(&errno));
        }
    });
    // The child holds its own copy of the write end until its exec closes it: with ours
    // closed, end of file means the exec succeeded.
    drop(report);
    let failure = child.map(|pid| {
        let failure = match &stops {
            Some(stops) => stops.wait_for_exec(pid, &reported),
            None => exec_error(&reported),
        };
        (pid, failure)
    });
    drop(reported);
    drop(stops);
    match failure {
        Ok((pid, None)) => {
            log::info!("started {:?} as pid {pid}", args[0]);
            Ok(pid)
        }
        Ok((pid, Some(errno))) => {
            reap_failed(pid);
            Err(Error::Spawn {
                command: name(),
                errno,
            })
        }
        Err(errno) => Err(Error::Spawn {
            command: name(),
            errno,
        }),
    }
}

/// Reaps the child whose exec failed, so that sexton leaves no zombie to its own parent. It
/// is killed first: it is about to exit anyway, unless its report could not be read and the
/// exec did succeed, and nothing may be left running that sexton no longer waits for.
fn reap_failed(child: Pid) {
    // SAFETY: kill(2) and waitpid(2) take plain integers and a valid out-pointer; the child is
    // sexton's and not yet reaped, so its pid is still its own. Without a signal handler the
    // wait is never interrupted (EINTR).
    unsafe {
        libc::kill(child.as_raw(), libc::SIGKILL);
        libc::waitpid(child.as_raw(), &mut 0, 0);
    }
}

/// The file to exec for `name`: `name` itself if it holds a slash, else the first executable
/// file of that name in PATH. As in a shell, directories sexton may not search are skipped, so
/// a missing command is ENOENT (127) and a found but non-executable one EACCES (126); libc's
/// execvp would report EACCES for both.
fn find_program(name: &CStr) -> Result<Cow<'_, CStr>, Errno> {
    if name.to_bytes().contains(&b'/') {
        return Ok(Cow::Borrowed(name));
    }
    let path = environ_path();
    let mut found = Errno::ENOENT;
    for dir in path.split(|&b| b == b':') {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let Ok(candidate) = CString::new([dir, b"/", name.to_bytes()].concat()) else {
            continue;
        };
        if !std::fs::metadata(OsStr::from_bytes(candidate.to_bytes())).is_ok_and(|m| m.is_file()) {
            continue;
        }
        // SAFETY: `candidate` is a valid C string.
        if unsafe { libc::access(candidate.as_ptr(), libc::X_OK) } == 0 {
            return Ok(Cow::Owned(candidate));
        }
        found = Errno::EACCES;
    }
    Err(found)
}

/// PATH, or the default search path a shell uses when it is unset.
fn environ_path() -> Vec<u8> {
    std::env::var_os("PATH").map_or_else(
        || b"/usr/local/bin:/usr/bin:/bin".to_vec(),
        |p| p.into_vec(),
    )
}

/// `--pause`: forks a child that only waits for SIGTERM, SIGINT or SIGHUP and then exits 0.
/// It stands in for a command, so pause mode shares every path of a normal run: forwarding,
/// reaping and the shutdown of leftovers. Every other signal sexton forwards it ignores, so
/// the kernel discards them rather than queue what it never takes.
pub fn placeholder() -> Result<Pid, Error> {
    const STOP: [Signal; 3] = [Signal::TERM, Signal::INT, Signal::HUP];
    let stop = Set::from_iter(STOP).to_sigset();
    let mut ignored = [0; signal::MAX];
    let mut count = 0;
    for sig in Signal::all().filter(|sig| sig.is_forwarded() && !STOP.contains(sig)) {
        ignored[count] = sig.number();
        count += 1;
    }
    let child = fork_into(|| {
        // SAFETY: setpgid(2), signal(2) and sigprocmask(2) are async-signal-safe; sigwait(3),
        // which POSIX does not list, only wraps a system call, and the child has one thread.
        // The stop signals are still blocked from `forward::shield`, so none is lost before
        // sigwait; they alone stay blocked.
        unsafe {
            libc::setpgid(0, 0);
            for &sig in &ignored[..count] {
                libc::signal(sig, libc::SIG_IGN);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &stop, std::ptr::null_mut());
            let mut sig = 0;
            while libc::sigwait(&stop, &mut sig) != 0 {}
            libc::_exit(0)
        }
    })
    .map_err(|errno| Error::Sys {
        call: "fork",
        errno,
    })?;
    // Also set from the parent, so forwarding to the group cannot beat the child to it.
    // SAFETY: plain integer arguments; EACCES once the child has done it is harmless.
    unsafe { libc::setpgid(child.as_raw(), child.as_raw()) };
    Ok(child)
}

/// Forks; the child runs `child` and, if it returns, exits 127.
fn fork_into(child: impl FnOnce()) -> Result<Pid, Errno> {
    // SAFETY: sexton has one thread while it spawns, and `child` only makes async-signal-safe
    // calls (each caller says which).
    match unsafe { libc::fork() } {
        -1 => Err(Errno::last()),
        0 => {
            child();
            // SAFETY: _exit(2) is async-signal-safe and skips the parent's atexit handlers.
            unsafe { libc::_exit(127) }
        }
        pid => Ok(Pid::from_raw(pid)),
    }
}

/// A close-on-exec pipe, write end first: it closes on a successful exec, or carries errno.
fn exec_report_pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    Errno::result(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }).map_err(|errno| {
        Error::Sys {
            call: "pipe2",
            errno,
        }
    })?;
    // SAFETY: pipe2 just returned these two descriptors, which nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[1]), OwnedFd::from_raw_fd(fds[0])) })
}

/// Sees the child stop before its exec. Between taking the terminal and the exec, the child is
/// in the terminal's foreground group, so a Ctrl-Z typed then (or a `kill -STOP`) stops it
/// there; it never execs, the exec-report pipe never closes, and sexton, waiting on the pipe
/// before its reap loop (which handles stops) has started, would wait for ever, the terminal
/// wedged. So while sexton waits for the exec it also takes SIGCHLD, blocked, through a
/// signalfd: a stop before the exec is undone, and done again once the command runs, so the
/// command gets the Ctrl-Z it was meant to have, and the reap loop its stop.
struct StopWatch {
    fd: OwnedFd,
    /// sexton's mask before SIGCHLD was blocked, to go back to.
    mask: sigset_t,
}

impl StopWatch {
    /// Blocks SIGCHLD (before the fork, so no stop goes unseen) and opens a signalfd for it.
    /// Blocked, SIGCHLD is queued though its default action is to be discarded. Without a
    /// signalfd (a seccomp filter may refuse it) sexton waits for the exec alone, as it could
    /// before: only a stop in that moment is left to whoever stopped the child.
    fn start() -> Option<StopWatch> {
        let chld = Set::from_iter([Signal::CHLD]).to_sigset();
        let mut mask = Set::default().to_sigset();
        // SAFETY: both pointers are to initialised sigset_t values.
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &chld, &mut mask) };
        // SAFETY: -1 asks for a new descriptor; `chld` is an initialised sigset_t.
        let fd = unsafe { libc::signalfd(-1, &chld, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        let watch = |fd| StopWatch {
            // SAFETY: signalfd(2) just returned this descriptor, which nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            mask,
        };
        match Errno::result(fd) {
            Ok(fd) => Some(watch(fd)),
            Err(errno) => {
                // SAFETY: `mask` is the initialised mask saved above.
                unsafe { libc::sigprocmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut()) };
                log::debug!("cannot see the command stop before its exec: signalfd: {errno}");
                None
            }
        }
    }

    /// Waits for `child`'s exec as [`exec_error`] does, continuing it whenever it stops
    /// before the exec; once it has exec'd, stops it again with the last signal that did.
    fn wait_for_exec(&self, child: Pid, reported: &OwnedFd) -> Option<Errno> {
        let mut stopped_by = None;
        while !self.readable_first(reported) {
            if let Some(sig) = stopped_before_exec(child, reported) {
                log::debug!(
                    "pid {child} was stopped by {sig} before its exec; continuing it, to stop \
                     it again once it has exec'd"
                );
                stopped_by = Some(sig);
                forward::send(child.as_raw(), Signal::CONT);
            }
        }
        let failure = exec_error(reported);
        if let Some(sig) = stopped_by.filter(|_| failure.is_none()) {
            log::debug!("stopping the command (pid {child}) with {sig} now that it has exec'd");
            forward::send(child.as_raw(), sig);
        }
        failure
    }

    /// Sleeps until the exec report or a SIGCHLD comes; true for the report. Takes the SIGCHLD:
    /// there is at most one, as SIGCHLD is no real-time signal, which could queue.
    fn readable_first(&self, reported: &OwnedFd) -> bool {
        let mut fds = [reported.as_raw_fd(), self.fd.as_raw_fd()].map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: `fds` holds two initialised pollfd entries; no timeout and no signal mask: it
        // waits as long as it takes, with sexton's mask.
        let polled =
            unsafe { libc::ppoll(fds.as_mut_ptr(), 2, std::ptr::null(), std::ptr::null()) };
        if polled == -1 {
            // Not EINTR: sexton installs no signal handler. Whatever it is (ENOMEM), the report
            // is left to `exec_error`'s blocking read.
            return true;
        }
        if fds[0].revents != 0 {
            return true;
        }
        let mut info = MaybeUninit::<libc::signalfd_siginfo>::uninit();
        // SAFETY: `info` has room for the one record asked for; the descriptor is
        // non-blocking, so should the record be gone, this returns at once.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                info.as_mut_ptr().cast(),
                size_of_val(&info),
            )
        };
        false
    }
}

impl Drop for StopWatch {
    fn drop(&mut self) {
        // SAFETY: `mask` is an initialised sigset_t. A SIGCHLD still queued is discarded
        // when it is unblocked: its default action.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut()) };
    }
}

/// The signal that stopped `child` before its exec, if one did; the stop is consumed. A stop
/// once the exec report is there (it closes as the exec happens) is the command's own, and
/// stays for the reap loop: a stopped child's report cannot change while it is looked at.
fn stopped_before_exec(child: Pid, reported: &OwnedFd) -> Option<Signal> {
    let stopped = |flags| {
        // SAFETY: an all-zero siginfo_t is a valid buffer for waitid(2) to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: plain integers and a valid out-pointer; WSTOPPED alone never reaps. With
        // nothing to report (WNOHANG), or failing, it leaves si_pid 0.
        unsafe {
            libc::waitid(
                libc::P_PID,
                child.as_raw().unsigned_abs(),
                &mut info,
                libc::WSTOPPED | libc::WNOHANG | flags,
            )
        };
        // SAFETY: `info` is initialised, and filled in by a child's stop when it names the
        // child: si_status is then the signal.
        (unsafe { info.si_pid() } == child.as_raw()).then(|| unsafe { info.si_status() })
    };
    stopped(libc::WNOWAIT)?;
    let mut report = libc::pollfd {
        fd: reported.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one initialised pollfd; a zero timeout only looks.
    if unsafe { libc::poll(&mut report, 1, 0) } != 0 {
        return None;
    }
    Signal::new(stopped(0)?)
}

/// Waits for the exec: end of file means it succeeded, four bytes are its errno. The read is
/// never interrupted (EINTR): sexton installs no signal handler. A failing read of our own pipe
/// cannot tell, so it counts as a failure with the read's errno.
fn exec_error(reported: &OwnedFd) -> Option<Errno> {
    let mut errno: c_int = 0;
    // SAFETY: `reported` is an open descriptor, and `errno` has room for the bytes asked for.
    let n = unsafe {
        libc::read(
            reported.as_raw_fd(),
            (&raw mut errno).cast(),
            size_of_val(&errno),
        )
    };
    match n {
        0 => None,
        -1 => Some(Errno::last()),
        _ => Some(Errno::from_raw(errno)),
    }
}

/// The launcher's signal state, copied out of `Startup` so the child needs no allocation.
#[derive(Clone, Copy)]
struct Restore {
    mask: sigset_t,
    dispositions: [(c_int, libc::sighandler_t); forward::SELF_SET.len()],
}

impl From<&Startup> for Restore {
    fn from(startup: &Startup) -> Restore {
        let dispositions = forward::SELF_SET.map(|sig| {
            let handler = if startup.ignored(sig) {
                libc::SIG_IGN
            } else {
                libc::SIG_DFL
            };
            (sig.number(), handler)
        });
        Restore {
            mask: startup.mask,
            dispositions,
        }
    }
}

impl Restore {
    /// Runs in the child, between fork and exec.
    fn apply(&self) {
        for &(sig, handler) in &self.dispositions {
            // SAFETY: signal(2) and sigprocmask(2) are async-signal-safe; the mask is a valid
            // sigset_t copied from the launcher's.
            unsafe { libc::signal(sig, handler) };
        }
        // SAFETY: as above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut()) };
    }
}

/// Runs in the child: makes its new process group the terminal's foreground, so it can read
/// the terminal and gets Ctrl-C and Ctrl-Z. SIGTTOU is still ignored from sexton, so the
/// call cannot stop the child while it is in the background.
fn take_terminal(terminal: c_int) {
    // SAFETY: tcsetpgrp(3) and getpid(2) are async-signal-safe; failure leaves the terminal
    // as it was, which is all there is to do about it here.
    unsafe { libc::tcsetpgrp(terminal, libc::getpid()) };
}

/// Runs in the child: writes `n` in decimal at the start of `out`, then a NUL. Only stores
/// into memory built before the fork: no allocation, no call.
fn write_decimal(n: u32, out: &mut [u8; PID_ROOM]) {
    let mut len = 1;
    let mut rest = n / 10;
    while rest > 0 {
        len += 1;
        rest /= 10;
    }
    let mut rest = n;
    for digit in out[..len].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out[len] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_any_pid_in_decimal() {
        for n in [0, 1, 9, 10, 4194304, u32::MAX] {
            let mut out = [b'x'; PID_ROOM];
            write_decimal(n, &mut out);
            let end = out.iter().position(|&b| b == 0).expect("a NUL");
            assert_eq!(&out[..end], n.to_string().as_bytes());
        }
    }
}
