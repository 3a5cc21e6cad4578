//! Golden output of `zfleet plan`: the text plan with every kind of line, and the JSON
//! document CI reads (`format_version` 1).

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::Fleet;
use serde_json::Value;

fn golden() -> Fleet {
    Fleet::from_data("golden", "gold")
}

#[test]
fn text_plan_with_every_kind_of_line() {
    let f = golden();
    let run = f.zfleet(&["plan", "--detailed-exitcode"]);
    run.expect(2);
    assert_eq!(run.stderr, "");
    insta::assert_snapshot!("text_plan", run.stdout);

    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert_eq!(
        apply.stdout.strip_prefix(run.stdout.as_str()),
        Some(
            "
✓ nas1: update snapshot task data-hourly — done
✓ nas1: adopt snapshot task docs-daily — done
✓ nas1: create snapshot task local-daily — done
✓ nas1: create snapshot tank/local@manual-%Y-%m-%d_%H-%M — done
✓ nas1: delete snapshot task old-media — done
Apply: 5 done, 0 failed, 0 skipped.
"
        )
    );
    let after = f.zfleet(&["plan", "--detailed-exitcode"]);
    after.expect(0);
    assert_eq!(
        after.stdout,
        "\
nas1 (TrueNAS 25.10.1)
  not managed by this config (left alone):
    snapshot task #3: tank/local (hand-%Y%m%d-%H%M, every 30 3 * * *)
    replication #1: hand-rep (PUSH tank/data → tank/local/data)
    replication #2: theirs (PUSH tank/media → tank/local/media) [project other]

No changes. The live state matches the config.
"
    );
    // The other project's record is still there; this project's match its tasks.
    let records = f.records("nas1");
    assert_eq!(
        serde_json::to_value(&records).expect("json"),
        serde_json::json!({
            "tank/data": {"zfleet:gold:st-1": "{\"name\":\"data-hourly\"}"},
            "tank/data/docs": {"zfleet:gold:st-4": "{\"name\":\"docs-daily\"}"},
            "tank/local": {"zfleet:gold:st-5": "{\"name\":\"local-daily\"}"},
            "tank/media": {"zfleet:other:rep-2": "{\"name\":\"theirs\"}"},
        })
    );
    f.assert_trace_valid(20);
}

#[test]
fn json_plan_document() {
    let f = golden();
    let run = f.zfleet(&["plan", "--json", "--detailed-exitcode"]);
    run.expect(2);
    assert_eq!(run.stderr, "");
    let doc: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["format_version"], 1);
    let keys: Vec<&str> = doc
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "project",
            "summary",
            "systems",
            "diagnostics"
        ]
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"add": 2, "change": 2, "delete": 1, "errors": 0, "warnings": 0, "unknown_systems": 0})
    );
    let ops: Vec<(&str, &str)> = doc["systems"][0]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["op"].as_str().unwrap_or_default(),
                a["kind"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("update", "snapshot_task"),
            ("adopt", "snapshot_task"),
            ("create", "snapshot_task"),
            ("create", "snapshot"),
            ("delete", "snapshot_task"),
        ]
    );
    insta::assert_snapshot!("json_plan", run.stdout);
}

#[test]
fn json_plan_with_errors_and_an_unknown_system() {
    let f = Fleet::from_data("checks", "chk");
    f.zfleet(&["plan"]).expect(1);
    f.faults("core", &["--stop-middleware"]);
    let run = f.zfleet(&["plan", "--json"]);
    run.expect(1);
    // Diagnostics go into the document, not to stderr.
    assert_eq!(run.stderr, "");
    let doc: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["summary"]["unknown_systems"], 1);
    let core = doc["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .find(|s| s["system"] == "core")
        .expect("core");
    assert_eq!(
        (&core["known"], &core["version"], &core["actions"]),
        (&Value::Bool(false), &Value::Null, &serde_json::json!([]))
    );
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    assert!(
        diags.iter().all(|d| d["code"].is_string()
            && d["message"].is_string()
            && d["severity"].is_string()),
        "{diags:?}"
    );
    assert!(
        !diags
            .iter()
            .any(|d| d["code"] == "zfleet::check::unsupported_field"),
        "no live check on a system that could not be read"
    );
}
