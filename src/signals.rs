//! Signals: their names, sexton's own signal state, and forwarding to the child.
//!
//! Invariants:
//! - [`shield`] runs first thing in the process. It blocks every signal sexton forwards, so a
//!   signal sent at any moment — before the child exists, while arguments are parsed — stays
//!   pending in the kernel (a namespace's PID 1 does not drop a blocked signal) until the
//!   forwarder takes it. No thread of sexton ever unblocks them: sexton installs no handler.
//! - Forwarding runs on a thread of its own that sleeps in `sigwaitinfo` and sends each signal
//!   on with one `kill(2)`, one at a time, so the child sees them in the order sexton received
//!   them. The main thread is never interrupted and only reaps. Waking a waiting thread is the
//!   cheapest way from a signal's arrival to the `kill`: a handler would pay for a signal
//!   frame and `sigreturn` on every signal.
//! - SIGTTIN, SIGTTOU and SIGPIPE only ever concern sexton's own terminal and pipe I/O, so
//!   sexton ignores them and can never be stopped or killed by them. The synchronous faults
//!   (SEGV, BUS, FPE, ILL, TRAP, SYS) stay default: blocking them would hide a bug.
//!   Everything else that can be caught is forwarded, realtime signals included, unless the
//!   launcher ignored it (`nohup sexton ...`): that stays ignored, for sexton and the child.
//! - Whatever sexton changes, the child gets back the launcher's state: [`Startup`] records the
//!   launcher's mask and the signals it ignored, and `spawn` restores them before exec.

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

use nix::errno::Errno;
use nix::libc::{self, c_int, sigset_t};

use crate::error::Error;
use crate::thread;

/// Signals sexton ignores for itself (see the module docs).
pub const SELF_IGNORED: [c_int; 3] = [libc::SIGTTIN, libc::SIGTTOU, libc::SIGPIPE];

/// The standard signals that are never forwarded: those that cannot be caught, SIGCHLD (the
/// reap loop's business), the faults of sexton itself, and the ones it ignores.
const NEVER_FORWARDED: u64 = bits(&[
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGCHLD,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGTTIN,
    libc::SIGTTOU,
    libc::SIGPIPE,
]);

const fn bits(sigs: &[c_int]) -> u64 {
    let mut mask = 0;
    let mut i = 0;
    while i < sigs.len() {
        mask |= 1 << (sigs[i] - 1);
        i += 1;
    }
    mask
}

/// One past the highest signal number on Linux.
const NSIG: usize = 65;

/// The `kill(2)` target of forwarded signals: `-pgid`, a pid, or 0 for nobody.
static TARGET: AtomicI32 = AtomicI32::new(0);
/// What each forwarded signal is sent on as (itself unless rewritten); 0 drops it.
static ROUTE: [AtomicI32; NSIG] = [const { AtomicI32::new(0) }; NSIG];
/// The signals the forwarder takes: those [`shield`] left blocked.
static TAKEN: OnceLock<sigset_t> = OnceLock::new();

/// A signal number. Unlike `nix::sys::signal::Signal` it covers the realtime signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal(c_int);

impl Signal {
    pub const TERM: Signal = Signal(libc::SIGTERM);
    pub const KILL: Signal = Signal(libc::SIGKILL);
    pub const CONT: Signal = Signal(libc::SIGCONT);
    pub const INT: Signal = Signal(libc::SIGINT);
    pub const HUP: Signal = Signal(libc::SIGHUP);

    /// The signal numbered `n`, if Linux has one.
    pub fn new(n: c_int) -> Option<Signal> {
        (1..=libc::SIGRTMAX()).contains(&n).then_some(Signal(n))
    }

    pub fn number(self) -> c_int {
        self.0
    }

    /// Whether sexton takes this signal and forwards it to the child.
    pub fn is_forwarded(self) -> bool {
        match self.0 {
            1..32 => NEVER_FORWARDED & self.bit() == 0,
            // 32 and up to SIGRTMIN are the C library's own.
            n => n >= libc::SIGRTMIN(),
        }
    }

    fn bit(self) -> u64 {
        1 << (self.0 - 1)
    }
}

