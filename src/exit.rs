//! Outcomes and exit codes: the one place where how the child ended, or how sexton failed,
//! becomes the number sexton exits with.
//!
//! sexton's own codes follow coreutils (`env`, `timeout`, `nice`), so a caller can tell a
//! failure of sexton from a status of the command: 125 for sexton itself, 126 for a command
//! that was found but could not be executed, 127 for a command that was not found.

use std::fmt;

use crate::signal::Signal;

/// The code sexton's process exits with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCode(pub u8);

impl ExitCode {
    pub const SUCCESS: ExitCode = ExitCode(0);
    /// A usage error or a failure of sexton itself.
    pub const FAILURE: ExitCode = ExitCode(125);
    /// COMMAND was found but could not be executed.
    pub const CANNOT_EXECUTE: ExitCode = ExitCode(126);
    /// COMMAND was not found.
    pub const NOT_FOUND: ExitCode = ExitCode(127);
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Exited(u8),
    Signaled(Signal),
}

impl Outcome {
    /// The shell's convention: the exit status, or 128+N for death by signal N.
    pub fn code(self) -> ExitCode {
        match self {
            Outcome::Exited(code) => ExitCode(code),
            Outcome::Signaled(sig) => ExitCode(128u8.saturating_add(sig.number() as u8)),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(code) => write!(f, "exited with {code}"),
            Outcome::Signaled(sig) => write!(f, "was killed by {sig}"),
        }
    }
}

/// The code for the main child's `outcome`, with the codes in `remapped` (`-e`) turned into 0.
pub fn code(outcome: Outcome, remapped: &[u8]) -> ExitCode {
    match outcome.code() {
        ExitCode(code) if remapped.contains(&code) => ExitCode::SUCCESS,
        code => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::libc;

    fn signaled(n: i32) -> Outcome {
        Outcome::Signaled(Signal::new(n).unwrap())
    }

    #[test]
    fn exit_status_passes_through() {
        for n in [0, 1, 3, 125, 255] {
            assert_eq!(code(Outcome::Exited(n), &[]), ExitCode(n));
        }
    }

    #[test]
    fn death_by_signal_is_128_plus_n() {
        assert_eq!(code(signaled(libc::SIGTERM), &[]), ExitCode(143));
        assert_eq!(code(signaled(libc::SIGKILL), &[]), ExitCode(137));
        assert_eq!(code(signaled(libc::SIGRTMAX()), &[]), ExitCode(192));
    }

    #[test]
    fn outcomes_read_as_sentences() {
        assert_eq!(Outcome::Exited(3).to_string(), "exited with 3");
        assert_eq!(signaled(libc::SIGKILL).to_string(), "was killed by SIGKILL");
    }

    #[test]
    fn remapped_codes_become_success() {
        assert_eq!(code(Outcome::Exited(3), &[3]), ExitCode::SUCCESS);
        assert_eq!(code(signaled(libc::SIGTERM), &[143]), ExitCode::SUCCESS);
        assert_eq!(code(Outcome::Exited(4), &[3, 143]), ExitCode(4));
    }
}
