//! When a SIGTERM sent to a container's init now is not lost.
//!
//! PID 1 of a namespace drops a signal it neither blocks nor handles, so a check that stops a
//! container before its init set up its signal handling would see the runtime's SIGKILL and
//! blame the init. sexton blocks SIGTERM from its first step (SigBlk); an init with a handler
//! catches it (SigCgt); one that waits in rt_sigtimedwait on its main thread, as tini does,
//! shows the signal as unblocked while it waits (syscall 128).

use kit::libc::SIGTERM;
use kit::procfs;

const RT_SIGTIMEDWAIT: &str = "128";

fn for_sigterm(pid: i32) -> bool {
    procfs::blocks(pid, SIGTERM)
        || procfs::has_signal(procfs::signal_set(pid, "SigCgt"), SIGTERM)
        || std::fs::read_to_string(format!("/proc/{pid}/syscall"))
            .is_ok_and(|s| s.split(' ').next() == Some(RT_SIGTIMEDWAIT))
}

/// Waits (up to the kit's deadline) until `pid` is ready for SIGTERM; panics otherwise.
pub fn wait_for_sigterm(pid: i32) {
    kit::wait::until(
        format_args!("the init (pid {pid}) to block or catch SIGTERM"),
        || for_sigterm(pid),
    );
}
