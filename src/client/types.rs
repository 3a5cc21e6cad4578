//! Typed results of the calls zfleet makes, as the middleware returns them, with secrets
//! dropped at this boundary: keychain private keys, replication `encryption_key`, SSH host
//! private keys never get past [`decode`](super::decode).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::parse::ejson_date;

/// `{"$date": ms}` as a UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Date(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        ejson_date(&v)
            .map(Date)
            .ok_or_else(|| serde::de::Error::custom("expected {\"$date\": ms}"))
    }
}

/// `system.info`, the parts zfleet shows or needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SystemInfo {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub physmem: Option<u64>,
    #[serde(default)]
    pub cores: Option<u64>,
    #[serde(default)]
    pub uptime_seconds: Option<f64>,
    #[serde(default)]
    pub system_product: Option<String>,
    /// The system's clock when it answered.
    #[serde(default)]
    pub datetime: Option<Date>,
}

/// A ZFS property as `pool.dataset.query` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyValue {
    #[serde(default)]
    pub rawvalue: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub source_info: Option<String>,
}

/// One dataset: identity, encryption, `readonly` and user properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dataset {
    pub name: String,
    /// `FILESYSTEM` or `VOLUME`.
    pub kind: String,
    pub pool: String,
    pub encrypted: bool,
    pub locked: bool,
    /// `readonly=on`, and where it comes from (`LOCAL`, `INHERITED`, ...).
    pub readonly: bool,
    pub readonly_source: Option<String>,
    pub user_properties: BTreeMap<String, PropertyValue>,
}

#[derive(Deserialize)]
struct RawDataset {
    id: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    pool: Option<String>,
    #[serde(default)]
    encrypted: Option<bool>,
    #[serde(default)]
    locked: Option<bool>,
    #[serde(default)]
    readonly: Option<RawProp>,
    #[serde(default)]
    user_properties: Option<BTreeMap<String, PropertyValue>>,
}

#[derive(Deserialize)]
struct RawProp {
    #[serde(default)]
    parsed: Value,
    #[serde(default)]
    rawvalue: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

impl<'de> Deserialize<'de> for Dataset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawDataset::deserialize(d)?;
        let (readonly, readonly_source) = match r.readonly {
            Some(p) => (
                p.parsed.as_bool().unwrap_or(false) || p.rawvalue.as_deref() == Some("on"),
                p.source,
            ),
            None => (false, None),
        };
        let pool = r
            .pool
            .unwrap_or_else(|| r.id.split('/').next().unwrap_or_default().to_string());
        Ok(Dataset {
            name: r.id,
            kind: r.kind.unwrap_or_else(|| "FILESYSTEM".into()),
            pool,
            encrypted: r.encrypted.unwrap_or(false),
            locked: r.locked.unwrap_or(false),
            readonly,
            readonly_source,
            user_properties: r.user_properties.unwrap_or_default(),
        })
    }
}

/// A schedule exactly as stored (strings; `begin`/`end` absent in `lifetimes[].schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub minute: String,
    pub hour: String,
    pub dom: String,
    pub month: String,
    pub dow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub begin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

impl From<&crate::model::TnSchedule> for Schedule {
    fn from(s: &crate::model::TnSchedule) -> Self {
        Schedule {
            minute: s.minute.clone(),
            hour: s.hour.clone(),
            dom: s.dom.clone(),
            month: s.month.clone(),
            dow: s.dow.clone(),
            begin: Some(s.begin.clone()),
            end: Some(s.end.clone()),
        }
    }
}

/// zettarepl's view of a task (`state` of snapshot tasks and replications).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskState {
    /// `PENDING`, `RUNNING`, `FINISHED`, `ERROR`, `HOLD`, `WAITING`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub datetime: Option<Date>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
    #[serde(default)]
    pub last_snapshot: Option<String>,
}

/// A periodic snapshot task (`pool.snapshottask.query`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTask {
    pub id: i64,
    pub dataset: String,
    pub recursive: bool,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub lifetime_value: i64,
    pub lifetime_unit: String,
    pub naming_schema: String,
    pub schedule: Schedule,
    #[serde(default = "yes")]
    pub allow_empty: bool,
    pub enabled: bool,
    #[serde(default)]
    pub state: TaskState,
}

fn yes() -> bool {
    true
}

/// One entry of a replication's `lifetimes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationLifetime {
    pub schedule: Schedule,
    pub lifetime_value: i64,
    pub lifetime_unit: String,
}

