//! Builds the plan: per system, desired tasks matched to live ones through the ownership
//! records, then the live checks.

use std::collections::{BTreeMap, BTreeSet};

use super::fields::{all_new, diff, fingerprint};
use super::ledger::{self, Kind, Record};
use super::spec::{ConnRef, RepSpec, TaskRef, snapshot_task_fields, snapshot_task_input};
use super::{Action, Conflict, Op, Plan, Subject, SystemPlan, Unmanaged};
use crate::client::api::SnapshotTaskInput;
use crate::client::{Credential, Version};
use crate::inventory::{FleetEntry, Inventory};
use crate::model::{self, Config, Direction, Readonly, Retention, RunSchedule, Transport};

/// Choices that change what the plan proposes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Enable and start a disabled or stopped SSH service where replication needs it.
    pub fix_ssh: bool,
}

/// One TrueNAS replication task the config asks for.
#[derive(Debug, Clone)]
pub struct DesiredRep<'a> {
    pub rep: &'a model::Replication,
    pub source: &'a model::ReplicationSource,
    /// The system the task runs on.
    pub runs_on: String,
    /// The system at the other end of an SSH transport.
    pub remote: Option<String>,
    pub spec: RepSpec,
}

/// The TrueNAS replication tasks of the config, per system that runs them.
pub fn desired_replications(config: &Config) -> Vec<DesiredRep<'_>> {
    let mut out = Vec::new();
    for rep in config.replications.values() {
        let runs: Vec<String> = rep
            .sources
            .iter()
            .map(|s| match rep.direction {
                Direction::Push => s.system.clone(),
                Direction::Pull => rep.target.system.clone(),
            })
            .collect();
        for (i, source) in rep.sources.iter().enumerate() {
            let runs_on = runs[i].clone();
            let shared = runs.iter().filter(|r| **r == runs_on).count() > 1;
            let task_name = if shared {
                format!("{} ({})", rep.name, source.system)
            } else {
                rep.name.clone()
            };
            let transport = rep.transport_for(&source.system);
            let remote = (transport != Transport::Local).then(|| match rep.direction {
                Direction::Push => rep.target.system.clone(),
                Direction::Pull => source.system.clone(),
            });
            let spec = rep_spec(config, rep, source, task_name, transport);
            out.push(DesiredRep {
                rep,
                source,
                runs_on,
                remote,
                spec,
            });
        }
    }
    out
}

fn rep_spec(
    config: &Config,
    rep: &model::Replication,
    source: &model::ReplicationSource,
    name: String,
    transport: Transport,
) -> RepSpec {
    let push = rep.direction == Direction::Push;
    let mut schemas: Vec<String> = source.naming_schemas.clone();
    if !push {
        // A pull task cannot bind the source's snapshot tasks; it names their schemas.
        for t in &source.snapshot_tasks {
            if let Some(t) = config.snapshot_tasks.get(t) {
                schemas.push(t.naming_schema.clone());
            }
        }
    }
    schemas.sort();
    schemas.dedup();
    let (auto, schedule) = match &rep.schedule {
        RunSchedule::Schedule(s) => (true, Some(s.clone())),
        RunSchedule::WithSnapshotTasks => (true, None),
        RunSchedule::Manual => (false, None),
    };
    let (retention_policy, lifetime) = match &rep.retention {
        Retention::Source => ("SOURCE", None),
        Retention::None => ("NONE", None),
        Retention::Custom(l) => (
            "CUSTOM",
            Some((i64::from(l.value), l.unit.as_truenas().to_string())),
        ),
    };
    let local = transport == Transport::Local;
    RepSpec {
        name,
        direction: if push { "PUSH" } else { "PULL" }.into(),
        transport: match transport {
            Transport::Ssh => "SSH",
            Transport::SshNetcat => "SSH+NETCAT",
            Transport::Local => "LOCAL",
        }
        .into(),
        ssh_credentials: None,
        source_datasets: source.datasets.clone(),
        target_dataset: rep.target.dataset.clone(),
        recursive: rep.recursive,
        exclude: if rep.recursive {
            rep.exclude.clone()
        } else {
            vec![]
        },
        properties: rep.properties,
        properties_exclude: rep.properties_exclude.clone(),
        properties_override: rep.properties_override.clone(),
        replicate: false,
        encryption: false,
        periodic_snapshot_tasks: if push {
            source
                .snapshot_tasks
                .iter()
                .map(|t| TaskRef::Name(t.clone()))
                .collect()
        } else {
            vec![]
        },
        schemas,
        name_regex: None,
        auto,
        schedule,
        restrict_schedule: None,
        only_matching_schedule: false,
        allow_from_scratch: rep.allow_from_scratch,
        readonly: match rep.readonly {
            Readonly::Set => "SET",
            Readonly::Require => "REQUIRE",
            Readonly::Ignore => "IGNORE",
        }
        .into(),
        hold_pending_snapshots: push && rep.hold_pending_snapshots,
        retention_policy: retention_policy.into(),
        lifetime,
        lifetimes: 0,
        compression: if local {
            None
        } else {
            rep.compression.map(|c| {
                match c {
                    model::Compression::Lz4 => "LZ4",
                    model::Compression::Pigz => "PIGZ",
                    model::Compression::Plzip => "PLZIP",
                }
                .to_string()
            })
        },
        speed_limit: if local {
            None
        } else {
            rep.speed_limit.and_then(|s| i64::try_from(s).ok())
        },
        large_block: true,
        embed: false,
        compressed: true,
        retries: i64::from(rep.retries),
        enabled: rep.enabled,
    }
}

