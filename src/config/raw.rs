//! The config file's types, as written: every value with its span, nothing resolved yet.
//!
//! These types are also the source of the JSON Schema (`zfleet schema`), so their doc
//! comments are what editors show.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::de::{Field, Sp};

/// Text that may be written as a number in YAML (`minute: 0`, `version: 25.10`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl JsonSchema for Text {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Text".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": ["string", "integer", "number"] })
    }
}

// The whole file. Only the JSON Schema is derived from it: the loader walks the sections
// itself, so that one bad entry does not hide the problems of the others.
/// zfleet: ZFS snapshot and replication tasks across fleets of TrueNAS systems, as code.
#[derive(Debug, JsonSchema)]
#[schemars(deny_unknown_fields, title = "zfleet configuration")]
#[allow(dead_code)]
pub struct RawConfig {
    /// Ownership namespace: zfleet marks what it creates on the systems with this name and
    /// never touches objects of another project. Lower-case letters, digits, `-`, `_`, `.`.
    pub project: String,
    /// The TrueNAS systems, by name: reached over SSH, or embedded simulated systems.
    pub systems: Option<BTreeMap<String, RawSystem>>,
    /// Periodic snapshot tasks, by name (TrueNAS tasks have no name; this one is zfleet's).
    pub snapshot_tasks: Option<BTreeMap<String, RawSnapshotTask>>,
    /// One-time manual snapshots, created when no snapshot matches the naming schema yet.
    pub snapshots: Option<Vec<RawSnapshot>>,
    /// Replications, by name; one replication with sources on N systems becomes N TrueNAS
    /// replication tasks.
    pub replications: Option<BTreeMap<String, RawReplication>>,
}

/// Keys an entry of type `type_name` must have (the deserializer reports them missing and
/// keeps the entry).
pub fn required_keys(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "RawSnapshotTask" | "RawSnapshot" | "RawTarget" => &["system", "dataset"],
        "RawReplication" => &["sources", "target"],
        "RawSource" => &["system", "datasets"],
        _ => &[],
    }
}

/// A TrueNAS system: `host` (SSH) or `simulator`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "System")]
pub struct RawSystem {
    /// Host name or address for SSH, or a `Host` alias of `~/.ssh/config`.
    pub host: Option<Field<Sp<String>>>,
    /// SSH port (default 22 or from `~/.ssh/config`).
    pub port: Option<Field<Sp<u16>>>,
    /// SSH user (default `root`; the uid-950 admin `truenas_admin` works without sudo).
    pub user: Option<Field<Sp<String>>>,
    /// Private key file (default: `~/.ssh/config`, the agent, then `~/.ssh/id_*`).
    pub identity_file: Option<Field<Sp<String>>>,
    /// Pinned host key fingerprint, `SHA256:...` as `ssh-keygen -lf` prints it.
    pub host_key: Option<Field<Sp<String>>>,
    /// known_hosts file to verify the host key against (default `~/.ssh/known_hosts`).
    pub known_hosts: Option<Field<Sp<String>>>,
    /// Address other systems use to reach this one for replication (default: `host`).
    pub replication_address: Option<Field<Sp<String>>>,
    /// Run `midclt` through `sudo -n` (needs passwordless sudo for the user).
    pub sudo: Option<Field<Sp<bool>>>,
    /// An embedded simulated TrueNAS instead of a real one.
    pub simulator: Option<Field<Sp<RawSimulator>>>,
    /// Delete snapshot tasks and replications on this system that no project manages and
    /// the config does not declare (default false: tasks made by hand are left alone).
    pub prune: Option<Field<Sp<bool>>>,
    /// When zfleet deletes a snapshot task here, its snapshots keep the removal date they
    /// had instead of being kept for good (24.04+; default false).
    pub fixate_removal_date: Option<Field<Sp<bool>>>,
    /// Time allowed for the TCP connection, the SSH handshake and authentication, each:
    /// seconds (`30`) or with a unit (`30s`, `2m`). Default 15 s, or `ConnectTimeout` of
    /// `~/.ssh/config`; `--connect-timeout` overrides it.
    pub connect_timeout: Option<Field<Sp<Text>>>,
    /// Time allowed for one round of up to 16 concurrent `midclt` calls: seconds (`120`) or
    /// with a unit (`2m`). Default 90 s; `--timeout` overrides it.
    pub timeout: Option<Field<Sp<Text>>>,
}

/// An embedded simulated TrueNAS system.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(deny_unknown_fields, rename = "Simulator")]
pub struct RawSimulator {
    /// Seed fixture (YAML), relative to this config file.
    pub fixture: Option<Field<Sp<String>>>,
    /// TrueNAS version to simulate: `13.0`, `13.3`, `24.04`, `24.10`, `25.04` or `25.10`.
    pub version: Option<Field<Sp<Text>>>,
}

