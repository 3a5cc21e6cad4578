//! `zfs.snapshot.*` (≤25.04, private on 25.10) and `pool.snapshot.*` (25.10): api doc §8.

use std::ops::Bound;

use serde_json::{Map, Value, json};

use super::schema::{Check, F, Spec, Ty, bool_, list, str_, validate_obj};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::render::date;
use crate::sim::state::{SimState, Snapshot};
use crate::sim::version::{Family, Layer, Personality};

pub fn call(ctx: &mut Ctx<'_>, method: &str, name: &str, args: Vec<Value>) -> MResult {
    match name {
        // 25.10's private `zfs.snapshot.query` has no `@filterable`: its options arrive as
        // given, where every other query's arrive with the schema's defaults filled in.
        "query" => {
            let options_as_given = ctx.p == Personality::V2510 && method.starts_with("zfs.");
            query(ctx, args, options_as_given)
        }
        "get_instance" => get_instance(ctx, method, args),
        "create" => create(ctx, method, args),
        "delete" => delete(ctx, method, args),
        _ => Err(SimError::NoMethod {
            method: method.to_string(),
        }),
    }
}

/// ZFS `nicenum` (`96K`, `1.21G`, `0B`): snapshots use libzfs's display on every version.
fn nicenum(n: u64) -> String {
    const U: [&str; 7] = ["B", "K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut i = 0;
    let mut v = n as f64;
    while v >= 1024.0 && i < 6 {
        v /= 1024.0;
        i += 1;
    }
    if n.is_multiple_of(1u64 << (10 * i)) {
        return format!("{}{}", n >> (10 * i), U[i]);
    }
    for prec in [2usize, 1, 0] {
        let s = format!("{v:.prec$}{}", U[i]);
        if s.len() <= 5 {
            return s;
        }
    }
    format!("{v:.0}{}", U[i])
}

fn prop(value: String, raw: String, source: &str, parsed: Value) -> Value {
    json!({"value": value, "rawvalue": raw, "source": source, "parsed": parsed})
}

fn render(st: &SimState, s: &Snapshot, props: Option<&[String]>, holds: bool) -> Value {
    let mut p = Map::new();
    let creation_text = chrono::DateTime::<chrono::Utc>::from_timestamp(s.creation, 0)
        .map(|d| {
            d.with_timezone(&st.tz())
                .format("%a %b %d %H:%M %Y")
                .to_string()
        })
        .unwrap_or_default();
    let all: Vec<(&str, Value)> = vec![
        (
            "used",
            prop(nicenum(s.used), s.used.to_string(), "NONE", json!(s.used)),
        ),
        (
            "referenced",
            prop(
                nicenum(s.referenced),
                s.referenced.to_string(),
                "NONE",
                json!(s.referenced),
            ),
        ),
        (
            "creation",
            prop(
                creation_text,
                s.creation.to_string(),
                "NONE",
                date(s.creation),
            ),
        ),
        (
            "createtxg",
            prop(
                s.createtxg.to_string(),
                s.createtxg.to_string(),
                "NONE",
                json!(s.createtxg.to_string()),
            ),
        ),
        (
            "compressratio",
            prop("1.00x".into(), "1.00".into(), "NONE", json!("1.00")),
        ),
        (
            "userrefs",
            prop(
                s.holds.len().to_string(),
                s.holds.len().to_string(),
                "NONE",
                json!(s.holds.len()),
            ),
        ),
        (
            "defer_destroy",
            prop("off".into(), "off".into(), "NONE", json!(false)),
        ),
    ];
    // py-libzfs `_snapshots_snaplist_arg`: `props = props or []`, and an empty list asks
    // for every native property.
    let props = props.filter(|ps| !ps.is_empty());
    let wanted: Vec<(&str, Value)> = all
        .into_iter()
        .filter(|(k, _)| props.is_none_or(|ps| ps.iter().any(|x| x == k)))
        .collect();
    // `simple_handle`: asked for nothing native but `name`/`createtxg` (or only names no
    // snapshot has), a row has no `properties` at all, user properties included.
    let simple = wanted.iter().all(|(k, _)| *k == "createtxg");
    for (k, v) in wanted {
        p.insert(k.into(), v);
    }
    // User properties come along even when `extra.properties` picks native ones.
    for (k, v) in &s.user_properties {
        p.insert(k.clone(), prop(v.clone(), v.clone(), "LOCAL", json!(v)));
    }
    let mut m = Map::new();
    if !simple {
        m.insert("properties".into(), Value::Object(p));
    }
    if holds {
        m.insert("holds".into(), json!(s.holds));
    }
    let full = s.full_name();
    m.insert(
        "pool".into(),
        json!(s.dataset.split('/').next().unwrap_or("")),
    );
    m.insert("name".into(), json!(full));
    m.insert("type".into(), json!("SNAPSHOT"));
    m.insert("snapshot_name".into(), json!(s.name));
    m.insert("dataset".into(), json!(s.dataset));
    m.insert("id".into(), json!(full));
    m.insert("createtxg".into(), json!(s.createtxg.to_string()));
    Value::Object(m)
}

fn extra(options: Option<&Value>) -> (Option<Vec<String>>, bool) {
    let e = options.and_then(|o| o.get("extra"));
    let props = e
        .and_then(|e| e.get("properties"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        });
    let holds = e
        .and_then(|e| e.get("holds"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    (props, holds)
}

/// `zfs.snapshot.query` (and 25.10's `pool.snapshot.query`, which passes its arguments to
/// it), following the middleware's `plugins/zfs_/snapshot.py` (SCALE) and `plugins/zfs.py`
/// (CORE 13):
///
/// - Every row has `dataset` (the part before `@`), `pool`, `name`, `id`, `snapshot_name`,
///   `type` and `createtxg` on every SCALE version (py-libzfs `snapshots_serialized`), and
///   `dataset` on CORE's full rows (`ZFSSnapshot.asdict`).
/// - SCALE walks the filters with `filter_getattrs` before anything else (see
///   [`filter::getattrs`]: an `OR` whose branches are lists of conditions fails there).
/// - Fast path (SCALE): `select == ["name"]` or `count`, and filters on `name`, `pool` and
///   `dataset` only. A top-level `dataset`/`pool` condition with `=` or `in` is not filtered
///   but chooses where libzfs looks (`dataset`: that dataset alone; `pool`: recursively; the
///   last such condition wins); the rest go through `filter_list` with the options, `select`
///   included. No filters with `count` counts every snapshot.
/// - Fast path (CORE): `select == ["name"]` or `count`, and filters on `name` and `pool`
///   only: rows are `{name, pool}` from `zfs list -s name`, filtered with the options.
/// - Otherwise `filter_list` runs without `select` on SCALE, which is then applied as
///   top-level keys in the row's own order (dotted paths and aliases select nothing);
///   CORE's `filter_list` applies `select` itself, top-level keys in the order asked.
///
/// The fast path applies the options only `if filters or len(options) > 1`: options
/// arrive with the schema's defaults filled in, so it always does, except on 25.10's private
/// `zfs.snapshot.query` (`options_as_given`), which returns the raw name rows, `select` and
/// `count` ignored, when the options are that one key and no condition is left.
pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>, options_as_given: bool) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let filters = args.first();
    let options = args.get(1);
    filter::check(filters, options)?;
    let opt = |k: &str| options.and_then(|o| o.get(k));
    let names_only = opt("select") == Some(&json!(["name"]));
    let counting = opt("count").is_some_and(|c| !matches!(c, Value::Null | Value::Bool(false)));
    if ctx.p.is_core() {
        return query_core(ctx.state, filters, options, names_only || counting);
    }
    let attrs = filter::getattrs(filters)?;
    if (names_only || counting)
        && attrs
            .iter()
            .all(|a| matches!(a.as_str(), "name" | "pool" | "dataset"))
    {
        return query_names(ctx.state, filters, options, counting, options_as_given);
    }
    let (props, holds) = extra(options);
    let rows = candidates(ctx.state, filters)
        .into_iter()
        .map(|s| render(ctx.state, s, props.as_deref(), holds))
        .collect();
    let select = opt("select").and_then(Value::as_array).cloned();
    let mut rest = options.cloned().unwrap_or_else(|| json!({}));
    if let Some(o) = rest.as_object_mut() {
        o.remove("select");
    }
    let result = filter::query(rows, filters, Some(&rest))?;
    Ok(match select {
        Some(select) if !select.is_empty() => top_level_select(result, &select),
        _ => result,
    })
}

/// SCALE's `{k: v for k, v in item.items() if k in select}` over a list or one row.
fn top_level_select(result: Value, select: &[Value]) -> Value {
    let pick = |row: Value| match row {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| select.iter().any(|s| s.as_str() == Some(k)))
                .collect(),
        ),
        other => other,
    };
    match result {
        Value::Array(rows) => Value::Array(rows.into_iter().map(pick).collect()),
        Value::Object(_) => pick(result),
        other => other,
    }
}

