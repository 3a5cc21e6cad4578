//! The replication engine: what zettarepl does when a replication task runs.
//!
//! Rules and sentences follow zettarepl's `replication/run.py`: snapshots are chosen by the
//! task's naming schemas, the newest snapshot both sides share is the incremental base,
//! a target with snapshots but no common base needs `allow_from_scratch`, `readonly:
//! REQUIRE` refuses an existing writable target, and after receiving the target gets
//! `readonly=on` (SET/REQUIRE) and target retention runs. SSH tasks reach the target
//! through the task's SSH credential: its `host` must name another system of the fleet
//! (hostname, address or file name), whose SSH service must be running on that port, whose
//! host key must be the pinned `remote_host_key` and whose user must hold the credential's
//! public key — otherwise the paramiko sentences (client.py `connect`, auth_handler.py).

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::methods::schema::naming;
use super::pyre::{PyRegex, compile_name_regex};
use super::state::{
    Credential, CredentialType, Dataset, DatasetType, Direction, PropSource, PropValue,
    ReadonlyPolicy, ReplicationTask, RetentionPolicy, ServiceState, SimState, Snapshot, TaskState,
    TaskStateKind, Transport,
};
use crate::diag::Problem;

// zettarepl's `{name!r}` of dataset names.
use crate::sim::render::py_repr_str as py_repr;

/// The middleware's `make_sentence` (utils/string.py): errors shown to users end with a
/// full stop; an empty text stays empty, and nothing is trimmed.
pub fn make_sentence(s: &str) -> String {
    if s.is_empty() || s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

/// One dataset's part of a run: which snapshots go where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub src_dataset: String,
    pub dst_dataset: String,
    /// Snapshot names (after `@`) to send, oldest first.
    pub snapshots: Vec<String>,
    /// Bytes of each snapshot to send (for progress).
    pub bytes: Vec<u64>,
    /// Target snapshots destroyed first (replication from scratch).
    pub destroy_first: Vec<String>,
    /// The first dataset of its source (the one the task names).
    pub immediate: bool,
    /// The incremental base the first send starts from.
    pub base: Option<String>,
    /// Each send also carries the snapshots before it back to the previous one (`-I`).
    pub intermediate: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every snapshot to send, as `(source full name, bytes)`, in sending order.
    pub fn items(&self) -> Vec<(String, u64)> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.snapshots
                    .iter()
                    .zip(&s.bytes)
                    .map(|(n, b)| (format!("{}@{n}", s.src_dataset), *b))
            })
            .collect()
    }
}

