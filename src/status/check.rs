//! `status --check`: the fleet judged for Nagios, Icinga and their kin. One summary line
//! with performance data, then one line per finding (the plugin's long output); the exit
//! code is the service state.
//!
//! | finding | state |
//! |---|---|
//! | a task in ERROR, or whose last run FAILED | CRITICAL |
//! | a scheduled replication whose newest replicated snapshot is older than `--critical-age` | CRITICAL |
//! | a system that cannot be read (unreachable, refused, timed out) | UNKNOWN |
//! | a scheduled replication older than `--max-age`, or that never replicated anything | WARNING |
//! | a task on HOLD (pool missing or offline, replication paused) | WARNING |
//! | a managed task disabled on its system while the config enables it | WARNING |
//!
//! The worst finding wins, in Icinga's order: CRITICAL, UNKNOWN, WARNING, OK.

use serde::Serialize;

use super::{SystemStatus, TaskRow};
use crate::client::shown::printable;

/// A Nagios plugin state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl Level {
    /// The plugin exit code.
    pub fn code(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }

    /// Severity for "the worst wins": an unknown system outranks a warning, a critical
    /// finding outranks both.
    fn rank(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Unknown => 2,
            Level::Critical => 3,
        }
    }
}

/// Ages in seconds that make a replication stale.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub warning_secs: i64,
    pub critical_secs: Option<i64>,
    /// No `--max-age` given: a replication scheduled less often than the default allows is
    /// judged by its own schedule.
    pub by_schedule: bool,
}

/// `--max-age`'s default: a daily replication two hours late.
pub const DEFAULT_MAX_AGE_SECS: i64 = 26 * 3600;

/// How late a run may be beyond its schedule before its task is stale.
pub const SCHEDULE_SLACK_SECS: i64 = 2 * 3600;

impl Thresholds {
    /// Without `--max-age`, a task whose newest snapshot is older than the default allows,
    /// but whose next scheduled run after it is not due yet by more than
    /// [`SCHEDULE_SLACK_SECS`], is judged by its schedule (a weekly replication is not stale
    /// after 26 hours, nor an hourly weekday one over the weekend): both limits become at
    /// least that gap plus the slack. A given `--max-age` is the admin's word for every task.
    pub fn for_next_run_gap(self, next_run_gap_secs: Option<i64>) -> Thresholds {
        match next_run_gap_secs {
            Some(gap) if self.by_schedule => {
                let floor = gap.saturating_add(SCHEDULE_SLACK_SECS);
                Thresholds {
                    warning_secs: self.warning_secs.max(floor),
                    critical_secs: self.critical_secs.map(|c| c.max(floor)),
                    ..self
                }
            }
            _ => self,
        }
    }
}

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
struct Counts {
    systems: usize,
    unreachable: usize,
    tasks: usize,
    failed: usize,
    stale: usize,
    held: usize,
    disabled: usize,
    /// Oldest recovery point among scheduled, enabled replications, seconds.
    oldest: Option<i64>,
}

fn who(t: &TaskRow) -> String {
    let kind = if t.kind == "replication" {
        "replication"
    } else {
        "snapshot task"
    };
    format!("{}: {kind} {}", t.system, printable(&t.name))
}

/// `93600` → `26h`, `5400` → `1h30m`, `90` → `1m30s`.
pub fn human_secs(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m{s}s"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h{m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d{h}h"),
    }
}

