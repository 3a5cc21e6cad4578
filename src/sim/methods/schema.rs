//! Argument validation in the three styles the middleware has used: CORE 13's `@accepts`
//! (first error only), 24.x's `@accepts` schema (input order, `attribute required`, value
//! checks only after a clean first pass) and pydantic models (model field order, `Field
//! required`, unknown keys last, validators as `Value error, ...`).

use std::cell::Cell;

use serde_json::{Map, Value};

use crate::sim::errors::{SimError, VErr};
use crate::sim::filter::py_repr;
use crate::sim::version::{Layer, Personality};

thread_local! {
    /// How many of the current call's errors came from the old layer's value pass
    /// (`validate`, after a clean `clean`): CORE raises those as `ValidationErrors`.
    static VALUE_ERRORS: Cell<usize> = const { Cell::new(0) };
    /// The release whose words the old schema layer uses for the call being answered
    /// (`validators.py` `Range` and `Cron.validate` were reworded in 24.10).
    static RELEASE: Cell<Personality> = const { Cell::new(Personality::V2510) };
}

/// Sets the release whose wording validation uses until the guard is dropped.
pub fn wording_of(p: Personality) -> WordingGuard {
    WordingGuard(RELEASE.with(|r| r.replace(p)))
}

/// Puts the previous release's wording back.
pub struct WordingGuard(Personality);

impl Drop for WordingGuard {
    fn drop(&mut self) {
        RELEASE.with(|r| r.set(self.0));
    }
}

/// The release the current call runs on (set by [`wording_of`]).
pub fn release() -> Personality {
    RELEASE.with(|r| r.get())
}

/// 24.04 and CORE's "greater or equal than"; 24.10 reworded it "greater than or equal to".
fn old_wording() -> bool {
    RELEASE.with(|r| r.get()) <= Personality::V2404
}

/// A field's type, with the constraints that produce distinct error texts.
#[derive(Debug, Clone)]
pub enum Ty {
    Bool,
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Str {
        non_empty: bool,
        /// pydantic `LongString`: no 1024-character limit (keys, certificates).
        long: bool,
    },
    Enum(&'static [&'static str]),
    List {
        item: Box<Ty>,
        unique: bool,
        min_items: usize,
    },
    Dict(Vec<F>),
    /// A map of string → the item type (`properties_override`).
    Map(Box<Ty>),
    Any,
}

/// Extra checks run after the type check (texts differ by layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    NamingSchema,
    /// A `schedule` object: cron syntax (+ time window when `begin_end`).
    Cron {
        begin_end: bool,
    },
    /// A `HH:MM` time.
    Time,
}

#[derive(Debug, Clone)]
pub struct F {
    pub name: &'static str,
    pub ty: Ty,
    pub nullable: bool,
    pub required: bool,
    pub default: Option<Value>,
    pub check: Check,
}

impl F {
    pub fn new(name: &'static str, ty: Ty) -> F {
        F {
            name,
            ty,
            nullable: false,
            required: false,
            default: None,
            check: Check::None,
        }
    }
    pub fn req(mut self) -> F {
        self.required = true;
        self
    }
    pub fn null(mut self) -> F {
        self.nullable = true;
        self
    }
    pub fn def(mut self, v: Value) -> F {
        self.default = Some(v);
        self
    }
    pub fn check(mut self, c: Check) -> F {
        self.check = c;
        self
    }
}

pub fn bool_() -> Ty {
    Ty::Bool
}
pub fn int() -> Ty {
    Ty::Int {
        min: None,
        max: None,
    }
}
pub fn int_range(min: Option<i64>, max: Option<i64>) -> Ty {
    Ty::Int { min, max }
}
pub fn str_() -> Ty {
    Ty::Str {
        non_empty: false,
        long: false,
    }
}
/// The middleware's `LongString` (api/base/types/string.py).
pub fn long_str() -> Ty {
    Ty::Str {
        non_empty: false,
        long: true,
    }
}
pub fn str_ne() -> Ty {
    Ty::Str {
        non_empty: true,
        long: false,
    }
}
pub fn list(item: Ty) -> Ty {
    Ty::List {
        item: Box::new(item),
        unique: false,
        min_items: 0,
    }
}
pub fn list_unique(item: Ty) -> Ty {
    Ty::List {
        item: Box::new(item),
        unique: true,
        min_items: 0,
    }
}
pub fn list_min1(item: Ty) -> Ty {
    Ty::List {
        item: Box::new(item),
        unique: false,
        min_items: 1,
    }
}

/// The cron schedule fields (`with_window` adds begin/end); `minute_default` differs
/// between task schedules (`00`) and retention `lifetimes` (`*`).
pub fn cron_fields(with_window: bool, minute_default: &str) -> Vec<F> {
    let mut v = vec![
        F::new("minute", str_()).def(Value::from(minute_default)),
        F::new("hour", str_()).def(Value::from("*")),
        F::new("dom", str_()).def(Value::from("*")),
        F::new("month", str_()).def(Value::from("*")),
        F::new("dow", str_()).def(Value::from("*")),
    ];
    if with_window {
        v.push(
            F::new("begin", str_())
                .def(Value::from("00:00"))
                .check(Check::Time),
        );
        v.push(
            F::new("end", str_())
                .def(Value::from("23:59"))
                .check(Check::Time),
        );
    }
    v
}