/// The `(type, base64)` pairs of `type base64 [comment]` lines, options and comments skipped.
pub fn key_set(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            // `type base64` may follow options (`from="…" ssh-ed25519 AAAA…`).
            let at = words.iter().position(|w| {
                w.starts_with("ssh-") || w.starts_with("ecdsa-") || w.starts_with("sk-")
            })?;
            let b64 = words.get(at + 1)?;
            Some((words[at].to_string(), b64.to_string()))
        })
        .collect()
}

/// Keychain name → id and id → name of a system's SSH connections.
fn connection_name(inv: &Inventory, id: i64) -> Option<String> {
    inv.keychain
        .iter()
        .find(|k| k.id == id)
        .map(|k| k.name.clone())
}

/// The SSH connection on `on` that reaches `remote`: one whose stored host key is one of
/// `remote`'s host keys. The one a live task already uses wins; then the lowest id.
pub fn find_connection(
    on: &Inventory,
    remote: &Inventory,
    current: Option<i64>,
) -> Option<ConnRef> {
    let remote_keys: BTreeSet<(String, String)> =
        key_set(&remote.ssh_config.host_public_keys.join("\n"));
    let mut found: Vec<(i64, String)> = on
        .keychain
        .iter()
        .filter_map(|k| match &k.credential {
            Credential::SshCredentials {
                remote_host_key, ..
            } if !key_set(remote_host_key).is_disjoint(&remote_keys) => {
                Some((k.id, k.name.clone()))
            }
            _ => None,
        })
        .collect();
    found.sort();
    let pick = found
        .iter()
        .find(|(id, _)| Some(*id) == current)
        .or(found.first())?;
    Some(ConnRef {
        name: pick.1.clone(),
        id: Some(pick.0),
    })
}

/// Builds the plan. `fleet` holds every system of `config` (read or failed).
pub fn plan<R>(config: &Config, fleet: &[FleetEntry<R>], options: &Options) -> Plan {
    let inventories: BTreeMap<&str, &Inventory> = fleet
        .iter()
        .filter_map(|e| e.result.as_ref().ok().map(|i| (e.name.as_str(), i)))
        .collect();
    let mut reps = desired_replications(config);
    // Wire each SSH task to its connection.
    for d in &mut reps {
        let (Some(remote), Some(on)) = (&d.remote, inventories.get(d.runs_on.as_str())) else {
            continue;
        };
        let current = on
            .replications
            .iter()
            .find(|r| r.name == d.spec.name)
            .and_then(|r| r.ssh_credentials);
        d.spec.ssh_credentials = match inventories.get(remote.as_str()) {
            Some(remote_inv) => find_connection(on, remote_inv, current),
            // The other end cannot be read: keep what the task uses now.
            None => current.map(|id| ConnRef {
                name: connection_name(on, id).unwrap_or_else(|| format!("#{id}")),
                id: Some(id),
            }),
        };
    }

    let mut problems = Vec::new();
    let extra = connections(config, &inventories, &mut reps, &mut problems);
    let mut systems = Vec::new();
    for entry in fleet {
        match &entry.result {
            Err(p) => {
                problems.push(p.clone());
                systems.push(SystemPlan {
                    system: entry.name.clone(),
                    version: None,
                    known: false,
                    actions: vec![],
                    unmanaged: vec![],
                    notes: vec![],
                    forget: vec![],
                    conflicts: vec![],
                    ambiguous: vec![],
                    task_ids: BTreeMap::new(),
                    state: None,
                    lock_dataset: None,
                });
            }
            Ok(inv) => {
                let mut sp = plan_system(config, inv, &reps);
                if let Some(mut more) = extra.get(&entry.name).cloned() {
                    more.append(&mut sp.actions);
                    sp.actions = more;
                }
                systems.push(sp);
            }
        }
    }
    problems.extend(super::checks::run(
        config,
        &inventories,
        &reps,
        &systems,
        options,
    ));
    if options.fix_ssh {
        super::checks::fix_ssh(&inventories, &reps, &mut systems);
    }
    Plan {
        project: config.project.clone(),
        systems,
        problems,
    }
}

