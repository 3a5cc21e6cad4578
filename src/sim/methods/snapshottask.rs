//! `pool.snapshottask.*`: periodic snapshot tasks (api doc §5).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::schema::{
    Check, F, Spec, bool_, cron_fields, int, list, str_, validate_id, validate_obj,
};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::render::date;
use crate::sim::state::{LifetimeUnit, SimState, Snapshot, SnapshotTask, TaskState, TaskStateKind};
use crate::sim::version::{Family, Layer, Personality};

const UNITS: &[&str] = &["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];
pub const DEFAULT_SCHEMA: &str = "auto-%Y-%m-%d_%H-%M";

/// The create model's fields in model order; 24.x and CORE require most of them.
fn fields(p: Personality) -> Vec<F> {
    let old = p <= Personality::V2410;
    let req = |f: F| if old { f.req() } else { f };
    vec![
        F::new("dataset", str_()).req(),
        req(F::new("recursive", bool_()).def(json!(false))),
        req(F::new("lifetime_value", int()).def(json!(2))),
        req(F::new("lifetime_unit", super::schema::Ty::Enum(UNITS)).def(json!("WEEK"))),
        F::new("enabled", bool_()).def(json!(true)),
        F::new("exclude", list(str_())).def(json!([])),
        req(F::new("naming_schema", str_())
            .def(json!(DEFAULT_SCHEMA))
            .check(Check::NamingSchema)),
        F::new("allow_empty", bool_()).def(json!(true)),
        F::new("schedule", super::schema::Ty::Dict(cron_fields(true, "00")))
            .def(json!({"minute": "00", "hour": "*", "dom": "*", "month": "*", "dow": "*", "begin": "00:00", "end": "23:59"}))
            .check(Check::Cron { begin_end: old }),
    ]
}

/// A stored row from create-style input with every default applied (fixtures use this).
pub fn row_from_input(id: u64, input: &Map<String, Value>) -> Result<SnapshotTask, String> {
    let spec_fields = fields(Personality::V2510);
    let spec = Spec {
        layer: Layer::Pydantic,
        prefix: "data",
        model: "PoolSnapshotTaskCreate",
        fields: &spec_fields,
        update: false,
    };
    let clean =
        validate_obj(&spec, Some(&Value::Object(input.clone()))).map_err(|e| render_errs(&e))?;
    to_row(id, clean, TaskState::default())
}

fn render_errs(e: &SimError) -> String {
    e.render(Personality::V2510)
        .0
        .trim_end()
        .replace('\n', "; ")
}

fn to_row(
    id: u64,
    mut clean: Map<String, Value>,
    state: TaskState,
) -> Result<SnapshotTask, String> {
    clean.insert("id".into(), json!(id));
    clean.insert(
        "state".into(),
        serde_json::to_value(state).map_err(|e| e.to_string())?,
    );
    serde_json::from_value(Value::Object(clean)).map_err(|e| e.to_string())
}

/// The task's `state` as query shows it on `p`.
pub fn render_state(p: Personality, s: &TaskState) -> Value {
    let mut m = Map::new();
    m.insert("state".into(), json!(s.state));
    if s.state == TaskStateKind::Pending {
        return Value::Object(m);
    }
    m.insert(
        "datetime".into(),
        s.datetime.map(date).unwrap_or(Value::Null),
    );
    match s.state {
        TaskStateKind::Error => {
            m.insert("error".into(), json!(s.error.clone().unwrap_or_default()));
        }
        TaskStateKind::Hold | TaskStateKind::Waiting => {
            m.insert("reason".into(), json!(s.reason.clone().unwrap_or_default()));
        }
        _ => {}
    }
    if p.goldeye() && s.state != TaskStateKind::Hold {
        m.insert("last_snapshot".into(), json!(s.last_snapshot));
    }
    Value::Object(m)
}

/// The row as `pool.snapshottask.query` returns it.
pub fn render(p: Personality, t: &SnapshotTask) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.shift_remove("state");
        m.insert("vmware_sync".into(), json!(false));
        m.insert("state".into(), render_state(p, &t.state));
    }
    v
}

