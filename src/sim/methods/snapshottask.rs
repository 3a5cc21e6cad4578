//! `pool.snapshottask.*`: periodic snapshot tasks (api doc §5).

use serde_json::{Map, Value, json};

use super::schema::{
    Check, F, Spec, bool_, cron_fields, int, list, str_, validate_id, validate_obj,
};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::render::date;
use crate::sim::state::{SimState, Snapshot, SnapshotTask, TaskState, TaskStateKind};
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
    data.shift_remove("fixate_removal_date");
    clean_paths(layer, &mut data);
    let old = find(ctx.state, id)?.clone();
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
    Ok(render(ctx.p, find(ctx.state, id)?))
}

pub fn delete(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, if ctx.p.is_core() { 1 } else { 2 })?;
    let id = validate_id(layer, "id", args.first())?;
    if let Some(opts) = args.get(1) {
        let f = vec![F::new("fixate_removal_date", bool_()).def(json!(false))];
        let spec = Spec {
            layer,
            prefix: "options",
            model: "PoolSnapshotTaskDeleteOptions",
            fields: &f,
            update: false,
        };
        validate_obj(&spec, Some(opts))?;
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
    // Deleting never looks the id up: an unknown id is `True` too.
    ctx.state.snapshot_tasks.retain(|t| t.id != id);
    for r in &mut ctx.state.replications {
        r.periodic_snapshot_tasks.retain(|t| *t != id);
    }
    Ok(Value::Bool(true))
}

/// `pool.snapshottask.run`: not a job; takes the snapshot now.
pub fn run(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, 1)?;
    let id = validate_id(layer, "id", args.first())?;
    let task = find(ctx.state, id)?;
    if !task.enabled {
        return Err(SimError::efault("Task is not enabled"));
    }
    take_task_snapshot(ctx.state, id);
    Ok(Value::Null)
}

/// Takes the snapshot(s) of a periodic task at the simulated now and records its state.
/// Returns the full names taken. Used by `run` and by the engine's scheduler.
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
    let txg = st.next_txg();
    let mut taken = Vec::new();
    for ds in targets {
        let full = format!("{ds}@{name}");
        if st.snapshots.contains_key(&full) {
            continue;
        }
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

/// `update_will_change_retention_for(id, data)` / `delete_will_change_retention_for(id)`:
/// the task's existing snapshots whose removal date the change would move.
pub fn will_change_retention_for(ctx: &mut Ctx<'_>, args: Vec<Value>, update: bool) -> MResult {
    let layer = ctx.p.layer(Family::SnapshotTask);
    check_arg_count(ctx.p, &args, if update { 2 } else { 1 })?;
    let id = validate_id(layer, "id", args.first())?;
    let task = find(ctx.state, id)?.clone();
    if update {
        let changes = args
            .get(1)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let retention_keys = [
            "dataset",
            "recursive",
            "exclude",
            "naming_schema",
            "lifetime_value",
            "lifetime_unit",
        ];
        let current = serde_json::to_value(&task).unwrap_or(Value::Null);
        let moves = changes
            .iter()
            .any(|(k, v)| retention_keys.contains(&k.as_str()) && current.get(k) != Some(v));
        if !moves {
            return Ok(json!({}));
        }
    }
    let mut out = Map::new();
    let mut snaps: Vec<_> = ctx.state.snapshots.values().collect();
    snaps.sort_by(|a, b| (&a.dataset, a.createtxg).cmp(&(&b.dataset, b.createtxg)));
    for s in snaps {
        let in_scope = s.dataset == task.dataset
            || (task.recursive
                && s.dataset.starts_with(&format!("{}/", task.dataset))
                && !task
                    .exclude
                    .iter()
                    .any(|e| s.dataset == *e || s.dataset.starts_with(&format!("{e}/"))));
        if in_scope
            && super::schema::naming::matches(&task.naming_schema, &s.name)
            && let Value::Array(list) = out
                .entry(s.dataset.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(json!(s.name));
        }
    }
    Ok(Value::Object(out))
}
