//! Properties of the reconciler over generated fleets of simulated systems (every version
//! personality), with tasks made by hand, tasks of another project and TrueNAS's own
//! spellings of paths, schedules and lists:
//!
//! - planning twice without applying gives the same plan;
//! - applying the plan and planning again gives no actions;
//! - nothing zfleet does not manage changes (its fields and another project's records);
//! - applying again with a fresh plan creates no duplicates;
//! - a changed config converges as well (updates, deletions, moved records);
//! - an apply that fails half-way, run again, ends where one apply ends.
//!
//! Driven in process through the library on the embedded simulator, so that many fleets run
//! in a few seconds. A failure prints the config, the fixtures and what went wrong.

#[path = "support/fleet_case.rs"]
mod fleet_case;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::Value;

use fleet_case::Files;
use zfleet::inventory::{FleetEntry, read_fleet_scoped};
use zfleet::model::{Config, SystemKind};
use zfleet::plan::build::Options;
use zfleet::plan::{Plan, SystemPlan};
use zfleet::progress::Progress;
use zfleet::transport::ConnectOptions;

/// Writes the case's files (fixtures once: a changed fixture is a stale state) and loads
/// its config, each simulated state kept in `dir`.
fn load(dir: &Path, files: &Files) -> Result<Config, String> {
    std::fs::write(dir.join("zfleet.yaml"), &files.config).map_err(|e| e.to_string())?;
    for (name, text) in &files.fixtures {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, text).map_err(|e| e.to_string())?;
    }
    let mut config = zfleet::config::load(&dir.join("zfleet.yaml")).map_err(|problems| {
        let shown: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.code, p.message))
            .collect();
        format!("the config does not load:\n{}", shown.join("\n"))
    })?;
    // Independent of ZFLEET_SIM_STATE_DIR in the environment.
    for (name, system) in &mut config.systems {
        if let SystemKind::Simulator(sim) = &mut system.kind {
            sim.state_file = dir.join("state").join(format!("{name}.json"));
        }
    }
    Ok(config)
}

fn read(rt: &tokio::runtime::Runtime, config: &Config) -> Vec<FleetEntry> {
    rt.block_on(read_fleet_scoped(
        config,
        &ConnectOptions::default(),
        &Progress::hidden(),
        true,
    ))
}