/// Where a task's ownership is recorded.
fn snapshot_task_anchor(spec: &SnapshotTaskInput) -> String {
    super::fields::clean_path(&spec.dataset)
}

/// A push task's first source dataset; a pull task's target's parent, which exists before
/// the first run creates the target (and outlives a run that replaces it).
pub fn replication_anchor(spec: &RepSpec) -> Option<String> {
    if spec.direction == "PULL" {
        let target = super::fields::clean_path(&spec.target_dataset);
        return Some(match target.rsplit_once('/') {
            Some((parent, _)) => parent.to_string(),
            None => target,
        });
    }
    let mut s: Vec<String> = spec
        .source_datasets
        .iter()
        .map(|d| super::fields::clean_path(d))
        .collect();
    s.sort();
    s.into_iter().next()
}

struct Ledger {
    /// This project's records with ids, by kind.
    ours: Vec<Record>,
    pending: Vec<Record>,
    /// Ids recorded by other projects: kind, id → project.
    theirs: BTreeMap<(Kind, i64), String>,
}

fn ledger_of(project: &str, inv: &Inventory) -> Ledger {
    let mut l = Ledger {
        ours: vec![],
        pending: vec![],
        theirs: BTreeMap::new(),
    };
    for r in ledger::read(inv) {
        match (r.project == project, r.id) {
            (true, Some(_)) => l.ours.push(r),
            (true, None) => l.pending.push(r),
            (false, Some(id)) => {
                l.theirs.insert((r.kind, id), r.project.clone());
            }
            (false, None) => {}
        }
    }
    l
}

