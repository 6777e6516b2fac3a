//! Metric: user-space instructions of the init alone, counted by callgrind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::inits::Init;
use crate::process::{Running, find_program, last_line, read_rest};
use crate::results::{Metric, Results};

pub const ROUNDS: usize = 2;
const TIMEOUT: Duration = Duration::from_secs(60);

pub fn measure(inits: &[Init], results: &mut Results) {
    let Some(valgrind) = find_program("valgrind") else {
        results.fail_all(inits, &[Metric::Instructions], "valgrind is not installed");
        return;
    };
    for round in 0..ROUNDS {
        eprintln!(
            "[peers] instructions (callgrind): round {}/{ROUNDS}",
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
    let status = run.wait(TIMEOUT)?;
    let log = read_rest(run.stderr());
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