/// The raw DB row embedded in `replication.query` (`state` as a JSON string on 25.10).
pub fn render_db_row(p: Personality, t: &SnapshotTask) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        let schedule = m.shift_remove("schedule").unwrap_or(Value::Null);
        m.shift_remove("state");
        if p.goldeye() {
            let mut inner = render_state(p, &t.state);
            if let Some(o) = inner.as_object_mut() {
                o.shift_remove("last_snapshot");
            }
            let st = json!({"last_snapshot": t.state.last_snapshot, "state": inner});
            m.insert(
                "state".into(),
                json!(crate::sim::render::py_json_dumps(&st)),
            );
        }
        m.insert("schedule".into(), schedule);
    }
    v
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let rows = ctx
        .state
        .snapshot_tasks
        .iter()
        .map(|t| render(ctx.p, t))
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(ctx.p.layer(Family::SnapshotTask), "id", args.first())?;
    let t = find(ctx.state, id)?;
    Ok(render(ctx.p, t))
}

fn find(st: &SimState, id: u64) -> Result<&SnapshotTask, SimError> {
    st.snapshot_tasks
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(|| SimError::not_found("PeriodicSnapshotTask", id))
}

fn spec_prefix(layer: Layer, update: bool) -> &'static str {
    match (layer, update) {
        (Layer::Pydantic, _) => "data",
        (_, false) => "periodic_snapshot_create",
        (_, true) => "periodic_snapshot_update",
    }
}

/// Old-schema `Dataset` paths are cleaned: trimmed, `/` stripped at both ends, `//` collapsed.
fn clean_path(s: &str) -> String {
    let t = s.trim().trim_matches('/');
    let mut out = String::new();
    for part in t.split('/').filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

/// The plugin's own checks (`_validate`), attribute prefix the old schema name everywhere.
fn plugin_checks(
    p: Personality,
    st: &SimState,
    schema: &str,
    data: &Map<String, Value>,
) -> Vec<VErr> {
    let mut errs = Vec::new();
    let dataset = data.get("dataset").and_then(Value::as_str).unwrap_or("");
    let recursive = data
        .get("recursive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let exclude: Vec<&str> = data
        .get("exclude")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !filesystem_choices(st).iter().any(|d| d == dataset) {
        errs.push(VErr::new(
            format!("{schema}.dataset"),
            if p.is_core() {
                "ZFS dataset or zvol not found"
            } else {
                "Dataset not found"
            },
        ));
    }
    if !recursive && !exclude.is_empty() {
        errs.push(VErr::new(
            format!("{schema}.exclude"),
            if p.is_core() {
                "Excluding datasets or zvols is not necessary for non-recursive periodic snapshot tasks"
            } else {
                "Excluding datasets is not necessary for non-recursive periodic snapshot tasks"
            },
        ));
    }
    for (i, e) in exclude.iter().enumerate() {
        if !e.starts_with(&format!("{dataset}/")) {
            errs.push(VErr::new(
                format!("{schema}.exclude.{i}"),
                if p.is_core() {
                    "Excluded dataset or zvol should be a child or other descendant of selected dataset"
                } else {
                    "Excluded dataset should be a child or other descendant of the selected dataset"
                },
            ));
        }
    }
    errs
}

/// `pool.filesystem_choices`: every dataset and zvol except internal ones.
pub fn filesystem_choices(st: &SimState) -> Vec<String> {
    st.datasets
        .keys()
        .filter(|n| !super::dataset::is_internal(n))
        .cloned()
        .collect()
}

fn clean_paths(layer: Layer, data: &mut Map<String, Value>) {
    if layer == Layer::Pydantic {
        return;
    }
    if let Some(Value::String(d)) = data.get_mut("dataset") {
        *d = clean_path(d);
    }
    if let Some(Value::Array(items)) = data.get_mut("exclude") {
        for it in items {
            if let Value::String(s) = it {
                *s = clean_path(s);
            }
        }
    }
}

pub fn create(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, 1)?;
    let f = fields(ctx.p);
    let spec = Spec {
        layer,
        prefix: spec_prefix(layer, false),
        model: "PoolSnapshotTaskCreate",
        fields: &f,
        update: false,
    };
    let mut data = validate_obj(&spec, args.first())?;
    clean_paths(layer, &mut data);
    let errs = plugin_checks(ctx.p, ctx.state, "periodic_snapshot_create", &data);
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let id = SimState::take_id(&mut ctx.state.next_ids.snapshot_task);
    let row = to_row(id, data, TaskState::default()).map_err(SimError::efault)?;
    ctx.state.snapshot_tasks.push(row);
    Ok(render(ctx.p, find(ctx.state, id)?))
}

pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(layer, "id", args.first())?;
    let mut f = fields(ctx.p);
    for x in &mut f {
        x.required = false;
    }
    if ctx.p >= Personality::V2404 {
        f.push(F::new("fixate_removal_date", bool_()));
    }
    let spec = Spec {
        layer,
        prefix: spec_prefix(layer, true),
        model: "PoolSnapshotTaskUpdate",
        fields: &f,
        update: true,
    };
    let mut data = validate_obj(&spec, args.get(1))?;
    let fixate = data
        .shift_remove("fixate_removal_date")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    clean_paths(layer, &mut data);
    let old = find(ctx.state, id)?.clone();
    // Computed before the change (plugins/snapshot.py `do_update`), applied after it.
    let pinned = if fixate {
        updated(&old, data.clone())
            .ok()
            .map(|new| update_changes(ctx.state, &old, &new))
    } else {
        None
    };
    let mut merged = match serde_json::to_value(&old) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    merged.shift_remove("id");
    let state = old.state.clone();
    merged.shift_remove("state");
    for (k, v) in data {
        merged.insert(k, v);
    }
    let mut errs = plugin_checks(ctx.p, ctx.state, "periodic_snapshot_update", &merged);
    let enabled = merged
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if old.enabled && !enabled {
        for r in &ctx.state.replications {
            if r.enabled && r.periodic_snapshot_tasks.contains(&id) {
                errs.push(VErr::new(
                    "periodic_snapshot_update.enabled",
                    format!(
                        "You can't disable this periodic snapshot task because it is bound to enabled replication task {}",
                        r.id
                    ),
                ));
                break;
            }
        }
    }
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let row = to_row(id, merged, state).map_err(SimError::efault)?;
    if let Some(t) = ctx.state.snapshot_tasks.iter_mut().find(|t| t.id == id) {
        *t = row;
    }
    if let Some(datasets) = pinned {
        fixate_removal_date(ctx.state, &datasets, &old);
    }
    Ok(render(ctx.p, find(ctx.state, id)?))
}

