//! Build script: records the git commit sexton is built from, for `--version`.

use std::path::Path;
use std::process::Command;

fn main() {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        out.status.success().then(|| text.trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short=7", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=SEXTON_COMMIT={commit}");
    // Rerun when HEAD moves: HEAD itself (a checkout) and the branch it names (a commit).
    println!("cargo:rerun-if-changed=src/build.rs");
    let refs = ["HEAD", "refs/heads", "packed-refs"];
    for name in refs
        .iter()
        .filter_map(|r| git(&["rev-parse", "--git-path", r]))
    {
        if Path::new(&name).exists() {
            println!("cargo:rerun-if-changed={name}");
        }
    }
}
