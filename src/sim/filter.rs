//! Query filters and options, as the middleware's `filter_list` applies them (api doc §3).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::errors::{SimError, VErr};

/// Whose `filter_list` applies the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SCALE: an `OR` branch is one condition or a list of conditions that must all hold;
    /// `select` takes dotted paths and aliases. A missing key never matches from 24.10 on
    /// (`filterop`: `if data.result is undefined: return False`); 24.04's `get` reads it as
    /// `None`, as CORE does (stable/dragonfish utils/__init__.py).
    Scale,
    /// CORE 13 (`middlewared/utils/__init__.py`): a missing key reads as `None` (so `!=`
    /// matches it); an `OR` branch must be one condition, anything else raises
    /// `ValueError: Invalid filter <branch>` when a row gets that far; `select` picks
    /// top-level keys.
    Core,
}

/// Applies `filters` and `options` (the two positional arguments of every `*.query`).
pub fn query(
    rows: Vec<Value>,
    filters: Option<&Value>,
    options: Option<&Value>,
) -> Result<Value, SimError> {
    query_in(Dialect::Scale, rows, filters, options)
}

/// Checks the filters and options as the API layer does before a method runs.
pub fn check(filters: Option<&Value>, options: Option<&Value>) -> Result<(), SimError> {
    match query(Vec::new(), filters, options) {
        // No rows: `get` finds nothing, which is no fault of the arguments.
        Err(e) if e == SimError::match_not_found() => Ok(()),
        r => r.map(|_| ()),
    }
}