pub fn delete(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, if ctx.p.is_core() { 1 } else { 2 })?;
    let id = validate_id(layer, "id", args.first())?;
    let mut fixate = false;
    if let Some(opts) = args.get(1) {
        let f = vec![F::new("fixate_removal_date", bool_()).def(json!(false))];
        let spec = Spec {
            layer,
            prefix: "options",
            model: "PoolSnapshotTaskDeleteOptions",
            fields: &f,
            update: false,
        };
        fixate = validate_obj(&spec, Some(opts))?
            .get("fixate_removal_date")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    }
    // The last task bound to an enabled PUSH replication without extra schemas breaks it.
    for r in &ctx.state.replications {
        if r.enabled
            && r.direction == crate::sim::state::Direction::Push
            && r.also_include_naming_schema.is_empty()
            && r.periodic_snapshot_tasks == [id]
        {
            return Err(SimError::efault(format!(
                "You are deleting the last periodic snapshot task bound to enabled replication task {} which will break it. Please, disable that replication task first.",
                crate::sim::render::py_repr_str(&r.name)
            )));
        }
    }
    // With `fixate_removal_date` the task's snapshots keep their removal dates
    // (plugins/snapshot.py `do_delete`, which looks the task up: an unknown id fails).
    if fixate {
        let task = find(ctx.state, id)?.clone();
        let owned = group_sorted(owned_snapshots(ctx.state, &task));
        fixate_removal_date(ctx.state, &owned, &task);
    }
    // Deleting never looks the id up otherwise: an unknown id is `True` too.
    ctx.state.snapshot_tasks.retain(|t| t.id != id);
    for r in &mut ctx.state.replications {
        r.periodic_snapshot_tasks.retain(|t| *t != id);
    }
    Ok(Value::Bool(true))
}