/// SCALE's fast path for names and counts.
fn query_names(
    st: &SimState,
    filters: Option<&Value>,
    options: Option<&Value>,
    counting: bool,
    options_as_given: bool,
) -> MResult {
    let list: &[Value] = filters.and_then(Value::as_array).map_or(&[], Vec::as_slice);
    if list.is_empty() && counting {
        return Ok(json!(visible(st.snapshots.values()).count()));
    }
    let mut roots: Option<Vec<Value>> = None;
    let mut recursive = true;
    let mut rest = Vec::new();
    for f in list {
        let items = f.as_array().map_or(&[][..], Vec::as_slice);
        let pushed = match items {
            [field, op, value] if (field == "pool" || field == "dataset") && op == "=" => {
                Some(vec![value.clone()])
            }
            // `kwargs['datasets'] = f[2]`, then `datasets or [every pool]`: an empty list or
            // null means every pool; a string is iterated as its characters.
            [field, op, value] if (field == "pool" || field == "dataset") && op == "in" => {
                Some(match value {
                    Value::Array(a) => a.clone(),
                    Value::String(text) if !text.is_empty() => {
                        text.chars().map(|c| Value::from(c.to_string())).collect()
                    }
                    Value::Null | Value::String(_) => Vec::new(),
                    other => vec![other.clone()],
                })
            }
            _ => None,
        };
        match pushed {
            Some(r) => {
                if items[0] == "dataset" {
                    recursive = false;
                }
                roots = Some(r);
            }
            None => rest.push(f.clone()),
        }
    }
    let snaps: Vec<&Snapshot> = match roots {
        None => candidates(st, Some(&Value::Array(rest.clone()))),
        // py-libzfs `snapshots_serialized`: `datasets = datasets or [every pool]`.
        Some(roots) if roots.is_empty() => {
            let mut out = Vec::new();
            for pool in st.datasets.keys().filter(|d| !d.contains('/')) {
                out.extend(under(st, pool, recursive));
            }
            out
        }
        Some(roots) => {
            let mut out = Vec::new();
            for root in roots.iter().filter_map(Value::as_str) {
                out.extend(under(st, root, recursive));
            }
            out
        }
    };
    let rows: Vec<Value> = snaps.into_iter().map(name_row).collect();
    let option_count = options.and_then(Value::as_object).map_or(0, Map::len);
    if options_as_given && rest.is_empty() && option_count <= 1 {
        return Ok(Value::Array(rows));
    }
    filter::query(rows, Some(&Value::Array(rest)), options)
}

