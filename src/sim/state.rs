//! The persisted state of one simulated TrueNAS system.
//!
//! Rows are stored close to the middleware's own database rows (references as ids), so that
//! the methods can render them in each version's result shape. Everything is plain serde
//! data; the state file is this struct as JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::shared::Shared;
use super::version::Personality;

/// One simulated system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimState {
    pub system: SystemIdentity,
    #[serde(default)]
    pub clock: Clock,
    /// Every dataset and zvol by full name (`tank/data`); a pool is its root dataset.
    #[serde(default)]
    pub datasets: Shared<BTreeMap<String, Dataset>>,
    /// Every snapshot by full name (`tank/data@auto-2025-10-30_13-00`).
    #[serde(default)]
    pub snapshots: Shared<BTreeMap<String, Snapshot>>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub ssh: SshConfig,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub keychain: Vec<Credential>,
    #[serde(default)]
    pub snapshot_tasks: Vec<SnapshotTask>,
    #[serde(default)]
    pub replications: Vec<ReplicationTask>,
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Auto-increment counters: the next id per table never reuses a deleted id, like SQLite's
    /// AUTOINCREMENT tables of the middleware.
    #[serde(default)]
    pub next_ids: NextIds,
    /// The pool-wide transaction group counter (snapshot and dataset `createtxg`).
    #[serde(default = "default_txg")]
    pub txg: u64,
    /// Room for the engine (faults, schedules, run bookkeeping) to keep its own data without
    /// changing this struct.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Value>,
    /// What the state was seeded from, so that a fixture edited later is noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeded_from: Option<SeedRecord>,
}

/// The fixture and version a state was seeded from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecord {
    /// `sha256:<hex>` of the fixture's bytes; `None` for a system seeded without one.
    pub fixture_sha256: Option<String>,
    /// The version asked for over the fixture's own, if any.
    pub version: Option<String>,
}

fn default_txg() -> u64 {
    1000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemIdentity {
    pub hostname: String,
    /// Full version as the fixture gives it (`25.10.1`, `24.04.2`, `13.0-U6.2`).
    pub version: String,
    pub timezone: String,
    /// Addresses other systems use to reach this one (replication targets are found by
    /// hostname or by one of these).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Enterprise hardware changes `system.product_type`.
    #[serde(default)]
    pub enterprise: bool,
    /// Boot time, epoch seconds.
    #[serde(default)]
    pub boottime: i64,
}

/// The simulated clock: real time shifted by an offset, or frozen at a fixed instant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// Fixed "now" in epoch seconds; `None` follows the host clock.
    #[serde(default)]
    pub frozen_at: Option<i64>,
    /// Seconds added to the base time (advanced by the engine).
    #[serde(default)]
    pub offset_secs: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NextIds {
    #[serde(default = "one")]
    pub snapshot_task: u64,
    #[serde(default = "one")]
    pub replication: u64,
    #[serde(default = "one")]
    pub credential: u64,
    #[serde(default = "one")]
    pub job: u64,
    #[serde(default = "one")]
    pub user: u64,
    #[serde(default = "one")]
    pub service: u64,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DatasetType {
    Filesystem,
    Volume,
}

/// Where a property value comes from, as `zfs get` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PropSource {
    None,
    Default,
    Local,
    Temporary,
    Inherited,
    Received,
}

/// A property set on this dataset itself (LOCAL or RECEIVED); inherited values are computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropValue {
    /// The raw ZFS value (`on`, `lz4`, `131072`).
    pub value: String,
    pub source: PropSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    #[serde(rename = "type")]
    pub kind: DatasetType,
    /// Native properties set here (`readonly`, `compression`, ...).
    #[serde(default)]
    pub properties: BTreeMap<String, PropValue>,
    /// User properties (`namespace:name`) set here; children inherit them.
    #[serde(default)]
    pub user_properties: BTreeMap<String, PropValue>,
    #[serde(default)]
    pub encrypted: bool,
    /// The dataset whose key this one uses (itself for an encryption root).
    #[serde(default)]
    pub encryption_root: Option<String>,
    #[serde(default)]
    pub key_loaded: bool,
    /// Bytes referenced by the dataset itself.
    #[serde(default)]
    pub used: u64,
    /// Volume size in bytes (volumes only).
    #[serde(default)]
    pub volsize: Option<u64>,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub creation: i64,
    #[serde(default)]
    pub createtxg: u64,
}

