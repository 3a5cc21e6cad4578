//! Lifetimes in human units (`2 weeks`, `36 hours`) mapped to TrueNAS value + unit.
//!
//! The unit the user writes is the unit TrueNAS stores: `14 days` stays `(14, DAY)` and
//! never becomes `(2, WEEK)`, because TrueNAS compares and displays the stored pair.

use std::fmt;

use chrono::Duration;
use serde::Serialize;

use crate::diag::CodeInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifetimeUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl LifetimeUnit {
    /// The TrueNAS `lifetime_unit` text.
    pub fn as_truenas(self) -> &'static str {
        match self {
            LifetimeUnit::Hour => "HOUR",
            LifetimeUnit::Day => "DAY",
            LifetimeUnit::Week => "WEEK",
            LifetimeUnit::Month => "MONTH",
            LifetimeUnit::Year => "YEAR",
        }
    }

    fn singular(self) -> &'static str {
        match self {
            LifetimeUnit::Hour => "hour",
            LifetimeUnit::Day => "day",
            LifetimeUnit::Week => "week",
            LifetimeUnit::Month => "month",
            LifetimeUnit::Year => "year",
        }
    }

    /// The largest value accepted: a hundred years, zettarepl's own "forever"
    /// (`timedelta(days=36500)`); longer overflows its date arithmetic.
    pub fn max_value(self) -> u32 {
        match self {
            LifetimeUnit::Hour => 876_000,
            LifetimeUnit::Day => 36_500,
            LifetimeUnit::Week => 5_214,
            LifetimeUnit::Month => 1_216,
            LifetimeUnit::Year => 100,
        }
    }
}

/// A TrueNAS lifetime: the exact `(lifetime_value, lifetime_unit)` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    pub value: u32,
    pub unit: LifetimeUnit,
}

pub const INVALID: &str = "zfleet::lifetime::invalid";

pub const CODES: &[CodeInfo] = &[CodeInfo {
    code: INVALID,
    summary: "a lifetime is not a whole number of hours, days, weeks, months or years",
}];

const FORMAT_HINT: &str = "write a whole number and a unit: \"2 weeks\", \"36 hours\", \"3 days\", \"6 months\", \"1 year\" (or 2w, 36h, 3d, 1y)";

fn unit_of(word: &str) -> Result<LifetimeUnit, String> {
    let w = word.to_ascii_lowercase();
    Ok(match w.as_str() {
        "h" | "hr" | "hrs" | "hour" | "hours" => LifetimeUnit::Hour,
        "d" | "day" | "days" => LifetimeUnit::Day,
        "w" | "wk" | "wks" | "week" | "weeks" => LifetimeUnit::Week,
        "mo" | "mon" | "mons" | "month" | "months" => LifetimeUnit::Month,
        "y" | "yr" | "yrs" | "year" | "years" => LifetimeUnit::Year,
        "m" | "min" | "mins" => {
            return Err(format!(
                "\"{word}\" is ambiguous (minutes or months?); write \"months\" (or \"mo\"); lifetimes are counted in hours at the shortest"
            ));
        }
        "minute" | "minutes" | "s" | "sec" | "secs" | "second" | "seconds" => {
            return Err(format!(
                "TrueNAS keeps snapshots for whole hours, days, weeks, months or years, not {w}"
            ));
        }
        "" => return Err(format!("the lifetime has no unit; {FORMAT_HINT}")),
        _ => {
            return Err(format!(
                "unknown lifetime unit \"{word}\"; use hours, days, weeks, months or years"
            ));
        }
    })
}

/// Parses `"2 weeks"`, `"1 week"`, `"36 hours"`, `"2w"`, `"36h"` …
pub fn parse(text: &str) -> Result<Lifetime, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("the lifetime is empty; {FORMAT_HINT}"));
    }
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, rest) = t.split_at(digits_end);
    if number.is_empty() {
        return Err(format!(
            "\"{t}\" does not start with a number; {FORMAT_HINT}"
        ));
    }
    let unit_text = rest.trim_start();
    if unit_text.contains(char::is_whitespace) {
        return Err(format!("\"{t}\" is not a lifetime; {FORMAT_HINT}"));
    }
    let unit = unit_of(unit_text)?;
    let digits = number.trim_start_matches('0');
    let max = unit.max_value();
    let value = if digits.is_empty() {
        0
    } else if digits.len() > 9 {
        u32::MAX
    } else {
        digits.parse::<u32>().unwrap_or(u32::MAX)
    };
    if value == 0 {
        return Err(format!(
            "a lifetime must be at least 1 {}; \"{t}\" would delete snapshots as soon as they are taken",
            unit.singular()
        ));
    }
    if value > max {
        return Err(format!(
            "a lifetime of \"{t}\" is too long; the most is {max} {}s (100 years)",
            unit.singular()
        ));
    }
    Ok(Lifetime { value, unit })
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.value == 1 { "" } else { "s" };
        write!(f, "{} {}{plural}", self.value, self.unit.singular())
    }
}

