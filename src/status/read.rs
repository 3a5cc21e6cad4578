//! What `status` reads from one system: two round trips at most. The first carries the
//! system's clock and timezone, the datasets (ownership records live in their user
//! properties) and every task with its zettarepl state and last job; the second the names of
//! the snapshots of the datasets that matter (those the config names and those the live
//! tasks write to), which needs the version for its method name. A known version does not
//! make it one: which datasets matter is only known once the tasks are read.

use crate::client::Version;
use crate::client::api::{NameRow, calls};
use crate::client::{Client, ClientError, Dataset, Replication, SnapshotTask, SystemInfo};
use crate::diag::Problem;
use crate::transport::{MidcltCall, Runner};

/// One system as `status` sees it.
#[derive(Debug, Clone)]
pub struct SystemRead {
    pub version: Version,
    pub info: SystemInfo,
    pub datasets: Vec<Dataset>,
    pub snapshot_tasks: Vec<SnapshotTask>,
    pub replications: Vec<Replication>,
    /// Full names (`pool/ds@name`) of the snapshots of the datasets read, sorted.
    pub snapshots: Vec<String>,
}

impl SystemRead {
    /// Names after the `@` of the snapshots of exactly `dataset`.
    pub fn snapshots_of<'a>(&'a self, dataset: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.snapshots.iter().filter_map(move |s| {
            let (ds, name) = s.split_once('@')?;
            (ds == dataset).then_some(name)
        })
    }
}

/// The datasets whose snapshots a task's row needs: a snapshot task's own, and the
/// targets written on this system (LOCAL and PULL replications).
fn live_roots(tasks: &[SnapshotTask], reps: &[Replication]) -> Vec<String> {
    let mut out: Vec<String> = tasks.iter().map(|t| t.dataset.clone()).collect();
    out.extend(
        reps.iter()
            .filter(|r| r.transport == "LOCAL" || r.direction == "PULL")
            .map(|r| r.target_dataset.clone()),
    );
    out
}

/// Reads one system; `roots` are the datasets of it the config names.
pub async fn read<R: Runner>(client: &Client<R>, roots: &[String]) -> Result<SystemRead, Problem> {
    read_inner(client, roots).await.map_err(|e| e.to_problem())
}

async fn read_inner<R: Runner>(
    client: &Client<R>,
    roots: &[String],
) -> Result<SystemRead, ClientError> {
    let known = client.known_version().cloned();
    let mut batch: Vec<MidcltCall> = Vec::new();
    if known.is_none() {
        batch.push(calls::system_version());
    }
    batch.extend([
        calls::system_info(),
        calls::datasets(),
        calls::snapshot_tasks(),
        calls::replications(),
    ]);
    let results = client.batch(&batch).await?;
    let mut answers = client.answers(&batch, results);
    let version = match known {
        Some(v) => v,
        None => client.learn_version(&answers.reply()?.value())?,
    };
    let info: SystemInfo = answers.decoded()?;
    let datasets: Vec<Dataset> = answers.decoded()?;
    let snapshot_tasks: Vec<SnapshotTask> = answers.decoded()?;
    let replications: Vec<Replication> = answers.decoded()?;

    // Only datasets that exist: a filter naming a missing one is harmless, but a smaller
    // list is a cheaper query.
    let mut wanted: Vec<String> = roots
        .iter()
        .cloned()
        .chain(live_roots(&snapshot_tasks, &replications))
        .filter(|r| datasets.iter().any(|d| &d.name == r))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut snapshots = Vec::new();
    if !wanted.is_empty() {
        let call = calls::snapshot_names_of(&version, &wanted);
        let rows: Vec<NameRow> = client.call_as(&call.method, call.args).await?;
        snapshots = rows.into_iter().map(|r| r.name).collect();
    }
    snapshots.sort();
    Ok(SystemRead {
        version,
        info,
        datasets,
        snapshot_tasks,
        replications,
        snapshots,
    })
}
