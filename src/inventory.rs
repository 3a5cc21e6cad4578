//! Inventory: the live state of every system that plan needs, read in parallel.
//!
//! One system costs a constant number of round trips, whatever it holds: the first carries
//! `system.version` and every version-independent query, the second the queries whose
//! method names depend on the version (snapshots). A known version makes it one.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use crate::client::api::{NameRow, calls, merge_keychain};
use crate::client::{
    ApiError, Client, ClientError, Dataset, KeychainCredential, Replication, ServiceStatus,
    SnapshotTask, SshConfig, SystemInfo, User, Version,
};
use crate::diag::Problem;
use crate::model::{Config, System};
use crate::progress::{Phase, Progress};
use crate::transport::{ConnectOptions, MidcltCall, Runner, TransportError};

/// What a progress line says a system is being reached at.
pub fn target_of(system: &System) -> String {
    match &system.kind {
        crate::model::SystemKind::Ssh(ssh) => match ssh.port {
            Some(port) => format!("{}:{port}", ssh.host),
            None => ssh.host.clone(),
        },
        crate::model::SystemKind::Simulator(_) => "the simulator".to_string(),
    }
}

/// Everything zfleet reads from one system.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    pub system: String,
    pub version: Version,
    pub info: SystemInfo,
    pub datasets: Vec<Dataset>,
    /// Full snapshot names, `pool/ds@name`, sorted.
    pub snapshots: Vec<String>,
    pub snapshot_tasks: Vec<SnapshotTask>,
    pub replications: Vec<Replication>,
    pub ssh_service: ServiceStatus,
    pub ssh_config: SshConfig,
    pub keychain: Vec<KeychainCredential>,
    pub users: Vec<User>,
    /// Round trips this read took.
    pub round_trips: u64,
}

impl Inventory {
    /// One line for progress displays: `TrueNAS SCALE 25.10, 12 datasets, 3 tasks`.
    pub fn summary(&self) -> String {
        use crate::diag::count;
        format!(
            "{} {}, {}, {}",
            self.version.product,
            self.version.number,
            count(self.datasets.len(), "dataset", "datasets"),
            count(
                self.snapshot_tasks.len() + self.replications.len(),
                "task",
                "tasks"
            )
        )
    }

    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// Snapshots of one dataset (names after the `@`).
    pub fn snapshots_of<'a>(&'a self, dataset: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.snapshots.iter().filter_map(move |s| {
            let (ds, name) = s.split_once('@')?;
            (ds == dataset).then_some(name)
        })
    }
}

/// The version-independent queries of round trip 1, in the order [`read`] expects them.
fn independent_calls() -> Vec<MidcltCall> {
    [
        calls::system_info(),
        calls::datasets(),
        calls::snapshot_tasks(),
        calls::replications(),
        calls::ssh_service(),
        calls::ssh_config(),
    ]
    .into_iter()
    .chain(calls::keychain())
    .chain([calls::users()])
    .collect()
}

/// Which snapshots an inventory lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotScope {
    /// Every snapshot of the system.
    All,
    /// Only those of these datasets and the datasets below them: what a plan needs.
    Below(Vec<String>),
}

/// The datasets of `system` that `config` names (snapshot tasks, one-time snapshots,
/// replication sources and targets): where plan looks at snapshots.
pub fn plan_scope(config: &Config, system: &str) -> SnapshotScope {
    let mut roots: Vec<String> = Vec::new();
    roots.extend(
        config
            .snapshot_tasks
            .values()
            .filter(|t| t.system == system)
            .map(|t| t.dataset.clone()),
    );
    roots.extend(
        config
            .snapshots
            .iter()
            .filter(|s| s.system == system)
            .map(|s| s.dataset.clone()),
    );
    for r in config.replications.values() {
        for s in r.sources.iter().filter(|s| s.system == system) {
            roots.extend(s.datasets.iter().cloned());
        }
        if r.target.system == system {
            roots.push(r.target.dataset.clone());
        }
    }
    roots.sort();
    roots.dedup();
    SnapshotScope::Below(roots)
}

