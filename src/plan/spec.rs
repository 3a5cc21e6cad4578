//! What one TrueNAS task should be (desired) or is (live), with references by name, and
//! its fields in canonical form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fields::{Field, clean_path, live_schedule, opt_text, schedule_field, set_field};
use crate::client::api::SnapshotTaskInput;
use crate::client::{Replication, SnapshotTask, Version};
use crate::model::TnSchedule;

/// A periodic snapshot task's fields (TrueNAS's own input shape).
pub fn snapshot_task_fields(t: &SnapshotTaskInput) -> Vec<Field> {
    let exclude: Vec<String> = if t.recursive {
        t.exclude.clone()
    } else {
        Vec::new()
    };
    vec![
        Field::new("dataset", clean_path(&t.dataset), t.dataset.clone()),
        Field::plain("recursive", t.recursive),
        set_field("exclude", &exclude, true),
        Field::plain(
            "lifetime",
            format!(
                "{} {}",
                t.lifetime_value,
                t.lifetime_unit.to_ascii_uppercase()
            ),
        ),
        Field::plain("naming_schema", &t.naming_schema),
        schedule_field("schedule", &live_schedule(&t.schedule)),
        Field::plain("allow_empty", t.allow_empty),
        Field::plain("enabled", t.enabled),
    ]
}

/// A live snapshot task in the input shape.
pub fn snapshot_task_input(t: &SnapshotTask) -> SnapshotTaskInput {
    SnapshotTaskInput {
        dataset: t.dataset.clone(),
        recursive: t.recursive,
        exclude: t.exclude.clone(),
        lifetime_value: t.lifetime_value,
        lifetime_unit: t.lifetime_unit.clone(),
        naming_schema: t.naming_schema.clone(),
        schedule: t.schedule.clone(),
        allow_empty: t.allow_empty,
        enabled: t.enabled,
        fixate_removal_date: None,
    }
}

/// A reference to a snapshot task: by zfleet name (managed, possibly created in the same
/// apply) or by id (a task zfleet does not manage).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskRef {
    Name(String),
    Id(i64),
}

impl TaskRef {
    fn shown(&self) -> String {
        match self {
            TaskRef::Name(n) => n.clone(),
            TaskRef::Id(id) => format!("#{id}"),
        }
    }
}

/// A reference to an SSH connection (SSH_CREDENTIALS) on the running system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnRef {
    /// Its keychain name.
    pub name: String,
    /// Its id; `None` when the same apply creates it.
    pub id: Option<i64>,
}

/// A replication task, references by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepSpec {
    pub name: String,
    pub direction: String,
    pub transport: String,
    pub ssh_credentials: Option<ConnRef>,
    pub source_datasets: Vec<String>,
    pub target_dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub properties: bool,
    pub properties_exclude: Vec<String>,
    pub properties_override: BTreeMap<String, String>,
    pub replicate: bool,
    pub encryption: bool,
    pub periodic_snapshot_tasks: Vec<TaskRef>,
    /// The naming schemas, whichever of TrueNAS's two keys holds them for the direction.
    pub schemas: Vec<String>,
    pub name_regex: Option<String>,
    pub auto: bool,
    pub schedule: Option<TnSchedule>,
    pub restrict_schedule: Option<TnSchedule>,
    pub only_matching_schedule: bool,
    pub allow_from_scratch: bool,
    pub readonly: String,
    pub hold_pending_snapshots: bool,
    pub retention_policy: String,
    pub lifetime: Option<(i64, String)>,
    /// Number of extra `lifetimes` entries (zfleet writes none).
    pub lifetimes: usize,
    pub compression: Option<String>,
    pub speed_limit: Option<i64>,
    pub large_block: bool,
    pub embed: bool,
    pub compressed: bool,
    pub retries: i64,
    pub enabled: bool,
}

