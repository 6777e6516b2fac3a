//! The terminal on stdin, seen from sexton's side: whether to hand it to the child, and giving
//! it back when the child is done. The hand-over itself happens in the child (`spawn`), before
//! exec, so the child never runs a moment in the background of its own terminal.
//!
//! SIGTTOU stays ignored in sexton (`signals`), so sexton can set the foreground group while
//! in the background without being stopped.

use std::io::stdin;

use nix::unistd::{Pid, getpgrp, tcgetpgrp, tcsetpgrp};

/// A terminal whose foreground group sexton was in when it started.
pub struct Terminal {
    owner: Pid,
}

impl Terminal {
    /// The terminal on stdin, if sexton's group is in its foreground. A sexton started in the
    /// background (`sexton -- cmd &`) leaves the terminal to whoever has it.
    pub fn foreground() -> Option<Terminal> {
        let owner = getpgrp();
        (tcgetpgrp(stdin()).ok()? == owner).then_some(Terminal { owner })
    }

    /// Gives the foreground back to sexton's group, so the shell that started sexton finds
    /// its terminal as it left it.
    pub fn give_back(self) {
        if let Err(errno) = tcsetpgrp(stdin(), self.owner) {
            log::debug!("cannot take back the terminal: {errno}");
        }
    }
}
