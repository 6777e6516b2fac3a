//! sexton's own signal state and the forwarding of signals to the child.
//!
//! Invariants:
//! - [`shield`] runs first thing in the process. It blocks every signal sexton forwards, so a
//!   signal sent at any moment — before the child exists, while arguments are parsed — stays
//!   pending in the kernel (a namespace's PID 1 does not drop a blocked signal) until the
//!   forwarder takes it. No thread of sexton unblocks them (but the main thread for the moment it
//!   stops itself, see `terminal::suspend`): sexton installs no handler.
//! - Forwarding runs on a thread of its own that sleeps in `sigwaitinfo` and sends each signal
//!   on with one `kill(2)`, one at a time, so the child sees them in the order sexton received
//!   them. The main thread is never interrupted and only reaps. Waking a waiting thread is the
//!   cheapest way from a signal's arrival to the `kill`: a handler would pay for a signal
//!   frame and `sigreturn` on every signal.
//! - `-d SIGNAL:SECONDS` holds SIGNAL that long before forwarding it; other signals pass at
//!   once, and a second SIGNAL releases it at once. Only while a signal is held does the
//!   forwarder sleep with a timeout: otherwise nothing wakes sexton but a signal.
//! - The forwarder owns what it needs (the set it takes, the routes, the target), moved into
//!   its thread; the only state it shares is the stop flag of [`Forwarding::stop`], after
//!   which it sends nothing: the child is reaped and its pid may belong to another process,
//!   and the SIGCONT hold of [`Forwarding::hold_continue`], for job control.
//! - SIGTTIN, SIGTTOU and SIGPIPE only ever concern sexton's own terminal and pipe I/O, so
//!   sexton ignores them and can never be stopped or killed by them (only `terminal`, to stop
//!   sexton as its command's job, sends one to itself on purpose). The synchronous faults
//!   (SEGV, BUS, FPE, ILL, TRAP, SYS) stay default: blocking them would hide a bug.
//!   Everything else that can be caught is forwarded, realtime signals included, unless the
//!   launcher ignored it (`nohup sexton ...`): that stays ignored, for sexton and the child.
//! - Whatever sexton changes, the child gets back the launcher's state: [`Startup`] records the
//!   launcher's mask and the signals it ignored, and `spawn` restores them before exec.

use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::libc::{self, c_int, sigset_t};
use nix::unistd::Pid;

use crate::error::Error;
use crate::pidfd::Pidfd;
use crate::signal::{Routes, Set, Signal};
use crate::thread;

/// Signals sexton ignores for itself (see the module docs).
pub const SELF_IGNORED: [Signal; 3] = [Signal::TTIN, Signal::TTOU, Signal::PIPE];
/// Every signal whose disposition sexton sets for itself: those it ignores, and SIGCHLD, which
/// it sets to the default: ignored, the kernel would reap sexton's children on its own and
/// `waitpid` find none, losing COMMAND's status.
pub const SELF_SET: [Signal; 4] = [Signal::TTIN, Signal::TTOU, Signal::PIPE, Signal::CHLD];

/// The signal state sexton was started with, for the child to get back, and the signals
/// sexton took over.
pub struct Startup {
    /// The launcher's signal mask.
    pub mask: sigset_t,
    /// The signals the launcher had set to SIG_IGN.
    ignored: Set,
    /// The signals [`shield`] left blocked for the forwarder to take.
    taken: Set,
}

impl Startup {
    /// Whether the launcher had set `sig` to SIG_IGN.
    pub fn ignored(&self, sig: Signal) -> bool {
        self.ignored.contains(sig)
    }

    /// Takes `sigs` even if the launcher ignored them (`--pause` must end on SIGINT under
    /// `sh -c 'sexton -P &'`, which ignores it): blocks them, then sets them to the default,
    /// and has the forwarder take them. Before [`start`].
    pub fn take_even_if_ignored(&mut self, sigs: &[Signal]) {
        let set: Set = sigs.iter().copied().collect();
        // SAFETY: the pointer is to an initialised sigset_t. Blocked first, so the default
        // disposition can never end sexton.
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set.to_sigset(), ptr::null_mut()) };
        for &sig in sigs {
            disposition(sig, Some(libc::SIG_DFL));
            self.taken.insert(sig);
        }
    }
}

