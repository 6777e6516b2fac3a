//! Signals as values: numbers, names, the command line's signal rules (`-r`, `-d`), and sets
//! of signals.
//! Nothing here touches sexton's process state; `forward` does.
//!
//! Invariants:
//! - A [`Signal`] is a number the platform has: 1 to `SIGRTMAX`, which is 64 on most Linux
//!   platforms and 127 on MIPS. Every table and set here is sized for the largest of them,
//!   [`MAX`], so none is indexed past its end on any platform.
//! - Which signals sexton forwards is decided here, once ([`Signal::is_forwarded`]); what it
//!   forwards them as is decided once per run ([`Routes`]).

use std::fmt;
use std::mem::MaybeUninit;
use std::time::Duration;

use nix::libc::{self, c_int, c_ulong, sigset_t};

use crate::seconds;

/// The highest signal number on any Linux platform (MIPS: SIGRTMAX is 127).
pub const MAX: usize = 127;

/// The standard signals that are never forwarded: those that cannot be caught, SIGCHLD (the
/// reap loop's business), the faults of sexton itself, and the ones it ignores.
const NEVER_FORWARDED: Set = Set::of(&[
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

/// A signal number. Unlike `nix::sys::signal::Signal` it covers the realtime signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signal(c_int);

impl Signal {
    pub const TERM: Signal = Signal(libc::SIGTERM);
    pub const KILL: Signal = Signal(libc::SIGKILL);
    pub const CONT: Signal = Signal(libc::SIGCONT);
    pub const INT: Signal = Signal(libc::SIGINT);
    pub const HUP: Signal = Signal(libc::SIGHUP);
    pub const TTIN: Signal = Signal(libc::SIGTTIN);
    pub const TTOU: Signal = Signal(libc::SIGTTOU);
    pub const PIPE: Signal = Signal(libc::SIGPIPE);
    pub const TSTP: Signal = Signal(libc::SIGTSTP);
    pub const CHLD: Signal = Signal(libc::SIGCHLD);

    /// The signal numbered `n`, if this platform has one.
    pub fn new(n: c_int) -> Option<Signal> {
        (1..=libc::SIGRTMAX()).contains(&n).then_some(Signal(n))
    }

    /// Every signal this platform has.
    pub fn all() -> impl Iterator<Item = Signal> {
        (1..=libc::SIGRTMAX()).map(Signal)
    }

    pub fn number(self) -> c_int {
        self.0
    }

    /// Whether sexton takes this signal and forwards it to the child.
    pub fn is_forwarded(self) -> bool {
        !self.is_reserved() && !NEVER_FORWARDED.contains(self)
    }

    /// Whether the C library keeps this signal for itself (thread cancellation and the like):
    /// those between the standard signals and SIGRTMIN, 32 and 33 with glibc, 32 to 34 with
    /// musl. Sent to a program, one would do what its C library does with it.
    fn is_reserved(self) -> bool {
        (32..libc::SIGRTMIN()).contains(&self.0)
    }

    fn index(self) -> usize {
        self.0 as usize - 1
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

/// `RTMIN`, `RTMAX`, `RTMIN+n` or `RTMAX-n`, within the realtime range.
fn parse_realtime(name: &str) -> Option<c_int> {
    let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
    let offset = |digits: &str| -> Option<c_int> {
        // Digits only: `RTMIN+-1` is not a signal.
        digits.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
        digits.parse().ok()
    };
    let n = match name {
        "RTMIN" => min,
        "RTMAX" => max,
        _ => match (name.strip_prefix("RTMIN+"), name.strip_prefix("RTMAX-")) {
            (Some(n), _) => min.checked_add(offset(n)?)?,
            (_, Some(n)) => max.checked_sub(offset(n)?)?,
            _ => return None,
        },
    };
    (min..=max).contains(&n).then_some(n)
}

/// Parses `-p`'s signal: SIGKILL, or one that sexton forwards (it reaches sexton, which
/// forwards it). A signal that stops, that sexton ignores, or that the C library reserves
/// would do nothing anyone asked for.
pub fn parse_pdeathsig(text: &str) -> Result<Signal, String> {
    let sig = parse_signal(text)?;
    if sig != Signal::KILL && !sig.is_forwarded() {
        return Err(format!(
            "{sig} cannot be sexton's parent-death signal; use KILL or one sexton forwards, \
             such as TERM"
        ));
    }
    Ok(sig)
}

/// One `-r FROM:TO` rule: `to` of `None` drops `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewrite {
    pub from: Signal,
    pub to: Option<Signal>,
}

/// Splits a `SIGNAL:VALUE` rule (`shape` names it in the error, with examples) and parses its
/// signal, which must be one sexton forwards: no rule can apply to any other.
fn parse_rule<'a>(text: &'a str, shape: &str, done: &str) -> Result<(Signal, &'a str), String> {
    let (sig, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not {shape}"))?;
    let sig = parse_signal(sig)?;
    if !sig.is_forwarded() {
        return Err(format!("{sig} is never forwarded, so it cannot be {done}"));
    }
    Ok((sig, value))
}

/// Parses `FROM:TO`, where TO may be 0 to drop FROM.
pub fn parse_rewrite(text: &str) -> Result<Rewrite, String> {
    let (from, to) = parse_rule(text, "FROM:TO, e.g. TERM:QUIT or 15:0", "rewritten")?;
    let to = if to == "0" {
        None
    } else {
        Some(parse_signal(to)?)
    };
    if let Some(to) = to.filter(|to| to.is_reserved()) {
        return Err(format!(
            "{to} is the C library's own, so nothing may be rewritten to it"
        ));
    }
    Ok(Rewrite { from, to })
}

/// One `-d SIGNAL:SECONDS` rule: hold `sig` that long before forwarding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delay {
    pub sig: Signal,
    pub by: Duration,
}

/// Parses `SIGNAL:SECONDS`, fractions allowed.
pub fn parse_delay(text: &str) -> Result<Delay, String> {
    let (sig, by) = parse_rule(text, "SIGNAL:SECONDS, e.g. TERM:5 or TERM:0.5", "delayed")?;
    Ok(Delay {
        sig,
        by: seconds::parse(by)?,
    })
}

/// What each forwarded signal is sent on as (`-r`), and how long it is held first (`-d`):
/// built once per run. The last rule for a signal wins. The rules are few if any, so a look
/// through them is as fast as a table, and allocates nothing when there are none: the
/// forwarder's whole state is one small allocation.
#[derive(Clone, Debug)]
pub struct Routes {
    /// The `-r` rules, the last first.
    rewrites: Vec<Rewrite>,
    /// The `-d` rules, the last first.
    delays: Vec<Delay>,
}

impl Routes {
    /// Every signal as itself and at once, except where a rule says otherwise.
    pub fn new(rewrites: &[Rewrite], delays: &[Delay]) -> Routes {
        Routes {
            rewrites: rewrites.iter().rev().copied().collect(),
            delays: delays.iter().rev().copied().collect(),
        }
    }

    /// What `sig` is forwarded as; `None` drops it.
    pub fn of(&self, sig: Signal) -> Option<Signal> {
        let rule = self.rewrites.iter().find(|rule| rule.from == sig);
        rule.map_or(Some(sig), |rule| rule.to)
    }

    /// How long `sig` is held before it is forwarded, if at all.
    pub fn delay(&self, sig: Signal) -> Option<Duration> {
        let rule = self.delays.iter().find(|rule| rule.sig == sig)?;
        Some(rule.by).filter(|by| !by.is_zero())
    }
}

const _: () = assert!(size_of::<sigset_t>() * 8 >= u128::BITS as usize);

/// A set of signals, cheap to copy and to build at compile time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Set(u128);

impl Set {
    /// The set of the signal numbers in `sigs`.
    pub const fn of(sigs: &[c_int]) -> Set {
        let mut bits = 0;
        let mut i = 0;
        while i < sigs.len() {
            bits |= 1 << (sigs[i] - 1);
            i += 1;
        }
        Set(bits)
    }

    pub fn insert(&mut self, sig: Signal) {
        self.0 |= 1 << sig.index();
    }

    pub fn contains(self, sig: Signal) -> bool {
        self.0 & 1 << sig.index() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The signals in the set, lowest first, a bit at a time: testing each signal of the
    /// platform in turn costs a start of sexton some thousands of instructions.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let index = bits.trailing_zeros();
            (bits != 0).then(|| {
                bits &= bits - 1;
                Signal(index as c_int + 1)
            })
        })
    }

    /// Every signal sexton forwards ([`Signal::is_forwarded`]), built from bit masks rather
    /// than a signal at a time, for the same reason as [`Set::iter`].
    pub fn forwarded() -> Set {
        // The signals below `n`: bits 0 to n-2.
        let below = |n: c_int| (1u128 << (n - 1)) - 1;
        let all = below(libc::SIGRTMAX() + 1);
        let reserved = below(libc::SIGRTMIN()) & !below(32);
        Set(all & !reserved & !NEVER_FORWARDED.0)
    }

    /// The signals in `self` but not in `other`.
    pub fn without(self, other: Set) -> Set {
        Set(self.0 & !other.0)
    }

    /// The same set as the C library's `sigset_t`, written a word at a time: a sigaddset
    /// per signal costs a start of sexton some thousands of instructions.
    pub fn to_sigset(self) -> sigset_t {
        const WORD: usize = c_ulong::BITS as usize;
        let mut set = MaybeUninit::<sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the whole set. Linux's sigset_t, in glibc and musl
        // alike and on every architecture, is the kernel's: an array of unsigned longs (at
        // least 128 bits, checked below), signal n at bit n-1 of it, so the words written are
        // within it and mean what `self` means.
        unsafe {
            libc::sigemptyset(set.as_mut_ptr());
            let words = set.as_mut_ptr().cast::<c_ulong>();
            for i in 0..u128::BITS as usize / WORD {
                *words.add(i) = (self.0 >> (i * WORD)) as c_ulong;
            }
            set.assume_init()
        }
    }
}