/// How one argument is validated.
pub struct Spec<'a> {
    pub layer: Layer,
    /// Attribute prefix: the old schema name (`periodic_snapshot_create`) or the pydantic
    /// argument name (`data`, `replication_create`).
    pub prefix: &'a str,
    /// Pydantic model class name for "valid dictionary or instance of X" errors.
    pub model: &'a str,
    pub fields: &'a [F],
    /// Update: nothing required, no defaults filled at the top level.
    pub update: bool,
}

/// Validates `value` as the object `spec` describes; returns it cleaned with defaults.
pub fn validate_obj(
    spec: &Spec<'_>,
    value: Option<&Value>,
) -> Result<Map<String, Value>, SimError> {
    let mut errs = Vec::new();
    let obj = match value {
        None => {
            if spec.layer == Layer::Pydantic {
                return Err(SimError::one(spec.prefix, "Field required"));
            }
            // Old schema: a missing dict argument is an empty dict.
            Map::new()
        }
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(match spec.layer {
                Layer::Pydantic => SimError::one(
                    spec.prefix,
                    format!(
                        "Input should be a valid dictionary or instance of {}",
                        spec.model
                    ),
                ),
                Layer::Old => SimError::one(spec.prefix, "Not a dictionary"),
                Layer::Core => SimError::CoreSchema {
                    attr: spec.prefix.into(),
                    msg: "Not a dictionary".into(),
                },
            });
        }
    };
    if spec.layer != Layer::Pydantic
        && let Some(e) = old_time_fatal(spec.fields, &obj)
    {
        return Err(e);
    }
    VALUE_ERRORS.with(|n| n.set(0));
    let out = match spec.layer {
        Layer::Pydantic => pyd_dict(spec.prefix, spec.fields, &obj, spec.update, &mut errs),
        Layer::Old | Layer::Core => {
            old_dict(spec.prefix, spec.fields, &obj, spec.update, &mut errs)
        }
    };
    finish(spec, errs).map(|_| out)
}

fn finish(spec: &Spec<'_>, errs: Vec<VErr>) -> Result<(), SimError> {
    if errs.is_empty() {
        return Ok(());
    }
    // CORE's `clean` raises its first `Error` bare (`[begin] null not allowed`: the
    // attribute's own name), while `validate` collects `ValidationErrors` with full paths
    // (truenas/13.3-stable schema.py `accepts`).
    if spec.layer == Layer::Core && VALUE_ERRORS.with(Cell::get) < errs.len() {
        let first = &errs[0];
        let attr = first.attr.clone().unwrap_or_default();
        let attr = attr.rsplit('.').next().unwrap_or(&attr).to_string();
        return Err(SimError::CoreSchema {
            attr,
            msg: first.msg.clone(),
        });
    }
    Err(SimError::Validation(errs))
}

/// Validates a scalar argument (an id) in the layer's style.
pub fn validate_id(layer: Layer, prefix: &str, v: Option<&Value>) -> Result<u64, SimError> {
    match v {
        None => match layer {
            Layer::Pydantic => Err(SimError::one(prefix, "Field required")),
            Layer::Old => Err(SimError::one(prefix, "attribute required")),
            Layer::Core => Err(SimError::CoreSchema {
                attr: prefix.into(),
                msg: "attribute required".into(),
            }),
        },
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64().unwrap_or(0)),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(0),
        Some(Value::String(s)) if layer != Layer::Pydantic && s.parse::<u64>().is_ok() => {
            Ok(s.parse().unwrap_or(0))
        }
        Some(_) => match layer {
            Layer::Pydantic => Err(SimError::one(prefix, "Input should be a valid integer")),
            Layer::Old => Err(SimError::one(prefix, "Not an integer")),
            Layer::Core => Err(SimError::CoreSchema {
                attr: prefix.into(),
                msg: "Not an integer".into(),
            }),
        },
    }
}

// ---------- pydantic ----------

fn pyd_enum_text(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => format!("Input should be {}", quoted[0]),
        n => format!(
            "Input should be {} or {}",
            quoted[..n - 1].join(", "),
            quoted[n - 1]
        ),
    }
}

fn pyd_dict(
    path: &str,
    fields: &[F],
    obj: &Map<String, Value>,
    update: bool,
    errs: &mut Vec<VErr>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let before = errs.len();
    for f in fields {
        let at = join(path, f.name);
        match obj.get(f.name) {
            None => {
                if update {
                    continue;
                }
                if f.required {
                    errs.push(VErr::new(at, "Field required"));
                } else if let Some(d) = &f.default {
                    out.insert(f.name.into(), d.clone());
                }
            }
            Some(v) => {
                if let Some(clean) = pyd_value(&at, f, v, errs) {
                    out.insert(f.name.into(), clean);
                }
            }
        }
    }
    for k in obj.keys() {
        if !fields.iter().any(|f| f.name == k) {
            errs.push(VErr::new(join(path, k), "Extra inputs are not permitted"));
        }
    }
    let _ = before;
    out
}

