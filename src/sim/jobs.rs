//! The engine's heartbeat: every `midclt` invocation first lets the simulated middleware
//! catch up — the fleet clock is applied, snapshot tasks queued by `pool.snapshottask.run`
//! and due ones run, due replications start, and replication jobs move on (WAITING → RUNNING with progress → SUCCESS/FAILED).
//!
//! A job advances once per look (each `core.get_jobs` poll is one) and with real time: the
//! first look finds it WAITING, the next RUNNING with progress; it completes on the first
//! look after it has run the fleet's `job_ms` (default 1 s) or after one look per snapshot
//! to send, whichever comes first, but never before it was seen RUNNING once. Bookkeeping
//! lives in `extensions["zettarepl"]` of the state while jobs run.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::clock;
use super::faults;
use super::state::{JobState, SimState, TaskState, TaskStateKind};
use super::zettarepl::{self, Target};
use crate::diag::Problem;

const EXT_KEY: &str = "zettarepl";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The engine hook (`sim::ENGINE_HOOK`) `sim::midclt` runs before anything else, outside
/// the state lock, and `-j` runs while it waits: counts the call, applies injected faults
/// (their output replaces the call's), then lets the engine catch up.
pub fn before_midclt(state_file: &Path, argv: &[String]) -> Option<super::MidcltOutput> {
    if let Some(out) = faults::before_midclt(state_file, argv) {
        return Some(out);
    }
    let _ = tick(state_file);
    None
}

/// The hook for a wave of calls that start together: each call counted and checked for
/// faults, then one look of the engine for all of them (calls of one instant see one
/// state of the schedules and jobs).
pub fn before_wave(state_file: &Path, argvs: &[Vec<String>]) -> Vec<Option<super::MidcltOutput>> {
    let faulted: Vec<_> = argvs
        .iter()
        .map(|argv| faults::before_midclt(state_file, argv))
        .collect();
    if faulted.iter().any(Option::is_none) {
        let _ = tick(state_file);
    }
    faulted
}

/// Human sizes as the middleware's job descriptions show them (binary units).
fn human(bytes: u64) -> String {
    // humanfriendly's `format_size(n, binary=True)`: two decimals, trailing zeros dropped,
    // plain "byte"/"bytes" below 1 KiB.
    const UNITS: &[&str] = &["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    for (i, unit) in UNITS.iter().enumerate().rev() {
        let divider = 1024f64.powi(i as i32 + 1);
        if bytes as f64 >= divider {
            let text = format!("{:.2}", bytes as f64 / divider);
            let text = text.trim_end_matches('0').trim_end_matches('.');
            return format!("{text} {unit}");
        }
    }
    if bytes == 1 {
        "1 byte".into()
    } else {
        format!("{bytes} bytes")
    }
}

/// One pass of the engine over one system. Returns the jobs that completed.
pub fn tick(state_file: &Path) -> Result<Vec<u64>, Problem> {
    let (dir, system) = faults::locate(state_file);
    let fleet = clock::load(&dir);
    let stalled = faults::load(&dir, &system).is_ok_and(|f| f.stall_jobs);
    let job_ms = fleet.as_ref().map_or(clock::DEFAULT_JOB_MS, |c| c.job_ms);
    let ready = super::with_state(state_file, |st| {
        if let Some(c) = &fleet {
            st.clock.offset_secs = c.offset_secs;
        }
        // Manual `pool.snapshottask.run`s first: they were asked for before this look.
        super::methods::snapshottask::run_queued(st);
        super::scheduler::run_due_for(st, state_file);
        step_jobs(st, state_file, job_ms, stalled)
    })?;
    let mut done = Vec::new();
    for (job, task) in ready {
        zettarepl::complete(state_file, job, task)?;
        done.push(job);
    }
    Ok(done)
}

