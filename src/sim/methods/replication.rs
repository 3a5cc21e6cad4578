//! `replication.*`: replication tasks (api doc §6).

use serde_json::{Map, Value, json};

use super::schema::{
    Check, F, Spec, Ty, bool_, cron_fields, int, int_range, list, list_min1, list_unique, str_,
    str_ne, validate_id, validate_obj,
};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::render::py_repr_str;
use crate::sim::state::{
    CredentialType, Direction, JobState, ReplicationTask, SimState, TaskState, Transport,
};
use crate::sim::version::{Family, Layer, Personality};

const UNITS: &[&str] = &["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];

fn nullable_enum(name: &'static str, choices: &'static [&'static str]) -> F {
    F::new(name, Ty::Enum(choices)).null().def(Value::Null)
}

/// The create model's fields in model order (CORE lacks the SCALE-only ones).
fn fields(p: Personality) -> Vec<F> {
    let schedule = |name: &'static str| {
        F::new(name, Ty::Dict(cron_fields(true, "00")))
            .null()
            .def(Value::Null)
            .check(Check::Cron { begin_end: true })
    };
    let lifetime = Ty::Dict(vec![
        F::new("schedule", Ty::Dict(cron_fields(false, "*")))
            .req()
            .check(Check::Cron { begin_end: false }),
        F::new("lifetime_value", int_range(Some(1), None)).req(),
        F::new("lifetime_unit", Ty::Enum(UNITS)).req(),
    ]);
    let port = || int_range(Some(1), Some(65535));
    let mut v = vec![
        F::new("name", str_ne()).req(),
        F::new("direction", Ty::Enum(&["PUSH", "PULL"])).req(),
        F::new("transport", Ty::Enum(&["SSH", "SSH+NETCAT", "LOCAL"])).req(),
        F::new("ssh_credentials", int()).null().def(Value::Null),
        nullable_enum("netcat_active_side", &["LOCAL", "REMOTE"]),
        F::new("netcat_active_side_listen_address", str_())
            .null()
            .def(Value::Null),
        F::new("netcat_active_side_port_min", port())
            .null()
            .def(Value::Null),
        F::new("netcat_active_side_port_max", port())
            .null()
            .def(Value::Null),
        F::new("netcat_passive_side_connect_address", str_())
            .null()
            .def(Value::Null),
        F::new("sudo", bool_()).def(json!(false)),
        // 24.x and 25.04 declare it `empty=False` but not required, with the default `[]`:
        // leaving it out is "Empty value not allowed" (plugins/replication.py `do_create`).
        if p == Personality::Core13 || p >= Personality::V2510 {
            F::new("source_datasets", list_min1(str_())).req()
        } else {
            F::new("source_datasets", list_min1(str_())).def(json!([]))
        },
        F::new("target_dataset", str_()).req(),
        F::new("recursive", bool_()).req(),
        F::new("exclude", list(str_())).def(json!([])),
        F::new("properties", bool_()).def(json!(true)),
        F::new("properties_exclude", list(str_ne())).def(json!([])),
        F::new("properties_override", Ty::Map(Box::new(str_()))).def(json!({})),
        F::new("replicate", bool_()).def(json!(false)),
        F::new("encryption", bool_()).def(json!(false)),
        F::new("encryption_inherit", bool_())
            .null()
            .def(Value::Null),
        F::new("encryption_key", str_()).null().def(Value::Null),
        nullable_enum("encryption_key_format", &["HEX", "PASSPHRASE"]),
        F::new("encryption_key_location", str_())
            .null()
            .def(Value::Null),
        F::new("periodic_snapshot_tasks", list_unique(int())).def(json!([])),
        F::new("naming_schema", list(str_()))
            .def(json!([]))
            .check(Check::NamingSchema),
        F::new("also_include_naming_schema", list(str_()))
            .def(json!([]))
            .check(Check::NamingSchema),
        F::new("name_regex", str_ne()).null().def(Value::Null),
        F::new("auto", bool_()).req(),
        schedule("schedule"),
        schedule("restrict_schedule"),
        F::new("only_matching_schedule", bool_()).def(json!(false)),
        F::new("allow_from_scratch", bool_()).def(json!(false)),
        F::new("readonly", Ty::Enum(&["SET", "REQUIRE", "IGNORE"])).def(json!("SET")),
        F::new("hold_pending_snapshots", bool_()).def(json!(false)),
        F::new("retention_policy", Ty::Enum(&["SOURCE", "CUSTOM", "NONE"])).req(),
        F::new("lifetime_value", int_range(Some(1), None))
            .null()
            .def(Value::Null),
        nullable_enum("lifetime_unit", UNITS),
        F::new("lifetimes", list(lifetime)).def(json!([])),
        nullable_enum("compression", &["LZ4", "PIGZ", "PLZIP"]),
        F::new("speed_limit", int_range(Some(1), None))
            .null()
            .def(Value::Null),
        F::new("large_block", bool_()).def(json!(true)),
        F::new("embed", bool_()).def(json!(false)),
        F::new("compressed", bool_()).def(json!(true)),
        F::new("retries", int_range(Some(1), None)).def(json!(5)),
        nullable_enum("logging_level", &["DEBUG", "INFO", "WARNING", "ERROR"]),
        F::new("enabled", bool_()).def(json!(true)),
    ];
    if !p.replication_has_scale_fields() {
        v.retain(|f| !CORE_LACKS.contains(&f.name));
    }
    v
}

const CORE_LACKS: &[&str] = &[
    "sudo",
    "name_regex",
    "lifetimes",
    "properties_override",
    "encryption_inherit",
];

/// A stored row from create-style input with every default applied (fixtures use this).
pub fn row_from_input(id: u64, input: &Map<String, Value>) -> Result<ReplicationTask, String> {
    let f = fields(Personality::V2510);
    let spec = Spec {
        layer: Layer::Pydantic,
        prefix: "replication_create",
        model: "ReplicationCreate",
        fields: &f,
        update: false,
    };
    let clean = validate_obj(&spec, Some(&Value::Object(input.clone()))).map_err(|e| {
        e.render(Personality::V2510)
            .0
            .trim_end()
            .replace('\n', "; ")
    })?;
    to_row(id, clean, TaskState::default(), None)
}

fn to_row(
    id: u64,
    mut clean: Map<String, Value>,
    state: TaskState,
    job: Option<u64>,
) -> Result<ReplicationTask, String> {
    // Fill what an old-schema or CORE create leaves out.
    let full = fields(Personality::V2510);
    for f in &full {
        if !clean.contains_key(f.name)
            && let Some(d) = &f.default
        {
            clean.insert(f.name.into(), d.clone());
        }
    }
    clean.insert("id".into(), json!(id));
    clean.insert(
        "state".into(),
        serde_json::to_value(state).map_err(|e| e.to_string())?,
    );
    clean.insert("job".into(), json!(job));
    serde_json::from_value(Value::Object(clean)).map_err(|e| e.to_string())
}

/// A task as `replication.query` returns it.
pub fn render(p: Personality, st: &SimState, r: &ReplicationTask, check_keys: bool) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    let Some(m) = v.as_object_mut() else {
        return v;
    };
    let cred = r
        .ssh_credentials
        .and_then(|id| st.keychain.iter().find(|k| k.id == id))
        .map(super::keychain::render)
        .unwrap_or(Value::Null);
    m.insert("ssh_credentials".into(), cred);
    let tasks: Vec<Value> = r
        .periodic_snapshot_tasks
        .iter()
        .filter_map(|id| st.snapshot_tasks.iter().find(|t| t.id == *id))
        .map(|t| super::snapshottask::render_db_row(p, t))
        .collect();
    m.insert("periodic_snapshot_tasks".into(), Value::Array(tasks));
    m.insert("state".into(), render_state(&r.state));
    let job = r
        .job
        .and_then(|id| st.jobs.iter().find(|j| j.id == id))
        .map(|j| super::core::render_job(p, j))
        .unwrap_or(Value::Null);
    m.insert("job".into(), job);
    if p.goldeye() || check_keys {
        m.insert("has_encrypted_dataset_keys".into(), json!(false));
    }
    if !p.replication_has_scale_fields() {
        for k in CORE_LACKS {
            m.shift_remove(*k);
        }
    }
    v
}

