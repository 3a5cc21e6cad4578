//! Inventory: the live state of every system that plan needs, read in parallel.
//!
//! One system costs a constant number of round trips, whatever it holds: the first carries
//! `system.version` and every version-independent query, the second the queries whose
//! method names depend on the version (snapshots). A known version makes it one.

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use crate::client::api::{NameRow, calls, merge_keychain};
use crate::client::parse::Reply;
use crate::client::{
    ApiError, Client, ClientError, Dataset, KeychainCredential, Replication, ServiceStatus,
    SnapshotTask, SshConfig, SystemInfo, User, Version,
};
use crate::diag::Problem;
use crate::model::{Config, System};
use crate::progress::{Phase, Progress};
use crate::transport::{ConnectOptions, MidcltCall, Runner, TransportError};

/// What a progress line says a system is being reached at.
fn target_of(system: &System) -> String {
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

/// Reads one system's inventory.
pub async fn read<R: Runner>(client: &Client<R>) -> Result<Inventory, Problem> {
    read_inner(client).await.map_err(|e| e.to_problem())
}

async fn read_inner<R: Runner>(client: &Client<R>) -> Result<Inventory, ClientError> {
    let before = client.round_trips();
    let mut batch = independent_calls();
    let known = client.known_version().cloned();
    match &known {
        Some(v) => batch.push(calls::snapshot_names(v)),
        None => batch.insert(0, calls::system_version()),
    }
    let methods: Vec<String> = batch.iter().map(|c| c.method.clone()).collect();
    let mut results = client.batch(&batch).await?;

    let version = match known {
        Some(v) => v,
        None => {
            let raw = results.remove(0);
            let raw = raw.map_err(|e| client.error("system.version", e))?;
            client.learn_version(&raw.value())?
        }
    };
    let methods: Vec<String> = if methods[0] == "system.version" {
        methods[1..].to_vec()
    } else {
        methods
    };
    let snapshots_raw = if results.len() > independent_calls().len() {
        results.pop()
    } else {
        None
    };

    // Round trip 2: what needed the version.
    let snapshots_raw = match snapshots_raw {
        Some(r) => {
            r.map_err(|e| client.error(&format!("{}.query", version.snapshot_namespace()), e))?
        }
        None => {
            let call = calls::snapshot_names(&version);
            let mut r = client.batch(std::slice::from_ref(&call)).await?;
            r.pop()
                .unwrap_or_else(|| Err(ApiError::Unparsable("no answer".into())))
                .map_err(|e| client.error(&call.method, e))?
        }
    };
    let snap_method = format!("{}.query", version.snapshot_namespace());
    let rows: Vec<NameRow> = snapshots_raw
        .decode()
        .map_err(|e| client.error(&snap_method, e))?;
    let mut snapshots: Vec<String> = rows.into_iter().map(|r| r.name).collect();
    snapshots.sort();

    let mut it = results.into_iter().zip(methods);
    let mut next = || -> Result<(Reply, String), ClientError> {
        match it.next() {
            Some((r, m)) => r.map(|v| (v, m.clone())).map_err(|e| client.error(&m, e)),
            None => Err(client.error("batch", ApiError::Unparsable("missing answer".into()))),
        }
    };
    fn typed<T: serde::de::DeserializeOwned, R: Runner>(
        client: &Client<R>,
        (v, m): (Reply, String),
    ) -> Result<T, ClientError> {
        v.decode().map_err(|e| client.error(&m, e))
    }
    let info: SystemInfo = typed(client, next()?)?;
    let datasets: Vec<Dataset> = typed(client, next()?)?;
    let snapshot_tasks: Vec<SnapshotTask> = typed(client, next()?)?;
    let replications: Vec<Replication> = typed(client, next()?)?;
    let services: Vec<ServiceStatus> = typed(client, next()?)?;
    let ssh_config: SshConfig = typed(client, next()?)?;
    let connections: Vec<KeychainCredential> = typed(client, next()?)?;
    let keychain = merge_keychain(connections, typed(client, next()?)?);
    let users: Vec<User> = typed(client, next()?)?;
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
#[derive(Debug)]
pub struct FleetEntry {
    pub name: String,
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
    let opts = Arc::new(opts.clone());
    read_fleet_with(config, progress, move |system: System| {
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
    connect: C,
) -> Vec<FleetEntry>
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
        let name = name.clone();
        let progress = progress.clone();
        set.spawn(async move {
            let entry = match fut.await {
                Err(e) => FleetEntry {
                    result: Err(e.to_problem(&name)),
                    name,
                    connected: false,
                    host_key: None,
                },
                Ok((runner, host_key)) => {
                    progress.update(i, Phase::Reading);
                    let client = Client::new(name.clone(), runner);
                    FleetEntry {
                        result: read(&client).await,
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
    let mut out: Vec<Option<FleetEntry>> = names.iter().map(|_| None).collect();
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
                connected: false,
                host_key: None,
            },
        })
        .collect()
}
