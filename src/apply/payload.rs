//! The calls that carry out one action, with references resolved to ids.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::client::api::ReplicationInput;
use crate::client::{Schedule, Version};
use crate::plan::{Action, Op, RepSpec, Subject, TaskRef};
use crate::transport::MidcltCall;

fn schedule(s: &crate::model::TnSchedule) -> Schedule {
    Schedule::from(s)
}

/// The replication input for `spec`, every field given so an update never keeps a stale
/// value by omission (pitfalls: update is a shallow merge).
pub fn replication_input(
    spec: &RepSpec,
    version: Option<&Version>,
    task_ids: &BTreeMap<String, i64>,
    conn_ids: &BTreeMap<String, i64>,
) -> Result<Value, String> {
    let mut tasks = Vec::new();
    for t in &spec.periodic_snapshot_tasks {
        tasks.push(match t {
            TaskRef::Id(id) => *id,
            TaskRef::Name(n) => *task_ids
                .get(n)
                .ok_or_else(|| format!("snapshot task {n} has no id on this system"))?,
        });
    }
    let credentials = match &spec.ssh_credentials {
        Some(c) => Some(
            c.id.or_else(|| conn_ids.get(&c.name).copied())
                .ok_or_else(|| format!("SSH connection {} has no id on this system", c.name))?,
        ),
        None => None,
    };
    let pull = spec.direction == "PULL";
    let mut input = ReplicationInput::new(
        spec.name.clone(),
        &spec.direction,
        &spec.transport,
        spec.source_datasets.clone(),
        spec.target_dataset.clone(),
    );
    input.ssh_credentials = credentials;
    input.recursive = spec.recursive;
    input.exclude = spec.exclude.clone();
    input.properties = spec.properties;
    input.properties_exclude = spec.properties_exclude.clone();
    let has = |f: &str| version.is_none_or(|v| v.has_replication_field(f));
    if has("properties_override") {
        input.properties_override = Some(spec.properties_override.clone());
    }
    input.replicate = spec.replicate;
    input.periodic_snapshot_tasks = tasks;
    if pull {
        input.naming_schema = spec.schemas.clone();
    } else {
        input.also_include_naming_schema = spec.schemas.clone();
    }
    input.auto = spec.auto;
    input.schedule = spec.schedule.as_ref().map(schedule);
    input.only_matching_schedule = spec.only_matching_schedule;
    input.allow_from_scratch = spec.allow_from_scratch;
    input.readonly = spec.readonly.clone();
    input.hold_pending_snapshots = spec.hold_pending_snapshots;
    input.retention_policy = spec.retention_policy.clone();
    input.lifetime_value = spec.lifetime.as_ref().map(|(v, _)| *v);
    input.lifetime_unit = spec.lifetime.as_ref().map(|(_, u)| u.clone());
    if has("lifetimes") {
        input.lifetimes = Some(vec![]);
    }
    input.compression = spec.compression.clone();
    input.speed_limit = spec.speed_limit;
    input.large_block = spec.large_block;
    input.embed = spec.embed;
    input.compressed = spec.compressed;
    input.retries = spec.retries;
    input.enabled = spec.enabled;
    let mut v = serde_json::to_value(&input).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut v {
        // Cleared explicitly: a task adopted with these set would keep them otherwise.
        m.insert("restrict_schedule".into(), Value::Null);
        // SSH+NETCAT needs an active side (the web UI's default, the running system);
        // every other transport refuses any `netcat_*`, so leaving netcat clears them.
        let netcat = spec.transport == "SSH+NETCAT";
        m.insert(
            "netcat_active_side".into(),
            if netcat { json!("LOCAL") } else { Value::Null },
        );
        for k in [
            "netcat_active_side_listen_address",
            "netcat_active_side_port_min",
            "netcat_active_side_port_max",
            "netcat_passive_side_connect_address",
        ] {
            m.insert(k.into(), Value::Null);
        }
        if has("name_regex") {
            m.insert("name_regex".into(), Value::Null);
        }
    }
    Ok(v)
}

/// The calls of one action (empty when nothing needs sending, e.g. adopting an
/// identical task).
pub fn calls(
    a: &Action,
    version: Option<&Version>,
    task_ids: &BTreeMap<String, i64>,
    conn_ids: &BTreeMap<String, i64>,
) -> Result<Vec<MidcltCall>, String> {
    let id = || a.id.ok_or_else(|| "the live object has no id".to_string());
    Ok(match (&a.subject, a.op) {
        (Subject::SshService { enable, start }, _) => {
            let mut out = Vec::new();
            if *enable {
                out.push(MidcltCall::new(
                    "service.update",
                    vec![json!("ssh"), json!({"enable": true})],
                ));
            }
            if *start {
                out.push(MidcltCall::new(
                    "service.start",
                    vec![json!("ssh"), json!({"silent": false})],
                ));
            }
            out
        }
        (Subject::SnapshotTask { spec, .. }, Op::Create) => vec![MidcltCall::new(
            "pool.snapshottask.create",
            vec![serde_json::to_value(spec).map_err(|e| e.to_string())?],
        )],
        (Subject::SnapshotTask { spec, .. }, Op::Update | Op::Adopt) => {
            if a.op == Op::Adopt && a.changes.is_empty() {
                vec![]
            } else {
                vec![MidcltCall::new(
                    "pool.snapshottask.update",
                    vec![
                        json!(id()?),
                        serde_json::to_value(spec).map_err(|e| e.to_string())?,
                    ],
                )]
            }
        }
        (Subject::SnapshotTask { spec, .. }, Op::Delete) => {
            let mut args = vec![json!(id()?)];
            if spec.fixate_removal_date == Some(true) {
                args.push(json!({"fixate_removal_date": true}));
            }
            vec![MidcltCall::new("pool.snapshottask.delete", args)]
        }
        (
            Subject::Snapshot {
                dataset,
                naming_schema,
                recursive,
                exclude,
            },
            _,
        ) => {
            let ns = version.map_or("zfs.snapshot", Version::snapshot_namespace);
            vec![MidcltCall::new(
                format!("{ns}.create"),
                vec![{
                    let mut data = json!({"dataset": dataset, "naming_schema": naming_schema, "recursive": recursive});
                    if !exclude.is_empty() {
                        data["exclude"] = json!(exclude);
                    }
                    data
                }],
            )]
        }
        (Subject::Replication { spec, .. }, Op::Create) => vec![MidcltCall::new(
            "replication.create",
            vec![replication_input(spec, version, task_ids, conn_ids)?],
        )],
        (Subject::Replication { spec, .. }, Op::Update | Op::Adopt) => {
            if a.op == Op::Adopt && a.changes.is_empty() {
                vec![]
            } else {
                vec![MidcltCall::new(
                    "replication.update",
                    vec![
                        json!(id()?),
                        replication_input(spec, version, task_ids, conn_ids)?,
                    ],
                )]
            }
        }
        (Subject::Replication { .. }, Op::Delete) => {
            vec![MidcltCall::new("replication.delete", vec![json!(id()?)])]
        }
        // Made across two systems before the stages run (see `connect`).
        (Subject::Connection { .. } | Subject::AuthorizedKey { .. }, _) => vec![],
    })
}
