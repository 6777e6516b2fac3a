//! The contenders: sexton (a static release build) and the peers Debian installs.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::SHORT_TIMEOUT;
use crate::process::{Running, read_rest};
use crate::results::Results;

/// Extra environment variables for every run of an init.
type Env = &'static [(&'static str, &'static str)];

/// Name, path, and environment for every run (`TINI_VERBOSITY`: see the crate docs; only
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

pub struct Init {
    pub name: String,
    pub path: PathBuf,
    env: Env,
}

impl Init {
    /// `INIT -- args...` with quiet stdio and the init's environment.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.arg("--").args(args);
        self.prepare(&mut cmd);
        cmd
    }

    /// Quiet stdio and the init's environment, for a command that runs this init somewhere.
    pub fn prepare(&self, cmd: &mut Command) {
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
pub fn quiet(cmd: &mut Command) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_clear()
        .envs(CONTAINER_ENV);
}

/// sexton first (if it can be built), then every peer that is installed.
pub fn contenders(results: &mut Results) -> Vec<Init> {
    let mut inits = Vec::new();
    if let Some(path) = find_sexton(results) {
        inits.push(Init {
            name: "sexton".to_string(),
            path,
            env: &[],
        });
    }
    for (name, path, env) in PEERS {
        if Path::new(path).is_file() {
            inits.push(Init {
                name: name.to_string(),
                path: PathBuf::from(path),
                env,
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
    let out = read_rest(run.stdout());
    if !status.success() {
        return Err(format!("`{} --version` failed ({status})", bin.display()));
    }
    Ok(out.lines().next().unwrap_or_default().trim().to_string())
}