/// A job as `core.get_jobs` returns it (the fields zfleet reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    #[serde(default)]
    pub method: String,
    /// `WAITING`, `RUNNING`, `SUCCESS`, `FAILED`, `ABORTED`.
    pub state: String,
    #[serde(default)]
    pub progress: JobProgress,
    #[serde(default)]
    pub result: Value,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub time_started: Option<Date>,
    #[serde(default)]
    pub time_finished: Option<Date>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        matches!(self.state.as_str(), "SUCCESS" | "FAILED" | "ABORTED")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobProgress {
    #[serde(default)]
    pub percent: Option<f64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A replication task (`replication.query`), references reduced to ids, no `encryption_key`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replication {
    pub id: i64,
    pub name: String,
    pub direction: String,
    pub transport: String,
    /// Id of the SSH_CREDENTIALS keychain entry.
    pub ssh_credentials: Option<i64>,
    pub sudo: Option<bool>,
    pub source_datasets: Vec<String>,
    pub target_dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub properties: bool,
    pub properties_exclude: Vec<String>,
    pub properties_override: Option<BTreeMap<String, String>>,
    pub replicate: bool,
    pub encryption: bool,
    pub encryption_inherit: Option<bool>,
    /// Whether an encryption key is set (the key itself is never kept).
    pub has_encryption_key: bool,
    pub encryption_key_format: Option<String>,
    pub encryption_key_location: Option<String>,
    /// Ids of the bound periodic snapshot tasks.
    pub periodic_snapshot_tasks: Vec<i64>,
    pub naming_schema: Vec<String>,
    pub also_include_naming_schema: Vec<String>,
    pub name_regex: Option<String>,
    pub auto: bool,
    pub schedule: Option<Schedule>,
    pub restrict_schedule: Option<Schedule>,
    pub only_matching_schedule: bool,
    pub allow_from_scratch: bool,
    pub readonly: String,
    pub hold_pending_snapshots: bool,
    pub retention_policy: String,
    pub lifetime_value: Option<i64>,
    pub lifetime_unit: Option<String>,
    pub lifetimes: Option<Vec<ReplicationLifetime>>,
    pub compression: Option<String>,
    pub speed_limit: Option<i64>,
    pub large_block: bool,
    pub embed: bool,
    pub compressed: bool,
    pub retries: i64,
    pub logging_level: Option<String>,
    pub enabled: bool,
    pub state: TaskState,
    pub job: Option<Job>,
}

#[derive(Deserialize)]
struct RawReplication {
    id: i64,
    name: String,
    direction: String,
    transport: String,
    #[serde(default)]
    ssh_credentials: RefId,
    #[serde(default)]
    sudo: Option<bool>,
    source_datasets: Vec<String>,
    target_dataset: String,
    recursive: bool,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default = "yes")]
    properties: bool,
    #[serde(default)]
    properties_exclude: Vec<String>,
    #[serde(default)]
    properties_override: Option<BTreeMap<String, String>>,
    #[serde(default)]
    replicate: bool,
    #[serde(default)]
    encryption: bool,
    #[serde(default)]
    encryption_inherit: Option<bool>,
    #[serde(default)]
    encryption_key: Option<String>,
    #[serde(default)]
    encryption_key_format: Option<String>,
    #[serde(default)]
    encryption_key_location: Option<String>,
    #[serde(default)]
    periodic_snapshot_tasks: Vec<RefId>,
    #[serde(default)]
    naming_schema: Vec<String>,
    #[serde(default)]
    also_include_naming_schema: Vec<String>,
    #[serde(default)]
    name_regex: Option<String>,
    auto: bool,
    #[serde(default)]
    schedule: Option<Schedule>,
    #[serde(default)]
    restrict_schedule: Option<Schedule>,
    #[serde(default)]
    only_matching_schedule: bool,
    #[serde(default)]
    allow_from_scratch: bool,
    #[serde(default = "set")]
    readonly: String,
    #[serde(default)]
    hold_pending_snapshots: bool,
    retention_policy: String,
    #[serde(default)]
    lifetime_value: Option<i64>,
    #[serde(default)]
    lifetime_unit: Option<String>,
    #[serde(default)]
    lifetimes: Option<Vec<ReplicationLifetime>>,
    #[serde(default)]
    compression: Option<String>,
    #[serde(default)]
    speed_limit: Option<i64>,
    #[serde(default = "yes")]
    large_block: bool,
    #[serde(default)]
    embed: bool,
    #[serde(default = "yes")]
    compressed: bool,
    #[serde(default = "five")]
    retries: i64,
    #[serde(default)]
    logging_level: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    state: TaskState,
    #[serde(default)]
    job: Option<Job>,
}