/// The common dataset prefix of the sources (zettarepl's `get_source_dataset_base`).
fn source_base(sources: &[String]) -> String {
    let mut parts: Option<Vec<&str>> = None;
    for s in sources {
        let p: Vec<&str> = s.split('/').collect();
        parts = Some(match parts {
            None => p,
            Some(prev) => prev
                .iter()
                .zip(&p)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    parts.unwrap_or_default().join("/")
}

fn target_for(task: &ReplicationTask, base: &str, ds: &str) -> String {
    if ds == base {
        return task.target_dataset.clone();
    }
    let rel = if base.is_empty() {
        ds
    } else {
        ds.strip_prefix(base)
            .map(|r| r.trim_start_matches('/'))
            .unwrap_or(ds)
    };
    format!("{}/{rel}", task.target_dataset)
}

fn is_under(ds: &str, root: &str) -> bool {
    ds == root || ds.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

/// The naming schemas a task replicates by (bound snapshot tasks' schemas plus the extra
/// ones for PUSH; `naming_schema` for PULL).
fn task_schemas(src: &SimState, task: &ReplicationTask) -> Vec<String> {
    match task.direction {
        Direction::Pull => task.naming_schema.clone(),
        Direction::Push => src
            .snapshot_tasks
            .iter()
            .filter(|t| task.periodic_snapshot_tasks.contains(&t.id))
            .map(|t| t.naming_schema.clone())
            .chain(task.also_include_naming_schema.iter().cloned())
            .collect(),
    }
}

/// Snapshots of a dataset, oldest first.
fn snapshots_of<'a>(st: &'a SimState, ds: &str) -> Vec<&'a Snapshot> {
    let mut v: Vec<&Snapshot> = st.snapshots_of_dataset(ds).collect();
    v.sort_by_key(|s| (s.creation, s.createtxg));
    v
}

/// How a task picks its snapshots: by naming schemas, or by a compiled name regex.
enum Selector {
    Schemas(Vec<String>),
    Regex(PyRegex),
}

impl Selector {
    fn of(src: &SimState, task: &ReplicationTask) -> Result<Selector, String> {
        match &task.name_regex {
            // task.py `from_data`: the definition itself fails on a bad pattern.
            Some(r) => compile_name_regex(r)
                .map(Selector::Regex)
                .map_err(|e| format!("Invalid name-regex: {e}")),
            None => Ok(Selector::Schemas(task_schemas(src, task))),
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Selector::Schemas(s) => s.iter().any(|s| naming::matches(s, name)),
            // `filter(replication_task.name_pattern.match, ...)`.
            Selector::Regex(r) => r.is_match(name),
        }
    }
}

/// What one dataset sends (snapshots_to_send.py `SnapshotsToSend`).
struct Selection<'a> {
    base: Option<String>,
    send: Vec<&'a Snapshot>,
    /// Each send carries the snapshots between the previous one and it (`zfs send -I`).
    intermediate: bool,
}

/// snapshots_to_send.py `get_snapshots_to_send`: by schemas, the newest snapshot both sides
/// parse is the base and newer parsed ones go; by regex, the newest source snapshot (in
/// `createtxg` order) the target has by name is the base, and of the later ones those the
/// pattern matches go — all of them as one `-I` range when every one matches.
fn select<'a>(
    src: &'a SimState,
    dst: &SimState,
    sel: &Selector,
    src_ds: &str,
    dst_ds: &str,
) -> Selection<'a> {
    let dst_names: BTreeSet<&str> = snapshots_of(dst, dst_ds)
        .into_iter()
        .map(|s| s.name.as_str())
        .filter(|n| matches!(sel, Selector::Regex(_)) || sel.matches(n))
        .collect();
    match sel {
        Selector::Schemas(_) => {
            let src_snaps: Vec<&Snapshot> = snapshots_of(src, src_ds)
                .into_iter()
                .filter(|s| sel.matches(&s.name))
                .collect();
            let base_idx = src_snaps
                .iter()
                .rposition(|s| dst_names.contains(s.name.as_str()));
            Selection {
                base: base_idx.map(|i| src_snaps[i].name.clone()),
                send: src_snaps[base_idx.map_or(0, |i| i + 1)..].to_vec(),
                intermediate: false,
            }
        }
        Selector::Regex(_) => {
            let mut all: Vec<&Snapshot> = src
                .snapshots
                .values()
                .filter(|s| s.dataset == src_ds)
                .collect();
            all.sort_by_key(|s| s.createtxg);
            let base_idx = all
                .iter()
                .rposition(|s| dst_names.contains(s.name.as_str()));
            let after = &all[base_idx.map_or(0, |i| i + 1)..];
            let mut send: Vec<&Snapshot> = after
                .iter()
                .copied()
                .filter(|s| sel.matches(&s.name))
                .collect();
            let intermediate = send.len() == after.len() && send.len() > 1;
            if intermediate {
                send = match base_idx {
                    None => vec![send[0], send[send.len() - 1]],
                    Some(_) => vec![send[send.len() - 1]],
                };
            }
            Selection {
                base: base_idx.map(|i| all[i].name.clone()),
                send,
                intermediate,
            }
        }
    }
}

