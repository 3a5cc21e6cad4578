//! How a replication is doing, from its live task: zettarepl's `state` (truenas-api.md
//! §6.4) and its schedule, judged by the system's own clock and timezone.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::client::Replication;
use crate::inventory::Inventory;
use crate::model::TnSchedule;
use crate::plan::fields::live_schedule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// The last run finished and no scheduled run has been missed since.
    Fresh,
    /// A scheduled run was missed since the last one finished, or no run is recorded.
    Stale,
    /// The last run failed, or the task is held (ERROR, FAILED, HOLD).
    Failed,
    /// Nothing is known: the system was not read, or the task does not exist there.
    Unknown,
}

impl Health {
    pub fn word(self) -> &'static str {
        match self {
            Health::Fresh => "fresh",
            Health::Stale => "stale",
            Health::Failed => "failed",
            Health::Unknown => "unknown",
        }
    }

    /// The colour of the edge in every output format.
    pub fn colour(self) -> &'static str {
        match self {
            Health::Fresh => "#2e7d32",
            Health::Stale => "#e08a00",
            Health::Failed => "#c62828",
            Health::Unknown => "#8a8a8a",
        }
    }
}

/// A replication's health with the words that explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub health: Health,
    /// `ok 30 min ago`, `stale: last run 9 d ago`, `failed 2 h ago`, `running`.
    pub status: String,
    /// TrueNAS's own text for a failure or a hold.
    pub reason: Option<String>,
}

/// Judges `rep` as found on `inv`; `fallback_now` stands in for a system that did not
/// say what time it is.
pub fn classify(rep: &Replication, inv: &Inventory, fallback_now: DateTime<Utc>) -> Judged {
    let now = inv.info.datetime.map_or(fallback_now, |d| d.0);
    let tz: chrono_tz::Tz = inv
        .info
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let when = rep.state.datetime.map(|d| d.0);
    let ago = |t: Option<DateTime<Utc>>| t.map(|t| format!(" {}", ago(now, t))).unwrap_or_default();
    let (health, status, reason) = match rep.state.state.as_str() {
        "ERROR" | "FAILED" => (
            Health::Failed,
            format!("failed{}", ago(when)),
            rep.state
                .error
                .clone()
                .or_else(|| rep.job.as_ref().and_then(|j| j.error.clone())),
        ),
        "HOLD" => (Health::Failed, "on hold".into(), rep.state.reason.clone()),
        "RUNNING" => (Health::Fresh, format!("running since{}", ago(when)), None),
        "WAITING" => (Health::Fresh, "waiting".into(), rep.state.reason.clone()),
        "FINISHED" => match when {
            Some(t) if missed_a_run(rep, inv, t, now, tz) => {
                (Health::Stale, format!("stale: last run{}", ago(when)), None)
            }
            _ => (Health::Fresh, format!("ok{}", ago(when)), None),
        },
        // PENDING: no run since the middleware started (≤25.04 forgets runs on restart).
        _ => (Health::Stale, "no run recorded".into(), None),
    };
    let status = if rep.enabled {
        status
    } else {
        format!("{status}, disabled")
    };
    Judged {
        health,
        status,
        reason,
    }
}

/// Whether a run the task's schedule asked for came and went since `last` (the next
/// scheduled run after it has passed, and so has the one after that, by which time it
/// should have finished). A task run by hand only is never late.
fn missed_a_run(
    rep: &Replication,
    inv: &Inventory,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> bool {
    if !rep.auto {
        return false;
    }
    let schedules: Vec<TnSchedule> = match &rep.schedule {
        Some(s) => vec![live_schedule(s)],
        // Run by its periodic snapshot tasks: when any of them fires.
        None => inv
            .snapshot_tasks
            .iter()
            .filter(|t| t.enabled && rep.periodic_snapshot_tasks.contains(&t.id))
            .map(|t| live_schedule(&t.schedule))
            .collect(),
    };
    let last = last.with_timezone(&tz).naive_local();
    let now = now.with_timezone(&tz).naive_local();
    schedules.iter().any(|s| {
        s.next_after(last)
            .and_then(|first| s.next_after(first))
            .is_some_and(|second| second <= now)
    })
}

/// `just now`, `12 min ago`, `3 h ago`, `9 d ago`.
pub fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    match secs {
        s if s < 0 => "in the future".into(),
        s if s < 60 => "just now".into(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 2 * 86400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 30, h, m, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(ago(at(13, 30), at(13, 30)), "just now");
        assert_eq!(ago(at(13, 30), at(13, 0)), "30 min ago");
        assert_eq!(ago(at(13, 30), at(1, 0)), "12 h ago");
        assert_eq!(ago(at(13, 30), at(13, 31)), "in the future");
    }
}