/// Moves every unfinished replication job one look forward; returns `(job, task)` pairs
/// ready to complete.
fn step_jobs(st: &mut SimState, state_file: &Path, job_ms: u64, stalled: bool) -> Vec<(u64, u64)> {
    let mut book = st
        .extensions
        .get(EXT_KEY)
        .and_then(|v| v.get("jobs"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let active: Vec<(u64, u64, JobState)> = st
        .jobs
        .iter()
        .filter(|j| j.method == "replication.run" && !j.state.is_finished())
        .filter_map(|j| Some((j.id, j.arguments.first()?.as_u64()?, j.state)))
        .collect();
    let now = now_ms();
    let mut ready = Vec::new();
    for &(job, task_id, state) in &active {
        // A stalled send: nothing moves until the fault is lifted.
        if stalled && state == JobState::Running {
            continue;
        }
        let key = job.to_string();
        let rec = book
            .entry(key)
            .or_insert_with(|| json!({ "polls": 0, "started_ms": now }));
        let polls = rec.get("polls").and_then(Value::as_u64).unwrap_or(0) + 1;
        let started = rec.get("started_ms").and_then(Value::as_u64).unwrap_or(now);
        rec["polls"] = json!(polls);
        let Some(task) = st.replications.iter().find(|r| r.id == task_id).cloned() else {
            ready.push((job, task_id));
            continue;
        };
        // The first look finds the job WAITING, as the middleware queues it.
        if polls == 1 {
            continue;
        }
        let running_looks = polls - 1;
        if state == JobState::Waiting
            && let Some(reason) = waiting_reason(st, &task, &active, job)
        {
            let now_s = st.now_secs();
            if let Some(r) = st.replications.iter_mut().find(|r| r.id == task_id)
                && r.state.state != TaskStateKind::Waiting
            {
                r.state = TaskState {
                    state: TaskStateKind::Waiting,
                    datetime: Some(now_s),
                    reason: Some(reason),
                    last_snapshot: r.state.last_snapshot.clone(),
                    ..TaskState::default()
                };
            }
            continue;
        }
        if state == JobState::Waiting {
            // First look: plan against the target as it is now, to show progress.
            let preview = match zettarepl::resolve_target(state_file, st, &task) {
                Ok(Target::Same) => zettarepl::plan(st, st, &task),
                Ok(Target::Other(p)) => match super::load(&p) {
                    Ok(other) => match task.direction {
                        super::state::Direction::Push => zettarepl::plan(st, &other, &task),
                        super::state::Direction::Pull => zettarepl::plan(&other, st, &task),
                    },
                    Err(e) => Err(e.message),
                },
                Err(e) => Err(e),
            };
            let items: Vec<Value> = preview
                .as_ref()
                .map(|p| p.items().into_iter().map(|(n, b)| json!([n, b])).collect())
                .unwrap_or_default();
            rec["items"] = Value::Array(items);
            rec["failed"] = json!(preview.is_err());
            let now_s = st.now_secs();
            if let Some(j) = st.job_mut(job) {
                j.state = JobState::Running;
            }
            if let Some(r) = st.replications.iter_mut().find(|r| r.id == task_id) {
                r.state = TaskState {
                    state: TaskStateKind::Running,
                    datetime: Some(now_s),
                    last_snapshot: r.state.last_snapshot.clone(),
                    ..TaskState::default()
                };
            }
        }
        let items: Vec<(String, u64)> = rec
            .get("items")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| Some((v.get(0)?.as_str()?.to_string(), v.get(1)?.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let failed = rec.get("failed").and_then(Value::as_bool).unwrap_or(false);
        let total = items.len() as u64;
        let elapsed = now.saturating_sub(started);
        if failed || (running_looks >= 2 && (elapsed >= job_ms || running_looks > total)) {
            ready.push((job, task_id));
            continue;
        }
        // Progress: one snapshot per look, or by elapsed time if that is further.
        if total > 0 {
            let by_time = elapsed
                .saturating_mul(total)
                .checked_div(job_ms)
                .unwrap_or(total);
            let idx = (running_looks - 1).max(by_time).min(total - 1) as usize;
            let (name, bytes) = items[idx].clone();
            let all: u64 = items.iter().map(|(_, b)| b).sum();
            let done: u64 = items[..idx].iter().map(|(_, b)| b).sum();
            let half = bytes / 2;
            let description = format!(
                "Sending {} of {}: {} ({} / {}) [total {} of {}]",
                idx + 1,
                total,
                name,
                human(half),
                human(bytes),
                human(done + half),
                human(all)
            );
            // zettarepl.py `_set_replication_task_progress`: the snapshots sent plus the
            // share of the current one's bytes, truncated by job.py `set_progress`.
            let share = if bytes == 0 {
                0.0
            } else {
                half as f64 / bytes as f64
            };
            let percent = 100.0 * ((idx as f64 + share) / total as f64);
            if let Some(j) = st.job_mut(job) {
                j.progress.percent = percent;
                j.progress.description = description;
            }
            let progress = zettarepl::progress_state(&name, idx, total as usize, (half, bytes));
            if let Some(r) = st.replications.iter_mut().find(|r| r.id == task_id) {
                r.state.progress = Some(progress);
            }
        }
    }
    // Forget finished jobs' bookkeeping.
    book.retain(|k, _| {
        st.jobs
            .iter()
            .any(|j| j.id.to_string() == *k && !j.state.is_finished())
    });
    // No bookkeeping, no key: a read that moves nothing must not change the state.
    if book.is_empty() {
        st.extensions.remove(EXT_KEY);
    } else {
        st.extensions
            .insert(EXT_KEY.into(), json!({ "jobs": Value::Object(book) }));
    }
    ready
}

/// Why a queued run cannot start yet: another replication of this system is running and
/// writes to the same target tree. zettarepl delays such a task and the middleware's observer
/// shows it WAITING with zettarepl's reason (zettarepl `zettarepl.py`
/// `_cannot_spawn_replication_task_reason` / `_replication_tasks_can_run_in_parallel`;
/// middleware `plugins/zettarepl.py`, `ReplicationTaskScheduled`). Only tasks of one
/// direction over the same connection are compared, by their target datasets.
fn waiting_reason(
    st: &SimState,
    task: &super::state::ReplicationTask,
    active: &[(u64, u64, JobState)],
    job: u64,
) -> Option<String> {
    use crate::model::dataset::is_same_or_below;
    let same_host = |o: &super::state::ReplicationTask| {
        o.transport == task.transport
            && (o.transport == super::state::Transport::Local
                || o.ssh_credentials == task.ssh_credentials)
    };
    let blocked = active
        .iter()
        .filter(|(j, _, s)| *j != job && *s == JobState::Running)
        .filter_map(|(_, t, _)| st.replications.iter().find(|r| r.id == *t))
        .any(|o| {
            o.id != task.id
                && o.direction == task.direction
                && same_host(o)
                && (is_same_or_below(&o.target_dataset, &task.target_dataset)
                    || is_same_or_below(&task.target_dataset, &o.target_dataset))
        });
    blocked.then(|| "Waiting for another concurrent replication task to complete".to_string())
}

/// Runs a job to its end at once (for `zfleet sim advance` and tests).
pub fn drive_to_end(state_file: &Path, job: u64) -> Result<(), Problem> {
    // One look moves it to RUNNING (or ends it); then it completes.
    tick(state_file)?;
    let st = super::load(state_file)?;
    let open = st
        .jobs
        .iter()
        .find(|j| j.id == job && !j.state.is_finished())
        .and_then(|j| j.arguments.first().and_then(Value::as_u64));
    if let Some(task) = open {
        zettarepl::complete(state_file, job, task)?;
    }
    Ok(())
}

/// What `zfleet sim advance` did across the fleet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AdvanceReport {
    pub offset_secs: i64,
    pub systems: usize,
    /// Replication runs that ended during the advance, by outcome.
    pub runs_succeeded: usize,
    pub runs_failed: usize,
}

/// The replication runs of a system that have ended, with whether each succeeded.
fn ended_runs(state_file: &Path) -> Result<Vec<(u64, bool)>, Problem> {
    Ok(super::load(state_file)?
        .jobs
        .iter()
        .filter(|j| j.method == "replication.run" && j.state.is_finished())
        .map(|j| (j.id, j.state == JobState::Success))
        .collect())
}

/// Moves the fleet clock forward and lets every system catch up: due snapshots are
/// taken and expired, due replications start and run to their end.
pub fn advance(dir: &Path, secs: i64) -> Result<AdvanceReport, Problem> {
    let files = zettarepl::fleet_state_files(dir);
    let mut ended_before = Vec::new();
    for f in &files {
        ended_before.push(ended_runs(f)?);
    }
    // Catch up at the old time first, so systems never looked at before start their
    // schedules from there rather than from the new time.
    for f in &files {
        tick(f)?;
    }
    let offset = clock::advance_offset(dir, secs)?;
    let mut report = AdvanceReport {
        offset_secs: offset,
        systems: files.len(),
        ..AdvanceReport::default()
    };
    for f in &files {
        tick(f)?;
    }
    // Jobs started by the schedules finish within the advanced time.
    for f in &files {
        let st = super::load(f)?;
        let open: Vec<u64> = st
            .jobs
            .iter()
            .filter(|j| j.method == "replication.run" && !j.state.is_finished())
            .map(|j| j.id)
            .collect();
        for job in open {
            drive_to_end(f, job)?;
        }
    }
    // Every run that ended meanwhile, however it ended; aborted runs count as failed.
    for (f, before) in files.iter().zip(&ended_before) {
        for (id, ok) in ended_runs(f)? {
            if before.iter().any(|(b, _)| *b == id) {
                continue;
            }
            if ok {
                report.runs_succeeded += 1;
            } else {
                report.runs_failed += 1;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_humanfriendly() {
        // humanfriendly 10.0 `format_size(n, binary=True)`, as run for these values.
        assert_eq!(human(0), "0 bytes");
        assert_eq!(human(1), "1 byte");
        assert_eq!(human(512), "512 bytes");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(1_048_575), "1024 KiB");
        assert_eq!(human(123_456_789), "117.74 MiB");
        assert_eq!(human(3 * 1024 * 1024 * 1024), "3 GiB");
    }
}
