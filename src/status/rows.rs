//! One row per task: what the system says about it (zettarepl's state, the last job, the
//! schedule) joined with what zfleet knows (who owns it, where its target lives, which
//! snapshots it made or sent).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::read::SystemRead;
use crate::client::{Replication, Schedule, SnapshotTask};
use crate::model::{Config, naming, schedule};
use crate::plan::fields::{live_schedule, show_schedule};
use crate::plan::ledger::{self, Kind};

/// Who a task belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "owner", content = "project")]
pub enum Owner {
    /// Recorded by this config's project.
    Managed,
    /// Recorded by no project.
    Unmanaged,
    /// Recorded by another project.
    Project(String),
}

/// A job's progress as the middleware reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub percent: Option<f64>,
    pub description: Option<String>,
}

/// One task of one system (the `--json` shape of a task).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRow {
    pub system: String,
    /// `snapshot_task` or `replication`.
    pub kind: &'static str,
    pub id: i64,
    /// The config's name when zfleet manages it; else TrueNAS's name (a replication's) or
    /// the dataset (a snapshot task's).
    pub name: String,
    #[serde(flatten)]
    pub owner: Owner,
    pub enabled: bool,
    /// What the config says about `enabled` (managed tasks the config still declares).
    pub config_enabled: Option<bool>,
    pub sources: Vec<String>,
    /// `system:dataset` where zfleet knows the system, else the dataset.
    pub target: Option<String>,
    /// A preset name, `after snapshot tasks`, `manual`, or the cron fields.
    pub schedule: String,
    /// Whether the task runs on its own (a schedule, or after its snapshot tasks).
    pub scheduled: bool,
    /// PENDING, WAITING, RUNNING, FINISHED, HOLD, ERROR, or FAILED (the last run's job
    /// failed before zettarepl took the task up).
    pub state: String,
    /// When the task last ran (when it entered its state).
    pub last_run: Option<DateTime<Utc>>,
    pub progress: Option<Progress>,
    /// ERROR's error, FAILED's job error, HOLD's and WAITING's reason: TrueNAS's text.
    pub reason: Option<String>,
    pub warnings: Vec<String>,
    /// The newest snapshot the task made (snapshot task) or sent (replication, as found on
    /// its target when zfleet can read the target).
    pub last_snapshot: Option<String>,
    pub last_snapshot_time: Option<DateTime<Utc>>,
    /// Seconds from the last snapshot's time to the system's clock: the recovery point age.
    pub last_snapshot_age_secs: Option<i64>,
    /// In the system's timezone.
    pub next_run: Option<String>,
    /// From the newest snapshot to the first run scheduled after it (a replication that
    /// runs after its snapshot tasks: their soonest), for `--check`.
    #[serde(skip)]
    pub next_run_gap_secs: Option<i64>,
}

/// Everything the rows of one system need from the others: the snapshots read on every
/// system, by system name.
pub struct Fleet<'a> {
    pub config: &'a Config,
    pub reads: BTreeMap<&'a str, &'a SystemRead>,
}

/// The system's clock (its own answer; ours if it gave none).
pub fn now_of(read: &SystemRead) -> DateTime<Utc> {
    read.info.datetime.map(|d| d.0).unwrap_or_else(Utc::now)
}

pub fn tz_of(read: &SystemRead) -> Tz {
    read.info
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// `hourly` … `monthly` when the schedule is exactly that preset, else its fields.
pub fn schedule_text(s: &Schedule) -> String {
    let live = live_schedule(s);
    let key = schedule::canonical(&live).ok();
    for preset in ["hourly", "daily", "weekly", "monthly"] {
        let same = schedule::resolve_text(preset)
            .ok()
            .and_then(|p| schedule::canonical(&p).ok());
        if key.is_some() && same == key {
            return preset.to_string();
        }
    }
    show_schedule(&live)
}

/// The first run after `now`, in the system's timezone.
fn next_run(s: &Schedule, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Tz>> {
    let local = now.with_timezone(&tz).naive_local();
    let next = live_schedule(s).next_after(local)?;
    local_to_tz(next, tz)
}

/// Seconds from `since` (the newest snapshot's time) to the first run scheduled after it:
/// how long a healthy task may go without a new snapshot, this time (a weekend or a
/// window's night included).
fn gap_after(s: &Schedule, since: DateTime<Utc>, tz: Tz) -> Option<i64> {
    let next = next_run(s, since, tz)?;
    Some((next.with_timezone(&Utc) - since).num_seconds())
}

fn local_to_tz(t: NaiveDateTime, tz: Tz) -> Option<DateTime<Tz>> {
    // A time skipped by a DST step forward does not exist; the next hour does.
    tz.from_local_datetime(&t)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(t + Duration::hours(1))).earliest())
}