/// Decides what a run would send from `src` to `dst`, or the sentence it fails with.
pub fn plan(src: &SimState, dst: &SimState, task: &ReplicationTask) -> Result<Plan, String> {
    let sel = Selector::of(src, task)?;
    let base = source_base(&task.source_datasets);
    let mut sources = task.source_datasets.clone();
    sources.sort();
    let mut templates = Vec::new();
    for source in &sources {
        if !src.datasets.contains_key(source) {
            return Err(format!(
                "cannot open {}: dataset does not exist",
                py_repr(source)
            ));
        }
        // run.py `check_target_existence_and_type`.
        let target = target_for(task, &base, source);
        if let (Some(s), Some(t)) = (src.datasets.get(source), dst.datasets.get(&target))
            && s.kind != t.kind
        {
            let name = |k: DatasetType| match k {
                DatasetType::Filesystem => "filesystem",
                DatasetType::Volume => "volume",
            };
            return Err(format!(
                "Source {} is a {}, but target {} already exists and is a {}",
                py_repr(source),
                name(s.kind),
                py_repr(&target),
                name(t.kind)
            ));
        }
        let mut datasets: Vec<&String> = if task.recursive && !task.replicate {
            src.datasets
                .keys()
                .filter(|d| is_under(d, source))
                .collect()
        } else {
            vec![source]
        };
        datasets.retain(|d| !task.exclude.iter().any(|e| is_under(d, e)));
        for (i, ds) in datasets.into_iter().enumerate() {
            templates.push((ds.clone(), target_for(task, &base, ds), i == 0));
        }
    }
    if task.readonly == ReadonlyPolicy::Require {
        for (_, dst_ds, _) in &templates {
            if dst.datasets.contains_key(dst_ds) && !dst.is_readonly(dst_ds) {
                let mut sentence = format!(
                    "Target dataset {} exists and does not have readonly=on property, but replication task is set up to require this property. Refusing to replicate.",
                    py_repr(dst_ds)
                );
                // run.py: a volume's sentence says how to fix it.
                if dst.datasets.get(dst_ds).map(|d| d.kind) == Some(DatasetType::Volume) {
                    sentence.push_str(&format!(
                        " Please run \"zfs set readonly=on {dst_ds}\" on the target system to fix this."
                    ));
                }
                return Err(sentence);
            }
        }
    }
    let runner = match task.direction {
        Direction::Push => src,
        Direction::Pull => dst,
    };
    let runner_is_core = runner.personality().is_core();
    let dst_pool = task.target_dataset.split('/').next().unwrap_or_default();
    let mut steps = Vec::new();
    let mut ignored_roots: Vec<String> = Vec::new();
    for (src_ds, dst_ds, immediate) in templates {
        if ignored_roots.iter().any(|r| is_under(&src_ds, r)) {
            continue;
        }
        let dst_all: Vec<&Snapshot> = snapshots_of(dst, &dst_ds);
        let chosen = select(src, dst, &sel, &src_ds, &dst_ds);
        let mut destroy_first = Vec::new();
        // run.py `run_replication_steps`: on SCALE only a dataset with something to send
        // needs a base (`if incremental_base is None and snapshots:`); 13.3's zettarepl
        // (truenas/13.3-stable) asks it of every dataset whose target holds snapshots.
        let needs_base = !chosen.send.is_empty() || runner_is_core;
        if chosen.base.is_none() && needs_base && !dst_all.is_empty() {
            if task.allow_from_scratch {
                destroy_first = dst_all.iter().map(|s| s.name.clone()).collect();
            } else {
                return Err(format!(
                    "No incremental base on dataset {} and replication from scratch is not allowed",
                    py_repr(&src_ds)
                ));
            }
        }
        let to_send = chosen.send;
        if to_send.is_empty() {
            if immediate && chosen.base.is_none() {
                return Err(format!(
                    "Dataset {} does not have any matching snapshots to replicate",
                    py_repr(&src_ds)
                ));
            }
            // Children are skipped only under a dataset with no snapshots at all.
            if snapshots_of(src, &src_ds).is_empty() {
                ignored_roots.push(src_ds.clone());
            }
            continue;
        }
        if !dst.datasets.contains_key(dst_pool) {
            return Err(format!(
                "cannot create {}: no such pool {}",
                py_repr(&dst_ds),
                py_repr(dst_pool)
            ));
        }
        steps.push(Step {
            src_dataset: src_ds,
            dst_dataset: dst_ds,
            bytes: to_send.iter().map(|s| s.referenced.max(s.used)).collect(),
            snapshots: to_send.iter().map(|s| s.name.clone()).collect(),
            destroy_first,
            immediate,
            base: chosen.base,
            intermediate: chosen.intermediate,
        });
    }
    Ok(Plan { steps })
}

fn ensure_dataset(dst: &mut SimState, name: &str, like: Option<&Dataset>, now: i64) {
    let mut path = String::new();
    for part in name.split('/') {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        if !dst.datasets.contains_key(&path) {
            let txg = dst.next_txg();
            let mut ds = Dataset::filesystem(now, txg);
            if path == name
                && let Some(l) = like
            {
                ds.kind = l.kind;
                ds.volsize = l.volsize;
                ds.used = l.used;
            }
            dst.datasets.insert(path.clone(), ds);
        }
    }
}