/// A periodic snapshot task.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "SnapshotTask")]
pub struct RawSnapshotTask {
    /// The system (a key of `systems`) the task runs on.
    pub system: Field<Sp<String>>,
    /// Dataset or zvol to snapshot, e.g. `tank/data`.
    pub dataset: Field<Sp<String>>,
    /// Also snapshot every child dataset (default false).
    pub recursive: Option<Field<Sp<bool>>>,
    /// Child datasets to leave out of a recursive task.
    pub exclude: Option<Field<Sp<Vec<Sp<String>>>>>,
    /// When to take snapshots (default `hourly`).
    pub schedule: Option<Field<Sp<RawSchedule>>>,
    /// How long to keep snapshots: `2 weeks`, `36 hours`, `6 months` (default `2 weeks`).
    pub lifetime: Option<Field<Sp<Text>>>,
    /// strftime naming schema (default `auto-%Y-%m-%d_%H-%M`).
    pub naming_schema: Option<Field<Sp<String>>>,
    /// Take snapshots even when nothing changed (default true).
    pub allow_empty: Option<Field<Sp<bool>>>,
    /// Default true.
    pub enabled: Option<Field<Sp<bool>>>,
    /// Take over a matching task made by hand (same dataset and naming schema) instead of
    /// creating a new one; from then on zfleet manages it (default false).
    pub adopt: Option<Field<Sp<bool>>>,
    /// When an edit changes which snapshots the task keeps, those snapshots keep the
    /// removal date they had instead of being kept for good or destroyed early (24.04+;
    /// default false).
    pub fixate_removal_date: Option<Field<Sp<bool>>>,
}

/// A one-time manual snapshot, taken once if no snapshot matches the naming schema yet.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "Snapshot")]
pub struct RawSnapshot {
    /// The system (a key of `systems`).
    pub system: Field<Sp<String>>,
    /// Dataset to snapshot.
    pub dataset: Field<Sp<String>>,
    /// strftime naming schema (default `manual-%Y-%m-%d_%H-%M`).
    pub naming_schema: Option<Field<Sp<String>>>,
    /// Snapshot child datasets too (default false).
    pub recursive: Option<Field<Sp<bool>>>,
    /// Child datasets to leave out of a recursive snapshot.
    pub exclude: Option<Field<Sp<Vec<Sp<String>>>>>,
}

/// A replication: several sources, possibly on several systems, into one target.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "Replication")]
pub struct RawReplication {
    /// Where snapshots come from.
    pub sources: Field<Sp<Vec<Sp<RawSource>>>>,
    /// Where they go.
    pub target: Field<Sp<RawTarget>>,
    /// Replicate child datasets too (default false).
    pub recursive: Option<Field<Sp<bool>>>,
    /// Child datasets to leave out of a recursive replication.
    pub exclude: Option<Field<Sp<Vec<Sp<String>>>>>,
    /// `push` (the task runs on each source system, default) or `pull` (on the target).
    pub direction: Option<Field<Sp<RawDirection>>>,
    /// `ssh`, `ssh+netcat` or `local`; derived when omitted (`local` when source and target
    /// are the same system, else `ssh`).
    pub transport: Option<Field<Sp<RawTransport>>>,
    /// When to run: a schedule (default weekly, Sunday 00:00), `manual` (only on demand), or
    /// `with_snapshot_tasks` (right after the bound snapshot tasks; push only).
    pub schedule: Option<Field<Sp<RawSchedule>>>,
    /// Snapshot retention on the target: `source` (default), `none`, or `{custom: 4 weeks}`.
    pub retention: Option<Field<Sp<RawRetention>>>,
    /// Target `readonly` policy: `set` (default), `require` or `ignore`.
    pub readonly: Option<Field<Sp<RawReadonly>>>,
    /// Allow replicating from scratch when the target has snapshots the source lacks; this
    /// destroys the target's data (default false).
    pub allow_from_scratch: Option<Field<Sp<bool>>>,
    /// Keep source snapshots that have not been replicated yet (default false; push only).
    pub hold_pending_snapshots: Option<Field<Sp<bool>>>,
    /// Send dataset properties (default true).
    pub properties: Option<Field<Sp<bool>>>,
    /// Properties not to send.
    pub properties_exclude: Option<Field<Sp<Vec<Sp<String>>>>>,
    /// Properties to override on the target.
    pub properties_override: Option<Field<Sp<BTreeMap<String, Text>>>>,
    /// Stream compression for `ssh`: `lz4`, `pigz` or `plzip` (default none).
    pub compression: Option<Field<Sp<RawCompression>>>,
    /// Bandwidth limit for `ssh`: bytes per second, or `10 MiB/s`, `500 KB/s`.
    pub speed_limit: Option<Field<Sp<Text>>>,
    /// Retries before the run fails (default 5).
    pub retries: Option<Field<Sp<u32>>>,
    /// Default true.
    pub enabled: Option<Field<Sp<bool>>>,
    /// Start a run right after `apply` creates or changes the task (default false).
    pub run_on_apply: Option<Field<Sp<bool>>>,
    /// Take over replication tasks of the same name made by hand instead of refusing to
    /// create them; from then on zfleet manages them (default false).
    pub adopt: Option<Field<Sp<bool>>>,
}

