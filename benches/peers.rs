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
//! The static sexton comes from `cargo build --release --target x86_64-unknown-linux-musl`
//! unless `SEXTON_BENCH_BIN` names a binary. A missing init is reported, never fatal.
//!
//! Every process started here is ended by pid (SIGKILL, then reaped) on every path, errors
//! included. Synchronisation is by polling conditions under deadlines, never by fixed sleeps.

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{self, Child, ChildStdout, Command, ExitCode, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

// Workload sizes, chosen so a full run stays within a few minutes on two busy cores.
const STARTUP_ROUNDS: usize = 7;
const STARTUP_LAUNCHES: usize = 200;
const CALLGRIND_ROUNDS: usize = 2;
const IDLE_ROUNDS: usize = 2;
const IDLE_WINDOW: Duration = Duration::from_secs(3);
const ECHO_ROUNDS: usize = 7;
const ECHO_ITERATIONS: usize = 300;
const STORM_ROUNDS: usize = 5;
const STORM_ORPHANS: usize = 20_000;
/// Orphans per intermediate process. Each middle process forks a batch and exits, so the
/// generator's own fork cost (identical for every init) stays small next to the reaping under
/// test. At most 255: the middle process reports its count as its exit status.
const STORM_BATCH: usize = 100;

// Deadlines only matter when something misbehaves, so they are generous.
const SHORT_TIMEOUT: Duration = Duration::from_secs(5);
const CALLGRIND_TIMEOUT: Duration = Duration::from_secs(60);
const STORM_FORK_TIMEOUT: Duration = Duration::from_secs(60);
const STORM_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const STORM_RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// Extra environment variables for every run of an init.
type Env = &'static [(&'static str, &'static str)];

/// Name, path, and environment for every run (`TINI_VERBOSITY`: see the module docs; only
/// tini gets it, since sexton reads it too and would log less).
const PEERS: [(&str, &str, Env); 3] = [
    (
        "tini-static",
        "/usr/bin/tini-static",
        &[("TINI_VERBOSITY", "0")],
    ),
    ("dumb-init", "/usr/bin/dumb-init", &[]),
    ("catatonit", "/usr/bin/catatonit", &[]),
];
const MUSL_TARGET: &str = "x86_64-unknown-linux-musl";

/// First arguments that turn this binary into a helper inside a workload.
const ORPHANS_ARG: &str = "__orphans";
const ECHO_ARG: &str = "__echo";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    match args.get(1).map(String::as_str) {
        Some(ORPHANS_ARG) => {
            let count = args.get(2).and_then(|n| n.parse().ok());
            orphan_generator(count.unwrap_or(STORM_ORPHANS))
        }
        Some(ECHO_ARG) => signal_echo(),
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
    let sexton = find_sexton(&mut results);
    let inits = contenders(sexton, &mut results);
    if inits.is_empty() {
        eprintln!("[peers] no init to benchmark");
        return ExitCode::FAILURE;
    }
    let load_before = read_trimmed("/proc/loadavg");

    let phases: [(&str, Phase); 6] = [
        ("size", measure_sizes),
        ("start-up", measure_startup),
        ("instructions", measure_instructions),
        ("RSS and idle wake-ups", measure_idle),
        ("signal round trip", measure_signal_round_trip),
        ("orphan storm", measure_orphan_storm),
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
    print_report(&inits, &results, &load_before);
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------------------------------------
// Contenders

struct Init {
    name: String,
    path: PathBuf,
    env: Env,
    is_peer: bool,
}

impl Init {
    /// `INIT -- args...` with quiet stdio and the init's environment.
    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.arg("--").args(args);
        self.prepare(&mut cmd);
        cmd
    }

    /// Quiet stdio and the init's environment, for a command that runs this init somewhere.
    fn prepare(&self, cmd: &mut Command) {
        quiet(cmd);
        cmd.envs(self.env.iter().copied());
    }
}

/// What a container's PID 1 typically sees (Docker's defaults for root).
const CONTAINER_ENV: [(&str, &str); 3] = [
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOSTNAME", "peers-bench"),
    ("HOME", "/root"),
];

/// Detached stdio, so no init's chatter costs terminal time or mixes with the report, and a
/// small fixed environment: start-up cost grows with the environment's size (option parsers'
/// getenv scans, glibc's tunables scan), so cargo's large one would skew every figure and make
/// it depend on how the bench was started.
fn quiet(cmd: &mut Command) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_clear()
        .envs(CONTAINER_ENV);
}

fn contenders(sexton: Option<PathBuf>, results: &mut Results) -> Vec<Init> {
    let mut inits = Vec::new();
    if let Some(path) = sexton {
        let name = "sexton".to_string();
        inits.push(Init {
            name,
            path,
            env: &[],
            is_peer: false,
        });
    }
    for (name, path, env) in PEERS {
        if Path::new(path).is_file() {
            let (name, path) = (name.to_string(), PathBuf::from(path));
            inits.push(Init {
                name,
                path,
                env,
                is_peer: true,
            });
        } else {
            results.note(format!("{name} not benchmarked: {path} is missing"));
        }
    }
    inits
}

/// The sexton binary to test: `SEXTON_BENCH_BIN`, else a fresh static musl release build.
/// `None`, with a note, while it cannot be built or does not identify as sexton yet.
fn find_sexton(results: &mut Results) -> Option<PathBuf> {
    let built = match env::var_os("SEXTON_BENCH_BIN") {
        Some(bin) => Ok(PathBuf::from(bin)),
        None => build_sexton(),
    };
    let checked = built.and_then(|path| {
        let version = version_of(&path)?;
        if version.contains("sexton") {
            Ok(path)
        } else {
            Err(format!(
                "`{} --version` printed {version:?}",
                path.display()
            ))
        }
    });
    checked
        .map_err(|why| results.note(format!("sexton not benchmarked: {why}")))
        .ok()
}

fn build_sexton() -> Result<PathBuf, String> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("[peers] building the static sexton (release, {MUSL_TARGET})…");
    // Cargo's progress goes to our stderr; stdout stays reserved for the report.
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            MUSL_TARGET,
            "--manifest-path",
        ])
        .arg(manifest_dir.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("the {MUSL_TARGET} release build failed ({status})"));
    }
    // `cargo bench` exports CARGO_TARGET_DIR only if the user set it; otherwise it is `target`.
    let target_dir =
        env::var_os("CARGO_TARGET_DIR").map_or_else(|| manifest_dir.join("target"), PathBuf::from);
    Ok(target_dir.join(MUSL_TARGET).join("release").join("sexton"))
}