/// Replication `state`: every known state carries `last_snapshot`.
pub fn render_state(s: &TaskState) -> Value {
    use crate::sim::state::TaskStateKind as K;
    let mut m = Map::new();
    m.insert("state".into(), json!(s.state));
    if s.state == K::Pending {
        return Value::Object(m);
    }
    m.insert(
        "datetime".into(),
        s.datetime
            .map(crate::sim::render::date)
            .unwrap_or(Value::Null),
    );
    match s.state {
        K::Waiting | K::Hold => {
            m.insert("reason".into(), json!(s.reason.clone().unwrap_or_default()));
        }
        K::Running => {
            if let Some(p) = &s.progress {
                m.insert("progress".into(), p.clone());
            }
        }
        K::Finished => {
            m.insert("warnings".into(), json!(s.warnings));
        }
        K::Error => {
            m.insert("error".into(), json!(s.error.clone().unwrap_or_default()));
        }
        K::Pending => {}
    }
    m.insert("last_snapshot".into(), json!(s.last_snapshot));
    Value::Object(m)
}

fn check_keys_opt(options: Option<&Value>) -> bool {
    options
        .and_then(|o| o.get("extra"))
        .and_then(|e| e.get("check_dataset_encryption_keys"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let ck = check_keys_opt(args.get(1));
    let rows = ctx
        .state
        .replications
        .iter()
        .map(|r| render(ctx.p, ctx.state, r, ck))
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(ctx.p.layer(Family::Replication), "id", args.first())?;
    let r = find(ctx.state, id)?;
    Ok(render(ctx.p, ctx.state, r, check_keys_opt(args.get(1))))
}

fn find(st: &SimState, id: u64) -> Result<&ReplicationTask, SimError> {
    st.replications
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| SimError::not_found("Replication", id))
}

fn clean_path(s: &str) -> String {
    s.trim()
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Old-schema versions clean dataset paths; pydantic ones store them verbatim.
fn clean_paths(layer: Layer, data: &mut Map<String, Value>) {
    if layer == Layer::Pydantic {
        return;
    }
    for key in ["source_datasets", "exclude"] {
        if let Some(Value::Array(items)) = data.get_mut(key) {
            for it in items {
                if let Value::String(s) = it {
                    *s = clean_path(s);
                }
            }
        }
    }
    if let Some(Value::String(s)) = data.get_mut("target_dataset") {
        *s = clean_path(s);
    }
}

fn is_child(child: &str, parent: &str) -> bool {
    child == parent || child.starts_with(&format!("{parent}/"))
}

/// The plugin's `_validate` (prefix `replication_create` / `replication_update`).
fn plugin_checks(
    p: Personality,
    st: &SimState,
    schema: &str,
    d: &Map<String, Value>,
    id: Option<u64>,
) -> Vec<VErr> {
    let mut errs = Vec::new();
    let add =
        |errs: &mut Vec<VErr>, k: &str, m: &str| errs.push(VErr::new(format!("{schema}.{k}"), m));
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let b = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(false);
    let is_set = |k: &str| d.get(k).is_some_and(|v| !v.is_null());
    let strs = |k: &str| -> Vec<String> {
        d.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let name = s("name");
    if st
        .replications
        .iter()
        .any(|r| r.name == name && Some(r.id) != id)
    {
        add(&mut errs, "name", "Object with this name already exists");
    }
    let direction = s("direction");
    let transport = s("transport");
    let task_ids: Vec<u64> = d
        .get("periodic_snapshot_tasks")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let naming = strs("naming_schema");
    let also = strs("also_include_naming_schema");
    let name_regex = d
        .get("name_regex")
        .and_then(Value::as_str)
        .map(String::from);
    let schedule_set = is_set("schedule");
    let auto = b("auto");
    let mut tasks = Vec::new();
    if direction == "PUSH" {
        for (i, tid) in task_ids.iter().enumerate() {
            match st.snapshot_tasks.iter().find(|t| t.id == *tid) {
                Some(t) => tasks.push(t.clone()),
                None => add(
                    &mut errs,
                    &format!("periodic_snapshot_tasks.{i}"),
                    "This snapshot task does not exist",
                ),
            }
        }
        if !naming.is_empty() {
            add(
                &mut errs,
                "naming_schema",
                "This field has no sense for push replication",
            );
        }
        if tasks.is_empty() && also.is_empty() && name_regex.is_none() {
            add(
                &mut errs,
                "periodic_snapshot_tasks",
                if p.is_core() {
                    "You must at least either bind a periodic snapshot task or provide \"Also Include Naming Schema\" for push replication task"
                } else {
                    "You must at least either bind a periodic snapshot task or provide \"Also Include Naming Schema\" or \"Name Regex\" for push replication task"
                },
            );
        }
        if !schedule_set && auto && task_ids.is_empty() {
            add(
                &mut errs,
                "auto",
                "Push replication that runs automatically must be either bound to a periodic snapshot task or have a schedule",
            );
        }
    } else {
        if !schedule_set && auto {
            add(
                &mut errs,
                "auto",
                "Pull replication that runs automatically must have a schedule",
            );
        }
        if !task_ids.is_empty() {
            add(
                &mut errs,
                "periodic_snapshot_tasks",
                "Pull replication can't be bound to a periodic snapshot task",
            );
        }
        if naming.is_empty() && name_regex.is_none() {
            add(
                &mut errs,
                "naming_schema",
                if p.is_core() {
                    "Naming schema is required for pull replication"
                } else {
                    "Naming schema or Name regex are required for pull replication"
                },
            );
        }
        if !also.is_empty() {
            add(
                &mut errs,
                "also_include_naming_schema",
                "This field has no sense for pull replication",
            );
        }
        if b("hold_pending_snapshots") {
            add(
                &mut errs,
                "hold_pending_snapshots",
                "Pull replication tasks can't hold pending snapshots because they don't do source retention",
            );
        }
    }

    if transport == "SSH+NETCAT" {
        if !is_set("netcat_active_side") {
            add(
                &mut errs,
                "netcat_active_side",
                "You must choose active side for SSH+netcat replication",
            );
        }
        let min = d.get("netcat_active_side_port_min").and_then(Value::as_u64);
        let max = d.get("netcat_active_side_port_max").and_then(Value::as_u64);
        if let (Some(a), Some(z)) = (min, max)
            && a > z
        {
            add(
                &mut errs,
                "netcat_active_side_port_max",
                if p == Personality::V2404 || p.is_core() {
                    "Please specify value greater or equal than netcat_active_side_port_min"
                } else {
                    "Please specify value greater than or equal to netcat_active_side_port_min"
                },
            );
        }
        if is_set("compression") {
            add(
                &mut errs,
                "compression",
                "Compression is not supported for SSH+netcat replication",
            );
        }
        if is_set("speed_limit") {
            add(
                &mut errs,
                "speed_limit",
                "Speed limit is not supported for SSH+netcat replication",
            );
        }
    } else {
        for k in [
            "netcat_active_side",
            "netcat_active_side_listen_address",
            "netcat_active_side_port_min",
            "netcat_active_side_port_max",
            "netcat_passive_side_connect_address",
        ] {
            if is_set(k) {
                add(
                    &mut errs,
                    k,
                    "This field only has sense for SSH+netcat replication",
                );
            }
        }
    }
    if transport == "LOCAL" {
        if is_set("ssh_credentials") {
            add(
                &mut errs,
                "ssh_credentials",
                "Remote credentials have no sense for local replication",
            );
        }
        if is_set("compression") {
            add(
                &mut errs,
                "compression",
                "Compression has no sense for local replication",
            );
        }
        if is_set("speed_limit") {
            add(
                &mut errs,
                "speed_limit",
                "Speed limit has no sense for local replication",
            );
        }
    } else {
        match d.get("ssh_credentials").and_then(Value::as_u64) {
            None => add(
                &mut errs,
                "ssh_credentials",
                "SSH Credentials are required for non-local replication",
            ),
            Some(cid) => match st.keychain.iter().find(|k| k.id == cid) {
                None => add(
                    &mut errs,
                    "ssh_credentials",
                    "[ENOENT] Credential does not exist",
                ),
                Some(k) if k.kind != CredentialType::SshCredentials => add(
                    &mut errs,
                    "ssh_credentials",
                    "[EINVAL] Credential is not of type SSH_CREDENTIALS",
                ),
                Some(_) => {}
            },
        }
    }

    let sources = strs("source_datasets");
    let exclude = strs("exclude");
    let recursive = b("recursive");
    for (i, src) in sources.iter().enumerate() {
        for t in &tasks {
            if is_child(src, &t.dataset) {
                if recursive {
                    for ex in &t.exclude {
                        if is_child(ex, src) && !exclude.contains(ex) {
                            add(
                                &mut errs,
                                "exclude",
                                &format!(
                                    "You should exclude {} as bound periodic snapshot task dataset {} does",
                                    py_repr_str(ex),
                                    py_repr_str(&t.dataset)
                                ),
                            );
                        }
                    }
                } else if t.exclude.contains(src) {
                    add(
                        &mut errs,
                        &format!("source_datasets.{i}"),
                        &format!(
                            "Dataset {} is excluded by bound periodic snapshot task for dataset {}",
                            py_repr_str(src),
                            py_repr_str(&t.dataset)
                        ),
                    );
                }
            }
        }
    }
    if !recursive && !exclude.is_empty() {
        add(
            &mut errs,
            "exclude",
            "Excluding child datasets is only supported for recursive replication",
        );
    }
    for (i, ex) in exclude.iter().enumerate() {
        if !sources.iter().any(|s| ex.starts_with(&format!("{s}/"))) {
            add(
                &mut errs,
                &format!("exclude.{i}"),
                "This dataset is not a child of any of source datasets",
            );
        }
    }
    if b("replicate") {
        if !recursive {
            add(
                &mut errs,
                "recursive",
                "This option is required for full filesystem replication",
            );
        }
        if !exclude.is_empty() {
            add(
                &mut errs,
                "exclude",
                "This option is not supported for full filesystem replication",
            );
        }
        if !b("properties") {
            add(
                &mut errs,
                "properties",
                "This option is required for full filesystem replication",
            );
        }
        if p >= Personality::V2504 && s("retention_policy") != "SOURCE" {
            add(
                &mut errs,
                "retention_policy",
                "Only `Same as Source` retention policy can be used for full filesystem replication",
            );
        }
        if !p.is_core() {
            for (i, a) in sources.iter().enumerate() {
                for c in &sources {
                    if c != a && is_child(c, a) {
                        add(
                            &mut errs,
                            &format!("source_datasets.{i}"),
                            &format!(
                                "Replication task that replicates the entire filesystem can't replicate both {} and its child {}",
                                py_repr_str(a),
                                py_repr_str(c)
                            ),
                        );
                    }
                }
            }
            for (i, t) in tasks.iter().enumerate() {
                let ok = t.recursive && sources.iter().all(|s| is_child(s, &t.dataset));
                if !ok {
                    add(
                        &mut errs,
                        &format!("periodic_snapshot_tasks.{i}"),
                        "Replication tasks that replicate the entire filesystem can only use periodic snapshot tasks that take recursive snapshots of the dataset being replicated (or its ancestor)",
                    );
                }
            }
        }
    }
    if b("encryption") && !b("encryption_inherit") {
        for k in [
            "encryption_key",
            "encryption_key_format",
            "encryption_key_location",
        ] {
            if !is_set(k) {
                add(
                    &mut errs,
                    k,
                    "This property is required when remote dataset encryption is enabled",
                );
            }
        }
    }
    if schedule_set {
        if !auto {
            add(
                &mut errs,
                "schedule",
                "You can't have schedule for replication that does not run automatically",
            );
        }
    } else if b("only_matching_schedule") {
        add(
            &mut errs,
            "only_matching_schedule",
            "You can't have only-matching-schedule without schedule",
        );
    }
    if let Some(re) = &name_regex {
        // `re.compile(f"({name_regex})$")`: Python's message, positions in the wrapped text.
        if let Err(e) = crate::sim::pyre::compile_name_regex(re) {
            add(&mut errs, "name_regex", &format!("Invalid regex: {e}"));
        }
        if p.goldeye() && !task_ids.is_empty() {
            add(
                &mut errs,
                "name_regex",
                "Naming regex can't be used with periodic snapshot tasks",
            );
        }
        if !naming.is_empty() || !also.is_empty() {
            add(
                &mut errs,
                "name_regex",
                "Naming regex can't be used with Naming schema",
            );
        }
        let rp = s("retention_policy");
        if rp != "SOURCE" && rp != "NONE" {
            add(
                &mut errs,
                "retention_policy",
                "Only `Same as Source` and `None` retention policies can be used with Naming regex",
            );
        }
    }
    if s("retention_policy") == "CUSTOM" {
        if !is_set("lifetime_value") {
            add(
                &mut errs,
                "lifetime_value",
                "This field is required for custom retention policy",
            );
        }
        if !is_set("lifetime_unit") {
            add(
                &mut errs,
                "lifetime_value",
                "This field is required for custom retention policy",
            );
        }
    } else {
        if is_set("lifetime_value") {
            add(
                &mut errs,
                "lifetime_value",
                "This field has no sense for specified retention policy",
            );
        }
        if is_set("lifetime_unit") {
            add(
                &mut errs,
                "lifetime_unit",
                "This field has no sense for specified retention policy",
            );
        }
        if d.get("lifetimes")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            add(
                &mut errs,
                "lifetimes",
                "This field has no sense for specified retention policy",
            );
        }
    }
    if b("enabled") {
        for (i, t) in tasks.iter().enumerate() {
            if !t.enabled {
                add(
                    &mut errs,
                    &format!("periodic_snapshot_tasks.{i}"),
                    "You can't bind disabled periodic snapshot task to enabled replication task",
                );
            }
        }
    }
    errs
}

fn spec_prefix(layer: Layer, update: bool) -> &'static str {
    if update {
        "replication_update"
    } else {
        let _ = layer;
        "replication_create"
    }
}

pub fn create(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::Replication);
    check_arg_count(ctx.p, &args, 1)?;
    let f = fields(ctx.p);
    let spec = Spec {
        layer,
        prefix: spec_prefix(layer, false),
        model: "ReplicationCreate",
        fields: &f,
        update: false,
    };
    let mut data = validate_obj(&spec, args.first())?;
    clean_paths(layer, &mut data);
    let errs = plugin_checks(ctx.p, ctx.state, "replication_create", &data, None);
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let id = SimState::take_id(&mut ctx.state.next_ids.replication);
    let row = to_row(id, data, TaskState::default(), None).map_err(SimError::efault)?;
    ctx.state.replications.push(row);
    let r = find(ctx.state, id)?;
    Ok(render(ctx.p, ctx.state, r, false))
}

pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::Replication);
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(layer, "id", args.first())?;
    let f = fields(ctx.p);
    let spec = Spec {
        layer,
        prefix: spec_prefix(layer, true),
        model: "ReplicationUpdate",
        fields: &f,
        update: true,
    };
    let mut data = validate_obj(&spec, args.get(1))?;
    clean_paths(layer, &mut data);
    let old = find(ctx.state, id)?.clone();
    let mut merged = match serde_json::to_value(&old) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for k in ["id", "state", "job"] {
        merged.shift_remove(k);
    }
    for (k, v) in data {
        merged.insert(k, v);
    }
    let errs = plugin_checks(ctx.p, ctx.state, "replication_update", &merged, Some(id));
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let row = to_row(id, merged, old.state.clone(), old.job).map_err(SimError::efault)?;
    if let Some(r) = ctx.state.replications.iter_mut().find(|r| r.id == id) {
        *r = row;
    }
    let r = find(ctx.state, id)?;
    Ok(render(ctx.p, ctx.state, r, false))
}

pub fn delete(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::Replication);
    check_arg_count(ctx.p, &args, 1)?;
    let id = validate_id(layer, "id", args.first())?;
    if ctx.p >= Personality::V2410 {
        find(ctx.state, id)?;
    }
    ctx.state.replications.retain(|r| r.id != id);
    Ok(Value::Bool(true))
}