impl fmt::Display for Signal {
    /// `SIGTERM`, `SIGRTMIN+3`, or the bare number for the few without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        match nix::sys::signal::Signal::try_from(self.0) {
            Ok(sig) => f.write_str(sig.as_str()),
            Err(_) if self.0 == max => f.write_str("SIGRTMAX"),
            Err(_) if self.0 >= min => write!(f, "SIGRTMIN+{}", self.0 - min),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+2` or `SIGRTMAX-1`.
pub fn parse_signal(text: &str) -> Result<Signal, String> {
    parse_number_or_name(text).ok_or_else(|| {
        format!("'{text}' is not a signal; use a name like TERM or SIGUSR1, or a number")
    })
}

fn parse_number_or_name(text: &str) -> Option<Signal> {
    if let Ok(n) = text.parse() {
        return Signal::new(n);
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rt) = parse_realtime(name) {
        return Signal::new(rt);
    }
    let full = format!("SIG{name}");
    let sig: nix::sys::signal::Signal = full.parse().ok()?;
    Signal::new(sig as c_int)
}

fn parse_realtime(name: &str) -> Option<c_int> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    match name {
        "RTMIN" => Some(min),
        "RTMAX" => Some(max),
        _ => {
            if let Some(n) = name.strip_prefix("RTMIN+") {
                n.parse::<c_int>()
                    .ok()
                    .map(|n| min + n)
                    .filter(|&s| s <= max)
            } else {
                let n = name.strip_prefix("RTMAX-")?.parse::<c_int>().ok()?;
                Some(max - n).filter(|&s| s >= min)
            }
        }
    }
}

/// One `-r FROM:TO` rule: `to` of `None` drops `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub from: Signal,
    pub to: Option<Signal>,
}

/// Parses `FROM:TO`, where TO may be 0 to drop FROM.
pub fn parse_rewrite(text: &str) -> Result<Rewrite, String> {
    let (from, to) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not FROM:TO, e.g. TERM:QUIT or 15:0"))?;
    let from = parse_signal(from)?;
    if !from.is_forwarded() {
        return Err(format!(
            "{from} is never forwarded, so it cannot be rewritten"
        ));
    }
    let to = if to == "0" {
        None
    } else {
        Some(parse_signal(to)?)
    };
    Ok(Rewrite { from, to })
}

/// What forwarding will do with `sig` under `rules`: the last rule for it wins.
pub fn route(sig: Signal, rules: &[Rewrite]) -> Option<Signal> {
    rules
        .iter()
        .rev()
        .find(|rule| rule.from == sig)
        .map_or(Some(sig), |rule| rule.to)
}

/// The signal state sexton was started with, for the child to get back.
pub struct Startup {
    /// The launcher's signal mask.
    pub mask: sigset_t,
    ignored: u64,
}

impl Startup {
    /// Whether the launcher had set `sig` to SIG_IGN.
    pub fn ignored(&self, sig: c_int) -> bool {
        self.ignored & Signal(sig).bit() != 0
    }
}

/// Takes over signal handling; see the module docs. Must run before anything else.
pub fn shield() -> Startup {
    let mut taken = set_of(forwardable());
    let mut mask = set_of([]);
    // SAFETY: both pointers are to initialised sigset_t values we own.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &taken, &mut mask) };
    let mut ignored = 0;
    for sig in forwardable() {
        ROUTE[sig.0 as usize].store(sig.0, Relaxed);
        if disposition(sig, None) == libc::SIG_IGN {
            ignored |= sig.bit();
            // SAFETY: `taken` is initialised and `sig` a valid signal number.
            unsafe { libc::sigdelset(&mut taken, sig.0) };
        }
    }
    if ignored != 0 {
        // Blocked, an ignored signal would be queued rather than discarded.
        let unblock = set_of(forwardable().filter(|sig| ignored & sig.bit() != 0));
        // SAFETY: the pointer is to an initialised sigset_t.
        unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &unblock, ptr::null_mut()) };
    }
    let _ = TAKEN.set(taken);
    for sig in SELF_IGNORED {
        if disposition(Signal(sig), Some(libc::SIG_IGN)) == libc::SIG_IGN {
            ignored |= Signal(sig).bit();
        }
    }
    Startup { mask, ignored }
}

/// Where forwarded signals go.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The child's whole process group.
    Group(nix::unistd::Pid),
    /// The child alone (`--single-child`).
    Child(nix::unistd::Pid),
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

/// Starts the forwarder thread, sending to `target` under `rules`; signals that arrived
/// before are forwarded first.
pub fn forward_to(target: Target, rules: &[Rewrite]) -> Result<(), Error> {
    for rule in rules {
        let to = route(rule.from, rules).map_or(0, Signal::number);
        ROUTE[rule.from.0 as usize].store(to, Relaxed);
    }
    TARGET.store(target.pid(), Relaxed);
    thread::start(forwarder).map_err(|errno| Error::Sys {
        call: "pthread_create (the signal forwarder)",
        errno,
    })
}

/// Stops forwarding: the child is gone, and its pid or group may be reused.
pub fn stop_forwarding() {
    TARGET.store(0, Relaxed);
}

/// The forwarder thread: takes the signals it forwards one by one and sends each on.
fn forwarder() {
    let taken = TAKEN.get().copied().unwrap_or_else(|| set_of([]));
    loop {
        // SAFETY: `taken` is an initialised sigset_t; the info pointer may be null.
        let sig = unsafe { libc::sigwaitinfo(&taken, ptr::null_mut()) };
        if let Some(sig) = Signal::new(sig) {
            forward(sig);
        }
    }
}

