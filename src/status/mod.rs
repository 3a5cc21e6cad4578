//! `zfleet status`: every snapshot task and replication of the fleet with its state, last
//! run, recovery point and next run, read from all systems at once.
//!
//! [`read`] reads one system, [`rows`] turns it into one row per task, [`table`] draws the
//! rows for a person, [`check`] judges them for monitoring.

pub mod check;
pub mod read;
pub mod rows;
pub mod table;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::systems::ErrorReport;
use crate::client::Client;
use crate::diag::Problem;
use crate::inventory::{SnapshotScope, plan_scope};
use crate::model::Config;
use crate::progress::{Phase, Progress};
use crate::transport::{ConnectOptions, Transport};
pub use read::SystemRead;
pub use rows::TaskRow;

/// One system's part of the status (the `--json` shape of a system).
#[derive(Debug, Clone, Serialize)]
pub struct SystemStatus {
    pub name: String,
    /// `ok`, `unreachable` (no connection could be made) or `error` (`error.code` says why).
    pub status: &'static str,
    pub version: Option<String>,
    pub timezone: Option<String>,
    /// The system's clock when it answered: ages are measured from it.
    pub now: Option<DateTime<Utc>>,
    pub error: Option<ErrorReport>,
    pub tasks: Vec<TaskRow>,
    /// With `--snapshots`: per dataset of the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshots: Option<Vec<DatasetSnapshots>>,
}

/// The snapshots of one dataset the config names.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatasetSnapshots {
    pub dataset: String,
    pub count: usize,
    /// The newest snapshot of each naming schema that has any here.
    pub newest: Vec<Newest>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Newest {
    pub naming_schema: String,
    pub snapshot: String,
    pub age_secs: i64,
}

/// Open connections kept between reads (`--watch`): a system that failed is reconnected
/// on the next read.
#[derive(Default)]
pub struct Connections {
    clients: BTreeMap<String, Arc<Client<Transport>>>,
}

/// The datasets of `system` the config names (snapshot tasks, one-time snapshots,
/// replication sources and targets).
fn config_roots(config: &Config, system: &str) -> Vec<String> {
    match plan_scope(config, system) {
        SnapshotScope::Below(roots) => roots,
        SnapshotScope::All => Vec::new(),
    }
}

/// Reads every system of `config` concurrently, in config order; one failing system never
/// holds up the others.
pub async fn read_fleet(
    config: &Config,
    opts: &ConnectOptions,
    conns: &mut Connections,
    progress: &Progress,
) -> Vec<(String, Result<SystemRead, Problem>)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, (name, system)) in config.systems.iter().enumerate() {
        let existing = conns.clients.remove(name);
        let system = system.clone();
        let opts = opts.clone();
        let roots = config_roots(config, name);
        let name = name.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let client = match existing {
                Some(c) => c,
                None => {
                    progress.update(
                        i,
                        Phase::Connecting {
                            target: crate::inventory::target_of(&system),
                        },
                    );
                    match crate::transport::connect(&system, &opts).await {
                        Ok(t) => Arc::new(Client::new(name.clone(), t)),
                        Err(e) => {
                            let p = e.to_problem(&name);
                            progress.update(i, Phase::Failed(p.code.to_string()));
                            return (i, name, None, Err(p));
                        }
                    }
                }
            };
            progress.update(i, Phase::Reading);
            let r = read::read(&client, &roots).await;
            progress.update(
                i,
                match &r {
                    Ok(s) => Phase::Done(crate::diag::count(
                        s.snapshot_tasks.len() + s.replications.len(),
                        "task",
                        "tasks",
                    )),
                    Err(p) => Phase::Failed(p.code.to_string()),
                },
            );
            // A connection that failed a read is not trusted for the next one.
            let keep = r.is_ok().then_some(client);
            (i, name, keep, r)
        });
    }
    let names: Vec<String> = config.systems.keys().cloned().collect();
    let mut out: Vec<Option<Result<SystemRead, Problem>>> = names.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, name, client, r)) = joined {
            if let Some(c) = client {
                conns.clients.insert(name, c);
            }
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    names
        .into_iter()
        .zip(out)
        .map(|(name, r)| {
            let r = r.unwrap_or_else(|| {
                Err(Problem::error(
                    "zfleet::api::call_failed",
                    "reading the system stopped unexpectedly",
                )
                .system(name.clone()))
            });
            (name, r)
        })
        .collect()
}