/// `replication.run`: always a job. Problems fail the job, not the call.
pub fn run(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    let layer = ctx.p.layer(Family::Replication);
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(layer, "id", args.first())?;
    let really_run = match args.get(1) {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(match layer {
                Layer::Pydantic => SimError::one("really_run", "Input should be a valid boolean"),
                _ => SimError::one("really_run", "Not a boolean"),
            });
        }
    };
    let st = &mut *ctx.state;
    let job = st.add_job(
        "replication.run",
        vec![json!(id), json!(really_run)],
        JobState::Waiting,
    );
    if let Some(j) = st.job_mut(job) {
        j.logs_excerpt = None;
    }
    let Some(task) = st.replications.iter().find(|r| r.id == id).cloned() else {
        fail_validation(st, job, &format!("Replication {id} does not exist"));
        return Ok(json!(job));
    };
    let busy = task
        .job
        .and_then(|j| st.jobs.iter().find(|x| x.id == j))
        .is_some_and(|j| !j.state.is_finished());
    // A task's `job` is its newest `replication.run`; SCALE's `TaskStateMixin` keeps a
    // running one instead (utils/service/task_state.py), CORE's `_get_state_context` not.
    let keeps_running_job = busy && !ctx.p.is_core();
    if let Some(r) = st.replications.iter_mut().find(|r| r.id == id)
        && !keeps_running_job
    {
        r.job = Some(job);
    }
    if !task.enabled {
        st.fail_job(job, "Task is not enabled");
        return Ok(json!(job));
    }
    if busy {
        st.fail_job(job, "Task is already running");
        return Ok(json!(job));
    }
    if task.state.state == crate::sim::state::TaskStateKind::Hold {
        st.fail_job(job, "Task is on hold");
    }
    Ok(json!(job))
}

