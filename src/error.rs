//! sexton's own failures, each with the one line it prints and the code it exits with.

use std::fmt;

use nix::errno::Errno;

use crate::exit::ExitCode;

const LIMITS_HINT: &str = "check the container's process, memory and file limits";

/// Whether `errno` says a limit was reached rather than that something is wrong.
fn out_of_resources(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::EAGAIN | Errno::ENOMEM | Errno::EMFILE | Errno::ENFILE
    )
}

#[derive(Debug)]
pub enum Error {
    /// The command line or an option's value is wrong; holds clap's one-line reason.
    Usage(String),
    /// COMMAND could not be started.
    Spawn { command: String, errno: Errno },
    /// A system call sexton itself depends on failed.
    Sys { call: &'static str, errno: Errno },
    /// Help, version or license text could not be written to stdout.
    Write { errno: Errno },
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Spawn { errno, .. } => match errno {
                Errno::ENOENT | Errno::ENOTDIR => ExitCode::NOT_FOUND,
                errno if out_of_resources(*errno) => ExitCode::FAILURE,
                _ => ExitCode::CANNOT_EXECUTE,
            },
            Error::Usage(_) | Error::Sys { .. } | Error::Write { .. } => ExitCode::FAILURE,
        }
    }

    /// Prints the message to stderr, even if that fails, and returns the code to exit with.
    pub fn report(self) -> ExitCode {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{self}");
        self.exit_code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(reason) => write!(f, "sexton: {reason}; see 'sexton --help'"),
            Error::Spawn { command, errno } => {
                let hint = match self.exit_code() {
                    ExitCode::NOT_FOUND => "check the name and PATH",
                    ExitCode::CANNOT_EXECUTE => "check that it is an executable file",
                    _ => LIMITS_HINT,
                };
                write!(
                    f,
                    "sexton: cannot run '{command}': {}; {hint}",
                    errno.desc()
                )
            }
            Error::Sys { call, errno } => {
                let hint = if out_of_resources(*errno) {
                    LIMITS_HINT
                } else {
                    "this is a bug or a broken system, please report it"
                };
                write!(f, "sexton: {call} failed: {}; {hint}", errno.desc())
            }
            Error::Write { errno } => write!(
                f,
                "sexton: cannot write to stdout: {}; check where stdout goes",
                errno.desc()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spawn(errno: Errno) -> Error {
        Error::Spawn {
            command: "foo".into(),
            errno,
        }
    }

    #[test]
    fn spawn_failures_follow_coreutils() {
        assert_eq!(spawn(Errno::ENOENT).exit_code(), ExitCode::NOT_FOUND);
        assert_eq!(spawn(Errno::EACCES).exit_code(), ExitCode::CANNOT_EXECUTE);
        assert_eq!(spawn(Errno::ENOEXEC).exit_code(), ExitCode::CANNOT_EXECUTE);
        assert_eq!(spawn(Errno::EAGAIN).exit_code(), ExitCode::FAILURE);
        assert_eq!(Error::Usage("x".into()).exit_code(), ExitCode::FAILURE);
    }

    #[test]
    fn messages_are_one_line_naming_the_command() {
        let text = spawn(Errno::ENOENT).to_string();
        assert_eq!(
            text,
            "sexton: cannot run 'foo': No such file or directory; check the name and PATH"
        );
        assert!(
            spawn(Errno::EACCES)
                .to_string()
                .ends_with("check that it is an executable file")
        );
        let fork = Error::Sys {
            call: "fork",
            errno: Errno::EAGAIN,
        };
        assert!(
            fork.to_string()
                .ends_with("check the container's process, memory and file limits")
        );
        for err in [spawn(Errno::EACCES), Error::Usage("bad".into()), fork] {
            let text = err.to_string();
            assert!(
                text.starts_with("sexton: ") && !text.contains('\n'),
                "{text}"
            );
        }
    }
}
