//! Request payloads checked against the TrueNAS middleware's request schemas (JSON Schema
//! draft 2020-12, one file per method in `tests/data/truenas-api/schemas/<version>/`).
//!
//! The rules are those of the API reference's call validator: a call is
//! `{"method": M, "params": [...]}` (no `params` means `[]`); the positional `params` array is
//! validated against `<version>/<M>.json`; a method without a file is skipped; integers are
//! strict (`2.0` is not an integer, as in the middleware's pydantic models); `format` is not
//! checked; `x-*` keywords and `discriminator` are annotations only.
//!
//! Only some schema files are kept as test data. A method the middleware does validate
//! (status `schema` in `_index.json`) but whose file is not kept fails loudly instead of being
//! skipped, so a new call never passes unchecked.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jsonschema::{Keyword, ValidationError, Validator};
use serde_json::{Map, Value};

/// The TrueNAS API reference data kept in the repository (examples and schemas).
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/truenas-api")
}

/// One call's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// What the schema rejected, `instance path: message` each.
    Failed(Vec<String>),
    /// Why no schema applies.
    Skipped(String),
}

/// The verdicts of a JSON Lines trace, as the validator reports them.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// `line N: METHOD: FAIL: ...`, one per failed call.
    pub failures: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed == 0
    }

    /// The failures, then `N passed, M failed[, K skipped]`.
    pub fn text(&self) -> String {
        let mut out = self.failures.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{} passed, {} failed", self.passed, self.failed));
        if self.skipped > 0 {
            out.push_str(&format!(", {} skipped", self.skipped));
        }
        out
    }
}

/// The schema set of one TrueNAS version (`25.10`, `25.04`).
pub struct Schemas {
    version: String,
    dir: PathBuf,
    index: Map<String, Value>,
    cache: HashMap<String, Option<Validator>>,
}

impl Schemas {
    pub fn load(version: &str) -> Schemas {
        let dir = data_dir().join("schemas").join(version);
        assert!(
            dir.is_dir(),
            "no request schemas for {version} in {}",
            dir.display()
        );
        let index_path = dir.join("_index.json");
        let text = std::fs::read_to_string(&index_path)
            .unwrap_or_else(|e| panic!("{}: {e}", index_path.display()));
        let index = match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            other => panic!("{}: not a JSON object: {other:?}", index_path.display()),
        };
        Schemas {
            version: version.to_string(),
            dir,
            index,
            cache: HashMap::new(),
        }
    }

    /// Validates one call's positional `params` against its method's schema.
    pub fn check(&mut self, method: &str, params: &Value) -> Outcome {
        let Some(validator) = self.validator(method) else {
            return Outcome::Skipped(self.skip_reason(method));
        };
        let mut errors: Vec<(String, String)> = validator
            .iter_errors(params)
            .map(|e| (e.instance_path().to_string(), e.to_string()))
            .collect();
        if errors.is_empty() {
            return Outcome::Passed;
        }
        errors.sort();
        errors.dedup();
        Outcome::Failed(
            errors
                .into_iter()
                .map(|(path, msg)| format!("{path}: {msg}"))
                .collect(),
        )
    }

    /// Whether the schema accepts the call; panics when the method has no schema, since a
    /// verdict is expected.
    pub fn accepts(&mut self, method: &str, params: &Value) -> bool {
        match self.check(method, params) {
            Outcome::Passed => true,
            Outcome::Failed(_) => false,
            Outcome::Skipped(why) => panic!("{} {method}: {why}", self.version),
        }
    }

    /// Checks a JSON Lines trace (blank lines and `#` lines ignored; a malformed line fails).
    pub fn check_lines(&mut self, text: &str) -> Report {
        let mut report = Report::default();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let call: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(e) => {
                    report.failed += 1;
                    report
                        .failures
                        .push(format!("line {n}: FAIL: not valid JSON: {e}"));
                    continue;
                }
            };
            let method = call.get("method").and_then(Value::as_str);
            let params = call
                .get("params")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            let (Some(method), true) = (method, params.is_array()) else {
                report.failed += 1;
                report.failures.push(format!(
                    "line {n}: FAIL: each line needs \"method\" (string) and \"params\" (array)"
                ));
                continue;
            };
            match self.check(method, &params) {
                Outcome::Passed => report.passed += 1,
                Outcome::Skipped(_) => report.skipped += 1,
                Outcome::Failed(errors) => {
                    report.failed += 1;
                    report
                        .failures
                        .push(format!("line {n}: {method}: FAIL: {}", errors.join("; ")));
                }
            }
        }
        report
    }

    fn validator(&mut self, method: &str) -> Option<&Validator> {
        if !self.cache.contains_key(method) {
            let built = self.build(method);
            self.cache.insert(method.to_string(), built);
        }
        self.cache.get(method).and_then(Option::as_ref)
    }

    fn build(&self, method: &str) -> Option<Validator> {
        // A method name is a file name here, never a path.
        if method.contains('/') || method.starts_with(['_', '.']) {
            return None;
        }
        let path = self.dir.join(format!("{method}.json"));
        if !path.is_file() {
            let status = self.index.get(method).and_then(|i| i.get("status"));
            assert!(
                status.and_then(Value::as_str) != Some("schema"),
                "{}: the middleware validates {method} but its schema is not kept as test \
                 data; copy it (see tests/data/truenas-api/README.md)",
                path.display()
            );
            return None;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut schema: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        mark_strict_integers(&mut schema);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(false)
            .with_keyword(STRICT_INTEGER, |_, _, _| Ok(Box::new(StrictInteger)))
            .build(&schema)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Some(validator)
    }

    fn skip_reason(&self, method: &str) -> String {
        match self.index.get(method) {
            None => "no schema (method not in the exported set)".to_string(),
            Some(info) => {
                let status = info.get("status").and_then(Value::as_str).unwrap_or("?");
                match info.get("note").and_then(Value::as_str) {
                    Some(note) => format!("no schema ({status}): {note}"),
                    None => format!("no schema ({status})"),
                }
            }
        }
    }
}

/// Added next to every `type` that allows integers but not other numbers.
const STRICT_INTEGER: &str = "x-zfleet-strict-integer";

/// JSON Schema counts `2.0` as an integer; the middleware's strict models do not.
struct StrictInteger;

impl<'i> Keyword<'i> for StrictInteger {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(format!(
                "{instance} is not a JSON integer"
            )))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        !instance.as_number().is_some_and(serde_json::Number::is_f64)
    }
}

/// Marks the subschemas whose `type` admits `integer` but not `number`.
fn mark_strict_integers(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let strict = match map.get("type") {
                Some(Value::String(t)) => t == "integer",
                Some(Value::Array(ts)) => {
                    let has = |name: &str| ts.iter().any(|t| t.as_str() == Some(name));
                    has("integer") && !has("number")
                }
                _ => false,
            };
            if strict {
                map.insert(STRICT_INTEGER.to_string(), Value::Bool(true));
            }
            for (key, value) in map.iter_mut() {
                // Literal values, not schemas.
                if !matches!(key.as_str(), "const" | "enum" | "default" | "examples") {
                    mark_strict_integers(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_strict_integers),
        _ => {}
    }
}