/// A job that failed on `InstanceNotFound` (a validation error inside the job).
fn fail_validation(st: &mut SimState, job: u64, msg: &str) {
    let now = st.now_secs();
    if let Some(j) = st.job_mut(job) {
        let error = format!("[ENOENT] None: {msg}");
        j.state = JobState::Failed;
        j.time_finished = Some(now);
        j.exception = Some(format!(
            "Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/middlewared/job.py\", line 515, in run\n    await self.future\n  ...\nmiddlewared.service_exception.ValidationErrors: {error}\n"
        ));
        j.exc_info = Some(json!({
            "repr": format!("ValidationErrors([ValidationError(None, {}, 2)])", py_repr_str(msg)),
            "type": "VALIDATION",
            "errno": 2,
            "extra": [[null, msg, 2]],
        }));
        j.error = Some(error);
    }
}

pub fn list_naming_schemas(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let mut out: Vec<String> = ctx
        .state
        .snapshot_tasks
        .iter()
        .map(|t| t.naming_schema.clone())
        .chain(ctx.state.replications.iter().flat_map(|r| {
            r.naming_schema
                .iter()
                .chain(&r.also_include_naming_schema)
                .cloned()
        }))
        .collect();
    out.sort();
    out.dedup();
    Ok(json!(out))
}

