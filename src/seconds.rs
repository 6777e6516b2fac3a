//! Seconds on the command line (`--grace`), parsed to a `Duration`.

use std::time::Duration;

/// The grace period when none is given.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// Parses `--grace`: seconds as [`parse`] reads them; empty (`SEXTON_GRACE=`) is the default,
/// as an empty boolean variable is off.
pub fn grace(text: &str) -> Result<Duration, String> {
    if text.is_empty() {
        return Ok(DEFAULT_GRACE);
    }
    parse(text)
}

/// Parses seconds, fractions allowed: `5`, `0.5`, `.25`. Decimal digits by hand: a float
/// parser would add 15 KB to the binary.
pub fn parse(text: &str) -> Result<Duration, String> {
    let wrong = || format!("'{text}' is not a number of seconds, e.g. 5 or 0.5");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = whole.bytes().chain(fraction.bytes());
    if whole.len() + fraction.len() == 0 || !digits.clone().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    let secs = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| wrong())?
    };
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0, |nanos, digit| nanos * 10 + u32::from(digit - b'0'));
    Ok(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_seconds_and_fractions() {
        assert_eq!(parse("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse(".5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2."), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1.0000000019"), Ok(Duration::new(1, 1)));
        for bad in [
            "abc",
            "",
            ".",
            "-1",
            "+1",
            "1.2.3",
            "NaN",
            "inf",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_grace_is_the_default() {
        assert_eq!(grace(""), Ok(DEFAULT_GRACE));
        assert_eq!(grace("1"), Ok(Duration::from_secs(1)));
        assert!(grace(" ").is_err());
    }
}
