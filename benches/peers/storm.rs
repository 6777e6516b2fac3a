//! Metric: the orphan storm, an init as PID 1 reaping a flood of orphans.

use std::env;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::helpers;
use crate::inits::Init;
use crate::process::{Running, find_program, last_line, read_rest};
use crate::results::{Metric, Results};
use crate::rotated;

pub const ROUNDS: usize = 5;
pub const ORPHANS: usize = 20_000;
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

struct Report {
    wall: Duration,
    init_cpu_ms: f64,
    zombies_left: u64,
}

pub fn measure(inits: &[Init], results: &mut Results) {
    let (Some(_), Ok(exe)) = (find_program("unshare"), env::current_exe()) else {
        return results.fail_all(inits, &Metric::STORM, "needs util-linux `unshare`");
    };
    for round in 0..ROUNDS {
        for i in rotated(inits.len(), round) {
            if results.failed(i, Metric::StormWall) {
                continue;
            }
            eprintln!(
                "[peers] orphan storm: round {}/{ROUNDS}: {}",
                round + 1,
                inits[i].name
            );
            match orphan_storm(&inits[i], &exe) {
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

fn orphan_storm(init: &Init, exe: &Path) -> Result<Report, String> {
    let mut cmd = kit::ns::unshare();
    cmd.arg(&init.path)
        .arg("--")
        .arg(exe)
        .args([helpers::ORPHANS_ARG, &ORPHANS.to_string()]);
    init.prepare(&mut cmd);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());

    let start = Instant::now();
    let mut run = Running::spawn(&mut cmd)?;
    let status = run.wait(RUN_TIMEOUT)?;
    let wall = start.elapsed();
    // The generator prints one short line, and nothing else writes much: no pipe fills up.
    let out = read_rest(run.stdout());
    let err = read_rest(run.stderr());
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
        (Some(created), _, _) if created != ORPHANS as u64 => Err(format!(
            "only {created} of {ORPHANS} orphans could be forked (pids exhausted: reaping too slow?)"
        )),
        (Some(_), Some(zombies_left), Some(cpu_ns)) => Ok(Report {
            wall,
            init_cpu_ms: cpu_ns as f64 / 1e6,
            zombies_left,
        }),
        _ => Err(format!("no report ({status}); stderr: {}", last_line(&err))),
    }
}