/// Where `run` leaves the task ids zettarepl has yet to run (the engine's next look runs them).
const RUN_QUEUE: &str = "snapshottask_run";

/// `pool.snapshottask.run` (plugins/snapshot.py `run` → plugins/zettarepl.py
/// `run_periodic_snapshot_task`): not a job; it only puts `run_task` on zettarepl's command
/// queue and returns `null`. zettarepl takes the snapshot afterwards (`scheduler.interrupt`).
/// Here the engine's next look does it — the next call of any kind (`pool.snapshot.query`,
/// `pool.snapshottask.get_instance`, `core.get_jobs`) already sees the snapshot and the
/// task's new `state`.
pub fn run(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, 1)?;
    let id = validate_id(layer, "id", args.first())?;
    let task = find(ctx.state, id)?;
    if !task.enabled {
        return Err(SimError::efault("Task is not enabled"));
    }
    let queue = ctx
        .state
        .extensions
        .entry(RUN_QUEUE.into())
        .or_insert_with(|| json!([]));
    if let Value::Array(ids) = queue {
        ids.push(json!(id));
    }
    Ok(Value::Null)
}

/// Runs the tasks `run` queued, at the simulated now (the engine calls this on every look).
pub fn run_queued(st: &mut SimState) -> Vec<String> {
    let Some(Value::Array(ids)) = st.extensions.remove(RUN_QUEUE) else {
        return Vec::new();
    };
    ids.iter()
        .filter_map(Value::as_u64)
        .flat_map(|id| take_task_snapshot(st, id))
        .collect()
}

/// The datasets a task snapshots: its dataset, and with `recursive` every descendant not
/// excluded (zettarepl's ZCP program skips an excluded dataset and everything under it).
fn task_targets(st: &SimState, task: &SnapshotTask) -> Vec<String> {
    let mut targets = vec![task.dataset.clone()];
    if task.recursive {
        let prefix = format!("{}/", task.dataset);
        targets.extend(
            st.datasets
                .keys()
                .filter(|d| d.starts_with(&prefix))
                .filter(|d| {
                    !task
                        .exclude
                        .iter()
                        .any(|e| *d == e || d.starts_with(&format!("{e}/")))
                })
                .cloned(),
        );
    }
    targets
}

/// Why zettarepl's `create_snapshot` (snapshot/create.py) fails when snapshots of that name
/// exist: `zfs snapshot [-r]` prints libzfs's line per snapshot; with `exclude` the channel
/// program reports `EEXIST` per snapshot. Either way nothing is created.
fn already_exists_error(task: &SnapshotTask, existing: &[String]) -> String {
    if task.exclude.is_empty() {
        existing
            .iter()
            .map(|s| format!("cannot create snapshot '{s}': dataset already exists"))
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        let lines: Vec<String> = existing
            .iter()
            .map(|s| format!("{}: File exists", crate::sim::render::py_repr_str(s)))
            .collect();
        format!(
            "Failed to create following snapshots:\n{}",
            lines.join("\n")
        )
    }
}