/// Takes over signal handling; see the module docs. Must run before anything else.
pub fn shield() -> Startup {
    let forwardable = Set::forwarded();
    let mut mask = Set::default().to_sigset();
    // SAFETY: both pointers are to initialised sigset_t values we own.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &forwardable.to_sigset(), &mut mask) };
    let ignored: Set = forwardable
        .iter()
        .filter(|&sig| disposition(sig, None) == libc::SIG_IGN)
        .collect();
    if !ignored.is_empty() {
        // Blocked, an ignored signal would be queued rather than discarded.
        // SAFETY: the pointer is to an initialised sigset_t.
        unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &ignored.to_sigset(), ptr::null_mut()) };
    }
    let taken = forwardable.without(ignored);
    let mut ignored = ignored;
    for sig in SELF_SET {
        let own = if SELF_IGNORED.contains(&sig) {
            libc::SIG_IGN
        } else {
            libc::SIG_DFL
        };
        if disposition(sig, Some(own)) == libc::SIG_IGN {
            ignored.insert(sig);
        }
    }
    Startup {
        mask,
        ignored,
        taken,
    }
}

/// Where forwarded signals go.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The child's whole process group.
    Group(Pid),
    /// The child alone (`--single-child`).
    Child(Pid),
}

impl Target {
    /// The `kill(2)` argument that reaches the target.
    pub fn pid(self) -> c_int {
        match self {
            Target::Group(pgid) => -pgid.as_raw(),
            Target::Child(pid) => pid.as_raw(),
        }
    }
}

/// A running forwarder: the main thread's handle on the one state it shares with it.
pub struct Forwarding {
    flags: &'static Flags,
}

/// What the main thread tells the forwarder. A process has one forwarder, so one static
/// holds this, and starting one costs no allocation for it.
struct Flags {
    stopped: Mutex<bool>,
    continue_held: AtomicBool,
}

static FLAGS: Flags = Flags {
    stopped: Mutex::new(false),
    continue_held: AtomicBool::new(false),
};

impl Forwarding {
    /// Stops forwarding: the child is gone, and its pid or group may be reused. Once this
    /// returns, nothing more is sent.
    pub fn stop(self) {
        *lock(&self.flags.stopped) = true;
    }

    /// While `held`, SIGCONT is not forwarded: sexton continues the command itself once the
    /// command has the terminal again (`terminal`).
    pub fn hold_continue(&self, held: bool) {
        self.flags.continue_held.store(held, Ordering::SeqCst);
    }
}

/// Starts the forwarder thread, which takes the signals `startup` left blocked and sends them
/// to `target` as `routes` say; signals that arrived before are forwarded first. Called once
/// per process.
pub fn start(startup: &Startup, target: Target, routes: Routes) -> Result<Forwarding, Error> {
    let forwarder = Forwarder {
        taken: startup.taken,
        routes,
        aim: Aim::new(target),
        flags: &FLAGS,
    };
    thread::start(move || forwarder.run()).map_err(|errno| Error::Sys {
        call: "pthread_create (the signal forwarder)",
        errno,
    })?;
    Ok(Forwarding { flags: &FLAGS })
}

/// The forwarder thread's state, all its own but the two flags.
struct Forwarder {
    taken: Set,
    routes: Routes,
    aim: Aim,
    flags: &'static Flags,
}

/// How the forwarder reaches its target.
///
/// What is left open: between the reaping of the command and [`Forwarding::stop`] (a few
/// instructions of the main thread), a group none of whose members lives any more, or a child
/// signalled without a pidfd, could in principle have had its id taken by a new process in
/// that instant. Closing that would take a second wait for every child reaped (`waitid` with
/// `WNOWAIT`, then the reap), which the orphan storms an init is for would pay.
enum Aim {
    /// `kill(-pgid)`: the group's id stays reserved while any member lives, and once none
    /// does there is nothing of the command's left to signal.
    Group(c_int),
    /// The child through a pidfd, so that a signal racing the child's reaping can never reach
    /// a process that got its pid since; a plain `kill` where pidfds cannot be had.
    Child(Result<Pidfd, c_int>),
}

impl Aim {
    fn new(target: Target) -> Aim {
        match target {
            Target::Group(_) => Aim::Group(target.pid()),
            Target::Child(pid) => Aim::Child(Pidfd::open(pid.as_raw()).map_err(|_| pid.as_raw())),
        }
    }

