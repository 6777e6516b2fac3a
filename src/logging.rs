//! sexton's log: quiet by default, always on stderr, every line prefixed `sexton:`.
//!
//! The level comes from `-v` (repeatable), else from tini's `TINI_VERBOSITY`; `SEXTON_LOG`
//! takes env_logger's filter syntax and overrides both. `-w` raises the level to at least
//! warnings, so the reap warnings it asks for are seen.

use std::io::Write;

use log::{LevelFilter, Log, Metadata, Record};

use crate::environ;

/// Sets up the logger; a failure to write a log line never stops sexton.
pub fn init(verbose: u8, warn_on_reap: bool) {
    let level = level(verbose, environ::get("TINI_VERBOSITY"), warn_on_reap);
    let Some(filters) = environ::get("SEXTON_LOG") else {
        // The usual case: no filters to parse, so env_logger's set-up is not worth its cost.
        log::set_max_level(level);
        let _ = log::set_logger(&Stderr);
        return;
    };
    let logger = env_logger::Builder::new()
        .filter_level(level)
        .parse_filters(filters)
        .format(|out, record| out.write_all(line(record).as_bytes()))
        .build();
    log::set_max_level(logger.filter());
    let _ = log::set_boxed_logger(Box::new(logger));
}

/// Writes each record straight to stderr, in one write so lines from threads never mix.
struct Stderr;

impl Log for Stderr {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let _ = std::io::stderr().write_all(line(record).as_bytes());
    }

    fn flush(&self) {}
}

/// `sexton: warn: message` and a newline.
fn line(record: &Record<'_>) -> String {
    let level = record.level().as_str().to_ascii_lowercase();
    format!("sexton: {level}: {}\n", record.args())
}

/// The level for `-v` given `verbose` times; a healthy run logs nothing at the default, Warn.
fn level(verbose: u8, tini_verbosity: Option<&str>, warn_on_reap: bool) -> LevelFilter {
    let from_tini = || match tini_verbosity?.trim().parse::<u8>().ok()? {
        0 => Some(LevelFilter::Error),
        n => Some(from_verbose(n - 1)),
    };
    let level = match verbose {
        0 => from_tini().unwrap_or(LevelFilter::Warn),
        n => from_verbose(n),
    };
    if warn_on_reap {
        level.max(LevelFilter::Warn)
    } else {
        level
    }
}

fn from_verbose(n: u8) -> LevelFilter {
    match n {
        0 => LevelFilter::Warn,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_counts_up_from_warn() {
        assert_eq!(level(0, None, false), LevelFilter::Warn);
        assert_eq!(level(1, None, false), LevelFilter::Info);
        assert_eq!(level(2, None, false), LevelFilter::Debug);
        assert_eq!(level(9, None, false), LevelFilter::Trace);
    }

    #[test]
    fn tini_verbosity_applies_without_v() {
        assert_eq!(level(0, Some("0"), false), LevelFilter::Error);
        assert_eq!(level(0, Some("1"), false), LevelFilter::Warn);
        assert_eq!(level(0, Some("3"), false), LevelFilter::Debug);
        assert_eq!(level(0, Some("junk"), false), LevelFilter::Warn);
        assert_eq!(level(2, Some("0"), false), LevelFilter::Debug);
    }

    #[test]
    fn warn_on_reap_keeps_warnings_visible() {
        assert_eq!(level(0, Some("0"), true), LevelFilter::Warn);
        assert_eq!(level(2, None, true), LevelFilter::Debug);
    }
}