pub fn show_time(t: DateTime<Tz>) -> String {
    t.format("%Y-%m-%d %H:%M %Z").to_string()
}

/// The newest of `names` (after the `@`) that one of `schemas` parses, with its time in `tz`.
pub fn newest<'a>(
    names: impl Iterator<Item = &'a str>,
    schemas: &[String],
    tz: Tz,
) -> Option<(String, DateTime<Utc>)> {
    let mut best: Option<(String, DateTime<Utc>)> = None;
    for name in names {
        let Some(t) = schemas.iter().find_map(|s| naming::parse(s, name)) else {
            continue;
        };
        let Some(t) = local_to_tz(t, tz).map(|t| t.with_timezone(&Utc)) else {
            continue;
        };
        if best.as_ref().is_none_or(|(_, b)| t > *b) {
            best = Some((name.to_string(), t));
        }
    }
    best
}

/// Ownership of every task of a system: (kind, id) → (project, zfleet name).
fn owners(read: &SystemRead) -> BTreeMap<(Kind, i64), (String, String)> {
    ledger::read_datasets(&read.datasets)
        .into_iter()
        .filter_map(|r| Some(((r.kind, r.id?), (r.project, r.name))))
        .collect()
}

fn owner_of(
    config: &Config,
    owners: &BTreeMap<(Kind, i64), (String, String)>,
    kind: Kind,
    id: i64,
) -> (Owner, Option<String>) {
    match owners.get(&(kind, id)) {
        Some((project, name)) if *project == config.project => (Owner::Managed, Some(name.clone())),
        Some((project, _)) => (Owner::Project(project.clone()), None),
        None => (Owner::Unmanaged, None),
    }
}

/// The zettarepl state, or FAILED when the last job failed without zettarepl recording an
/// error (a run refused before it started: `[EFAULT] Task is not enabled`).
fn state_of(
    rep: Option<&Replication>,
    state: &crate::client::TaskState,
) -> (String, Option<String>) {
    let s = if state.state.is_empty() {
        "PENDING".to_string()
    } else {
        state.state.to_ascii_uppercase()
    };
    let reason = state.error.clone().or_else(|| state.reason.clone());
    if let Some(job) = rep.and_then(|r| r.job.as_ref())
        && matches!(job.state.as_str(), "FAILED" | "ABORTED")
        && !matches!(s.as_str(), "ERROR" | "RUNNING" | "WAITING")
    {
        let newer = match (job.time_finished, state.datetime) {
            (Some(j), Some(s)) => j.0 >= s.0,
            _ => true,
        };
        if newer {
            return ("FAILED".into(), job.error.clone().or(reason));
        }
    }
    (s, reason)
}

fn age(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| (now - t).num_seconds().max(0))
}

/// The rows of one system, snapshot tasks first, each kind by id.
pub fn rows(system: &str, read: &SystemRead, fleet: &Fleet<'_>) -> Vec<TaskRow> {
    let now = now_of(read);
    let tz = tz_of(read);
    let owners = owners(read);
    let mut out = Vec::new();
    let mut tasks: Vec<&SnapshotTask> = read.snapshot_tasks.iter().collect();
    tasks.sort_by_key(|t| t.id);
    for t in tasks {
        out.push(snapshot_row(system, read, fleet, &owners, t, now, tz));
    }
    let mut reps: Vec<&Replication> = read.replications.iter().collect();
    reps.sort_by_key(|r| r.id);
    for r in reps {
        out.push(replication_row(system, read, fleet, &owners, r, now, tz));
    }
    out
}

