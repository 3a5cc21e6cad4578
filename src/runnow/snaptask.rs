//! A snapshot task's Run Now. `pool.snapshottask.run` is no job: it puts the task on
//! zettarepl's queue and returns `null` (plugins/snapshot.py `run` →
//! plugins/zettarepl.py `run_periodic_snapshot_task`). How the run ended shows only in
//! the task's `state`, which zettarepl's observer sets to FINISHED (with `last_snapshot`)
//! or ERROR (with the error made a sentence) once it is done.

use std::time::Duration;

use serde_json::json;

use crate::client::types::TaskState;
use crate::client::{Client, SnapshotTask};
use crate::transport::Runner;

/// How a snapshot task's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The snapshot was taken (`pool/ds@name`; `None` when it cannot be told which).
    Taken(Option<String>),
    /// Its snapshot existed already: a success, as zettarepl itself counts a manual run
    /// whose snapshot exists (zettarepl.py `_run_periodic_snapshot_tasks`, "Periodic
    /// snapshot task was called manually, notifying replication task success anyway"; the
    /// releases up to 25.10 still report it as ERROR).
    Existed(String),
    /// ERROR or HOLD: TrueNAS's error or reason.
    Failed(String),
}

/// Whether zettarepl's error says only that the snapshots exist: `zfs snapshot` prints
/// `cannot create snapshot 'x@y': dataset already exists` per snapshot, the channel
/// program used with excludes `'x@y': File exists` under a header line.
pub fn only_already_exists(error: &str) -> bool {
    let error = error.trim_end().trim_end_matches('.');
    let lines: Vec<&str> = error
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Failed to create following snapshots:")
        .collect();
    !lines.is_empty()
        && lines.iter().all(|l| {
            let l = l.trim_end_matches('.');
            l.ends_with(": dataset already exists") || l.ends_with(": File exists")
        })
}

/// The finished state a run leaves, as [`Ended`]; `None` while it is not finished.
fn ended(state: &TaskState) -> Option<Ended> {
    match state.state.as_str() {
        "FINISHED" => Some(Ended::Taken(state.last_snapshot.clone())),
        "ERROR" => {
            let error = state.error.clone().unwrap_or_else(|| "ERROR".into());
            Some(if only_already_exists(&error) {
                Ended::Existed(error)
            } else {
                Ended::Failed(error)
            })
        }
        "HOLD" => Some(Ended::Failed(
            state.reason.clone().unwrap_or_else(|| "HOLD".into()),
        )),
        _ => None,
    }
}

async fn read<R: Runner>(client: &Client<R>, id: i64) -> Result<SnapshotTask, String> {
    let tasks: Vec<SnapshotTask> = client
        .call_as(
            "pool.snapshottask.query",
            vec![json!([["id", "=", id]]), json!({})],
        )
        .await
        .map_err(|e| e.to_string())?;
    tasks
        .into_iter()
        .next()
        .ok_or_else(|| format!("snapshot task #{id} is gone"))
}

/// The newest snapshot of the task's dataset that its naming schema names.
async fn newest<R: Runner>(client: &Client<R>, task: &SnapshotTask) -> Option<String> {
    let ns = client
        .known_version()
        .map_or("zfs.snapshot", |v| v.snapshot_namespace());
    let rows: Vec<crate::client::api::NameRow> = client
        .call_as(
            &format!("{ns}.query"),
            vec![
                json!([["dataset", "=", task.dataset]]),
                json!({"select": ["name"]}),
            ],
        )
        .await
        .ok()?;
    rows.into_iter()
        .filter_map(|r| {
            let (_, snap) = r.name.split_once('@')?;
            let at = crate::model::naming::parse(&task.naming_schema, snap)?;
            Some((at, r.name))
        })
        .max()
        .map(|(_, name)| name)
}

/// Waits for the run started after the task showed `before`: the first finished state
/// that differs from it. A state that never moves (a clock that stands still, so the same
/// outcome twice) is taken as the run's after `settle` polls.
pub async fn wait<R: Runner>(
    client: &Client<R>,
    task: &SnapshotTask,
    before: &TaskState,
    every: Duration,
    settle: u32,
    mut seen: impl FnMut(&str),
) -> Result<Ended, String> {
    let mut polls = 0;
    let mut last = String::new();
    loop {
        let now = read(client, task.id).await?;
        if now.state.state != last {
            last = now.state.state.clone();
            seen(&last);
        }
        polls += 1;
        if let Some(e) = ended(&now.state)
            && (now.state != *before || polls > settle)
        {
            return Ok(match e {
                // Up to 25.04 the state names no snapshot: the newest of the schema is it.
                Ended::Taken(None) => Ended::Taken(newest(client, task).await),
                e => e,
            });
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_existing_snapshots_count_as_already_there() {
        assert!(only_already_exists(
            "cannot create snapshot 'tank/data@auto-2025-10-30_13-30': dataset already exists."
        ));
        assert!(only_already_exists(
            "cannot create snapshot 'tank/a@x': dataset already exists\ncannot create snapshot 'tank/a/b@x': dataset already exists."
        ));
        assert!(only_already_exists(
            "Failed to create following snapshots:\n'tank/a@x': File exists."
        ));
        assert!(!only_already_exists(
            "cannot create snapshot 'tank/a@x': out of space."
        ));
        assert!(!only_already_exists(
            "cannot create snapshot 'tank/a@x': dataset already exists\ncannot create snapshot 'tank/a/b@x': permission denied."
        ));
        assert!(!only_already_exists(""));
    }
}