    fn send(&self, sig: Signal) {
        match self {
            Aim::Group(pid) | Aim::Child(Err(pid)) => send(*pid, sig),
            // ESRCH: the child has been reaped, which is what the pidfd is for.
            Aim::Child(Ok(pidfd)) => drop(pidfd.send(sig)),
        }
    }
}

impl Forwarder {
    /// Takes the signals it forwards one by one and sends each on, holding those `-d` names.
    /// It sleeps with a timeout only while it holds a signal.
    fn run(self) {
        let taken = self.taken.to_sigset();
        let mut holds = Holds::default();
        loop {
            let sig = match holds.next_due() {
                // SAFETY: `taken` is an initialised sigset_t; the info pointer may be null.
                None => unsafe { libc::sigwaitinfo(&taken, ptr::null_mut()) },
                Some(due) => {
                    let timeout = timespec(due.saturating_duration_since(Instant::now()));
                    // SAFETY: as above, and `timeout` is a valid timespec. A timeout returns
                    // -1 (EAGAIN), which is no signal.
                    unsafe { libc::sigtimedwait(&taken, ptr::null_mut(), &timeout) }
                }
            };
            let sig = Signal::new(sig);
            // A signal that is dropped anyway is not worth holding.
            let delay = |sig| {
                self.routes
                    .delay(sig)
                    .filter(|_| self.routes.of(sig).is_some())
            };
            if let Some(sig) = sig.filter(|&sig| delay(sig).is_none()) {
                // The usual case, without a clock. A held signal that falls due meanwhile goes
                // when the next wait times out, at once.
                self.forward(sig, None);
                continue;
            }
            let now = Instant::now();
            for due in holds.take_due(now) {
                self.forward(due, Some("after holding it"));
            }
            let Some(sig) = sig else { continue };
            match holds.arrive(sig, delay(sig), now) {
                Arrival::Forward => self.forward(sig, None),
                Arrival::Again => self.forward(sig, Some("at once: it came again while held")),
                Arrival::Held(by) => log::info!(
                    "holding {sig} for {by:?} before forwarding it (send it again to forward it now)"
                ),
            }
        }
    }

    /// Forwards `sig` as its route says. A signal released from a hold (`held` says how) is
    /// worth an info line, like the hold was; the others a debug line. Each line is written
    /// only once the signal has been sent.
    fn forward(&self, sig: Signal, held: Option<&str>) {
        if sig == Signal::CONT && self.flags.continue_held.load(Ordering::SeqCst) {
            log::debug!("held SIGCONT: sexton continues the command itself");
            return;
        }
        let Some(to) = self.routes.of(sig) else {
            log::debug!("dropped {sig}");
            return;
        };
        // Held while sending and logging, so that `stop` waits for a send under way and its
        // line is written before sexton exits.
        let stopped = lock(&self.flags.stopped);
        if *stopped {
            log::debug!("dropped {sig}: the command has exited");
            return;
        }
        self.aim.send(to);
        let how = if to == sig {
            String::new()
        } else {
            format!(" as {to}")
        };
        match held {
            Some(held) => log::info!("forwarded {sig}{how} {held}"),
            None => log::debug!("forwarded {sig}{how}"),
        }
    }
}

/// What becomes of a signal that arrives.
#[derive(Debug, PartialEq, Eq)]
enum Arrival {
    /// Forward it now: no `-d` for it.
    Forward,
    /// It is held for this long.
    Held(Duration),
    /// It was held already: the second one releases it at once (an impatient operator wins).
    Again,
}

/// The signals held by `-d`, each with the moment it is due, in the order they arrived.
#[derive(Default)]
struct Holds(Vec<(Signal, Instant)>);

impl Holds {
    /// `sig`, which `-d` holds for `delay`, arrived at `now`.
    fn arrive(&mut self, sig: Signal, delay: Option<Duration>, now: Instant) -> Arrival {
        let Some(delay) = delay else {
            return Arrival::Forward;
        };
        match self.0.iter().position(|&(held, _)| held == sig) {
            Some(i) => {
                self.0.remove(i);
                Arrival::Again
            }
            None => {
                self.0.push((sig, now + delay));
                Arrival::Held(delay)
            }
        }
    }

