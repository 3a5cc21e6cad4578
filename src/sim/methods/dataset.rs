//! `pool.dataset.query/get_instance/update` (api doc §9).

use serde_json::{Map, Value, json};

use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::render::date;
use crate::sim::state::{DatasetType, PropSource, PropValue, SimState};
use crate::sim::version::{Family, Layer, Personality};

/// Internal datasets `pool.dataset.query` never shows.
pub fn is_internal(name: &str) -> bool {
    let pool = name.split('/').next().unwrap_or("");
    pool == "boot-pool"
        || pool == "freenas-boot"
        || ["/.system", "/ix-applications", "/ix-apps", "/.ix-virt"]
            .iter()
            .any(|s| name.contains(s))
}

#[derive(Clone, Copy)]
enum Kind {
    /// Enum-like: parsed = raw, value = RAW.
    Upper,
    /// on/off: parsed bool.
    OnOff,
    /// xattr: parsed null.
    UpperNullParsed,
    Ratio,
    Text,
    /// quota-like: 0 means none (parsed/value null).
    Quota,
    Int,
    Size,
    /// Displayed like sizes but parsed as the raw string.
    RawText,
    /// key_format / encryption_algorithm: value null when unset.
    Crypto,
    Creation,
}

/// (name, default raw value, kind, inheritable, source when not set)
const PROPS: &[(&str, &str, Kind, bool, PropSource)] = &[
    (
        "deduplication",
        "off",
        Kind::Upper,
        true,
        PropSource::Default,
    ),
    ("aclmode", "discard", Kind::Upper, true, PropSource::Default),
    ("acltype", "posix", Kind::Upper, true, PropSource::Default),
    (
        "xattr",
        "sa",
        Kind::UpperNullParsed,
        true,
        PropSource::Default,
    ),
    ("atime", "off", Kind::OnOff, true, PropSource::Default),
    (
        "casesensitivity",
        "sensitive",
        Kind::Upper,
        false,
        PropSource::None,
    ),
    ("checksum", "on", Kind::OnOff, true, PropSource::Default),
    ("exec", "on", Kind::OnOff, true, PropSource::Default),
    ("sync", "standard", Kind::Upper, true, PropSource::Default),
    ("compression", "lz4", Kind::Upper, true, PropSource::Default),
    (
        "compressratio",
        "1.00",
        Kind::Ratio,
        false,
        PropSource::None,
    ),
    ("origin", "", Kind::Text, false, PropSource::None),
    ("quota", "0", Kind::Quota, false, PropSource::Default),
    ("refquota", "0", Kind::Quota, false, PropSource::Default),
    ("reservation", "0", Kind::Quota, false, PropSource::Default),
    (
        "refreservation",
        "0",
        Kind::Quota,
        false,
        PropSource::Default,
    ),
    ("copies", "1", Kind::Int, true, PropSource::Default),
    ("snapdir", "hidden", Kind::Upper, true, PropSource::Default),
    ("readonly", "off", Kind::OnOff, true, PropSource::Default),
    (
        "recordsize",
        "131072",
        Kind::Size,
        true,
        PropSource::Default,
    ),
    (
        "key_format",
        "none",
        Kind::Crypto,
        false,
        PropSource::Default,
    ),
    (
        "encryption_algorithm",
        "off",
        Kind::Crypto,
        false,
        PropSource::Default,
    ),
    ("used", "", Kind::Size, false, PropSource::None),
    ("usedbychildren", "", Kind::Size, false, PropSource::None),
    ("usedbydataset", "", Kind::Size, false, PropSource::None),
    (
        "usedbyrefreservation",
        "0",
        Kind::Size,
        false,
        PropSource::None,
    ),
    ("usedbysnapshots", "", Kind::Size, false, PropSource::None),
    (
        "available",
        "7696581394432",
        Kind::Size,
        false,
        PropSource::None,
    ),
    (
        "special_small_block_size",
        "0",
        Kind::RawText,
        true,
        PropSource::Default,
    ),
    (
        "pbkdf2iters",
        "0",
        Kind::RawText,
        false,
        PropSource::Default,
    ),
    ("creation", "", Kind::Creation, false, PropSource::None),
    ("snapdev", "hidden", Kind::Upper, true, PropSource::Default),
];