impl Lifetime {
    /// How long a snapshot is kept, as the middleware hands it to zettarepl
    /// (`plugins/zettarepl.py` `lifetime_timedelta`): a month is 30 days and a year 365
    /// days, not calendar months. Saturates instead of overflowing.
    pub fn as_duration(&self) -> Duration {
        let v = i64::from(self.value);
        let d = match self.unit {
            LifetimeUnit::Hour => Duration::try_hours(v),
            LifetimeUnit::Day => Duration::try_days(v),
            LifetimeUnit::Week => Duration::try_weeks(v),
            LifetimeUnit::Month => Duration::try_days(v * 30),
            LifetimeUnit::Year => Duration::try_days(v * 365),
        };
        d.unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(value: u32, unit: LifetimeUnit) -> Lifetime {
        Lifetime { value, unit }
    }

    #[test]
    fn parses_words_and_short_forms_without_converting_units() {
        use LifetimeUnit::*;
        let cases = [
            ("2 weeks", lt(2, Week)),
            ("1 week", lt(1, Week)),
            ("36 hours", lt(36, Hour)),
            ("3 days", lt(3, Day)),
            ("14 days", lt(14, Day)),
            ("6 months", lt(6, Month)),
            ("1 year", lt(1, Year)),
            ("2w", lt(2, Week)),
            ("36h", lt(36, Hour)),
            ("3d", lt(3, Day)),
            ("1y", lt(1, Year)),
            ("6mo", lt(6, Month)),
            ("  2  WEEK ", lt(2, Week)),
            ("24 hours", lt(24, Hour)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn rejects_ambiguous_minutes_with_a_clear_message() {
        assert_eq!(
            parse("5m"),
            Err("\"m\" is ambiguous (minutes or months?); write \"months\" (or \"mo\"); lifetimes are counted in hours at the shortest".to_string())
        );
        assert!(
            parse("5 min")
                .unwrap_err()
                .starts_with("\"min\" is ambiguous")
        );
        assert_eq!(
            parse("30 minutes"),
            Err("TrueNAS keeps snapshots for whole hours, days, weeks, months or years, not minutes".to_string())
        );
    }

    #[test]
    fn rejects_zero_huge_and_malformed_values() {
        assert_eq!(
            parse("0 days"),
            Err("a lifetime must be at least 1 day; \"0 days\" would delete snapshots as soon as they are taken".to_string())
        );
        assert_eq!(
            parse("101 years"),
            Err(
                "a lifetime of \"101 years\" is too long; the most is 100 years (100 years)"
                    .to_string()
            )
        );
        assert!(
            parse("99999999999999999999 days")
                .unwrap_err()
                .contains("too long")
        );
        assert!(
            parse("weeks")
                .unwrap_err()
                .starts_with("\"weeks\" does not start with a number")
        );
        assert!(
            parse("2")
                .unwrap_err()
                .starts_with("the lifetime has no unit")
        );
        assert!(
            parse("2 fortnights")
                .unwrap_err()
                .starts_with("unknown lifetime unit \"fortnights\"")
        );
        assert!(parse("-2 days").is_err());
        assert!(parse("2.5 days").is_err());
        assert!(parse("2 big weeks").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn displays_singular_and_plural() {
        assert_eq!(lt(2, LifetimeUnit::Week).to_string(), "2 weeks");
        assert_eq!(lt(1, LifetimeUnit::Week).to_string(), "1 week");
        assert_eq!(lt(36, LifetimeUnit::Hour).to_string(), "36 hours");
        assert_eq!(lt(1, LifetimeUnit::Year).to_string(), "1 year");
        for text in [
            "2 weeks", "1 week", "36 hours", "3 days", "6 months", "1 year",
        ] {
            assert_eq!(parse(text).map(|l| l.to_string()), Ok(text.to_string()));
        }
    }

    #[test]
    fn durations_follow_the_middleware() {
        assert_eq!(
            lt(36, LifetimeUnit::Hour).as_duration(),
            Duration::hours(36)
        );
        assert_eq!(lt(3, LifetimeUnit::Day).as_duration(), Duration::days(3));
        assert_eq!(lt(2, LifetimeUnit::Week).as_duration(), Duration::days(14));
        assert_eq!(
            lt(6, LifetimeUnit::Month).as_duration(),
            Duration::days(180)
        );
        assert_eq!(lt(1, LifetimeUnit::Year).as_duration(), Duration::days(365));
        assert_eq!(
            lt(u32::MAX, LifetimeUnit::Year).as_duration(),
            Duration::MAX
        );
    }

    #[test]
    fn serialises_as_the_truenas_pair() {
        let json = serde_json::to_string(&lt(2, LifetimeUnit::Week)).unwrap();
        assert_eq!(json, r#"{"value":2,"unit":"WEEK"}"#);
        assert_eq!(LifetimeUnit::Month.as_truenas(), "MONTH");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = parse(&s);
        }

        #[test]
        fn display_round_trips(value in 1u32..=100, unit in 0usize..5) {
            let unit = [LifetimeUnit::Hour, LifetimeUnit::Day, LifetimeUnit::Week, LifetimeUnit::Month, LifetimeUnit::Year][unit];
            let l = lt(value, unit);
            proptest::prop_assert_eq!(parse(&l.to_string()), Ok(l));
        }
    }
}
