//! Build script: records the git commit sexton is built from, for `--version`: none when the
//! sources are not a git checkout of their own (a tarball inside some other repository must
//! not report that repository's commit), and marked `-dirty` when they differ from it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        out.status.success().then(|| text.trim().to_owned())
    };
    let ours = |top: &String| {
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        Path::new(top).canonicalize().ok() == manifest.and_then(|m| m.canonicalize().ok())
    };
    let commit = git(&["rev-parse", "--show-toplevel"])
        .filter(ours)
        .and_then(|_| git(&["rev-parse", "--short=7", "HEAD"]))
        .map(|commit| {
            let changed = git(&["status", "--porcelain", "--untracked-files=no"]);
            match changed {
                Some(changes) if changes.is_empty() => commit,
                _ => format!("{commit}-dirty"),
            }
        })
        .unwrap_or_default();
    println!("cargo:rustc-env=SEXTON_COMMIT={commit}");
    // Rerun when the commit or the tree's state may have changed: HEAD (a checkout), the branch
    // it names (a commit), the index (an add), and the sources themselves.
    for path in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={path}");
    }
    let refs = ["HEAD", "refs/heads", "packed-refs", "index"];
    for name in refs
        .iter()
        .filter_map(|r| git(&["rev-parse", "--git-path", r]))
    {
        if Path::new(&name).exists() {
            println!("cargo:rerun-if-changed={name}");
        }
    }
}