impl RepSpec {
    /// A live task, its references named through `task_name` (snapshot task ids) and
    /// `conn_name` (keychain ids).
    pub fn from_live(
        r: &Replication,
        task_name: impl Fn(i64) -> Option<String>,
        conn_name: impl Fn(i64) -> Option<String>,
    ) -> RepSpec {
        let schemas = if r.direction.eq_ignore_ascii_case("PULL") {
            r.naming_schema.clone()
        } else {
            r.also_include_naming_schema.clone()
        };
        RepSpec {
            name: r.name.clone(),
            direction: r.direction.to_ascii_uppercase(),
            transport: r.transport.to_ascii_uppercase(),
            ssh_credentials: r.ssh_credentials.map(|id| ConnRef {
                name: conn_name(id).unwrap_or_else(|| format!("#{id}")),
                id: Some(id),
            }),
            source_datasets: r.source_datasets.clone(),
            target_dataset: r.target_dataset.clone(),
            recursive: r.recursive,
            exclude: r.exclude.clone(),
            properties: r.properties,
            properties_exclude: r.properties_exclude.clone(),
            properties_override: r.properties_override.clone().unwrap_or_default(),
            replicate: r.replicate,
            encryption: r.encryption,
            periodic_snapshot_tasks: r
                .periodic_snapshot_tasks
                .iter()
                .map(|id| {
                    task_name(*id)
                        .map(TaskRef::Name)
                        .unwrap_or(TaskRef::Id(*id))
                })
                .collect(),
            schemas,
            name_regex: r.name_regex.clone(),
            auto: r.auto,
            schedule: r.schedule.as_ref().map(live_schedule),
            restrict_schedule: r.restrict_schedule.as_ref().map(live_schedule),
            only_matching_schedule: r.only_matching_schedule,
            allow_from_scratch: r.allow_from_scratch,
            readonly: r.readonly.to_ascii_uppercase(),
            hold_pending_snapshots: r.hold_pending_snapshots,
            retention_policy: r.retention_policy.to_ascii_uppercase(),
            lifetime: match (r.lifetime_value, &r.lifetime_unit) {
                (Some(v), Some(u)) => Some((v, u.to_ascii_uppercase())),
                _ => None,
            },
            lifetimes: r.lifetimes.as_ref().map_or(0, Vec::len),
            compression: r.compression.clone(),
            speed_limit: r.speed_limit,
            large_block: r.large_block,
            embed: r.embed,
            compressed: r.compressed,
            retries: r.retries,
            enabled: r.enabled,
        }
    }

    /// The fields compared, in the order plan shows them. Fields `version` lacks are left
    /// out (both sides then have nothing to compare).
    pub fn fields(&self, version: Option<&Version>) -> Vec<Field> {
        let has = |f: &str| version.is_none_or(|v| v.has_replication_field(f));
        let exclude: Vec<String> = if self.recursive {
            self.exclude.clone()
        } else {
            Vec::new()
        };
        let tasks: Vec<String> = self
            .periodic_snapshot_tasks
            .iter()
            .map(TaskRef::shown)
            .collect();
        let mut out = vec![
            Field::plain("direction", &self.direction),
            Field::plain("transport", &self.transport),
            Field::plain(
                "ssh_credentials",
                opt_text(self.ssh_credentials.as_ref().map(|c| c.name.clone())),
            ),
            set_field("source_datasets", &self.source_datasets, true),
            Field::new(
                "target_dataset",
                clean_path(&self.target_dataset),
                self.target_dataset.clone(),
            ),
            Field::plain("recursive", self.recursive),
            set_field("exclude", &exclude, true),
            set_field("periodic_snapshot_tasks", &tasks, false),
            set_field("naming_schemas", &self.schemas, false),
            Field::plain("name_regex", opt_text(self.name_regex.as_ref())),
            Field::plain("auto", self.auto),
            match &self.schedule {
                Some(s) => schedule_field("schedule", s),
                None => Field::plain("schedule", "null"),
            },
            match &self.restrict_schedule {
                Some(s) => schedule_field("restrict_schedule", s),
                None => Field::plain("restrict_schedule", "null"),
            },
            Field::plain("only_matching_schedule", self.only_matching_schedule),
            Field::plain("retention_policy", &self.retention_policy),
            Field::plain(
                "lifetime",
                opt_text(self.lifetime.as_ref().map(|(v, u)| format!("{v} {u}"))),
            ),
            Field::plain("lifetimes", self.lifetimes),
            Field::plain("readonly", &self.readonly),
            Field::plain("allow_from_scratch", self.allow_from_scratch),
            Field::plain("hold_pending_snapshots", self.hold_pending_snapshots),
            Field::plain("properties", self.properties),
            set_field("properties_exclude", &self.properties_exclude, false),
        ];
        if has("properties_override") {
            let text = self
                .properties_override
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Field::new(
                "properties_override",
                text.clone(),
                format!("{{{text}}}"),
            ));
        }
        out.extend([
            Field::plain("replicate", self.replicate),
            Field::plain("encryption", self.encryption),
            Field::plain("compression", opt_text(self.compression.as_ref())),
            Field::plain("speed_limit", opt_text(self.speed_limit)),
            Field::plain("large_block", self.large_block),
            Field::plain("embed", self.embed),
            Field::plain("compressed", self.compressed),
            Field::plain("retries", self.retries),
            Field::plain("enabled", self.enabled),
        ]);
        out
    }

    /// The fields that identify what a task does, not how it is wired: what a pending
    /// mark's fingerprint covers (references may be created in the same apply).
    pub fn identity_fields(&self, version: Option<&Version>) -> Vec<Field> {
        self.fields(version)
            .into_iter()
            .filter(|f| !matches!(f.name, "ssh_credentials" | "periodic_snapshot_tasks"))
            .collect()
    }
}
