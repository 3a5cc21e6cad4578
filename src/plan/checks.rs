//! Live checks: what would make a task fail, found before anything is changed. Each is a
//! diagnostic with a code, the system, the object and a hint; errors block `apply`.

use std::collections::{BTreeMap, BTreeSet};

use super::build::{DesiredRep, Options};
use super::codes as c;
use super::{Action, Op, Subject, SystemPlan, TaskRef};
use crate::diag::Problem;
use crate::inventory::Inventory;
use crate::model::dataset::is_same_or_below;
use crate::model::{Config, naming};

type Fleet<'a> = BTreeMap<&'a str, &'a Inventory>;
type Plans<'a> = BTreeMap<&'a str, &'a SystemPlan>;

pub fn run(
    config: &Config,
    fleet: &Fleet<'_>,
    reps: &[DesiredRep<'_>],
    plans: &[SystemPlan],
    options: &Options,
) -> Vec<Problem> {
    let mut out = Vec::new();
    snapshot_tasks(config, fleet, &mut out);
    one_time_snapshots(config, fleet, &mut out);
    // Looked up once per replication: a fleet of hundreds of systems must not make the
    // checks quadratic.
    let by_system: Plans<'_> = plans.iter().map(|p| (p.system.as_str(), p)).collect();
    let mut ssh_seen = BTreeSet::new();
    for d in reps {
        ssh(d, fleet, options, &mut ssh_seen, &mut out);
        replication(config, d, fleet, &by_system, &mut out);
    }
    tasks_in_use(fleet, plans, &mut out);
    for d in reps {
        replication_retention(config, d, fleet, &by_system, &mut out);
    }
    for sp in plans {
        for (name, ids) in &sp.ambiguous {
            let ids: Vec<String> = ids.iter().map(|i| format!("#{i}")).collect();
            out.push(
                Problem::error(
                    c::ADOPT_AMBIGUOUS,
                    format!(
                        "`adopt: true` matches {} snapshot tasks made by hand on {} ({}), and none of them is exactly the one the config describes",
                        ids.len(),
                        sp.system,
                        ids.join(", ")
                    ),
                )
                .system(&sp.system)
                .object(format!("snapshot task {name}"))
                .help("make the config describe one of them exactly (schedule, lifetime, recursion), or delete the others in the TrueNAS UI"),
            );
        }
    }
    out
}

fn parent(ds: &str) -> Option<&str> {
    ds.rsplit_once('/').map(|(p, _)| p)
}

fn snapshot_tasks(config: &Config, fleet: &Fleet<'_>, out: &mut Vec<Problem>) {
    for t in config.snapshot_tasks.values() {
        let Some(inv) = fleet.get(t.system.as_str()) else {
            continue;
        };
        if inv.dataset(&t.dataset).is_none() {
            out.push(
                Problem::error(
                    c::DATASET_MISSING,
                    format!("dataset {} does not exist on {}", t.dataset, t.system),
                )
                .system(&t.system)
                .object(format!("snapshot task {}", t.name))
                .help("create the dataset on the system first, or correct `dataset:`"),
            );
        }
    }
}

fn one_time_snapshots(config: &Config, fleet: &Fleet<'_>, out: &mut Vec<Problem>) {
    for s in &config.snapshots {
        let Some(inv) = fleet.get(s.system.as_str()) else {
            continue;
        };
        if inv.dataset(&s.dataset).is_none() {
            out.push(
                Problem::error(
                    c::DATASET_MISSING,
                    format!("dataset {} does not exist on {}", s.dataset, s.system),
                )
                .system(&s.system)
                .object(format!("snapshot of {}", s.dataset))
                .help("create the dataset on the system first, or correct `dataset:`"),
            );
        }
    }
}

fn ssh(
    d: &DesiredRep<'_>,
    fleet: &Fleet<'_>,
    options: &Options,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<Problem>,
) {
    let Some(remote) = &d.remote else { return };
    let Some(inv) = fleet.get(remote.as_str()) else {
        return;
    };
    if options.fix_ssh || !seen.insert(remote.clone()) {
        return;
    }
    let object = format!("replication {}", d.rep.name);
    if !inv.ssh_service.enable {
        out.push(
            Problem::error(
                c::SSH_DISABLED,
                format!("the SSH service is not enabled, and {} reaches this system over SSH for this replication", d.runs_on),
            )
            .system(remote)
            .object(object)
            .help("enable it in System → Services → SSH (`service.update` with `enable: true`), or let `zfleet apply --fix-ssh` enable and start it"),
        );
    } else if !inv.ssh_service.running() {
        out.push(
            Problem::error(
                c::SSH_STOPPED,
                format!("the SSH service is not running ({}), and {} reaches this system over SSH for this replication", inv.ssh_service.state, d.runs_on),
            )
            .system(remote)
            .object(object)
            .help("start it in System → Services → SSH (`service.start`), or let `zfleet apply --fix-ssh` start it"),
        );
    }
}

/// `--fix-ssh`: plan enabling and starting the SSH services replication needs.
pub fn fix_ssh(fleet: &Fleet<'_>, reps: &[DesiredRep<'_>], plans: &mut [SystemPlan]) {
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    for d in reps {
        if let Some(r) = &d.remote {
            needed.insert(r.as_str());
        }
    }
    for sp in plans.iter_mut() {
        let Some(inv) = fleet.get(sp.system.as_str()) else {
            continue;
        };
        if !needed.contains(sp.system.as_str()) {
            continue;
        }
        let enable = !inv.ssh_service.enable;
        let start = !inv.ssh_service.running();
        if !enable && !start {
            continue;
        }
        let mut changes = Vec::new();
        if enable {
            changes.push(super::Change {
                field: "enable".into(),
                old: Some("false".into()),
                new: Some("true".into()),
            });
        }
        if start {
            changes.push(super::Change {
                field: "state".into(),
                old: Some(inv.ssh_service.state.clone()),
                new: Some("RUNNING".into()),
            });
        }
        sp.actions.insert(
            0,
            Action {
                op: Op::Update,
                subject: Subject::SshService { enable, start },
                id: Some(inv.ssh_service.id),
                changes,
                reason: Some("replication reaches this system over SSH (--fix-ssh)".into()),
                anchor: None,
                unrecord: vec![],
            },
        );
    }
}