/// Problems as one line each.
fn problems(plan: &Plan) -> String {
    plan.problems
        .iter()
        .map(|p| {
            format!(
                "{} [{}] {}: {}",
                p.code,
                p.system.as_deref().unwrap_or("-"),
                p.object.as_deref().unwrap_or("-"),
                p.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The actions of a plan, one line each, with their field changes.
fn actions(plan: &Plan) -> String {
    let mut out = String::new();
    for s in &plan.systems {
        for a in &s.actions {
            out.push_str(&format!(
                "{}: {:?} {} (#{}){}\n",
                s.system,
                a.op,
                a.subject.label(),
                a.id.map_or("-".into(), |i| i.to_string()),
                a.reason
                    .as_deref()
                    .map_or(String::new(), |r| format!(" — {r}"))
            ));
            for c in &a.changes {
                out.push_str(&format!(
                    "    {}: {} → {}\n",
                    c.field,
                    c.old.as_deref().unwrap_or("(none)"),
                    c.new.as_deref().unwrap_or("(none)")
                ));
            }
        }
        for (ds, key) in &s.forget {
            out.push_str(&format!("{}: forget {key} on {ds}\n", s.system));
        }
    }
    out
}

fn plan(config: &Config, fleet: &[FleetEntry]) -> Plan {
    zfleet::plan::plan(config, fleet, &Options::default())
}

/// Applies every system's plan; the failures, if any.
fn apply(rt: &tokio::runtime::Runtime, plan: &Plan, fleet: &[FleetEntry]) -> Vec<String> {
    let work: Vec<_> = plan
        .systems
        .iter()
        .filter(|s| !s.actions.is_empty() || !s.forget.is_empty())
        .filter_map(|s| {
            let client = fleet.iter().find(|e| e.name == s.system)?.client.clone()?;
            Some((client, s.clone()))
        })
        .collect();
    let outcomes = rt.block_on(zfleet::apply::apply_all(
        work,
        &zfleet::apply::Options::new(&plan.project),
        Arc::new(()),
    ));
    let mut failures = Vec::new();
    for o in outcomes {
        if let Some(e) = &o.error {
            failures.push(format!("{}: {e}", o.system));
        }
        for a in o.actions.iter().filter(|a| a.error.is_some()) {
            failures.push(format!(
                "{}: {:?} {}: {}",
                o.system,
                a.op,
                a.label,
                a.error.as_deref().unwrap_or("")
            ));
        }
    }
    failures
}

/// What one simulated system holds, straight from its middleware: task rows by id (without
/// their run state) and the user properties of every dataset.
#[derive(Debug, Clone, PartialEq)]
struct Raw {
    snapshot_tasks: BTreeMap<i64, Value>,
    replications: BTreeMap<i64, Value>,
    properties: BTreeMap<String, Value>,
}

fn query(state_file: &Path, method: &str) -> Vec<Value> {
    let out = zfleet::sim::midclt(state_file, &["call".to_string(), method.to_string()]);
    match serde_json::from_str::<Value>(&out.stdout) {
        Ok(Value::Array(rows)) => rows,
        _ => panic!("{method} on {}: {}", state_file.display(), out.stderr),
    }
}

fn rows_by_id(rows: Vec<Value>) -> BTreeMap<i64, Value> {
    rows.into_iter()
        .filter_map(|mut r| {
            let id = r.get("id")?.as_i64()?;
            if let Some(m) = r.as_object_mut() {
                m.shift_remove("state");
                m.shift_remove("job");
            }
            Some((id, r))
        })
        .collect()
}

fn raw(config: &Config) -> BTreeMap<String, Raw> {
    let mut out = BTreeMap::new();
    for (name, system) in &config.systems {
        let SystemKind::Simulator(sim) = &system.kind else {
            continue;
        };
        let f = sim.state_file.as_path();
        let properties = query(f, "pool.dataset.query")
            .into_iter()
            .filter_map(|d| {
                Some((
                    d.get("name")?.as_str()?.to_string(),
                    d.get("user_properties").cloned().unwrap_or(Value::Null),
                ))
            })
            .collect();
        out.insert(
            name.clone(),
            Raw {
                snapshot_tasks: rows_by_id(query(f, "pool.snapshottask.query")),
                replications: rows_by_id(query(f, "replication.query")),
                properties,
            },
        );
    }
    out
}

/// Ids of the tasks a system's plan acts on.
fn touched(sp: &SystemPlan) -> (Vec<i64>, Vec<i64>) {
    let (mut st, mut rep) = (vec![], vec![]);
    for a in &sp.actions {
        match (&a.subject, a.id) {
            (zfleet::plan::Subject::SnapshotTask { .. }, Some(id)) => st.push(id),
            (zfleet::plan::Subject::Replication { .. }, Some(id)) => rep.push(id),
            _ => {}
        }
    }
    (st, rep)
}

/// User properties that are not `project`'s records.
fn foreign_properties(project: &str, props: &Value) -> Value {
    let ours = format!("zfleet:{project}:");
    match props {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with(&ours))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The law for one fleet; `Err` says what broke.
fn check(files: &Files) -> Result<(), String> {
    check_steps(std::slice::from_ref(files))
}

/// The law for each config in turn over the same systems: the first brings the fixtures,
/// each later one replaces the config, as an edit does.
fn check_steps(steps: &[Files]) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    for (i, files) in steps.iter().enumerate() {
        converge(&rt, dir.path(), files).map_err(|e| format!("config {}: {e}", i + 1))?;
    }
    Ok(())
}

/// Methods an interrupted apply fails at, after earlier stages made their changes.
const FAILING: [&str; 4] = [
    "replication.create",
    "replication.update",
    "zfs.snapshot.create",
    "pool.snapshot.create",
];

/// An apply that fails at `method` on every system, then one without faults: it ends
/// where an uninterrupted apply ends, with no task twice.
fn check_interrupted(files: &Files, method: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let clean = tempfile::tempdir().map_err(|e| e.to_string())?;
    let expected = converge(&rt, clean.path(), files).map_err(|e| format!("uninterrupted: {e}"))?;

    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = load(dir.path(), files)?;
    let fleet = read(&rt, &config);
    let first = plan(&config, &fleet);
    let faults: Vec<_> = config
        .systems
        .keys()
        .map(|name| dir.path().join("state").join(format!("{name}.faults.json")))
        .collect();
    for f in &faults {
        std::fs::write(f, format!("{{\"fail\": [\"{method}\"]}}")).map_err(|e| e.to_string())?;
    }
    let failures = apply(&rt, &first, &fleet);
    for f in &faults {
        std::fs::remove_file(f).map_err(|e| e.to_string())?;
    }
    // What the failed apply adopted is managed now.
    let again = Files {
        exact: vec![],
        ..files.clone()
    };
    let after = converge(&rt, dir.path(), &again).map_err(|e| {
        format!(
            "after an apply that failed at {method} ({}):\n{e}",
            failures.join("; ")
        )
    })?;
    if counts(&after) != counts(&expected) {
        return Err(format!(
            "after an apply that failed at {method}, tasks per system are {:?}, not {:?}",
            counts(&after),
            counts(&expected)
        ));
    }
    Ok(())
}

/// Task counts per system, in system order.
fn counts(r: &BTreeMap<String, Raw>) -> Vec<(usize, usize)> {
    r.values()
        .map(|s| (s.snapshot_tasks.len(), s.replications.len()))
        .collect()
}

/// Plans and applies `files` on the systems in `dir`, checking the law; the systems'
/// tasks at the end.
fn converge(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    files: &Files,
) -> Result<BTreeMap<String, Raw>, String> {
    let config = load(dir, files)?;
    let fleet = read(rt, &config);
    for e in &fleet {
        if let Err(p) = &e.result {
            return Err(format!("{} cannot be read: {}", e.name, p.message));
        }
    }
    let before = raw(&config);
    let first = plan(&config, &fleet);
    if first.has_errors() {
        return Err(format!(
            "the first plan has errors:\n{}\nactions:\n{}",
            problems(&first),
            actions(&first)
        ));
    }
    // TrueNAS's spellings of what the config asks for are no change.
    for (system, name) in &files.exact {
        let found = first
            .systems
            .iter()
            .filter(|s| s.system == *system)
            .flat_map(|s| &s.actions)
            .find(|a| {
                matches!(&a.subject, zfleet::plan::Subject::SnapshotTask { name: Some(n), .. } if n == name)
            });
        match found {
            Some(a) if a.op == zfleet::plan::Op::Adopt && a.changes.is_empty() => {}
            _ => {
                return Err(format!(
                    "snapshot task {name} should adopt its twin made by hand on {system} without changes:\n{}",
                    actions(&first)
                ));
            }
        }
    }
    // Planning is a function of config and live state: a second read plans the same.
    let again = plan(&config, &read(rt, &config));
    if again.systems != first.systems || problems(&again) != problems(&first) {
        return Err(format!(
            "planning twice differs:\n{}\n---\n{}",
            actions(&first),
            actions(&again)
        ));
    }

    let failures = apply(rt, &first, &fleet);
    if !failures.is_empty() {
        return Err(format!(
            "apply failed:\n{}\nplan:\n{}",
            failures.join("\n"),
            actions(&first)
        ));
    }

    let fleet2 = read(rt, &config);
    let second = plan(&config, &fleet2);
    if second.has_changes() || second.systems.iter().any(|s| !s.forget.is_empty()) {
        return Err(format!(
            "planning after apply still has actions:\n{}\nfirst plan:\n{}",
            actions(&second),
            actions(&first)
        ));
    }
    if second.has_errors() {
        return Err(format!(
            "planning after apply has errors:\n{}",
            problems(&second)
        ));
    }

    // Nothing unmanaged changed: tasks the first plan did not act on, and the user
    // properties that are not this project's records.
    let after = raw(&config);
    for sp in &first.systems {
        let (st, rep) = touched(sp);
        let (b, a) = (&before[&sp.system], &after[&sp.system]);
        for (id, row) in &b.snapshot_tasks {
            if !st.contains(id) && a.snapshot_tasks.get(id) != Some(row) {
                return Err(format!(
                    "{}: snapshot task #{id} was not in the plan but changed:\n{row}\n→ {:?}",
                    sp.system,
                    a.snapshot_tasks.get(id)
                ));
            }
        }
        for (id, row) in &b.replications {
            if !rep.contains(id) && a.replications.get(id) != Some(row) {
                return Err(format!(
                    "{}: replication #{id} was not in the plan but changed:\n{row}\n→ {:?}",
                    sp.system,
                    a.replications.get(id)
                ));
            }
        }
        for (ds, props) in &b.properties {
            let now = a
                .properties
                .get(ds)
                .map(|p| foreign_properties(&config.project, p));
            if now.as_ref() != Some(&foreign_properties(&config.project, props)) {
                return Err(format!(
                    "{}: user properties of {ds} that are not {}'s changed: {props} → {now:?}",
                    sp.system, config.project
                ));
            }
        }
    }

    // Applying again, with a fresh plan, adds nothing.
    let failures = apply(rt, &second, &fleet2);
    if !failures.is_empty() {
        return Err(format!("the second apply failed:\n{}", failures.join("\n")));
    }
    let last = raw(&config);
    if counts(&last) != counts(&after) {
        return Err(format!(
            "applying again changed the number of tasks: {:?} → {:?}",
            counts(&after),
            counts(&last)
        ));
    }
    Ok(last)
}

proptest! {
    // Cases per run: this file stays under 20 s in a debug build on two cores. The
    // simulator syncs every change it saves; TMPDIR on tmpfs makes it faster still.
    #![proptest_config(ProptestConfig {
        cases: 20,
        max_shrink_iters: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn apply_then_plan_is_empty_and_leaves_the_rest_alone(case in fleet_case::case()) {
        let files = case.render();
        if let Err(e) = check(&files) {
            prop_assert!(false, "{e}\n\n{files}");
        }
    }
}

proptest! {
    // Two applies (or three reads more) each: half as many cases.
    #![proptest_config(ProptestConfig {
        cases: 8,
        max_shrink_iters: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// An apply interrupted by a failing call, then run again, leaves what one apply
    /// leaves: created tasks are claimed, not made twice.
    #[test]
    fn an_interrupted_apply_is_finished_without_duplicates(
        case in fleet_case::case(),
        method in 0..FAILING.len(),
    ) {
        let files = case.render();
        if let Err(e) = check_interrupted(&files, FAILING[method]) {
            prop_assert!(false, "{e}\n\n{files}");
        }
    }

    /// A config changed after an apply (same project, the same names meaning other things):
    /// updates, deletions and moved records converge as well.
    #[test]
    fn a_changed_config_converges_too((before, after) in fleet_case::evolution()) {
        let first = before.render();
        let second = Files { fixtures: vec![], exact: vec![], ..after.render() };
        if let Err(e) = check_steps(&[first.clone(), second.clone()]) {
            prop_assert!(false, "{e}\n\nconfig 1:\n{first}\nconfig 2:\n{second}");
        }
    }
}

/// A fleet written out: the config and each system's fixture.
fn fleet(config: &str, fixtures: &[(&str, &str)]) -> Files {
    Files {
        config: config.to_string(),
        fixtures: fixtures
            .iter()
            .map(|(n, t)| (format!("{n}.yaml"), t.to_string()))
            .collect(),
        exact: vec![],
    }
}

fn assert_law(files: &Files) {
    if let Err(e) = check(files) {
        panic!("{e}\n\n{files}");
    }
}

/// A system of a two-system fleet: `tank/data` with a snapshot, a `backup` pool and a
/// connection to `other`; `extra` adds fixture keys.
fn system(name: &str, version: &str, other: &str, extra: &str) -> String {
    let key = zfleet::sim::fixture::fake_host_keys(other)
        .into_iter()
        .find(|k| k.starts_with("ssh-ed25519"))
        .unwrap_or_default();
    format!(
        r#"version: "{version}"
hostname: {name}
now: 2025-10-30T13:00:00Z
services: {{ ssh: {{ enable: true, running: true }} }}
snapshots: [tank/data@auto-2025-10-30_12-00]
keychain:
  - {{ id: 1, name: key, type: SSH_KEY_PAIR, attributes: {{ public_key: "ssh-ed25519 AAAA x" }} }}
  - {{ id: 2, name: to-{other}, type: SSH_CREDENTIALS, attributes: {{ host: {other}.lan, port: 22, username: root, private_key: 1, remote_host_key: "{key}" }} }}
{extra}"#
    )
}

const TWO: &str = r#"project: prop
systems:
  nas1: { simulator: { fixture: nas1.yaml } }
  nas2: { simulator: { fixture: nas2.yaml } }
"#;

const DATASETS: &str = "datasets: { tank/data: {}, tank/data/docs: {}, backup: {} }\n";

#[test]
fn ssh_netcat_push() {
    let config = format!(
        r#"{TWO}replications:
  r:
    sources: [{{ system: nas1, datasets: [tank/data], naming_schema: "auto-%Y-%m-%d_%H-%M" }}]
    target: {{ system: nas2, dataset: backup/r }}
    transport: ssh+netcat
"#
    );
    let (a, b) = (
        system("nas1", "25.10", "nas2", DATASETS),
        system("nas2", "25.10", "nas1", DATASETS),
    );
    assert_law(&fleet(&config, &[("nas1", &a), ("nas2", &b)]));
}

#[test]
fn pull_into_a_new_target() {
    let config = format!(
        r#"{TWO}replications:
  r:
    direction: pull
    sources: [{{ system: nas1, datasets: [tank/data], naming_schema: "auto-%Y-%m-%d_%H-%M" }}]
    target: {{ system: nas2, dataset: backup/nas1/data }}
    schedule: daily
"#
    );
    let (a, b) = (
        system("nas1", "24.04", "nas2", DATASETS),
        system(
            "nas2",
            "13.3",
            "nas1",
            "datasets: { tank/data: {}, backup/nas1: {} }\n",
        ),
    );
    assert_law(&fleet(&config, &[("nas1", &a), ("nas2", &b)]));
}

#[test]
fn recursive_one_time_snapshot_over_another() {
    let config = format!(
        r#"{TWO}snapshots:
  - {{ system: nas1, dataset: tank/data, naming_schema: "once-%Y-%m-%d_%H-%M", recursive: true }}
  - {{ system: nas1, dataset: tank/data/docs, naming_schema: "once-%Y-%m-%d_%H-%M" }}
  - {{ system: nas2, dataset: tank/data, naming_schema: "once-%Y-%m-%d_%H-%M", recursive: true }}
  - {{ system: nas2, dataset: tank/data/docs, naming_schema: "once-%Y-%m-%d_%H-%M", recursive: true }}
"#
    );
    let (a, b) = (
        system("nas1", "25.10", "nas2", DATASETS),
        system("nas2", "24.10", "nas1", DATASETS),
    );
    assert_law(&fleet(&config, &[("nas1", &a), ("nas2", &b)]));
}

/// The homelab example: tasks made by hand adopted, SSH replications between four
/// versions.
#[test]
fn the_homelab_example() {
    let example = |name: &str| match name {
        "nas1" => include_str!("../examples/homelab/sim/nas1.yaml"),
        "nas2" => include_str!("../examples/homelab/sim/nas2.yaml"),
        "backup" => include_str!("../examples/homelab/sim/backup.yaml"),
        _ => include_str!("../examples/homelab/sim/offsite.yaml"),
    };
    let files = Files {
        config: include_str!("../examples/homelab/zfleet.yaml").to_string(),
        fixtures: ["nas1", "nas2", "backup", "offsite"]
            .iter()
            .map(|n| (format!("sim/{n}.yaml"), example(n).to_string()))
            .collect(),
        exact: vec![],
    };
    assert_law(&files);
}

#[test]
fn disabling_a_task_whose_replication_goes() {
    let first = format!(
        r#"{TWO}snapshot_tasks:
  st: {{ system: nas1, dataset: tank/data, schedule: hourly }}
replications:
  r:
    sources: [{{ system: nas1, datasets: [tank/data], snapshot_tasks: [st] }}]
    target: {{ system: nas2, dataset: backup/r }}
"#
    );
    let second = format!(
        r#"{TWO}snapshot_tasks:
  st: {{ system: nas1, dataset: tank/data, schedule: hourly, enabled: false }}
"#
    );
    let (a, b) = (
        system("nas1", "13.3", "nas2", DATASETS),
        system("nas2", "25.04", "nas1", DATASETS),
    );
    let files = fleet(&first, &[("nas1", &a), ("nas2", &b)]);
    let edit = Files {
        config: second,
        fixtures: vec![],
        exact: vec![],
    };
    if let Err(e) = check_steps(&[files.clone(), edit.clone()]) {
        panic!("{e}\n\n{files}\n{edit}");
    }
}

#[test]
fn prune_spares_a_task_another_projects_replication_binds() {
    let config =
        "project: prop\nsystems:\n  nas1: { simulator: { fixture: nas1.yaml }, prune: true }\n";
    let fixture = r#"version: "25.10"
hostname: nas1
now: 2025-10-30T13:00:00Z
datasets: { tank/data: { user_properties: { "zfleet:neighbour:rep-1": "{\"name\":\"theirs\"}" } }, backup: {} }
snapshots: [tank/data@hand-2025-10-30_12-00]
snapshot_tasks:
  - { id: 1, dataset: tank/data, naming_schema: "hand-%Y-%m-%d_%H-%M" }
  - { id: 2, dataset: tank/data, naming_schema: "auto-%Y-%m-%d_%H-%M" }
replications:
  - { id: 1, name: theirs, direction: PUSH, transport: LOCAL, source_datasets: [tank/data], target_dataset: backup/x, recursive: false, periodic_snapshot_tasks: [1], also_include_naming_schema: ["auto-%Y-%m-%d_%H-%M"], auto: false, retention_policy: SOURCE, enabled: false }
"#;
    assert_law(&fleet(config, &[("nas1", fixture)]));
}