/// Carries out a plan: the target receives datasets and snapshots, gets `readonly` per
/// policy, and target retention runs. Returns the task's new `last_snapshot`.
pub fn apply(
    plan: &Plan,
    src: &SimState,
    dst: &mut SimState,
    task: &ReplicationTask,
    now: DateTime<Utc>,
) -> Option<String> {
    let Ok(sel) = Selector::of(src, task) else {
        return None;
    };
    for step in &plan.steps {
        for name in &step.destroy_first {
            dst.snapshots
                .remove(&format!("{}@{name}", step.dst_dataset));
        }
        let like = src.datasets.get(&step.src_dataset).cloned();
        let existed = dst.datasets.contains_key(&step.dst_dataset);
        ensure_dataset(dst, &step.dst_dataset, like.as_ref(), now.timestamp());
        if !existed
            && task.properties
            && let (Some(l), Some(d)) = (like, dst.datasets.get_mut(&step.dst_dataset))
        {
            // Sent properties arrive as RECEIVED (readonly is the policy's business).
            for (k, v) in l.properties.iter().filter(|(k, v)| {
                *k != "readonly"
                    && v.source == PropSource::Local
                    && !task.properties_exclude.contains(k)
            }) {
                d.properties.insert(
                    k.clone(),
                    PropValue {
                        value: v.value.clone(),
                        source: PropSource::Received,
                    },
                );
            }
            for (k, v) in &task.properties_override {
                if let Some(s) = v.as_str() {
                    d.properties.insert(
                        k.clone(),
                        PropValue {
                            value: s.to_string(),
                            source: PropSource::Local,
                        },
                    );
                }
            }
            for (k, v) in &l.user_properties {
                d.user_properties.insert(
                    k.clone(),
                    PropValue {
                        value: v.value.clone(),
                        source: PropSource::Received,
                    },
                );
            }
        }
        for name in &arriving(src, step) {
            let Some(s) = src.snapshots.get(&format!("{}@{name}", step.src_dataset)) else {
                continue;
            };
            let txg = dst.next_txg();
            dst.snapshots.insert(
                format!("{}@{name}", step.dst_dataset),
                Snapshot {
                    dataset: step.dst_dataset.clone(),
                    name: name.clone(),
                    creation: s.creation,
                    createtxg: txg,
                    used: 0,
                    referenced: s.referenced,
                    user_properties: s.user_properties.clone(),
                    holds: Default::default(),
                },
            );
        }
        if matches!(task.readonly, ReadonlyPolicy::Set | ReadonlyPolicy::Require) {
            let parent_ro = step
                .dst_dataset
                .rsplit_once('/')
                .is_some_and(|(p, _)| dst.is_readonly(p));
            if let Some(d) = dst.datasets.get_mut(&step.dst_dataset) {
                if parent_ro {
                    // Inherit from the parent rather than keep an explicit `off`.
                    if d.properties
                        .get("readonly")
                        .is_some_and(|v| v.value == "off")
                    {
                        d.properties.remove("readonly");
                    }
                } else {
                    d.properties.insert(
                        "readonly".into(),
                        PropValue {
                            value: "on".into(),
                            source: PropSource::Local,
                        },
                    );
                }
            }
        }
    }
    retain_target(plan, src, dst, task, &sel, now);
    let last = plan
        .steps
        .iter()
        .find(|s| s.immediate)
        .or(plan.steps.first())
        .and_then(|s| s.snapshots.last().map(|n| format!("{}@{n}", s.src_dataset)));
    last.or_else(|| newest_common(src, dst, task))
}

/// The snapshots a step leaves on the target, oldest first: what it sends and, for `-I`
/// sends, every source snapshot between the base and the last one sent.
fn arriving(src: &SimState, step: &Step) -> Vec<String> {
    if !step.intermediate {
        return step.snapshots.clone();
    }
    let mut all: Vec<&Snapshot> = src
        .snapshots
        .values()
        .filter(|s| s.dataset == step.src_dataset)
        .collect();
    all.sort_by_key(|s| s.createtxg);
    let start = step
        .base
        .as_ref()
        .and_then(|b| all.iter().position(|s| &s.name == b))
        .map_or(0, |i| i + 1);
    let end = step
        .snapshots
        .last()
        .and_then(|l| all.iter().position(|s| &s.name == l))
        .map_or(start, |i| i + 1);
    all.get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|s| s.name.clone())
        .collect()
}

/// With nothing to send, the task's last snapshot is the newest one both sides have.
fn newest_common(src: &SimState, dst: &SimState, task: &ReplicationTask) -> Option<String> {
    let base = source_base(&task.source_datasets);
    let source = task.source_datasets.first()?;
    let dst_ds = target_for(task, &base, source);
    snapshots_of(src, source)
        .into_iter()
        .rev()
        .find(|s| dst.snapshots.contains_key(&format!("{dst_ds}@{}", s.name)))
        .map(|s| s.full_name())
}

