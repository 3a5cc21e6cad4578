//! Periodic snapshot tasks on their schedule, snapshot expiry by lifetime, and the
//! replications that run after their snapshot task or on their own schedule — what
//! zettarepl's scheduler does every minute on a real system.
//!
//! The engine remembers the last minute it looked at, beside the state file
//! (`DIR/.<system>.scheduler.json`, so a look that takes nothing leaves the state file as it
//! was); each look covers every whole minute since, so `zfleet sim advance 2h` takes the 2
//! hourly snapshots a real system would have taken. The first look only starts the
//! bookkeeping.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Months, NaiveDateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::methods::schema::naming;
use super::state::{JobState, LifetimeUnit, Schedule, SimState};
use crate::model::schedule::TnSchedule;

const EXT_KEY: &str = "scheduler";

/// At most this many minutes are replayed in one look (one year), so a huge jump stays bounded.
const MAX_MINUTES: i64 = 366 * 24 * 60;

/// At most this many runs of one schedule are replayed in one look.
const MAX_FIRINGS: usize = 100_000;

/// Whether a TrueNAS schedule fires at this local minute: cron fields with the dom/dow OR
/// rule, inside its `begin`–`end` window (the rules of `crate::model::schedule`).
pub fn schedule_matches(s: &Schedule, local: NaiveDateTime) -> bool {
    as_model(s).matches(local)
}

fn as_model(s: &Schedule) -> TnSchedule {
    TnSchedule {
        minute: s.minute.clone(),
        hour: s.hour.clone(),
        dom: s.dom.clone(),
        month: s.month.clone(),
        dow: s.dow.clone(),
        begin: s.begin.clone(),
        end: s.end.clone(),
    }
}

/// The instant before which snapshots of this lifetime have expired.
fn expiry_cutoff(now: DateTime<Utc>, value: u64, unit: LifetimeUnit) -> Option<DateTime<Utc>> {
    let v = i64::try_from(value).ok()?;
    match unit {
        LifetimeUnit::Hour => now.checked_sub_signed(chrono::Duration::try_hours(v)?),
        LifetimeUnit::Day => now.checked_sub_signed(chrono::Duration::try_days(v)?),
        LifetimeUnit::Week => now.checked_sub_signed(chrono::Duration::try_weeks(v)?),
        LifetimeUnit::Month => now.checked_sub_months(Months::new(u32::try_from(value).ok()?)),
        LifetimeUnit::Year => {
            now.checked_sub_months(Months::new(u32::try_from(value.checked_mul(12)?).ok()?))
        }
    }
}

/// Runs `f` with the state's clock pinned at `at`, then restores it (so code that reads
/// `state.now()` acts as it would have at that minute).
fn at_time<R>(st: &mut SimState, at: DateTime<Utc>, f: impl FnOnce(&mut SimState) -> R) -> R {
    let saved = st.clock.clone();
    st.clock.frozen_at = Some(at.timestamp());
    st.clock.offset_secs = 0;
    let r = f(st);
    st.clock = saved;
    r
}

/// Deletes the snapshots no owner retains any more, as zettarepl's local retention
/// (retention/calculate.py) does: owners are the enabled tasks (their datasets, their naming
/// schema; each retains its snapshots for its lifetime) and, for snapshots with a pinned
/// removal date, the date itself (`SnapshotRemovalDateSnapshotOwner`: retained until then).
/// Held snapshots stay.
pub fn expire(st: &mut SimState, now: DateTime<Utc>) -> Vec<String> {
    let tasks: Vec<_> = st
        .snapshot_tasks
        .iter()
        .filter(|t| t.enabled)
        .filter_map(|t| {
            expiry_cutoff(now, t.lifetime_value, t.lifetime_unit).map(|c| (t, c.timestamp()))
        })
        .collect();
    let local_now = now.with_timezone(&st.tz()).naive_local();
    let mut doomed = Vec::new();
    for (full, snap) in &st.snapshots {
        if !snap.holds.is_empty() {
            continue;
        }
        let mut owned = false;
        let mut retained = false;
        for (task, cutoff) in &tasks {
            let prefix = format!("{}/", task.dataset);
            let owned_dataset = snap.dataset == task.dataset
                || (task.recursive && snap.dataset.starts_with(&prefix));
            if owned_dataset && naming::matches(&task.naming_schema, &snap.name) {
                owned = true;
                retained |= snap.creation >= *cutoff;
            }
        }
        if let Some(at) = super::methods::snapshottask::removal_date(snap) {
            owned = true;
            retained |= at > local_now;
        }
        if owned && !retained {
            doomed.push(full.clone());
        }
    }
    for name in &doomed {
        st.snapshots.remove(name);
    }
    doomed
}