fn pyd_value(at: &str, f: &F, v: &Value, errs: &mut Vec<VErr>) -> Option<Value> {
    if v.is_null() && f.nullable {
        return Some(Value::Null);
    }
    let n = errs.len();
    let clean = pyd_type(at, &f.ty, v, errs)?;
    if errs.len() > n {
        return None;
    }
    // A list of naming schemas is checked item by item (`naming_schema.1`).
    if f.check == Check::NamingSchema
        && let Some(items) = clean.as_array()
    {
        let n = errs.len();
        for (i, it) in items.iter().enumerate() {
            if let Err(msg) = run_check(f.check, it, Layer::Pydantic) {
                errs.push(VErr::new(format!("{at}.{i}"), msg));
            }
        }
        return (errs.len() == n).then_some(clean);
    }
    if let Err(msg) = run_check(f.check, &clean, Layer::Pydantic) {
        errs.push(VErr::new(at, msg));
        return None;
    }
    Some(clean)
}

fn pyd_type(at: &str, ty: &Ty, v: &Value, errs: &mut Vec<VErr>) -> Option<Value> {
    match ty {
        Ty::Any => Some(v.clone()),
        Ty::Bool => {
            if v.is_boolean() {
                Some(v.clone())
            } else {
                errs.push(VErr::new(at, "Input should be a valid boolean"));
                None
            }
        }
        Ty::Int { min, max } => {
            let Some(i) = v.as_i64().filter(|_| v.is_i64() || v.is_u64()) else {
                errs.push(VErr::new(at, "Input should be a valid integer"));
                return None;
            };
            if let Some(m) = min
                && i < *m
            {
                errs.push(VErr::new(
                    at,
                    format!("Input should be greater than or equal to {m}"),
                ));
                return None;
            }
            if let Some(m) = max
                && i > *m
            {
                errs.push(VErr::new(
                    at,
                    format!("Input should be less than or equal to {m}"),
                ));
                return None;
            }
            Some(v.clone())
        }
        Ty::Str { non_empty, long } => {
            let Some(s) = v.as_str() else {
                errs.push(VErr::new(at, "Input should be a valid string"));
                return None;
            };
            if *non_empty && s.is_empty() {
                errs.push(VErr::new(at, "String should have at least 1 character"));
                return None;
            }
            if !*long && s.chars().count() > 1024 {
                errs.push(VErr::new(at, "String should have at most 1024 characters"));
                return None;
            }
            Some(v.clone())
        }
        Ty::Enum(choices) => match v.as_str() {
            Some(s) if choices.contains(&s) => Some(v.clone()),
            _ => {
                errs.push(VErr::new(at, pyd_enum_text(choices)));
                None
            }
        },
        Ty::List {
            item,
            unique,
            min_items,
        } => {
            let Some(items) = v.as_array() else {
                errs.push(VErr::new(at, "Input should be a valid list"));
                return None;
            };
            let n = errs.len();
            let mut out = Vec::new();
            for (i, it) in items.iter().enumerate() {
                let f = F::new("", (**item).clone());
                if let Some(c) = pyd_type(&format!("{at}.{i}"), &f.ty, it, errs) {
                    out.push(c);
                }
            }
            if errs.len() > n {
                return None;
            }
            if out.len() < *min_items {
                errs.push(VErr::new(
                    at,
                    format!(
                        "List should have at least {min_items} item after validation, not {}",
                        out.len()
                    ),
                ));
                return None;
            }
            if *unique && has_dupes(&out) {
                errs.push(VErr::new(at, "List must be unique"));
                return None;
            }
            Some(Value::Array(out))
        }
        Ty::Dict(fields) => {
            let Some(m) = v.as_object() else {
                errs.push(VErr::new(at, "Input should be a valid dictionary"));
                return None;
            };
            let n = errs.len();
            let out = pyd_dict(at, fields, m, false, errs);
            if errs.len() > n {
                return None;
            }
            Some(Value::Object(out))
        }
        Ty::Map(item) => {
            let Some(m) = v.as_object() else {
                errs.push(VErr::new(at, "Input should be a valid dictionary"));
                return None;
            };
            let n = errs.len();
            let mut out = Map::new();
            for (k, it) in m {
                if let Some(c) = pyd_type(&format!("{at}.{k}"), item, it, errs) {
                    out.insert(k.clone(), c);
                }
            }
            if errs.len() > n {
                return None;
            }
            Some(Value::Object(out))
        }
    }
}

fn has_dupes(items: &[Value]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[..i].iter().any(|b| b == a))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

// ---------- old @accepts schema ----------

/// The old layer's `Time.clean` (schema/string_schema.py; CORE's schema.py alike) raises a plain `ValueError` that
/// `Dict.clean` does not catch: a bad `HH:MM` anywhere in the arguments fails the whole call
/// with a traceback instead of a validation error. Keys are cleaned in input order.
fn old_time_fatal(fields: &[F], obj: &Map<String, Value>) -> Option<SimError> {
    for (k, v) in obj {
        let Some(f) = fields.iter().find(|f| f.name == k) else {
            continue;
        };
        match (&f.ty, v) {
            (Ty::Dict(sub), Value::Object(m)) => {
                if let Some(e) = old_time_fatal(sub, m) {
                    return Some(e);
                }
            }
            _ if f.check == Check::Time => {
                // `Str.clean` turns an integer into its text first.
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                    _ => continue,
                };
                if let Err(msg) = parse_hhmm(&text) {
                    return Some(SimError::Exception {
                        class: "ValueError",
                        text: msg,
                    });
                }
            }
            _ => {}
        }
    }
    None
}