/// Reads one system's inventory.
pub async fn read<R: Runner>(client: &Client<R>) -> Result<Inventory, Problem> {
    read_scoped(client, &SnapshotScope::All).await
}

/// Reads one system's inventory with the snapshots of `scope`.
pub async fn read_scoped<R: Runner>(
    client: &Client<R>,
    scope: &SnapshotScope,
) -> Result<Inventory, Problem> {
    read_inner(client, scope).await.map_err(|e| e.to_problem())
}

async fn read_inner<R: Runner>(
    client: &Client<R>,
    scope: &SnapshotScope,
) -> Result<Inventory, ClientError> {
    let before = client.round_trips();
    let mut batch = independent_calls();
    let known = client.known_version().cloned();
    match (&known, scope) {
        (Some(v), SnapshotScope::All) => batch.push(calls::snapshot_names(v)),
        (Some(_), SnapshotScope::Below(_)) => {}
        (None, _) => batch.insert(0, calls::system_version()),
    }
    // With a known version the snapshot names ride in round trip 1, last.
    let snapshots_in_batch = matches!((&known, scope), (Some(_), SnapshotScope::All));
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
    let services: Vec<ServiceStatus> = answers.decoded()?;
    let ssh_config: SshConfig = answers.decoded()?;
    let connections: Vec<KeychainCredential> = answers.decoded()?;
    let keychain = merge_keychain(connections, answers.decoded()?);
    let users: Vec<User> = answers.decoded()?;
    let snapshots_raw = snapshots_in_batch.then(|| answers.reply());
    // Round trip 2: what needed the version, or the dataset list.
    let snap_method = format!("{}.query", version.snapshot_namespace());
    let snapshot_call = match scope {
        SnapshotScope::All => Some(calls::snapshot_names(&version)),
        SnapshotScope::Below(roots) => {
            let names: Vec<String> = datasets
                .iter()
                .filter(|d| {
                    roots
                        .iter()
                        .any(|r| crate::model::dataset::is_same_or_below(&d.name, r))
                })
                .map(|d| d.name.clone())
                .collect();
            (!names.is_empty()).then(|| calls::snapshot_names_of(&version, &names))
        }
    };
    let snapshots_raw = match (snapshots_raw, snapshot_call) {
        (Some(r), _) => Some(r?),
        (None, Some(call)) => {
            let mut r = client.batch(std::slice::from_ref(&call)).await?;
            Some(
                r.pop()
                    .unwrap_or_else(|| Err(ApiError::Unparsable("no answer".into())))
                    .map_err(|e| client.error(&call.method, e))?,
            )
        }
        (None, None) => None,
    };
    let mut snapshots: Vec<String> = match snapshots_raw {
        Some(raw) => {
            let rows: Vec<NameRow> = raw.decode().map_err(|e| client.error(&snap_method, e))?;
            rows.into_iter().map(|r| r.name).collect()
        }
        None => Vec::new(),
    };
    snapshots.sort();

    let ssh_service = services
        .into_iter()
        .find(|s| s.service == "ssh")
        .ok_or_else(|| client.error("service.query", ApiError::NotFound("ssh service".into())))?;

    Ok(Inventory {
        system: client.system().to_string(),
        version,
        info,
        datasets,
        snapshots,
        snapshot_tasks,
        replications,
        ssh_service,
        ssh_config,
        keychain,
        users,
        round_trips: client.round_trips() - before,
    })
}

/// Reads many systems concurrently; one failing system never holds up the others. Results
/// come back in the order of `clients`.
pub async fn read_all<R: Runner + 'static>(
    clients: Vec<Arc<Client<R>>>,
) -> Vec<(String, Result<Inventory, Problem>)> {
    let mut set = tokio::task::JoinSet::new();
    for (i, c) in clients.iter().enumerate() {
        let c = Arc::clone(c);
        set.spawn(async move { (i, read(&c).await) });
    }
    let mut out: Vec<Option<Result<Inventory, Problem>>> = clients.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined
            && let Some(slot) = out.get_mut(i)
        {
            *slot = Some(r);
        }
    }
    clients
        .iter()
        .zip(out)
        .map(|(c, r)| {
            let r = match r {
                Some(r) => r,
                None => Err(Problem::error(
                    "zfleet::api::call_failed",
                    "reading the inventory stopped unexpectedly",
                )
                .system(c.system().to_string())),
            };
            (c.system().to_string(), r)
        })
        .collect()
}

