//! One run of sexton, start to finish: take over signals, read the command line, start the
//! child, forward and reap until it exits, shut down what it left behind, and work out the
//! exit code.

use std::ffi::OsString;

use nix::errno::Errno;
use nix::unistd::getppid;

use crate::args::{self, Request};
use crate::error::Error;
use crate::exit::{self, ExitCode};
use crate::forward::{self, Target};
use crate::reap::Reaper;
use crate::shutdown::{self, Scope};
use crate::signal::{Routes, Signal};
use crate::terminal::{self, Jobs, Terminal};
use crate::{logging, release, spawn};

pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<ExitCode, Error> {
    let mut startup = forward::shield();
    let parent = getppid();
    let mut cli = match args::parse(args.into_iter().collect())? {
        Request::Run(cli) => cli,
        Request::Print(text) => return print(&text),
    };
    logging::init(cli.verbose, cli.warn_on_reap);
    if let Some(sig) = cli.pdeathsig {
        forward::on_parent_death(sig, parent)?;
    }
    let reaper = Reaper::new(cli.warn_on_reap);
    let scope = Scope::take_up();
    let child = if cli.pause {
        startup.take_even_if_ignored(&[Signal::TERM, Signal::INT, Signal::HUP]);
        // Before the fork: the placeholder runs no program, and needs nothing sexton got.
        release::inherited();
        spawn::placeholder()?
    } else {
        // Open only for the hand-over: sexton keeps no descriptor of the terminal, and it is
        // closed before `release` closes all else.
        let terminal = Terminal::open().filter(Terminal::hand_over_at_start);
        let child = spawn::command(
            std::mem::take(&mut cli.command),
            &startup,
            terminal.as_ref().map(Terminal::fd),
        )?;
        drop(terminal);
        // Before anything of sexton's own is opened: see `release`.
        release::inherited();
        child
    };
    let target = if cli.single_child {
        Target::Child(child)
    } else {
        Target::Group(child)
    };
    let forwarding = match forward::start(&startup, target, Routes::new(&cli.rewrite, &cli.delay)) {
        Ok(forwarding) => forwarding,
        Err(err) => {
            // A child that no signal could reach would outlive `docker stop`: take it down.
            forward::send(target.pid(), Signal::KILL);
            reaper.until_exit(child, |_| {})?;
            return Err(err);
        }
    };
    let jobs = Jobs::new(child, &forwarding);
    let outcome = reaper.until_exit(child, |sig| jobs.stopped(sig))?;
    forwarding.stop();
    shutdown::leftovers(scope, cli.grace, child, reaper)?;
    terminal::give_back(child);
    Ok(exit::code(outcome, &cli.remap_exit))
}

/// Prints `text` to stdout. A reader that went away (EPIPE) is no failure of sexton's; any
/// other write error is, as in coreutils. Written with write(2) itself: std's stdout takes a
/// closed descriptor (EBADF) for success.
fn print(text: &str) -> Result<ExitCode, Error> {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        match nix::unistd::write(std::io::stdout(), rest) {
            // write(2) never writes nothing of a non-empty buffer unless something is broken.
            Ok(0) => return Err(Error::Write { errno: Errno::EIO }),
            Ok(n) => rest = &rest[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EPIPE) => break,
            Err(errno) => return Err(Error::Write { errno }),
        }
    }
    Ok(ExitCode::SUCCESS)
}