/// The status of every system from what was read.
pub fn build(
    config: &Config,
    reads: &[(String, Result<SystemRead, Problem>)],
    with_snapshots: bool,
) -> Vec<SystemStatus> {
    let fleet = rows::Fleet {
        config,
        reads: reads
            .iter()
            .filter_map(|(n, r)| Some((n.as_str(), r.as_ref().ok()?)))
            .collect(),
    };
    reads
        .iter()
        .map(|(name, r)| match r {
            Ok(read) => SystemStatus {
                name: name.clone(),
                status: "ok",
                version: Some(format!("{} {}", read.version.product, read.version.number)),
                timezone: read.info.timezone.clone(),
                now: Some(rows::now_of(read)),
                error: None,
                tasks: rows::rows(name, read, &fleet),
                snapshots: with_snapshots.then(|| dataset_snapshots(config, name, read)),
            },
            Err(p) => SystemStatus {
                name: name.clone(),
                status: if p.code == "zfleet::ssh::unreachable" {
                    "unreachable"
                } else {
                    "error"
                },
                version: None,
                timezone: None,
                now: None,
                error: Some(p.into()),
                tasks: Vec::new(),
                snapshots: with_snapshots.then(Vec::new),
            },
        })
        .collect()
}

/// Every naming schema the config or the system's own tasks use.
fn known_schemas(config: &Config, read: &SystemRead) -> Vec<String> {
    let mut out: Vec<String> = config
        .snapshot_tasks
        .values()
        .map(|t| t.naming_schema.clone())
        .chain(config.snapshots.iter().map(|s| s.naming_schema.clone()))
        .chain(
            config
                .replications
                .values()
                .flat_map(|r| r.sources.iter().flat_map(|s| s.naming_schemas.clone())),
        )
        .chain(read.snapshot_tasks.iter().map(|t| t.naming_schema.clone()))
        .chain(read.replications.iter().flat_map(|r| {
            r.naming_schema
                .iter()
                .chain(&r.also_include_naming_schema)
                .cloned()
                .collect::<Vec<_>>()
        }))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn dataset_snapshots(config: &Config, system: &str, read: &SystemRead) -> Vec<DatasetSnapshots> {
    let now = rows::now_of(read);
    let tz = rows::tz_of(read);
    let schemas = known_schemas(config, read);
    config_roots(config, system)
        .into_iter()
        .map(|dataset| {
            let names: Vec<&str> = read.snapshots_of(&dataset).collect();
            let newest = schemas
                .iter()
                .filter_map(|schema| {
                    let (snapshot, t) =
                        rows::newest(names.iter().copied(), std::slice::from_ref(schema), tz)?;
                    Some(Newest {
                        naming_schema: schema.clone(),
                        snapshot: format!("{dataset}@{snapshot}"),
                        age_secs: (now - t).num_seconds().max(0),
                    })
                })
                .collect();
            DatasetSnapshots {
                count: names.len(),
                dataset,
                newest,
            }
        })
        .collect()
}

/// Keeps the systems matching `patterns` (all when empty), and with `failed_only` only the
/// tasks that failed and the systems that could not be read.
pub fn filter(systems: &mut Vec<SystemStatus>, patterns: &[glob::Pattern], failed_only: bool) {
    systems.retain(|s| patterns.is_empty() || patterns.iter().any(|p| p.matches(&s.name)));
    if failed_only {
        for s in systems.iter_mut() {
            s.tasks
                .retain(|t| matches!(t.state.as_str(), "ERROR" | "FAILED"));
        }
        systems.retain(|s| s.error.is_some() || !s.tasks.is_empty());
    }
}