fn replication(
    config: &Config,
    d: &DesiredRep<'_>,
    fleet: &Fleet<'_>,
    plans: &Plans<'_>,
    out: &mut Vec<Problem>,
) {
    let object = format!("replication {}", d.rep.name);
    let source_inv = fleet.get(d.source.system.as_str());
    let target_inv = fleet.get(d.rep.target.system.as_str());
    let run_inv = fleet.get(d.runs_on.as_str());

    if let (Some(inv), Some(sp)) = (run_inv, plans.get(d.runs_on.as_str())) {
        for conflict in sp.conflicts.iter().filter(|x| x.name == d.spec.name) {
            out.push(
                match &conflict.project {
                    Some(p) => Problem::error(
                        c::NAME_TAKEN,
                        format!("{} already has a replication named {:?}, managed by project {p}", d.runs_on, d.spec.name),
                    )
                    .help("rename the replication in this config; zfleet never touches another project's tasks"),
                    None => Problem::error(
                        c::NAME_TAKEN,
                        format!("{} already has a replication named {:?} that zfleet does not manage (#{})", d.runs_on, d.spec.name, conflict.id),
                    )
                    .help("add `adopt: true` to the replication to take that task over, or rename it"),
                }
                .system(&d.runs_on)
                .object(object.clone()),
            );
        }
        {
            let v = &inv.version;
            for f in super::build::unsupported_fields(&d.spec, v) {
                out.push(
                    Problem::error(
                        c::UNSUPPORTED_FIELD,
                        format!(
                            "{} runs TrueNAS {}, whose replication tasks have no `{f}`",
                            d.runs_on, v.number
                        ),
                    )
                    .system(&d.runs_on)
                    .object(object.clone())
                    .help(format!(
                        "remove `{f}` from the replication, or upgrade {}",
                        d.runs_on
                    )),
                );
            }
        }
    }
    if let (Some(remote), None, Some(_)) = (&d.remote, &d.spec.ssh_credentials, run_inv)
        && !fleet.contains_key(remote.as_str())
    {
        out.push(
            Problem::error(
                c::NO_CONNECTION,
                format!("{} needs an SSH connection to {remote}, which could not be read: the connection cannot be planned", d.runs_on),
            )
            .system(&d.runs_on)
            .object(object.clone())
            .help(format!("fix what keeps zfleet from reading {remote} (`zfleet systems` says what), then plan again")),
        );
    }
    // Elsewhere a missing connection is planned (or its own problem said why not); CORE
    // has no `setup_ssh_connection` to make one with.
    if d.remote.is_some()
        && d.spec.ssh_credentials.is_none()
        && let (Some(on), Some(remote)) = (
            run_inv,
            d.remote.as_ref().and_then(|r| fleet.get(r.as_str())),
        )
        && on.version.personality == crate::client::version::Personality::Core13
    {
        out.push(
            Problem::error(
                c::NO_CONNECTION,
                format!("no SSH connection here reaches {} (none stores one of its host keys), and zfleet cannot make one on TrueNAS CORE", remote.system),
            )
            .system(&d.runs_on)
            .object(object.clone())
            .help(format!("create one in Credentials → Backup Credentials → SSH Connections on {} (semi-automatic setup with {})", d.runs_on, remote.system)),
        );
    }

    // Source datasets.
    if let Some(inv) = source_inv {
        for ds in &d.source.datasets {
            match inv.dataset(ds) {
                None => out.push(
                    Problem::error(
                        c::DATASET_MISSING,
                        format!("source dataset {ds} does not exist on {}", d.source.system),
                    )
                    .system(&d.source.system)
                    .object(object.clone())
                    .help("create the dataset first, or correct the source's `datasets:`"),
                ),
                Some(dataset) => {
                    // A replica sent on (a chain) is read-only by design.
                    let replica = || {
                        config.replications.values().any(|r| {
                            r.target.system == d.source.system
                                && is_same_or_below(ds, &r.target.dataset)
                        })
                    };
                    if dataset.readonly && !replica() {
                        out.push(
                            Problem::warning(
                                c::READONLY_SOURCE,
                                format!("source dataset {ds} on {} is read-only", d.source.system),
                            )
                            .system(&d.source.system)
                            .object(object.clone())
                            .help("TrueCommand refuses read-only sources; this works for a chain (a replica sent on), but check that it is meant"),
                        );
                    }
                    no_snapshots(config, d, inv, ds, &object, out);
                }
            }
        }
    }

    // Target.
    if let Some(inv) = target_inv {
        let target = d.rep.target.dataset.as_str();
        match inv.dataset(target) {
            Some(t) => {
                if d.rep.readonly == crate::model::Readonly::Require && !t.readonly {
                    out.push(
                        Problem::error(
                            c::READONLY_REQUIRE,
                            format!("target {target} on {} is not read-only, and the replication has `readonly: require`", d.rep.target.system),
                        )
                        .system(&d.rep.target.system)
                        .object(object.clone())
                        .help("set readonly=on on the target dataset, or use `readonly: set`"),
                    );
                }
                if let (Some(src), Some(first)) = (source_inv, d.source.datasets.first())
                    && let Some(s) = src.dataset(first)
                    && d.source.datasets.len() == 1
                    && s.kind != t.kind
                {
                    out.push(
                        Problem::error(
                            c::DATASET_TYPE,
                            format!("source {first} is a {} but target {target} is a {}", kind_word(&s.kind), kind_word(&t.kind)),
                        )
                        .system(&d.rep.target.system)
                        .object(object.clone())
                        .help("replicate a zvol into a new or zvol target and a filesystem into a filesystem"),
                    );
                }
                unmatched(d, source_inv.copied(), inv, &object, out);
            }
            None => {
                if let Some(p) = parent(target) {
                    match inv.dataset(p) {
                        None => out.push(
                            Problem::error(
                                c::DATASET_MISSING,
                                format!("{p}, the parent of target {target}, does not exist on {}", d.rep.target.system),
                            )
                            .system(&d.rep.target.system)
                            .object(object.clone())
                            .help(format!("create {p} on {} first; replication creates only the target dataset itself", d.rep.target.system)),
                        ),
                        Some(pd) if pd.kind == "VOLUME" => out.push(
                            Problem::error(
                                c::DATASET_TYPE,
                                format!("{p}, the parent of target {target}, is a zvol and cannot hold datasets"),
                            )
                            .system(&d.rep.target.system)
                            .object(object.clone())
                            .help("choose a target below a filesystem"),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }

    // Bound snapshot tasks.
    for name in &d.source.snapshot_tasks {
        let Some(t) = config.snapshot_tasks.get(name) else {
            continue;
        };
        // Each bound task snapshots some of the sources (TrueNAS's rule); with several
        // source datasets, each task may cover only its own.
        let covers = d
            .source
            .datasets
            .iter()
            .any(|ds| is_same_or_below(ds, &t.dataset));
        let problem = if !t.enabled && d.rep.enabled {
            Some(format!("snapshot task {name} is disabled"))
        } else if !covers {
            Some(format!(
                "snapshot task {name} snapshots {}, not the replication's source datasets",
                t.dataset
            ))
        } else if d.rep.recursive && !t.recursive {
            Some(format!(
                "the replication is recursive but snapshot task {name} is not"
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            out.push(
                Problem::error(c::BOUND_TASK, message)
                    .system(&d.source.system)
                    .object(object.clone())
                    .help("bind a snapshot task that is enabled, covers the source datasets and is recursive where the replication is"),
            );
        }
    }
}

fn kind_word(kind: &str) -> &'static str {
    if kind == "VOLUME" {
        "zvol"
    } else {
        "filesystem"
    }
}

/// No snapshot on `ds` for the replication to send, and nothing in the plan makes one.
fn no_snapshots(
    config: &Config,
    d: &DesiredRep<'_>,
    inv: &Inventory,
    ds: &str,
    object: &str,
    out: &mut Vec<Problem>,
) {
    let bound: Vec<_> = d
        .source
        .snapshot_tasks
        .iter()
        .filter_map(|n| config.snapshot_tasks.get(n))
        .collect();
    if bound.iter().any(|t| t.enabled) {
        return;
    }
    let mut schemas: Vec<&str> = d.spec.schemas.iter().map(String::as_str).collect();
    schemas.extend(bound.iter().map(|t| t.naming_schema.as_str()));
    let planned = config.snapshots.iter().any(|s| {
        s.system == d.source.system
            && is_same_or_below(ds, &s.dataset)
            && schemas.contains(&s.naming_schema.as_str())
    });
    let tasks_here = config.snapshot_tasks.values().any(|t| {
        t.system == d.source.system
            && t.enabled
            && is_same_or_below(ds, &t.dataset)
            && schemas.contains(&t.naming_schema.as_str())
    });
    if planned || tasks_here {
        return;
    }
    let exists = inv
        .snapshots_of(ds)
        .any(|name| schemas.iter().any(|s| naming::parse(s, name).is_some()));
    if !exists {
        let shown = if schemas.is_empty() {
            "no naming schema".to_string()
        } else {
            schemas.join(", ")
        };
        out.push(
            Problem::error(
                c::NO_SNAPSHOTS,
                format!("{ds} on {} has no snapshot matching {shown}, and no snapshot task in the config makes one", d.source.system),
            )
            .system(&d.source.system)
            .object(object.to_string())
            .help("bind a snapshot task, or add a one-time `snapshots:` entry (e.g. naming schema `manual-%Y-%m-%d_%H-%M`) or take one with `zfleet snapshot`"),
        );
    }
}

/// The target has snapshots but none the source has: zettarepl refuses without
/// `allow_from_scratch` (it would destroy the target's data).
fn unmatched(
    d: &DesiredRep<'_>,
    source: Option<&Inventory>,
    target: &Inventory,
    object: &str,
    out: &mut Vec<Problem>,
) {
    if d.rep.allow_from_scratch || d.source.datasets.len() != 1 {
        return;
    }
    let Some(source) = source else { return };
    let Some(src) = d.source.datasets.first() else {
        return;
    };
    let theirs: BTreeSet<&str> = target.snapshots_of(&d.rep.target.dataset).collect();
    if theirs.is_empty() {
        return;
    }
    let ours: BTreeSet<&str> = source.snapshots_of(src).collect();
    if theirs.is_disjoint(&ours) {
        out.push(
            Problem::error(
                c::TARGET_UNMATCHED,
                format!(
                    "target {} on {} holds {} but none of them is on the source {src}; the run would fail",
                    d.rep.target.dataset,
                    d.rep.target.system,
                    crate::diag::count(theirs.len(), "snapshot", "snapshots"),
                ),
            )
            .system(&d.rep.target.system)
            .object(object.to_string())
            .help("choose an empty or new target, or set `allow_from_scratch: true` to replace the target's data"),
        );
    }
}

/// A snapshot task being deleted (or disabled) that a live, enabled replication which
/// stays still binds.
fn tasks_in_use(fleet: &Fleet<'_>, plans: &[SystemPlan], out: &mut Vec<Problem>) {
    for sp in plans {
        let Some(inv) = fleet.get(sp.system.as_str()) else {
            continue;
        };
        for a in &sp.actions {
            let (Subject::SnapshotTask { spec, .. }, Some(id)) = (&a.subject, a.id) else {
                continue;
            };
            let going = a.op == Op::Delete || (!spec.enabled && a.op != Op::Create);
            if !going {
                continue;
            }
            for r in inv
                .replications
                .iter()
                .filter(|r| r.enabled && r.periodic_snapshot_tasks.contains(&id))
            {
                // What the replication will be after the plan.
                let after = sp.actions.iter().find(|x| {
                    x.id == Some(r.id) && matches!(x.subject, Subject::Replication { .. })
                });
                let still = match after {
                    Some(x) if x.op == Op::Delete => false,
                    Some(Action {
                        subject: Subject::Replication { spec, .. },
                        ..
                    }) => {
                        spec.enabled
                            && spec
                                .periodic_snapshot_tasks
                                .iter()
                                .any(|t| match (t, &a.subject) {
                                    (TaskRef::Id(i), _) => *i == id,
                                    (
                                        TaskRef::Name(n),
                                        Subject::SnapshotTask { name: Some(m), .. },
                                    ) => n == m,
                                    _ => false,
                                })
                    }
                    _ => true,
                };
                if still {
                    out.push(
                        Problem::error(
                            c::TASK_IN_USE,
                            format!("it is still used by enabled replication {}", r.name),
                        )
                        .system(&sp.system)
                        .object(a.subject.label())
                        .help("unbind it from the replication or disable the replication first (TrueNAS refuses otherwise)"),
                    );
                }
            }
        }
    }
}

/// The retention preview calls a system's plan needs: `(action index, call)` for each
/// snapshot task edited or deleted (24.04 and later have the methods).
pub fn retention_calls(sp: &SystemPlan) -> Vec<(usize, crate::transport::MidcltCall)> {
    use crate::transport::MidcltCall;
    use serde_json::json;
    let mut out = Vec::new();
    for (i, a) in sp.actions.iter().enumerate() {
        let (Subject::SnapshotTask { spec, .. }, Some(id)) = (&a.subject, a.id) else {
            continue;
        };
        match a.op {
            Op::Update | Op::Adopt if !a.changes.is_empty() => {
                let mut data = serde_json::to_value(spec).unwrap_or_default();
                if let Some(m) = data.as_object_mut() {
                    m.remove("fixate_removal_date");
                }
                out.push((
                    i,
                    MidcltCall::new(
                        "pool.snapshottask.update_will_change_retention_for",
                        vec![json!(id), data],
                    ),
                ));
            }
            Op::Delete => out.push((
                i,
                MidcltCall::new(
                    "pool.snapshottask.delete_will_change_retention_for",
                    vec![json!(id)],
                ),
            )),
            _ => {}
        }
    }
    out
}

/// Warnings for snapshot task edits and deletions that change which snapshots TrueNAS
/// keeps, from the previews' answers (`dataset → snapshot names`).
pub fn retention(
    sp: &SystemPlan,
    answers: &[(usize, BTreeMap<String, Vec<String>>)],
) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, by_dataset) in answers {
        let Some(a) = sp.actions.get(*i) else {
            continue;
        };
        let Subject::SnapshotTask { spec, .. } = &a.subject else {
            continue;
        };
        let parts: Vec<String> = by_dataset
            .iter()
            .filter(|(_, names)| !names.is_empty())
            .map(|(ds, names)| {
                let mut sorted: Vec<&String> = names.iter().collect();
                sorted.sort();
                let first = sorted.first().map(|s| s.as_str()).unwrap_or("");
                let last = sorted.last().map(|s| s.as_str()).unwrap_or("");
                let strip = |s: &str| {
                    s.split_once('@')
                        .map_or(s.to_string(), |(_, n)| n.to_string())
                };
                format!(
                    "{ds}: {} (oldest {}, newest {})",
                    crate::diag::count(names.len(), "snapshot", "snapshots"),
                    strip(first),
                    strip(last)
                )
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        let verb = if a.op == Op::Delete {
            "deleting"
        } else {
            "this edit of"
        };
        let kept = if spec.fixate_removal_date == Some(true) {
            "they keep the removal dates they have now (`fixate_removal_date`)"
        } else {
            "the task stops managing them: they are no longer destroyed when their lifetime ends"
        };
        out.push(
            Problem::warning(
                c::RETENTION,
                format!(
                    "{verb} {} changes the retention of existing snapshots — {}; {kept}",
                    a.subject.label(),
                    parts.join("; ")
                ),
            )
            .system(&sp.system)
            .object(a.subject.label())
            .help(if spec.fixate_removal_date == Some(true) {
                "as `fixate_removal_date: true` asks; without it the task would stop managing them"
            } else {
                "set `fixate_removal_date: true` (on the task for edits, on the system for deletions) to keep their current removal dates"
            }),
        );
    }
    out
}

/// Seconds of a TrueNAS lifetime unit.
fn unit_seconds(unit: &str) -> i64 {
    match unit {
        "HOUR" => 3_600,
        "DAY" => 86_400,
        "WEEK" => 604_800,
        "MONTH" => 2_592_000,
        _ => 31_536_000,
    }
}

/// The target snapshots a retention policy lets zettarepl destroy: SOURCE those the source
/// lacks, CUSTOM those older than the lifetime, NONE nothing; the newest always stays.
fn destroyed<'a>(
    policy: &str,
    lifetime: Option<&(i64, String)>,
    target: &[(&'a str, chrono::NaiveDateTime)],
    source: &BTreeSet<&str>,
    now: chrono::NaiveDateTime,
) -> BTreeSet<&'a str> {
    let Some(((newest, _), older)) = target.split_last() else {
        return BTreeSet::new();
    };
    older
        .iter()
        .filter(|(name, at)| {
            name != newest
                && match (policy, lifetime) {
                    ("SOURCE", _) => !source.contains(name),
                    ("CUSTOM", Some((v, unit))) => {
                        *at < now - chrono::Duration::seconds(v.saturating_mul(unit_seconds(unit)))
                    }
                    _ => false,
                }
        })
        .map(|(name, _)| *name)
        .collect()
}

/// A retention change of a replication that lets TrueNAS destroy target snapshots it
/// keeps today: a warning with the count and the oldest and newest names.
fn replication_retention(
    config: &Config,
    d: &DesiredRep<'_>,
    fleet: &Fleet<'_>,
    plans: &Plans<'_>,
    out: &mut Vec<Problem>,
) {
    let Some(sp) = plans.get(d.runs_on.as_str()) else {
        return;
    };
    let Some(action) = sp.actions.iter().find(|a| {
        matches!(a.op, Op::Update | Op::Adopt)
            && matches!(&a.subject, Subject::Replication { spec, .. } if spec.name == d.spec.name)
    }) else {
        return;
    };
    if !action
        .changes
        .iter()
        .any(|c| c.field == "retention_policy" || c.field == "lifetime")
    {
        return;
    }
    let (Some(run), Some(target), Some(source)) = (
        fleet.get(d.runs_on.as_str()),
        fleet.get(d.rep.target.system.as_str()),
        fleet.get(d.source.system.as_str()),
    ) else {
        return;
    };
    let Some(live) = run.replications.iter().find(|r| Some(r.id) == action.id) else {
        return;
    };
    let Some(src) = d
        .source
        .datasets
        .first()
        .filter(|_| d.source.datasets.len() == 1)
    else {
        return;
    };
    let Some(now) = target.info.datetime.as_ref().map(|t| t.0.naive_utc()) else {
        return;
    };
    let mut schemas: Vec<&str> = d.spec.schemas.iter().map(String::as_str).collect();
    schemas.extend(
        d.source
            .snapshot_tasks
            .iter()
            .filter_map(|n| config.snapshot_tasks.get(n))
            .map(|t| t.naming_schema.as_str()),
    );
    let mut on_target: Vec<(&str, chrono::NaiveDateTime)> = target
        .snapshots_of(&d.rep.target.dataset)
        .filter_map(|name| {
            schemas
                .iter()
                .find_map(|s| naming::parse(s, name))
                .map(|at| (name, at))
        })
        .collect();
    on_target.sort_by_key(|(_, at)| *at);
    let on_source: BTreeSet<&str> = source.snapshots_of(src).collect();
    let old_lifetime = match (live.lifetime_value, &live.lifetime_unit) {
        (Some(v), Some(u)) => Some((v, u.to_ascii_uppercase())),
        _ => None,
    };
    let before = destroyed(
        &live.retention_policy.to_ascii_uppercase(),
        old_lifetime.as_ref(),
        &on_target,
        &on_source,
        now,
    );
    let after = destroyed(
        &d.spec.retention_policy,
        d.spec.lifetime.as_ref(),
        &on_target,
        &on_source,
        now,
    );
    let newly: Vec<&str> = on_target
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| after.contains(n) && !before.contains(n))
        .collect();
    let (Some(oldest), Some(newest)) = (newly.first(), newly.last()) else {
        return;
    };
    out.push(
        Problem::warning(
            c::RETENTION,
            format!(
                "the new retention lets TrueNAS destroy {} on {} that it keeps now — {}: oldest {oldest}, newest {newest}",
                crate::diag::count(newly.len(), "snapshot", "snapshots"),
                d.rep.target.system,
                d.rep.target.dataset
            ),
        )
        .system(&d.runs_on)
        .object(format!("replication {}", d.rep.name))
        .help("they go at the replication's next run; keep the old retention until they are no longer needed elsewhere"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2025, 10, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date")
    }

    #[test]
    fn a_shorter_custom_lifetime_destroys_the_older_snapshots_but_never_the_newest() {
        let target = [("a", at(1)), ("b", at(10)), ("c", at(20)), ("d", at(29))];
        let none = BTreeSet::new();
        let week = (1, "WEEK".to_string());
        let month = (2, "MONTH".to_string());
        let now = at(30);
        assert_eq!(
            destroyed("CUSTOM", Some(&month), &target, &none, now),
            BTreeSet::new()
        );
        assert_eq!(
            destroyed("CUSTOM", Some(&week), &target, &none, now),
            BTreeSet::from(["a", "b", "c"])
        );
        // SOURCE: what the source no longer has; the newest stays even then.
        let source = BTreeSet::from(["c"]);
        assert_eq!(
            destroyed("SOURCE", None, &target, &source, now),
            BTreeSet::from(["a", "b"])
        );
        assert_eq!(
            destroyed("NONE", None, &target, &none, now),
            BTreeSet::new()
        );
    }
}