/// Target retention: SOURCE drops what the source no longer has, CUSTOM what is older
/// than the lifetime; the newest snapshot of a dataset (the next incremental base) stays.
fn retain_target(
    plan: &Plan,
    src: &SimState,
    dst: &mut SimState,
    task: &ReplicationTask,
    sel: &Selector,
    now: DateTime<Utc>,
) {
    let cutoff = match task.retention_policy {
        RetentionPolicy::None => return,
        RetentionPolicy::Source => None,
        RetentionPolicy::Custom => {
            let (Some(v), Some(u)) = (task.lifetime_value, task.lifetime_unit) else {
                return;
            };
            let secs = match u {
                super::state::LifetimeUnit::Hour => 3600,
                super::state::LifetimeUnit::Day => 86_400,
                super::state::LifetimeUnit::Week => 604_800,
                super::state::LifetimeUnit::Month => 2_592_000,
                super::state::LifetimeUnit::Year => 31_536_000,
            };
            Some(now.timestamp() - (v as i64).saturating_mul(secs))
        }
    };
    let pairs: BTreeSet<(String, String)> = plan
        .steps
        .iter()
        .map(|s| (s.src_dataset.clone(), s.dst_dataset.clone()))
        .collect();
    for (src_ds, dst_ds) in pairs {
        let dst_snaps: Vec<Snapshot> = snapshots_of(dst, &dst_ds).into_iter().cloned().collect();
        let Some((newest, older)) = dst_snaps.split_last() else {
            continue;
        };
        let _ = newest;
        for s in older {
            if !sel.matches(&s.name) || !s.holds.is_empty() {
                continue;
            }
            let drop = match cutoff {
                None => !src.snapshots.contains_key(&format!("{src_ds}@{}", s.name)),
                Some(c) => s.creation < c,
            };
            if drop {
                dst.snapshots.remove(&s.full_name());
            }
        }
    }
}

/// Where a task's target lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// LOCAL: the same system.
    Same,
    /// Another system's state file in the fleet.
    Other(PathBuf),
}

