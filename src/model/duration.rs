//! Durations as people write them: `90s`, `15m`, `2h`, `3d`, `1w`, combined like `1m30s`.
//! Used for timeouts in the config and the simulator's clock.

use std::time::Duration;

/// Seconds in `text`: one or more `<number><unit>` with units `s m h d w`; `None` when it is
/// not such a duration or overflows.
pub fn parse_units(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
        any = true;
    }
    (any && digits.is_empty()).then_some(total)
}

/// `90 seconds`, `5 minutes`, `1 hour`: the spelled-out form, as lifetimes are written.
fn parse_words(text: &str) -> Option<u64> {
    let (n, unit) = text.split_once(' ')?;
    let n: u64 = n.trim().parse().ok()?;
    let unit: u64 = match unit.trim() {
        "second" | "seconds" | "sec" | "secs" => 1,
        "minute" | "minutes" | "min" | "mins" => 60,
        "hour" | "hours" => 3600,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// A timeout: a whole number of seconds (`30`), a duration with units (`30s`, `2m`,
/// `1m30s`) or spelled out (`5 minutes`); more than zero and at most a day.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let secs = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>().ok()
    } else {
        parse_units(t).or_else(|| parse_words(t))
    };
    match secs {
        None => Err(format!("`{text}` is not a duration")),
        Some(0) => Err("a timeout of zero would fail every call".to_string()),
        Some(s) if s > 86_400 => Err(format!("{s}s is more than a day")),
        Some(s) => Ok(Duration::from_secs(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds() {
        assert_eq!(parse_units("1m30s"), Some(90));
        assert_eq!(parse_units("2h"), Some(7200));
        assert_eq!(parse_units("1w"), Some(604_800));
        assert_eq!(parse_units("90"), None);
        assert_eq!(parse_units("m"), None);
        assert_eq!(parse_units(""), None);
        assert_eq!(parse_units("99999999999999999999s"), None);
        assert_eq!(parse_timeout("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout(" 2m "), Ok(Duration::from_secs(120)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("2d").is_err());
        assert_eq!(parse_timeout("5 minutes"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_timeout("1 hour"), Ok(Duration::from_secs(3600)));
        assert!(parse_timeout("5 fortnights").is_err());
        assert_eq!(parse_timeout("ten").unwrap_err(), "`ten` is not a duration");
        assert!(parse_timeout("-5").is_err());
    }
}
