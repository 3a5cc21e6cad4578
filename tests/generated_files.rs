//! Files generated from the code must match it: the JSON Schema and the list of diagnostic
//! codes. Run with `ZFLEET_BLESS=1` to rewrite them after a change.

use std::collections::BTreeSet;
use std::path::Path;

fn check_or_bless(relative: &str, expected: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("ZFLEET_BLESS").is_some() {
        std::fs::write(&path, expected).expect("write");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{relative} is stale: run `ZFLEET_BLESS=1 cargo test --test generated_files` and commit it"
    );
}

#[test]
fn committed_schema_is_current() {
    check_or_bless(
        "schemas/zfleet.schema.json",
        &zfleet::config::schema::json_schema(),
    );
}

#[test]
fn schema_is_draft_07_and_requires_project() {
    let schema: serde_json::Value =
        serde_json::from_str(&zfleet::config::schema::json_schema()).expect("json");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["required"], serde_json::json!(["project"]));
    assert_eq!(schema["additionalProperties"], false);
    let task = &schema["definitions"]["SnapshotTask"];
    assert_eq!(task["additionalProperties"], false);
    assert!(
        task["properties"]["lifetime"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("2 weeks"))
    );
}

fn codes_markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\nEvery problem zfleet reports carries one of these codes.\n\n| code | meaning |\n|---|---|\n",
    );
    for c in zfleet::diag::all_codes() {
        out.push_str(&format!("| `{}` | {} |\n", c.code, c.summary));
    }
    out
}

#[test]
fn diagnostic_codes_are_unique_and_documented() {
    let codes = zfleet::diag::all_codes();
    let mut seen = BTreeSet::new();
    for c in &codes {
        assert!(seen.insert(c.code), "code {} registered twice", c.code);
        assert!(c.code.starts_with("zfleet::"), "{}", c.code);
        assert!(!c.summary.is_empty(), "{} has no summary", c.code);
    }
    check_or_bless("docs/diagnostics.md", &codes_markdown());
}
