//! Metrics: RSS and idle wake-ups of an init whose child sleeps.

use std::thread;
use std::time::Duration;

use kit::procfs;

use crate::SHORT_TIMEOUT;
use crate::inits::Init;
use crate::process::Running;
use crate::results::{Metric, Results};

pub const ROUNDS: usize = 2;
pub const WINDOW: Duration = Duration::from_secs(3);

pub fn measure(inits: &[Init], results: &mut Results) {
    for round in 0..ROUNDS {
        eprintln!(
            "[peers] RSS and idle wake-ups: round {}/{ROUNDS} ({} s window)",
            round + 1,
            WINDOW.as_secs()
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
            .map(|(_, run)| procfs::context_switches(run.pid()))
            .collect();
        for (i, run) in &idle {
            if results.failed(*i, Metric::Rss) {
                continue;
            }
            match procfs::status_number(run.pid(), "VmRSS") {
                Some(kib) => results.add(*i, Metric::Rss, kib as f64),
                None => results.fail(inits, *i, Metric::Rss, "no VmRSS in /proc/PID/status"),
            }
        }
        // The measurement window itself, not a synchronisation delay.
        thread::sleep(WINDOW);
        for ((i, run), before) in idle.iter().zip(before) {
            match (before, procfs::context_switches(run.pid())) {
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
    let settled = kit::wait::poll(SHORT_TIMEOUT, || {
        // Before its exec the child still carries the init's name, so wait for "sleep".
        procfs::child_named(pid, "sleep").is_some() && procfs::state(pid) == Some('S')
    });
    if !settled {
        return Err("the init did not settle with `sleep` as its child".into());
    }
    Ok(run)
}