fn old_dict(
    path: &str,
    fields: &[F],
    obj: &Map<String, Value>,
    update: bool,
    errs: &mut Vec<VErr>,
) -> Map<String, Value> {
    let mut out = Map::new();
    // First pass: the keys that were sent, in input order.
    for (k, v) in obj {
        let at = join(path, k);
        let Some(f) = fields.iter().find(|f| f.name == k) else {
            errs.push(VErr::new(at, "Field was not expected"));
            continue;
        };
        if v.is_null() {
            if f.nullable {
                out.insert(k.clone(), Value::Null);
            } else {
                errs.push(VErr::new(at, "null not allowed"));
            }
            continue;
        }
        if let Some(c) = old_type(&at, &f.ty, v, errs) {
            out.insert(k.clone(), c);
        }
    }
    // Then the missing ones.
    for f in fields {
        if obj.contains_key(f.name) || update {
            continue;
        }
        if f.required {
            errs.push(VErr::new(join(path, f.name), "attribute required"));
        } else if let Some(d) = &f.default {
            // The default goes through `clean` too: a non-empty list whose default is `[]`
            // fails there, in attribute order (schema/list_schema.py `List.clean`).
            if let Err(e) = old_list_size(&join(path, f.name), &f.ty, d) {
                errs.push(e);
                continue;
            }
            out.insert(f.name.into(), d.clone());
        }
    }
    // Value checks only after a clean first pass.
    if errs.is_empty() {
        for f in fields {
            let Some(v) = out.get(f.name) else { continue };
            if v.is_null() {
                continue;
            }
            let at = join(path, f.name);
            if let Check::Cron { begin_end } = f.check {
                errs.extend(old_cron(&at, v, begin_end));
                continue;
            }
            if let Err(e) = old_values(&at, f, v) {
                errs.push(e);
            }
        }
        // `errs` was empty: everything in it now is the value pass's.
        VALUE_ERRORS.with(|n| n.set(n.get() + errs.len()));
    }
    out
}

fn old_type(at: &str, ty: &Ty, v: &Value, errs: &mut Vec<VErr>) -> Option<Value> {
    match ty {
        Ty::Any => Some(v.clone()),
        Ty::Bool => {
            if v.is_boolean() {
                Some(v.clone())
            } else {
                errs.push(VErr::new(at, "Not a boolean"));
                None
            }
        }
        Ty::Int { .. } => {
            if v.is_i64() || v.is_u64() {
                return Some(v.clone());
            }
            if let Some(s) = v.as_str()
                && !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && let Ok(n) = s.parse::<u64>()
            {
                return Some(Value::from(n));
            }
            errs.push(VErr::new(at, "Not an integer"));
            None
        }
        Ty::Str { non_empty, .. } => {
            // Str.clean turns an int into its text (cron fields sent as numbers).
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                _ => {
                    errs.push(VErr::new(at, "Not a string"));
                    return None;
                }
            };
            if *non_empty && s.is_empty() {
                errs.push(VErr::new(at, "Empty value not allowed"));
                return None;
            }
            Some(Value::String(s))
        }
        Ty::Enum(choices) => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    errs.push(VErr::new(at, "Not a string"));
                    return None;
                }
            };
            if choices.contains(&s.as_str()) {
                Some(Value::String(s))
            } else {
                errs.push(VErr::new(at, format!("Invalid choice: {s}")));
                None
            }
        }
        Ty::List { item, .. } => {
            let Some(items) = v.as_array() else {
                errs.push(VErr::new(at, "Not a list"));
                return None;
            };
            if let Err(e) = old_list_size(at, ty, v) {
                errs.push(e);
                return None;
            }
            let mut out = Vec::new();
            // Each item is cleaned on its own, under the item schema's name; `List.clean`
            // reports the first failing item with `str()` of what it raised: `[name] msg` for
            // a scalar's `Error`, every line of a dict's `ValidationErrors`.
            let name = old_item_name(at);
            for (i, it) in items.iter().enumerate() {
                let mut sub = Vec::new();
                let value_errors = VALUE_ERRORS.with(Cell::get);
                let clean = old_type(name, item, it, &mut sub);
                if sub.is_empty()
                    && let Some(c) = clean
                {
                    out.push(c);
                    continue;
                }
                // A dict item's own value checks are `List.validate`'s: `<list>.<i>.<name>...`.
                if VALUE_ERRORS.with(Cell::get) - value_errors == sub.len() {
                    for e in sub {
                        let attr = e.attr.unwrap_or_default();
                        errs.push(VErr::new(format!("{at}.{i}.{attr}"), e.msg));
                    }
                    return None;
                }
                let found: String = match **item {
                    Ty::Dict(_) => sub.iter().map(|e| format!("{}\n", e.line())).collect(),
                    _ => sub
                        .first()
                        .map(|e| format!("[{name}] {}", e.msg))
                        .unwrap_or_default(),
                };
                errs.push(VErr::new(
                    at,
                    format!("Item#{i} is not valid per list types: {found}"),
                ));
                return None;
            }
            Some(Value::Array(out))
        }
        Ty::Dict(fields) => {
            let Some(m) = v.as_object() else {
                errs.push(VErr::new(at, "Not a dictionary"));
                return None;
            };
            let n = errs.len();
            let out = old_dict(at, fields, m, false, errs);
            if errs.len() > n {
                return None;
            }
            Some(Value::Object(out))
        }
        Ty::Map(item) => {
            let Some(m) = v.as_object() else {
                errs.push(VErr::new(at, "Not a dictionary"));
                return None;
            };
            let mut out = Map::new();
            for (k, it) in m {
                if let Some(c) = old_type(&format!("{at}.{k}"), item, it, errs) {
                    out.insert(k.clone(), c);
                }
            }
            Some(Value::Object(out))
        }
    }
}

