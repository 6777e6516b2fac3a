//! End-to-end checks of the static sexton as PID 1 under real container runtimes: runc,
//! a private dockerd, Podman (rootful, pods, rootless), a private containerd (`ctr`, and its
//! CRI driven as a kubelet would), plus the Kubernetes examples.
//!
//! Provision first (root, Debian 12): `bash .ci/e2e-provision` writes an env file; then
//! `SEXTON_E2E_ENV=/tmp/sexton-e2e/env cargo test --test e2e [NAME]...`. Without
//! `SEXTON_E2E_ENV` every check is skipped with the reason printed, so a plain `cargo test`
//! passes on a developer's machine; under CI (`CI=true`) a missing environment fails instead.
//!
//! Each runtime is started the first time a selected check needs it and removed when the run
//! ends (see [`lab::Lab`]): running one check starts only what it needs. Names filter as
//! libtest's do (substrings; `--exact`, `--skip`, `--ignored`, `--include-ignored`, `--list`).

mod cmd;
mod containerd;
mod cri;
mod docker;
mod engine;
mod kubernetes;
mod lab;
mod podman;
mod pods;
mod ready;
mod rootless;
mod runc;

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::Instant;

use lab::Lab;

/// One check: a function that panics on failure.
#[derive(Clone, Copy)]
pub struct Check {
    /// `e2e::module::function`; shown and filtered without the `e2e::`.
    pub path: &'static str,
    pub run: fn(&Lab),
    /// Why the check is not run by default (libtest's `#[ignore = "..."]`).
    pub ignore: Option<&'static str>,
    /// Checks sexton's own options, which a stand-in init (SEXTON_E2E_INIT) does not have.
    pub sexton_only: bool,
}

impl Check {
    pub fn name(&self) -> &'static str {
        self.path.trim_start_matches("e2e::")
    }
}

/// `check!(function)`, optionally followed by `sexton_only` or `ignore = "why"`.
#[macro_export]
macro_rules! check {
    ($f:ident) => {
        $crate::check!(@ $f, None, false)
    };
    ($f:ident, sexton_only) => {
        $crate::check!(@ $f, None, true)
    };
    ($f:ident, ignore = $why:literal) => {
        $crate::check!(@ $f, Some($why), false)
    };
    (@ $f:ident, $ignore:expr, $sexton_only:expr) => {
        $crate::Check {
            path: concat!(module_path!(), "::", stringify!($f)),
            run: $f,
            ignore: $ignore,
            sexton_only: $sexton_only,
        }
    };
}

fn all_checks() -> Vec<Check> {
    [
        runc::CHECKS,
        docker::CHECKS,
        podman::CHECKS,
        pods::CHECKS,
        rootless::CHECKS,
        containerd::CHECKS,
        cri::CHECKS,
        kubernetes::CHECKS,
    ]
    .concat()
}

/// The libtest command line, as far as this runner understands it.
#[derive(Default)]
struct Args {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    ignored: bool,
    include_ignored: bool,
    list: bool,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Args {
        let mut parsed = Args::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--exact" => parsed.exact = true,
                "--ignored" => parsed.ignored = true,
                "--include-ignored" => parsed.include_ignored = true,
                "--list" => parsed.list = true,
                "--skip" => parsed.skip.extend(args.next()),
                // Options that take a value and do not change what runs here.
                "--test-threads" | "--color" | "--format" | "-Z" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                _ => parsed.filters.push(arg),
            }
        }
        parsed
    }

    fn selects(&self, name: &str) -> bool {
        let hit = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(hit)) && !self.skip.iter().any(hit)
    }
}

fn main() -> ExitCode {
    let args = Args::parse(std::env::args().skip(1));
    let checks = all_checks();
    if args.list {
        for check in checks.iter().filter(|c| args.selects(c.name())) {
            println!("{}: test", check.name());
        }
        return ExitCode::SUCCESS;
    }
    let (selected, filtered): (Vec<&Check>, Vec<&Check>) =
        checks.iter().partition(|c| args.selects(c.name()));
    let lab = match Lab::from_env() {
        Ok(Some(lab)) => lab,
        Ok(None) => {
            println!(
                "e2e: skipped: SEXTON_E2E_ENV is not set. Provision with `bash .ci/e2e-provision` \
                 (root, Debian 12), then run SEXTON_E2E_ENV=/tmp/sexton-e2e/env cargo test --test e2e"
            );
            println!(
                "test result: ok. 0 passed; 0 failed; {} ignored; 0 measured; {} filtered out",
                selected.len(),
                filtered.len()
            );
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("e2e: {why}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    println!(
        "\nrunning {} tests (init: {})",
        selected.len(),
        lab.version()
    );
    let (mut passed, mut ignored, mut failed) = (0, 0, Vec::new());
    for check in selected {
        let skip = match check.ignore {
            Some(why) if !args.ignored && !args.include_ignored => Some(why),
            None if args.ignored => Some("not an ignored check"),
            _ if check.sexton_only && !lab.is_sexton() => {
                Some("a stand-in init has no such option")
            }
            _ => None,
        };
        if let Some(why) = skip {
            println!("test {} ... ignored, {why}", check.name());
            ignored += 1;
            continue;
        }
        let t0 = Instant::now();
        match panic::catch_unwind(AssertUnwindSafe(|| (check.run)(&lab))) {
            Ok(()) => {
                println!(
                    "test {} ... ok ({:.1}s)",
                    check.name(),
                    t0.elapsed().as_secs_f64()
                );
                passed += 1;
            }
            Err(_) => {
                println!(
                    "test {} ... FAILED ({:.1}s)",
                    check.name(),
                    t0.elapsed().as_secs_f64()
                );
                failed.push(check.name());
            }
        }
    }
    // Containers, pods, images, daemons, users, mounts and cgroups go before the summary, so a
    // failure to remove them is reported in it.
    let leaks = lab.tear_down();
    for leak in &leaks {
        println!("cleanup FAILED: {leak}");
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    let ok = failed.is_empty() && leaks.is_empty();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if ok { "ok" } else { "FAILED" },
        failed.len(),
        filtered.len(),
        started.elapsed().as_secs_f64()
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
