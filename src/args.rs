//! Reading the command line into what it asks for: a run ([`Cli`]), or text to print. clap
//! does the work whenever an option is given, on the command line or in a `SEXTON_*`
//! variable; the usual `sexton [--] COMMAND...` takes a shortcut that a test holds to clap's
//! result. clap's errors become sexton's one-line usage errors here.

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use crate::cli::Cli;
use crate::environ;
use crate::error::Error;
use crate::seconds;

/// What the command line asks for.
pub enum Request {
    /// Run COMMAND, or pause.
    Run(Box<Cli>),
    /// Print this text (help, version, license) and succeed.
    Print(String),
}

/// Parses the command line. clap's parser is most of what a start of sexton costs, so the
/// common `sexton [--] COMMAND...`, with no option and no SEXTON_* variable, skips it.
pub fn parse(mut args: Vec<OsString>) -> Result<Request, Error> {
    if let Some(name) = not_text() {
        return Err(Error::Usage(format!(
            "the value of {name} is not valid UTF-8"
        )));
    }
    let cli = match command_start(&args) {
        Some(start) if !env_sets_options() => {
            args.drain(..start);
            with_defaults(args)
        }
        _ => match Cli::try_parse_from(args).and_then(require_command) {
            Ok(cli) => cli,
            Err(err) => return from_clap(&err),
        },
    };
    if cli.license {
        return Ok(Request::Print(include_str!("../LICENSE").to_owned()));
    }
    Ok(Request::Run(Box::new(cli)))
}

/// `--help` and `--version` print; any other clap error is a usage error.
fn from_clap(err: &clap::Error) -> Result<Request, Error> {
    let text = err.render().to_string();
    match err.kind() {
        ErrorKind::DisplayHelp => Ok(Request::Print(format!("{}\n", text.trim_end()))),
        ErrorKind::DisplayVersion => Ok(Request::Print(version())),
        _ => Err(Error::Usage(usage_reason(&text))),
    }
}

/// clap's first paragraph is the reason, sometimes over two lines; the rest is advice.
fn usage_reason(text: &str) -> String {
    let reason: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    reason.join(" ").trim_start_matches("error: ").to_owned()
}

/// `--version` in the one format dockerd accepts from an init (`docker info` runs
/// `INIT --version`): `tini version VERSION - git.COMMIT`, where the version names sexton as
/// catatonit's does. Without the commit (built outside a git checkout) dockerd still reads
/// the version.
fn version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match env!("SEXTON_COMMIT") {
        "" => format!("tini version {version}_sexton\n"),
        commit => format!("tini version {version}_sexton - git.{commit}\n"),
    }
}

/// COMMAND is required unless `--pause` or `--license` is given, and `--pause` takes none.
/// Checked here, not by clap's rules: those count a flag set in the environment as given even
/// when its value is false (`SEXTON_PAUSE=0`).
fn require_command(cli: Cli) -> Result<Cli, clap::Error> {
    let wrong = match (cli.pause, cli.command.is_empty()) {
        (true, false) => "the argument '--pause' cannot be used with '[COMMAND]...'",
        (false, true) if !cli.license => {
            "the following required arguments were not provided: <COMMAND>..."
        }
        _ => return Ok(cli),
    };
    Err(Cli::command().error(ErrorKind::MissingRequiredArgument, wrong))
}

/// What clap produces for a command line without options.
fn with_defaults(command: Vec<OsString>) -> Cli {
    Cli {
        grace: seconds::DEFAULT_GRACE,
        single_child: false,
        rewrite: Vec::new(),
        delay: Vec::new(),
        remap_exit: Vec::new(),
        pdeathsig: None,
        warn_on_reap: false,
        pause: false,
        verbose: 0,
        subreaper: false,
        process_group: false,
        license: false,
        command,
    }
}

/// Where COMMAND starts in `args`, if they are just `sexton [--] COMMAND...`.
fn command_start(args: &[OsString]) -> Option<usize> {
    let first = args.get(1)?.as_encoded_bytes();
    match first {
        b"--" if args.len() > 2 => Some(2),
        _ if !first.starts_with(b"-") => Some(1),
        _ => None,
    }
}

/// The variables clap reads options from (a test checks the list against the flags).
const OPTION_VARS: [&str; 10] = [
    "SEXTON_GRACE",
    "SEXTON_SINGLE_CHILD",
    "SEXTON_REWRITE",
    "SEXTON_DELAY",
    "SEXTON_REMAP_EXIT",
    "SEXTON_PDEATHSIG",
    "SEXTON_WARN_ON_REAP",
    "SEXTON_PAUSE",
    "SEXTON_SUBREAPER",
    "SEXTON_PROCESS_GROUP",
];

/// The first option variable whose value is not UTF-8: clap would only say "arguments".
fn not_text() -> Option<String> {
    environ::ours()
        .filter(|(name, _)| OPTION_VARS.iter().any(|var| var.as_bytes() == *name))
        .find(|(_, value)| std::str::from_utf8(value).is_err())
        .map(|(name, _)| String::from_utf8_lossy(name).into_owned())
}

/// Whether the environment sets an option.
fn env_sets_options() -> bool {
    environ::ours().any(|(name, _)| OPTION_VARS.iter().any(|var| var.as_bytes() == name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_shortcut_gives_what_clap_gives() {
        for words in [
            &["sexton", "sh", "-c", "exit 3"][..],
            &["sexton", "--", "-x", "--", "y"],
        ] {
            let clap = Cli::try_parse_from(args(words)).unwrap();
            let start = command_start(&args(words)).unwrap();
            let shortcut = with_defaults(args(words).split_off(start));
            assert_eq!(format!("{clap:?}"), format!("{shortcut:?}"));
        }
    }

    #[test]
    fn every_option_variable_is_listed() {
        let command = Cli::command();
        let mut vars: Vec<_> = command
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .collect();
        vars.sort();
        let mut listed = OPTION_VARS.map(std::ffi::OsStr::new);
        listed.sort();
        assert_eq!(vars, listed);
    }

    #[test]
    fn usage_errors_are_clap_s_first_paragraph() {
        let text = "error: unexpected argument '--x' found\n  tip: use '-- --x'\n\nUsage: sexton\n";
        assert_eq!(
            usage_reason(text),
            "unexpected argument '--x' found tip: use '-- --x'"
        );
    }

    #[test]
    fn the_version_is_what_dockerd_parses() {
        let line = version();
        let (first, commit) = line.trim_end().split_once(" - ").unwrap_or((&line, ""));
        assert_eq!(
            first.trim_end().strip_prefix("tini version "),
            Some(concat!(env!("CARGO_PKG_VERSION"), "_sexton"))
        );
        if !commit.is_empty() {
            let hash = commit.strip_prefix("git.").unwrap();
            assert!(!hash.is_empty() && !hash.contains('.'), "{line}");
        }
        assert_eq!(line.lines().count(), 1);
    }

    #[test]
    fn options_go_to_clap() {
        for words in [
            &["sexton"][..],
            &["sexton", "--"],
            &["sexton", "-v", "x"],
            &["sexton", "-P"],
        ] {
            assert_eq!(command_start(&args(words)), None, "{words:?}");
        }
    }

    #[test]
    fn options_end_at_the_command() {
        let cli = Cli::try_parse_from(args(&["sexton", "-t", "1", "sh", "-t", "--", "x"])).unwrap();
        assert_eq!(cli.command, args(&["sh", "-t", "--", "x"]));
        assert_eq!(cli.grace, Duration::from_secs(1));
    }
}