fn old_values(at: &str, f: &F, v: &Value) -> Result<(), VErr> {
    match &f.ty {
        Ty::Int { min, max } => {
            if let Some(i) = v.as_i64()
                && (min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m))
            {
                return Err(VErr::new(at, range_text(*min, *max)));
            }
        }
        Ty::List {
            item,
            unique,
            min_items,
        } => {
            let items = v.as_array().cloned().unwrap_or_default();
            if items.len() < *min_items {
                return Err(VErr::new(at, "Empty value not allowed"));
            }
            if *unique {
                for (i, a) in items.iter().enumerate() {
                    if items[..i].contains(a) {
                        return Err(VErr::new(
                            at,
                            format!("Duplicate values are not allowed: {}", py_repr(a)),
                        ));
                    }
                }
            }
            let _ = item;
        }
        _ => {}
    }
    if f.check == Check::NamingSchema
        && let Some(items) = v.as_array()
    {
        // A list of schemas: each item named after the list (`naming_schema.0.naming_schema`).
        for (i, it) in items.iter().enumerate() {
            if let Err(m) = run_check(Check::NamingSchema, it, Layer::Old) {
                return Err(VErr::new(format!("{at}.{i}.{}", f.name), m));
            }
        }
        return Ok(());
    }
    run_check(f.check, v, Layer::Old).map_err(|m| VErr::new(at, m))
}

/// The name of a list's item schema in the old layer (plugins/replication.py and
/// plugins/snapshot.py `@accepts`), which its item errors carry.
fn old_item_name(list_at: &str) -> &'static str {
    match list_at.rsplit('.').next().unwrap_or(list_at) {
        "lifetimes" => "lifetime",
        "naming_schema" | "also_include_naming_schema" => "naming_schema",
        "periodic_snapshot_tasks" => "periodic_snapshot_task",
        "properties_exclude" => "property",
        "exclude" if list_at.starts_with("periodic_snapshot") => "item",
        _ => "dataset",
    }
}

/// `List(empty=False)`: an empty list fails while being cleaned.
fn old_list_size(at: &str, ty: &Ty, v: &Value) -> Result<(), VErr> {
    match (ty, v.as_array()) {
        (Ty::List { min_items, .. }, Some(items)) if items.len() < *min_items => {
            Err(VErr::new(at, "Empty value not allowed"))
        }
        _ => Ok(()),
    }
}

/// The old layer's `Cron.validate` (schema/dict_schema.py): the cron syntax, then the
/// window's order, then whether the schedule fires inside it — each adds its message, so a
/// window that ends before it begins reports both of the last two.
fn old_cron(at: &str, v: &Value, begin_end: bool) -> Vec<VErr> {
    let Some(m) = v.as_object() else {
        return Vec::new();
    };
    let get = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("*").to_string();
    let mut errs = Vec::new();
    let fields = [
        get("minute"),
        get("hour"),
        get("dom"),
        get("month"),
        get("dow"),
    ];
    let syntax_ok = match cron_check(&fields) {
        Ok(()) => true,
        Err(e) => {
            errs.push(VErr::new(
                at,
                format!("Please ensure fields match cron syntax - {e}"),
            ));
            false
        }
    };
    if !begin_end {
        return errs;
    }
    let begin = parse_hhmm(&get_or(m, "begin", "00:00")).unwrap_or(0);
    let end = parse_hhmm(&get_or(m, "end", "23:59")).unwrap_or(1439);
    if begin > end {
        errs.push(VErr::new(
            at,
            if old_wording() {
                "Begin time should be less or equal than end time"
            } else {
                "Begin time should be less than or equal to end time"
            },
        ));
    }
    if syntax_ok && !schedule_hits_window(&fields[0], &fields[1], begin, end) {
        errs.push(VErr::new(
            at,
            "Specified schedule does not match specified time interval",
        ));
    }
    errs
}

