//! `zfleet plan` and `zfleet apply` end to end against embedded simulated fleets: create,
//! update in place, delete, ownership, adoption, pruning, scoping and confirmation, read
//! back from the systems' live state.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::{Fleet, STANDARD_CONFIG, standard};
use serde_json::Value;

const NO_CHANGES: &str = "\
backup (TrueNAS 25.04.2): no changes

nas1 (TrueNAS 25.10.1): no changes

v133 (TrueNAS CORE 13.3-U1.1): no changes

v2404 (TrueNAS SCALE 24.04.2): no changes

v2410 (TrueNAS SCALE 24.10.2): no changes

No changes. The live state matches the config.
";

/// The stderr lines sorted: systems are applied in parallel, so their log lines interleave.
fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

fn names(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|t| t[key].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The standard fleet created from empty and applied once.
fn applied() -> Fleet {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    f.zfleet(&["apply", "--yes"]).expect(0);
    f
}

#[test]
fn create_from_empty_then_no_changes() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);

    let first = f.zfleet(&["plan", "--detailed-exitcode"]);
    first.expect(2);
    assert_eq!(first.stderr, "");
    assert!(
        first
            .stdout
            .ends_with("\nPlan: 8 to add, 0 to change, 0 to delete.\n"),
        "{}",
        first.stdout
    );
    // Without --detailed-exitcode a plan with changes is a success.
    f.zfleet(&["plan"]).expect(0);

    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    let summary = "
✓ backup: create snapshot backup/nas1@manual-%Y-%m-%d_%H-%M — done
✓ nas1: create snapshot task data-hourly — done
✓ nas1: create snapshot task media-daily — done
✓ nas1: create replication data-local — done
✓ nas1: create replication media-offsite — done
✓ v133: create snapshot task home-133 — done
✓ v2404: create snapshot task home-2404 — done
✓ v2410: create snapshot task home-2410 — done
Apply: 8 done, 0 failed, 0 skipped.
";
    assert_eq!(apply.stdout, format!("{}{summary}", first.stdout));
    assert_eq!(
        sorted_lines(&apply.stderr),
        [
            "backup: recording ownership",
            "backup: snapshots",
            "nas1: recording ownership",
            "nas1: replications",
            "nas1: snapshot tasks",
            "v133: recording ownership",
            "v133: snapshot tasks",
            "v2404: recording ownership",
            "v2404: snapshot tasks",
            "v2410: recording ownership",
            "v2410: snapshot tasks",
        ]
    );

    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    assert_eq!(again.stderr, "");
    // A second apply changes nothing and says so.
    let noop = f.zfleet(&["apply", "--yes"]);
    noop.expect(0);
    assert_eq!(noop.stdout, NO_CHANGES);

    // The live state: what the config asks for, each recorded once.
    let tasks = f.snapshot_tasks("nas1");
    assert_eq!(names(&tasks, "dataset"), ["tank/data", "tank/media"]);
    assert_eq!(tasks[0]["exclude"], serde_json::json!(["tank/data/cache"]));
    assert_eq!(tasks[0]["schedule"]["minute"], "0");
    assert_eq!(tasks[0]["schedule"]["hour"], "*");
    let reps = f.replications("nas1");
    assert_eq!(names(&reps, "name"), ["data-local", "media-offsite"]);
    assert_eq!(reps[0]["transport"], "LOCAL");
    assert_eq!(reps[1]["transport"], "SSH");
    assert_eq!(reps[1]["ssh_credentials"]["id"], 2, "{}", reps[1]);
    let task_ids: Vec<i64> = tasks.iter().filter_map(|t| t["id"].as_i64()).collect();
    assert_eq!(
        reps[0]["periodic_snapshot_tasks"][0]["id"].as_i64(),
        Some(task_ids[0])
    );
    assert_eq!(
        reps[1]["periodic_snapshot_tasks"][0]["id"].as_i64(),
        Some(task_ids[1])
    );
    for system in ["v2410", "v2404", "v133"] {
        let t = f.snapshot_tasks(system);
        assert_eq!(names(&t, "dataset"), ["pool/home"], "{system}");
    }
    let snaps = f.call(
        "backup",
        "zfs.snapshot.query",
        &[
            r#"[["dataset", "=", "backup/nas1"]]"#,
            r#"{"select": ["name"]}"#,
        ],
    );
    assert_eq!(
        names(snaps.as_array().expect("list"), "name"),
        ["backup/nas1@manual-2025-10-30_13-30"]
    );
    let records = f.records("nas1");
    let expected = serde_json::json!({
        "tank/data": {
            "zfleet:e2e:rep-1": "{\"name\":\"data-local\"}",
            "zfleet:e2e:st-1": "{\"name\":\"data-hourly\"}",
        },
        "tank/media": {
            "zfleet:e2e:rep-2": "{\"name\":\"media-offsite\"}",
            "zfleet:e2e:st-2": "{\"name\":\"media-daily\"}",
        },
    });
    assert_eq!(serde_json::to_value(&records).expect("json"), expected);
    assert_eq!(
        serde_json::to_value(f.records("v133")).expect("json"),
        serde_json::json!({"pool/home": {"zfleet:e2e:st-1": "{\"name\":\"home-133\"}"}})
    );
    f.assert_trace_valid(40);
}
