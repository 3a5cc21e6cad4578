//! What of a system's answer may be shown in an error. Every answer is hostile: it may hold
//! private keys, passwords or terminal escapes. Text from a system is cleaned and bounded
//! ([`clip`]); messages about a result's shape are rebuilt from what zfleet itself knows
//! (the kind of value and what was expected), never cut out of the decoder's message
//! ([`shape_error`]).

/// Longest error text taken over from the system's output.
pub const MAX_REASON: usize = 400;

/// Runs of this many base64 characters or more are withheld: key material, tokens and
/// hashes look like that, and no error message needs them.
const MAX_OPAQUE: usize = 32;

/// What replaces withheld text.
const WITHHELD: &str = "[withheld]";

/// A line of a system's output fit to show: control characters become spaces, anything
/// that may be key material is withheld, and the length is bounded.
pub fn clip(s: &str) -> String {
    if s.contains("PRIVATE KEY") || s.contains("-----BEGIN") || s.contains("-----END") {
        return WITHHELD.to_string();
    }
    let cleaned = withhold_opaque(&printable(s));
    if cleaned.chars().count() <= MAX_REASON {
        return cleaned;
    }
    let mut out: String = cleaned.chars().take(MAX_REASON).collect();
    out.push('…');
    out
}

/// `s` with every control character (terminal escapes, line breaks, NUL) made a space, so
/// that text from a system or a config cannot drive the terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Replaces long runs of base64 characters.
fn withhold_opaque(s: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= MAX_OPAQUE {
            out.push_str(WITHHELD);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if is_b64(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The kinds of value serde names in `invalid type` / `invalid value` messages.
const KINDS: &[&str] = &[
    "boolean",
    "integer",
    "floating point",
    "character",
    "string",
    "byte array",
    "Option value",
    "unit value",
    "unit variant",
    "newtype struct",
    "newtype variant",
    "sequence",
    "map",
    "tuple variant",
    "struct variant",
    "null",
];

/// A decoding error told without any value from the answer: the kind of value found (from a
/// fixed list), what was expected (which comes from zfleet's own types, and always follows
/// the value in serde's message, so the last `, expected ` is serde's), field names zfleet
/// declares, and the position.
pub fn shape_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends the position; it is taken from the error itself instead.
    let expected = || {
        let (_, tail) = msg.rsplit_once(", expected ")?;
        let tail = match tail.rfind(" at line ") {
            Some(at) => &tail[..at],
            None => tail,
        };
        plain(tail).then(|| tail.to_string())
    };
    let what = if let Some(rest) = msg
        .strip_prefix("invalid type: ")
        .map(|r| ("invalid type", r))
        .or_else(|| {
            msg.strip_prefix("invalid value: ")
                .map(|r| ("invalid value", r))
        }) {
        let (label, rest) = rest;
        let kind = KINDS.iter().find(|k| rest.starts_with(**k));
        match (kind, expected()) {
            (Some(kind), Some(exp)) => format!("{label}: {kind}, expected {exp}"),
            (None, Some(exp)) => format!("{label}, expected {exp}"),
            _ => label.to_string(),
        }
    } else if msg.starts_with("unknown variant ") {
        match expected() {
            Some(exp) => format!("unknown variant, expected {exp}"),
            None => "unknown variant".to_string(),
        }
    } else if msg.starts_with("unknown field ") {
        match expected() {
            Some(exp) => format!("unknown field, expected {exp}"),
            None => "unknown field".to_string(),
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        match rest.split_once('`') {
            Some((field, _)) if identifier(field) => format!("missing field `{field}`"),
            _ => "missing field".to_string(),
        }
    } else if msg.starts_with("invalid length ") {
        match expected() {
            Some(exp) => format!("invalid length, expected {exp}"),
            None => "invalid length".to_string(),
        }
    } else {
        "a value of another shape".to_string()
    };
    if e.line() > 0 {
        format!("{what} at line {} column {}", e.line(), e.column())
    } else {
        what
    }
}

/// An expectation as serde words it for zfleet's types: words, identifiers in backticks,
/// punctuation; never quotes, escapes or long opaque runs.
fn plain(s: &str) -> bool {
    s.len() <= 300
        && !s.contains(['"', '\'', '\\'])
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '`' | ',' | '_' | '-' | '.' | ':')
        })
        && withhold_opaque(s) == s
}