/// Takes the snapshot(s) of a periodic task at the simulated now and records its state, as
/// zettarepl's `_run_periodic_snapshot_tasks` (zettarepl.py) and the middleware's observer
/// (plugins/zettarepl.py `_observer_queue_reader`: FINISHED, or ERROR with the error made a
/// sentence) do. A snapshot of that name already there fails the run: the versions simulated
/// forgive it only across a DST step back. Returns the full names taken. Used by `run` and
/// by the engine's scheduler.
pub fn take_task_snapshot(st: &mut SimState, id: u64) -> Vec<String> {
    let Some(task) = st.snapshot_tasks.iter().find(|t| t.id == id).cloned() else {
        return Vec::new();
    };
    let now = st.now();
    let pool = task.dataset.split('/').next().unwrap_or("").to_string();
    if !st.datasets.contains_key(&pool) {
        if let Some(t) = st.snapshot_tasks.iter_mut().find(|t| t.id == id) {
            t.state = TaskState {
                state: TaskStateKind::Hold,
                datetime: Some(now.timestamp()),
                reason: Some(format!("Pool {pool} does not exist.")),
                ..TaskState::default()
            };
        }
        return Vec::new();
    }
    let name = super::schema::naming::expand(&task.naming_schema, now.with_timezone(&st.tz()));
    let targets = task_targets(st, &task);
    let existing: Vec<String> = targets
        .iter()
        .map(|ds| format!("{ds}@{name}"))
        .filter(|full| st.snapshots.contains_key(full))
        .collect();
    if !existing.is_empty() {
        let error = crate::sim::zettarepl::make_sentence(&already_exists_error(&task, &existing));
        if let Some(t) = st.snapshot_tasks.iter_mut().find(|t| t.id == id) {
            t.state = TaskState {
                state: TaskStateKind::Error,
                datetime: Some(now.timestamp()),
                error: Some(error),
                last_snapshot: t.state.last_snapshot.clone(),
                ..TaskState::default()
            };
        }
        return Vec::new();
    }
    let txg = st.next_txg();
    let mut taken = Vec::new();
    for ds in targets {
        let full = format!("{ds}@{name}");
        let used = st.datasets.get(&ds).map(|d| d.used).unwrap_or(0);
        st.snapshots.insert(
            full.clone(),
            Snapshot {
                dataset: ds,
                name: name.clone(),
                creation: now.timestamp(),
                createtxg: txg,
                used: 0,
                referenced: used,
                user_properties: Default::default(),
                holds: Default::default(),
            },
        );
        taken.push(full);
    }
    let last = format!("{}@{name}", task.dataset);
    if let Some(t) = st.snapshot_tasks.iter_mut().find(|t| t.id == id) {
        t.state = TaskState {
            state: TaskStateKind::Finished,
            datetime: Some(now.timestamp()),
            last_snapshot: Some(last),
            ..TaskState::default()
        };
    }
    taken
}

/// The snapshots a task owns, as full names (middleware plugins/zettarepl_/
/// snapshot_removal_date.py `periodic_snapshot_task_snapshots` with zettarepl's
/// `PeriodicSnapshotTaskSnapshotOwner`): snapshots of the datasets in its tree whose name
/// parses with its naming schema at a time its schedule runs.
fn owned_snapshots(st: &SimState, task: &SnapshotTask) -> BTreeSet<String> {
    let in_tree = |ds: &str| {
        if !task.recursive {
            return ds == task.dataset;
        }
        let under = |root: &str| ds == root || ds.starts_with(&format!("{root}/"));
        under(&task.dataset) && !task.exclude.iter().any(|e| under(e))
    };
    st.snapshots_in_tree(&task.dataset)
        .filter(|s| in_tree(&s.dataset))
        .filter(|s| {
            super::schema::naming::parse(&task.naming_schema, &s.name)
                .is_some_and(|at| crate::sim::scheduler::schedule_matches(&task.schedule, at))
        })
        .map(Snapshot::full_name)
        .collect()
}

/// `{dataset: [snapshot names]}` from full names, in Python's `sorted()` order of the full
/// names (so `tank/data/a@x` comes before `tank/data@x`), as task_retention.py builds it.
fn group_sorted(names: BTreeSet<String>) -> Map<String, Value> {
    let mut out = Map::new();
    for full in names {
        let Some((ds, snap)) = full.split_once('@') else {
            continue;
        };
        if let Value::Array(list) = out
            .entry(ds.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(json!(snap));
        }
    }
    out
}

/// The task as it would be after `update` with `data` (already validated).
fn updated(old: &SnapshotTask, data: Map<String, Value>) -> Result<SnapshotTask, SimError> {
    let mut merged = match serde_json::to_value(old) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    merged.shift_remove("id");
    merged.shift_remove("state");
    for (k, v) in data {
        merged.insert(k, v);
    }
    to_row(old.id, merged, old.state.clone()).map_err(SimError::efault)
}

/// What `update_will_change_retention_for` returns: snapshots the task owns now but would
/// not own after the change (plugins/snapshot_/task_retention.py).
fn update_changes(st: &SimState, old: &SnapshotTask, new: &SnapshotTask) -> Map<String, Value> {
    let before = owned_snapshots(st, old);
    let after = owned_snapshots(st, new);
    group_sorted(before.difference(&after).cloned().collect())
}