/// The snapshots libzfs finds from one dataset (or snapshot) name, in the simulator's order.
fn under<'a>(st: &'a SimState, root: &str, recursive: bool) -> Vec<&'a Snapshot> {
    if root.contains('@') {
        return st.snapshots.get(root).into_iter().collect();
    }
    let mut prefixes = vec![format!("{root}@")];
    if recursive {
        prefixes.push(format!("{root}/"));
    }
    let mut out: Vec<&Snapshot> = visible(by_prefixes(st, &prefixes).into_iter()).collect();
    sort_snapshots(&mut out);
    out
}

/// A row of `snapshots_serialized(['name'])`: no `properties` key when only `name` and
/// `createtxg` are asked for.
fn name_row(s: &Snapshot) -> Value {
    let full = s.full_name();
    json!({
        "pool": s.dataset.split('/').next().unwrap_or(""),
        "name": full,
        "type": "SNAPSHOT",
        "snapshot_name": s.name,
        "dataset": s.dataset,
        "id": full,
        "createtxg": s.createtxg.to_string(),
    })
}

/// CORE 13's `zfs.snapshot.query`.
fn query_core(
    st: &SimState,
    filters: Option<&Value>,
    options: Option<&Value>,
    names_or_count: bool,
) -> MResult {
    let dialect = filter::Dialect::Core;
    let has_filters = filters
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if names_or_count {
        let attrs = if has_filters {
            filter::getattrs(filters)?
        } else {
            Vec::new()
        };
        if attrs.iter().all(|a| a == "name" || a == "pool") {
            let order = options.and_then(|o| o.get("order_by"));
            let by_name =
                order.is_none_or(|o| o == &json!([]) || o == &json!(["name"]) || o.is_null());
            let mut snaps: Vec<&Snapshot> = visible(st.snapshots.values()).collect();
            // `zfs list` printing nothing returns `[]` before `filter_list`, even for
            // `count` or `get` (truenas/13.3-stable plugins/zfs.py `query`).
            if snaps.is_empty() {
                return Ok(json!([]));
            }
            if !by_name {
                sort_snapshots(&mut snaps);
            }
            let rows = snaps
                .into_iter()
                .map(|s| {
                    let full = s.full_name();
                    json!({"name": full, "pool": s.dataset.split('/').next().unwrap_or("")})
                })
                .collect();
            return filter::query_in(dialect, rows, filters, options);
        }
    }
    // A malformed `OR` branch raises only when a row reaches it: look at every row then.
    let snaps = if core_or_well_formed(filters) {
        candidates(st, filters)
    } else {
        let mut all: Vec<&Snapshot> = visible(st.snapshots.values()).collect();
        sort_snapshots(&mut all);
        all
    };
    let rows = snaps.into_iter().map(|s| render_core(st, s)).collect();
    filter::query_in(dialect, rows, filters, options)
}