fn set() -> String {
    "SET".into()
}

fn five() -> i64 {
    5
}

/// A reference that comes back as an id, as the whole object with an `id`, or null. Only
/// the id is kept; the rest of the object is skipped without being stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct RefId(Option<i64>);

impl<'de> Deserialize<'de> for RefId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RefId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an id, an object with an id, or null")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RefId, E> {
                Ok(RefId(Some(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RefId, E> {
                Ok(RefId(i64::try_from(v).ok()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<RefId, E> {
                Ok(RefId(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<RefId, E> {
                Ok(RefId(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RefId, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<RefId, A::Error> {
                let mut id = None;
                while let Some(k) = m.next_key::<String>()? {
                    if k == "id" {
                        id = m.next_value::<Option<i64>>()?;
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(RefId(id))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Replication {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawReplication::deserialize(d)?;
        Ok(Replication {
            id: r.id,
            name: r.name,
            direction: r.direction,
            transport: r.transport,
            ssh_credentials: r.ssh_credentials.0,
            sudo: r.sudo,
            source_datasets: r.source_datasets,
            target_dataset: r.target_dataset,
            recursive: r.recursive,
            exclude: r.exclude,
            properties: r.properties,
            properties_exclude: r.properties_exclude,
            properties_override: r.properties_override,
            replicate: r.replicate,
            encryption: r.encryption,
            encryption_inherit: r.encryption_inherit,
            has_encryption_key: r.encryption_key.is_some_and(|k| !k.is_empty()),
            encryption_key_format: r.encryption_key_format,
            encryption_key_location: r.encryption_key_location,
            periodic_snapshot_tasks: r
                .periodic_snapshot_tasks
                .iter()
                .filter_map(|r| r.0)
                .collect(),
            naming_schema: r.naming_schema,
            also_include_naming_schema: r.also_include_naming_schema,
            name_regex: r.name_regex,
            auto: r.auto,
            schedule: r.schedule,
            restrict_schedule: r.restrict_schedule,
            only_matching_schedule: r.only_matching_schedule,
            allow_from_scratch: r.allow_from_scratch,
            readonly: r.readonly,
            hold_pending_snapshots: r.hold_pending_snapshots,
            retention_policy: r.retention_policy,
            lifetime_value: r.lifetime_value,
            lifetime_unit: r.lifetime_unit,
            lifetimes: r.lifetimes,
            compression: r.compression,
            speed_limit: r.speed_limit,
            large_block: r.large_block,
            embed: r.embed,
            compressed: r.compressed,
            retries: r.retries,
            logging_level: r.logging_level,
            enabled: r.enabled,
            state: r.state,
            job: r.job,
        })
    }
}

/// The SSH service row (`service.query [["service","=","ssh"]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub id: i64,
    pub service: String,
    /// Start on boot.
    pub enable: bool,
    /// `RUNNING`, `STOPPED` or `UNKNOWN`.
    pub state: String,
}

impl ServiceStatus {
    pub fn running(&self) -> bool {
        self.state == "RUNNING"
    }
}

/// `ssh.config` without the host private keys: port, password logins, public host keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshConfig {
    pub tcpport: u16,
    pub passwordauth: bool,
    /// Public host keys as `type base64 [comment]` lines (decoded from the `*_pub` fields).
    pub host_public_keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawSshConfig {
    #[serde(default = "port22")]
    tcpport: u16,
    #[serde(default)]
    passwordauth: bool,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

fn port22() -> u16 {
    22
}

impl<'de> Deserialize<'de> for SshConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawSshConfig::deserialize(d)?;
        let mut keys = Vec::new();
        for kind in ["rsa", "ecdsa", "ed25519"] {
            // Only `*_key_pub` is read; `host_*_key` are private keys and are dropped here.
            if let Some(b64) = r
                .rest
                .get(&format!("host_{kind}_key_pub"))
                .and_then(Value::as_str)
                && let Some(bytes) = base64_decode(b64)
                && let Ok(text) = String::from_utf8(bytes)
            {
                let line = text.trim();
                if !line.is_empty() {
                    keys.push(line.to_string());
                }
            }
        }
        Ok(SshConfig {
            tcpport: r.tcpport,
            passwordauth: r.passwordauth,
            host_public_keys: keys,
        })
    }
}

/// A keychain credential with any private key material dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeychainCredential {
    pub id: i64,
    pub name: String,
    pub credential: Credential,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Credential {
    /// The private key is never asked for; `public_key` is `None` when the system did not
    /// give it (CORE 13 cannot select it alone) or holds none.
    SshKeyPair {
        public_key: Option<String>,
    },
    SshCredentials {
        host: String,
        port: u16,
        username: String,
        /// Id of the SSH_KEY_PAIR entry.
        private_key: Option<i64>,
        remote_host_key: String,
        connect_timeout: Option<i64>,
    },
    /// Attributes masked (`********`) for sessions without keychain write rights.
    Redacted {
        kind: String,
    },
    Other {
        kind: String,
    },
}

impl KeychainCredential {
    /// The entry's `type`, e.g. `SSH_KEY_PAIR`.
    pub fn kind(&self) -> &str {
        match &self.credential {
            Credential::SshKeyPair { .. } => "SSH_KEY_PAIR",
            Credential::SshCredentials { .. } => "SSH_CREDENTIALS",
            Credential::Redacted { kind } | Credential::Other { kind } => kind,
        }
    }
}

#[derive(Deserialize)]
struct RawCredential {
    id: i64,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    attributes: Value,
}

impl<'de> Deserialize<'de> for KeychainCredential {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawCredential::deserialize(d)?;
        let a = &r.attributes;
        let s = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
        let credential = match (a, r.kind.as_str()) {
            (Value::Object(_), "SSH_KEY_PAIR") => Credential::SshKeyPair {
                public_key: s("public_key"),
            },
            // A select of nested fields that the system's version cannot make.
            (Value::Null, "SSH_KEY_PAIR") => Credential::SshKeyPair { public_key: None },
            (Value::Object(_), "SSH_CREDENTIALS") => Credential::SshCredentials {
                host: s("host").unwrap_or_default(),
                port: a
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(22),
                username: s("username").unwrap_or_else(|| "root".into()),
                private_key: a.get("private_key").and_then(Value::as_i64),
                remote_host_key: s("remote_host_key").unwrap_or_default(),
                connect_timeout: a.get("connect_timeout").and_then(Value::as_i64),
            },
            (_, "SSH_CREDENTIALS" | "SSH_KEY_PAIR") => Credential::Redacted { kind: r.kind },
            (Value::Object(_) | Value::Null, _) => Credential::Other { kind: r.kind },
            _ => Credential::Redacted { kind: r.kind },
        };
        Ok(KeychainCredential {
            id: r.id,
            name: r.name,
            credential,
        })
    }
}

/// A local user (the fields replication setup needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub uid: i64,
    pub username: String,
    #[serde(default)]
    pub home: Option<String>,
    #[serde(default)]
    pub shell: Option<String>,
    /// Whole `authorized_keys` content, or null when absent.
    #[serde(default)]
    pub sshpubkey: Option<String>,
    #[serde(default)]
    pub locked: Option<bool>,
    /// 24.04+ only.
    #[serde(default)]
    pub sudo_commands_nopasswd: Option<Vec<String>>,
}

/// A freshly generated key pair. The private half is a secret: no `Debug` contents, no
/// `Serialize`, sent only to the same system's keychain.
#[derive(Clone)]
pub struct GeneratedKeyPair {
    pub(crate) private_key: String,
    pub public_key: String,
}

impl std::fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("private_key", &"<secret>")
            .field("public_key", &self.public_key)
            .finish()
    }
}

/// Standard base64 (with or without padding); `None` on anything else.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let trimmed: &[u8] = {
        let mut end = bytes.len();
        while end > 0 && bytes[end - 1] == b'=' {
            end -= 1;
        }
        &bytes[..end]
    };
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    for chunk in trimmed.chunks(4) {
        let mut acc: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i as u32);
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8]),
            2 => out.push((acc >> 16) as u8),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> Value {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/truenas-api/examples"
        );
        let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("example");
        let v: Value = serde_json::from_str(&text).expect("json");
        v["result"].clone()
    }

    #[test]
    fn snapshot_tasks_example() {
        let tasks: Vec<SnapshotTask> =
            serde_json::from_value(example("pool.snapshottask.query.json")).expect("decode");
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].exclude, vec!["tank/data/scratch"]);
        assert_eq!(tasks[0].schedule.minute, "0");
        assert_eq!(tasks[0].state.state, "FINISHED");
        assert_eq!(
            tasks[0].state.last_snapshot.as_deref(),
            Some("tank/data@auto-2025-10-30_13-00")
        );
        assert_eq!(
            tasks[0].state.datetime.map(|d| d.0.to_rfc3339()),
            Some("2025-10-30T13:00:04+00:00".into())
        );
        assert!(!tasks[1].enabled);
        assert_eq!(tasks[1].state.state, "PENDING");
    }

    #[test]
    fn replications_example_reduces_references() {
        let reps: Vec<Replication> =
            serde_json::from_value(example("replication.query.json")).expect("decode");
        assert_eq!(reps[0].ssh_credentials, Some(3));
        assert_eq!(reps[0].periodic_snapshot_tasks, vec![1]);
        assert_eq!(reps[0].state.state, "RUNNING");
        assert!(reps[0].job.is_some());
        assert_eq!(reps[1].state.state, "ERROR");
        assert!(
            reps[1]
                .state
                .error
                .as_deref()
                .is_some_and(|e| e.ends_with('.'))
        );
    }

    #[test]
    fn encryption_key_is_dropped() {
        let mut v = example("replication.query.json");
        v[0]["encryption_key"] = Value::String("0123456789abcdef-secret".into());
        let reps: Vec<Replication> = serde_json::from_value(v).expect("decode");
        assert!(reps[0].has_encryption_key);
        let shown = format!(
            "{:?} {}",
            reps[0],
            serde_json::to_string(&reps[0]).expect("ser")
        );
        assert!(!shown.contains("0123456789abcdef-secret"));
    }

    #[test]
    fn keychain_private_keys_are_dropped() {
        let creds: Vec<KeychainCredential> =
            serde_json::from_value(example("keychaincredential.query.json")).expect("decode");
        let shown = format!("{creds:?} {}", serde_json::to_string(&creds).expect("ser"));
        assert!(!shown.contains("PRIVATE KEY"));
        assert_eq!(
            creds[0].credential,
            Credential::SshKeyPair {
                public_key: Some(
                    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDexamplepublickey root@truenas\n".into()
                ),
            }
        );
        let Credential::SshCredentials {
            private_key,
            port,
            username,
            ..
        } = &creds[1].credential
        else {
            panic!("not ssh credentials")
        };
        assert_eq!(
            (*private_key, *port, username.as_str()),
            (Some(2), 22, "truenas_admin")
        );
        let redacted: KeychainCredential = serde_json::from_value(
            serde_json::json!({"id": 4, "name": "x", "type": "SSH_KEY_PAIR", "attributes": "********"}),
        )
        .expect("decode");
        assert_eq!(
            redacted.credential,
            Credential::Redacted {
                kind: "SSH_KEY_PAIR".into()
            }
        );
        // CORE 13 cannot select `attributes.public_key` alone: no attributes at all.
        let core: KeychainCredential = serde_json::from_value(
            serde_json::json!({"id": 5, "name": "k", "type": "SSH_KEY_PAIR"}),
        )
        .expect("decode");
        assert_eq!(core.credential, Credential::SshKeyPair { public_key: None });
        assert_eq!(core.kind(), "SSH_KEY_PAIR");
    }

    #[test]
    fn ssh_config_keeps_public_host_keys_only() {
        let mut v = example("ssh.config.json");
        v["host_ed25519_key_pub"] = Value::String(
            "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUV4IHJvb3RAbmFzMQo=".into(),
        );
        let c: SshConfig = serde_json::from_value(v).expect("decode");
        assert_eq!(c.tcpport, 22);
        assert!(
            c.host_public_keys
                .contains(&"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx root@nas1".to_string())
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("LS0tLS1CRUdJTi"));
    }

    #[test]
    fn dataset_example() {
        let ds: Vec<Dataset> =
            serde_json::from_value(example("pool.dataset.query.json")).expect("decode");
        assert_eq!(ds[0].name, "backup/nas1/data");
        assert!(ds[0].readonly);
        assert_eq!(ds[0].readonly_source.as_deref(), Some("LOCAL"));
        assert_eq!(ds[0].kind, "FILESYSTEM");
    }

    #[test]
    fn jobs_and_services_examples() {
        let jobs: Vec<Job> = serde_json::from_value(example("core.get_jobs.json")).expect("jobs");
        assert_eq!(jobs[0].state, "SUCCESS");
        assert!(jobs[0].is_finished());
        assert_eq!(jobs[1].state, "FAILED");
        assert!(jobs[1].error.is_some());
        let svc: Vec<ServiceStatus> =
            serde_json::from_value(example("service.query.ssh.json")).expect("svc");
        assert!(svc[0].enable && svc[0].running());
        let info: SystemInfo = serde_json::from_value(example("system.info.json")).expect("info");
        assert_eq!(info.hostname.as_deref(), Some("nas1"));
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("!!!!"), None);
    }
}