/// `validators.py` `Range`: one text for both bounds, worded by release.
fn range_text(min: Option<i64>, max: Option<i64>) -> String {
    let old = old_wording();
    match (min, max) {
        (Some(a), Some(b)) => format!("Should be between {a} and {b}"),
        (None, Some(b)) if old => format!("Should be less or equal than {b}"),
        (None, Some(b)) => format!("Should be less than or equal to {b}"),
        (Some(a), None) if old => format!("Should be greater or equal than {a}"),
        (Some(a), None) => format!("Should be greater than or equal to {a}"),
        (None, None) => "Should be ".into(),
    }
}

// ---------- value checks shared by both layers ----------

/// Runs a check; the error text is already in the layer's wording.
pub fn run_check(check: Check, v: &Value, layer: Layer) -> Result<(), String> {
    let value_error = |m: String| match layer {
        Layer::Pydantic => format!("Value error, {m}"),
        _ => m,
    };
    match check {
        Check::None => Ok(()),
        Check::NamingSchema => match v {
            Value::String(s) => naming::validate(s).map_err(value_error),
            Value::Array(items) => {
                for it in items {
                    if let Some(s) = it.as_str() {
                        naming::validate(s).map_err(value_error)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        },
        Check::Time => match v.as_str() {
            Some(s) => parse_hhmm(s).map(|_| ()).map_err(value_error),
            None => Ok(()),
        },
        Check::Cron { begin_end } => {
            let Some(m) = v.as_object() else {
                return Ok(());
            };
            let get = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("*").to_string();
            cron_check(&[
                get("minute"),
                get("hour"),
                get("dom"),
                get("month"),
                get("dow"),
            ])
            .map_err(|e| value_error(format!("Please ensure fields match cron syntax - {e}")))?;
            if begin_end {
                let begin = parse_hhmm(&get_or(m, "begin", "00:00")).unwrap_or(0);
                let end = parse_hhmm(&get_or(m, "end", "23:59")).unwrap_or(1439);
                let assertion = |t: &str| match layer {
                    Layer::Pydantic => format!("Assertion failed, {t}"),
                    _ => t.to_string(),
                };
                if begin > end {
                    return Err(match layer {
                        Layer::Pydantic => {
                            assertion("Begin time should be less than or equal to end time")
                        }
                        _ => "Begin time should be less or equal than end time".into(),
                    });
                }
                if !schedule_hits_window(&get("minute"), &get("hour"), begin, end) {
                    return Err(assertion(
                        "Specified schedule does not match specified time interval",
                    ));
                }
            }
            Ok(())
        }
    }
}

fn get_or(m: &Map<String, Value>, k: &str, d: &str) -> String {
    m.get(k).and_then(Value::as_str).unwrap_or(d).to_string()
}

/// `HH:MM` → minutes since midnight, as the middleware's `Time.clean` / `time_validator`
/// parse it: `value.split(':')` into two parts, Python's `int()` on each, then
/// `datetime.time(hours, minutes)`; errors are Python's texts.
pub fn parse_hhmm(s: &str) -> Result<u32, String> {
    let Some((h, m)) = s.split_once(':').filter(|(_, m)| !m.contains(':')) else {
        return Err("Time should be in 24 hour format like \"18:00\"".to_string());
    };
    let int = |part: &str| {
        py_int(part).ok_or_else(|| {
            format!(
                "invalid literal for int() with base 10: {}",
                py_repr(&Value::from(part))
            )
        })
    };
    let (h, m) = (int(h)?, int(m)?);
    if !(0..=23).contains(&h) {
        return Err("hour must be in 0..23".into());
    }
    if !(0..=59).contains(&m) {
        return Err("minute must be in 0..59".into());
    }
    Ok((h * 60 + m) as u32)
}

/// Python's `int(text)` for base 10 (surrounding whitespace, a sign, `_` between digits).
fn py_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = digits.as_bytes();
    let well_formed = !b.is_empty()
        && b.iter().all(|c| c.is_ascii_digit() || *c == b'_')
        && b.first().is_some_and(u8::is_ascii_digit)
        && b.last().is_some_and(u8::is_ascii_digit)
        && !digits.contains("__");
    if !well_formed {
        return None;
    }
    // Too many digits for i64 is still an integer to Python: out of any range here.
    let n = digits.replace('_', "").parse::<i64>().unwrap_or(i64::MAX);
    Some(if neg { -n } else { n })
}

const CRON_RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Expands one cron field to its values (croniter's syntax: `*`, `a`, `a-b`, `*/n`,
/// `a-b/n`, lists, month/day names).
pub fn cron_values(field: &str, idx: usize) -> Result<Vec<u32>, CronErr> {
    let (lo, hi) = CRON_RANGES[idx];
    let field = if field.is_empty() { "*" } else { field };
    let mut out = Vec::new();
    for part in field.split(',') {
        let (base, step) = match part.split_once('/') {
            Some((b, s)) => {
                let step: u32 = s.parse().map_err(|_| CronErr::Bad)?;
                if step == 0 {
                    return Err(CronErr::Bad);
                }
                if b != "*" && !b.contains('-') {
                    return Err(CronErr::StepBase);
                }
                (b, step)
            }
            None => (part, 1),
        };
        let (a, b) = if base == "*" {
            (lo, hi.min(if idx == 4 { 6 } else { hi }))
        } else if let Some((x, y)) = base.split_once('-') {
            (cron_atom(x, idx)?, cron_atom(y, idx)?)
        } else {
            let v = cron_atom(base, idx)?;
            (v, v)
        };
        if a < lo || b > hi || a > b {
            return Err(CronErr::Range);
        }
        let mut v = a;
        while v <= b {
            out.push(if idx == 4 && v == 7 { 0 } else { v });
            v += step;
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronErr {
    Bad,
    Range,
    StepBase,
}

fn cron_atom(s: &str, idx: usize) -> Result<u32, CronErr> {
    if let Ok(n) = s.parse::<u32>() {
        return Ok(n);
    }
    let l = s.to_ascii_lowercase();
    let names: &[&str] = match idx {
        3 => &MONTHS,
        4 => &DAYS,
        _ => &[],
    };
    names
        .iter()
        .position(|n| *n == l)
        .map(|i| if idx == 3 { i as u32 + 1 } else { i as u32 })
        .ok_or(CronErr::Bad)
}

/// croniter's complaint about the five fields, or `Ok`.
fn cron_check(fields: &[String; 5]) -> Result<(), String> {
    let expr = fields.join(" ");
    for (i, f) in fields.iter().enumerate() {
        match cron_values(f, i) {
            Ok(_) => {}
            Err(CronErr::StepBase) => return Err("Only range or `*` are allowed before `/`".into()),
            Err(CronErr::Range) => {
                return Err(format!("[{expr} ] is not acceptable, out of range"));
            }
            Err(CronErr::Bad) => return Err(format!("[{expr}] is not acceptable")),
        }
    }
    Ok(())
}

fn schedule_hits_window(minute: &str, hour: &str, begin: u32, end: u32) -> bool {
    let (Ok(ms), Ok(hs)) = (cron_values(minute, 0), cron_values(hour, 1)) else {
        return true;
    };
    hs.iter()
        .any(|h| ms.iter().any(|m| (begin..=end).contains(&(h * 60 + m))))
}

/// Snapshot naming schemas, behind a small wrapper so the checks can move to
/// `crate::model::naming` (zettarepl's rules) without touching the callers.
pub mod naming {
    use chrono::{DateTime, NaiveDateTime};

    /// zettarepl's `validate_snapshot_naming_schema`, first failing rule wins.
    pub fn validate(schema: &str) -> Result<(), String> {
        if schema.contains("%%") {
            return Err("% is not an allowed character in ZFS snapshot name".into());
        }
        let mut bad: Vec<char> = Vec::new();
        for c in schema.chars() {
            let ok = c.is_ascii_alphanumeric() || " %_.:-".contains(c);
            if !ok && !bad.contains(&c) {
                bad.push(c);
            }
        }
        match bad.len() {
            0 => {}
            1 => {
                return Err(format!(
                    "{} is not an allowed character in ZFS snapshot name",
                    bad[0]
                ));
            }
            _ => {
                let s: String = bad.into_iter().collect();
                return Err(format!(
                    "{s} are not allowed characters in ZFS snapshot name"
                ));
            }
        }
        let directives = directives(schema)?;
        if directives.contains(&'s') {
            if directives.len() > 1 {
                return Err("No other placeholder can be used with %s in naming schema".into());
            }
        } else {
            for d in ['Y', 'm', 'd', 'H', 'M'] {
                if !directives.contains(&d) {
                    return Err(format!("%{d} must be present in snapshot naming schema"));
                }
            }
        }
        if directives.contains(&'z') && schema.contains("--") {
            return Err("%z and `--` can't be present in snapshot naming schema at the same time. ZFS snapshot names can't contain `+` so we use `--` instead.".into());
        }
        // Python's strptime compiles one named group per directive.
        let mut seen: Vec<(char, usize)> = Vec::new();
        for (i, d) in directives.iter().enumerate() {
            if let Some((_, g)) = seen.iter().find(|(c, _)| c == d) {
                return Err(format!(
                    "Invalid naming schema: redefinition of group name '{d}' as group {}; was group {g}",
                    i + 1
                ));
            }
            seen.push((*d, i + 1));
        }
        // Round trip: 12-hour clock without AM/PM loses the afternoon.
        if directives.contains(&'I') && !directives.contains(&'p') {
            let formatted = expand_naive(schema, "2000-02-29T19:40:07");
            return Err(format!(
                "Failed to parse datetime using provided format: datetime=datetime.datetime(2000, 2, 29, 19, 40, tzinfo=<StaticTzInfo 'Etc/GMT-10'>), formatted={formatted}, parsed=datetime.datetime(2000, 2, 29, 7, 40)"
            ));
        }
        Ok(())
    }

    const KNOWN: &str = "aAwdbBmyYHIpMSfzZjUWcxXGuV";

    /// The directive letters in order; an unknown one is Python's "bad directive".
    fn directives(schema: &str) -> Result<Vec<char>, String> {
        let mut out = Vec::new();
        let mut chars = schema.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some(d) if KNOWN.contains(d) || d == 's' => out.push(d),
                    Some(d) => {
                        return Err(format!("'{d}' is a bad directive in format '{schema}'"));
                    }
                    None => return Err(format!("stray % in format '{schema}'")),
                }
            }
        }
        Ok(out)
    }

    fn expand_naive(schema: &str, at: &str) -> String {
        let n = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S").unwrap_or_default();
        n.format(schema).to_string()
    }

    /// The snapshot name for `schema` at `when`, `+` written as `--` (same signature as
    /// `crate::model::naming::expand`).
    pub fn expand(schema: &str, when: DateTime<chrono_tz::Tz>) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if write!(out, "{}", when.format(schema)).is_err() {
            return schema.to_string();
        }
        out.replace('+', "--")
    }

    /// The wall-clock time a snapshot name made from `schema` encodes, if it was made from
    /// it (same signature as `crate::model::naming::parse`).
    pub fn parse(schema: &str, name: &str) -> Option<NaiveDateTime> {
        if schema.contains("%s") {
            let (pre, post) = schema.split_once("%s").unwrap_or((schema, ""));
            let digits = name.strip_prefix(pre)?.strip_suffix(post)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            return DateTime::from_timestamp(digits.parse().ok()?, 0).map(|d| d.naive_utc());
        }
        let fixed = schema.replace("--", "+");
        let name = name.replace("--", "+");
        if fixed.contains("%z") {
            return DateTime::parse_from_str(&name, &fixed)
                .ok()
                .map(|d| d.naive_local());
        }
        NaiveDateTime::parse_from_str(&name, &fixed).ok()
    }

    /// Whether a snapshot name was made from `schema`.
    pub fn matches(schema: &str, name: &str) -> bool {
        parse(schema, name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naming_rules_in_zettarepl_order() {
        assert_eq!(naming::validate("auto-%Y-%m-%d_%H-%M"), Ok(()));
        assert_eq!(
            naming::validate("foo").unwrap_err(),
            "%Y must be present in snapshot naming schema"
        );
        assert_eq!(
            naming::validate("a/b#%Y-%m-%d_%H-%M").unwrap_err(),
            "/# are not allowed characters in ZFS snapshot name"
        );
        assert_eq!(
            naming::validate("%Y-%m-%d_%H-%M-%d").unwrap_err(),
            "Invalid naming schema: redefinition of group name 'd' as group 6; was group 3"
        );
        assert_eq!(
            naming::validate("%Y-%m-%d_%H-%M-%I").unwrap_err(),
            "Failed to parse datetime using provided format: datetime=datetime.datetime(2000, 2, 29, 19, 40, tzinfo=<StaticTzInfo 'Etc/GMT-10'>), formatted=2000-02-29_19-40-07, parsed=datetime.datetime(2000, 2, 29, 7, 40)"
        );
        assert!(naming::matches(
            "auto-%Y-%m-%d_%H-%M",
            "auto-2025-10-30_13-00"
        ));
        assert!(!naming::matches(
            "auto-%Y-%m-%d_%H-%M",
            "manual-2025-10-30_13-00"
        ));
    }

    /// Each answer checked against `time_validator` (api/base/validators.py) under Python 3.11.
    #[test]
    fn hhmm_parses_as_python_does() {
        let err = |s: &str| parse_hhmm(s).unwrap_err();
        assert_eq!(parse_hhmm(" 7:05"), Ok(425));
        assert_eq!(parse_hhmm("1_2:00"), Ok(720));
        assert_eq!(parse_hhmm("+7:5"), Ok(425));
        assert_eq!(err("25:00"), "hour must be in 0..23");
        assert_eq!(err("-1:00"), "hour must be in 0..23");
        assert_eq!(err("07:60"), "minute must be in 0..59");
        assert_eq!(err("12:"), "invalid literal for int() with base 10: ''");
        assert_eq!(err("12:cd"), "invalid literal for int() with base 10: 'cd'");
        assert_eq!(
            err("1__2:00"),
            "invalid literal for int() with base 10: '1__2'"
        );
        assert_eq!(
            err("1:2:3"),
            "Time should be in 24 hour format like \"18:00\""
        );
        assert_eq!(
            err("1200"),
            "Time should be in 24 hour format like \"18:00\""
        );
    }

    #[test]
    fn repr_quotes_as_python_does() {
        assert_eq!(py_repr(&Value::from("x")), "'x'");
        assert_eq!(py_repr(&Value::from("it's")), "\"it's\"");
        assert_eq!(py_repr(&Value::from("a\"b")), "'a\"b'");
        assert_eq!(py_repr(&Value::from(1)), "1");
    }

    #[test]
    fn cron_texts() {
        let f = |m: &str, h: &str| {
            cron_check(&[m.into(), h.into(), "*".into(), "*".into(), "*".into()])
        };
        assert_eq!(
            f("61", "*").unwrap_err(),
            "[61 * * * * ] is not acceptable, out of range"
        );
        assert_eq!(
            f("00", "noon").unwrap_err(),
            "[00 noon * * *] is not acceptable"
        );
        assert_eq!(
            f("5/10", "*").unwrap_err(),
            "Only range or `*` are allowed before `/`"
        );
        assert_eq!(f("*/15", "8-18"), Ok(()));
        assert!(!schedule_hits_window("0", "5", 6 * 60, 7 * 60));
    }
}
