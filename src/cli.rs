//! The command line: flags, their help text and their environment variables, nothing else.

use std::ffi::OsString;
use std::time::Duration;

use clap::builder::FalseyValueParser;
use clap::{ArgAction, Parser};

use crate::seconds;
use crate::signal::{Delay, Rewrite, Signal, parse_delay, parse_pdeathsig, parse_rewrite};

const AFTER_HELP: &str = "\
Exit status:
  COMMAND's exit status, or 128+N if a signal N killed it
  125  sexton itself failed, or the command line is wrong
  126  COMMAND was found but could not be executed
  127  COMMAND was not found

tini's TINI_SUBREAPER and TINI_KILL_PROCESS_GROUP need no translation (sexton does both
always); TINI_VERBOSITY sets the log level when -v is not given.";

/// A container init: runs COMMAND as PID 1's only child, forwards signals to it, reaps every
/// zombie, shuts leftover processes down cleanly and exits with COMMAND's status.
#[derive(Debug, Parser)]
#[command(
    name = "sexton",
    version,
    override_usage = "sexton [OPTIONS] [--] COMMAND [ARG]...\n       sexton [OPTIONS] --pause",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Seconds leftover processes get between SIGTERM and SIGKILL once COMMAND has exited;
    /// fractions allowed, 0 sends SIGKILL at once, empty is the default
    #[arg(
        short = 't',
        long,
        env = "SEXTON_GRACE",
        value_name = "SECONDS",
        default_value = "5",
        value_parser = seconds::grace
    )]
    pub grace: Duration,

    /// Forward signals to COMMAND alone, not to its whole process group [dumb-init -c]
    #[arg(short = 'c', long, env = "SEXTON_SINGLE_CHILD", value_parser = FalseyValueParser::new())]
    pub single_child: bool,

    /// Forward signal FROM as TO instead; a TO of 0 drops FROM. Names or numbers,
    /// repeatable [dumb-init -r]
    #[arg(
        short = 'r',
        long,
        env = "SEXTON_REWRITE",
        value_name = "FROM:TO",
        value_delimiter = ',',
        value_parser = parse_rewrite
    )]
    pub rewrite: Vec<Rewrite>,

    /// Hold SIGNAL for SECONDS before forwarding it, so a load balancer can drain; other
    /// signals pass meanwhile, and a second SIGNAL is forwarded at once. Repeatable
    #[arg(
        short = 'd',
        long,
        env = "SEXTON_DELAY",
        value_name = "SIGNAL:SECONDS",
        value_delimiter = ',',
        value_parser = parse_delay
    )]
    pub delay: Vec<Delay>,

    /// Exit 0 when COMMAND's exit status is CODE (128+N for signal N); repeatable [tini -e]
    #[arg(
        short = 'e',
        long = "remap-exit",
        env = "SEXTON_REMAP_EXIT",
        value_name = "CODE",
        value_delimiter = ','
    )]
    pub remap_exit: Vec<u8>,

    /// Have sexton receive SIGNAL when its parent dies, e.g. KILL or TERM [tini -p]
    #[arg(
        short = 'p',
        long,
        env = "SEXTON_PDEATHSIG",
        value_name = "SIGNAL",
        value_parser = parse_pdeathsig
    )]
    pub pdeathsig: Option<Signal>,

    /// Log a warning for every reaped process other than COMMAND [tini -w]
    #[arg(short = 'w', long, env = "SEXTON_WARN_ON_REAP", value_parser = FalseyValueParser::new())]
    pub warn_on_reap: bool,

    /// Run no command: sleep, reap whatever is reparented to sexton, and exit 0 on SIGTERM,
    /// SIGINT or SIGHUP (a pod's pause process)
    #[arg(short = 'P', long, env = "SEXTON_PAUSE", value_parser = FalseyValueParser::new())]
    pub pause: bool,

    /// Log more: -v info, -vv debug, -vvv trace [tini -v, dumb-init -v] [env: SEXTON_LOG=,
    /// which takes env_logger filters such as SEXTON_LOG=debug and overrides -v]
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,

    /// Accepted for tini users; sexton always becomes a subreaper when it is not PID 1 [tini -s]
    #[arg(short = 's', long, env = "SEXTON_SUBREAPER", value_parser = FalseyValueParser::new())]
    pub subreaper: bool,

    /// Accepted for tini users; signals always go to COMMAND's process group unless
    /// --single-child is given [tini -g]
    #[arg(short = 'g', long, env = "SEXTON_PROCESS_GROUP", value_parser = FalseyValueParser::new())]
    pub process_group: bool,

    /// Print the license and exit
    #[arg(short = 'l', long)]
    pub license: bool,

    /// The command to run and its arguments; options end at COMMAND or at --
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}