/// The system a transport reaches: this one for LOCAL, else the credential's host.
fn system_for(
    ctx: &Ctx<'_>,
    transport: &str,
    cred: Option<u64>,
    attr: &str,
) -> Result<SimState, SimError> {
    if transport == "LOCAL" {
        return Ok(ctx.state.clone());
    }
    let Some(cid) = cred else {
        return Err(SimError::one(
            attr,
            "SSH Credentials are required for non-local replication",
        ));
    };
    let Some(k) = ctx.state.keychain.iter().find(|k| k.id == cid) else {
        return Err(SimError::call("ENOENT", "Credential does not exist"));
    };
    if k.kind != CredentialType::SshCredentials {
        return Err(SimError::call(
            "EINVAL",
            "Credential is not of type SSH_CREDENTIALS",
        ));
    }
    let host = k
        .attributes
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or("");
    super::find_system(ctx, host).ok_or_else(|| {
        SimError::efault(format!(
            "[Errno None] Unable to connect to port 22 on {host}"
        ))
    })
}

/// `replication.list_datasets(transport, ssh_credentials=None)` (plugins/replication.py →
/// plugins/zettarepl.py `list_datasets`): every filesystem and volume of the system the
/// transport reaches, sorted, without boot pools and `.system`; an SSH connection that
/// paramiko cannot open fails as `_handle_ssh_exceptions` says (EACCES).
pub fn list_datasets(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let layer = ctx.p.layer(Family::Replication);
    // CORE's schema layer reports the first error with a traceback.
    let bad = |attr: &str, msg: String| match layer {
        Layer::Core => SimError::CoreSchema {
            attr: attr.into(),
            msg,
        },
        _ => SimError::one(attr, msg),
    };
    let transport = match args.first() {
        Some(Value::String(t)) if ["SSH", "SSH+NETCAT", "LOCAL"].contains(&t.as_str()) => t.clone(),
        Some(other) => {
            return Err(bad(
                "transport",
                if layer == Layer::Pydantic {
                    "Input should be 'SSH', 'SSH+NETCAT' or 'LOCAL'".to_string()
                } else {
                    format!(
                        "Invalid choice: {}",
                        other
                            .as_str()
                            .map(String::from)
                            .unwrap_or(other.to_string())
                    )
                },
            ));
        }
        None => {
            return Err(bad(
                "transport",
                if layer == Layer::Pydantic {
                    "Field required".to_string()
                } else {
                    "attribute required".to_string()
                },
            ));
        }
    };
    let cred = match args.get(1) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
        Some(_) => {
            return Err(bad(
                "ssh_credentials",
                if layer == Layer::Pydantic {
                    "Input should be a valid integer".into()
                } else {
                    "Not an integer".into()
                },
            ));
        }
    };
    let sys = if transport == "LOCAL" {
        ctx.state.clone()
    } else {
        let Some(cid) = cred else {
            return Err(SimError::efault(format!(
                "You should pass SSH credentials for {transport} transport"
            )));
        };
        let Some(k) = ctx.state.keychain.iter().find(|k| k.id == cid).cloned() else {
            return Err(SimError::call("ENOENT", "Credential does not exist"));
        };
        if k.kind != CredentialType::SshCredentials {
            return Err(SimError::call(
                "EINVAL",
                "Credential is not of type SSH_CREDENTIALS",
            ));
        }
        let host = k
            .attributes
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or("");
        let refused = |e: crate::sim::zettarepl::SshFailure| {
            SimError::call("EACCES", e.middleware_text(ctx.p.is_core()))
        };
        let Some(dst) = super::find_system(ctx, host) else {
            return Err(refused(crate::sim::zettarepl::SshFailure::NameUnknown));
        };
        crate::sim::zettarepl::check_ssh(ctx.state, &k, &dst).map_err(refused)?;
        dst
    };
    // zettarepl.py `INVALID_DATASETS`.
    let invalid = |ds: &str| {
        let first = ds.split('/').next().unwrap_or(ds);
        first == "boot-pool" || first == "freenas-boot" || ds.split('/').nth(1) == Some(".system")
    };
    let names: Vec<&String> = sys.datasets.keys().filter(|d| !invalid(d)).collect();
    Ok(json!(names))
}