/// One system of a fleet read: whether it connected, its host key, its inventory.
pub struct FleetEntry<R = crate::transport::Transport> {
    pub name: String,
    /// The open connection, for apply to go on with.
    pub client: Option<Arc<Client<R>>>,
    /// A connection was made (the failure, if any, came later).
    pub connected: bool,
    /// `SHA256:...` of the verified host key (SSH systems).
    pub host_key: Option<String>,
    pub result: Result<Inventory, Problem>,
}

/// Connects to every system of `config` at once and reads its inventory, in the order of
/// `config.systems`. A failing system gets its own Problem; the others are not held up.
pub async fn read_fleet(
    config: &Config,
    opts: &ConnectOptions,
    progress: &Progress,
) -> Vec<FleetEntry> {
    read_fleet_scoped(config, opts, progress, false).await
}

/// [`read_fleet`]; with `for_plan`, only the snapshots of the datasets the config names.
pub async fn read_fleet_scoped(
    config: &Config,
    opts: &ConnectOptions,
    progress: &Progress,
    for_plan: bool,
) -> Vec<FleetEntry> {
    let opts = Arc::new(opts.clone());
    read_fleet_with(config, progress, for_plan, move |system: System| {
        let opts = Arc::clone(&opts);
        async move {
            let t = crate::transport::connect(&system, &opts).await?;
            let fp = t.host_key_fingerprint();
            Ok((t, fp))
        }
    })
    .await
}

/// [`read_fleet`] with another way to connect: `connect` opens a runner for a system and
/// gives its host key fingerprint, if it has one.
pub async fn read_fleet_with<R, C, F>(
    config: &Config,
    progress: &Progress,
    for_plan: bool,
    connect: C,
) -> Vec<FleetEntry<R>>
where
    R: Runner + 'static,
    C: Fn(System) -> F,
    F: Future<Output = Result<(R, Option<String>), TransportError>> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let names: Vec<String> = config.systems.keys().cloned().collect();
    for (i, (name, system)) in config.systems.iter().enumerate() {
        progress.update(
            i,
            Phase::Connecting {
                target: target_of(system),
            },
        );
        let fut = connect(system.clone());
        let scope = if for_plan {
            plan_scope(config, name)
        } else {
            SnapshotScope::All
        };
        let name = name.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let entry = match fut.await {
                Err(e) => FleetEntry {
                    result: Err(e.to_problem(&name)),
                    name,
                    client: None,
                    connected: false,
                    host_key: None,
                },
                Ok((runner, host_key)) => {
                    progress.update(i, Phase::Reading);
                    let client = Arc::new(Client::new(name.clone(), runner));
                    FleetEntry {
                        result: read_scoped(&client, &scope).await,
                        client: Some(client),
                        name,
                        connected: true,
                        host_key,
                    }
                }
            };
            progress.update(
                i,
                match &entry.result {
                    Ok(inv) => Phase::Done(inv.summary()),
                    Err(p) => Phase::Failed(p.code.to_string()),
                },
            );
            (i, entry)
        });
    }
    let mut out: Vec<Option<FleetEntry<R>>> = names.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, e)) = joined
            && let Some(slot) = out.get_mut(i)
        {
            *slot = Some(e);
        }
    }
    names
        .into_iter()
        .zip(out)
        .map(|(name, e)| match e {
            Some(e) => e,
            None => FleetEntry {
                result: Err(Problem::error(
                    "zfleet::api::call_failed",
                    "reading the system stopped unexpectedly",
                )
                .system(name.clone())),
                name,
                client: None,
                connected: false,
                host_key: None,
            },
        })
        .collect()
}