/// Sizes as 24.x shows them (ZFS `nicenum`: `1.21G`) or 25.10 (`1.21 GiB`).
fn human(p: Personality, n: u64) -> String {
    const UNITS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let mut i = 0;
    let mut v = n as f64;
    while v >= 1024.0 && i < 6 {
        v /= 1024.0;
        i += 1;
    }
    if p.goldeye() {
        if i == 0 {
            return format!("{n} bytes");
        }
        let s = format!("{v:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return format!("{s} {}iB", UNITS[i]);
    }
    if i == 0 {
        return format!("{n}B");
    }
    if n.is_multiple_of(1u64 << (10 * i)) {
        return format!("{}{}", n >> (10 * i), UNITS[i]);
    }
    for prec in [2usize, 1, 0] {
        let s = format!("{v:.prec$}{}", UNITS[i]);
        if s.len() <= 5 {
            return s;
        }
    }
    format!("{v:.0}{}", UNITS[i])
}

fn prop_obj(
    parsed: Value,
    raw: &str,
    value: Value,
    source: PropSource,
    info: Option<String>,
) -> Value {
    json!({"parsed": parsed, "rawvalue": raw, "value": value, "source": source, "source_info": info})
}

fn children_sizes(st: &SimState, name: &str) -> u64 {
    let prefix = format!("{name}/");
    st.datasets
        .iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .map(|(_, d)| d.used)
        .sum()
}

fn snapshots_size(st: &SimState, name: &str) -> u64 {
    st.snapshots_of_dataset(name).map(|s| s.used).sum()
}

/// One dataset entry; `children` filled recursively when asked.
fn entry(
    p: Personality,
    st: &SimState,
    name: &str,
    children: bool,
    only: Option<&[String]>,
) -> Value {
    let Some(ds) = st.datasets.get(name) else {
        return Value::Null;
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(name));
    m.insert(
        "type".into(),
        json!(match ds.kind {
            DatasetType::Filesystem => "FILESYSTEM",
            DatasetType::Volume => "VOLUME",
        }),
    );
    m.insert("name".into(), json!(name));
    m.insert("pool".into(), json!(name.split('/').next().unwrap_or(name)));
    m.insert("encrypted".into(), json!(ds.encrypted));
    m.insert("encryption_root".into(), json!(ds.encryption_root));
    m.insert("key_loaded".into(), json!(ds.encrypted && ds.key_loaded));
    m.insert("locked".into(), json!(ds.locked()));
    let kids: Vec<Value> = if children {
        let prefix = format!("{name}/");
        st.datasets
            .keys()
            .filter(|n| {
                n.starts_with(&prefix) && !n[prefix.len()..].contains('/') && !is_internal(n)
            })
            .map(|n| entry(p, st, n, true, only))
            .collect()
    } else {
        Vec::new()
    };
    m.insert("children".into(), Value::Array(kids));
    let mut up = Map::new();
    for (k, (v, src, info)) in st.effective_user_props(name) {
        up.insert(k, prop_obj(json!(v), &v, json!(v), src, info));
    }
    m.insert("user_properties".into(), Value::Object(up));
    let used_children = children_sizes(st, name);
    let used_snaps = snapshots_size(st, name);
    for (prop, default, kind, inherit, unset_source) in PROPS {
        if only.is_some_and(|o| !o.iter().any(|x| x == prop)) {
            continue;
        }
        if ds.kind == DatasetType::Volume && *prop == "recordsize" {
            let vs = ds.volsize.unwrap_or(0);
            m.insert(
                "volsize".into(),
                prop_obj(
                    json!(vs),
                    &vs.to_string(),
                    json!(human(p, vs)),
                    PropSource::Local,
                    None,
                ),
            );
            m.insert(
                "volblocksize".into(),
                prop_obj(
                    json!(16384),
                    "16384",
                    json!(human(p, 16384)),
                    PropSource::Default,
                    None,
                ),
            );
            continue;
        }
        let (raw, source, info) = match *prop {
            "used" => (
                (ds.used + used_children + used_snaps).to_string(),
                PropSource::None,
                None,
            ),
            "usedbychildren" => (used_children.to_string(), PropSource::None, None),
            "usedbydataset" => (ds.used.to_string(), PropSource::None, None),
            "usedbysnapshots" => (used_snaps.to_string(), PropSource::None, None),
            "creation" => (ds.creation.to_string(), PropSource::None, None),
            "key_format" if ds.encrypted => ("hex".to_string(), PropSource::Local, None),
            "encryption_algorithm" if ds.encrypted => {
                ("aes-256-gcm".to_string(), PropSource::None, None)
            }
            _ => {
                let found = if *inherit {
                    st.effective_prop(name, prop)
                } else {
                    ds.properties
                        .get(*prop)
                        .map(|v| (v.value.clone(), v.source, None))
                };
                found.unwrap_or_else(|| (default.to_string(), *unset_source, None))
            }
        };
        let obj = match kind {
            Kind::Upper => prop_obj(json!(raw), &raw, json!(raw.to_uppercase()), source, info),
            Kind::OnOff => prop_obj(
                json!(raw == "on"),
                &raw,
                json!(raw.to_uppercase()),
                source,
                info,
            ),
            Kind::UpperNullParsed => {
                prop_obj(Value::Null, &raw, json!(raw.to_uppercase()), source, info)
            }
            Kind::Ratio => prop_obj(json!(raw), &raw, json!(format!("{raw}x")), source, info),
            Kind::Text => prop_obj(json!(raw), &raw, json!(raw), source, info),
            Kind::Quota => match raw.parse::<u64>() {
                Ok(0) | Err(_) => prop_obj(Value::Null, &raw, Value::Null, source, info),
                Ok(n) => prop_obj(json!(n), &raw, json!(human(p, n)), source, info),
            },
            Kind::Int => prop_obj(
                json!(raw.parse::<u64>().unwrap_or(0)),
                &raw,
                json!(raw),
                source,
                info,
            ),
            Kind::Size => {
                let n = raw.parse::<u64>().unwrap_or(0);
                let shown = if *prop == "recordsize" {
                    human(Personality::V2404, n)
                } else {
                    human(p, n)
                };
                prop_obj(json!(n), &raw, json!(shown), source, info)
            }
            Kind::RawText => prop_obj(json!(raw), &raw, json!(raw), source, info),
            Kind::Crypto => {
                let shown = if ds.encrypted {
                    json!(raw.to_uppercase())
                } else {
                    Value::Null
                };
                prop_obj(json!(raw), &raw, shown, source, info)
            }
            Kind::Creation => {
                let t = ds.creation;
                let shown = chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
                    .map(|d| {
                        d.with_timezone(&st.tz())
                            .format("%a %b %d %H:%M %Y")
                            .to_string()
                    })
                    .unwrap_or_default();
                prop_obj(date(t), &raw, json!(shown), source, info)
            }
        };
        m.insert((*prop).into(), obj);
    }
    let mountpoint = match ds.kind {
        DatasetType::Volume => Value::Null,
        DatasetType::Filesystem => json!(format!("/mnt/{name}")),
    };
    m.insert("mountpoint".into(), mountpoint);
    Value::Object(m)
}

fn extra_opts(options: Option<&Value>) -> (bool, bool, Option<Vec<String>>) {
    let extra = options.and_then(|o| o.get("extra"));
    let flag = |k: &str, d: bool| {
        extra
            .and_then(|e| e.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(d)
    };
    let props = extra
        .and_then(|e| e.get("properties"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        });
    (flag("flat", true), flag("retrieve_children", true), props)
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let (flat, children, props) = extra_opts(args.get(1));
    let rows = ctx
        .state
        .datasets
        .keys()
        .filter(|n| !is_internal(n))
        .filter(|n| flat || !n.contains('/'))
        .map(|n| entry(ctx.p, ctx.state, n, children, props.as_deref()))
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = id_arg(ctx, args.first())?;
    let (_, children, props) = extra_opts(args.get(1));
    if !ctx.state.datasets.contains_key(&id) || is_internal(&id) {
        return Err(SimError::not_found("PoolDataset", &id));
    }
    Ok(entry(ctx.p, ctx.state, &id, children, props.as_deref()))
}

fn id_arg(ctx: &Ctx<'_>, v: Option<&Value>) -> Result<String, SimError> {
    let pyd = ctx.p.layer(Family::Plain) == Layer::Pydantic;
    match v {
        Some(Value::String(s)) => Ok(s.clone()),
        None => Err(SimError::one(
            "id",
            if pyd {
                "Field required"
            } else {
                "attribute required"
            },
        )),
        Some(_) => Err(SimError::one(
            "id",
            if pyd {
                "Input should be a valid string"
            } else {
                "Not a string"
            },
        )),
    }
}

/// `pool.dataset.update(id, data)`: `readonly`, `comments` and `user_properties_update`.
pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let pyd = ctx.p.layer(Family::Plain) == Layer::Pydantic;
    let prefix = if pyd { "data" } else { "pool_dataset_update" };
    let id = id_arg(ctx, args.first())?;
    if !ctx.state.datasets.contains_key(&id) || is_internal(&id) {
        return Err(SimError::not_found("PoolDataset", &id));
    }
    let empty = Map::new();
    let data = match args.get(1) {
        Some(Value::Object(m)) => m,
        None => &empty,
        Some(_) => {
            return Err(SimError::one(
                prefix,
                if pyd {
                    "Input should be a valid dictionary or instance of PoolDatasetUpdate"
                } else {
                    "Not a dictionary"
                },
            ));
        }
    };
    let mut errs = Vec::new();
    let mut sets: Vec<(String, Option<String>)> = Vec::new();
    let mut user: Vec<(String, Option<String>)> = Vec::new();
    for (k, v) in data {
        let at = format!("{prefix}.{k}");
        match k.as_str() {
            "readonly" | "atime" | "exec" | "compression" | "deduplication" | "snapdir"
            | "sync" => {
                let choices: &[&str] = match k.as_str() {
                    "compression" => {
                        &["ON", "OFF", "LZ4", "GZIP", "ZSTD", "ZLE", "LZJB", "INHERIT"]
                    }
                    "sync" => &["STANDARD", "ALWAYS", "DISABLED", "INHERIT"],
                    "snapdir" => &["VISIBLE", "HIDDEN", "DISABLED", "INHERIT"],
                    "deduplication" => &["ON", "VERIFY", "OFF", "INHERIT"],
                    _ => &["ON", "OFF", "INHERIT"],
                };
                match v.as_str() {
                    Some(s) if choices.contains(&s) => {
                        sets.push((k.clone(), (s != "INHERIT").then(|| s.to_lowercase())))
                    }
                    Some(s) if !pyd => errs.push(VErr::new(at, format!("Invalid choice: {s}"))),
                    _ => {
                        let quoted: Vec<String> =
                            choices.iter().map(|c| format!("'{c}'")).collect();
                        let (last, head) = quoted
                            .split_last()
                            .map(|(l, h)| (l.clone(), h.join(", ")))
                            .unwrap_or_default();
                        errs.push(VErr::new(
                            at,
                            if pyd {
                                format!("Input should be {head} or {last}")
                            } else {
                                "Not a string".into()
                            },
                        ));
                    }
                }
            }
            "comments" => match v.as_str() {
                Some(s) => user.push(("org.freenas:description".into(), Some(s.to_string()))),
                None => errs.push(VErr::new(
                    at,
                    if pyd {
                        "Input should be a valid string"
                    } else {
                        "Not a string"
                    },
                )),
            },
            "user_properties_update" => {
                let Some(items) = v.as_array() else {
                    errs.push(VErr::new(
                        at,
                        if pyd {
                            "Input should be a valid list"
                        } else {
                            "Not a list"
                        },
                    ));
                    continue;
                };
                for (i, it) in items.iter().enumerate() {
                    let iat = format!("{at}.{i}");
                    let key = it.get("key").and_then(Value::as_str);
                    let value = it.get("value").and_then(Value::as_str);
                    let remove = it.get("remove").and_then(Value::as_bool).unwrap_or(false);
                    match key {
                        None => errs.push(VErr::new(
                            format!("{iat}.key"),
                            if pyd {
                                "Field required"
                            } else {
                                "attribute required"
                            },
                        )),
                        Some(k) if !valid_user_prop(k) => errs.push(VErr::new(
                            format!("{iat}.key"),
                            if pyd {
                                "Value error, User property needs a colon (:) in its name"
                                    .to_string()
                            } else {
                                "User property needs a colon (:) in its name".into()
                            },
                        )),
                        Some(k) => {
                            if remove {
                                user.push((k.to_string(), None));
                            } else if let Some(val) = value {
                                if val.chars().count() > 1024 {
                                    errs.push(VErr::new(
                                        format!("{iat}.value"),
                                        if pyd {
                                            "String should have at most 1024 characters"
                                        } else {
                                            "The value is too long"
                                        },
                                    ));
                                } else {
                                    user.push((k.to_string(), Some(val.to_string())));
                                }
                            } else {
                                errs.push(VErr::new(
                                    format!("{iat}.remove"),
                                    "Must be set when value is empty",
                                ));
                            }
                        }
                    }
                }
            }
            _ => errs.push(VErr::new(
                at,
                if pyd {
                    "Extra inputs are not permitted"
                } else {
                    "Field was not expected"
                },
            )),
        }
    }
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    if let Some(ds) = ctx.state.datasets.get_mut(&id) {
        for (k, v) in sets {
            match v {
                Some(v) => {
                    ds.properties.insert(
                        k,
                        PropValue {
                            value: v,
                            source: PropSource::Local,
                        },
                    );
                }
                None => {
                    ds.properties.remove(&k);
                }
            }
        }
        for (k, v) in user {
            match v {
                Some(v) => {
                    ds.user_properties.insert(
                        k,
                        PropValue {
                            value: v,
                            source: PropSource::Local,
                        },
                    );
                }
                None => {
                    ds.user_properties.remove(&k);
                }
            }
        }
    }
    Ok(entry(ctx.p, ctx.state, &id, true, None))
}

/// ZFS user property names: `namespace:name`, lowercase letters, digits, `:_.-`.
fn valid_user_prop(k: &str) -> bool {
    k.contains(':')
        && !k.starts_with(':')
        && k.len() <= 256
        && k.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ":_.-".contains(c))
}