/// The state files of a fleet directory (`<system>.json`, not the engine's own files).
pub fn fleet_state_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    name.is_some_and(|n| {
                        !n.starts_with('.') && n.ends_with(".json") && n.matches('.').count() == 1
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Why paramiko could not open an SSH connection for zettarepl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshFailure {
    /// `socket.gaierror`: the host names no system of the fleet.
    NameUnknown,
    /// `NoValidConnectionsError`: no SSH service on that port.
    NoConnection { host: String, port: u64 },
    /// `BadHostKeyException` (paramiko client.py `connect`): the key the server presented
    /// (`type base64`) is not the stored one of that type.
    BadHostKey {
        host: String,
        got: String,
        expected: String,
    },
    /// `SSHException` of paramiko's default `RejectPolicy`: no host key is stored at all.
    UnknownHost { name: String },
    /// `AuthenticationException` (auth_handler.py): the key pair is not authorised.
    AuthFailed,
}

impl SshFailure {
    /// What zettarepl reports as the replication error (replication/run.py
    /// `run_replication_tasks`: `str(e)`, without `[Errno None] `).
    pub fn zettarepl_text(&self) -> String {
        match self {
            SshFailure::NameUnknown => "[Errno -2] Name or service not known".into(),
            SshFailure::NoConnection { host, port } => {
                format!("Unable to connect to port {port} on {host}")
            }
            SshFailure::BadHostKey {
                host,
                got,
                expected,
            } => format!(
                "Host key for server '{host}' does not match: got '{}', expected '{}'",
                key_blob(got).unwrap_or_default(),
                key_blob(expected).unwrap_or_default()
            ),
            SshFailure::UnknownHost { name } => format!("Server '{name}' not found in known_hosts"),
            SshFailure::AuthFailed => "Authentication failed.".into(),
        }
    }

    /// The CallError (EACCES) message of the middleware's `_handle_ssh_exceptions`
    /// (plugins/zettarepl.py): `repr(e)` without `[Errno None] `, and on SCALE a sentence of
    /// its own for a changed host key naming the MD5 fingerprint of the key sent.
    pub fn middleware_text(&self, core: bool) -> String {
        match self {
            SshFailure::NameUnknown => "gaierror(-2, 'Name or service not known')".into(),
            SshFailure::NoConnection { host, port } => format!(
                "NoValidConnectionsError(None, 'Unable to connect to port {port} on {host}')"
            ),
            // CORE 13 has no sentence of its own: the exception's repr, its arguments the
            // host and both keys (paramiko 3.2+ `PKey.__repr__`).
            SshFailure::BadHostKey {
                host,
                got,
                expected,
            } if core => format!(
                "BadHostKeyException('{host}', {}, {})",
                pkey_repr(got),
                pkey_repr(expected)
            ),
            SshFailure::BadHostKey { got, .. } => {
                let blob = key_blob(got)
                    .and_then(|b| data_encoding::BASE64.decode(b.as_bytes()).ok())
                    .unwrap_or_default();
                let fingerprint = md5::compute(&blob)
                    .0
                    .iter()
                    .map(|c| format!("{c:x}"))
                    .collect::<Vec<_>>()
                    .join(":");
                format!(
                    "Remote host identification has changed. Someone could be eavesdropping on you right now (man-in-the-middle attack)! It is also possible that a host key has just been changed. The fingerprint for the RSA key sent by the remote host is {fingerprint}. Please edit your SSH connection and click \"Discover Remote Host Key\" to resolve this issue."
                )
            }
            SshFailure::UnknownHost { name } => {
                format!("SSHException(\"Server '{name}' not found in known_hosts\")")
            }
            SshFailure::AuthFailed => "AuthenticationException('Authentication failed.')".into(),
        }
    }
}

/// paramiko's `PKey.__repr__` (pkey.py): algorithm, bits and SHA256 fingerprint of a key line.
fn pkey_repr(line: &str) -> String {
    let t = key_type(line).unwrap_or_default();
    let blob = key_blob(line)
        .and_then(|b| data_encoding::BASE64.decode(b.as_bytes()).ok())
        .unwrap_or_default();
    let alg = t
        .trim_start_matches("ssh-")
        .split('-')
        .next()
        .unwrap_or_default()
        .to_uppercase();
    let bits = match t {
        "ecdsa-sha2-nistp384" => 384,
        "ecdsa-sha2-nistp521" => 521,
        "ssh-rsa" => rsa_bits(&blob),
        _ => 256,
    };
    let digest = russh::keys::ssh_key::HashAlg::Sha256.digest(&blob);
    let fp = data_encoding::BASE64_NOPAD.encode(&digest);
    format!("PKey(alg={alg}, bits={bits}, fp=SHA256:{fp})")
}

/// The modulus size of an `ssh-rsa` key blob (string type, mpint e, mpint n).
fn rsa_bits(blob: &[u8]) -> usize {
    let mut rest = blob;
    let mut field = || -> Option<&[u8]> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let v = rest.get(4..4 + len)?;
        rest = rest.get(4 + len..)?;
        Some(v)
    };
    let n = field().and(field()).and(field()).unwrap_or_default();
    let n: Vec<u8> = n.iter().copied().skip_while(|b| *b == 0).collect();
    n.first()
        .map_or(0, |b| (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize))
}

/// The key type of an OpenSSH public key line (`ssh-ed25519 AAAA...`).
fn key_type(line: &str) -> Option<&str> {
    line.split_whitespace()
        .find(|t| t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-"))
}

/// paramiko's order of preference for the server's host key (transport.py
/// `_preferred_keys`), after the type of the first stored key.
const PREFERRED_HOST_KEYS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
];

/// The first key line of type `t`.
fn of_type<'a>(keys: &[&'a str], t: &str) -> Option<&'a str> {
    keys.iter().find(|k| key_type(k) == Some(t)).copied()
}

/// What paramiko's `SSHClient.connect` decides about the server's host key: the server
/// presents its key of the first stored key's type if it has one (else its first in
/// paramiko's order); that must equal the stored key of the same type (else the first
/// stored key is named as expected). Stored lines are `remote_host_key` (one per line).
pub fn check_host_key(
    host: &str,
    port: u64,
    stored: &str,
    server_keys: &[String],
) -> Result<(), SshFailure> {
    let known: Vec<&str> = stored
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && key_type(l).is_some())
        .collect();
    let Some(first) = known.first() else {
        // No known key: `RejectPolicy.missing_host_key` (named `[host]:port` off port 22).
        return Err(SshFailure::UnknownHost {
            name: if port == 22 {
                host.to_string()
            } else {
                format!("[{host}]:{port}")
            },
        });
    };
    let server: Vec<&str> = server_keys.iter().map(String::as_str).collect();
    let mut order: Vec<&str> = vec![key_type(first).unwrap_or_default()];
    order.extend(PREFERRED_HOST_KEYS.iter().copied());
    let Some(got) = order.iter().find_map(|t| of_type(&server, t)) else {
        return Ok(());
    };
    let expected = key_type(got)
        .and_then(|t| of_type(&known, t))
        .unwrap_or(first);
    if key_blob(got) == key_blob(expected) {
        Ok(())
    } else {
        Err(SshFailure::BadHostKey {
            host: host.to_string(),
            got: crate::sim::methods::keychain::first_two(got),
            expected: crate::sim::methods::keychain::first_two(expected),
        })
    }
}

