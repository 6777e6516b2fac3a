//! Metric: start-up overhead, `INIT -- /bin/true` against plain `/bin/true`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::inits::{Init, quiet};
use crate::process::Running;
use crate::results::{Metric, Results, median};
use crate::{SHORT_TIMEOUT, rotated};

// Workload sizes, chosen (as every phase's) so a full run stays within a few minutes on two
// busy cores.
pub const ROUNDS: usize = 7;
pub const LAUNCHES: usize = 200;

pub fn measure(inits: &[Init], results: &mut Results) {
    // Slot 0 is the plain `/bin/true` baseline; slot k + 1 is `inits[k]`.
    let mut commands = vec![{
        let mut cmd = Command::new("/bin/true");
        quiet(&mut cmd);
        cmd
    }];
    commands.extend(inits.iter().map(|init| init.command(&["/bin/true"])));
    let mut baselines = Vec::new();

    for round in 0..ROUNDS {
        eprintln!("[peers] start-up: round {}/{ROUNDS}", round + 1);
        let mut launches = vec![Vec::with_capacity(LAUNCHES); commands.len()];
        for step in 0..LAUNCHES {
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