fn snapshot_row(
    system: &str,
    read: &SystemRead,
    fleet: &Fleet<'_>,
    owners: &BTreeMap<(Kind, i64), (String, String)>,
    t: &SnapshotTask,
    now: DateTime<Utc>,
    tz: Tz,
) -> TaskRow {
    let (owner, managed_name) = owner_of(fleet.config, owners, Kind::SnapshotTask, t.id);
    let config_enabled = managed_name
        .as_ref()
        .and_then(|n| fleet.config.snapshot_tasks.get(n))
        .map(|c| c.enabled);
    let (state, reason) = state_of(None, &t.state);
    let schemas = [t.naming_schema.clone()];
    let found = newest(read.snapshots_of(&t.dataset), &schemas, tz).or_else(|| {
        // 25.10 remembers the task's last snapshot even where zfleet read no snapshots.
        let last = t.state.last_snapshot.as_deref()?;
        let (_, name) = last.split_once('@')?;
        newest(std::iter::once(name), &schemas, tz)
    });
    let next = t
        .enabled
        .then(|| next_run(&t.schedule, now, tz))
        .flatten()
        .map(show_time);
    let next_run_gap_secs = found
        .as_ref()
        .and_then(|(_, at)| gap_after(&t.schedule, *at, tz));
    let mut source = t.dataset.clone();
    if t.recursive {
        source.push_str(" (recursive)");
    }
    TaskRow {
        system: system.to_string(),
        kind: "snapshot_task",
        id: t.id,
        name: managed_name.unwrap_or_else(|| t.dataset.clone()),
        owner,
        enabled: t.enabled,
        config_enabled,
        sources: vec![source],
        target: None,
        schedule: schedule_text(&t.schedule),
        scheduled: true,
        state,
        last_run: t.state.datetime.map(|d| d.0),
        progress: None,
        reason,
        warnings: t.state.warnings.clone().unwrap_or_default(),
        last_snapshot: found.as_ref().map(|(n, _)| format!("{}@{n}", t.dataset)),
        last_snapshot_time: found.as_ref().map(|(_, t)| *t),
        last_snapshot_age_secs: age(now, found.map(|(_, t)| t)),
        next_run: next,
        next_run_gap_secs,
    }
}

/// The naming schemas of the snapshots a replication sends.
fn replication_schemas(read: &SystemRead, r: &Replication) -> Vec<String> {
    let mut out: Vec<String> = r
        .periodic_snapshot_tasks
        .iter()
        .filter_map(|id| read.snapshot_tasks.iter().find(|t| t.id == *id))
        .map(|t| t.naming_schema.clone())
        .collect();
    out.extend(r.naming_schema.iter().cloned());
    out.extend(r.also_include_naming_schema.iter().cloned());
    out.sort();
    out.dedup();
    out
}