/// Checks an SSH connection through credential `cred` (of `src`) to the system `dst` the way
/// paramiko meets it: SSH running on the port, then the host key, then the key pair in the
/// `authorized_keys` (`sshpubkey`) of the credential's user.
pub fn check_ssh(src: &SimState, cred: &Credential, dst: &SimState) -> Result<(), SshFailure> {
    let attr = |k: &str| cred.attributes.get(k);
    let host = attr("host").and_then(Value::as_str).unwrap_or_default();
    let port = attr("port").and_then(Value::as_u64).unwrap_or(22);
    let username = attr("username").and_then(Value::as_str).unwrap_or("root");
    let ssh_up = dst
        .service("ssh")
        .is_some_and(|s| s.state == ServiceState::Running)
        && u64::from(dst.ssh.tcpport) == port;
    if !ssh_up {
        return Err(SshFailure::NoConnection {
            host: host.to_string(),
            port,
        });
    }
    let stored = attr("remote_host_key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    check_host_key(host, port, stored, &dst.ssh.host_keys)?;
    // The credential's key pair must be authorised for the remote user.
    let public = attr("private_key")
        .and_then(Value::as_u64)
        .and_then(|id| src.keychain.iter().find(|c| c.id == id))
        .and_then(|k| k.attributes.get("public_key"))
        .and_then(Value::as_str)
        .and_then(|k| key_blob(k).map(str::to_string));
    let authorised = dst
        .users
        .iter()
        .find(|u| u.username == username)
        .and_then(|u| u.sshpubkey.as_deref())
        .is_some_and(|keys| {
            public
                .as_deref()
                .is_some_and(|p| keys.lines().any(|l| key_blob(l) == Some(p)))
        });
    if authorised {
        Ok(())
    } else {
        Err(SshFailure::AuthFailed)
    }
}

/// Finds the target system of an SSH task and checks the connection the way paramiko
/// would meet it; errors are zettarepl's sentences.
pub fn resolve_target(
    src_file: &Path,
    src: &SimState,
    task: &ReplicationTask,
) -> Result<Target, String> {
    if task.transport == Transport::Local {
        return Ok(Target::Same);
    }
    let cred = task
        .ssh_credentials
        .and_then(|id| src.keychain.iter().find(|c| c.id == id))
        .filter(|c| c.kind == CredentialType::SshCredentials)
        .ok_or_else(|| "SSH Credentials are required for non-local replication".to_string())?;
    let host = cred
        .attributes
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let dir = match src_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let found = fleet_state_files(&dir).into_iter().find_map(|p| {
        let st = super::load(&p).ok()?;
        let hit = st.system.hostname == host
            || st.system.addresses.contains(&host)
            || p.file_stem().is_some_and(|s| s.to_string_lossy() == host);
        hit.then_some((p, st))
    });
    let Some((path, dst)) = found else {
        return Err(SshFailure::NameUnknown.zettarepl_text());
    };
    check_ssh(src, cred, &dst).map_err(|e| e.zettarepl_text())?;
    if path == src_file {
        Ok(Target::Same)
    } else {
        Ok(Target::Other(path))
    }
}

/// The base64 part of an OpenSSH public key line.
fn key_blob(line: &str) -> Option<&str> {
    let mut it = line.split_whitespace();
    while let Some(t) = it.next() {
        if t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-") {
            return it.next();
        }
    }
    None
}

/// Ends the run of `job` for `task_id` on `st`: the job and the task's state.
fn record(st: &mut SimState, job: u64, task_id: u64, outcome: Result<Option<String>, String>) {
    let now = st.now_secs();
    let previous_last = st
        .replications
        .iter()
        .find(|r| r.id == task_id)
        .and_then(|r| r.state.last_snapshot.clone());
    let state = match outcome {
        Ok(last) => {
            st.finish_job(job, Value::Null);
            TaskState {
                state: TaskStateKind::Finished,
                datetime: Some(now),
                last_snapshot: last.or(previous_last),
                ..TaskState::default()
            }
        }
        Err(e) => {
            let sentence = make_sentence(&e);
            st.fail_job(job, &sentence);
            TaskState {
                state: TaskStateKind::Error,
                datetime: Some(now),
                error: Some(sentence),
                last_snapshot: previous_last,
                ..TaskState::default()
            }
        }
    };
    if let Some(r) = st.replications.iter_mut().find(|r| r.id == task_id) {
        r.state = state;
    }
}

