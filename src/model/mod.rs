//! The validated model: what the config means once references are resolved, defaults
//! applied and schedules normalised. Plain data; no spans, no I/O.

pub mod dataset;
pub mod duration;
pub mod lifetime;
pub mod naming;
pub mod schedule;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::diag::CodeInfo;
pub use lifetime::{Lifetime, LifetimeUnit};
pub use schedule::TnSchedule;

pub const CODES: &[CodeInfo] = &[];

/// TrueCommand's default naming schema.
pub const DEFAULT_NAMING_SCHEMA: &str = "auto-%Y-%m-%d_%H-%M";

#[derive(Debug, Clone, Serialize, Default)]
pub struct Config {
    /// Ownership namespace on the systems.
    pub project: String,
    pub systems: BTreeMap<String, System>,
    pub snapshot_tasks: BTreeMap<String, SnapshotTask>,
    pub snapshots: Vec<Snapshot>,
    pub replications: BTreeMap<String, Replication>,
}

#[derive(Debug, Clone, Serialize)]
pub struct System {
    pub name: String,
    pub kind: SystemKind,
    /// `connect_timeout:` of the system: TCP connect, SSH handshake and authentication, each.
    pub connect_timeout: Option<std::time::Duration>,
    /// `timeout:` of the system: one wave of up to 8 concurrent `midclt` calls.
    pub timeout: Option<std::time::Duration>,
    /// Delete unmanaged tasks the config does not declare.
    pub prune: bool,
    /// Deleted snapshot tasks' snapshots keep their removal dates.
    pub fixate_removal_date: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    Ssh(SshSystem),
    Simulator(SimSystem),
}

/// A real system reached over SSH. Unset port/user/identity come from `~/.ssh/config`,
/// then the defaults (22, `root`, the usual key files and the agent).
#[derive(Debug, Clone, Serialize)]
pub struct SshSystem {
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// Pinned host key fingerprint, `SHA256:<base64>`.
    pub host_key: Option<String>,
    pub known_hosts: Option<PathBuf>,
    /// Address other systems use to reach this one for replication.
    pub replication_address: Option<String>,
    /// Run `midclt` through `sudo -n`.
    pub sudo: bool,
}

/// An embedded simulated TrueNAS system.
#[derive(Debug, Clone, Serialize)]
pub struct SimSystem {
    /// Seed fixture, resolved against the config file's folder.
    pub fixture: Option<PathBuf>,
    /// TrueNAS version personality (`13.0`, `13.3`, `24.04`, `24.10`, `25.04`, `25.10`).
    pub version: Option<String>,
    /// Where the system's state persists between runs.
    pub state_file: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotTask {
    pub name: String,
    pub system: String,
    pub dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub lifetime: Lifetime,
    pub naming_schema: String,
    pub schedule: TnSchedule,
    pub allow_empty: bool,
    pub enabled: bool,
    /// Take over a matching task made by hand.
    pub adopt: bool,
    /// Snapshots an edit stops keeping keep their removal dates.
    pub fixate_removal_date: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub system: String,
    pub dataset: String,
    pub naming_schema: String,
    pub recursive: bool,
    /// Children of a recursive snapshot left out.
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    Push,
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Transport {
    #[serde(rename = "SSH")]
    Ssh,
    #[serde(rename = "SSH+NETCAT")]
    SshNetcat,
    #[serde(rename = "LOCAL")]
    Local,
}

/// When a replication runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunSchedule {
    /// On this schedule (TrueNAS `auto: true` with a schedule).
    Schedule(TnSchedule),
    /// Right after its bound snapshot tasks (`auto: true`, no schedule; push only).
    WithSnapshotTasks,
    /// Only on demand (`auto: false`).
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    Source,
    None,
    Custom(Lifetime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Readonly {
    Set,
    Require,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Compression {
    Lz4,
    Pigz,
    Plzip,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicationSource {
    pub system: String,
    pub datasets: Vec<String>,
    /// Names of snapshot tasks (on this source system) whose snapshots are sent.
    pub snapshot_tasks: Vec<String>,
    /// Extra naming schemas of snapshots to send.
    pub naming_schemas: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplicationTarget {
    pub system: String,
    pub dataset: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replication {
    pub name: String,
    pub sources: Vec<ReplicationSource>,
    pub target: ReplicationTarget,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub direction: Direction,
    /// As written; `None` means derived per source: LOCAL on the target's own system, else SSH.
    pub transport: Option<Transport>,
    pub schedule: RunSchedule,
    pub retention: Retention,
    pub readonly: Readonly,
    pub allow_from_scratch: bool,
    pub hold_pending_snapshots: bool,
    pub properties: bool,
    pub properties_exclude: Vec<String>,
    pub properties_override: BTreeMap<String, String>,
    pub compression: Option<Compression>,
    /// Bytes per second.
    pub speed_limit: Option<u64>,
    pub retries: u32,
    pub enabled: bool,
    pub run_on_apply: bool,
    /// Take over same-named tasks made by hand.
    pub adopt: bool,
}

impl Replication {
    /// The transport of the TrueNAS task that serves `source_system`.
    pub fn transport_for(&self, source_system: &str) -> Transport {
        match self.transport {
            Some(t) => t,
            None if source_system == self.target.system => Transport::Local,
            None => Transport::Ssh,
        }
    }
}