fn forward(sig: Signal) {
    let target = TARGET.load(Relaxed);
    match Signal::new(ROUTE[sig.0 as usize].load(Relaxed)) {
        Some(to) if target != 0 => {
            send(target, to);
            if to == sig {
                log::debug!("forwarded {sig}");
            } else {
                log::debug!("forwarded {sig} as {to}");
            }
        }
        _ => log::debug!("dropped {sig}"),
    }
}

/// Sends `sig` to `pid` (negative for a group), ignoring a target that is already gone.
pub fn send(pid: c_int, sig: Signal) {
    // SAFETY: kill(2) takes plain integers; failure (ESRCH) needs no handling.
    unsafe { libc::kill(pid, sig.0) };
}

/// Arranges for `sig` when sexton's parent dies, and sends it now if `parent`, sexton's
/// parent at start-up, is already gone.
pub fn on_parent_death(sig: Signal, parent: nix::unistd::Pid) -> Result<(), Error> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a plain signal number.
    let done = unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig.number()) };
    if done != 0 {
        let errno = Errno::last();
        return Err(Error::Sys {
            call: "prctl(PR_SET_PDEATHSIG)",
            errno,
        });
    }
    if nix::unistd::getppid() != parent {
        send(nix::unistd::getpid().as_raw(), sig);
    }
    Ok(())
}

/// The signals sexton would forward, before the launcher's SIG_IGN is taken into account.
fn forwardable() -> impl Iterator<Item = Signal> {
    (1..=libc::SIGRTMAX())
        .map(Signal)
        .filter(|sig| sig.is_forwarded())
}

/// A `sigset_t` holding `sigs`.
pub fn set_of(sigs: impl IntoIterator<Item = Signal>) -> sigset_t {
    let mut set = MaybeUninit::uninit();
    // SAFETY: sigemptyset initialises the set before sigaddset writes valid signal numbers.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        for sig in sigs {
            libc::sigaddset(set.as_mut_ptr(), sig.0);
        }
        set.assume_init()
    }
}

/// Returns `sig`'s handler, after setting it to `new` if one is given.
fn disposition(sig: Signal, new: Option<libc::sighandler_t>) -> libc::sighandler_t {
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
        libc::sigaction(sig.0, act, old.as_mut_ptr());
        old.assume_init().sa_sigaction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(n: c_int) -> Signal {
        Signal::new(n).unwrap()
    }

    #[test]
    fn parses_names_numbers_and_prefixes() {
        for text in ["TERM", "SIGTERM", "term", "SigTerm", "15"] {
            assert_eq!(parse_signal(text), Ok(sig(libc::SIGTERM)), "{text}");
        }
        assert_eq!(parse_signal("USR1"), Ok(sig(libc::SIGUSR1)));
        assert_eq!(parse_signal("RTMIN"), Ok(sig(libc::SIGRTMIN())));
        assert_eq!(parse_signal("SIGRTMIN+2"), Ok(sig(libc::SIGRTMIN() + 2)));
        assert_eq!(parse_signal("RTMAX-1"), Ok(sig(libc::SIGRTMAX() - 1)));
    }

    #[test]
    fn rejects_what_is_not_a_signal() {
        for text in ["", "0", "65", "-1", "TERMX", "SIG", "RTMIN+99", "RTMAX-99"] {
            assert!(parse_signal(text).is_err(), "{text}");
        }
    }

    #[test]
    fn names_round_trip() {
        for n in 1..=libc::SIGRTMAX() {
            if (32..libc::SIGRTMIN()).contains(&n) {
                continue;
            }
            assert_eq!(parse_signal(&sig(n).to_string()), Ok(sig(n)), "{n}");
        }
    }

    #[test]
    fn forwards_catchable_signals_only() {
        for n in [
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGWINCH,
            libc::SIGTSTP,
        ] {
            assert!(sig(n).is_forwarded(), "{n}");
        }
        assert!(sig(libc::SIGRTMIN()).is_forwarded());
        for n in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGCHLD,
            libc::SIGSEGV,
            libc::SIGTTOU,
        ] {
            assert!(!sig(n).is_forwarded(), "{n}");
        }
    }

    #[test]
    fn parses_rewrites() {
        let rule = parse_rewrite("TERM:QUIT").unwrap();
        assert_eq!(
            (rule.from, rule.to),
            (Signal::TERM, Some(sig(libc::SIGQUIT)))
        );
        assert_eq!(parse_rewrite("15:0").unwrap().to, None);
        for bad in ["TERM", "TERM:", "KILL:TERM", "TERM:NOPE", ":3"] {
            assert!(parse_rewrite(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes_by_the_last_matching_rule() {
        let rules = [
            parse_rewrite("TERM:QUIT").unwrap(),
            parse_rewrite("INT:0").unwrap(),
            parse_rewrite("TERM:USR1").unwrap(),
        ];
        assert_eq!(route(Signal::TERM, &rules), Some(sig(libc::SIGUSR1)));
        assert_eq!(route(Signal::INT, &rules), None);
        assert_eq!(route(Signal::HUP, &rules), Some(Signal::HUP));
    }
}
