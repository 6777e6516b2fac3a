//! Scratch directories.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::wait;

/// A fresh directory under the system's temp dir, removed on drop. Test scripts that run in
/// the background end once it is gone, so a failing test leaves nothing running.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let tmp = std::env::temp_dir();
        create_unique(&tmp)
            .map(TempDir)
            .unwrap_or_else(|err| panic!("create a directory in {}: {err}", tmp.display()))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.join(name).exists()
    }

    /// The file's text, or "" if it does not exist (yet).
    pub fn read(&self, name: &str) -> String {
        fs::read_to_string(self.join(name)).unwrap_or_default()
    }

    /// Waits until `name` exists.
    pub fn wait_for(&self, name: &str) {
        wait::until(
            format_args!("{name} to exist in {}", self.0.display()),
            || self.exists(name),
        );
    }

    /// Waits until `name` holds a complete line (as `echo $$ > name` writes it) and returns
    /// the number on it.
    pub fn wait_for_pid(&self, name: &str) -> i32 {
        wait::for_some(format_args!("a pid in {name}"), || {
            self.read(name).strip_suffix('\n')?.trim().parse().ok()
        })
    }

    /// When `name` was last modified.
    pub fn modified(&self, name: &str) -> SystemTime {
        fs::metadata(self.join(name))
            .and_then(|m| m.modified())
            .unwrap_or_else(|err| panic!("{name}: {err}"))
    }

    /// Waits until the file `name` contains `needle`, and returns its text.
    pub fn wait_for_text(&self, name: &str, needle: &str) -> String {
        wait::for_some(format_args!("{name:?} to contain {needle:?}"), || {
            Some(self.read(name)).filter(|text| text.contains(needle))
        })
    }
}

impl Default for TempDir {
    fn default() -> TempDir {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Creates a directory `sexton-test-...` in `parent` (a temp dir, a cgroup hierarchy) that no
/// other test run has. The pid alone does not make the name unique: runs in PID namespaces of
/// their own (`.ci/mutants` runs two side by side) share /tmp and the cgroups, and have the
/// same pids. A name already there belongs to another run: it is left alone, and the next
/// one tried.
pub(crate) fn create_unique(parent: &Path) -> io::Result<PathBuf> {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    loop {
        let name = format!(
            "sexton-test-{}-{nanos}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Relaxed)
        );
        let path = parent.join(name);
        match fs::create_dir(&path) {
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            done => return done.map(|()| path),
        }
    }
}
