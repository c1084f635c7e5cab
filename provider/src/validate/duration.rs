//! Durations as Terraform users write them in `timeouts` (Go's
//! `time.ParseDuration` syntax, which terraform-plugin-framework's timeouts
//! use): `"30m"`, `"1h30m"`, `"90s"`, `"1.5h"`, `"500ms"`.

use std::time::Duration;

/// Units Go's parser knows, longest first so `ms` is not read as `m`.
const UNITS: [(&str, f64); 7] = [
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("h", 3600.0),
    ("m", 60.0),
    ("s", 1.0),
];

/// Longest wait a timeout may ask for: Go's `time.Duration` holds at most
/// about 292 years; anything near that is a typo, not a timeout.
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

/// Parse a positive duration, or say exactly what is wrong with it.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text;
    let shown = super::quoted(text);
    if text.trim() != text {
        return Err(format!(
            "{shown} has spaces or line breaks around it; write the duration alone, e.g. \"30m\" (Go's time.ParseDuration, which Terraform's own timeouts use, takes none)"
        ));
    }
    if t.is_empty() {
        return Err(format!(
            "{shown} is empty; write a duration such as \"30m\" or \"1h30m\""
        ));
    }
    if t.starts_with('-') {
        return Err(format!(
            "{shown} is negative; a timeout must be a positive duration such as \"30m\""
        ));
    }
    let mut rest = t.strip_prefix('+').unwrap_or(t);
    let mut seconds = 0.0f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(format!(
                "{shown} is not a duration: expected a number before {:?}; write e.g. \"30m\", \"1h30m\" or \"90s\"",
                tail.chars().next().unwrap_or(' ')
            ));
        }
        let Some((unit, scale)) = UNITS.iter().find(|(u, _)| tail.starts_with(u)) else {
            return Err(format!(
                "{shown} is not a duration: {num:?} needs a unit (h, m, s, ms, us or ns), e.g. \"{num}m\""
            ));
        };
        let value: f64 = num
            .parse()
            .map_err(|_| format!("{shown} is not a duration: {num:?} is not a number"))?;
        seconds += value * scale;
        if !seconds.is_finite() || seconds > MAX_SECONDS {
            return Err(format!(
                "{shown} is longer than a year; a timeout that long is almost certainly a typo"
            ));
        }
        rest = &tail[unit.len()..];
    }
    if seconds <= 0.0 {
        return Err(format!(
            "{shown} is zero; a timeout must be a positive duration such as \"30m\""
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse("60m"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("+2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn bad_durations_say_why() {
        let err = |s: &str| parse(s).unwrap_err();
        assert!(err("abc").contains("not a duration"), "{}", err("abc"));
        assert!(err("-5m").contains("negative"));
        assert!(err("10").contains("needs a unit"));
        assert!(err("0s").contains("zero"));
        assert!(err("").contains("empty"));
        assert!(err("5x").contains("needs a unit"));
        assert!(err("1..5m").contains("not a duration"));
        // Overflow is refused, not wrapped or saturated.
        assert!(err("99999999999999999999h").contains("longer than a year"));
        assert!(err("9000h").contains("longer than a year"));
    }
}