pub fn count_eligible_manual_snapshots(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let layer = ctx.p.layer(Family::Replication);
    let f = vec![
        F::new("datasets", list_min1(str_())).req(),
        F::new("naming_schema", list(str_()))
            .def(json!([]))
            .check(Check::NamingSchema),
        F::new("name_regex", str_ne()).null().def(Value::Null),
        F::new("transport", Ty::Enum(&["SSH", "SSH+NETCAT", "LOCAL"])).req(),
        F::new("ssh_credentials", int()).null().def(Value::Null),
    ];
    let prefix = "count_eligible_manual_snapshots";
    let spec = Spec {
        layer,
        prefix,
        model: "ReplicationCountEligibleManualSnapshots",
        fields: &f,
        update: false,
    };
    let d = validate_obj(&spec, args.first())?;
    let transport = d
        .get("transport")
        .and_then(Value::as_str)
        .unwrap_or("LOCAL")
        .to_string();
    let has_schemas = d
        .get("naming_schema")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let name_regex = d.get("name_regex").and_then(Value::as_str);
    // zettarepl.py `count_eligible_manual_snapshots`: this check comes before connecting.
    if has_schemas && name_regex.is_some() {
        return Err(SimError::call(
            "EINVAL",
            "`naming_schema` and `name_regex` cannot be used simultaneously",
        ));
    }
    let cred = d.get("ssh_credentials").and_then(Value::as_u64);
    let sys = system_for(ctx, &transport, cred, &format!("{prefix}.ssh_credentials"))?;
    let regex = match name_regex {
        // CORE 13 has no `name_regex` and no such check.
        _ if has_schemas || ctx.p.is_core() => None,
        Some(r) => Some(
            crate::sim::pyre::compile_name_regex(r)
                .map_err(|e| SimError::efault(format!("Invalid `name_regex`: {e}")))?,
        ),
        None => {
            return Err(SimError::call(
                "EINVAL",
                "Either `naming_schema` or `name_regex` must be specified",
            ));
        }
    };
    let datasets: Vec<String> = d
        .get("datasets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let schemas: Vec<String> = d
        .get("naming_schema")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut total = 0;
    let mut eligible = 0;
    let mut datasets = datasets;
    datasets.sort_unstable();
    datasets.dedup();
    for s in datasets.iter().flat_map(|ds| sys.snapshots_of_dataset(ds)) {
        total += 1;
        let ok = match &regex {
            Some(r) => r.is_match(&s.name),
            None => schemas
                .iter()
                .any(|sc| super::schema::naming::matches(sc, &s.name)),
        };
        if ok {
            eligible += 1;
        }
    }
    Ok(json!({"total": total, "eligible": eligible}))
}

pub fn target_unmatched_snapshots(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 5)?;
    let layer = ctx.p.layer(Family::Replication);
    let bad = |attr: &str, m: &str| SimError::one(attr, m.to_string());
    let direction = match args.first().and_then(Value::as_str) {
        Some("PUSH") => Direction::Push,
        Some("PULL") => Direction::Pull,
        Some(other) => {
            return Err(bad(
                "direction",
                &if layer == Layer::Pydantic {
                    "Input should be 'PUSH' or 'PULL'".to_string()
                } else {
                    format!("Invalid choice: {other}")
                },
            ));
        }
        None => return Err(bad("direction", "attribute required")),
    };
    let sources: Vec<String> = args
        .get(1)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .ok_or_else(|| bad("source_datasets", "Not a list"))?;
    let target = args
        .get(2)
        .and_then(Value::as_str)
        .ok_or_else(|| bad("target_dataset", "Not a string"))?
        .to_string();
    let transport = args
        .get(3)
        .and_then(Value::as_str)
        .unwrap_or("LOCAL")
        .to_string();
    let cred = args.get(4).and_then(Value::as_u64);
    let remote = system_for(ctx, &transport, cred, "ssh_credentials")?;
    let local = ctx.state.clone();
    let (src_sys, dst_sys) = match direction {
        Direction::Push => (&local, &remote),
        Direction::Pull => (&remote, &local),
    };
    let mut out = Map::new();
    for src in &sources {
        let dst = target.clone();
        let src_names: Vec<&str> = src_sys
            .snapshots
            .values()
            .filter(|s| &s.dataset == src)
            .map(|s| s.name.as_str())
            .collect();
        let mut unmatched: Vec<String> = dst_sys
            .snapshots
            .values()
            .filter(|s| s.dataset == dst && !src_names.contains(&s.name.as_str()))
            .map(|s| s.name.clone())
            .collect();
        unmatched.sort();
        if !unmatched.is_empty() {
            out.insert(dst, json!(unmatched));
        }
    }
    let _ = Transport::Local;
    Ok(Value::Object(out))
}