fn plan_system(config: &Config, inv: &Inventory, reps: &[DesiredRep<'_>]) -> SystemPlan {
    let system = inv.system.as_str();
    let version = &inv.version;
    let ledger = ledger_of(&config.project, inv);
    let mut sp = SystemPlan {
        system: system.to_string(),
        version: Some(format!("{} {}", version.product, version.number)),
        known: true,
        actions: vec![],
        unmanaged: vec![],
        notes: vec![],
        forget: vec![],
        conflicts: vec![],
        ambiguous: vec![],
        task_ids: BTreeMap::new(),
        state: Some(super::digest::StateDigest::of(inv)),
        lock_dataset: inv
            .datasets
            .iter()
            .filter(|d| !d.name.contains('/'))
            .map(|d| d.name.clone())
            .min(),
    };
    let prune = config.systems.get(system).is_some_and(|s| s.prune);
    // `fixate_removal_date` exists from 24.04 on.
    let can_fixate = version.personality != crate::client::version::Personality::Core13;
    let fixate_deletes = can_fixate
        && config
            .systems
            .get(system)
            .is_some_and(|s| s.fixate_removal_date);

    // Which live snapshot task is which managed one.
    let mut st_managed: BTreeMap<i64, String> = BTreeMap::new();
    let mut st_records: BTreeMap<i64, Record> = BTreeMap::new();
    for r in ledger.ours.iter().filter(|r| r.kind == Kind::SnapshotTask) {
        let Some(id) = r.id else { continue };
        let live = inv.snapshot_tasks.iter().find(|t| t.id == id);
        match live {
            Some(t) if super::fields::clean_path(&t.dataset) == r.dataset => {
                st_managed.insert(id, r.name.clone());
                st_records.insert(id, r.clone());
            }
            _ => {
                sp.notes.push(format!(
                    "snapshot task {} (#{id}) is gone; its record on {} is forgotten",
                    r.name, r.dataset
                ));
                sp.forget.push((r.dataset.clone(), r.key.clone()));
            }
        }
    }
    let mut rep_managed: BTreeMap<i64, String> = BTreeMap::new();
    let mut rep_records: BTreeMap<i64, Record> = BTreeMap::new();
    for r in ledger.ours.iter().filter(|r| r.kind == Kind::Replication) {
        let Some(id) = r.id else { continue };
        match inv.replications.iter().find(|t| t.id == id) {
            Some(t) if t.name == r.name => {
                rep_managed.insert(id, r.name.clone());
                rep_records.insert(id, r.clone());
            }
            _ => {
                sp.notes.push(format!(
                    "replication {} (#{id}) is gone; its record on {} is forgotten",
                    r.name, r.dataset
                ));
                sp.forget.push((r.dataset.clone(), r.key.clone()));
            }
        }
    }
    let recorded = |kind: Kind, id: i64, mine: &BTreeMap<i64, String>| {
        mine.contains_key(&id) || ledger.theirs.contains_key(&(kind, id))
    };

    // Snapshot tasks.
    let desired_st: Vec<&model::SnapshotTask> = config
        .snapshot_tasks
        .values()
        .filter(|t| t.system == system)
        .collect();
    let mut claimed: BTreeSet<i64> = BTreeSet::new();
    let mut ambiguous: Vec<(String, Vec<i64>)> = Vec::new();
    let mut pending_used: BTreeSet<String> = BTreeSet::new();
    for t in &desired_st {
        let spec = SnapshotTaskInput::from(*t);
        let want = snapshot_task_fields(&spec);
        let anchor = Some(snapshot_task_anchor(&spec));
        let managed = st_managed
            .iter()
            .find(|(id, n)| **n == t.name && !claimed.contains(*id))
            .map(|(id, _)| *id);
        let found = managed.map(|id| (id, None)).or_else(|| {
            // An interrupted apply: the unrecorded task with the pending fingerprint.
            let mark = ledger.pending.iter().find(|p| {
                p.kind == Kind::SnapshotTask && p.name == t.name && !pending_used.contains(&p.key)
            })?;
            let fp = mark.fingerprint.as_deref()?;
            let id = inv
                .snapshot_tasks
                .iter()
                .filter(|l| {
                    !recorded(Kind::SnapshotTask, l.id, &st_managed) && !claimed.contains(&l.id)
                })
                .find(|l| fingerprint(&snapshot_task_fields(&snapshot_task_input(l))) == fp)?
                .id;
            pending_used.insert(mark.key.clone());
            Some((id, Some("made by an interrupted apply".to_string())))
        });
        let found = found.or_else(|| {
            if !t.adopt {
                return None;
            }
            let candidates: Vec<_> = inv
                .snapshot_tasks
                .iter()
                .filter(|l| {
                    !recorded(Kind::SnapshotTask, l.id, &st_managed)
                        && !claimed.contains(&l.id)
                        && super::fields::clean_path(&l.dataset)
                            == super::fields::clean_path(&t.dataset)
                        && l.naming_schema == t.naming_schema
                })
                .collect();
            let exact: Vec<_> = candidates
                .iter()
                .filter(|l| diff(&snapshot_task_fields(&snapshot_task_input(l)), &want).is_empty())
                .collect();
            let pick = match (exact.first(), candidates.len()) {
                (Some(l), _) => Some(l.id),
                (None, 1) => Some(candidates[0].id),
                (None, 0) => None,
                (None, _) => {
                    ambiguous.push((t.name.clone(), candidates.iter().map(|l| l.id).collect()));
                    None
                }
            }?;
            Some((pick, Some("made by hand; adopted".to_string())))
        });
        if ambiguous.iter().any(|(n, _)| *n == t.name) {
            // Reported by the checks; creating one more would only add to the confusion.
            continue;
        }
        match found {
            Some((id, reason)) => {
                claimed.insert(id);
                let Some(live) = inv.snapshot_tasks.iter().find(|l| l.id == id) else {
                    continue;
                };
                let changes = diff(&snapshot_task_fields(&snapshot_task_input(live)), &want);
                let mut spec = spec;
                if can_fixate && t.fixate_removal_date && !changes.is_empty() {
                    spec.fixate_removal_date = Some(true);
                }
                let Some((op, unrecord)) = matched(
                    st_records.get(&id),
                    anchor.as_ref(),
                    reason.is_some(),
                    changes.is_empty(),
                    pending_of(&ledger, Kind::SnapshotTask, &t.name),
                ) else {
                    continue;
                };
                sp.actions.push(Action {
                    op,
                    subject: Subject::SnapshotTask {
                        name: Some(t.name.clone()),
                        spec,
                    },
                    id: Some(id),
                    changes,
                    reason,
                    anchor,
                    unrecord,
                });
            }
            None => sp.actions.push(Action {
                op: Op::Create,
                changes: all_new(&want),
                subject: Subject::SnapshotTask {
                    name: Some(t.name.clone()),
                    spec,
                },
                id: None,
                reason: None,
                anchor,
                unrecord: pending_of(&ledger, Kind::SnapshotTask, &t.name),
            }),
        }
    }
    sp.ambiguous = ambiguous;
    // Deleting a task unbinds it from every replication: another project's must not change.
    let bound_by_theirs = |id: i64| {
        inv.replications.iter().any(|r| {
            ledger.theirs.contains_key(&(Kind::Replication, r.id))
                && r.periodic_snapshot_tasks.contains(&id)
        })
    };
    // Live snapshot tasks nobody asked for.
    for live in &inv.snapshot_tasks {
        if claimed.contains(&live.id) {
            continue;
        }
        let mut spec = snapshot_task_input(live);
        if fixate_deletes {
            spec.fixate_removal_date = Some(true);
        }
        let desc = format!(
            "{}{} ({}, every {})",
            live.dataset,
            if live.recursive { " (recursive)" } else { "" },
            live.naming_schema,
            super::fields::show_schedule(&super::fields::live_schedule(&live.schedule))
        );
        let left = Leftover {
            kind: "snapshot task",
            id: live.id,
            managed: st_managed.get(&live.id).cloned(),
            record: st_records.get(&live.id),
            owner: ledger.theirs.get(&(Kind::SnapshotTask, live.id)),
            prune: prune && !bound_by_theirs(live.id),
            description: desc,
        };
        match left.decide(|name| Subject::SnapshotTask { name, spec }) {
            Ok(action) => sp.actions.push(action),
            Err(unmanaged) => sp.unmanaged.push(unmanaged),
        }
    }

    // Names of the snapshot tasks on this system after the plan, for references.
    let mut names: BTreeMap<i64, String> = st_managed.clone();
    for a in &sp.actions {
        if let (Some(id), Op::Adopt | Op::Update, Subject::SnapshotTask { name: Some(n), .. }) =
            (a.id, a.op, &a.subject)
        {
            names.insert(id, n.clone());
        }
    }
    sp.task_ids = names.iter().map(|(id, n)| (n.clone(), *id)).collect();
    let task_name = |id: i64| names.get(&id).cloned();
    let conn_name = |id: i64| connection_name(inv, id);

    // One-time snapshots.
    let missing: Vec<&model::Snapshot> = config
        .snapshots
        .iter()
        .filter(|s| s.system == system)
        .filter(|s| {
            !inv.snapshots_of(&s.dataset)
                .any(|name| crate::model::naming::parse(&s.naming_schema, name).is_some())
        })
        .collect();
    for s in &missing {
        // A recursive one of a parent takes this one too, under the same name; ZFS would
        // refuse the second.
        let covered = missing.iter().any(|o| {
            o.recursive
                && o.naming_schema == s.naming_schema
                && (crate::model::dataset::is_below(&s.dataset, &o.dataset)
                    || (o.dataset == s.dataset && !s.recursive))
        });
        if !covered {
            sp.actions.push(Action {
                op: Op::Create,
                subject: Subject::Snapshot {
                    dataset: s.dataset.clone(),
                    naming_schema: s.naming_schema.clone(),
                    recursive: s.recursive,
                    exclude: s.exclude.clone(),
                },
                id: None,
                changes: vec![],
                reason: Some(format!("no snapshot matching {} yet", s.naming_schema)),
                anchor: None,
                unrecord: vec![],
            });
        }
    }

    // Replications.
    let mut rep_claimed: BTreeSet<i64> = BTreeSet::new();
    let mut new_actions = Vec::new();
    for d in reps.iter().filter(|d| d.runs_on == system) {
        let want = d.spec.fields(Some(version));
        let anchor = replication_anchor(&d.spec);
        let by_name = inv.replications.iter().find(|l| l.name == d.spec.name);
        let found: Option<(i64, Option<String>)> = match by_name {
            Some(l) if rep_managed.contains_key(&l.id) => Some((l.id, None)),
            Some(l) if !recorded(Kind::Replication, l.id, &rep_managed) => {
                let mark = ledger
                    .pending
                    .iter()
                    .find(|p| p.kind == Kind::Replication && p.name == d.spec.name);
                let live = RepSpec::from_live(l, task_name, conn_name);
                let interrupted = mark.is_some_and(|m| {
                    m.fingerprint.as_deref()
                        == Some(fingerprint(&live.identity_fields(Some(version))).as_str())
                });
                if interrupted {
                    Some((l.id, Some("made by an interrupted apply".to_string())))
                } else if d.rep.adopt {
                    Some((l.id, Some("made by hand; adopted".to_string())))
                } else {
                    sp.conflicts.push(Conflict {
                        name: d.spec.name.clone(),
                        id: l.id,
                        project: None,
                    });
                    continue;
                }
            }
            Some(l) => {
                sp.conflicts.push(Conflict {
                    name: d.spec.name.clone(),
                    id: l.id,
                    project: ledger.theirs.get(&(Kind::Replication, l.id)).cloned(),
                });
                continue;
            }
            None => None,
        };
        match found {
            Some((id, reason)) => {
                rep_claimed.insert(id);
                let Some(l) = inv.replications.iter().find(|l| l.id == id) else {
                    continue;
                };
                let live = RepSpec::from_live(l, task_name, conn_name);
                let changes = diff(&live.fields(Some(version)), &want);
                let Some((op, unrecord)) = matched(
                    rep_records.get(&id),
                    anchor.as_ref(),
                    reason.is_some(),
                    changes.is_empty(),
                    pending_of(&ledger, Kind::Replication, &d.spec.name),
                ) else {
                    continue;
                };
                new_actions.push(Action {
                    op,
                    subject: Subject::Replication {
                        name: Some(d.rep.name.clone()),
                        spec: d.spec.clone(),
                    },
                    id: Some(id),
                    changes,
                    reason,
                    anchor,
                    unrecord,
                });
            }
            None => new_actions.push(Action {
                op: Op::Create,
                changes: all_new(&want),
                subject: Subject::Replication {
                    name: Some(d.rep.name.clone()),
                    spec: d.spec.clone(),
                },
                id: None,
                reason: None,
                anchor,
                unrecord: pending_of(&ledger, Kind::Replication, &d.spec.name),
            }),
        }
    }
    for l in &inv.replications {
        if rep_claimed.contains(&l.id) {
            continue;
        }
        let spec = RepSpec::from_live(l, task_name, conn_name);
        let desc = format!(
            "{} ({} {} → {})",
            l.name,
            l.direction,
            l.source_datasets.join(", "),
            l.target_dataset
        );
        let left = Leftover {
            kind: "replication",
            id: l.id,
            managed: rep_managed.get(&l.id).cloned(),
            record: rep_records.get(&l.id),
            owner: ledger.theirs.get(&(Kind::Replication, l.id)),
            prune,
            description: desc,
        };
        match left.decide(|name| Subject::Replication { name, spec }) {
            Ok(action) => new_actions.push(action),
            Err(unmanaged) => sp.unmanaged.push(unmanaged),
        }
    }
    sp.actions.extend(new_actions);

    // Pending marks nobody claimed: an interrupted apply that made nothing.
    for p in &ledger.pending {
        let used = sp
            .actions
            .iter()
            .any(|a| a.unrecord.iter().any(|(_, k)| *k == p.key));
        if !used {
            sp.notes.push(format!(
                "an interrupted apply left a mark for {} on {}; it is forgotten",
                p.name, p.dataset
            ));
            sp.forget.push((p.dataset.clone(), p.key.clone()));
        }
    }
    sp.actions.sort_by_key(|a| a.subject.stage(a.op));
    sp
}

/// A live task the config does not ask for.
struct Leftover<'a> {
    kind: &'static str,
    id: i64,
    /// Its zfleet name, when this project manages it.
    managed: Option<String>,
    record: Option<&'a Record>,
    /// The other project that manages it.
    owner: Option<&'a String>,
    /// The system prunes, and nothing forbids deleting this one.
    prune: bool,
    description: String,
}