/// [`query`] with the filter semantics of `dialect`.
pub fn query_in(
    dialect: Dialect,
    rows: Vec<Value>,
    filters: Option<&Value>,
    options: Option<&Value>,
) -> Result<Value, SimError> {
    let filters = match filters {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(f)) => f.clone(),
        Some(_) => return Err(SimError::one("filters", "Input should be a valid list")),
    };
    let empty = Map::new();
    let options = match options {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(SimError::one(
                "options",
                "Input should be a valid dictionary or instance of QueryOptions",
            ));
        }
    };
    for f in &filters {
        check_filter(f, 1)?;
    }
    let mut kept = Vec::new();
    for r in rows {
        let mut all = true;
        for f in &filters {
            if !matches(dialect, &r, f)? {
                all = false;
                break;
            }
        }
        if all {
            kept.push(r);
        }
    }
    let mut rows = kept;

    let flag = |k: &str| options.get(k).and_then(Value::as_bool).unwrap_or(false);
    let num = |k: &str| options.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
    let get = flag("get");
    if get && (num("limit") > 1 || num("offset") > 0) {
        return Err(SimError::Validation(vec![VErr::new(
            "options",
            "Invalid options combination. `get` implies a single result.",
        )]));
    }
    // utils/filter_list.py `do_order` (13.3: utils `filter_list`): one stable sort per key,
    // in the order given, so the last key decides first.
    if let Some(Value::Array(order)) = options.get("order_by") {
        for key in order {
            let Some(spec) = key.as_str() else { continue };
            let (spec, nulls_last) = if let Some(s) = spec.strip_prefix("nulls_first:") {
                (s, Some(false))
            } else if let Some(s) = spec.strip_prefix("nulls_last:") {
                (s, Some(true))
            } else {
                (spec, None)
            };
            let (field, desc) = match spec.strip_prefix('-') {
                Some(f) => (f, true),
                None => (spec, false),
            };
            let path = split_path(field);
            rows.sort_by(|a, b| {
                let va = lookup(a, &path).into_iter().next();
                let vb = lookup(b, &path).into_iter().next();
                let nullish = |v: &Option<&Value>| v.is_none_or(|x| x.is_null());
                match (nullish(&va), nullish(&vb), nulls_last) {
                    (true, true, _) => Ordering::Equal,
                    (true, false, Some(last)) => {
                        if last {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (false, true, Some(last)) => {
                        if last {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    _ => {
                        let o = cmp_values(va.unwrap_or(&Value::Null), vb.unwrap_or(&Value::Null));
                        if desc { o.reverse() } else { o }
                    }
                }
            });
        }
    }
    if flag("count") {
        return Ok(Value::from(rows.len()));
    }
    let offset = num("offset");
    if offset > 0 {
        rows = rows.into_iter().skip(offset).collect();
    }
    let limit = num("limit");
    if limit > 0 {
        rows.truncate(limit);
    }
    if let Some(Value::Array(select)) = options.get("select") {
        rows = match dialect {
            Dialect::Scale => rows.iter().map(|r| do_select(r, select)).collect(),
            Dialect::Core => rows.iter().map(|r| select_keys(r, select)).collect(),
        };
    }
    if get {
        return rows
            .into_iter()
            .next()
            .ok_or_else(SimError::match_not_found);
    }
    Ok(Value::Array(rows))
}

const OPS: [&str; 15] = [
    "=", "!=", ">", ">=", "<", "<=", "~", "in", "nin", "rin", "rnin", "^", "!^", "$", "!$",
];

fn check_filter(f: &Value, depth: usize) -> Result<(), SimError> {
    let bad = |m: &str| SimError::one("filters", m.to_string());
    let Some(items) = f.as_array() else {
        return Err(bad("Invalid filter"));
    };
    if items.len() == 2 && items[0] == "OR" {
        if depth > 3 {
            return Err(bad("query-filters max recursion depth exceeded"));
        }
        let Some(branches) = items[1].as_array() else {
            return Err(bad("OR filter requires a list of filters"));
        };
        for b in branches {
            match b.as_array() {
                Some(inner) if inner.first().is_some_and(Value::is_array) => {
                    for c in inner {
                        check_filter(c, depth + 1)?;
                    }
                }
                _ => check_filter(b, depth + 1)?,
            }
        }
        return Ok(());
    }
    if items.len() != 3 || !items[0].is_string() {
        return Err(bad("Invalid filter"));
    }
    let op = items[1].as_str().unwrap_or("");
    let base = op.strip_prefix('C').unwrap_or(op);
    if !OPS.contains(&base) || op == "C~" {
        return Err(bad(&format!("Invalid operation: {op}")));
    }
    Ok(())
}

fn matches(dialect: Dialect, row: &Value, f: &Value) -> Result<bool, SimError> {
    let Some(items) = f.as_array() else {
        return Ok(false);
    };
    if items.len() == 2 && items[0] == "OR" {
        let Some(branches) = items[1].as_array() else {
            return Ok(false);
        };
        for b in branches {
            let hit = match b.as_array() {
                Some(inner) if dialect == Dialect::Core && inner.len() != 3 => {
                    return Err(SimError::Exception {
                        class: "ValueError",
                        text: format!("Invalid filter {}", py_repr(b)),
                    });
                }
                Some(inner) if inner.first().is_some_and(Value::is_array) => {
                    let mut all = true;
                    for c in inner {
                        if !matches(dialect, row, c)? {
                            all = false;
                            break;
                        }
                    }
                    all
                }
                _ => matches(dialect, row, b)?,
            };
            if hit {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let (Some(field), Some(op)) = (items[0].as_str(), items[1].as_str()) else {
        return Ok(false);
    };
    let target = &items[2];
    let path = split_path(field);
    let values = lookup(row, &path);
    // `.$date` filters take ISO strings; the rows hold epoch milliseconds.
    let target = if field.ends_with(".$date") {
        iso_to_ms(target).unwrap_or_else(|| target.clone())
    } else {
        target.clone()
    };
    let none_when_missing = dialect == Dialect::Core
        || crate::sim::methods::schema::release() == crate::sim::version::Personality::V2404;
    if values.is_empty() && none_when_missing {
        return Ok(core_none_matches(op, &target));
    }
    Ok(values.into_iter().any(|v| op_matches(v, op, &target)))
}

/// CORE's and 24.04's operators on a missing key, which their `get` reads as `None`.
fn core_none_matches(op: &str, target: &Value) -> bool {
    match op {
        "=" => target.is_null(),
        "!=" => !target.is_null(),
        "in" => contains(target, &Value::Null),
        "nin" => !contains(target, &Value::Null),
        _ => false,
    }
}

/// Python's `repr` of a JSON value as the middleware holds it.
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => super::render::py_repr_str(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", super::render::py_repr_str(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The attributes the filters name, walked as the middleware's `filter_getattrs` walks them:
/// a two-item entry is taken for an `OR` and its second item walked next, a three-item one
/// names its first item, anything else is `ValueError: Invalid filter.`. (So an `OR` of
/// single-condition lists, or of three conditions, fails there although `filter_list` would
/// take it.)
pub fn getattrs(filters: Option<&Value>) -> Result<Vec<String>, SimError> {
    let invalid = || SimError::Exception {
        class: "ValueError",
        text: "Invalid filter.".into(),
    };
    let mut attrs = Vec::new();
    let mut stack: Vec<&Value> = match filters {
        Some(Value::Array(f)) => f.iter().collect(),
        _ => Vec::new(),
    };
    while let Some(f) = stack.pop() {
        let Some(items) = f.as_array() else {
            return Err(invalid());
        };
        match items.len() {
            2 => stack.push(&items[1]),
            3 => match &items[0] {
                Value::String(s) => attrs.push(s.clone()),
                Value::Array(_) | Value::Object(_) => {
                    let kind = if items[0].is_array() { "list" } else { "dict" };
                    return Err(SimError::Exception {
                        class: "TypeError",
                        text: format!("unhashable type: '{kind}'"),
                    });
                }
                other => attrs.push(py_repr(other)),
            },
            _ => return Err(invalid()),
        }
    }
    Ok(attrs)
}

/// Maps one condition (field, operator, value) to the key prefixes of the rows it can match.
pub type Narrow = dyn Fn(&str, &str, &Value) -> Option<Vec<String>>;

/// Key prefixes one of which every row the filters can match has (`None`: any row may),
/// from the first top-level condition `narrow` can say something of. `narrow` maps one
/// condition (field, operator, value) to prefixes. Lets a query look only at the rows of
/// a key range; the filters themselves still decide.
pub fn key_prefixes(filters: Option<&Value>, narrow: &Narrow) -> Option<Vec<String>> {
    filters?
        .as_array()?
        .iter()
        .find_map(|f| prefixes_of(f, narrow))
}

fn prefixes_of(f: &Value, narrow: &Narrow) -> Option<Vec<String>> {
    let items = f.as_array()?;
    if items.len() == 2 && items[0] == "OR" {
        let mut out = Vec::new();
        for b in items[1].as_array()? {
            let p = match b.as_array() {
                Some(inner) if inner.first().is_some_and(Value::is_array) => {
                    inner.iter().find_map(|c| prefixes_of(c, narrow))
                }
                _ => prefixes_of(b, narrow),
            }?;
            out.extend(p);
        }
        return Some(out);
    }
    if items.len() != 3 {
        return None;
    }
    narrow(items[0].as_str()?, items[1].as_str()?, &items[2])
}

/// CORE's `select`: the listed top-level keys a row has, in the order listed.
fn select_keys(row: &Value, select: &[Value]) -> Value {
    let mut out = Map::new();
    for s in select.iter().filter_map(Value::as_str) {
        if let Some(v) = row.get(s) {
            out.insert(s.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

fn iso_to_ms(v: &Value) -> Option<Value> {
    let s = v.as_str()?;
    let n = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(Value::from(n.and_utc().timestamp_millis()))
}

fn op_matches(v: &Value, op: &str, target: &Value) -> bool {
    let (ci, op) = match op.strip_prefix('C') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let fold = |x: &Value| -> Value {
        match x {
            Value::String(s) if ci => Value::String(s.to_lowercase()),
            Value::Array(a) if ci => Value::Array(
                a.iter()
                    .map(|i| match i {
                        Value::String(s) => Value::String(s.to_lowercase()),
                        o => o.clone(),
                    })
                    .collect(),
            ),
            o => o.clone(),
        }
    };
    let v = fold(v);
    let t = fold(target);
    match op {
        "=" => py_eq(&v, &t),
        "!=" => !py_eq(&v, &t),
        ">" | ">=" | "<" | "<=" => {
            let comparable = matches!(
                (&v, &t),
                (Value::Number(_), Value::Number(_)) | (Value::String(_), Value::String(_))
            );
            if !comparable {
                return false;
            }
            let o = cmp_values(&v, &t);
            match op {
                ">" => o == Ordering::Greater,
                ">=" => o != Ordering::Less,
                "<" => o == Ordering::Less,
                _ => o != Ordering::Greater,
            }
        }
        "~" => match (v.as_str(), t.as_str()) {
            (Some(s), Some(re)) => regex::Regex::new(&format!("^(?:{re})"))
                .map(|r| r.is_match(s))
                .unwrap_or(false),
            _ => false,
        },
        "in" => contains(&t, &v),
        "nin" => !contains(&t, &v),
        "rin" => contains(&v, &t),
        "rnin" => !contains(&v, &t),
        "^" => str_pair(&v, &t).is_some_and(|(a, b)| a.starts_with(b)),
        "!^" => str_pair(&v, &t).is_some_and(|(a, b)| !a.starts_with(b)),
        "$" => str_pair(&v, &t).is_some_and(|(a, b)| a.ends_with(b)),
        "!$" => str_pair(&v, &t).is_some_and(|(a, b)| !a.ends_with(b)),
        _ => false,
    }
}

fn str_pair<'a>(a: &'a Value, b: &'a Value) -> Option<(&'a str, &'a str)> {
    Some((a.as_str()?, b.as_str()?))
}

/// Python's `needle in haystack` for lists and strings.
fn contains(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|i| py_eq(i, needle)),
        Value::String(s) => needle.as_str().is_some_and(|n| s.contains(n)),
        Value::Object(m) => needle.as_str().is_some_and(|n| m.contains_key(n)),
        _ => false,
    }
}

/// Python equality: numbers by value, `True == 1`.
fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Bool(x), Value::Number(y)) | (Value::Number(y), Value::Bool(x)) => {
            y.as_f64() == Some(if *x { 1.0 } else { 0.0 })
        }
        _ => a == b,
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Splits `a.b\.c.0` into `["a", "b.c", "0"]`.
fn split_path(field: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                if let Some(last) = out.last_mut() {
                    last.push('.');
                }
            }
            '.' => out.push(String::new()),
            c => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

/// Every value at `path` (several with `*`); none when a key is missing.
fn lookup<'a>(row: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let Some((head, rest)) = path.split_first() else {
        return vec![row];
    };
    match row {
        Value::Object(m) => m.get(head).map(|v| lookup(v, rest)).unwrap_or_default(),
        Value::Array(items) => {
            if head == "*" {
                items.iter().flat_map(|i| lookup(i, rest)).collect()
            } else if let Ok(i) = head.parse::<usize>() {
                items.get(i).map(|v| lookup(v, rest)).unwrap_or_default()
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn do_select(row: &Value, select: &[Value]) -> Value {
    let mut out = Map::new();
    for s in select {
        let (field, alias) = match s {
            Value::String(f) => (f.as_str(), None),
            Value::Array(pair) if pair.len() == 2 => match (pair[0].as_str(), pair[1].as_str()) {
                (Some(f), Some(a)) => (f, Some(a)),
                _ => continue,
            },
            _ => continue,
        };
        let path = split_path(field);
        let Some(v) = lookup(row, &path).into_iter().next() else {
            continue;
        };
        match alias {
            Some(a) => {
                out.insert(a.to_string(), v.clone());
            }
            None => insert_path(&mut out, &path, v.clone()),
        }
    }
    Value::Object(out)
}

fn insert_path(out: &mut Map<String, Value>, path: &[String], v: Value) {
    match path {
        [] => {}
        [last] => {
            out.insert(last.clone(), v);
        }
        [head, rest @ ..] => {
            let entry = out
                .entry(head.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                insert_path(m, rest, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Value> {
        vec![
            json!({"id": 1, "name": "a", "state": {"state": "FINISHED"}, "tags": ["x"]}),
            json!({"id": 2, "name": "B", "state": {"state": "ERROR"}, "tags": []}),
            json!({"id": 3, "name": "c", "state": {"state": "PENDING"}, "n": null}),
        ]
    }

    fn q(f: Value, o: Value) -> Value {
        query(rows(), Some(&f), Some(&o)).unwrap()
    }

    fn ids(v: &Value) -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    }

    #[test]
    fn operators() {
        assert_eq!(ids(&q(json!([["id", "=", 2]]), json!({}))), vec![2]);
        assert_eq!(ids(&q(json!([["id", "!=", 2]]), json!({}))), vec![1, 3]);
        assert_eq!(ids(&q(json!([["id", ">=", 2]]), json!({}))), vec![2, 3]);
        assert_eq!(
            ids(&q(json!([["id", "in", [1, 3]]]), json!({}))),
            vec![1, 3]
        );
        assert_eq!(ids(&q(json!([["id", "nin", [1, 3]]]), json!({}))), vec![2]);
        assert_eq!(ids(&q(json!([["name", "C=", "b"]]), json!({}))), vec![2]);
        assert_eq!(ids(&q(json!([["name", "~", "[ab]"]]), json!({}))), vec![1]);
        assert_eq!(
            ids(&q(json!([["state.state", "^", "FIN"]]), json!({}))),
            vec![1]
        );
        assert_eq!(
            ids(&q(json!([["state.state", "$", "ING"]]), json!({}))),
            vec![3]
        );
        assert_eq!(ids(&q(json!([["tags", "rin", "x"]]), json!({}))), vec![1]);
        assert_eq!(
            ids(&q(
                json!([["OR", [["id", "=", 1], ["id", "=", 3]]]]),
                json!({})
            )),
            vec![1, 3]
        );
        // Missing keys never match, not even `!=`.
        assert_eq!(
            ids(&q(json!([["nope", "!=", 1]]), json!({}))),
            Vec::<u64>::new()
        );
    }

    /// One sort per key in order: `["kind", "-id"]` sorts by id, descending, and keeps kind
    /// order among equal ids only.
    #[test]
    fn order_by_keys_sort_one_after_another() {
        let rows = vec![
            json!({"id": 1, "kind": "b"}),
            json!({"id": 2, "kind": "a"}),
            json!({"id": 2, "kind": "b"}),
            json!({"id": 3, "kind": "a"}),
        ];
        let out = query(rows, None, Some(&json!({"order_by": ["kind", "-id"]}))).unwrap();
        assert_eq!(
            out,
            json!([
                {"id": 3, "kind": "a"},
                {"id": 2, "kind": "a"},
                {"id": 2, "kind": "b"},
                {"id": 1, "kind": "b"},
            ])
        );
    }

    #[test]
    fn options() {
        assert_eq!(q(json!([]), json!({"count": true})), json!(3));
        assert_eq!(
            ids(&q(json!([]), json!({"order_by": ["-id"], "limit": 2}))),
            vec![3, 2]
        );
        assert_eq!(ids(&q(json!([]), json!({"offset": 1}))), vec![2, 3]);
        assert_eq!(
            q(json!([["id", "=", 2]]), json!({"get": true}))["name"],
            "B"
        );
        assert_eq!(
            q(
                json!([["id", "=", 1]]),
                json!({"select": ["id", "state.state", ["name", "n"]]})
            ),
            json!([{"id": 1, "state": {"state": "FINISHED"}, "n": "a"}])
        );
        assert_eq!(
            query(
                rows(),
                Some(&json!([["id", "=", 9]])),
                Some(&json!({"get": true}))
            )
            .unwrap_err(),
            SimError::match_not_found()
        );
    }
}
