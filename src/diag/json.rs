//! Diagnostics as one JSON document, for editors, CI and scripts:
//!
//! ```json
//! {
//!   "valid": false,
//!   "file": "zfleet.yaml",
//!   "summary": { "errors": 1, "warnings": 0,
//!                "systems": null, "snapshot_tasks": null, "snapshots": null, "replications": null },
//!   "diagnostics": [
//!     { "code": "zfleet::system::unknown", "severity": "error",
//!       "message": "unknown system `nas2`", "system": null, "object": null,
//!       "help": "did you mean `nas1`?", "file": "zfleet.yaml", "line": 7, "column": 13,
//!       "span": { "offset": 120, "length": 4 }, "label": "not defined under `systems`" }
//!   ]
//! }
//! ```
//!
//! `valid` is true when there is no error (warnings allowed). The config counts in `summary`
//! are given for a valid config only. `line` and `column` count from 1, the column in
//! characters; `span` is in bytes. Fields that do not apply are `null`.

use serde::Serialize;

use super::{Problem, Severity};

/// What a valid config holds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ConfigCounts {
    pub systems: usize,
    pub snapshot_tasks: usize,
    pub snapshots: usize,
    pub replications: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    valid: bool,
    file: &'a str,
    summary: Summary,
    diagnostics: Vec<Diagnostic<'a>>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    systems: Option<usize>,
    snapshot_tasks: Option<usize>,
    snapshots: Option<usize>,
    replications: Option<usize>,
}

#[derive(Serialize)]
struct Diagnostic<'a> {
    code: &'a str,
    severity: &'static str,
    message: &'a str,
    system: Option<&'a str>,
    object: Option<&'a str>,
    help: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    span: Option<Span>,
    label: Option<&'a str>,
}

#[derive(Serialize)]
struct Span {
    offset: usize,
    length: usize,
}

/// The JSON document for the problems found in `file`; `counts` only for a valid config.
pub fn document(file: &str, problems: &[Problem], counts: Option<ConfigCounts>) -> String {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let valid = errors == 0;
    let counts = counts.filter(|_| valid);
    let doc = Document {
        valid,
        file,
        summary: Summary {
            errors,
            warnings: problems.len() - errors,
            systems: counts.map(|c| c.systems),
            snapshot_tasks: counts.map(|c| c.snapshot_tasks),
            snapshots: counts.map(|c| c.snapshots),
            replications: counts.map(|c| c.replications),
        },
        diagnostics: problems.iter().map(diagnostic).collect(),
    };
    // Plain data with string keys: serializing cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn diagnostic(p: &Problem) -> Diagnostic<'_> {
    let source = p.source.as_ref();
    let at = p.span.as_ref().filter(|_| source.is_some());
    let position = at
        .zip(source)
        .map(|((span, _), s)| line_column(s.inner(), span.offset()));
    Diagnostic {
        code: p.code,
        severity: match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        message: &p.message,
        system: p.system.as_deref(),
        object: p.object.as_deref(),
        help: p.help.as_deref(),
        file: source.map(|s| s.name()),
        line: position.map(|(l, _)| l),
        column: position.map(|(_, c)| c),
        span: at.map(|(span, _)| Span {
            offset: span.offset(),
            length: span.len(),
        }),
        label: at.map(|(_, label)| label.as_str()),
    }
}

/// 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The `diagnostics` list alone, for documents of other commands (`plan --json`).
pub fn diagnostics_value(problems: &[Problem]) -> serde_json::Value {
    serde_json::to_value(problems.iter().map(diagnostic).collect::<Vec<_>>())
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let text = "ab\nçd: x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 4), (2, 1), "inside a character");
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn a_problem_without_a_source_has_no_position() {
        let p = Problem::error("zfleet::config::io", "cannot read x.yaml: gone").help("pass -f");
        let v: serde_json::Value =
            serde_json::from_str(&document("x.yaml", &[p], None)).expect("json");
        assert_eq!(v["valid"], false);
        assert_eq!(v["summary"]["errors"], 1);
        assert_eq!(v["summary"]["systems"], serde_json::Value::Null);
        let d = &v["diagnostics"][0];
        assert_eq!(d["code"], "zfleet::config::io");
        assert_eq!(d["help"], "pass -f");
        assert_eq!(d["line"], serde_json::Value::Null);
        assert_eq!(d["span"], serde_json::Value::Null);
    }
}