impl Dataset {
    pub fn filesystem(creation: i64, createtxg: u64) -> Dataset {
        Dataset {
            kind: DatasetType::Filesystem,
            properties: BTreeMap::new(),
            user_properties: BTreeMap::new(),
            encrypted: false,
            encryption_root: None,
            key_loaded: false,
            used: 98304,
            volsize: None,
            creation,
            createtxg,
        }
    }

    pub fn locked(&self) -> bool {
        self.encrypted && !self.key_loaded
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub dataset: String,
    /// The part after `@`.
    pub name: String,
    /// Creation time, epoch seconds.
    pub creation: i64,
    pub createtxg: u64,
    #[serde(default)]
    pub used: u64,
    #[serde(default)]
    pub referenced: u64,
    #[serde(default)]
    pub user_properties: BTreeMap<String, String>,
    /// Hold tag → time (epoch seconds).
    #[serde(default)]
    pub holds: BTreeMap<String, i64>,
}

impl Snapshot {
    pub fn full_name(&self) -> String {
        format!("{}@{}", self.dataset, self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ServiceState {
    Running,
    Stopped,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub id: u64,
    pub service: String,
    pub enable: bool,
    pub state: ServiceState,
}

/// `ssh.config`, with the host keys as OpenSSH public key lines (`ssh-ed25519 AAAA...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SshConfig {
    pub tcpport: u16,
    #[serde(default)]
    pub passwordauth: bool,
    #[serde(default)]
    pub tcpfwd: bool,
    #[serde(default)]
    pub compression: bool,
    #[serde(default)]
    pub bindiface: Vec<String>,
    #[serde(default)]
    pub password_login_groups: Vec<String>,
    #[serde(default)]
    pub weak_ciphers: Vec<String>,
    #[serde(default)]
    pub options: String,
    /// Public host keys, one OpenSSH line per key type.
    #[serde(default)]
    pub host_keys: Vec<String>,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            tcpport: 22,
            passwordauth: false,
            tcpfwd: false,
            compression: false,
            bindiface: Vec::new(),
            password_login_groups: Vec::new(),
            weak_ciphers: vec!["AES128-CBC".into(), "NONE".into()],
            options: String::new(),
            host_keys: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub uid: u32,
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    pub home: String,
    #[serde(default = "default_shell")]
    pub shell: String,
    #[serde(default)]
    pub builtin: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub password_disabled: bool,
    /// Content of `~/.ssh/authorized_keys` (stripped), `None` when the file is absent.
    #[serde(default)]
    pub sshpubkey: Option<String>,
    #[serde(default)]
    pub sudo_commands: Vec<String>,
    #[serde(default)]
    pub sudo_commands_nopasswd: Vec<String>,
    /// Primary group id.
    #[serde(default)]
    pub group: u32,
}

fn default_shell() -> String {
    "/usr/bin/zsh".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialType {
    #[serde(rename = "SSH_KEY_PAIR")]
    SshKeyPair,
    #[serde(rename = "SSH_CREDENTIALS")]
    SshCredentials,
}

impl CredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::SshKeyPair => "SSH_KEY_PAIR",
            CredentialType::SshCredentials => "SSH_CREDENTIALS",
        }
    }
}

/// A keychain credential; `attributes` as the middleware stores them (JSON object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: u64,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CredentialType,
    pub attributes: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifetimeUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A cron schedule as TrueNAS stores it: strings, `dow` 1 = Monday … 7 = Sunday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub minute: String,
    pub hour: String,
    pub dom: String,
    pub month: String,
    pub dow: String,
    pub begin: String,
    pub end: String,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            minute: "00".into(),
            hour: "*".into(),
            dom: "*".into(),
            month: "*".into(),
            dow: "*".into(),
            begin: "00:00".into(),
            end: "23:59".into(),
        }
    }
}