/// One source system of a replication.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "Source")]
pub struct RawSource {
    /// The system (a key of `systems`).
    pub system: Field<Sp<String>>,
    /// Datasets to replicate from this system.
    pub datasets: Field<Sp<Vec<Sp<String>>>>,
    /// Snapshot tasks (keys of `snapshot_tasks`, on this system) whose snapshots are sent.
    pub snapshot_tasks: Option<Field<Sp<Vec<Sp<String>>>>>,
    /// Naming schema(s) of other snapshots to send, e.g. `manual-%Y-%m-%d_%H-%M`.
    pub naming_schema: Option<Field<Sp<OneOrMany>>>,
}

/// Where a replication writes.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, rename = "Target")]
pub struct RawTarget {
    /// The system (a key of `systems`).
    pub system: Field<Sp<String>>,
    /// Dataset to receive into; created by the first run.
    pub dataset: Field<Sp<String>>,
}

/// A single string or a list of strings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Direction")]
pub enum RawDirection {
    Push,
    Pull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "Transport")]
pub enum RawTransport {
    #[serde(rename = "ssh")]
    Ssh,
    #[serde(rename = "ssh+netcat")]
    SshNetcat,
    #[serde(rename = "local")]
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Readonly")]
pub enum RawReadonly {
    Set,
    Require,
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Compression")]
pub enum RawCompression {
    Lz4,
    Pigz,
    Plzip,
}

/// A schedule: a preset (`hourly`, `daily`, `weekly`, `monthly`), a 5-field cron string,
/// or a mapping (`{every, at, day, minute}`, `{cron}` or TrueNAS's
/// `{minute, hour, dom, month, dow}`), each with an optional `begin`/`end` window.
#[derive(Debug, Clone)]
pub enum RawSchedule {
    Text(String),
    Map(Box<RawScheduleMap>),
}

/// A schedule written as a mapping.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(deny_unknown_fields, rename = "ScheduleMap")]
pub struct RawScheduleMap {
    /// `hourly`, `daily`, `weekly` or `monthly`.
    pub every: Option<Sp<Text>>,
    /// Time of day `HH:MM` for daily, weekly and monthly schedules.
    pub at: Option<Sp<Text>>,
    /// Weekday for weekly (`monday`…`sunday`, `mon`…`sun`, 1…7) or day of month for monthly.
    pub day: Option<Sp<Text>>,
    /// A 5-field cron string (`minute hour day-of-month month day-of-week`).
    pub cron: Option<Sp<Text>>,
    /// Cron minute field (or the minute of an hourly schedule).
    pub minute: Option<Sp<Text>>,
    /// Cron hour field.
    pub hour: Option<Sp<Text>>,
    /// Cron day-of-month field.
    pub dom: Option<Sp<Text>>,
    /// Cron month field.
    pub month: Option<Sp<Text>>,
    /// Cron day-of-week field, 1 = Monday … 7 = Sunday.
    pub dow: Option<Sp<Text>>,
    /// Start of the window in which runs may happen, `HH:MM` (default 00:00).
    pub begin: Option<Sp<Text>>,
    /// End of the window, `HH:MM` (default 23:59).
    pub end: Option<Sp<Text>>,
}

impl<'de> Deserialize<'de> for RawSchedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSchedule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a schedule (preset name, cron string or mapping)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSchedule, E> {
                Ok(RawSchedule::Text(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSchedule, A::Error> {
                RawScheduleMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| RawSchedule::Map(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawSchedule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Schedule".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let map = generator.subschema_for::<RawScheduleMap>();
        schemars::json_schema!({
            "description": "A preset (`hourly`, `daily`, `weekly`, `monthly`), a 5-field cron string, `manual` or `with_snapshot_tasks` (replications only), or a mapping.",
            "anyOf": [ { "type": "string" }, map ]
        })
    }
}

/// Snapshot retention on a replication's target.
#[derive(Debug, Clone)]
pub enum RawRetention {
    Text(String),
    Custom(Sp<Text>),
}

impl<'de> Deserialize<'de> for RawRetention {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Custom {
            custom: Sp<Text>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRetention;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`source`, `none` or `{custom: <lifetime>}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRetention, E> {
                Ok(RawRetention::Text(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRetention, A::Error> {
                Custom::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|c| RawRetention::Custom(c.custom))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawRetention {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Retention".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`source` (keep what the source keeps), `none`, or `{custom: <lifetime>}` such as `{custom: 4 weeks}`.",
            "anyOf": [
                { "type": "string", "enum": ["source", "none"] },
                { "type": "object", "properties": { "custom": { "type": ["string", "integer"] } },
                  "required": ["custom"], "additionalProperties": false }
            ]
        })
    }
}