impl Leftover<'_> {
    /// Deleted (`Ok`) when this project manages it or the system prunes it; else listed
    /// as not managed (`Err`).
    fn decide(self, subject: impl FnOnce(Option<String>) -> Subject) -> Result<Action, Unmanaged> {
        let delete = |name: Option<String>, reason: &str, unrecord| Action {
            op: Op::Delete,
            subject: subject(name),
            id: Some(self.id),
            changes: vec![],
            reason: Some(reason.into()),
            anchor: None,
            unrecord,
        };
        match (self.managed, self.owner) {
            (Some(name), _) => Ok(delete(
                Some(name),
                "no longer in the config",
                self.record
                    .map(|r| (r.dataset.clone(), r.key.clone()))
                    .into_iter()
                    .collect(),
            )),
            (None, None) if self.prune => Ok(delete(
                None,
                "not managed, and the system has `prune: true`",
                vec![],
            )),
            (None, owner) => Err(Unmanaged {
                kind: self.kind.into(),
                id: self.id,
                description: self.description,
                project: owner.cloned(),
            }),
        }
    }
}

/// What to do with a live task matched to a desired one: adopt it (taken over now),
/// update it (fields differ, or its record must move to `anchor`), or nothing (`None`).
/// Also the ownership properties to remove afterwards: a record that moves, and `pending`.
fn matched(
    record: Option<&Record>,
    anchor: Option<&String>,
    adopting: bool,
    unchanged: bool,
    pending: Vec<(String, String)>,
) -> Option<(Op, Vec<(String, String)>)> {
    let moves = record.is_some_and(|r| Some(&r.dataset) != anchor);
    if !adopting && unchanged && !moves {
        return None;
    }
    let mut unrecord: Vec<(String, String)> = record
        .filter(|_| moves)
        .map(|r| (r.dataset.clone(), r.key.clone()))
        .into_iter()
        .collect();
    unrecord.extend(pending);
    Some((if adopting { Op::Adopt } else { Op::Update }, unrecord))
}

