//! The roles this binary plays inside a workload, started by an init as its child: the
//! signal echo (`__echo`) and the orphan generator (`__orphans N`). Dispatched before
//! anything else runs, so each helper is single-threaded.

use std::fs;
use std::io::{self, Write};
use std::process::{self, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use kit::{libc, procfs};
use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

use crate::storm;

/// First arguments that turn this binary into a helper inside a workload.
pub const ORPHANS_ARG: &str = "__orphans";
pub const ECHO_ARG: &str = "__echo";

/// Orphans per intermediate process. Each middle process forks a batch and exits, so the
/// generator's own fork cost (identical for every init) stays small next to the reaping under
/// test. At most 255: the middle process reports its count as its exit status.
const BATCH: usize = 100;
const FORK_TIMEOUT: Duration = Duration::from_secs(60);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `__echo`: writes its pid and a newline, then one byte per SIGUSR1 received.
pub fn echo() -> ExitCode {
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    // Blocked before announcing readiness: a SIGUSR1 must be queued for sigwait, never meet the
    // default action (terminate).
    if usr1.thread_block().is_err() {
        return ExitCode::FAILURE;
    }
    let mut out = io::stdout().lock();
    if writeln!(out, "{}", process::id())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    while usr1.wait().is_ok() {
        if out.write_all(b"!").and_then(|()| out.flush()).is_err() {
            break; // The bench has gone away.
        }
    }
    ExitCode::SUCCESS
}

/// `__orphans N`, running as the init's child inside the PID namespace: forks N orphans,
/// waits until the init has reaped them, and reports.
pub fn orphans(count: Option<&String>) -> ExitCode {
    let count = count.and_then(|n| n.parse().ok()).unwrap_or(storm::ORPHANS);
    let created = create_orphans(count);
    let me = process::id() as i32;
    // Every orphan is the init's child (PID 1's) and every middle process has been waited
    // for: done when PID 1 has no child but us.
    let others = || {
        procfs::children(1)
            .into_iter()
            .filter(move |&pid| pid != me)
    };
    kit::wait::poll(DRAIN_TIMEOUT, || others().next().is_none());
    let zombies_left = procfs::zombie_children(1).len();
    let init_cpu_ns = cpu_time_ns(1).unwrap_or(0);
    println!("created={created} zombies_left={zombies_left} init_cpu_ns={init_cpu_ns}");
    // Our exit makes the init exit: as PID 1 it takes the namespace down with it.
    if created == count && zombies_left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Forks `count` orphans in batches via short-lived middle processes; returns how many exist.
fn create_orphans(count: usize) -> usize {
    let deadline = Instant::now() + FORK_TIMEOUT;
    let mut created = 0;
    while created < count {
        let batch = BATCH.min(count - created);
        match fork_retrying(deadline) {
            Some(ForkResult::Child) => fork_batch_and_exit(batch, deadline),
            Some(ForkResult::Parent { child }) => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, made)) if made > 0 => created += made as usize,
                _ => break,
            },
            None => break,
        }
    }
    created
}

/// Middle process: forks `batch` children that exit at once, then exits itself, which hands
/// them (running or already zombies) to the init. The exit status is the number forked.
fn fork_batch_and_exit(batch: usize, deadline: Instant) -> ! {
    let mut made = 0;
    for _ in 0..batch {
        match fork_retrying(deadline) {
            // SAFETY: _exit is async-signal-safe and never returns.
            Some(ForkResult::Child) => unsafe { libc::_exit(0) },
            Some(ForkResult::Parent { .. }) => made += 1,
            None => break,
        }
    }
    // SAFETY: as above; `made` ≤ BATCH ≤ 255 fits an exit status.
    unsafe { libc::_exit(made) }
}

/// fork(2), retrying EAGAIN — pids run out when the init reaps slower than we fork — until
/// `deadline`.
fn fork_retrying(deadline: Instant) -> Option<ForkResult> {
    let mut backoff = Duration::from_micros(50);
    loop {
        // SAFETY: the generator is single-threaded (helpers are dispatched before anything can
        // start a thread), so the child may run arbitrary code.
        match unsafe { fork() } {
            Ok(result) => return Some(result),
            Err(Errno::EAGAIN) if Instant::now() < deadline => {
                thread::sleep(backoff); // Back-off while the init catches up.
                backoff = (backoff * 2).min(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

/// CPU time of `pid` in ns, all threads: exact from schedstat when the kernel has it, else
/// from /proc/PID/stat's clock ticks (which already sum the threads).
fn cpu_time_ns(pid: i32) -> Option<u64> {
    let runtimes: Option<Vec<u64>> = procfs::tasks(pid)
        .into_iter()
        .map(|tid| {
            let schedstat = fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
            schedstat.split_whitespace().next()?.parse().ok()
        })
        .collect();
    if let Some(runtimes) = runtimes.filter(|r| !r.is_empty()) {
        return Some(runtimes.iter().sum());
    }
    let stat = procfs::stat(pid)?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| (stat.utime + stat.stime) * 1_000_000_000 / hz as u64)
}