/// py-libzfs `ZFSSnapshot.asdict` (truenas/13.3-stable): every property and the holds,
/// whatever `extra` asks (CORE's query has no `extra`), the mountpoint, no `createtxg`.
fn render_core(st: &SimState, s: &Snapshot) -> Value {
    let full = render(st, s, None, true);
    let mut m = Map::new();
    for key in [
        "id",
        "name",
        "pool",
        "type",
        "properties",
        "holds",
        "dataset",
        "snapshot_name",
    ] {
        m.insert(key.into(), full.get(key).cloned().unwrap_or(Value::Null));
    }
    m.insert("mountpoint".into(), Value::Null);
    Value::Object(m)
}

/// Whether every `OR` branch is one condition, as CORE's `filter_list` requires.
fn core_or_well_formed(filters: Option<&Value>) -> bool {
    fn ok(f: &Value) -> bool {
        match f.as_array() {
            Some(items) if items.len() == 2 && items[0] == "OR" => items[1]
                .as_array()
                .is_some_and(|b| b.iter().all(|x| x.as_array().is_some_and(|c| c.len() == 3))),
            _ => true,
        }
    }
    filters
        .and_then(Value::as_array)
        .is_none_or(|f| f.iter().all(ok))
}

fn visible<'a>(snaps: impl Iterator<Item = &'a Snapshot>) -> impl Iterator<Item = &'a Snapshot> {
    snaps.filter(|s| !super::dataset::is_internal(&s.dataset))
}

