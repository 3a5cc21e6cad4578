//! The live tasks of the systems as config entries: ownership sorted out, references by
//! name, targets found through the SSH connections' pinned host keys.

use std::collections::{BTreeMap, BTreeSet};

use crate::client::{self, Credential};
use crate::inventory::Inventory;
use crate::model::{self, Lifetime, LifetimeUnit};
use crate::plan::build::key_set;
use crate::plan::fields::{clean_path, live_schedule};
use crate::plan::ledger::{self, Kind};

/// One live task: `(kind, system, id)`.
pub type Key = (Kind, String, i64);

/// Where an entry comes from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub key: Key,
    /// This project manages it already.
    pub managed: bool,
}

pub struct TaskEntry {
    pub task: model::SnapshotTask,
    pub origin: Origin,
}

pub struct RepEntry {
    pub rep: model::Replication,
    /// One per TrueNAS task (several for a push from several systems).
    pub origins: Vec<Origin>,
}

/// A live task that is not imported, and why.
#[derive(Debug, Clone)]
pub struct LeftOut {
    pub key: Key,
    /// `snapshot task #3 (tank/vm, auto-%Y-%m-%d_%H-%M)`.
    pub what: String,
    pub why: String,
    /// Made by hand and expressible: `--adopt` would import it.
    pub hand_made: bool,
}

pub struct Collected {
    pub tasks: Vec<TaskEntry>,
    pub reps: Vec<RepEntry>,
    pub left_out: Vec<LeftOut>,
}

/// What to import.
pub struct Scope<'a> {
    pub project: &'a str,
    /// Every system that could be read, for finding the other end of SSH connections.
    pub fleet: &'a BTreeMap<String, &'a Inventory>,
    /// The systems whose tasks are imported, in order.
    pub systems: &'a [String],
    /// Tasks found unfit in an earlier round, with the reason.
    pub excluded: &'a BTreeMap<Key, String>,
    /// Import tasks made by hand (with `adopt: true`).
    pub adopt: bool,
}

pub const HAND_MADE: &str =
    "made by hand; `zfleet import --adopt` declares it, and the next apply takes it over";

fn describe_task(t: &client::SnapshotTask) -> String {
    format!(
        "snapshot task #{} ({}, {})",
        t.id,
        clean_path(&t.dataset),
        t.naming_schema
    )
}

fn describe_rep(r: &client::Replication) -> String {
    format!("replication #{} {:?}", r.id, r.name)
}

/// Ownership records of one system: this project's names and other projects' ids.
struct Owners {
    ours: BTreeMap<(Kind, i64), String>,
    theirs: BTreeMap<(Kind, i64), String>,
}

fn owners(project: &str, inv: &Inventory) -> Owners {
    let mut o = Owners {
        ours: BTreeMap::new(),
        theirs: BTreeMap::new(),
    };
    for r in ledger::read(inv) {
        let Some(id) = r.id else { continue };
        if r.project == project {
            o.ours.insert((r.kind, id), r.name);
        } else {
            o.theirs.insert((r.kind, id), r.project);
        }
    }
    o
}

/// Why a task is not imported before looking at its fields, if it is not.
fn gate(
    scope: &Scope<'_>,
    owners: &Owners,
    key: &Key,
    what: String,
    left_out: &mut Vec<LeftOut>,
) -> Option<Option<String>> {
    let (kind, _, id) = key;
    let leave = |why: String, hand_made: bool, left_out: &mut Vec<LeftOut>| {
        left_out.push(LeftOut {
            key: key.clone(),
            what: what.clone(),
            why,
            hand_made,
        });
        None
    };
    if let Some(project) = owners.theirs.get(&(*kind, *id)) {
        return leave(
            format!("managed by project {project}; it belongs in that project's config"),
            false,
            left_out,
        );
    }
    if let Some(why) = scope.excluded.get(key) {
        return leave(why.clone(), false, left_out);
    }
    let managed = owners.ours.get(&(*kind, *id)).cloned();
    if managed.is_none() && !scope.adopt {
        return leave(HAND_MADE.to_string(), true, left_out);
    }
    Some(managed)
}