/// First line of `bin --version`, under a deadline so a half-written sexton cannot hang us.
fn version_of(bin: &Path) -> Result<String, String> {
    let mut cmd = Command::new(bin);
    cmd.arg("--version");
    quiet(&mut cmd);
    cmd.stdout(Stdio::piped());
    let mut run = Running::spawn(&mut cmd)?;
    let status = run.wait(SHORT_TIMEOUT)?;
    let out = read_rest(run.child.stdout.as_mut());
    if !status.success() {
        return Err(format!("`{} --version` failed ({status})", bin.display()));
    }
    Ok(out.lines().next().unwrap_or_default().trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// Results and report

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Metric {
    Startup,
    Instructions,
    Rss,
    Wakeups,
    SignalRtt,
    SignalRttFree,
    StormWall,
    StormCpu,
    ZombiesLeft,
    Size,
}

impl Metric {
    const ALL: [Metric; 10] = [
        Metric::Startup,
        Metric::Instructions,
        Metric::Rss,
        Metric::Wakeups,
        Metric::SignalRtt,
        Metric::SignalRttFree,
        Metric::StormWall,
        Metric::StormCpu,
        Metric::ZombiesLeft,
        Metric::Size,
    ];
    const STORM: [Metric; 3] = [Metric::StormWall, Metric::StormCpu, Metric::ZombiesLeft];

    fn header(self) -> String {
        match self {
            Metric::Startup => "start-up overhead µs".into(),
            Metric::Instructions => "instructions".into(),
            Metric::Rss => "RSS KiB".into(),
            Metric::Wakeups => format!("idle wake-ups / {} s", IDLE_WINDOW.as_secs()),
            Metric::SignalRtt => "SIGUSR1 round trip µs, one CPU".into(),
            Metric::SignalRttFree => "SIGUSR1 round trip µs, free".into(),
            Metric::StormWall => format!("orphan storm {}k: wall ms", STORM_ORPHANS / 1000),
            Metric::StormCpu => "orphan storm: init CPU ms".into(),
            Metric::ZombiesLeft => "zombies left".into(),
            Metric::Size => "binary bytes".into(),
        }
    }

    fn decimals(self) -> usize {
        match self {
            Metric::Startup | Metric::SignalRtt | Metric::SignalRttFree | Metric::StormCpu => 1,
            _ => 0,
        }
    }
}

#[derive(Default)]
struct Results {
    /// One sample per round, per (init index, metric).
    samples: BTreeMap<(usize, Metric), Vec<f64>>,
    /// Why an init has no (further) samples for a metric.
    failures: BTreeMap<(usize, Metric), String>,
    /// Inits whose binary is dynamically linked.
    dynamic: BTreeSet<usize>,
    notes: Vec<String>,
}

impl Results {
    fn add(&mut self, init: usize, metric: Metric, value: f64) {
        self.samples.entry((init, metric)).or_default().push(value);
    }

    /// Records why `init` gets no further samples for `metric`; the first reason is kept.
    fn fail(&mut self, inits: &[Init], init: usize, metric: Metric, why: &str) {
        eprintln!("[peers] {} — {}: {why}", inits[init].name, metric.header());
        self.failures
            .entry((init, metric))
            .or_insert_with(|| why.to_string());
    }

    fn fail_all(&mut self, inits: &[Init], metrics: &[Metric], why: &str) {
        for init in 0..inits.len() {
            for &metric in metrics {
                self.fail(inits, init, metric, why);
            }
        }
    }

    fn failed(&self, init: usize, metric: Metric) -> bool {
        self.failures.contains_key(&(init, metric))
    }

    fn note(&mut self, note: String) {
        eprintln!("[peers] note: {note}");
        self.notes.push(note);
    }

    fn stats(&self, init: usize, metric: Metric) -> Option<Stats> {
        self.samples.get(&(init, metric)).and_then(|s| Stats::of(s))
    }
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(samples: &[f64]) -> Option<Stats> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (min, max) = (*sorted.first()?, *sorted.last()?);
        Some(Stats {
            median: median_sorted(&sorted),
            min,
            max,
        })
    }
}

fn median(samples: &[f64]) -> f64 {
    Stats::of(samples).map_or(f64::NAN, |stats| stats.median)
}

fn median_sorted(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        f64::midpoint(sorted[mid - 1], sorted[mid])
    }
}

