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

/// The id of the item whose `key` is `value` (ids follow the order a batch's concurrent
/// creates finish in, so tests look them up).
fn id_of(items: &[Value], key: &str, value: &str) -> i64 {
    items
        .iter()
        .find(|t| t[key] == value)
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("no {key} = {value} in {items:?}"))
}

/// Sorted by `key`.
fn sorted_by(mut items: Vec<Value>, key: &str) -> Vec<Value> {
    items.sort_by_key(|t| t[key].as_str().unwrap_or_default().to_string());
    items
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
            "backup: taking the lock",
            "nas1: recording ownership",
            "nas1: replications",
            "nas1: snapshot tasks",
            "nas1: taking the lock",
            "v133: recording ownership",
            "v133: snapshot tasks",
            "v133: taking the lock",
            "v2404: recording ownership",
            "v2404: snapshot tasks",
            "v2404: taking the lock",
            "v2410: recording ownership",
            "v2410: snapshot tasks",
            "v2410: taking the lock",
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
    let tasks = sorted_by(f.snapshot_tasks("nas1"), "dataset");
    assert_eq!(names(&tasks, "dataset"), ["tank/data", "tank/media"]);
    assert_eq!(tasks[0]["exclude"], serde_json::json!(["tank/data/cache"]));
    assert_eq!(tasks[0]["schedule"]["minute"], "0");
    assert_eq!(tasks[0]["schedule"]["hour"], "*");
    let reps = sorted_by(f.replications("nas1"), "name");
    assert_eq!(names(&reps, "name"), ["data-local", "media-offsite"]);
    assert_eq!(reps[0]["transport"], "LOCAL");
    assert_eq!(reps[1]["transport"], "SSH");
    assert_eq!(reps[1]["ssh_credentials"]["id"], 2, "{}", reps[1]);
    assert_eq!(reps[0]["periodic_snapshot_tasks"][0]["id"], tasks[0]["id"]);
    assert_eq!(reps[1]["periodic_snapshot_tasks"][0]["id"], tasks[1]["id"]);
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
    let record = |kind: &str, id: &Value, name: &str| {
        (
            format!("zfleet:e2e:{kind}-{id}"),
            Value::String(format!("{{\"name\":\"{name}\"}}")),
        )
    };
    let expected = serde_json::json!({
        "tank/data": serde_json::Map::from_iter([
            record("rep", &reps[0]["id"], "data-local"),
            record("st", &tasks[0]["id"], "data-hourly"),
        ]),
        "tank/media": serde_json::Map::from_iter([
            record("rep", &reps[1]["id"], "media-offsite"),
            record("st", &tasks[1]["id"], "media-daily"),
        ]),
    });
    assert_eq!(serde_json::to_value(&records).expect("json"), expected);
    assert_eq!(
        serde_json::to_value(f.records("v133")).expect("json"),
        serde_json::json!({"pool/home": {"zfleet:e2e:st-1": "{\"name\":\"home-133\"}"}})
    );
    f.assert_trace_valid(40);
}

/// `text` with `from` replaced by `to`, which must occur exactly once.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} in\n{text}");
    text.replace(from, to)
}

