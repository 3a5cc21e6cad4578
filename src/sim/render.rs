//! What `midclt` prints for a result: `print(rv)` for ints and strings, else `json.dumps(rv)`
//! with Python's defaults (`ensure_ascii`, separators `", "` and `": "`).

use serde_json::Value;

/// The stdout text midclt prints for a method's result (with the trailing newline).
pub fn midclt_stdout(result: &Value) -> String {
    let mut out = match result {
        // `isinstance(rv, (int, str))`: bool is an int in Python.
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::String(s) => s.clone(),
        other => py_json_dumps(other),
    };
    out.push('\n');
    out
}

/// `json.dumps(value)` exactly as Python writes it by default.
pub fn py_json_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                out.push_str(&py_float(n.as_f64().unwrap_or(0.0)));
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str(out, k);
                out.push_str(": ");
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// A JSON string with `ensure_ascii`: everything outside space..tilde is escaped.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr(float)`: shortest round-trip digits, exponent as `e+16` / `e-05`.
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let s = format!("{f:e}");
        if let Some((mant, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mant}e{sign}{digits:0>2}");
        }
        return s;
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Python's `repr(str)` (for `exc_info.repr` and tracebacks).
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A `{"$date": ms}` value for epoch seconds (ms part always 000, as midclt encodes it).
pub fn date(secs: i64) -> Value {
    serde_json::json!({ "$date": secs.saturating_mul(1000) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_python() {
        assert_eq!(midclt_stdout(&json!(true)), "True\n");
        assert_eq!(midclt_stdout(&json!(false)), "False\n");
        assert_eq!(midclt_stdout(&json!(4711)), "4711\n");
        assert_eq!(
            midclt_stdout(&json!("TrueNAS-25.10.1")),
            "TrueNAS-25.10.1\n"
        );
        assert_eq!(midclt_stdout(&Value::Null), "null\n");
        assert_eq!(
            midclt_stdout(&json!({"a": [1, 2.5, null], "b": "é\"x\n"})),
            "{\"a\": [1, 2.5, null], \"b\": \"\\u00e9\\\"x\\n\"}\n"
        );
        assert_eq!(py_json_dumps(&json!("😀")), "\"\\ud83d\\ude00\"");
        assert_eq!(py_json_dumps(&json!(1e16)), "1e+16");
        assert_eq!(py_json_dumps(&json!(0.00001)), "1e-05");
        assert_eq!(py_json_dumps(&json!(2.0)), "2.0");
        assert_eq!(py_json_dumps(&json!(0.42)), "0.42");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("a'b\"c"), "'a\\'b\"c'");
    }
}