pub fn collect(scope: &Scope<'_>) -> Collected {
    let mut left_out = Vec::new();
    let mut tasks: Vec<(TaskEntry, bool)> = Vec::new();
    for system in scope.systems {
        let Some(inv) = scope.fleet.get(system) else {
            continue;
        };
        let owners = owners(scope.project, inv);
        let mut live: Vec<&client::SnapshotTask> = inv.snapshot_tasks.iter().collect();
        live.sort_by_key(|t| t.id);
        for t in live {
            let key = (Kind::SnapshotTask, system.clone(), t.id);
            let Some(managed) = gate(scope, &owners, &key, describe_task(t), &mut left_out) else {
                continue;
            };
            match snapshot_task(t, system, managed.clone()) {
                Ok(task) => tasks.push((
                    TaskEntry {
                        task,
                        origin: Origin {
                            key,
                            managed: managed.is_some(),
                        },
                    },
                    managed.is_some(),
                )),
                Err(why) => left_out.push(LeftOut {
                    key,
                    what: describe_task(t),
                    why,
                    hand_made: false,
                }),
            }
        }
    }
    let tasks = super::names::assign(tasks);
    let task_names: BTreeMap<(String, i64), String> = tasks
        .iter()
        .map(|e| {
            (
                (e.origin.key.1.clone(), e.origin.key.2),
                e.task.name.clone(),
            )
        })
        .collect();

    let mut reps: Vec<RepEntry> = Vec::new();
    for system in scope.systems {
        let Some(inv) = scope.fleet.get(system) else {
            continue;
        };
        let owners = owners(scope.project, inv);
        let mut live: Vec<&client::Replication> = inv.replications.iter().collect();
        live.sort_by_key(|r| r.id);
        for r in live {
            let key = (Kind::Replication, system.clone(), r.id);
            let Some(managed) = gate(scope, &owners, &key, describe_rep(r), &mut left_out) else {
                continue;
            };
            match replication(r, system, inv, scope.fleet, &task_names, managed.is_none()) {
                Ok(rep) => reps.push(RepEntry {
                    rep,
                    origins: vec![Origin {
                        key,
                        managed: managed.is_some(),
                    }],
                }),
                Err(why) => left_out.push(LeftOut {
                    key,
                    what: describe_rep(r),
                    why,
                    hand_made: false,
                }),
            }
        }
    }
    let reps = merge(reps, &mut left_out);
    Collected {
        tasks,
        reps,
        left_out,
    }
}

fn lifetime(value: i64, unit: &str) -> Result<Lifetime, String> {
    let unit_of = match unit.to_ascii_uppercase().as_str() {
        "HOUR" => LifetimeUnit::Hour,
        "DAY" => LifetimeUnit::Day,
        "WEEK" => LifetimeUnit::Week,
        "MONTH" => LifetimeUnit::Month,
        "YEAR" => LifetimeUnit::Year,
        _ => {
            return Err(format!(
                "its lifetime unit {unit:?} is not one zfleet knows"
            ));
        }
    };
    match u32::try_from(value) {
        Ok(v) if v >= 1 && v <= unit_of.max_value() => Ok(Lifetime {
            value: v,
            unit: unit_of,
        }),
        _ => Err(format!(
            "its lifetime of {value} {unit} is outside what the config accepts"
        )),
    }
}

fn snapshot_task(
    t: &client::SnapshotTask,
    system: &str,
    managed: Option<String>,
) -> Result<model::SnapshotTask, String> {
    let schedule = live_schedule(&t.schedule);
    if super::schedule::text(&schedule).is_none() {
        return Err("its schedule is not one the config can write".to_string());
    }
    Ok(model::SnapshotTask {
        // Hand-made tasks are named once every task of the fleet is known.
        name: managed.clone().unwrap_or_default(),
        system: system.to_string(),
        dataset: clean_path(&t.dataset),
        recursive: t.recursive,
        exclude: if t.recursive {
            t.exclude.iter().map(|e| clean_path(e)).collect()
        } else {
            Vec::new()
        },
        lifetime: lifetime(t.lifetime_value, &t.lifetime_unit)?,
        naming_schema: t.naming_schema.clone(),
        schedule,
        allow_empty: t.allow_empty,
        enabled: t.enabled,
        adopt: managed.is_none(),
        fixate_removal_date: false,
    })
}