/// The part of a plan about one system: from its heading to the blank line after it.
fn section<'a>(plan: &'a str, system: &str) -> &'a str {
    let start = plan
        .find(&format!("{system} ("))
        .unwrap_or_else(|| panic!("no {system} in\n{plan}"));
    let rest = &plan[start..];
    let end = rest.find("\n\n").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn edits_in_place_show_old_and_new_then_converge() {
    let mut f = applied();
    let config = edit(
        STANDARD_CONFIG,
        "recursive: true, exclude: [tank/data/cache], schedule: hourly, lifetime: 2 weeks",
        "recursive: true, exclude: [tank/data/cache, tank/data/docs], schedule: { cron: \"15 */2 * * *\" }, lifetime: 3 days",
    );
    let config = edit(
        &config,
        "    exclude: [tank/data/cache]\n    retention: source\n",
        "    exclude: [tank/data/cache, tank/data/docs]\n    retention: { custom: 2 weeks }\n",
    );
    let config = edit(
        &config,
        "    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]",
        "    sources:\n      - { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] }\n      - { system: v2410, datasets: [pool/home], snapshot_tasks: [home-2410] }",
    );
    f.config("e2e", &config);
    let task_id = id_of(&f.snapshot_tasks("nas1"), "dataset", "tank/data");
    let rep_id = id_of(&f.replications("nas1"), "name", "data-local");
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert_eq!(
        section(&plan.stdout, "nas1"),
        format!(
            "\
nas1 (TrueNAS 25.10.1)
   ~ update snapshot task data-hourly (#{task_id})
      exclude   [tank/data/cache] → [tank/data/cache, tank/data/docs]
      lifetime  2 WEEK → 3 DAY
      schedule  0 * * * * → 15 */2 * * *
   ~ update replication data-local (#{rep_id})
      exclude           [tank/data/cache] → [tank/data/cache, tank/data/docs]
      retention_policy  SOURCE → CUSTOM
      lifetime          null → 2 WEEK
"
        )
    );
    let v2410 = section(&plan.stdout, "v2410");
    assert!(
        v2410.starts_with(
            "v2410 (TrueNAS SCALE 24.10.2)\n   + create replication media-offsite\n      direction                PUSH\n      transport                SSH\n      ssh_credentials          to-backup\n      source_datasets          [pool/home]\n"
        ),
        "{v2410}"
    );
    for quiet in ["backup", "v133", "v2404"] {
        assert!(
            section(&plan.stdout, quiet).ends_with(": no changes\n"),
            "{quiet}"
        );
    }
    assert!(
        plan.stdout
            .ends_with("\nPlan: 1 to add, 2 to change, 0 to delete.\n")
    );

    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(apply.stdout.ends_with(
        "
✓ nas1: update snapshot task data-hourly — done
✓ nas1: update replication data-local — done
✓ v2410: create replication media-offsite — done
Apply: 3 done, 0 failed, 0 skipped.
"
    ));
    let task = &sorted_by(f.snapshot_tasks("nas1"), "dataset")[0];
    assert_eq!(
        (
            &task["lifetime_value"],
            &task["lifetime_unit"],
            &task["schedule"]["minute"],
            &task["schedule"]["hour"],
            &task["exclude"],
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!("DAY"),
            &serde_json::json!("15"),
            &serde_json::json!("*/2"),
            &serde_json::json!(["tank/data/cache", "tank/data/docs"]),
        )
    );
    let rep = &sorted_by(f.replications("nas1"), "name")[0];
    assert_eq!(rep["retention_policy"], "CUSTOM");
    assert_eq!(
        (&rep["lifetime_value"], &rep["lifetime_unit"]),
        (&serde_json::json!(2), &serde_json::json!("WEEK"))
    );
    let on_v2410 = f.replications("v2410");
    assert_eq!(names(&on_v2410, "name"), ["media-offsite"]);
    assert_eq!(on_v2410[0]["ssh_credentials"]["name"], "to-backup");
    assert_eq!(on_v2410[0]["periodic_snapshot_tasks"][0]["id"], 1);

    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(60);
}

#[test]
fn removed_from_the_config_is_deleted_with_its_record() {
    let mut f = applied();
    let config = edit(
        STANDARD_CONFIG,
        "  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }\n",
        "",
    );
    let config = edit(
        &config,
        "  media-offsite:\n    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/media }\n    retention: source\n",
        "",
    );
    f.config("e2e", &config);
    let task_id = id_of(&f.snapshot_tasks("nas1"), "dataset", "tank/media");
    let rep_id = id_of(&f.replications("nas1"), "name", "media-offsite");
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(
        plan.stdout,
        format!(
            "\
backup (TrueNAS 25.04.2): no changes

nas1 (TrueNAS 25.10.1)
   - delete replication media-offsite (#{rep_id})  # no longer in the config
   - delete snapshot task media-daily (#{task_id})  # no longer in the config

v133 (TrueNAS CORE 13.3-U1.1): no changes

v2404 (TrueNAS SCALE 24.04.2): no changes

v2410 (TrueNAS SCALE 24.10.2): no changes

Plan: 0 to add, 0 to change, 2 to delete.
"
        )
    );
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(apply.stdout.ends_with(
        "
✓ nas1: delete replication media-offsite — done
✓ nas1: delete snapshot task media-daily — done
Apply: 2 done, 0 failed, 0 skipped.
"
    ));
    assert_eq!(names(&f.snapshot_tasks("nas1"), "dataset"), ["tank/data"]);
    assert_eq!(names(&f.replications("nas1"), "name"), ["data-local"]);
    let records = f.records("nas1");
    assert_eq!(records.keys().collect::<Vec<_>>(), ["tank/data"]);
    let media = f.call(
        "nas1",
        "pool.dataset.query",
        &[
            r#"[["name", "=", "tank/media"]]"#,
            r#"{"select": ["name", "user_properties"]}"#,
        ],
    );
    assert_eq!(media[0]["user_properties"], serde_json::json!({}));
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    f.assert_trace_valid(40);
}

/// nas1 with a hand-made snapshot task and replication, and a task like data-hourly made
/// by hand with another lifetime.
fn hand_made() -> Fleet {
    hand_made_on("25.10")
}

fn hand_made_on(version: &str) -> Fleet {
    let mut f = Fleet::new();
    let nas1 = format!(
        r#"{}snapshot_tasks:
  - {{ dataset: tank/local, lifetime_value: 5, lifetime_unit: DAY, naming_schema: "hand-%Y%m%d-%H%M", schedule: {{ minute: "30", hour: "3" }} }}
  - {{ dataset: tank/data, recursive: true, exclude: [tank/data/cache], lifetime_value: 1, lifetime_unit: WEEK, schedule: {{ minute: "0" }} }}
snapshots: [tank/media@hand-20251030-0330]
replications:
  - {{ name: hand-rep, direction: PUSH, transport: LOCAL, source_datasets: [tank/media], target_dataset: tank/local/media, recursive: false, auto: false, retention_policy: NONE, also_include_naming_schema: ["hand-%Y%m%d-%H%M"] }}
"#,
        fleet::nas1_fixture()
    );
    f.system("nas1", version, &nas1);
    f
}

const ADOPTING: &str = "snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, exclude: [tank/data/cache], schedule: hourly, lifetime: 2 weeks, adopt: true }
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
";

const MEDIA_DAILY_CREATE: &str = "   + create snapshot task media-daily
      dataset        tank/media
      recursive      false
      exclude        []
      lifetime       4 WEEK
      naming_schema  auto-%Y-%m-%d_%H-%M
      schedule       0 0 * * *
      allow_empty    true
      enabled        true
";

#[test]
fn hand_made_tasks_are_left_alone_and_adopt_takes_one_over() {
    let mut f = hand_made();
    f.config("e2e", ADOPTING);
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(
        plan.stdout,
        format!(
            "\
nas1 (TrueNAS 25.10.1)
  <= adopt snapshot task data-hourly (#2)  # made by hand; adopted
      lifetime  1 WEEK → 2 WEEK
{MEDIA_DAILY_CREATE}  not managed by this config (left alone):
    snapshot task #1: tank/local (hand-%Y%m%d-%H%M, every 30 3 * * *)
    replication #1: hand-rep (PUSH tank/media → tank/local/media)

Plan: 1 to add, 1 to change, 0 to delete.
"
        )
    );
    let hand_task = || f.call("nas1", "pool.snapshottask.query", &[r#"[["id", "=", 1]]"#]);
    let hand_rep = || f.call("nas1", "replication.query", &[r#"[["id", "=", 1]]"#]);
    let (task_before, rep_before) = (hand_task(), hand_rep());
    f.zfleet(&["apply", "--yes"]).expect(0);
    assert_eq!(hand_task(), task_before, "hand-made task byte-identical");
    assert_eq!(
        hand_rep(),
        rep_before,
        "hand-made replication byte-identical"
    );
    let tasks = f.snapshot_tasks("nas1");
    assert_eq!(tasks.len(), 3, "adopted, not duplicated");
    assert_eq!(tasks[1]["lifetime_value"], 2);
    assert_eq!(
        f.records("nas1")["tank/data"],
        [(
            "zfleet:e2e:st-2".to_string(),
            "{\"name\":\"data-hourly\"}".to_string()
        )]
        .into()
    );
    let after = f.zfleet(&["plan", "--detailed-exitcode"]);
    after.expect(0);
    assert_eq!(
        after.stdout,
        "\
nas1 (TrueNAS 25.10.1)
  not managed by this config (left alone):
    snapshot task #1: tank/local (hand-%Y%m%d-%H%M, every 30 3 * * *)
    replication #1: hand-rep (PUSH tank/media → tank/local/media)

No changes. The live state matches the config.
"
    );

    // `prune: true` deletes what this config does not manage.
    f.raw_config(
        "e2e",
        &format!("systems:\n  nas1: {{ simulator: {{ fixture: sim/nas1.yaml }}, prune: true }}\n{ADOPTING}"),
    );
    let prune = f.zfleet(&["plan", "--detailed-exitcode"]);
    prune.expect(2);
    assert_eq!(
        prune.stdout,
        "\
nas1 (TrueNAS 25.10.1)
   - delete replication hand-rep (#1)  # not managed, and the system has `prune: true`
   - delete snapshot task on tank/local (hand-%Y%m%d-%H%M) (#1)  # not managed, and the system has `prune: true`

Plan: 0 to add, 0 to change, 2 to delete.
"
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    assert_eq!(
        names(&f.snapshot_tasks("nas1"), "dataset"),
        ["tank/data", "tank/media"]
    );
    assert!(f.replications("nas1").is_empty());
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    f.assert_trace_valid(30);
}

#[test]
fn two_projects_on_one_system_never_touch_each_other() {
    let mut alpha = Fleet::new();
    alpha.system("nas1", "25.10", &fleet::nas1_fixture()).config(
        "alpha",
        "snapshot_tasks:\n  a-task: { system: nas1, dataset: tank/data, schedule: hourly, lifetime: 1 week }\n",
    );
    alpha.zfleet(&["apply", "--yes"]).expect(0);
    let shared = alpha.state_dir();

    // beta prunes nas1: everything it does not manage, except another project's tasks.
    let mut beta = Fleet::new();
    beta.system("nas1", "25.10", &fleet::nas1_fixture())
        .share_state(&shared)
        .raw_config(
            "beta",
            "systems:\n  nas1: { simulator: { fixture: sim/nas1.yaml }, prune: true }\nsnapshot_tasks:\n  b-task: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 1 week }\n",
        );
    let plan = beta.zfleet(&["plan"]);
    plan.expect(0);
    assert_eq!(
        plan.stdout,
        "\
nas1 (TrueNAS 25.10.1)
   + create snapshot task b-task
      dataset        tank/media
      recursive      false
      exclude        []
      lifetime       1 WEEK
      naming_schema  auto-%Y-%m-%d_%H-%M
      schedule       0 0 * * *
      allow_empty    true
      enabled        true
  not managed by this config (left alone):
    snapshot task #1: tank/data (auto-%Y-%m-%d_%H-%M, every 0 * * * *) [project alpha]

Plan: 1 to add, 0 to change, 0 to delete.
"
    );
    let a_before = alpha.snapshot_tasks("nas1");
    beta.zfleet(&["apply", "--yes"]).expect(0);
    assert_eq!(alpha.snapshot_tasks("nas1")[0], a_before[0]);
    assert_eq!(
        alpha.records("nas1"),
        [
            (
                "tank/data".to_string(),
                [(
                    "zfleet:alpha:st-1".to_string(),
                    "{\"name\":\"a-task\"}".to_string()
                )]
                .into()
            ),
            (
                "tank/media".to_string(),
                [(
                    "zfleet:beta:st-2".to_string(),
                    "{\"name\":\"b-task\"}".to_string()
                )]
                .into()
            ),
        ]
        .into()
    );
    let back = alpha.zfleet(&["plan", "--detailed-exitcode"]);
    back.expect(0);
    assert_eq!(
        back.stdout,
        "\
nas1 (TrueNAS 25.10.1)
  not managed by this config (left alone):
    snapshot task #2: tank/media (auto-%Y-%m-%d_%H-%M, every 0 0 * * *) [project beta]

No changes. The live state matches the config.
"
    );
    beta.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn a_recorded_task_deleted_by_hand_is_noted_and_its_record_forgotten() {
    let f = applied();
    f.call("v133", "pool.snapshottask.delete", &["1"]);
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert_eq!(
        section(&plan.stdout, "v133"),
        "\
v133 (TrueNAS CORE 13.3-U1.1)
   + create snapshot task home-133
      dataset        pool/home
      recursive      false
      exclude        []
      lifetime       1 WEEK
      naming_schema  auto-%Y-%m-%d_%H-%M
      schedule       0 0 * * *
      allow_empty    true
      enabled        true
  note: snapshot task home-133 (#1) is gone; its record on pool/home is forgotten
"
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    assert_eq!(
        serde_json::to_value(f.records("v133")).expect("json"),
        serde_json::json!({"pool/home": {"zfleet:e2e:st-2": "{\"name\":\"home-133\"}"}})
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
}

#[test]
fn a_record_alone_is_forgotten_without_changes() {
    // The task is gone and no longer in the config: only the record is left to remove.
    let mut f = applied();
    f.call("v133", "pool.snapshottask.delete", &["1"]);
    f.config(
        "e2e",
        &edit(
            STANDARD_CONFIG,
            "  home-133: { system: v133, dataset: pool/home, schedule: daily, lifetime: 1 week }\n",
            "",
        ),
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(0);
    assert_eq!(
        section(&plan.stdout, "v133"),
        "v133 (TrueNAS CORE 13.3-U1.1)\n  note: snapshot task home-133 (#1) is gone; its record on pool/home is forgotten\n"
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    assert!(f.records("v133").is_empty());
    let again = f.zfleet(&["plan"]);
    assert_eq!(
        section(&again.stdout, "v133"),
        "v133 (TrueNAS CORE 13.3-U1.1): no changes\n"
    );
}

#[test]
fn apply_off_a_terminal_needs_yes_and_changes_nothing() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    let plan = f.zfleet(&["plan"]);
    let run = f.zfleet(&["apply"]);
    run.expect(1);
    assert_eq!(run.stdout, plan.stdout);
    assert_eq!(
        run.stderr,
        "zfleet::apply::needs_yes\n\n  × apply needs `--yes` when it cannot ask on a terminal\n  help: review the plan above, then run `zfleet apply --yes` (or save it with `zfleet plan -o\n        FILE` and apply that)\n\n"
    );
    for s in ["nas1", "v2410", "v2404", "v133", "backup"] {
        assert!(f.snapshot_tasks(s).is_empty(), "{s}");
        assert!(f.records(s).is_empty(), "{s}");
    }
    let text = std::fs::read_to_string(f.trace_file()).expect("trace");
    assert!(
        !text.contains(".create") && !text.contains(".update"),
        "{text}"
    );
}

#[test]
fn a_failing_call_mid_apply_is_reported_and_a_rerun_converges() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    f.zfleet(&["plan"]).expect(0);
    f.faults("nas1", &["--fail", "replication.create"]);
    let run = f.zfleet(&["apply", "--yes"]);
    run.expect(1);
    assert!(
        run.stdout.ends_with(
            "
✓ backup: create snapshot backup/nas1@manual-%Y-%m-%d_%H-%M — done
✓ nas1: create snapshot task data-hourly — done
✓ nas1: create snapshot task media-daily — done
✗ nas1: create replication data-local — failed
    nas1: replication.create: [EFAULT] Injected failure of replication.create
✗ nas1: create replication media-offsite — failed
    nas1: replication.create: [EFAULT] Injected failure of replication.create
✓ v133: create snapshot task home-133 — done
✓ v2404: create snapshot task home-2404 — done
✓ v2410: create snapshot task home-2410 — done
Apply: 6 done, 2 failed, 0 skipped.
"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.ends_with(
            "zfleet::apply::failed\n\n  × apply did not finish on every system\n  help: the summary above says what failed; run `zfleet plan` to see what is left, fix the cause,\n        and apply again\n\n"
        ),
        "{}",
        run.stderr
    );
    assert!(f.replications("nas1").is_empty());
    // The tasks made before the failure are recognised, not made again.
    let tasks = f.snapshot_tasks("nas1");
    let (data, media) = (
        id_of(&tasks, "dataset", "tank/data"),
        id_of(&tasks, "dataset", "tank/media"),
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert!(
        plan.stdout.contains(&format!(
            "nas1 (TrueNAS 25.10.1)\n  <= adopt snapshot task data-hourly (#{data})  # made by an interrupted apply\n  <= adopt snapshot task media-daily (#{media})  # made by an interrupted apply\n   + create replication data-local\n"
        )),
        "{}",
        plan.stdout
    );
    f.faults("nas1", &[]);
    let rerun = f.zfleet(&["apply", "--yes"]);
    rerun.expect(0);
    assert!(
        rerun
            .stdout
            .ends_with("Apply: 4 done, 0 failed, 0 skipped.\n"),
        "{}",
        rerun.stdout
    );
    assert_eq!(f.snapshot_tasks("nas1").len(), 2, "no duplicate tasks");
    assert_eq!(f.replications("nas1").len(), 2);
    for s in ["v2410", "v2404", "v133"] {
        assert_eq!(f.snapshot_tasks(s).len(), 1, "{s}");
    }
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(40);
}

#[test]
fn a_pull_replication_into_a_new_target_is_created() {
    const NAS1_HOST_KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxkBNbOoqL3lTnNmFbE8ZcF0f4v9cXz3HnJ3Jmn9z2W";
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        &format!("{}ssh: {{ host_keys: [\"{NAS1_HOST_KEY}\"] }}\n", fleet::nas1_fixture()),
    )
    .system(
        "backup",
        "25.04",
        &format!(
            "{}keychain:\n  - {{ name: k, type: SSH_KEY_PAIR, attributes: {{ public_key: \"{NAS1_HOST_KEY} k\" }} }}\n  - {{ name: to-nas1, type: SSH_CREDENTIALS, attributes: {{ host: 192.0.2.10, username: root, private_key: 1, remote_host_key: \"{NAS1_HOST_KEY}\" }} }}\n",
            fleet::backup_fixture()
        ),
    )
    .config(
        "e2e",
        "snapshot_tasks:\n  docs: { system: nas1, dataset: tank/data/docs, schedule: hourly, lifetime: 1 week }\nreplications:\n  pulled:\n    direction: pull\n    sources: [ { system: nas1, datasets: [tank/data/docs], naming_schema: \"auto-%Y-%m-%d_%H-%M\" } ]\n    target: { system: backup, dataset: backup/nas1/docs }\n    retention: source\n",
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert!(
        plan.stdout
            .contains("backup (TrueNAS 25.04.2)\n   + create replication pulled\n"),
        "{}",
        plan.stdout
    );
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert_eq!(names(&f.replications("backup"), "name"), ["pulled"]);
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn a_replication_of_several_datasets_binds_one_task_per_dataset() {
    let mut f = standard();
    let config = edit(
        STANDARD_CONFIG,
        "    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/media }\n",
        "    sources: [ { system: nas1, datasets: [tank/data, tank/media], snapshot_tasks: [data-hourly, media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/all }\n    recursive: true\n    exclude: [tank/data/cache]\n",
    );
    let config = edit(
        &config,
        "dataset: tank/media, schedule: daily",
        "dataset: tank/media, recursive: true, schedule: daily",
    );
    f.config("e2e", &config);
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    f.zfleet(&["apply", "--yes"]).expect(0);
    let rep = f
        .replications("nas1")
        .into_iter()
        .find(|r| r["name"] == "media-offsite")
        .expect("created");
    assert_eq!(
        rep["source_datasets"],
        serde_json::json!(["tank/data", "tank/media"])
    );
    assert_eq!(
        rep["periodic_snapshot_tasks"].as_array().map(Vec::len),
        Some(2)
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
}

#[test]
fn a_replication_made_by_an_interrupted_apply_is_claimed_not_duplicated() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    f.zfleet(&["plan"]).expect(0);
    f.faults("nas1", &["--fail", "replication.create"]);
    f.zfleet(&["apply", "--yes"]).expect(1);
    // As if the create had gone through but the answer was lost: the same call, made again.
    let trace = std::fs::read_to_string(f.trace_file()).expect("trace");
    let sent = trace
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|c| c["method"] == "replication.create" && c["params"][0]["name"] == "media-offsite")
        .expect("replication.create of media-offsite traced");
    f.faults("nas1", &[]);
    let payload = sent["params"][0].to_string();
    let made = f.call("nas1", "replication.create", &[&payload]);
    let id = made["id"].as_i64().expect("created");
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.contains("   + create replication data-local\n")
            && plan.stdout.contains(&format!(
                "  <= adopt replication media-offsite (#{id})  # made by an interrupted apply\n"
            )),
        "{}",
        plan.stdout
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    let reps = f.replications("nas1");
    assert_eq!(reps.len(), 2, "no duplicate");
    assert_eq!(id_of(&reps, "name", "media-offsite"), id);
    let media = &f.records("nas1")["tank/media"];
    assert_eq!(
        media
            .get(&format!("zfleet:e2e:rep-{id}"))
            .map(String::as_str),
        Some("{\"name\":\"media-offsite\"}")
    );
    assert!(
        media.keys().all(|k| !k.contains(":pending-")),
        "pending marks removed: {media:?}"
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
}

#[test]
fn a_recursive_one_time_snapshot_leaves_its_excluded_children_out() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture()).config(
        "e2e",
        "snapshots:\n  - { system: nas1, dataset: tank/data, recursive: true, exclude: [tank/data/cache] }\n",
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    let snaps = f.call(
        "nas1",
        "pool.snapshot.query",
        &[r#"[["pool", "=", "tank"]]"#, r#"{"select": ["name"]}"#],
    );
    let mut got = names(snaps.as_array().expect("list"), "name");
    got.sort();
    assert_eq!(
        got,
        [
            "tank/data/docs@manual-2025-10-30_13-30",
            "tank/data@manual-2025-10-30_13-30"
        ]
    );
}

#[test]
fn a_replication_name_another_project_manages_is_taken() {
    let rep = "replications:\n  offsite:\n    sources: [ { system: nas1, datasets: [tank/media], naming_schema: \"auto-%Y-%m-%d_%H-%M\" } ]\n    target: { system: nas1, dataset: tank/local/media }\n    retention: source\n";
    let snapshots = "snapshots:\n  - { system: nas1, dataset: tank/media, naming_schema: \"auto-%Y-%m-%d_%H-%M\" }\n";
    let mut alpha = Fleet::new();
    alpha
        .system("nas1", "25.10", &fleet::nas1_fixture())
        .config("alpha", &format!("{snapshots}{rep}"));
    alpha.zfleet(&["apply", "--yes"]).expect(0);
    let id = id_of(&alpha.replications("nas1"), "name", "offsite");

    let mut beta = Fleet::new();
    beta.system("nas1", "25.10", &fleet::nas1_fixture())
        .share_state(&alpha.state_dir())
        .config("beta", &rep.replace("tank/local/media", "tank/local/beta"));
    let plan = beta.zfleet(&["plan"]);
    plan.expect(1);
    assert_eq!(
        plan.stderr,
        "zfleet::check::name_taken\n\n  × nas1: replication offsite: nas1 already has a replication named \"offsite\", managed by project\n  │ alpha\n  help: rename the replication in this config; zfleet never touches another project's tasks\n\n"
    );
    assert_eq!(
        plan.stdout,
        format!(
            "nas1 (TrueNAS 25.10.1)\n  not managed by this config (left alone):\n    replication #{id}: offsite (PUSH tank/media → tank/local/media) [project alpha]\n\nNo changes. The live state matches the config.\n"
        )
    );
    // Even with `adopt: true`, another project's task is not taken over.
    beta.config(
        "beta",
        &format!(
            "{}    adopt: true\n",
            rep.replace("tank/local/media", "tank/local/beta")
        ),
    );
    beta.zfleet(&["apply", "--yes"]).expect(1);
    let reps = alpha.replications("nas1");
    assert_eq!(reps.len(), 1);
    assert_eq!(reps[0]["target_dataset"], "tank/local/media");
}

#[test]
fn a_hand_made_replication_is_adopted_with_its_differences() {
    let mut f = hand_made();
    f.config(
        "e2e",
        "replications:\n  hand-rep:\n    sources: [ { system: nas1, datasets: [tank/media], naming_schema: \"hand-%Y%m%d-%H%M\" } ]\n    target: { system: nas1, dataset: tank/local/media }\n    schedule: manual\n    retention: { custom: 3 weeks }\n    adopt: true\n",
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert_eq!(
        plan.stdout,
        "\
nas1 (TrueNAS 25.10.1)
  <= adopt replication hand-rep (#1)  # made by hand; adopted
      retention_policy  NONE → CUSTOM
      lifetime          null → 3 WEEK
  not managed by this config (left alone):
    snapshot task #1: tank/local (hand-%Y%m%d-%H%M, every 30 3 * * *)
    snapshot task #2: tank/data (recursive) (auto-%Y-%m-%d_%H-%M, every 0 * * * *)

Plan: 0 to add, 1 to change, 0 to delete.
"
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    let reps = f.replications("nas1");
    assert_eq!(reps.len(), 1, "adopted, not duplicated");
    assert_eq!(
        (&reps[0]["retention_policy"], &reps[0]["lifetime_value"]),
        (&serde_json::json!("CUSTOM"), &serde_json::json!(3))
    );
    assert_eq!(
        f.records("nas1")["tank/media"],
        [(
            "zfleet:e2e:rep-1".to_string(),
            "{\"name\":\"hand-rep\"}".to_string()
        )]
        .into()
    );
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    f.assert_trace_valid(15);
}

#[test]
fn a_week_of_runs_leaves_nothing_to_change() {
    let f = applied();
    let dir = f.state_dir();
    let advance = f.zfleet(&[
        "sim",
        "advance",
        "--state",
        dir.to_str().expect("utf-8"),
        "1w",
    ]);
    advance.expect(0);
    assert!(
        advance.stdout.contains("2 replication runs succeeded")
            || advance.stderr.contains("2 replication runs succeeded"),
        "{}{}",
        advance.stdout,
        advance.stderr
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    assert_eq!(again.stderr, "");
}

/// `zfleet apply` on a terminal (util-linux `script` gives it one), answering `answer`.
fn apply_on_a_terminal(f: &Fleet, answer: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let command = format!("{} apply", env!("CARGO_BIN_EXE_zfleet"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(f.path())
        .env("NO_COLOR", "1")
        .env("HOME", f.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answer.as_bytes())
        .expect("answer");
    let out = child.wait_with_output().expect("script ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
    )
}

#[test]
fn apply_on_a_terminal_asks_and_takes_only_yes() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture()).config(
        "e2e",
        "snapshots:\n  - { system: nas1, dataset: tank/media }\n",
    );
    let (code, screen) = apply_on_a_terminal(&f, "y\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.ends_with(
            "Plan: 1 to add, 0 to change, 0 to delete.\nApply these changes to 1 system? Only 'yes' is accepted: Apply cancelled.\n"
        ),
        "{screen:?}"
    );
    let snaps = || {
        f.call(
            "nas1",
            "pool.snapshot.query",
            &[r#"[["dataset", "=", "tank/media"]]"#],
        )
    };
    assert_eq!(snaps(), serde_json::json!([]));
    let (code, screen) = apply_on_a_terminal(&f, "yes\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.ends_with("\n✓ nas1: create snapshot tank/media@manual-%Y-%m-%d_%H-%M — done\nApply: 1 done, 0 failed, 0 skipped.\n"),
        "{screen:?}"
    );
    assert_eq!(snaps().as_array().map(Vec::len), Some(1));
}

#[test]
fn replications_of_every_version_are_created_run_and_stay_converged() {
    let mut f = Fleet::new();
    f.system("backup", "25.04", &fleet::backup_fixture());
    let versions = [
        ("s2510", "25.10"),
        ("s2504", "25.04"),
        ("s2410", "24.10"),
        ("s2404", "24.04"),
        ("s133", "13.3"),
    ];
    let mut config = String::from("snapshot_tasks:\n");
    let mut reps = String::from("replications:\n");
    for (name, version) in versions {
        f.system(name, version, &fleet::small_with_connection());
        config.push_str(&format!(
            "  {name}-home: {{ system: {name}, dataset: pool/home, recursive: true, schedule: daily, lifetime: 2 weeks }}\n"
        ));
        reps.push_str(&format!(
            "  {name}-offsite:\n    sources: [ {{ system: {name}, datasets: [pool/home], snapshot_tasks: [{name}-home] }} ]\n    target: {{ system: backup, dataset: backup/nas1/{name} }}\n    recursive: true\n    retention: {{ custom: 8 weeks }}\n    compression: lz4\n  {name}-local:\n    sources: [ {{ system: {name}, datasets: [pool/home], snapshot_tasks: [{name}-home] }} ]\n    target: {{ system: {name}, dataset: pool/work/home }}\n    recursive: true\n    retention: source\n    readonly: ignore\n"
        ));
    }
    f.config("every", &format!("{config}{reps}"));
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(2);
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply
            .stdout
            .ends_with("Apply: 15 done, 0 failed, 0 skipped.\n"),
        "{}",
        apply.stdout
    );
    let dir = f.state_dir();
    let advance = f.zfleet(&[
        "sim",
        "advance",
        "--state",
        dir.to_str().expect("utf-8"),
        "1w",
    ]);
    advance.expect(0);
    assert!(
        advance
            .stdout
            .contains("10 replication runs succeeded, 0 failed"),
        "{}",
        advance.stdout
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert!(
        again
            .stdout
            .ends_with("No changes. The live state matches the config.\n"),
        "{}",
        again.stdout
    );
    for (name, _) in versions {
        let reps = f.replications(name);
        assert_eq!(reps.len(), 2, "{name}");
        assert!(
            reps.iter().all(|r| r["state"]["state"] == "FINISHED"),
            "{name}: {reps:?}"
        );
    }
    // Every replication setting edited at once, on every version.
    let edited = format!("{config}{reps}")
        .replace(
            "retention: { custom: 8 weeks }\n    compression: lz4",
            "retention: { custom: 4 weeks }\n    compression: pigz\n    speed_limit: 10 MiB\n    properties_exclude: [mountpoint]\n    schedule: \"30 1 * * *\"",
        )
        .replace("readonly: ignore", "readonly: set\n    allow_from_scratch: true")
        .replace("lifetime: 2 weeks", "lifetime: 10 days, exclude: [pool/home/x]")
        .replace("    recursive: true\n", "    recursive: true\n    exclude: [pool/home/x]\n");
    f.config("every", &edited);
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(2);
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply
            .stdout
            .ends_with("Apply: 15 done, 0 failed, 0 skipped.\n"),
        "{}",
        apply.stdout
    );
    let s133 = &f.replications("s133");
    let offsite = s133
        .iter()
        .find(|r| r["name"] == "s133-offsite")
        .expect("s133-offsite");
    assert_eq!(
        (
            &offsite["compression"],
            &offsite["speed_limit"],
            &offsite["lifetime_value"]
        ),
        (
            &serde_json::json!("PIGZ"),
            &serde_json::json!(10485760),
            &serde_json::json!(4)
        )
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    f.assert_trace_valid(60);
}

#[test]
fn a_pull_replication_into_an_existing_target_runs_and_stays_converged() {
    const NAS1_HOST_KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxkBNbOoqL3lTnNmFbE8ZcF0f4v9cXz3HnJ3Jmn9z2W";
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        &format!(
            "{}addresses: [192.0.2.10]\nssh: {{ host_keys: [\"{NAS1_HOST_KEY}\"] }}\nusers:\n  - {{ username: root, uid: 0, home: /root, sshpubkey: \"{} k\" }}\n",
            fleet::nas1_fixture(),
            fleet::BACKUP_HOST_KEY
        ),
    )
    .system(
        "backup",
        "25.04",
        &format!(
            "{}keychain:\n  - {{ name: k, type: SSH_KEY_PAIR, attributes: {{ public_key: \"{} k\" }} }}\n  - {{ name: to-nas1, type: SSH_CREDENTIALS, attributes: {{ host: 192.0.2.10, username: root, private_key: 1, remote_host_key: \"{NAS1_HOST_KEY}\" }} }}\n",
            fleet::backup_fixture(),
            fleet::BACKUP_HOST_KEY
        ),
    )
    .config(
        "e2e",
        "snapshot_tasks:\n  media: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 1 week }\nreplications:\n  pulled:\n    direction: pull\n    sources: [ { system: nas1, datasets: [tank/media], naming_schema: \"auto-%Y-%m-%d_%H-%M\" } ]\n    target: { system: backup, dataset: backup/nas1 }\n    schedule: daily\n    retention: { custom: 2 weeks }\n    allow_from_scratch: true\n",
    );
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.contains(
            "backup (TrueNAS 25.04.2)\n   + create replication pulled\n      direction                PULL\n      transport                SSH\n      ssh_credentials          to-nas1\n"
        ),
        "{}",
        plan.stdout
    );
    f.zfleet(&["apply", "--yes"]).expect(0);
    assert_eq!(
        // A pull task is recorded on its target's parent: the target may not exist yet.
        f.records("backup")["backup"].keys().collect::<Vec<_>>(),
        ["zfleet:e2e:rep-1"]
    );
    let dir = f.state_dir();
    let advance = f.zfleet(&[
        "sim",
        "advance",
        "--state",
        dir.to_str().expect("utf-8"),
        "3d",
    ]);
    advance.expect(0);
    let rep = &f.replications("backup")[0];
    assert_eq!(rep["state"]["state"], "FINISHED", "{rep}");
    assert_eq!(
        rep["naming_schema"],
        serde_json::json!(["auto-%Y-%m-%d_%H-%M"])
    );
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(
        again.stdout,
        "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n"
    );
    f.assert_trace_valid(20);
}

#[test]
fn adoption_and_hand_made_tasks_on_every_version() {
    for version in ["13.3", "24.04", "24.10", "25.04", "25.10"] {
        let mut f = hand_made_on(version);
        f.config("e2e", ADOPTING);
        let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
        plan.expect(2);
        let body = plan.stdout.split_once('\n').map_or("", |(_, b)| b);
        assert_eq!(
            body,
            format!(
                "  <= adopt snapshot task data-hourly (#2)  # made by hand; adopted\n      lifetime  1 WEEK → 2 WEEK\n{MEDIA_DAILY_CREATE}  not managed by this config (left alone):\n    snapshot task #1: tank/local (hand-%Y%m%d-%H%M, every 30 3 * * *)\n    replication #1: hand-rep (PUSH tank/media → tank/local/media)\n\nPlan: 1 to add, 1 to change, 0 to delete.\n"
            ),
            "{version}"
        );
        let hand = || {
            (
                f.call("nas1", "pool.snapshottask.query", &[r#"[["id", "=", 1]]"#]),
                f.call("nas1", "replication.query", &[r#"[["id", "=", 1]]"#]),
            )
        };
        let before = hand();
        f.zfleet(&["apply", "--yes"]).expect(0);
        assert_eq!(hand(), before, "{version}: hand-made tasks untouched");
        assert_eq!(f.snapshot_tasks("nas1").len(), 3, "{version}");
        f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    }
}