fn task_findings(t: &TaskRow, limits: Thresholds, c: &mut Counts, out: &mut Vec<Finding>) {
    c.tasks += 1;
    let reason = t
        .reason
        .as_deref()
        .map(|r| format!(": {}", printable(r)))
        .unwrap_or_default();
    match t.state.as_str() {
        "ERROR" | "FAILED" => {
            c.failed += 1;
            out.push(Finding {
                level: Level::Critical,
                text: format!("{} {}{reason}", who(t), t.state),
            });
        }
        "HOLD" => {
            c.held += 1;
            out.push(Finding {
                level: Level::Warning,
                text: format!("{} HOLD{reason}", who(t)),
            });
        }
        _ => {}
    }
    let wanted_on = t.config_enabled == Some(true);
    if !t.enabled && wanted_on {
        c.disabled += 1;
        out.push(Finding {
            level: Level::Warning,
            text: format!(
                "{} is disabled on the system; the config enables it",
                who(t)
            ),
        });
    }
    // Staleness is judged for replications that run by themselves and are meant to.
    if t.kind != "replication" || !t.enabled || !t.scheduled {
        return;
    }
    let limits = limits.for_next_run_gap(t.next_run_gap_secs);
    match t.last_snapshot_age_secs {
        Some(age) => {
            c.oldest = Some(c.oldest.map_or(age, |o| o.max(age)));
            let level = match limits.critical_secs {
                Some(crit) if age > crit => Level::Critical,
                _ if age > limits.warning_secs => Level::Warning,
                _ => return,
            };
            c.stale += 1;
            out.push(Finding {
                level,
                text: format!(
                    "{} last replicated snapshot is {} old (limit {})",
                    who(t),
                    human_secs(age),
                    human_secs(match level {
                        Level::Critical => limits.critical_secs.unwrap_or(limits.warning_secs),
                        _ => limits.warning_secs,
                    })
                ),
            });
        }
        None if t.state != "RUNNING" => {
            c.stale += 1;
            out.push(Finding {
                level: Level::Warning,
                text: format!("{} has replicated no snapshot yet", who(t)),
            });
        }
        None => {}
    }
}

/// The verdict: the exit state, the text to print (summary line, then findings).
pub fn judge(systems: &[SystemStatus], limits: Thresholds) -> (Level, String) {
    let mut c = Counts {
        systems: systems.len(),
        ..Counts::default()
    };
    let mut findings = Vec::new();
    for s in systems {
        match &s.error {
            Some(e) => {
                c.unreachable += 1;
                findings.push(Finding {
                    level: Level::Unknown,
                    text: format!(
                        "{}: cannot be read: {} [{}]",
                        s.name,
                        printable(&e.message),
                        e.code
                    ),
                });
            }
            None => {
                for t in &s.tasks {
                    task_findings(t, limits, &mut c, &mut findings);
                }
            }
        }
    }
    let level = findings
        .iter()
        .map(|f| f.level)
        .max_by_key(|l| l.rank())
        .unwrap_or(Level::Ok);
    let mut parts = Vec::new();
    let mut add = |n: usize, what: &str| {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    };
    add(c.failed, "failed");
    add(c.stale, "stale");
    add(c.held, "on hold");
    add(c.disabled, "disabled");
    add(c.unreachable, "unreadable");
    let head = if parts.is_empty() {
        format!(
            "{} on {}",
            crate::diag::count(c.tasks, "task", "tasks"),
            crate::diag::count(c.systems, "system", "systems")
        )
    } else {
        format!(
            "{} of {} on {}",
            parts.join(", "),
            crate::diag::count(c.tasks, "task", "tasks"),
            crate::diag::count(c.systems, "system", "systems")
        )
    };
    let crit = limits
        .critical_secs
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut perf = format!(
        "systems={} unreadable={} tasks={} failed={} stale={} hold={} disabled={}",
        c.systems, c.unreachable, c.tasks, c.failed, c.stale, c.held, c.disabled
    );
    if let Some(oldest) = c.oldest {
        perf.push_str(&format!(
            " oldest_rpo={oldest}s;{};{crit};0",
            limits.warning_secs
        ));
    }
    let mut text = format!("ZFLEET {} - {head} | {perf}\n", level.word());
    // Worst first, then in fleet order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.level.rank()));
    for f in findings {
        text.push_str(&format!("{}: {}\n", f.level.word(), f.text));
    }
    (level, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        assert_eq!(human_secs(93_600), "1d2h");
        assert_eq!(human_secs(5400), "1h30m");
        assert_eq!(human_secs(3600), "1h");
        assert_eq!(human_secs(90), "1m30s");
        assert_eq!(human_secs(45), "45s");
        assert_eq!(human_secs(172_800), "2d");
    }

    #[test]
    fn worst_state_wins_in_icingas_order() {
        let worst = |ls: &[Level]| ls.iter().copied().max_by_key(|l| l.rank());
        assert_eq!(
            worst(&[Level::Warning, Level::Unknown]),
            Some(Level::Unknown)
        );
        assert_eq!(
            worst(&[Level::Unknown, Level::Critical]),
            Some(Level::Critical)
        );
    }
}