/// Starts a scheduled `replication.run` job (arguments `[id, false]`, as zettarepl's own
/// runs show) unless the task already has one in progress.
pub fn start_scheduled_run(st: &mut SimState, replication_id: u64) -> Option<u64> {
    let busy = st
        .replications
        .iter()
        .find(|r| r.id == replication_id)?
        .job
        .and_then(|j| st.jobs.iter().find(|x| x.id == j))
        .is_some_and(|j| !j.state.is_finished());
    if busy {
        return None;
    }
    let job = st.add_job(
        "replication.run",
        vec![json!(replication_id), json!(false)],
        JobState::Waiting,
    );
    if let Some(j) = st.job_mut(job) {
        j.by_user = false;
    }
    if let Some(r) = st.replications.iter_mut().find(|r| r.id == replication_id) {
        r.job = Some(job);
    }
    Some(job)
}

/// What one look of the scheduler did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Due {
    pub snapshots_taken: Vec<String>,
    pub snapshots_expired: Vec<String>,
    pub jobs_started: Vec<u64>,
}

/// Where the scheduler of the system in `state_file` keeps its last look.
pub fn bookkeeping_path(state_file: &Path) -> PathBuf {
    let (dir, system) = super::faults::locate(state_file);
    dir.join(format!(".{system}.{EXT_KEY}.json"))
}

/// The last minute looked at, kept beside the state file (`None`: never looked).
pub fn last_minute(state_file: &Path) -> Option<i64> {
    let text = std::fs::read_to_string(bookkeeping_path(state_file)).ok()?;
    serde_json::from_str::<Value>(&text)
        .ok()?
        .get("last_minute")?
        .as_i64()
}

/// Runs everything due since the last look recorded beside `state_file`, and records this
/// look. Call with the state's lock held.
pub fn run_due_for(st: &mut SimState, state_file: &Path) -> Due {
    let last = last_minute(state_file);
    let now_min = st.now().timestamp().div_euclid(60);
    let due = run_due_since(st, last);
    if last != Some(now_min) {
        let text = json!({ "last_minute": now_min }).to_string();
        let _ = super::faults::write_atomic(&bookkeeping_path(state_file), text.as_bytes());
    }
    due
}

/// Runs everything due between the last look and `state.now()`, keeping the bookkeeping
/// in the state itself (for states without a file).
pub fn run_due(st: &mut SimState) -> Due {
    let last = st
        .extensions
        .get(EXT_KEY)
        .and_then(|v| v.get("last_minute"))
        .and_then(Value::as_i64);
    let now_min = st.now().timestamp().div_euclid(60);
    st.extensions
        .insert(EXT_KEY.into(), json!({ "last_minute": now_min }));
    run_due_since(st, last)
}