    /// When the next held signal is due, if one is held.
    fn next_due(&self) -> Option<Instant> {
        self.0.iter().map(|&(_, due)| due).min()
    }

    /// Takes out the signals due by `now`, in the order they arrived.
    fn take_due(&mut self, now: Instant) -> Vec<Signal> {
        let (due, held) = self.0.iter().partition(|&&(_, due)| due <= now);
        self.0 = held;
        due.into_iter().map(|(sig, _)| sig).collect()
    }
}

fn timespec(duration: Duration) -> libc::timespec {
    libc::timespec {
        // 68 years where `time_t` is 32 bits: long enough to wait for anything.
        tv_sec: duration.as_secs().try_into().unwrap_or(i32::MAX.into()),
        // Under a billion: it fits the 32-bit `c_long` of 32-bit platforms.
        tv_nsec: duration.subsec_nanos() as libc::c_long,
    }
}

/// Locks the stop flag; a bool cannot be left half-written, so a poisoned lock is as good.
fn lock(flag: &Mutex<bool>) -> MutexGuard<'_, bool> {
    flag.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends `sig` to `pid` (negative for a group), ignoring a target that is already gone.
pub fn send(pid: c_int, sig: Signal) {
    // SAFETY: kill(2) takes plain integers; failure (ESRCH) needs no handling.
    unsafe { libc::kill(pid, sig.number()) };
}

/// Arranges for `sig` when sexton's parent dies, and sends it now if `parent`, sexton's
/// parent at start-up, is already gone.
pub fn on_parent_death(sig: Signal, parent: Pid) -> Result<(), Error> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a plain signal number.
    let done = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig.number()) };
    Errno::result(done).map_err(|errno| Error::Sys {
        call: "prctl(PR_SET_PDEATHSIG)",
        errno,
    })?;
    if nix::unistd::getppid() != parent {
        send(nix::unistd::getpid().as_raw(), sig);
    }
    Ok(())
}

/// Returns `sig`'s handler, after setting it to `new` if one is given.
pub fn disposition(sig: Signal, new: Option<libc::sighandler_t>) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is valid: empty mask, no flags.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    let mut act = ptr::null();
    if let Some(handler) = new {
        action.sa_sigaction = handler;
        act = &action;
    }
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: `act` is null or a valid action, and the kernel fills `old` in full when the
    // call succeeds, which it does for every signal number sexton passes.
    unsafe {
        libc::sigaction(sig.number(), act, old.as_mut_ptr());
        old.assume_init().sa_sigaction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn signals_without_a_delay_pass_at_once() {
        let mut holds = Holds::default();
        assert_eq!(
            holds.arrive(Signal::TERM, None, Instant::now()),
            Arrival::Forward
        );
        assert!(holds.next_due().is_none());
    }

    #[test]
    fn a_held_signal_is_due_after_its_delay() {
        let mut holds = Holds::default();
        let t0 = Instant::now();
        assert_eq!(
            holds.arrive(Signal::TERM, Some(2 * SECOND), t0),
            Arrival::Held(2 * SECOND)
        );
        assert_eq!(
            holds.arrive(Signal::INT, Some(SECOND), t0 + SECOND / 2),
            Arrival::Held(SECOND)
        );
        assert_eq!(holds.next_due(), Some(t0 + 3 * SECOND / 2));
        assert!(holds.take_due(t0 + SECOND).is_empty());
        assert_eq!(holds.take_due(t0 + 2 * SECOND), [Signal::TERM, Signal::INT]);
        assert!(holds.next_due().is_none());
    }

    #[test]
    fn a_second_one_releases_it_at_once() {
        let mut holds = Holds::default();
        let t0 = Instant::now();
        holds.arrive(Signal::TERM, Some(5 * SECOND), t0);
        assert_eq!(
            holds.arrive(Signal::TERM, Some(5 * SECOND), t0 + SECOND),
            Arrival::Again
        );
        assert!(holds.next_due().is_none());
        // And the next one is held again.
        assert_eq!(
            holds.arrive(Signal::TERM, Some(5 * SECOND), t0 + 2 * SECOND),
            Arrival::Held(5 * SECOND)
        );
    }

    #[test]
    fn timespecs_keep_fractions() {
        let t = timespec(Duration::from_millis(2500));
        assert_eq!((t.tv_sec, t.tv_nsec), (2, 500_000_000));
    }
}