/// Snapshots in creation order, as `zfs list -t snapshot` sorts them per dataset.
fn sort_snapshots(snaps: &mut [&Snapshot]) {
    snaps.sort_by(|a, b| {
        (a.dataset.as_str(), a.createtxg, a.name.as_str()).cmp(&(
            b.dataset.as_str(),
            b.createtxg,
            b.name.as_str(),
        ))
    });
}

/// The snapshots a query may match, found by name range when a filter pins the dataset,
/// pool or name (snapshots are kept sorted by full name, so those are ranges); every
/// snapshot otherwise. The filters still decide which of them match.
fn candidates<'a>(st: &'a SimState, filters: Option<&Value>) -> Vec<&'a Snapshot> {
    let mut snaps: Vec<&Snapshot> = match filter::key_prefixes(filters, &narrow) {
        Some(prefixes) => visible(by_prefixes(st, &prefixes).into_iter()).collect(),
        None => visible(st.snapshots.values()).collect(),
    };
    sort_snapshots(&mut snaps);
    snaps
}

/// Every snapshot whose full name starts with one of `prefixes`, each once.
fn by_prefixes<'a>(st: &'a SimState, prefixes: &[String]) -> Vec<&'a Snapshot> {
    let mut prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    prefixes.sort_unstable();
    // A prefix that extends another adds nothing.
    prefixes.dedup_by(|longer, shorter| longer.starts_with(*shorter));
    let mut out = Vec::new();
    for p in prefixes {
        out.extend(
            st.snapshots
                .range::<str, _>((Bound::Included(p), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(p))
                .map(|(_, s)| s),
        );
    }
    out
}

/// The name prefixes one condition restricts snapshots to.
fn narrow(field: &str, op: &str, value: &Value) -> Option<Vec<String>> {
    let strings = |v: &Value| -> Option<Vec<String>> {
        Some(
            v.as_array()?
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
        )
    };
    let one = |v: &Value| v.as_str().map(|s| vec![s.to_string()]);
    let values = match op {
        "=" => one(value)?,
        "in" => strings(value)?,
        "^" if field != "pool" => one(value)?,
        _ => return None,
    };
    Some(match (field, op) {
        ("dataset", "^") | ("name" | "id", _) => values,
        ("dataset", _) => values.into_iter().map(|d| format!("{d}@")).collect(),
        ("pool", _) => values
            .into_iter()
            .flat_map(|p| [format!("{p}@"), format!("{p}/")])
            .collect(),
        _ => return None,
    })
}

pub fn get_instance(ctx: &mut Ctx<'_>, method: &str, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let Some(id) = args.first().and_then(Value::as_str) else {
        return Err(SimError::one("id", "Not a string"));
    };
    let (props, holds) = extra(args.get(1));
    match ctx.state.snapshots.get(id) {
        Some(s) if ctx.p.is_core() => Ok(render_core(ctx.state, s)),
        Some(s) => Ok(render(ctx.state, s, props.as_deref(), holds)),
        // service/crud_service.py `get_instance`: the query found nothing (libzfs skips a
        // name it cannot open), so `InstanceNotFound` names the service class.
        None => Err(SimError::not_found(
            if method.starts_with("pool.") {
                "PoolSnapshot"
            } else {
                "ZFSSnapshot"
            },
            id,
        )),
    }
}

fn common_fields(p: Personality) -> Vec<F> {
    let mut v = vec![
        F::new("dataset", str_()).req(),
        F::new("recursive", bool_()).def(json!(false)),
        F::new("exclude", list(str_())).def(json!([])),
        F::new("vmware_sync", bool_()).def(json!(false)),
        F::new("properties", Ty::Map(Box::new(Ty::Any))).def(json!({})),
    ];
    if p <= Personality::V2504 {
        v.push(F::new("suspend_vms", bool_()).def(json!(false)));
    }
    v
}