fn run_due_since(st: &mut SimState, last: Option<i64>) -> Due {
    let now = st.now();
    let now_min = now.timestamp().div_euclid(60);
    let mut due = Due::default();
    let Some(last) = last else {
        return due;
    };
    if now_min <= last {
        return due;
    }
    let tz = st.tz();
    let first = (last + 1).max(now_min - MAX_MINUTES);
    // The minutes something fires at, found schedule by schedule (not minute by minute).
    let firings = |sched: &Schedule| -> Vec<i64> {
        let model = as_model(sched);
        let mut out = Vec::new();
        let Some(start) = DateTime::<Utc>::from_timestamp((first - 1) * 60, 0) else {
            return out;
        };
        let mut t = tz.from_utc_datetime(&start.naive_utc()).naive_local();
        while out.len() < MAX_FIRINGS {
            let Some(next) = model.next_after(t) else {
                break;
            };
            t = next;
            // A local time skipped by a DST change never happens; a repeated one once.
            let Some(at) = tz.from_local_datetime(&next).earliest() else {
                continue;
            };
            let minute = at.timestamp().div_euclid(60);
            if minute > now_min {
                break;
            }
            if minute >= first {
                out.push(minute);
            }
        }
        out
    };
    let mut minutes: BTreeSet<i64> = BTreeSet::new();
    let task_firings: Vec<(u64, Vec<i64>)> = st
        .snapshot_tasks
        .iter()
        .filter(|t| t.enabled)
        .map(|t| (t.id, firings(&t.schedule)))
        .collect();
    let repl_firings: Vec<(u64, Vec<i64>)> = st
        .replications
        .iter()
        .filter(|r| r.enabled && r.auto)
        .filter_map(|r| r.schedule.as_ref().map(|s| (r.id, firings(s))))
        .collect();
    for (_, m) in task_firings.iter().chain(&repl_firings) {
        minutes.extend(m.iter().copied());
    }
    for minute in minutes {
        let Some(at) = DateTime::<Utc>::from_timestamp(minute * 60, 0) else {
            continue;
        };
        let firing: Vec<u64> = task_firings
            .iter()
            .filter(|(_, m)| m.binary_search(&minute).is_ok())
            .map(|(id, _)| *id)
            .collect();
        for id in &firing {
            let taken = at_time(st, at, |st| {
                super::methods::snapshottask::take_task_snapshot(st, *id)
            });
            due.snapshots_taken.extend(taken);
        }
        if !firing.is_empty() {
            due.snapshots_expired.extend(expire(st, at));
        }
        // Replications run after their snapshot task, or on their own schedule.
        let runs: Vec<u64> = st
            .replications
            .iter()
            .filter(|r| r.enabled && r.auto)
            .filter(|r| match &r.schedule {
                Some(_) => repl_firings
                    .iter()
                    .any(|(id, m)| *id == r.id && m.binary_search(&minute).is_ok()),
                None => r.periodic_snapshot_tasks.iter().any(|t| firing.contains(t)),
            })
            .map(|r| r.id)
            .collect();
        for id in runs {
            if let Some(job) = at_time(st, at, |st| start_scheduled_run(st, id)) {
                due.jobs_started.push(job);
            }
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(minute: &str, hour: &str, dow: &str) -> Schedule {
        Schedule {
            minute: minute.into(),
            hour: hour.into(),
            dow: dow.into(),
            ..Schedule::default()
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn cron_fields() {
        // 2025-10-30 is a Thursday.
        assert!(schedule_matches(
            &sched("00", "*", "*"),
            at("2025-10-30 13:00")
        ));
        assert!(!schedule_matches(
            &sched("00", "*", "*"),
            at("2025-10-30 13:01")
        ));
        assert!(schedule_matches(
            &sched("*/15", "*", "*"),
            at("2025-10-30 13:45")
        ));
        assert!(!schedule_matches(
            &sched("*/15", "*", "*"),
            at("2025-10-30 13:50")
        ));
        assert!(schedule_matches(
            &sched("0", "0", "4"),
            at("2025-10-30 00:00")
        ));
        assert!(schedule_matches(
            &sched("0", "0", "mon-fri"),
            at("2025-10-30 00:00")
        ));
        assert!(!schedule_matches(
            &sched("0", "0", "7"),
            at("2025-10-30 00:00")
        ));
        assert!(schedule_matches(
            &sched("0", "0", "0"),
            at("2025-11-02 00:00")
        ));
        assert!(schedule_matches(
            &sched("0,30", "9-17", "*"),
            at("2025-10-30 17:30")
        ));
        assert!(!schedule_matches(
            &sched("x", "*", "*"),
            at("2025-10-30 13:00")
        ));
    }

    #[test]
    fn begin_end_window() {
        let s = Schedule {
            minute: "*".into(),
            begin: "09:00".into(),
            end: "17:00".into(),
            ..Schedule::default()
        };
        assert!(schedule_matches(&s, at("2025-10-30 09:00")));
        assert!(schedule_matches(&s, at("2025-10-30 17:00")));
        assert!(!schedule_matches(&s, at("2025-10-30 17:01")));
    }

    #[test]
    fn lifetimes() {
        let now = DateTime::<Utc>::from_timestamp(1_761_829_200, 0).unwrap();
        assert_eq!(
            expiry_cutoff(now, 2, LifetimeUnit::Week).unwrap(),
            now - chrono::Duration::weeks(2)
        );
        assert_eq!(
            expiry_cutoff(now, 1, LifetimeUnit::Year).unwrap(),
            now.checked_sub_months(Months::new(12)).unwrap()
        );
        assert!(expiry_cutoff(now, u64::MAX, LifetimeUnit::Hour).is_none());
    }
}

#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::sim::state::{Dataset, Snapshot, SnapshotTask, TaskState};

    fn snap(ds: &str, name: &str, creation: i64) -> (String, Snapshot) {
        (
            format!("{ds}@{name}"),
            Snapshot {
                dataset: ds.into(),
                name: name.into(),
                creation,
                createtxg: 1,
                used: 0,
                referenced: 0,
                user_properties: Default::default(),
                holds: Default::default(),
            },
        )
    }

    #[test]
    fn expiry_takes_only_old_snapshots_of_the_tasks_schema() {
        let mut st = SimState::empty("nas1", "25.10", "UTC");
        st.datasets.insert("tank".into(), Dataset::filesystem(0, 1));
        st.datasets
            .insert("tank/data".into(), Dataset::filesystem(0, 1));
        st.snapshot_tasks.push(SnapshotTask {
            id: 1,
            dataset: "tank/data".into(),
            recursive: false,
            lifetime_value: 1,
            lifetime_unit: LifetimeUnit::Day,
            enabled: true,
            exclude: Vec::new(),
            naming_schema: "auto-%Y-%m-%d_%H-%M".into(),
            allow_empty: true,
            schedule: Schedule::default(),
            state: TaskState::default(),
        });
        let now = DateTime::<Utc>::from_timestamp(1_761_829_200, 0).unwrap();
        let day = 86_400;
        let (old, mut held) = (
            snap(
                "tank/data",
                "auto-2025-10-28_13-00",
                now.timestamp() - 2 * day,
            ),
            snap(
                "tank/data",
                "auto-2025-10-28_12-00",
                now.timestamp() - 2 * day,
            ),
        );
        held.1.holds.insert("truenas".into(), 0);
        for (k, v) in [
            old,
            held,
            snap("tank/data", "auto-2025-10-30_12-00", now.timestamp() - 3600),
            snap("tank/data", "manual-2025-10-01", now.timestamp() - 30 * day),
        ] {
            st.snapshots.insert(k, v);
        }
        assert_eq!(expire(&mut st, now), ["tank/data@auto-2025-10-28_13-00"]);
        assert_eq!(st.snapshots.len(), 3);
    }

    #[test]
    fn first_look_only_starts_the_bookkeeping_then_minutes_replay() {
        let mut st = SimState::empty("nas1", "25.10", "UTC");
        st.datasets.insert("tank".into(), Dataset::filesystem(0, 1));
        st.clock.frozen_at = Some(1_761_829_200 - 30 * 60); // 12:30 UTC
        st.snapshot_tasks.push(SnapshotTask {
            id: 1,
            dataset: "tank".into(),
            recursive: false,
            lifetime_value: 2,
            lifetime_unit: LifetimeUnit::Week,
            enabled: true,
            exclude: Vec::new(),
            naming_schema: "auto-%Y-%m-%d_%H-%M".into(),
            allow_empty: true,
            schedule: Schedule::default(),
            state: TaskState::default(),
        });
        assert_eq!(run_due(&mut st), Due::default());
        st.clock.offset_secs = 2 * 3600; // 14:30
        let due = run_due(&mut st);
        assert_eq!(
            due.snapshots_taken,
            ["tank@auto-2025-10-30_13-00", "tank@auto-2025-10-30_14-00"]
        );
        assert_eq!(
            st.snapshots["tank@auto-2025-10-30_13-00"].creation,
            1_761_829_200
        );
        // Nothing new without time passing.
        assert_eq!(run_due(&mut st), Due::default());
    }
}
