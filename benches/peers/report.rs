//! The report: a header line (machine, load, date), the Markdown table and the notes.

use std::fs;
use std::process::ExitCode;
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::results::{self, Metric, Results, Stats};
use crate::{idle, instructions, signal, startup, storm};

/// `--replay FILE`: the report of a run from its CSV file.
pub fn replay(csv: &str) -> ExitCode {
    let read = fs::read_to_string(csv)
        .map_err(|e| format!("{csv}: {e}"))
        .and_then(|text| results::read_csv(&text).map_err(|why| format!("{csv}: {why}")));
    match read {
        Ok((names, results, header)) => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            print(&names, &results, &header);
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("[peers] {why}");
            ExitCode::FAILURE
        }
    }
}

/// The inits are named by `names`, sexton (if it ran) as "sexton", the others its peers.
pub fn print(names: &[&str], results: &Results, header_line: &str) {
    println!("{header_line}");
    println!();
    let mut header = vec!["init".to_string()];
    header.extend(Metric::ALL.iter().map(|m| m.header()));
    println!("| {} |", header.join(" | "));
    println!("|---{}|", "|---:".repeat(Metric::ALL.len()));

    let sexton = names.iter().position(|&name| name == "sexton");
    if sexton.is_none() {
        let blanks = " |".repeat(Metric::ALL.len() - 1);
        println!("| sexton | not available (see notes) |{blanks}");
    }
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<String> = Metric::ALL.iter().map(|&m| cell(results, i, m)).collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    let ratios: Vec<String> = Metric::ALL
        .iter()
        .map(|&m| sexton.map_or("—".into(), |s| ratio_cell(names, results, s, m)))
        .collect();
    println!("| **sexton ÷ best peer** | {} |", ratios.join(" | "));

    println!();
    println!(
        "Cells: median of rounds (min–max of rounds). Rounds: start-up {}×{} \
         launches, instructions {}, idle {}, signal {}×{}, \
         orphan storm {}. Lower is better. Last row: sexton ÷ the best peer (by median), \
         as the median (min–max) of per-round ratios; sizes compare statically linked binaries only.",
        startup::ROUNDS,
        startup::LAUNCHES,
        instructions::ROUNDS,
        idle::ROUNDS,
        signal::ROUNDS,
        signal::ITERATIONS,
        storm::ROUNDS,
    );
    for note in &results.notes {
        println!("- {note}");
    }
    for ((init, metric), why) in &results.failures {
        println!("- {} — {}: {why}", names[*init], metric.header());
    }
}

pub fn header_line(load_before: &str) -> String {
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
fn ratio_cell(names: &[&str], results: &Results, sexton: usize, metric: Metric) -> String {
    let Some(ours) = results.stats(sexton, metric) else {
        return "—".into();
    };
    // A dynamically linked binary's size leaves out libc, so it is no yardstick for a static one.
    let comparable = |i: &usize| metric != Metric::Size || !results.dynamic.contains(i);
    let best = (0..names.len())
        .filter(|&i| i != sexton)
        .filter(comparable)
        .filter_map(|i| results.stats(i, metric).map(|s| (s.median, i)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let Some((best, peer)) = best else {
        return "—".into();
    };
    let name = names[peer];
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

pub fn read_trimmed(path: &str) -> String {
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
