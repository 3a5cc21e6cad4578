//! `zfs.snapshot.*` (≤25.04, private on 25.10) and `pool.snapshot.*` (25.10): api doc §8.

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
        "query" => query(ctx, args),
        "get_instance" => get_instance(ctx, args),
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
    for (k, v) in all {
        if props.is_none_or(|ps| ps.iter().any(|x| x == k)) {
            p.insert(k.into(), v);
        }
    }
    // User properties come along even when `extra.properties` picks native ones.
    for (k, v) in &s.user_properties {
        p.insert(k.clone(), prop(v.clone(), v.clone(), "LOCAL", json!(v)));
    }
    let mut m = Map::new();
    m.insert("properties".into(), Value::Object(p));
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

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let (props, holds) = extra(args.get(1));
    // Snapshots in creation order, as `zfs list -t snapshot` sorts them per dataset.
    let mut snaps: Vec<&Snapshot> = ctx.state.snapshots.values().collect();
    snaps.sort_by(|a, b| {
        (a.dataset.as_str(), a.createtxg, a.name.as_str()).cmp(&(
            b.dataset.as_str(),
            b.createtxg,
            b.name.as_str(),
        ))
    });
    let rows = snaps
        .into_iter()
        .filter(|s| !super::dataset::is_internal(&s.dataset))
        .map(|s| render(ctx.state, s, props.as_deref(), holds))
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let Some(id) = args.first().and_then(Value::as_str) else {
        return Err(SimError::one("id", "Not a string"));
    };
    let (props, holds) = extra(args.get(1));
    match ctx.state.snapshots.get(id) {
        Some(s) => Ok(render(ctx.state, s, props.as_deref(), holds)),
        None => Err(SimError::Validation(vec![VErr::all(
            format!("{id} not found"),
            "ENOENT",
        )])),
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
        let d = validate_obj(&spec, args.first())?;
        let mut errs = Vec::new();
        match (d.contains_key("name"), d.contains_key("naming_schema")) {
            (true, true) => errs.push(VErr::new(
                "snapshot_create.naming_schema",
                "You can't specify name and naming schema at the same time",
            )),
            (false, false) => errs.push(VErr::new(
                "snapshot_create.naming_schema",
                "You must specify either name or naming schema",
            )),
            _ => {}
        }
        let recursive = d.get("recursive").and_then(Value::as_bool).unwrap_or(false);
        let excl = d
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
                let set = match d.get(k) {
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
        if !errs.is_empty() {
            return Err(SimError::Validation(errs));
        }
        d
    };
    let dataset = data
        .get("dataset")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = match data.get("name").and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => {
            let schema = data
                .get("naming_schema")
                .and_then(Value::as_str)
                .unwrap_or("");
            super::schema::naming::expand(schema, ctx.state.now().with_timezone(&ctx.state.tz()))
        }
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.: ".contains(c))
    {
        let attr = if pydantic {
            "data.name"
        } else {
            "snapshot_create.name"
        };
        return Err(SimError::one(attr, "Invalid snapshot name"));
    }
    if !ctx.state.datasets.contains_key(&dataset) {
        return Err(SimError::call(
            "ENOENT",
            format!("Failed to snapshot {dataset}@{name}: dataset does not exist"),
        ));
    }
    let full = format!("{dataset}@{name}");
    if ctx.state.snapshots.contains_key(&full) {
        return Err(SimError::call(
            "EEXIST",
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
    let Some(snap) = ctx.state.snapshots.get(&id).cloned() else {
        return Err(SimError::Validation(vec![VErr::all(
            "could not find any snapshots to destroy; check snapshot names.",
            "ENOENT",
        )]));
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
