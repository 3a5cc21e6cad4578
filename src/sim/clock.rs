//! The fleet's simulated clock: real time plus an offset kept in the fleet directory
//! (`DIR/.clock.json`), so every system of a fleet agrees on "now" and `zfleet sim advance`
//! can move the whole fleet forward at once. Each system's state follows this offset the
//! next time the engine looks at it ([`super::jobs::tick`]).

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::faults::write_atomic;
use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::sim::duration_invalid",
        summary: "a duration given to `zfleet sim advance` is not like 90s, 15m, 2h, 3d or 1w",
    },
    CodeInfo {
        code: "zfleet::sim::clock_io",
        summary: "the fleet's clock file could not be read or written",
    },
];

/// How long a replication job takes in real time by default.
pub const DEFAULT_JOB_MS: u64 = 1000;

/// Fleet-wide engine settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetClock {
    /// Seconds added to real time.
    pub offset_secs: i64,
    /// Real milliseconds a replication job runs before it completes (polls also move it).
    pub job_ms: u64,
}

impl Default for FleetClock {
    fn default() -> Self {
        FleetClock {
            offset_secs: 0,
            job_ms: DEFAULT_JOB_MS,
        }
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(".clock.json")
}

/// The fleet's clock; `None` when no clock file exists (systems keep their own clocks).
pub fn load(dir: &Path) -> Option<FleetClock> {
    let text = std::fs::read_to_string(path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn store(dir: &Path, clock: &FleetClock) -> Result<(), Problem> {
    let text = serde_json::to_string_pretty(clock).map_err(|e| {
        Problem::error("zfleet::sim::clock_io", format!("cannot encode clock: {e}"))
    })?;
    write_atomic(&path(dir), text.as_bytes())
}

/// Sets how long replication jobs take in real time (tests use a few milliseconds).
pub fn set_job_ms(dir: &Path, job_ms: u64) -> Result<(), Problem> {
    let mut c = load(dir).unwrap_or_default();
    c.job_ms = job_ms;
    store(dir, &c)
}

/// Parses `90s`, `15m`, `2h`, `3d`, `1w` (or combinations like `1d12h`) into seconds.
pub fn parse_duration(text: &str) -> Result<i64, Problem> {
    let bad = || {
        Problem::error(
            "zfleet::sim::duration_invalid",
            format!("`{text}` is not a duration"),
        )
        .help("write a number and a unit: 90s, 15m, 2h, 3d, 1w (or combined, like 1d12h)")
    };
    crate::model::duration::parse_units(text)
        .and_then(|s| i64::try_from(s).ok())
        .ok_or_else(bad)
}

/// Moves the fleet clock forward by `secs` and returns the new offset.
pub fn advance_offset(dir: &Path, secs: i64) -> Result<i64, Problem> {
    let mut c = load(dir).unwrap_or_default();
    c.offset_secs = c.offset_secs.saturating_add(secs);
    store(dir, &c)?;
    Ok(c.offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h").unwrap(), 7200);
        assert_eq!(parse_duration("1d12h").unwrap(), 129_600);
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration("1w").unwrap(), 604_800);
        for bad in ["", "2", "h", "2x", "-1h", "99999999999999999999w"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn offset_accumulates() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_none());
        assert_eq!(advance_offset(dir.path(), 3600).unwrap(), 3600);
        set_job_ms(dir.path(), 5).unwrap();
        assert_eq!(advance_offset(dir.path(), 60).unwrap(), 3660);
        assert_eq!(
            load(dir.path()).unwrap(),
            FleetClock {
                offset_secs: 3660,
                job_ms: 5
            }
        );
    }
}
