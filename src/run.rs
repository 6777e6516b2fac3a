//! One run of sexton, start to finish: take over signals, read the command line, start the
//! child, forward and reap until it exits, shut down what it left behind, and work out the
//! exit code.

use std::ffi::OsString;
use std::io::Write;

use clap::error::ErrorKind;
use nix::unistd::getppid;

use crate::error::Error;
use crate::exit::{self, ExitCode};
use crate::shutdown::{self, Scope};
use crate::signals::{self, Signal, Target};
use crate::terminal::Terminal;
use crate::{args, logging, reap, spawn};

pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<ExitCode, Error> {
    let startup = signals::shield();
    let parent = getppid();
    let mut cli = match args::parse(args.into_iter().collect()) {
        Ok(cli) => cli,
        Err(err) => return print_or_fail(err),
    };
    if cli.license {
        return print(include_str!("../LICENSE"));
    }
    logging::init(cli.verbose, cli.warn_on_reap);
    if let Some(sig) = cli.pdeathsig {
        signals::on_parent_death(sig, parent)?;
    }
    let scope = Scope::take_up();
    let terminal = Terminal::foreground();
    let child = if cli.pause {
        spawn::placeholder()?
    } else {
        spawn::command(
            std::mem::take(&mut cli.command),
            &startup,
            terminal.is_some(),
        )?
    };
    let target = if cli.single_child {
        Target::Child(child)
    } else {
        Target::Group(child)
    };
    if let Err(err) = signals::forward_to(target, &cli.rewrite) {
        // A child that no signal could reach would outlive `docker stop`: take it down.
        signals::send(target.pid(), Signal::KILL);
        reap::until_exit(child, cli.warn_on_reap)?;
        return Err(err);
    }
    let outcome = reap::until_exit(child, cli.warn_on_reap)?;
    signals::stop_forwarding();
    shutdown::leftovers(scope, cli.grace, cli.warn_on_reap)?;
    if let Some(terminal) = terminal {
        terminal.give_back();
    }
    Ok(exit::code(outcome, &cli.remap_exit))
}

/// `--help` and `--version` print and succeed; any other clap error is a usage error.
fn print_or_fail(err: clap::Error) -> Result<ExitCode, Error> {
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let text = err.render().to_string();
        return print(&format!("{}\n", text.trim_end()));
    }
    // clap's first paragraph is the reason, sometimes over two lines; the rest is advice.
    let text = err.render().to_string();
    let reason: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    Err(Error::Usage(
        reason.join(" ").trim_start_matches("error: ").to_owned(),
    ))
}

/// Prints `text` to stdout; a closed stdout is not sexton's failure.
fn print(text: &str) -> Result<ExitCode, Error> {
    let mut stdout = std::io::stdout();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    Ok(ExitCode::SUCCESS)
}