fn print_report(inits: &[Init], results: &Results, load_before: &str) {
    println!("{}", header_line(load_before));
    println!();
    let mut header = vec!["init".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.header()));
    println!("| {} |", header.join(" | "));
    println!("|---{}|", "|---:".repeat(Metric::ALL.len()));

    let sexton = inits.iter().position(|init| !init.is_peer);
    if sexton.is_none() {
        let blanks = " |".repeat(Metric::ALL.len() - 1);
        println!("| sexton | not available (see notes) |{blanks}");
    }
    for (i, init) in inits.iter().enumerate() {
        let cells: Vec<String> = Metric::ALL.iter().map(|&m| cell(results, i, m)).collect();
        println!("| {} | {} |", init.name, cells.join(" | "));
    }
    let ratios: Vec<String> = Metric::ALL
        .iter()
        .map(|&m| sexton.map_or("—".into(), |s| ratio_cell(inits, results, s, m)))
        .collect();
    println!("| **sexton ÷ best peer** | {} |", ratios.join(" | "));

    println!();
    println!(
        "Cells: median of rounds (min–max of rounds). Rounds: start-up {STARTUP_ROUNDS}×{STARTUP_LAUNCHES} \
         launches, instructions {CALLGRIND_ROUNDS}, idle {IDLE_ROUNDS}, signal {ECHO_ROUNDS}×{ECHO_ITERATIONS}, \
         orphan storm {STORM_ROUNDS}. Lower is better. Last row: sexton ÷ the best peer (by median), \
         as the median (min–max) of per-round ratios; sizes compare statically linked binaries only."
    );
    for note in &results.notes {
        println!("- {note}");
    }
    for ((init, metric), why) in &results.failures {
        println!("- {} — {}: {why}", inits[*init].name, metric.header());
    }
}

fn header_line(load_before: &str) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU", str::trim);
    let nproc = thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "**Machine:** {cpu}, {nproc} CPUs, Linux {} · **load** before {} / after {} · **date** {}",
        read_trimmed("/proc/sys/kernel/osrelease"),
        first_fields(load_before, 3),
        first_fields(&read_trimmed("/proc/loadavg"), 3),
        utc_now(),
    )
}

