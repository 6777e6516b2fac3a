//! Benchmarks sexton against its peers: tini (static build), dumb-init and catatonit.
//!
//! Run with `cargo bench --bench peers`. Progress goes to stderr; stdout gets one header line
//! (machine, load, date), one Markdown table and notes.
//!
//! # Method
//!
//! Every init runs the *same* workload through the same calling convention (`INIT -- CMD...`).
//! Timed workloads are **interleaved** — A B C D A B C D …, the starting contender rotating each
//! step — so drift on a shared, loaded machine (frequency scaling, noisy neighbours) hits every
//! init alike. Each cell is the median over rounds, with the rounds' min–max so noise is visible.
//!
//! | metric | how |
//! |---|---|
//! | start-up overhead | per-launch wall time (spawn + wait from here) of `INIT -- /bin/true` minus that of plain `/bin/true`; per round the median of many launches |
//! | instructions | user-space instructions of the init process alone: callgrind's `Collected` count for `INIT -- /bin/true` without `--trace-children` (the child runs natively) |
//! | RSS | `VmRSS` of the init while its child runs `sleep` |
//! | idle wake-ups | context switches (voluntary + involuntary, all threads) of the init during a quiet window while its child sleeps; the inits idle side by side |
//! | orphan storm | the init is PID 1 of a fresh PID namespace and runs a generator (this binary re-executed) that double-forks many instantly exiting orphans, waits until the namespace holds no process but itself and PID 1, then reports the init's CPU time (`/proc/1/task/*/schedstat`) and any zombies still there (after a deadline); wall time is the whole `unshare` run |
//! | signal round trip | from `kill(init, SIGUSR1)` until the init's child (this binary re-executed as an echo helper) has written one byte back through a pipe; measured with this thread, the init and its child pinned to one CPU (the init's own path), then free (mostly the scheduler's placement) |
//! | size | file size of the binary; dynamically linked ones are flagged and left out of the size ratio, as their size excludes libc |
//!
//! Lower is better everywhere. The last row compares sexton with the best peer (by median) as
//! the median of per-round ratios: round k of both ran side by side, so drift cancels.
//!
//! Every init sees the same small, container-like environment (see `CONTAINER_ENV`).
//! Outside a PID namespace tini warns that it is not PID 1; `TINI_VERBOSITY=0`, for tini only,
//! keeps that warning, which a real PID 1 never prints, out of its figures.
//!
//! `cargo bench --bench peers -- NAME...` runs only the phases whose name contains a NAME
//! (`size`, `start-up`, `instructions`, `idle`, `signal`, `orphan`).
//!
//! Every round's sample goes to a CSV file (`SEXTON_BENCH_CSV`, else
//! `target/peers-samples.csv`), with the header line, the notes and the failures as `#` lines;
//! `cargo bench --bench peers -- --replay FILE` prints the report of such a file again, so a
//! committed run (benches/runs/) re-derives the README's table.
//!
//! The static sexton comes from `cargo build --release --target x86_64-unknown-linux-musl`
//! unless `SEXTON_BENCH_BIN` names a binary. A missing init is reported, never fatal.
//!
//! Every process started here is ended by pid (SIGKILL, then reaped) on every path, errors
//! included ([`kit::tree::Tree`]). Synchronisation is by polling conditions under deadlines,
//! never by fixed sleeps ([`kit::wait`]).
//!
//! The files: `inits` (the contenders), one per phase (`size`, `startup`, `instructions`,
//! `idle`, `signal`, `storm`), `helpers` (the roles this binary plays inside a workload),
//! `results` (samples, statistics, the CSV) and `report` (the table), `process` (running a
//! workload).

mod helpers;
mod idle;
mod inits;
mod instructions;
mod process;
mod report;
mod results;
mod signal;
mod size;
mod startup;
mod storm;

use std::env;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use inits::Init;
use results::Results;

// Deadlines only matter when something misbehaves, so they are generous.
const SHORT_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    match args.get(1).map(String::as_str) {
        Some(helpers::ORPHANS_ARG) => helpers::orphans(args.get(2)),
        Some(helpers::ECHO_ARG) => helpers::echo(),
        Some("--replay") => match args.get(2) {
            Some(csv) => report::replay(csv),
            None => {
                eprintln!("[peers] --replay needs the CSV file of a run");
                ExitCode::FAILURE
            }
        },
        // `cargo bench` passes `--bench`; other arguments pick phases by name.
        _ => run_benchmark(&args[1..]),
    }
}

/// One metric's measurement over all inits.
type Phase = fn(&[Init], &mut Results);

/// Runs every phase, or only those whose name contains one of `filters` (flags are skipped):
/// `cargo bench --bench peers -- signal` reruns one row.
fn run_benchmark(filters: &[String]) -> ExitCode {
    let filters: Vec<&String> = filters.iter().filter(|f| !f.starts_with('-')).collect();
    let started = Instant::now();
    let mut results = Results::default();
    let inits = inits::contenders(&mut results);
    if inits.is_empty() {
        eprintln!("[peers] no init to benchmark");
        return ExitCode::FAILURE;
    }
    let load_before = report::read_trimmed("/proc/loadavg");

    let phases: [(&str, Phase); 6] = [
        ("size", size::measure),
        ("start-up", startup::measure),
        ("instructions", instructions::measure),
        ("RSS and idle wake-ups", idle::measure),
        ("signal round trip", signal::measure),
        ("orphan storm", storm::measure),
    ];
    let chosen = phases.into_iter().filter(|(name, _)| {
        filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
    });
    for (name, phase) in chosen {
        let phase_started = Instant::now();
        phase(&inits, &mut results);
        eprintln!(
            "[peers] {name}: {:.1} s",
            phase_started.elapsed().as_secs_f64()
        );
    }

    eprintln!("[peers] done in {:.0} s", started.elapsed().as_secs_f64());
    let header = report::header_line(&load_before);
    let names: Vec<&str> = inits.iter().map(|init| init.name.as_str()).collect();
    match results::write_csv(&names, &results, &header) {
        Ok(path) => eprintln!("[peers] samples: {}", path.display()),
        Err(why) => eprintln!("[peers] samples not written: {why}"),
    }
    report::print(&names, &results, &header);
    ExitCode::SUCCESS
}

/// `0..n` starting at `step % n`, so no contender always runs right after the same other one.
fn rotated(n: usize, step: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| (step + k) % n)
}
