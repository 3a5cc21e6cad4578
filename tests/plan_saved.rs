//! Saved plans: `zfleet plan -o FILE` then `zfleet apply FILE` applies exactly that plan,
//! without asking, and only while the config and the live state are those it was made from.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::Fleet;

const CONFIG: &str = r#"snapshot_tasks:
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
replications:
  media-offsite:
    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
"#;

const NO_CHANGES: &str = "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n";

fn fleet() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system("backup", "25.04", &fleet::backup_fixture())
        .config("e2e", CONFIG);
    f
}

/// The live state of both systems that a refused apply must leave as it was.
fn live(f: &Fleet) -> Vec<serde_json::Value> {
    ["nas1", "backup"]
        .iter()
        .flat_map(|s| {
            [
                serde_json::Value::Array(f.snapshot_tasks(s)),
                serde_json::Value::Array(f.replications(s)),
                serde_json::to_value(f.records(s)).expect("records"),
            ]
        })
        .collect()
}

#[test]
fn a_saved_plan_is_applied_without_asking_and_converges() {
    let f = fleet();
    let plan = f.zfleet(&["plan", "-o", "p.json", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(
        plan.stderr,
        "Saved the plan to p.json; apply it with `zfleet apply p.json`.\n"
    );
    // stdin is not a terminal and there is no `--yes`: a saved plan needs neither.
    let apply = f.zfleet(&["apply", "p.json"]);
    apply.expect(0);
    assert!(
        apply.stdout.starts_with(&plan.stdout),
        "the saved plan is shown\n{}",
        apply.stdout
    );
    assert!(
        apply.stdout.ends_with(
            "\n✓ nas1: create snapshot task media-daily — done\n✓ nas1: create replication media-offsite — done\nApply: 2 done, 0 failed, 0 skipped.\n"
        ),
        "{}",
        apply.stdout
    );
    assert_eq!(f.snapshot_tasks("nas1").len(), 1);
    assert_eq!(f.replications("nas1").len(), 1);
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(20);
}

#[test]
fn a_saved_plan_is_refused_when_the_live_state_moved() {
    let mut f = fleet();
    f.zfleet(&["apply", "--yes"]).expect(0);
    f.config(
        "e2e",
        &CONFIG.replace("lifetime: 4 weeks", "lifetime: 6 weeks"),
    );
    f.zfleet(&["plan", "-o", "p.json", "--detailed-exitcode"])
        .expect(2);
    // Someone edits the task in the TrueNAS UI in between.
    let id = f.snapshot_tasks("nas1")[0]["id"].to_string();
    f.call(
        "nas1",
        "pool.snapshottask.update",
        &[&id, r#"{"lifetime_value": 5}"#],
    );
    let before = live(&f);
    let apply = f.zfleet(&["apply", "p.json"]);
    apply.expect(1);
    assert_eq!(apply.stdout, "");
    assert_eq!(
        apply.stderr,
        "zfleet::apply::stale_plan\n\n  × the live state moved since the plan was made (nas1: snapshot tasks)\n  help: make a new plan with `zfleet plan -o FILE`, review it, and apply that\n\n"
    );
    assert_eq!(live(&f), before, "nothing changed");
    assert_eq!(f.snapshot_tasks("nas1")[0]["lifetime_value"], 5);
}

#[test]
fn a_saved_plan_is_refused_when_the_config_changed() {
    let mut f = fleet();
    f.zfleet(&["plan", "-o", "p.json"]).expect(0);
    f.config(
        "e2e",
        &CONFIG.replace("lifetime: 4 weeks", "lifetime: 6 weeks"),
    );
    let before = live(&f);
    let apply = f.zfleet(&["apply", "p.json"]);
    apply.expect(1);
    assert_eq!(apply.stdout, "");
    assert_eq!(
        apply.stderr,
        "zfleet::apply::stale_plan\n\n  × the config changed since the plan was made\n  help: make a new plan with `zfleet plan -o FILE`, review it, and apply that\n\n"
    );
    assert_eq!(live(&f), before, "nothing changed");
    assert!(f.snapshot_tasks("nas1").is_empty());
}

#[test]
fn a_saved_plan_with_errors_is_refused() {
    let mut f = fleet();
    f.config(
        "e2e",
        &CONFIG.replace(
            "replications:",
            "  gone: { system: nas1, dataset: tank/nope, schedule: daily, lifetime: 1 week }\nreplications:",
        ),
    );
    let plan = f.zfleet(&["plan", "-o", "p.json"]);
    plan.expect(1);
    assert_eq!(
        plan.codes(),
        ["zfleet::check::dataset_missing"],
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .ends_with("Saved the plan to p.json; apply it with `zfleet apply p.json`.\n"),
        "{}",
        plan.stderr
    );
    let apply = f.zfleet(&["apply", "p.json"]);
    apply.expect(1);
    assert_eq!(apply.stdout, "");
    assert_eq!(
        apply.stderr,
        "zfleet::apply::blocked\n\n  × the saved plan has errors and is never applied\n  help: fix the errors `zfleet plan` shows and save a new plan\n\n"
    );
    assert!(f.snapshot_tasks("nas1").is_empty());
    assert!(f.replications("nas1").is_empty());
}

#[test]
fn a_file_that_is_not_a_saved_plan_is_refused() {
    let f = fleet();
    let cases = [
        (
            "garbage.json",
            "<html>",
            "garbage.json cannot be applied: it is not JSON: expected value at line 1 column 1",
        ),
        (
            "other.json",
            r#"{"kind": "something else"}"#,
            "other.json cannot be applied: it is not a plan saved by `zfleet plan -o`",
        ),
        (
            "future.json",
            r#"{"kind": "zfleet-plan", "format_version": 99}"#,
            "future.json cannot be applied: it has plan format 99, and this zfleet reads format 1",
        ),
    ];
    for (name, text, message) in cases {
        std::fs::write(f.path().join(name), text).expect("write");
        let apply = f.zfleet(&["apply", name]);
        apply.expect(1);
        assert_eq!(apply.stdout, "");
        assert_eq!(
            apply.stderr,
            format!(
                "zfleet::cli::plan_file\n\n  × {message}\n  help: make a plan file with `zfleet plan -o FILE`\n\n"
            )
        );
    }
    let missing = f.zfleet(&["apply", "missing.json"]);
    missing.expect(1);
    assert_eq!(missing.codes(), ["zfleet::cli::plan_file"]);
    assert!(
        missing
            .stderr
            .contains("× cannot read missing.json: No such file or directory"),
        "{}",
        missing.stderr
    );
    // No system was even read: the file is checked first.
    assert!(f.traced_methods("nas1").is_empty());
    assert!(!f.state_file("nas1").exists());
}