impl FromIterator<Signal> for Set {
    fn from_iter<I: IntoIterator<Item = Signal>>(sigs: I) -> Set {
        let mut set = Set::default();
        sigs.into_iter().for_each(|sig| set.insert(sig));
        set
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
        assert_eq!(parse_signal("RTMAX"), Ok(sig(libc::SIGRTMAX())));
    }

    #[test]
    fn rejects_what_is_not_a_signal() {
        let past_the_last = (libc::SIGRTMAX() + 1).to_string();
        for text in [
            "",
            "0",
            &past_the_last,
            "-1",
            "TERMX",
            "SIG",
            "RTMIN+99",
            "RTMAX-99",
            "RTMIN+-1",
            "RTMAX-+1",
            "RTMIN+",
        ] {
            assert!(parse_signal(text).is_err(), "{text}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Signal::all() {
            if (32..libc::SIGRTMIN()).contains(&s.0) {
                continue;
            }
            assert_eq!(parse_signal(&s.to_string()), Ok(s), "{s:?}");
        }
        assert_eq!(sig(libc::SIGRTMAX()).to_string(), "SIGRTMAX");
        assert_eq!(sig(libc::SIGRTMIN() + 3).to_string(), "SIGRTMIN+3");
        // The C library's own, below SIGRTMIN, have no name.
        assert_eq!(sig(32).to_string(), "32");
    }

    #[test]
    fn the_platform_range_fits_every_table() {
        assert!(libc::SIGRTMAX() as usize <= MAX);
        let all: Set = Signal::all().collect();
        assert_eq!(all.iter().count(), libc::SIGRTMAX() as usize);
        assert!(all.contains(sig(libc::SIGRTMAX())));
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
        assert!(sig(libc::SIGRTMAX()).is_forwarded());
        for n in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGCHLD,
            libc::SIGSEGV,
            libc::SIGTTOU,
            32,
            libc::SIGRTMIN() - 1,
        ] {
            assert!(!sig(n).is_forwarded(), "{n}");
        }
    }