/// The zettarepl state of a snapshot task or replication (`state` in query results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    pub state: TaskStateKind,
    /// When the state was entered, epoch seconds (naive UTC).
    #[serde(default)]
    pub datetime: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    /// WAITING / HOLD reason.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// RUNNING progress object, as zettarepl reports it.
    #[serde(default)]
    pub progress: Option<Value>,
    #[serde(default)]
    pub last_snapshot: Option<String>,
}

impl Default for TaskState {
    fn default() -> Self {
        TaskState {
            state: TaskStateKind::Pending,
            datetime: None,
            error: None,
            reason: None,
            warnings: Vec::new(),
            progress: None,
            last_snapshot: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskStateKind {
    Pending,
    Waiting,
    Running,
    Finished,
    Error,
    Hold,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTask {
    pub id: u64,
    pub dataset: String,
    pub recursive: bool,
    pub lifetime_value: u64,
    pub lifetime_unit: LifetimeUnit,
    pub enabled: bool,
    pub exclude: Vec<String>,
    pub naming_schema: String,
    pub allow_empty: bool,
    pub schedule: Schedule,
    #[serde(default)]
    pub state: TaskState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Direction {
    Push,
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    #[serde(rename = "SSH")]
    Ssh,
    #[serde(rename = "SSH+NETCAT")]
    SshNetcat,
    #[serde(rename = "LOCAL")]
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReadonlyPolicy {
    Set,
    Require,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RetentionPolicy {
    Source,
    Custom,
    None,
}

/// A replication task row: field names and order as `replication.query` returns them;
/// `ssh_credentials` and `periodic_snapshot_tasks` hold ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationTask {
    pub id: u64,
    pub name: String,
    pub direction: Direction,
    pub transport: Transport,
    pub ssh_credentials: Option<u64>,
    pub netcat_active_side: Option<String>,
    pub netcat_active_side_listen_address: Option<String>,
    pub netcat_active_side_port_min: Option<u64>,
    pub netcat_active_side_port_max: Option<u64>,
    pub netcat_passive_side_connect_address: Option<String>,
    pub sudo: bool,
    pub source_datasets: Vec<String>,
    pub target_dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub properties: bool,
    pub properties_exclude: Vec<String>,
    pub properties_override: serde_json::Map<String, Value>,
    pub replicate: bool,
    pub encryption: bool,
    pub encryption_inherit: Option<bool>,
    pub encryption_key: Option<String>,
    pub encryption_key_format: Option<String>,
    pub encryption_key_location: Option<String>,
    pub periodic_snapshot_tasks: Vec<u64>,
    pub naming_schema: Vec<String>,
    pub also_include_naming_schema: Vec<String>,
    pub name_regex: Option<String>,
    pub auto: bool,
    pub schedule: Option<Schedule>,
    pub restrict_schedule: Option<Schedule>,
    pub only_matching_schedule: bool,
    pub allow_from_scratch: bool,
    pub readonly: ReadonlyPolicy,
    pub hold_pending_snapshots: bool,
    pub retention_policy: RetentionPolicy,
    pub lifetime_value: Option<u64>,
    pub lifetime_unit: Option<LifetimeUnit>,
    pub lifetimes: Vec<Value>,
    pub compression: Option<String>,
    pub speed_limit: Option<u64>,
    pub large_block: bool,
    pub embed: bool,
    pub compressed: bool,
    pub retries: u64,
    pub logging_level: Option<String>,
    pub enabled: bool,
    #[serde(default)]
    pub state: TaskState,
    /// The last `replication.run` job of this task.
    #[serde(default)]
    pub job: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobState {
    Waiting,
    Running,
    Success,
    Failed,
    Aborted,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Success | JobState::Failed | JobState::Aborted
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    /// As computed: SCALE shows it truncated (`int(percent)`), CORE 13 as the float.
    pub percent: f64,
    pub description: String,
    #[serde(default)]
    pub extra: Value,
}

impl Default for JobProgress {
    fn default() -> Self {
        JobProgress {
            percent: 0.0,
            description: String::new(),
            extra: Value::Null,
        }
    }
}

/// A row of `core.get_jobs`; the engine moves `state` and `progress` along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub method: String,
    pub arguments: Vec<Value>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub abortable: bool,
    #[serde(default)]
    pub logs_excerpt: Option<String>,
    #[serde(default)]
    pub progress: JobProgress,
    #[serde(default)]
    pub result: Value,
    /// `str(exception)`, e.g. `[EFAULT] Task is not enabled`.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub exception: Option<String>,
    /// `{repr, type, errno, extra}` as the middleware reports it.
    #[serde(default)]
    pub exc_info: Option<Value>,
    pub state: JobState,
    /// Epoch seconds.
    pub time_started: i64,
    #[serde(default)]
    pub time_finished: Option<i64>,
    /// Whether the job was started by a user call (credentials shown) or by the scheduler.
    #[serde(default = "yes")]
    pub by_user: bool,
}

fn yes() -> bool {
    true
}

impl SimState {
    /// The snapshots of one dataset (not of its children), in name order: a range of the
    /// table, which is sorted by full name, so a system of many datasets is not walked whole.
    pub fn snapshots_of_dataset<'a>(&'a self, dataset: &str) -> impl Iterator<Item = &'a Snapshot> {
        let prefix = format!("{dataset}@");
        self.snapshots
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(_, s)| s)
            .filter(move |s| s.dataset == dataset)
    }

    /// The snapshots of a dataset and of every dataset below it: two ranges of the table.
    pub fn snapshots_in_tree<'a>(&'a self, dataset: &str) -> impl Iterator<Item = &'a Snapshot> {
        let below = format!("{dataset}/");
        let children = self
            .snapshots
            .range::<str, _>((
                std::ops::Bound::Included(below.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(&below))
            .map(|(_, s)| s);
        self.snapshots_of_dataset(dataset).chain(children)
    }

    /// A system with nothing but its identity, the SSH service (stopped) and root.
    pub fn empty(hostname: &str, version: &str, timezone: &str) -> SimState {
        SimState {
            system: SystemIdentity {
                hostname: hostname.into(),
                version: version.into(),
                timezone: timezone.into(),
                addresses: Vec::new(),
                enterprise: false,
                boottime: 0,
            },
            clock: Clock::default(),
            datasets: Shared::default(),
            snapshots: Shared::default(),
            services: Vec::new(),
            ssh: SshConfig::default(),
            users: Vec::new(),
            keychain: Vec::new(),
            snapshot_tasks: Vec::new(),
            replications: Vec::new(),
            jobs: Vec::new(),
            next_ids: NextIds {
                snapshot_task: 1,
                replication: 1,
                credential: 1,
                job: 1,
                user: 1,
                service: 1,
            },
            txg: default_txg(),
            extensions: BTreeMap::new(),
            seeded_from: None,
        }
    }

    /// The simulated "now".
    pub fn now(&self) -> DateTime<Utc> {
        let base = match self.clock.frozen_at {
            Some(t) => DateTime::<Utc>::from_timestamp(t, 0).unwrap_or_else(Utc::now),
            None => Utc::now(),
        };
        base + chrono::Duration::seconds(self.clock.offset_secs)
    }

    /// The simulated "now" in whole epoch seconds.
    pub fn now_secs(&self) -> i64 {
        self.now().timestamp()
    }

    /// The system's timezone (UTC when the name is unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.system.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn personality(&self) -> Personality {
        Personality::from_version(&self.system.version).unwrap_or(Personality::V2510)
    }

    /// Advances the transaction group counter and returns the new txg.
    pub fn next_txg(&mut self) -> u64 {
        self.txg += 1;
        self.txg
    }

    pub fn take_id(counter: &mut u64) -> u64 {
        let id = (*counter).max(1);
        *counter = id + 1;
        id
    }

    /// Adds a job row and returns its id.
    pub fn add_job(&mut self, method: &str, arguments: Vec<Value>, state: JobState) -> u64 {
        let id = SimState::take_id(&mut self.next_ids.job);
        let now = self.now_secs();
        self.jobs.push(Job {
            id,
            method: method.into(),
            arguments,
            description: None,
            abortable: false,
            logs_excerpt: None,
            progress: JobProgress::default(),
            result: Value::Null,
            error: None,
            exception: None,
            exc_info: None,
            state,
            time_started: now,
            time_finished: None,
            by_user: true,
        });
        id
    }

    pub fn job_mut(&mut self, id: u64) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// Ends a job with a CallError (`[EFAULT] <reason>`), as the middleware records it.
    pub fn fail_job(&mut self, id: u64, reason: &str) {
        let now = self.now_secs();
        if let Some(job) = self.job_mut(id) {
            let error = format!("[EFAULT] {reason}");
            job.state = JobState::Failed;
            job.time_finished = Some(now);
            job.exception = Some(format!(
                "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/job.py\", line 515, in run\n    await self.future\n  ...\nmiddlewared.service_exception.CallError: {error}\n"
            ));
            job.exc_info = Some(serde_json::json!({
                "repr": format!("CallError({})", super::render::py_repr_str(reason)),
                "type": "CallError",
                "errno": 14,
                "extra": null,
            }));
            job.error = Some(error);
        }
    }

    /// Ends a job successfully with `result`.
    pub fn finish_job(&mut self, id: u64, result: Value) {
        let now = self.now_secs();
        if let Some(job) = self.job_mut(id) {
            job.state = JobState::Success;
            job.time_finished = Some(now);
            job.progress.percent = 100.0;
            job.result = result;
        }
    }

    pub fn dataset_exists(&self, name: &str) -> bool {
        self.datasets.contains_key(name)
    }

    /// Finds the effective value of a native property: set here, inherited, or `None`.
    pub fn effective_prop(
        &self,
        dataset: &str,
        prop: &str,
    ) -> Option<(String, PropSource, Option<String>)> {
        let mut current = dataset;
        let mut first = true;
        loop {
            if let Some(ds) = self.datasets.get(current)
                && let Some(p) = ds.properties.get(prop)
            {
                return Some(if first {
                    (p.value.clone(), p.source, None)
                } else {
                    (
                        p.value.clone(),
                        PropSource::Inherited,
                        Some(current.to_string()),
                    )
                });
            }
            first = false;
            match current.rsplit_once('/') {
                Some((parent, _)) => current = parent,
                None => return None,
            }
        }
    }

    /// Every user property visible on a dataset (own and inherited), nearest first wins.
    pub fn effective_user_props(
        &self,
        dataset: &str,
    ) -> BTreeMap<String, (String, PropSource, Option<String>)> {
        let mut out = BTreeMap::new();
        let mut current = Some(dataset);
        let mut first = true;
        while let Some(name) = current {
            if let Some(ds) = self.datasets.get(name) {
                for (k, v) in &ds.user_properties {
                    out.entry(k.clone()).or_insert_with(|| {
                        if first {
                            (v.value.clone(), v.source, None)
                        } else {
                            (
                                v.value.clone(),
                                PropSource::Inherited,
                                Some(name.to_string()),
                            )
                        }
                    });
                }
            }
            first = false;
            current = name.rsplit_once('/').map(|(p, _)| p);
        }
        out
    }

    /// Whether `readonly` is effectively on for a dataset.
    pub fn is_readonly(&self, dataset: &str) -> bool {
        self.effective_prop(dataset, "readonly")
            .is_some_and(|(v, _, _)| v == "on")
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.service == name)
    }
}