/// The system of the fleet an SSH connection of `on` reaches: the one whose host keys
/// the connection pins.
fn remote_of(
    on: &Inventory,
    credential: Option<i64>,
    fleet: &BTreeMap<String, &Inventory>,
) -> Result<String, String> {
    let id = credential.ok_or("it has no SSH connection")?;
    let entry = on
        .keychain
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| format!("its SSH connection #{id} is not in the keychain"))?;
    let (host, pinned) = match &entry.credential {
        Credential::SshCredentials {
            host,
            remote_host_key,
            ..
        } => (host, key_set(remote_host_key)),
        _ => {
            return Err(format!(
                "its SSH connection {:?} cannot be read (the login user lacks keychain rights?)",
                entry.name
            ));
        }
    };
    let found: Vec<&String> = fleet
        .iter()
        .filter(|(_, inv)| {
            !key_set(&inv.ssh_config.host_public_keys.join("\n")).is_disjoint(&pinned)
        })
        .map(|(name, _)| name)
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "its SSH connection {:?} reaches {host}, which is no system of the config",
            entry.name
        )),
        many => Err(format!(
            "its SSH connection {:?} pins a host key that {} share",
            entry.name,
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

fn replication(
    r: &client::Replication,
    on: &str,
    inv: &Inventory,
    fleet: &BTreeMap<String, &Inventory>,
    task_names: &BTreeMap<(String, i64), String>,
    adopt: bool,
) -> Result<model::Replication, String> {
    use model::{Compression, Direction, Readonly, Retention, RunSchedule, Transport};
    let unsayable = unsayable(r);
    if !unsayable.is_empty() {
        return Err(format!(
            "the config cannot say its {} as TrueNAS has it",
            unsayable.join(", ")
        ));
    }
    let direction = match r.direction.to_ascii_uppercase().as_str() {
        "PUSH" => Direction::Push,
        "PULL" => Direction::Pull,
        d => return Err(format!("its direction {d:?} is not one zfleet knows")),
    };
    let transport_live = r.transport.to_ascii_uppercase();
    let remote = match transport_live.as_str() {
        "LOCAL" => on.to_string(),
        "SSH" | "SSH+NETCAT" => remote_of(inv, r.ssh_credentials, fleet)?,
        t => return Err(format!("its transport {t:?} is not one zfleet knows")),
    };
    let (source_system, target_system) = match direction {
        Direction::Push => (on.to_string(), remote),
        Direction::Pull => (remote, on.to_string()),
    };
    let same = source_system == target_system;
    let transport = match (transport_live.as_str(), same) {
        ("LOCAL", true) | ("SSH", false) => None,
        ("SSH", true) => Some(Transport::Ssh),
        _ => Some(Transport::SshNetcat),
    };
    let mut snapshot_tasks = Vec::new();
    if direction == Direction::Push {
        for id in &r.periodic_snapshot_tasks {
            let name = task_names
                .get(&(on.to_string(), *id))
                .ok_or_else(|| format!("it uses snapshot task #{id}, which is not imported"))?;
            snapshot_tasks.push(name.clone());
        }
    }
    let naming_schemas = match direction {
        Direction::Push => r.also_include_naming_schema.clone(),
        Direction::Pull => r.naming_schema.clone(),
    };
    let schedule = match (r.auto, &r.schedule) {
        (false, _) => RunSchedule::Manual,
        (true, Some(s)) => RunSchedule::Schedule(live_schedule(s)),
        (true, None) => RunSchedule::WithSnapshotTasks,
    };
    if let RunSchedule::Schedule(s) = &schedule
        && super::schedule::text(s).is_none()
    {
        return Err("its schedule is not one the config can write".to_string());
    }
    let retention = match r.retention_policy.to_ascii_uppercase().as_str() {
        "SOURCE" => Retention::Source,
        "NONE" => Retention::None,
        "CUSTOM" => match (r.lifetime_value, &r.lifetime_unit) {
            (Some(v), Some(u)) => Retention::Custom(lifetime(v, u)?),
            _ => return Err("its custom retention has no lifetime".to_string()),
        },
        p => {
            return Err(format!(
                "its retention policy {p:?} is not one zfleet knows"
            ));
        }
    };
    let readonly = match r.readonly.to_ascii_uppercase().as_str() {
        "REQUIRE" => Readonly::Require,
        "IGNORE" => Readonly::Ignore,
        _ => Readonly::Set,
    };
    let compression = match r.compression.as_deref().map(str::to_ascii_uppercase) {
        Some(c) if c == "LZ4" => Some(Compression::Lz4),
        Some(c) if c == "PIGZ" => Some(Compression::Pigz),
        Some(c) if c == "PLZIP" => Some(Compression::Plzip),
        _ => None,
    };
    let retries = u32::try_from(r.retries)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("its retries of {} are not at least 1", r.retries))?;
    Ok(model::Replication {
        name: r.name.clone(),
        sources: vec![model::ReplicationSource {
            system: source_system,
            datasets: r.source_datasets.iter().map(|d| clean_path(d)).collect(),
            snapshot_tasks,
            naming_schemas,
        }],
        target: model::ReplicationTarget {
            system: target_system,
            dataset: clean_path(&r.target_dataset),
        },
        recursive: r.recursive,
        exclude: if r.recursive {
            r.exclude.iter().map(|e| clean_path(e)).collect()
        } else {
            Vec::new()
        },
        direction,
        transport,
        schedule,
        retention,
        readonly,
        allow_from_scratch: r.allow_from_scratch,
        hold_pending_snapshots: r.hold_pending_snapshots,
        properties: r.properties,
        properties_exclude: r.properties_exclude.clone(),
        properties_override: r.properties_override.clone().unwrap_or_default(),
        compression,
        speed_limit: r
            .speed_limit
            .filter(|s| *s > 0)
            .and_then(|s| u64::try_from(s).ok()),
        retries,
        enabled: r.enabled,
        run_on_apply: false,
        adopt,
    })
}

/// Settings of a live replication that zfleet's config has no key for, where they are
/// not TrueNAS's defaults (what `plan` would change back).
fn unsayable(r: &client::Replication) -> Vec<&'static str> {
    [
        (
            "name_regex",
            r.name_regex.as_deref().is_some_and(|x| !x.is_empty()),
        ),
        ("replicate", r.replicate),
        ("encryption", r.encryption),
        ("restrict_schedule", r.restrict_schedule.is_some()),
        ("only_matching_schedule", r.only_matching_schedule),
        (
            "lifetimes",
            r.lifetimes.as_ref().is_some_and(|l| !l.is_empty()),
        ),
        ("large_block", !r.large_block),
        ("embed", r.embed),
        ("compressed", !r.compressed),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

/// Replication tasks of one name on several systems are one config replication with a
/// source per system, when they differ in nothing else (as zfleet makes a push from
/// several systems). Otherwise the first keeps the name and the others are left out.
fn merge(reps: Vec<RepEntry>, left_out: &mut Vec<LeftOut>) -> Vec<RepEntry> {
    let mut out: Vec<RepEntry> = Vec::new();
    for e in reps {
        let Some(first) = out.iter_mut().find(|o| o.rep.name == e.rep.name) else {
            out.push(e);
            continue;
        };
        let systems: BTreeSet<&String> = first.rep.sources.iter().map(|s| &s.system).collect();
        let fits = first.rep.direction == model::Direction::Push
            && e.rep.direction == model::Direction::Push
            && !e.rep.sources.iter().any(|s| systems.contains(&s.system))
            && settings(&first.rep) == settings(&e.rep);
        if fits {
            first.rep.sources.extend(e.rep.sources);
            first.rep.adopt |= e.rep.adopt;
            first.origins.extend(e.origins);
        } else {
            for o in e.origins {
                left_out.push(LeftOut {
                    what: format!("replication #{} {:?}", o.key.2, e.rep.name),
                    key: o.key,
                    why: "a replication of that name on another system is imported already, and the two differ in more than their sources".to_string(),
                    hand_made: false,
                });
            }
        }
    }
    out
}

/// Everything of a replication but its sources and `adopt`.
fn settings(r: &model::Replication) -> serde_json::Value {
    let mut r = r.clone();
    r.sources.clear();
    r.adopt = false;
    serde_json::to_value(&r).unwrap_or_default()
}
