//! Retention previews: an edit or deletion of a managed snapshot task that changes which
//! existing snapshots TrueNAS keeps is a warning with the count and the oldest and newest
//! names; `fixate_removal_date: true` keeps their removal dates.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::Fleet;
use serde_json::Value;

const CONFIG: &str = "snapshot_tasks:\n  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }\n";

/// nas1 with media-daily applied and three days of its snapshots.
fn with_snapshots() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .config("e2e", CONFIG);
    f.zfleet(&["apply", "--yes"]).expect(0);
    let dir = f.state_dir();
    f.zfleet(&[
        "sim",
        "advance",
        "--state",
        dir.to_str().expect("utf-8"),
        "3d",
    ])
    .expect(0);
    f
}

/// The `params` of every traced call of `method`.
fn traced_params(f: &Fleet, method: &str) -> Vec<Value> {
    std::fs::read_to_string(f.trace_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|c| c["method"] == method)
        .map(|c| c["params"].clone())
        .collect()
}

/// The snapshots of tank/media with the removal date TrueNAS pinned on them, if any.
fn removal_dates(f: &Fleet) -> Vec<(String, Option<String>)> {
    let snaps = f.call(
        "nas1",
        "pool.snapshot.query",
        &[r#"[["dataset", "=", "tank/media"]]"#],
    );
    let mut out: Vec<_> = snaps
        .as_array()
        .expect("snapshots")
        .iter()
        .map(|s| {
            let name = s["snapshot_name"].as_str().unwrap_or_default().to_string();
            let date = s["properties"].as_object().and_then(|p| {
                p.iter()
                    .find(|(k, _)| k.starts_with("org.truenas:destroy_at_"))
                    .and_then(|(_, v)| v["value"].as_str().map(str::to_string))
            });
            (name, date)
        })
        .collect();
    out.sort();
    out
}

/// The retention warnings of `zfleet plan --json`: `(system, object, message)`, unwrapped.
fn warnings(f: &Fleet) -> Vec<(String, String, String)> {
    let run = f.zfleet(&["plan", "--json"]);
    run.expect(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            assert_eq!(
                (&d["code"], &d["severity"]),
                (
                    &Value::from("zfleet::check::retention"),
                    &Value::from("warning")
                ),
                "{d}"
            );
            let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (text("system"), text("object"), text("message"))
        })
        .collect()
}

const NEW_SCHEMA: &str = "naming_schema: \"daily-%Y-%m-%d_%H-%M\", schedule: daily";

#[test]
fn an_edit_that_leaves_snapshots_unowned_is_a_warning_with_counts_and_names() {
    let mut f = with_snapshots();
    f.config("e2e", &CONFIG.replace("schedule: daily", NEW_SCHEMA));
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(
        plan.stderr,
        "\
zfleet::check::retention

  ⚠ nas1: snapshot task media-daily: this edit of snapshot task media-daily changes the retention
  │ of existing snapshots — tank/media: 3 snapshots (oldest auto-2025-10-31_00-00, newest auto-
  │ 2025-11-02_00-00); the task stops managing them: they are no longer destroyed when their
  │ lifetime ends
  help: set `fixate_removal_date: true` (on the task for edits, on the system for deletions) to
        keep their current removal dates

"
    );
    assert!(
        plan.stdout.contains(
            "   ~ update snapshot task media-daily (#1)\n      naming_schema  auto-%Y-%m-%d_%H-%M → daily-%Y-%m-%d_%H-%M\n"
        ),
        "{}",
        plan.stdout
    );
    // A warning does not stop apply; without fixate_removal_date the update does not ask.
    f.zfleet(&["apply", "--yes"]).expect(0);
    let updates = traced_params(&f, "pool.snapshottask.update");
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0][1].get("fixate_removal_date"), None);
    assert!(
        removal_dates(&f).iter().all(|(_, date)| date.is_none()),
        "{:?}",
        removal_dates(&f)
    );
    assert_eq!(
        f.snapshot_tasks("nas1")[0]["naming_schema"],
        "daily-%Y-%m-%d_%H-%M"
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stderr, "");
    f.assert_trace_valid(10);
}

#[test]
fn fixate_removal_date_on_the_task_is_sent_with_its_update() {
    let mut f = with_snapshots();
    f.config(
        "e2e",
        &CONFIG.replace(
            "schedule: daily",
            &format!("{NEW_SCHEMA}, fixate_removal_date: true"),
        ),
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.codes(), ["zfleet::check::retention"]);
    assert_eq!(
        warnings(&f),
        [(
            "nas1".to_string(),
            "snapshot task media-daily".to_string(),
            "this edit of snapshot task media-daily changes the retention of existing snapshots — tank/media: 3 snapshots (oldest auto-2025-10-31_00-00, newest auto-2025-11-02_00-00); they keep the removal dates they have now (`fixate_removal_date`)".to_string()
        )]
    );
    f.clear_trace();
    f.zfleet(&["apply", "--yes"]).expect(0);
    let updates = traced_params(&f, "pool.snapshottask.update");
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0][1]["fixate_removal_date"], true, "{updates:?}");
    assert_eq!(updates[0][1]["naming_schema"], "daily-%Y-%m-%d_%H-%M");
    // Each keeps the removal date the old task gave it: its time plus 4 weeks.
    assert_eq!(
        removal_dates(&f),
        [
            (
                "auto-2025-10-31_00-00".to_string(),
                Some("2025-11-28T00:00:00".to_string())
            ),
            (
                "auto-2025-11-01_00-00".to_string(),
                Some("2025-11-29T00:00:00".to_string())
            ),
            (
                "auto-2025-11-02_00-00".to_string(),
                Some("2025-11-30T00:00:00".to_string())
            ),
        ]
    );
    // The preview itself never carries it (its schema has no such field).
    let previews = traced_params(&f, "pool.snapshottask.update_will_change_retention_for");
    assert!(!previews.is_empty());
    assert!(
        previews
            .iter()
            .all(|p| p[1].get("fixate_removal_date").is_none()),
        "{previews:?}"
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    f.assert_trace_valid(10);
}

#[test]
fn deleting_a_managed_task_warns_and_the_system_s_fixate_removal_date_is_sent() {
    let mut f = with_snapshots();
    f.raw_config(
        "e2e",
        "systems:\n  nas1: { simulator: { fixture: sim/nas1.yaml }, fixate_removal_date: true }\n",
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.codes(), ["zfleet::check::retention"]);
    assert_eq!(
        warnings(&f),
        [(
            "nas1".to_string(),
            "snapshot task media-daily".to_string(),
            "deleting snapshot task media-daily changes the retention of existing snapshots — tank/media: 3 snapshots (oldest auto-2025-10-31_00-00, newest auto-2025-11-02_00-00); they keep the removal dates they have now (`fixate_removal_date`)".to_string()
        )]
    );
    f.clear_trace();
    f.zfleet(&["apply", "--yes"]).expect(0);
    let deletes = traced_params(&f, "pool.snapshottask.delete");
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0][1]["fixate_removal_date"], true, "{deletes:?}");
    assert!(f.snapshot_tasks("nas1").is_empty());
    assert_eq!(
        removal_dates(&f)
            .into_iter()
            .map(|(_, d)| d)
            .collect::<Vec<_>>(),
        [
            Some("2025-11-28T00:00:00".to_string()),
            Some("2025-11-29T00:00:00".to_string()),
            Some("2025-11-30T00:00:00".to_string()),
        ]
    );
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    f.assert_trace_valid(5);
}