fn create(ctx: &mut Ctx<'_>, method: &str, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let pydantic =
        method.starts_with("pool.") && ctx.p.layer(Family::PoolSnapshot) == Layer::Pydantic;
    let data = if pydantic {
        create_union(args.first())?
    } else {
        let layer = ctx.p.layer(Family::ZfsSnapshot);
        let mut f = common_fields(ctx.p);
        f.push(F::new("name", str_()));
        f.push(F::new("naming_schema", str_()).check(Check::NamingSchema));
        let spec = Spec {
            layer,
            prefix: "snapshot_create",
            model: "",
            fields: &f,
            update: false,
        };
        validate_obj(&spec, args.first())?
    };
    // 25.10's `pool.snapshot.create` hands the validated data to `zfs.snapshot.create`, so
    // its own checks are the same on every version, under `snapshot_create.`
    // (plugins/zfs_/snapshot.py `create` / `do_create`).
    let dataset = data
        .get("dataset")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut errs = Vec::new();
    let name = match (
        data.get("name").and_then(Value::as_str),
        data.get("naming_schema").and_then(Value::as_str),
    ) {
        (Some(_), Some(_)) => {
            errs.push(VErr::new(
                "snapshot_create.naming_schema",
                "You can't specify name and naming schema at the same time",
            ));
            None
        }
        (Some(n), None) => Some(n.to_string()),
        (None, Some(schema)) => Some(super::schema::naming::expand(
            schema,
            ctx.state.now().with_timezone(&ctx.state.tz()),
        )),
        (None, None) => {
            errs.push(VErr::new(
                "snapshot_create.naming_schema",
                "You must specify either name or naming schema",
            ));
            None
        }
    };
    let recursive = data
        .get("recursive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let excl = data
        .get("exclude")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if excl {
        if !recursive {
            errs.push(VErr::new(
                "snapshot_create.exclude",
                "This option has no sense for non-recursive snapshots",
            ));
        }
        for k in ["vmware_sync", "properties"] {
            let set = match data.get(k) {
                Some(Value::Bool(b)) => *b,
                Some(Value::Object(o)) => !o.is_empty(),
                _ => false,
            };
            if set {
                errs.push(VErr::new(
                    format!("snapshot_create.{k}"),
                    "This option is not supported when excluding datasets",
                ));
            }
        }
    }
    // libzfs's snapshot name rule (an empty name is skipped, as `if name and ...` does).
    if let Some(n) = name.as_deref()
        && !n.is_empty()
        && !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.: ".contains(c))
    {
        errs.push(VErr::new("snapshot_create.name", "Invalid snapshot name"));
    }
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let name = name.unwrap_or_default();
    // zfs_/snapshot.py `create` (plugins/zfs.py on CORE): py-libzfs `get_dataset` raises
    // `Dataset <name> not found`; libzfs says `dataset already exists`, which SCALE alone
    // turns into EEXIST.
    if !ctx.state.datasets.contains_key(&dataset) {
        return Err(SimError::efault(format!(
            "Failed to snapshot {dataset}@{name}: Dataset {dataset} not found"
        )));
    }
    let full = format!("{dataset}@{name}");
    if ctx.state.snapshots.contains_key(&full) {
        return Err(SimError::call(
            if ctx.p.is_core() { "EFAULT" } else { "EEXIST" },
            format!("Failed to snapshot {full}: dataset already exists"),
        ));
    }
    let recursive = data
        .get("recursive")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let exclude: Vec<String> = data
        .get("exclude")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let user_props: std::collections::BTreeMap<String, String> = data
        .get("properties")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let now = ctx.state.now_secs();
    let txg = ctx.state.next_txg();
    let mut targets = vec![dataset.clone()];
    if recursive {
        let prefix = format!("{dataset}/");
        targets.extend(
            ctx.state
                .datasets
                .keys()
                .filter(|d| d.starts_with(&prefix))
                .filter(|d| {
                    !exclude
                        .iter()
                        .any(|e| *d == e || d.starts_with(&format!("{e}/")))
                })
                .cloned(),
        );
    }
    for ds in targets {
        let referenced = ctx.state.datasets.get(&ds).map(|d| d.used).unwrap_or(0);
        ctx.state.snapshots.insert(
            format!("{ds}@{name}"),
            Snapshot {
                dataset: ds,
                name: name.clone(),
                creation: now,
                createtxg: txg,
                used: 0,
                referenced,
                user_properties: user_props.clone(),
                holds: Default::default(),
            },
        );
    }
    let s = ctx
        .state
        .snapshots
        .get(&full)
        .ok_or_else(|| SimError::efault("snapshot vanished"))?;
    Ok(render(ctx.state, s, None, false))
}

/// 25.10's `data` is a union of a with-name and a with-schema model: when neither fits,
/// pydantic reports each member's errors under its name.
fn create_union(v: Option<&Value>) -> Result<Map<String, Value>, SimError> {
    let Some(v) = v else {
        return Err(SimError::one("data", "Field required"));
    };
    let mut all = Vec::new();
    for (member, key) in [
        ("PoolSnapshotCreateWithName", "name"),
        ("PoolSnapshotCreateWithSchema", "naming_schema"),
    ] {
        let mut f = common_fields(Personality::V2510);
        let field = F::new(key, str_()).req();
        f.push(if key == "naming_schema" {
            field.check(Check::NamingSchema)
        } else {
            field
        });
        let prefix = format!("data.{member}");
        let spec = Spec {
            layer: Layer::Pydantic,
            prefix: &prefix,
            model: member,
            fields: &f,
            update: false,
        };
        match validate_obj(&spec, Some(v)) {
            Ok(d) => return Ok(d),
            Err(SimError::Validation(errs)) => all.extend(errs),
            Err(e) => return Err(e),
        }
    }
    if !v.is_object() {
        return Err(SimError::one(
            "data",
            "Input should be a valid dictionary or instance of PoolSnapshotCreateWithName",
        ));
    }
    Err(SimError::Validation(all))
}

fn delete(ctx: &mut Ctx<'_>, method: &str, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let pydantic =
        method.starts_with("pool.") && ctx.p.layer(Family::PoolSnapshot) == Layer::Pydantic;
    let Some(id) = args.first().and_then(Value::as_str).map(String::from) else {
        return Err(SimError::one(
            "id",
            if pydantic {
                "Input should be a valid string"
            } else {
                "Not a string"
            },
        ));
    };
    let f = vec![
        F::new("defer", bool_()).def(json!(false)),
        F::new("recursive", bool_()).def(json!(false)),
    ];
    let spec = Spec {
        layer: if pydantic {
            Layer::Pydantic
        } else {
            ctx.p.layer(Family::ZfsSnapshot)
        },
        prefix: "options",
        model: "PoolSnapshotDeleteOptions",
        fields: &f,
        update: false,
    };
    let opts = match args.get(1) {
        Some(o) => validate_obj(&spec, Some(o))?,
        None => Map::new(),
    };
    // py-libzfs `get_snapshot` fails first: CORE passes its text on as a CallError, SCALE
    // as `InstanceNotFound`.
    let Some(snap) = ctx.state.snapshots.get(&id).cloned() else {
        let text = format!("Snapshot {id} not found");
        return Err(if ctx.p.is_core() {
            SimError::efault(text)
        } else {
            SimError::Validation(vec![VErr::all(text, "ENOENT")])
        });
    };
    ctx.state.snapshots.remove(&id);
    if opts
        .get("recursive")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        let prefix = format!("{}/", snap.dataset);
        ctx.state
            .snapshots
            .retain(|_, s| !(s.name == snap.name && s.dataset.starts_with(&prefix)));
    }
    Ok(Value::Bool(true))
}
