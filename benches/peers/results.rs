//! The samples of a run: one per round, per init and metric, with why an init has none; their
//! statistics; and the CSV file that keeps them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::inits::Init;
use crate::{idle, storm};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
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
    pub const ALL: [Metric; 10] = [
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
    pub const STORM: [Metric; 3] = [Metric::StormWall, Metric::StormCpu, Metric::ZombiesLeft];

    pub fn header(self) -> String {
        match self {
            Metric::Startup => "start-up overhead µs".into(),
            Metric::Instructions => "instructions".into(),
            Metric::Rss => "RSS KiB".into(),
            Metric::Wakeups => format!("idle wake-ups / {} s", idle::WINDOW.as_secs()),
            Metric::SignalRtt => "SIGUSR1 round trip µs, one CPU".into(),
            Metric::SignalRttFree => "SIGUSR1 round trip µs, free".into(),
            Metric::StormWall => format!("orphan storm {}k: wall ms", storm::ORPHANS / 1000),
            Metric::StormCpu => "orphan storm: init CPU ms".into(),
            Metric::ZombiesLeft => "zombies left".into(),
            Metric::Size => "binary bytes".into(),
        }
    }

    /// The metric's name in the CSV file.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Startup => "startup_us",
            Metric::Instructions => "instructions",
            Metric::Rss => "rss_kib",
            Metric::Wakeups => "idle_wakeups",
            Metric::SignalRtt => "signal_rtt_one_cpu_us",
            Metric::SignalRttFree => "signal_rtt_free_us",
            Metric::StormWall => "storm_wall_ms",
            Metric::StormCpu => "storm_init_cpu_ms",
            Metric::ZombiesLeft => "storm_zombies_left",
            Metric::Size => "size_bytes",
        }
    }

    fn from_key(key: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.key() == key)
    }

    pub fn decimals(self) -> usize {
        match self {
            Metric::Startup | Metric::SignalRtt | Metric::SignalRttFree | Metric::StormCpu => 1,
            _ => 0,
        }
    }
}

#[derive(Default)]
pub struct Results {
    /// One sample per round, per (init index, metric).
    pub samples: BTreeMap<(usize, Metric), Vec<f64>>,
    /// Why an init has no (further) samples for a metric.
    pub failures: BTreeMap<(usize, Metric), String>,
    /// Inits whose binary is dynamically linked.
    pub dynamic: BTreeSet<usize>,
    pub notes: Vec<String>,
}

impl Results {
    pub fn add(&mut self, init: usize, metric: Metric, value: f64) {
        self.samples.entry((init, metric)).or_default().push(value);
    }

    /// Records why `init` gets no further samples for `metric`; the first reason is kept.
    pub fn fail(&mut self, inits: &[Init], init: usize, metric: Metric, why: &str) {
        eprintln!("[peers] {} — {}: {why}", inits[init].name, metric.header());
        self.failures
            .entry((init, metric))
            .or_insert_with(|| why.to_string());
    }

    pub fn fail_all(&mut self, inits: &[Init], metrics: &[Metric], why: &str) {
        for init in 0..inits.len() {
            for &metric in metrics {
                self.fail(inits, init, metric, why);
            }
        }
    }

    pub fn failed(&self, init: usize, metric: Metric) -> bool {
        self.failures.contains_key(&(init, metric))
    }

    pub fn note(&mut self, note: String) {
        eprintln!("[peers] note: {note}");
        self.notes.push(note);
    }

    pub fn stats(&self, init: usize, metric: Metric) -> Option<Stats> {
        self.samples.get(&(init, metric)).and_then(|s| Stats::of(s))
    }
}

pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[f64]) -> Option<Stats> {
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

pub fn median(samples: &[f64]) -> f64 {
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

// ---------------------------------------------------------------------------------------------
// The CSV file: `init,metric,round,value` rows; the report's other inputs on `# ` lines.

const HEADER: &str = "# header: ";
const INITS: &str = "# inits: ";
const DYNAMIC: &str = "# dynamic: ";
const NOTE: &str = "# note: ";
const FAILED: &str = "# failed: ";
const COLUMNS: &str = "init,metric,round,value";

/// Writes the run to `SEXTON_BENCH_CSV`, else to `target/peers-samples.csv`; returns where.
pub fn write_csv(names: &[&str], results: &Results, header: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("SEXTON_BENCH_CSV").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
                PathBuf::from,
            );
            target.join("peers-samples.csv")
        },
        PathBuf::from,
    );
    fs::write(&path, to_csv(names, results, header))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

fn to_csv(names: &[&str], results: &Results, header: &str) -> String {
    let mut csv = String::from(
        "# The samples of one run of `cargo bench --bench peers`, one row per round; \
         `cargo bench --bench peers -- --replay FILE` prints its report again.\n",
    );
    let _ = writeln!(csv, "{HEADER}{header}");
    let _ = writeln!(csv, "{INITS}{}", names.join(","));
    for &init in &results.dynamic {
        let _ = writeln!(csv, "{DYNAMIC}{}", names[init]);
    }
    for note in &results.notes {
        let _ = writeln!(csv, "{NOTE}{note}");
    }
    for ((init, metric), why) in &results.failures {
        let _ = writeln!(csv, "{FAILED}{},{},{why}", names[*init], metric.key());
    }
    csv.push_str(COLUMNS);
    csv.push('\n');
    for ((init, metric), samples) in &results.samples {
        for (round, value) in samples.iter().enumerate() {
            // `{}` prints the shortest text that reads back as the same f64.
            let _ = writeln!(
                csv,
                "{},{},{},{value}",
                names[*init],
                metric.key(),
                round + 1
            );
        }
    }
    csv
}

/// A run read back from its CSV file: the inits' names, the results and the header line.
pub fn read_csv(text: &str) -> Result<(Vec<String>, Results, String), String> {
    let mut names: Vec<String> = Vec::new();
    let mut results = Results::default();
    let mut header = String::new();
    let index = |names: &[String], name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| format!("{name} is not among the inits"))
    };
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: cannot read {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix(HEADER) {
            header = rest.to_string();
        } else if let Some(rest) = line.strip_prefix(INITS) {
            names = rest.split(',').map(String::from).collect();
        } else if let Some(rest) = line.strip_prefix(DYNAMIC) {
            results.dynamic.insert(index(&names, rest)?);
        } else if let Some(rest) = line.strip_prefix(NOTE) {
            results.notes.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix(FAILED) {
            let mut fields = rest.splitn(3, ',');
            let (Some(init), Some(metric), Some(why)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            let metric = Metric::from_key(metric).ok_or_else(bad)?;
            results
                .failures
                .insert((index(&names, init)?, metric), why.to_string());
        } else if line.starts_with('#') || line == COLUMNS {
            continue;
        } else {
            let fields: Vec<&str> = line.split(',').collect();
            let [init, metric, _round, value] = fields[..] else {
                return Err(bad());
            };
            let metric = Metric::from_key(metric).ok_or_else(bad)?;
            let value = value.parse().map_err(|_| bad())?;
            results.add(index(&names, init)?, metric, value);
        }
    }
    Ok((names, results, header))
}