/// `pool.snapshottask.update_will_change_retention_for(id, data)` and
/// `delete_will_change_retention_for(id)` (plugins/snapshot_/task_retention.py; not on CORE).
/// Lifetime changes never show here: only snapshots the task would stop owning do.
pub fn will_change_retention_for(ctx: &mut Ctx<'_>, args: Vec<Value>, update: bool) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, if update { 2 } else { 1 })?;
    let id = validate_id(layer, "id", args.first())?;
    if !update {
        let task = find(ctx.state, id)?;
        return Ok(Value::Object(group_sorted(owned_snapshots(
            ctx.state, task,
        ))));
    }
    let mut f = fields(ctx.p);
    for x in &mut f {
        x.required = false;
    }
    let spec = Spec {
        layer,
        prefix: if layer == Layer::Pydantic {
            "data"
        } else {
            "periodic_snapshot_update_will_change_retention"
        },
        model: "PoolSnapshotTaskUpdateWillChangeRetentionFor",
        fields: &f,
        update: true,
    };
    let mut data = validate_obj(&spec, args.get(1))?;
    clean_paths(layer, &mut data);
    let old = find(ctx.state, id)?.clone();
    let new = updated(&old, data)?;
    Ok(Value::Object(update_changes(ctx.state, &old, &new)))
}

/// The snapshot property holding a pinned removal date (plugins/snapshot_/removal_date.py
/// `removal_date_property`: `org.truenas:destroy_at_` and the first 8 characters of the host
/// id; the simulated host id is derived from the hostname).
pub fn removal_date_property(st: &SimState) -> String {
    let digest = russh::keys::ssh_key::HashAlg::Sha256.digest(st.system.hostname.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("org.truenas:destroy_at_{hex}")
}

/// A snapshot's pinned removal date (naive local time), if it has one.
pub fn removal_date(snap: &Snapshot) -> Option<chrono::NaiveDateTime> {
    snap.user_properties
        .iter()
        .find(|(k, _)| k.starts_with("org.truenas:destroy_at_"))
        .and_then(|(_, v)| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").ok())
}

/// zettarepl's `lifetime_timedelta` (plugins/zettarepl.py): a month is 30 days, a year 365.
fn lifetime(task: &SnapshotTask) -> chrono::Duration {
    let v = i64::try_from(task.lifetime_value).unwrap_or(i64::MAX / 86_400 / 365);
    match task.lifetime_unit {
        LifetimeUnit::Hour => chrono::Duration::hours(v.min(i64::MAX / 3_600_000)),
        LifetimeUnit::Day => chrono::Duration::days(v.min(i64::MAX / 86_400_000)),
        LifetimeUnit::Week => chrono::Duration::weeks(v.min(i64::MAX / 604_800_000)),
        LifetimeUnit::Month => {
            chrono::Duration::days(v.saturating_mul(30).min(i64::MAX / 86_400_000))
        }
        LifetimeUnit::Year => {
            chrono::Duration::days(v.saturating_mul(365).min(i64::MAX / 86_400_000))
        }
    }
}

/// `fixate_removal_date` (plugins/zettarepl_/snapshot_removal_date.py): each snapshot gets
/// the removal date `task` (the task before the change) gave it — the time in its name plus
/// the lifetime — unless it already has a later one. Retention then keeps it until then.
fn fixate_removal_date(st: &mut SimState, datasets: &Map<String, Value>, task: &SnapshotTask) {
    let property = removal_date_property(st);
    for (ds, names) in datasets {
        for name in names
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let Some(at) = super::schema::naming::parse(&task.naming_schema, name) else {
                continue;
            };
            let Some(destroy_at) = at.checked_add_signed(lifetime(task)) else {
                continue;
            };
            let Some(snap) = st.snapshots.get_mut(&format!("{ds}@{name}")) else {
                continue;
            };
            if removal_date(snap).is_some_and(|existing| existing >= destroy_at) {
                continue;
            }
            snap.user_properties.insert(
                property.clone(),
                destroy_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            );
        }
    }
}
