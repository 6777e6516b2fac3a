//! Metric: the SIGUSR1 round trip through the init to its child and back through a pipe.

use std::env;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use kit::libc;
use nix::errno::Errno;

use crate::inits::Init;
use crate::process::{Running, read_byte};
use crate::results::{Metric, Results, median};
use crate::{SHORT_TIMEOUT, helpers, rotated};

pub const ROUNDS: usize = 7;
pub const ITERATIONS: usize = 300;

/// Measures twice. On one CPU (this thread, the init and its child all pinned to the CPU this
/// thread is on) the figure is the path through the init: its wake-up, its system calls, its
/// context switches. Free, the scheduler spreads three processes over the CPUs, and whether
/// they happen to share one decides most of the time (on a VM, waking an idle vCPU costs tens
/// of microseconds), so that column shows mostly the machine, with its noise.
pub fn measure(inits: &[Init], results: &mut Results) {
    match OneCpu::pin() {
        Ok(pinned) => {
            rounds(inits, results, Metric::SignalRtt);
            drop(pinned);
        }
        Err(why) => results.fail_all(inits, &[Metric::SignalRtt], &why),
    }
    rounds(inits, results, Metric::SignalRttFree);
}

/// This thread (and what it starts) on the CPU it runs on, until dropped.
struct OneCpu {
    before: libc::cpu_set_t,
}

impl OneCpu {
    fn pin() -> Result<OneCpu, String> {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: cpu_set_t is plain data, valid when zeroed; every pointer passed is to one
        // of ours of `size` bytes.
        unsafe {
            let mut before: libc::cpu_set_t = std::mem::zeroed();
            let cpu = Errno::result(libc::sched_getcpu())
                .and_then(|cpu| {
                    Errno::result(libc::sched_getaffinity(0, size, &mut before)).map(|_| cpu)
                })
                .map_err(|e| format!("cannot read this thread's CPU: {e}"))?;
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            Errno::result(libc::sched_setaffinity(0, size, &one))
                .map_err(|e| format!("cannot pin to CPU {cpu}: {e}"))?;
            Ok(OneCpu { before })
        }
    }
}

impl Drop for OneCpu {
    fn drop(&mut self) {
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `before` is the affinity this thread had, `size` bytes long.
        unsafe { libc::sched_setaffinity(0, size, &self.before) };
    }
}

fn rounds(inits: &[Init], results: &mut Results, metric: Metric) {
    let exe = match env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return results.fail_all(inits, &[metric], &e.to_string()),
    };
    let mode = if metric == Metric::SignalRtt {
        "one CPU"
    } else {
        "free"
    };
    for round in 0..ROUNDS {
        eprintln!(
            "[peers] SIGUSR1 round trip, {mode}: round {}/{ROUNDS}",
            round + 1
        );
        let mut echoes = Vec::new();
        for (i, init) in inits.iter().enumerate() {
            if results.failed(i, metric) {
                continue;
            }
            match start_echo(init, &exe) {
                Ok(run) => echoes.push((i, run, Vec::with_capacity(ITERATIONS))),
                Err(why) => results.fail(inits, i, metric, &why),
            }
        }
        // Interleaved: one round trip per init per step.
        for step in 0..ITERATIONS {
            for slot in rotated(echoes.len(), step) {
                let (i, run, times) = &mut echoes[slot];
                if results.failed(*i, metric) {
                    continue;
                }
                match round_trip(run) {
                    Ok(t) => times.push(t.as_secs_f64() * 1e6),
                    Err(why) => results.fail(inits, *i, metric, &why),
                }
            }
        }
        for (i, run, times) in echoes {
            if !results.failed(i, metric) {
                results.add(i, metric, median(&times));
            }
            if let Err(why) = run.finish(SHORT_TIMEOUT) {
                results.note(format!(
                    "{}: after the signal round trips: {why}",
                    inits[i].name
                ));
            }
        }
    }
}

/// Starts `INIT -- <this binary> __echo` and waits for the helper's ready line (its pid).
fn start_echo(init: &Init, exe: &Path) -> Result<Running, String> {
    let mut cmd = init.command(&[exe.as_os_str(), OsStr::new(helpers::ECHO_ARG)]);
    cmd.stdout(Stdio::piped());
    let mut run = Running::spawn(&mut cmd)?;
    let deadline = Instant::now() + SHORT_TIMEOUT;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match read_byte(stdout(&mut run)?, left)? {
            b'\n' => break,
            byte => line.push(byte),
        }
    }
    String::from_utf8_lossy(&line)
        .parse::<i32>()
        .map_err(|_| "bad ready line from the echo helper")?;
    Ok(run)
}

fn stdout(run: &mut Running) -> Result<&mut std::process::ChildStdout, String> {
    run.stdout().ok_or_else(|| "stdout is not piped".into())
}

fn round_trip(run: &mut Running) -> Result<Duration, String> {
    let start = Instant::now();
    if !kit::send(run.pid(), libc::SIGUSR1) {
        return Err(format!("kill: {}", std::io::Error::last_os_error()));
    }
    read_byte(stdout(run)?, SHORT_TIMEOUT).map_err(|why| format!("SIGUSR1 not echoed: {why}"))?;
    Ok(start.elapsed())
}