fn cell(results: &Results, init: usize, metric: Metric) -> String {
    let Some(stats) = results.stats(init, metric) else {
        return "n/a".into();
    };
    let d = metric.decimals();
    let median = group_digits(&format!("{:.d$}", stats.median));
    let (min, max) = (format!("{:.d$}", stats.min), format!("{:.d$}", stats.max));
    let mut text = if min == max {
        median
    } else {
        format!("{median} ({}–{})", group_digits(&min), group_digits(&max))
    };
    if metric == Metric::Size && results.dynamic.contains(&init) {
        text.push_str(" (dynamic)");
    }
    text
}

/// sexton against the best peer (by median), naming that peer. Rounds are interleaved, so
/// round k of sexton and round k of the peer ran side by side: the cell is the median of the
/// per-round ratios, with their min–max, which cancels drift between rounds.
fn ratio_cell(inits: &[Init], results: &Results, sexton: usize, metric: Metric) -> String {
    let Some(ours) = results.stats(sexton, metric) else {
        return "—".into();
    };
    // A dynamically linked binary's size leaves out libc, so it is no yardstick for a static one.
    let comparable = |i: &usize| metric != Metric::Size || !results.dynamic.contains(i);
    let best = (0..inits.len())
        .filter(|&i| inits[i].is_peer)
        .filter(comparable)
        .filter_map(|i| results.stats(i, metric).map(|s| (s.median, i)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let Some((best, peer)) = best else {
        return "—".into();
    };
    let name = &inits[peer].name;
    if best == 0.0 {
        return if ours.median == 0.0 {
            format!("= {name} (0)")
        } else {
            format!("+{} vs 0 ({name})", ours.median)
        };
    }
    // Samples are pushed round by round and stop at an init's first failure, so equal indexes
    // are the same round.
    let pairs = results.samples[&(sexton, metric)]
        .iter()
        .zip(&results.samples[&(peer, metric)]);
    let ratios: Vec<f64> = pairs
        .filter(|(_, b)| **b != 0.0)
        .map(|(a, b)| a / b)
        .collect();
    match Stats::of(&ratios) {
        Some(r) if format!("{:.2}", r.min) != format!("{:.2}", r.max) => {
            format!("{:.2}× {name} ({:.2}–{:.2})", r.median, r.min, r.max)
        }
        Some(r) => format!("{:.2}× {name}", r.median),
        None => format!("{:.2}× {name}", ours.median / best),
    }
}

/// `1234567.8` → `1,234,567.8`, for the big counts.
fn group_digits(number: &str) -> String {
    let (int, frac) = number.split_at(number.find('.').unwrap_or(number.len()));
    let (sign, digits) = int.split_at(usize::from(int.starts_with('-')));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{frac}")
}

fn first_fields(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let (hh, mm) = (secs_of_day / 3600, secs_of_day % 3600 / 60);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`);
/// saves a date-time dependency for one header line.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------------------------
// Metric: binary size

fn measure_sizes(inits: &[Init], results: &mut Results) {
    for (i, init) in inits.iter().enumerate() {
        match fs::read(&init.path) {
            Ok(bytes) => {
                results.add(i, Metric::Size, bytes.len() as f64);
                if has_interpreter(&bytes) {
                    results.dynamic.insert(i);
                }
            }
            Err(e) => results.fail(inits, i, Metric::Size, &e.to_string()),
        }
    }
}

/// Whether a 64-bit little-endian ELF file asks for a program interpreter (`PT_INTERP`), i.e.
/// is dynamically linked.
fn has_interpreter(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        elf.get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // Magic, ELFCLASS64, ELFDATA2LSB.
    if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(entsize), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..usize::from(count))
        .filter_map(|k| u32_at(phoff as usize + k * usize::from(entsize)))
        .any(|p_type| p_type == PT_INTERP)
}

// ---------------------------------------------------------------------------------------------
// Metric: start-up overhead

fn measure_startup(inits: &[Init], results: &mut Results) {
    // Slot 0 is the plain `/bin/true` baseline; slot k + 1 is `inits[k]`.
    let mut commands = vec![{
        let mut cmd = Command::new("/bin/true");
        quiet(&mut cmd);
        cmd
    }];
    commands.extend(inits.iter().map(|init| init.command(&["/bin/true"])));
    let mut baselines = Vec::new();

    for round in 0..STARTUP_ROUNDS {
        eprintln!("[peers] start-up: round {}/{STARTUP_ROUNDS}", round + 1);
        let mut launches = vec![Vec::with_capacity(STARTUP_LAUNCHES); commands.len()];
        for step in 0..STARTUP_LAUNCHES {
            for slot in rotated(commands.len(), step) {
                if slot > 0 && results.failed(slot - 1, Metric::Startup) {
                    continue;
                }
                match time_launch(&mut commands[slot]) {
                    Ok(t) => launches[slot].push(t.as_secs_f64() * 1e6),
                    Err(why) if slot == 0 => {
                        results.fail_all(inits, &[Metric::Startup], &format!("/bin/true: {why}"));
                        return;
                    }
                    Err(why) => results.fail(inits, slot - 1, Metric::Startup, &why),
                }
            }
        }
        let baseline = median(&launches[0]);
        baselines.push(baseline);
        for (slot, times) in launches.iter().enumerate().skip(1) {
            if !results.failed(slot - 1, Metric::Startup) {
                results.add(slot - 1, Metric::Startup, median(times) - baseline);
            }
        }
    }
    results.note(format!(
        "start-up baseline: plain `/bin/true` takes {:.0} µs per spawn + wait from the bench",
        median(&baselines)
    ));
}

/// `0..n` starting at `step % n`, so no contender always runs right after the same other one.
fn rotated(n: usize, step: usize) -> impl Iterator<Item = usize> {
    (0..n).map(move |k| (step + k) % n)
}

fn time_launch(cmd: &mut Command) -> Result<Duration, String> {
    let start = Instant::now();
    let mut run = Running::spawn(cmd)?;
    let status = run.wait(SHORT_TIMEOUT)?;
    let elapsed = start.elapsed();
    if !status.success() {
        return Err(format!("`-- /bin/true` exited with {status}"));
    }
    Ok(elapsed)
}

// ---------------------------------------------------------------------------------------------
// Metric: instructions (callgrind)

fn measure_instructions(inits: &[Init], results: &mut Results) {
    let Some(valgrind) = find_program("valgrind") else {
        results.fail_all(inits, &[Metric::Instructions], "valgrind is not installed");
        return;
    };
    for round in 0..CALLGRIND_ROUNDS {
        eprintln!(
            "[peers] instructions (callgrind): round {}/{CALLGRIND_ROUNDS}",
            round + 1
        );
        for (i, init) in inits.iter().enumerate() {
            if results.failed(i, Metric::Instructions) {
                continue;
            }
            match callgrind_instructions(&valgrind, init) {
                Ok(count) => results.add(i, Metric::Instructions, count),
                Err(why) => results.fail(inits, i, Metric::Instructions, &why),
            }
        }
    }
}

fn callgrind_instructions(valgrind: &Path, init: &Init) -> Result<f64, String> {
    let mut cmd = Command::new(valgrind);
    cmd.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(&init.path)
        .args(["--", "/bin/true"]);
    init.prepare(&mut cmd);
    cmd.stderr(Stdio::piped());
    let mut run = Running::spawn(&mut cmd)?;
    // Valgrind's summary is a few hundred bytes, so the pipe cannot fill up before the exit.
    let status = run.wait(CALLGRIND_TIMEOUT)?;
    let log = read_rest(run.child.stderr.as_mut());
    let collected = log
        .lines()
        .find_map(|line| {
            line.split_once("Collected :")
                .map(|(_, n)| n.trim().replace(',', ""))
        })
        .and_then(|n| n.parse::<f64>().ok());
    match collected {
        Some(count) if status.success() => Ok(count),
        _ => Err(format!("callgrind failed ({status}): {}", last_line(&log))),
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics: RSS and idle wake-ups

fn measure_idle(inits: &[Init], results: &mut Results) {
    for round in 0..IDLE_ROUNDS {
        eprintln!(
            "[peers] RSS and idle wake-ups: round {}/{IDLE_ROUNDS} ({} s window)",
            round + 1,
            IDLE_WINDOW.as_secs()
        );
        // The inits only sleep during the window, so running them side by side costs no accuracy
        // and saves (inits - 1) windows.
        let mut idle = Vec::new();
        for (i, init) in inits.iter().enumerate() {
            if results.failed(i, Metric::Wakeups) {
                continue;
            }
            match start_sleeping(init) {
                Ok(run) => idle.push((i, run)),
                Err(why) => {
                    results.fail(inits, i, Metric::Wakeups, &why);
                    results.fail(inits, i, Metric::Rss, &why);
                }
            }
        }
        let before: Vec<Option<u64>> = idle
            .iter()
            .map(|(_, run)| context_switches(run.pid()))
            .collect();
        for (i, run) in &idle {
            if results.failed(*i, Metric::Rss) {
                continue;
            }
            match status_kib(run.pid(), "VmRSS") {
                Some(kib) => results.add(*i, Metric::Rss, kib as f64),
                None => results.fail(inits, *i, Metric::Rss, "no VmRSS in /proc/PID/status"),
            }
        }
        // The measurement window itself, not a synchronisation delay.
        thread::sleep(IDLE_WINDOW);
        for ((i, run), before) in idle.iter().zip(before) {
            match (before, context_switches(run.pid())) {
                (Some(before), Some(after)) => {
                    results.add(*i, Metric::Wakeups, (after - before) as f64);
                }
                _ => results.fail(inits, *i, Metric::Wakeups, "cannot read context switches"),
            }
        }
        for (i, run) in idle {
            if let Err(why) = run.finish(SHORT_TIMEOUT) {
                results.note(format!("{}: after the idle window: {why}", inits[i].name));
            }
        }
    }
}

/// Starts `INIT -- sleep 30` and returns once the init is asleep with `sleep` as its child.
fn start_sleeping(init: &Init) -> Result<Running, String> {
    let run = Running::spawn(&mut init.command(&["/bin/sleep", "30"]))?;
    let pid = run.pid();
    let settled = poll_until(SHORT_TIMEOUT, || {
        // Before its exec the child still carries the init's name, so wait for "sleep".
        children_of(pid).iter().any(|(_, comm)| comm == "sleep") && proc_state(pid) == Some('S')
    });
    if !settled {
        return Err("the init did not settle with `sleep` as its child".into());
    }
    Ok(run)
}

/// Voluntary plus involuntary context switches of all threads of `pid`.
fn context_switches(pid: Pid) -> Option<u64> {
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks {
        let status = fs::read_to_string(task.ok()?.path().join("status")).ok()?;
        total += status_value(&status, "voluntary_ctxt_switches")?;
        total += status_value(&status, "nonvoluntary_ctxt_switches")?;
    }
    Some(total)
}

fn status_kib(pid: Pid, key: &str) -> Option<u64> {
    status_value(
        &fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        key,
    )
}

/// The number after `key:` in a /proc status file (units such as `kB` are dropped).
fn status_value(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Metric: signal round trip

/// Measures twice. On one CPU (this thread, the init and its child all pinned to the CPU this
/// thread is on) the figure is the path through the init: its wake-up, its system calls, its
/// context switches. Free, the scheduler spreads three processes over the CPUs, and whether
/// they happen to share one decides most of the time (on a VM, waking an idle vCPU costs tens
/// of microseconds), so that column shows mostly the machine, with its noise.
fn measure_signal_round_trip(inits: &[Init], results: &mut Results) {
    match OneCpu::pin() {
        Ok(pinned) => {
            signal_rounds(inits, results, Metric::SignalRtt);
            drop(pinned);
        }
        Err(why) => results.fail_all(inits, &[Metric::SignalRtt], &why),
    }
    signal_rounds(inits, results, Metric::SignalRttFree);
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
            let cpu = libc::sched_getcpu();
            if cpu < 0 || libc::sched_getaffinity(0, size, &mut before) != 0 {
                return Err(format!("cannot read this thread's CPU: {}", Errno::last()));
            }
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            if libc::sched_setaffinity(0, size, &one) != 0 {
                return Err(format!("cannot pin to CPU {cpu}: {}", Errno::last()));
            }
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

fn signal_rounds(inits: &[Init], results: &mut Results, metric: Metric) {
    let exe = match env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return results.fail_all(inits, &[metric], &e.to_string()),
    };
    let mode = if metric == Metric::SignalRtt {
        "one CPU"
    } else {
        "free"
    };
    for round in 0..ECHO_ROUNDS {
        eprintln!(
            "[peers] SIGUSR1 round trip, {mode}: round {}/{ECHO_ROUNDS}",
            round + 1
        );
        let mut echoes = Vec::new();
        for (i, init) in inits.iter().enumerate() {
            if results.failed(i, metric) {
                continue;
            }
            match start_echo(init, &exe) {
                Ok(run) => echoes.push((i, run, Vec::with_capacity(ECHO_ITERATIONS))),
                Err(why) => results.fail(inits, i, metric, &why),
            }
        }
        // Interleaved: one round trip per init per step.
        for step in 0..ECHO_ITERATIONS {
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
    let mut cmd = init.command(&[exe.as_os_str(), OsStr::new(ECHO_ARG)]);
    cmd.stdout(Stdio::piped());
    let mut run = Running::spawn(&mut cmd)?;
    let deadline = Instant::now() + SHORT_TIMEOUT;
    let mut line = Vec::new();
    loop {
        match read_byte(
            run.stdout()?,
            deadline.saturating_duration_since(Instant::now()),
        )? {
            b'\n' => break,
            byte => line.push(byte),
        }
    }
    String::from_utf8_lossy(&line)
        .parse::<i32>()
        .map_err(|_| "bad ready line from the echo helper")?;
    Ok(run)
}

fn round_trip(run: &mut Running) -> Result<Duration, String> {
    let start = Instant::now();
    kill(run.pid(), Signal::SIGUSR1).map_err(|e| format!("kill: {e}"))?;
    read_byte(run.stdout()?, SHORT_TIMEOUT).map_err(|why| format!("SIGUSR1 not echoed: {why}"))?;
    Ok(start.elapsed())
}

/// Helper side (`__echo`): writes its pid and a newline, then one byte per SIGUSR1 received.
fn signal_echo() -> ExitCode {
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

// ---------------------------------------------------------------------------------------------
// Metric: orphan storm

struct StormReport {
    wall: Duration,
    init_cpu_ms: f64,
    zombies_left: u64,
}

fn measure_orphan_storm(inits: &[Init], results: &mut Results) {
    let (Some(unshare), Ok(exe)) = (find_program("unshare"), env::current_exe()) else {
        return results.fail_all(inits, &Metric::STORM, "needs util-linux `unshare`");
    };
    for round in 0..STORM_ROUNDS {
        for i in rotated(inits.len(), round) {
            if results.failed(i, Metric::StormWall) {
                continue;
            }
            eprintln!(
                "[peers] orphan storm: round {}/{STORM_ROUNDS}: {}",
                round + 1,
                inits[i].name
            );
            match orphan_storm(&inits[i], &unshare, &exe) {
                Ok(report) => {
                    results.add(i, Metric::StormWall, report.wall.as_secs_f64() * 1e3);
                    results.add(i, Metric::StormCpu, report.init_cpu_ms);
                    results.add(i, Metric::ZombiesLeft, report.zombies_left as f64);
                }
                Err(why) => {
                    for metric in Metric::STORM {
                        results.fail(inits, i, metric, &why);
                    }
                }
            }
        }
    }
}

fn orphan_storm(init: &Init, unshare: &Path, exe: &Path) -> Result<StormReport, String> {
    let mut cmd = Command::new(unshare);
    // Without root an unprivileged user namespace grants what the PID namespace needs.
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        cmd.args(["--user", "--map-root-user"]);
    }
    // --kill-child: if unshare is killed, so is the namespace's PID 1, and with it everything.
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(&init.path)
        .arg("--")
        .arg(exe)
        .args([ORPHANS_ARG, &STORM_ORPHANS.to_string()]);
    init.prepare(&mut cmd);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());

    let start = Instant::now();
    let mut run = Running::spawn(&mut cmd)?;
    let status = run.wait(STORM_RUN_TIMEOUT)?;
    let wall = start.elapsed();
    // The generator prints one short line, and nothing else writes much: no pipe fills up.
    let out = read_rest(run.child.stdout.as_mut());
    let err = read_rest(run.child.stderr.as_mut());
    let field = |key: &str| -> Option<u64> {
        out.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
    };
    match (
        field("created"),
        field("zombies_left"),
        field("init_cpu_ns"),
    ) {
        (Some(created), _, _) if created != STORM_ORPHANS as u64 => Err(format!(
            "only {created} of {STORM_ORPHANS} orphans could be forked (pids exhausted: reaping too slow?)"
        )),
        (Some(_), Some(zombies_left), Some(cpu_ns)) => Ok(StormReport {
            wall,
            init_cpu_ms: cpu_ns as f64 / 1e6,
            zombies_left,
        }),
        _ => Err(format!("no report ({status}); stderr: {}", last_line(&err))),
    }
}

/// Generator side (`__orphans N`), running as the init's child inside the PID namespace.
fn orphan_generator(count: usize) -> ExitCode {
    let created = create_orphans(count);
    let me = process::id();
    // Done when the namespace holds only PID 1 and us: every orphan reaped.
    poll_until(STORM_DRAIN_TIMEOUT, || other_pids(me).is_empty());
    let zombies_left = other_pids(me)
        .into_iter()
        .filter(|&pid| proc_state(pid) == Some('Z'))
        .count();
    let init_cpu_ns = cpu_time_ns(Pid::from_raw(1)).unwrap_or(0);
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
    let deadline = Instant::now() + STORM_FORK_TIMEOUT;
    let mut created = 0;
    while created < count {
        let batch = STORM_BATCH.min(count - created);
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
    // SAFETY: as above; `made` ≤ STORM_BATCH ≤ 255 fits an exit status.
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

/// Pids in our /proc other than PID 1 and `me`, zombies included.
fn other_pids(me: u32) -> Vec<Pid> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != 1 && pid != me)
        .map(|pid| Pid::from_raw(pid as i32))
        .collect()
}

/// CPU time of `pid` in ns, all threads: exact from schedstat when the kernel has it, else
/// from /proc/PID/stat's clock ticks (which already sum the threads).
fn cpu_time_ns(pid: Pid) -> Option<u64> {
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        let runtimes: Option<Vec<u64>> = tasks
            .map(|task| {
                let schedstat = fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
                schedstat.split_whitespace().next()?.parse().ok()
            })
            .collect();
        if let Some(runtimes) = runtimes {
            return Some(runtimes.iter().sum());
        }
    }
    let fields = stat_fields(pid)?;
    // utime and stime are fields 14 and 15 of /proc/PID/stat; `fields` starts at field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| ticks * 1_000_000_000 / hz as u64)
}

// ---------------------------------------------------------------------------------------------
// Processes

/// A process we started (an init, usually) and, once known, the init's own child. Dropping it
/// SIGKILLs both by pid and reaps ours, so no path — errors included — leaves anything behind.
struct Running {
    child: Child,
}

impl Running {
    fn spawn(cmd: &mut Command) -> Result<Running, String> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        Ok(Running { child })
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    fn stdout(&mut self) -> Result<&mut ChildStdout, String> {
        self.child
            .stdout
            .as_mut()
            .ok_or_else(|| "stdout is not piped".into())
    }

    /// Waits up to `timeout` for the exit; past it the process is killed and this is an error.
    fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        match wait_exit(&mut self.child, timeout) {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err(format!("still running after {timeout:?}; killed")),
            Err(e) => Err(format!("waiting: {e}")),
        }
        // On error, drop does the killing.
    }

    /// The polite ending: kill the init's child and expect the init to exit in its wake.
    fn finish(mut self, timeout: Duration) -> Result<ExitStatus, String> {
        self.kill_workload();
        self.wait(timeout)
    }

    /// Kills, by pid, the processes the init runs: its children, read from /proc while the
    /// init lives (so they are still its own), whether or not they ever reported ready.
    fn kill_workload(&self) {
        for (pid, _) in children_of(self.pid()) {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_workload();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Blocks until `child` exits or `timeout` passes (`None`). A pidfd makes the wait both exact
/// (no polling granularity in timed launches) and bounded.
fn wait_exit(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    if let Some(status) = child.try_wait()? {
        return Ok(Some(status));
    }
    let pidfd = pidfd_open(child.id())?;
    if poll_readable(pidfd.as_fd(), timeout)? {
        child.wait().map(Some)
    } else {
        Ok(None)
    }
}

fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; a non-negative result is a new fd we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Whether `fd` becomes readable (or hung up) within `timeout`.
fn poll_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&raw mut pfd, 1, ms) };
        if ready >= 0 {
            return Ok(ready > 0);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// One byte from a pipe, within `timeout`.
fn read_byte(pipe: &mut ChildStdout, timeout: Duration) -> Result<u8, String> {
    if !poll_readable(pipe.as_fd(), timeout).map_err(|e| e.to_string())? {
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
fn read_rest(pipe: Option<&mut impl Read>) -> String {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Calls `done` with growing pauses (up to 1 ms) until it holds or `timeout` passes.
fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(20);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

// ---------------------------------------------------------------------------------------------
// /proc

/// Fields of /proc/PID/stat from the third (state) on; the command name, which may hold
/// spaces and parentheses, is cut off at its last `)`.
fn stat_fields(pid: Pid) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(String::from).collect())
}

fn proc_state(pid: Pid) -> Option<char> {
    stat_fields(pid)?.first()?.chars().next()
}

/// Children of `parent` with their command names. This kernel may lack
/// /proc/PID/task/TID/children, so scan every process's parent pid instead.
fn children_of(parent: Pid) -> Vec<(Pid, String)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_string();
            let ppid: i32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent.as_raw()).then(|| (Pid::from_raw(pid), comm))
        })
        .collect()
}