    #[test]
    fn parent_death_signals_are_kill_or_forwarded() {
        for text in ["KILL", "TERM", "USR1", "RTMIN"] {
            assert!(parse_pdeathsig(text).is_ok(), "{text}");
        }
        for text in ["STOP", "32", "CHLD", "TTOU", "SEGV", "NOPE"] {
            assert!(parse_pdeathsig(text).is_err(), "{text}");
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
        for bad in ["TERM", "TERM:", "KILL:TERM", "TERM:NOPE", ":3", "TERM:32"] {
            assert!(parse_rewrite(bad).is_err(), "{bad}");
        }
        // What the command gets may be any signal it can be sent.
        assert_eq!(parse_rewrite("TERM:KILL").unwrap().to, Some(Signal::KILL));
        let not_a_signal = parse_rewrite("RTMIN+-1:USR1").unwrap_err();
        assert!(not_a_signal.contains("is not a signal"), "{not_a_signal}");
    }

    #[test]
    fn routes_by_the_last_matching_rule() {
        let rules = [
            parse_rewrite("TERM:QUIT").unwrap(),
            parse_rewrite("INT:0").unwrap(),
            parse_rewrite("TERM:USR1").unwrap(),
        ];
        let routes = Routes::new(&rules, &[]);
        assert_eq!(routes.of(Signal::TERM), Some(sig(libc::SIGUSR1)));
        assert_eq!(routes.of(Signal::INT), None);
        assert_eq!(routes.of(Signal::HUP), Some(Signal::HUP));
        assert_eq!(
            routes.of(sig(libc::SIGRTMAX())),
            Some(sig(libc::SIGRTMAX()))
        );
    }

    #[test]
    fn parses_delays() {
        let rule = parse_delay("TERM:2.5").unwrap();
        assert_eq!(
            (rule.sig, rule.by),
            (Signal::TERM, Duration::from_millis(2500))
        );
        assert_eq!(parse_delay("sigint:0").unwrap().by, Duration::ZERO);
        for bad in [
            "TERM", "TERM:", "KILL:5", "CHLD:1", "TERM:-1", "NOPE:1", ":1", "TERM:1s",
        ] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delays_apply_to_their_signal_only_and_the_last_wins() {
        let delays = [
            parse_delay("TERM:5").unwrap(),
            parse_delay("INT:1").unwrap(),
            parse_delay("TERM:2").unwrap(),
            parse_delay("HUP:0").unwrap(),
        ];
        let routes = Routes::new(&[parse_rewrite("TERM:QUIT").unwrap()], &delays);
        assert_eq!(routes.delay(Signal::TERM), Some(Duration::from_secs(2)));
        assert_eq!(routes.delay(Signal::INT), Some(Duration::from_secs(1)));
        assert_eq!(routes.delay(Signal::HUP), None);
        assert_eq!(routes.delay(sig(libc::SIGUSR1)), None);
        assert_eq!(routes.of(Signal::TERM), Some(sig(libc::SIGQUIT)));
    }

    #[test]
    fn sigsets_hold_exactly_the_set() {
        let member = |set: &sigset_t, sig: Signal| {
            // SAFETY: an initialised set and a signal the platform has.
            unsafe { libc::sigismember(set, sig.0) == 1 }
        };
        for one in Signal::all() {
            let set = Set::from_iter([one]).to_sigset();
            for sig in Signal::all() {
                assert_eq!(member(&set, sig), sig == one, "{one} set, {sig} asked");
            }
        }
        let all_set: Set = Signal::all().collect();
        assert!(
            Set::forwarded()
                .iter()
                .eq(Signal::all().filter(|sig| sig.is_forwarded()))
        );
        assert!(all_set.iter().eq(Signal::all()));
        assert_eq!(
            all_set.without(Set::of(&[libc::SIGTERM])).iter().count(),
            Signal::all().count() - 1
        );
        let all = all_set.to_sigset();
        assert!(Signal::all().all(|sig| member(&all, sig)));
    }

    #[test]
    fn sets_hold_what_was_put_in() {
        let set = Set::of(&[libc::SIGTERM, libc::SIGHUP]);
        assert!(set.contains(Signal::TERM) && set.contains(Signal::HUP));
        assert!(!set.contains(Signal::INT));
        assert_eq!(set.iter().collect::<Vec<_>>(), [Signal::HUP, Signal::TERM]);
        let rtmax = Set::from_iter([sig(libc::SIGRTMAX())]);
        assert!(rtmax.contains(sig(libc::SIGRTMAX())) && !rtmax.is_empty());
    }
}