/// Runs replication job `job` (of task `task_id`) on the system in `src_file` to its end:
/// both state files are locked in path order, the transfer happens, the job and the task's
/// state record the outcome.
pub fn complete(src_file: &Path, job: u64, task_id: u64) -> Result<(), Problem> {
    let src0 = super::load(src_file)?;
    let Some(task) = src0.replications.iter().find(|r| r.id == task_id).cloned() else {
        return Ok(());
    };
    let target = resolve_target(src_file, &src0, &task);
    match target {
        Err(e) => super::with_state(src_file, |st| {
            if still_running(st, job) {
                record(st, job, task_id, Err(e));
            }
        }),
        Ok(Target::Same) => super::with_state(src_file, |st| {
            if !still_running(st, job) {
                return;
            }
            let Some(task) = st.replications.iter().find(|r| r.id == task_id).cloned() else {
                return;
            };
            let src = st.clone();
            let now = st.now();
            let outcome = plan(&src, st, &task).map(|p| apply(&p, &src, st, &task, now));
            record(st, job, task_id, outcome);
        }),
        Ok(Target::Other(dst_file)) => {
            // Fixed lock order (by path) so two engines never wait on each other.
            let (first, second) = if src_file <= dst_file.as_path() {
                (src_file, dst_file.as_path())
            } else {
                (dst_file.as_path(), src_file)
            };
            let _l1 = super::lock(first)?;
            let _l2 = super::lock(second)?;
            let mut src = super::load(src_file)?;
            let mut dst = super::load(&dst_file)?;
            if !still_running(&src, job) {
                return Ok(());
            }
            let Some(task) = src.replications.iter().find(|r| r.id == task_id).cloned() else {
                return Ok(());
            };
            let now = src.now();
            let (from, to) = match task.direction {
                Direction::Push => (&src, &mut dst),
                Direction::Pull => (&dst, &mut src),
            };
            let from = from.clone();
            let outcome = plan(&from, to, &task).map(|p| apply(&p, &from, to, &task, now));
            record(&mut src, job, task_id, outcome);
            super::save(&dst_file, &dst)?;
            super::save(src_file, &src)
        }
    }
}

fn still_running(st: &SimState, job: u64) -> bool {
    st.jobs
        .iter()
        .find(|j| j.id == job)
        .is_some_and(|j| !j.state.is_finished())
}

/// The progress object zettarepl reports in a RUNNING task's state.
pub fn progress_state(item: &str, sent: usize, total: usize, bytes: (u64, u64)) -> Value {
    let (dataset, snapshot) = item.split_once('@').unwrap_or((item, ""));
    json!({
        "dataset": dataset,
        "snapshot": snapshot,
        "snapshots_sent": sent,
        "snapshots_total": total,
        "bytes_sent": bytes.0,
        "bytes_total": bytes.1,
        "current": bytes.0,
        "total": bytes.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_and_targets_follow_zettarepl() {
        let one = vec!["tank/data".to_string()];
        assert_eq!(source_base(&one), "tank/data");
        let two = vec!["tank/a".to_string(), "tank/b".to_string()];
        assert_eq!(source_base(&two), "tank");
        assert_eq!(source_base(&["tank/a".into(), "pool/b".into()]), "");
    }

    #[test]
    fn core_names_keys_as_paramiko_prints_them() {
        let ed = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj";
        assert_eq!(
            pkey_repr(ed),
            "PKey(alg=ED25519, bits=256, fp=SHA256:pd74UqIehMeRVwzIeSfSFzTurtyBXCSUCi7iY9gyzoY)"
        );
        let mut blob = Vec::new();
        for f in [&b"ssh-rsa"[..], &[1, 0, 1], &[0, 0x80, 0, 0]] {
            blob.extend_from_slice(&(f.len() as u32).to_be_bytes());
            blob.extend_from_slice(f);
        }
        assert_eq!(rsa_bits(&blob), 24);
        assert_eq!(rsa_bits(&blob[..9]), 0);
    }

    #[test]
    fn sentences() {
        assert_eq!(make_sentence("x failed"), "x failed.");
        assert_eq!(make_sentence("Refusing."), "Refusing.");
        assert_eq!(make_sentence(""), "");
        assert_eq!(make_sentence("x failed\n"), "x failed\n.");
        assert_eq!(py_repr("tank/x"), "'tank/x'");
        assert_eq!(py_repr("it's"), "\"it's\"");
    }
}