/// Pending marks of `name` to remove once the task is recorded.
fn pending_of(ledger: &Ledger, kind: Kind, name: &str) -> Vec<(String, String)> {
    ledger
        .pending
        .iter()
        .filter(|p| p.kind == kind && p.name == name)
        .map(|p| (p.dataset.clone(), p.key.clone()))
        .collect()
}

/// Whether `version` is known to lack a replication field the spec sets.
pub fn unsupported_fields(spec: &RepSpec, version: &Version) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !spec.properties_override.is_empty() && !version.has_replication_field("properties_override")
    {
        out.push("properties_override");
    }
    out
}

/// Address, port and user by which other systems reach `system` over SSH.
fn reach_of(config: &Config, system: &str, inv: &Inventory) -> Option<(String, u16, String)> {
    let port = inv.ssh_config.tcpport;
    match &config.systems.get(system)?.kind {
        model::SystemKind::Ssh(s) => Some((
            s.replication_address
                .clone()
                .unwrap_or_else(|| s.host.clone()),
            port,
            s.user.clone().unwrap_or_else(|| "root".into()),
        )),
        model::SystemKind::Simulator(_) => Some((inv.info.hostname.clone()?, port, "root".into())),
    }
}

/// `type base64` lines of a system's host keys, comments dropped.
fn host_key_lines(inv: &Inventory) -> String {
    key_set(&inv.ssh_config.host_public_keys.join("\n"))
        .into_iter()
        .map(|(t, b)| format!("{t} {b}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Plans the SSH connections replication needs: an existing one that reaches the other
/// end is used (and its key authorised there if it is not); otherwise a new one is made.
/// Returns the actions per system; wires each task's `ssh_credentials`.
fn connections(
    config: &Config,
    fleet: &BTreeMap<&str, &Inventory>,
    reps: &mut [DesiredRep<'_>],
    problems: &mut Vec<crate::diag::Problem>,
) -> BTreeMap<String, Vec<Action>> {
    let mut out: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    // (running system, remote) → connection name planned in this run.
    let mut planned: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut authorised: BTreeSet<(String, String, String)> = BTreeSet::new();
    for d in reps.iter_mut() {
        let Some(remote) = d.remote.clone() else {
            continue;
        };
        let (Some(on), Some(there)) = (fleet.get(d.runs_on.as_str()), fleet.get(remote.as_str()))
        else {
            continue;
        };
        let Some((host, port, username)) = reach_of(config, &remote, there) else {
            continue;
        };
        let user = there.users.iter().find(|u| u.username == username);
        if let Some(conn) = &d.spec.ssh_credentials {
            // Reused: its key must be authorised for the user it logs in as.
            let Some(id) = conn.id else { continue };
            let found = on.keychain.iter().find(|k| k.id == id);
            let (login, key_id) = match found.map(|k| &k.credential) {
                Some(Credential::SshCredentials {
                    username,
                    private_key,
                    ..
                }) => (username.clone(), *private_key),
                _ => continue,
            };
            let public = key_id.and_then(|kp| {
                on.keychain
                    .iter()
                    .find(|k| k.id == kp)
                    .and_then(|k| match &k.credential {
                        Credential::SshKeyPair { public_key } => public_key.clone(),
                        _ => None,
                    })
            });
            let (Some(public), Some(u)) =
                (public, there.users.iter().find(|u| u.username == login))
            else {
                continue;
            };
            let have = key_set(u.sshpubkey.as_deref().unwrap_or(""));
            // A key pair whose public key is not a key SSH can use cannot be authorised.
            if key_set(&public).is_subset(&have) || !is_ssh_key(&public) {
                continue;
            }
            if authorised.insert((remote.clone(), login.clone(), conn.name.clone())) {
                out.entry(remote.clone()).or_default().push(Action {
                    op: Op::Update,
                    subject: Subject::AuthorizedKey {
                        username: login.clone(),
                        user_id: u.id,
                        from: d.runs_on.clone(),
                        connection: conn.name.clone(),
                        key: Some(public.clone()),
                    },
                    id: Some(u.id),
                    changes: vec![super::Change {
                        field: "sshpubkey".into(),
                        old: None,
                        new: Some(format!("+ {}", key_fingerprint(&public))),
                    }],
                    reason: Some(format!("{} logs in with this key", conn.name)),
                    anchor: None,
                    unrecord: vec![],
                });
            }
            continue;
        }
        if !on.version.has_replication_field("sudo") {
            // CORE 13 has no `setup_ssh_connection`: the check says to make one by hand.
            continue;
        }
        let Some(user) = user else {
            problems.push(
                crate::diag::Problem::error(
                    super::codes::NO_CONNECTION,
                    format!(
                        "{} cannot be reached from {}: it has no user {username} to log in as",
                        remote, d.runs_on
                    ),
                )
                .system(&remote)
                .object(format!("replication {}", d.rep.name))
                .help(format!(
                    "set `user:` of system {remote} to the user replication should log in as"
                )),
            );
            continue;
        };
        let key = (d.runs_on.clone(), remote.clone());
        let name = match planned.get(&key) {
            Some(n) => n.clone(),
            None => {
                let base = format!("zfleet-{}-{}", config.project, remote);
                let mut name = base.clone();
                let mut n = 2;
                while on
                    .keychain
                    .iter()
                    .any(|k| k.name == name || k.name == format!("{name} key"))
                {
                    name = format!("{base}-{n}");
                    n += 1;
                }
                let host_keys = host_key_lines(there);
                let fingerprints: Vec<String> = host_keys.lines().map(key_fingerprint).collect();
                out.entry(d.runs_on.clone()).or_default().push(Action {
                    op: Op::Create,
                    subject: Subject::Connection {
                        name: name.clone(),
                        remote: remote.clone(),
                        host: host.clone(),
                        port,
                        username: username.clone(),
                        host_keys,
                    },
                    id: None,
                    changes: vec![
                        super::Change {
                            field: "host".into(),
                            old: None,
                            new: Some(format!("{host}:{port}")),
                        },
                        super::Change {
                            field: "username".into(),
                            old: None,
                            new: Some(username.clone()),
                        },
                        super::Change {
                            field: "host key".into(),
                            old: None,
                            new: Some(fingerprints.join(", ")),
                        },
                        super::Change {
                            field: "key pair".into(),
                            old: None,
                            new: Some(format!("{name} key (generated on {})", d.runs_on)),
                        },
                    ],
                    reason: None,
                    anchor: None,
                    unrecord: vec![],
                });
                out.entry(remote.clone()).or_default().push(Action {
                    op: Op::Update,
                    subject: Subject::AuthorizedKey {
                        username: username.clone(),
                        user_id: user.id,
                        from: d.runs_on.clone(),
                        connection: name.clone(),
                        key: None,
                    },
                    id: Some(user.id),
                    changes: vec![super::Change {
                        field: "sshpubkey".into(),
                        old: None,
                        new: Some(format!("+ the public key of {name} key on {}", d.runs_on)),
                    }],
                    reason: Some(format!("{} on {} logs in with it", name, d.runs_on)),
                    anchor: None,
                    unrecord: vec![],
                });
                planned.insert(key, name.clone());
                name
            }
        };
        d.spec.ssh_credentials = Some(ConnRef { name, id: None });
    }
    out
}

/// Whether a `type base64 [comment]` line is a public key SSH can use.
fn is_ssh_key(line: &str) -> bool {
    let two: Vec<&str> = line.split_whitespace().take(2).collect();
    russh::keys::PublicKey::from_openssh(&two.join(" ")).is_ok()
}

/// `SHA256:…` of a `type base64 [comment]` key line, as `ssh-keygen -lf` prints it.
pub fn key_fingerprint(line: &str) -> String {
    let two: Vec<&str> = line.split_whitespace().take(2).collect();
    match russh::keys::PublicKey::from_openssh(&two.join(" ")) {
        Ok(k) => crate::transport::known_hosts::fingerprint(&k),
        Err(_) => "(unreadable key)".into(),
    }
}