fn identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Task {
        id: u64,
        name: String,
        mode: Mode,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Push,
        Pull,
    }

    fn shape(json: &str) -> String {
        shape_error(&serde_json::from_str::<Task>(json).expect_err("does not decode"))
    }

    #[test]
    fn shapes_are_told_without_values() {
        assert_eq!(
            shape(r#"{"id": "s3cret", "name": "a", "mode": "push"}"#),
            "invalid type: string, expected u64 at line 1 column 15"
        );
        assert_eq!(
            shape(r#"{"id": 1, "name": "a", "mode": "sideways"}"#),
            "unknown variant, expected `push` or `pull` at line 1 column 41"
        );
        assert_eq!(
            shape(r#"{"id": 1, "name": "a", "s3cret": 1}"#),
            "unknown field, expected one of `id`, `name`, `mode` at line 1 column 31"
        );
        assert_eq!(
            shape(r#"{"id": 1, "name": "a"}"#),
            "missing field `mode` at line 1 column 22"
        );
    }

    #[test]
    fn escaped_quotes_and_crafted_expectations_do_not_fool_it() {
        for value in [
            r#"a\"b, expected u64 s3cret"#,
            r#"\" s3cret \""#,
            r#"\u0022 s3cret"#,
            "s3cret`, expected `x",
            r#"', expected ' s3cret"#,
        ] {
            for json in [
                format!(r#"{{"id": "{value}", "name": "a", "mode": "push"}}"#),
                format!(r#"{{"id": 1, "name": "a", "mode": "{value}"}}"#),
                format!(r#"{{"id": 1, "name": "a", "mode": "push", "{value}": 1, "{value}": 2}}"#),
            ] {
                let shown = shape(&json);
                assert!(!shown.contains("s3cret"), "{json} → {shown}");
            }
        }
    }

    proptest::proptest! {
        /// Whatever surrounds a secret in an answer (quotes, escapes, backticks, control
        /// characters, serde's own words), the secret is not shown.
        #[test]
        fn no_value_is_ever_shown(before in "\\PC{0,40}", after in "[\\x00-\\x7f]{0,40}") {
            let value = serde_json::to_string(&format!("{before}s3cretKEY{after}"))
                .expect("a string encodes");
            for json in [
                format!(r#"{{"id": {value}, "name": "a", "mode": "push"}}"#),
                format!(r#"{{"id": 1, "name": "a", "mode": {value}}}"#),
                format!(r#"{{"id": 1, "name": "a", "mode": "push", {value}: 1}}"#),
                format!(r#"{{"id": 1, "name": 7, "mode": "push", "x": {value}}}"#),
            ] {
                if let Err(e) = serde_json::from_str::<Task>(&json) {
                    let shown = shape_error(&e);
                    proptest::prop_assert!(!shown.contains("s3cret"), "{} → {}", json, shown);
                }
            }
            let armored = format!("{before}-----BEGIN OPENSSH PRIVATE KEY-----{after}");
            proptest::prop_assert!(!clip(&armored).contains("PRIVATE"));
        }
    }

    #[test]
    fn key_material_and_control_characters_are_withheld() {
        assert_eq!(clip("-----BEGIN OPENSSH PRIVATE KEY-----"), WITHHELD);
        assert_eq!(
            clip("bad key b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz x"),
            "bad key [withheld] x"
        );
        assert_eq!(clip("a\u{1b}[31mb\0c"), "a [31mb c");
        assert_eq!(
            clip("Failed to snapshot tank/a@auto-2025-10-30_13-00"),
            "Failed to snapshot tank/a@auto-2025-10-30_13-00"
        );
        assert!(clip(&"x ".repeat(10_000)).chars().count() <= MAX_REASON + 1);
    }
}