#[allow(clippy::too_many_arguments)]
fn replication_row(
    system: &str,
    read: &SystemRead,
    fleet: &Fleet<'_>,
    owners: &BTreeMap<(Kind, i64), (String, String)>,
    r: &Replication,
    now: DateTime<Utc>,
    tz: Tz,
) -> TaskRow {
    let (owner, managed_name) = owner_of(fleet.config, owners, Kind::Replication, r.id);
    let desired = managed_name
        .as_ref()
        .and_then(|n| fleet.config.replications.get(n));
    let (state, reason) = state_of(Some(r), &r.state);
    let local = r.transport == "LOCAL";
    let pull = r.direction == "PULL";
    // Where the target's snapshots can be read: here, or on the config's target system.
    let target_system: Option<&str> = if local || pull {
        Some(system)
    } else {
        desired.map(|d| d.target.system.as_str())
    };
    let remote_source: Option<String> = if pull {
        desired
            .and_then(|d| d.sources.first())
            .map(|s| s.system.clone())
    } else {
        None
    };
    let schemas = replication_schemas(read, r);
    let found = target_system
        .and_then(|s| fleet.reads.get(s))
        .and_then(|t| newest(t.snapshots_of(&r.target_dataset), &schemas, tz))
        .map(|(n, t)| (format!("{}@{n}", r.target_dataset), t))
        .or_else(|| {
            // The target is out of reach: zettarepl's own record of what it sent last.
            let last = r.state.last_snapshot.as_deref()?;
            let (_, name) = last.split_once('@')?;
            newest(std::iter::once(name), &schemas, tz).map(|(_, t)| (last.to_string(), t))
        });
    let progress = (state == "RUNNING").then(|| running_progress(r)).flatten();
    let since = found.as_ref().map(|(_, at)| *at);
    let (schedule, next, scheduled, gap) = match (&r.auto, &r.schedule) {
        (false, _) => ("manual".to_string(), None, false, None),
        (true, Some(s)) => (
            schedule_text(s),
            r.enabled.then(|| next_run(s, now, tz)).flatten(),
            true,
            since.and_then(|at| gap_after(s, at, tz)),
        ),
        (true, None) => {
            // Runs when its snapshot tasks have taken their snapshots.
            let bound: Vec<_> = r
                .periodic_snapshot_tasks
                .iter()
                .filter_map(|id| read.snapshot_tasks.iter().find(|t| t.id == *id))
                .filter(|t| t.enabled && r.enabled)
                .collect();
            let next = bound
                .iter()
                .filter_map(|t| next_run(&t.schedule, now, tz))
                .min();
            let gap = bound
                .iter()
                .filter_map(|t| since.and_then(|at| gap_after(&t.schedule, at, tz)))
                .min();
            ("after snapshot tasks".to_string(), next, true, gap)
        }
    };
    let target = match target_system {
        Some(s) if !local && !pull => format!("{s}:{}", r.target_dataset),
        _ if !local && !pull => format!("(remote) {}", r.target_dataset),
        _ => r.target_dataset.clone(),
    };
    let sources = r
        .source_datasets
        .iter()
        .map(|d| match (&remote_source, pull) {
            (Some(s), _) => format!("{s}:{d}"),
            (None, true) => format!("(remote) {d}"),
            (None, false) => d.clone(),
        })
        .collect();
    TaskRow {
        system: system.to_string(),
        kind: "replication",
        id: r.id,
        name: managed_name.unwrap_or_else(|| r.name.clone()),
        owner,
        enabled: r.enabled,
        config_enabled: desired.map(|d| d.enabled),
        sources,
        target: Some(target),
        schedule,
        scheduled,
        state,
        last_run: r.state.datetime.map(|d| d.0),
        progress,
        reason,
        warnings: r.state.warnings.clone().unwrap_or_default(),
        last_snapshot: found.as_ref().map(|(n, _)| n.clone()),
        last_snapshot_time: found.as_ref().map(|(_, t)| *t),
        last_snapshot_age_secs: age(now, found.map(|(_, t)| t)),
        next_run: next.map(show_time),
        next_run_gap_secs: gap,
    }
}

/// The running job's progress; zettarepl's own counts when the job is not at hand.
fn running_progress(r: &Replication) -> Option<Progress> {
    if let Some(job) = r.job.as_ref().filter(|j| j.state == "RUNNING") {
        return Some(Progress {
            percent: job.progress.percent,
            description: job.progress.description.clone(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(minute: &str, hour: &str, dow: &str) -> Schedule {
        Schedule {
            minute: minute.into(),
            hour: hour.into(),
            dom: "*".into(),
            month: "*".into(),
            dow: dow.into(),
            begin: Some("00:00".into()),
            end: Some("23:59".into()),
        }
    }

    #[test]
    fn presets_are_named() {
        assert_eq!(schedule_text(&sched("0", "*", "*")), "hourly");
        assert_eq!(schedule_text(&sched("00", "0", "*")), "daily");
        assert_eq!(schedule_text(&sched("15", "*/2", "*")), "15 */2 * * *");
    }

    #[test]
    fn next_run_is_in_the_systems_timezone_and_window() {
        let now = Utc.with_ymd_and_hms(2025, 10, 30, 13, 30, 0).unwrap();
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let hourly = sched("0", "*", "*");
        let next = next_run(&hourly, now, tz).unwrap();
        assert_eq!(show_time(next), "2025-10-30 15:00 CET");
        let mut windowed = hourly.clone();
        windowed.begin = Some("20:00".into());
        windowed.end = Some("22:00".into());
        assert_eq!(
            show_time(next_run(&windowed, now, tz).unwrap()),
            "2025-10-30 20:00 CET"
        );
    }

    #[test]
    fn newest_snapshot_by_the_time_in_its_name() {
        let names = ["auto-2025-10-30_12-00", "manual-x", "auto-2025-10-30_13-00"];
        let (name, t) = newest(
            names.into_iter(),
            &["auto-%Y-%m-%d_%H-%M".to_string()],
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(name, "auto-2025-10-30_13-00");
        assert_eq!(t, Utc.with_ymd_and_hms(2025, 10, 30, 13, 0, 0).unwrap());
    }
}
