//! `zfleet run NAME` and `zfleet snapshot SYSTEM:DATASET` end to end against embedded
//! simulated fleets: what a person reads, the exit code, and what the systems hold after.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::{Fleet, STANDARD_CONFIG, standard};
use serde_json::Value;

/// The standard fleet, applied once.
fn applied(config: &str) -> Fleet {
    let mut f = standard();
    f.config("e2e", config);
    f.zfleet(&["apply", "--yes"]).expect(0);
    f.clear_trace();
    f
}

fn jobs(f: &Fleet, system: &str) -> Vec<Value> {
    match f.call(system, "core.get_jobs", &[]) {
        Value::Array(jobs) => jobs,
        other => panic!("core.get_jobs: {other}"),
    }
}

/// Full snapshot names of `dataset` and below on a system.
fn snapshots(f: &Fleet, system: &str, method: &str, dataset: &str) -> Vec<String> {
    let filter = format!(r#"[["dataset", "^", "{dataset}"]]"#);
    let all = f.call(system, method, &[&filter, r#"{"select": ["name"]}"#]);
    let mut names: Vec<String> = all
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

/// The item whose `key` is `value`.
fn find(items: &[Value], key: &str, value: &str) -> Value {
    items
        .iter()
        .find(|t| t[key] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no {key} = {value} in {items:?}"))
}

fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from}");
    text.replace(from, to)
}

#[test]
fn a_snapshot_task_then_its_replication_run_to_success() {
    let f = applied(STANDARD_CONFIG);
    let task = f.zfleet(&["run", "media-daily"]);
    task.expect(0);
    assert_eq!(
        task.stdout,
        "✓ nas1: snapshot task media-daily — SUCCESS, took tank/media@auto-2025-10-30_13-30\n"
    );
    assert_eq!(task.stderr, "nas1: snapshot task media-daily: starting\n");

    let rep = f.zfleet(&["run", "media-offsite"]);
    rep.expect(0);
    assert_eq!(rep.stdout, "✓ nas1: replication media-offsite — SUCCESS\n");
    // Off a terminal, one plain line per change of the job, with zettarepl's progress.
    assert_eq!(
        rep.stderr,
        "\
nas1: replication media-offsite: starting
nas1: replication media-offsite: 0% WAITING
nas1: replication media-offsite: 50% Sending 1 of 1: tank/media@auto-2025-10-30_13-30 (48 KiB / 96 KiB) [total 48 KiB of 96 KiB]
nas1: replication media-offsite: 100% Sending 1 of 1: tank/media@auto-2025-10-30_13-30 (48 KiB / 96 KiB) [total 48 KiB of 96 KiB]
"
    );
    assert_eq!(
        snapshots(&f, "backup", "zfs.snapshot.query", "backup/nas1/media"),
        ["backup/nas1/media@auto-2025-10-30_13-30"]
    );
    let done = jobs(&f, "nas1");
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(
        (&done[0]["method"], &done[0]["state"]),
        (&Value::from("replication.run"), &Value::from("SUCCESS"))
    );
    f.assert_trace_valid(10);
}

#[test]
fn a_snapshot_task_whose_snapshot_exists_counts_as_success() {
    let f = applied(STANDARD_CONFIG);
    f.zfleet(&["run", "media-daily"]).expect(0);
    // The clock stands still: the second run's snapshot has the same name. zettarepl
    // reports it as the task's ERROR; a manual run counts it as done.
    let again = f.zfleet(&["run", "media-daily"]);
    again.expect(0);
    assert_eq!(
        again.stdout,
        "✓ nas1: snapshot task media-daily — SUCCESS, its snapshot existed already\n"
    );
    let task = find(&f.snapshot_tasks("nas1"), "dataset", "tank/media");
    assert_eq!(task["state"]["state"], "ERROR");
}

#[test]
fn a_failing_replication_prints_truenas_error_and_exits_1() {
    let f = applied(STANDARD_CONFIG);
    // No snapshot of tank/media exists yet.
    let run = f.zfleet(&["run", "media-offsite"]);
    run.expect(1);
    assert_eq!(
        run.stdout,
        "✗ nas1: replication media-offsite — FAILED\n    [EFAULT] Dataset 'tank/media' does not have any matching snapshots to replicate.\n"
    );
    assert_eq!(run.codes(), ["zfleet::run::failed"]);
    assert!(
        run.stderr
            .contains("× `media-offsite`: 1 of 1 run did not end in SUCCESS"),
        "{}",
        run.stderr
    );
    assert_eq!(jobs(&f, "nas1")[0]["state"], "FAILED");
}

#[test]
fn a_task_disabled_in_the_config_is_refused_and_nothing_runs() {
    let config = edit(
        STANDARD_CONFIG,
        "    target: { system: backup, dataset: backup/nas1/media }\n    retention: source\n",
        "    target: { system: backup, dataset: backup/nas1/media }\n    retention: source\n    enabled: false\n",
    );
    let f = applied(&config);
    let run = f.zfleet(&["run", "media-offsite"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "\
zfleet::run::disabled

  × nas1: replication media-offsite: is disabled in the config (`enabled: false`); nothing was run
  help: set `enabled: true` under `replications: media-offsite`, run `zfleet apply`, then run it

"
    );
    // Refused before connecting: not a single call.
    assert_eq!(f.traced_methods("nas1"), Vec::<String>::new());
    assert_eq!(jobs(&f, "nas1"), Vec::<Value>::new());
}

#[test]
fn a_task_disabled_on_the_system_is_refused_and_nothing_runs() {
    let f = applied(STANDARD_CONFIG);
    let id = find(&f.replications("nas1"), "name", "media-offsite")["id"].clone();
    f.call(
        "nas1",
        "replication.update",
        &[&id.to_string(), r#"{"enabled": false}"#],
    );
    let run = f.zfleet(&["run", "media-offsite"]);
    run.expect(1);
    assert_eq!(run.codes(), ["zfleet::run::disabled"]);
    assert!(run.stderr.contains(
        "× nas1: replication media-offsite: is disabled on the system; nothing was run\n  help: the config enables it: run `zfleet apply`, then run it again\n"
    ), "{}", run.stderr);
    assert!(
        !f.traced_methods("nas1").iter().any(|m| m.ends_with(".run")),
        "{:?}",
        f.traced_methods("nas1")
    );
    assert_eq!(jobs(&f, "nas1"), Vec::<Value>::new());
}

#[test]
fn unknown_names_and_tasks_not_applied_are_errors() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    let typo = f.zfleet(&["run", "media-ofsite"]);
    typo.expect(1);
    assert_eq!(
        typo.stderr,
        "zfleet::run::unknown_task\n\n  × no replication or snapshot task `media-ofsite` in the config\n  help: did you mean `media-offsite`?\n\n"
    );
    let elsewhere = f.zfleet(&["run", "media-offsite", "--system", "backup"]);
    elsewhere.expect(1);
    assert_eq!(elsewhere.codes(), ["zfleet::run::not_on_system"]);
    assert!(elsewhere.stderr.contains("help: it runs on nas1"));
    let unknown = f.zfleet(&["run", "media-offsite", "--system", "nas9"]);
    unknown.expect(1);
    assert!(
        unknown
            .stderr
            .contains("× no system `nas9` in the config\n  help: did you mean `nas1`?"),
        "{}",
        unknown.stderr
    );
    let fresh = f.zfleet(&["run", "media-offsite"]);
    fresh.expect(1);
    assert_eq!(
        fresh.stderr,
        "zfleet::run::not_applied\n\n  × nas1: replication media-offsite: is not on the system yet\n  help: run `zfleet apply` to create it, then run it\n\n"
    );
}

#[test]
fn a_replication_with_sources_on_two_systems_runs_on_both() {
    let config = edit(
        STANDARD_CONFIG,
        "    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/media }\n",
        "    sources:\n      - { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] }\n      - { system: v2410, datasets: [pool/home], snapshot_tasks: [home-2410] }\n    target: { system: backup, dataset: backup/nas1/media }\n    allow_from_scratch: true\n",
    );
    let f = applied(&config);
    f.zfleet(&["run", "media-daily"]).expect(0);
    f.zfleet(&["run", "home-2410"]).expect(0);
    let run = f.zfleet(&["run", "media-offsite"]);
    run.expect(0);
    assert_eq!(
        run.stdout,
        "✓ nas1: replication media-offsite — SUCCESS\n✓ v2410: replication media-offsite — SUCCESS\n"
    );
    for system in ["nas1", "v2410"] {
        let ran = jobs(&f, system);
        assert_eq!(ran.len(), 1, "{system}: {ran:?}");
        assert_eq!(ran[0]["state"], "SUCCESS", "{system}");
    }
    // `--system` runs one of them.
    let one = f.zfleet(&["run", "media-offsite", "--system", "v2410"]);
    one.expect(0);
    assert_eq!(one.stdout, "✓ v2410: replication media-offsite — SUCCESS\n");
    assert_eq!(jobs(&f, "nas1").len(), 1);
    assert_eq!(jobs(&f, "v2410").len(), 2);
}

#[test]
fn no_wait_returns_with_the_job_id() {
    let f = applied(STANDARD_CONFIG);
    let run = f.zfleet(&["run", "media-offsite", "--no-wait"]);
    run.expect(0);
    let id = jobs(&f, "nas1")[0]["id"].clone();
    assert_eq!(
        run.stdout,
        format!("→ nas1: replication media-offsite — started, job {id}\n")
    );
    let task = f.zfleet(&["run", "home-2404", "--no-wait"]);
    task.expect(0);
    assert_eq!(task.stdout, "→ v2404: snapshot task home-2404 — started\n");
}

#[test]
fn a_timeout_leaves_the_job_running_and_exits_124() {
    let f = applied(STANDARD_CONFIG);
    f.zfleet(&["run", "media-daily"]).expect(0);
    // A job needs three looks a second apart to end; the timeout passes after one second.
    let run = f.zfleet(&["run", "media-offsite", "--timeout", "1s"]);
    run.expect(124);
    let job = jobs(&f, "nas1")[0].clone();
    let id = &job["id"];
    assert_eq!(
        run.stdout,
        format!("… nas1: replication media-offsite — still running, job {id}\n")
    );
    assert_eq!(run.codes(), ["zfleet::run::timeout"]);
    assert!(
        run.stderr.contains(&format!(
            "× still running after 1s: replication media-offsite on nas1, job {id}\n"
        )),
        "{}",
        run.stderr
    );
    assert_ne!(job["state"], "ABORTED");
}

#[test]
fn snapshot_takes_a_one_time_snapshot_named_by_the_schema() {
    let mut f = standard();
    f.system(
        "berlin",
        "25.04",
        &format!("timezone: Europe/Berlin\n{}", fleet::SMALL_FIXTURE),
    );
    f.config("e2e", STANDARD_CONFIG);
    // Named at the system's clock, in its timezone (13:30 UTC is 14:30 in Berlin).
    let local = f.zfleet(&["snapshot", "berlin:pool/work"]);
    local.expect(0);
    assert_eq!(
        local.stdout,
        "✓ berlin: took pool/work@manual-2025-10-30_14-30\n"
    );
    let run = f.zfleet(&["snapshot", "nas1:tank/data"]);
    run.expect(0);
    assert_eq!(
        run.stdout,
        "✓ nas1: took tank/data@manual-2025-10-30_13-30\n"
    );
    assert_eq!(
        snapshots(&f, "nas1", "pool.snapshot.query", "tank/data"),
        ["tank/data@manual-2025-10-30_13-30"]
    );
    // Recursive, another schema, a version with `zfs.snapshot`.
    let rec = f.zfleet(&[
        "snapshot",
        "v2404:pool/home",
        "--recursive",
        "--naming-schema",
        "before-upgrade-%Y%m%d-%H%M",
    ]);
    rec.expect(0);
    assert_eq!(
        rec.stdout,
        "✓ v2404: took pool/home@before-upgrade-20251030-1330\n"
    );
    assert_eq!(
        f.traced_methods("v2404").last().map(String::as_str),
        Some("zfs.snapshot.create")
    );
    f.assert_trace_valid(5);
}

#[test]
fn snapshot_refuses_an_existing_name_a_missing_or_read_only_dataset() {
    let mut f = standard();
    f.system(
        "backup",
        "25.04",
        "datasets: { backup: { children: { replica: { readonly: true } } } }",
    );
    f.config("e2e", STANDARD_CONFIG);
    f.zfleet(&["snapshot", "nas1:tank/data"]).expect(0);
    f.clear_trace();

    let again = f.zfleet(&["snapshot", "nas1:tank/data"]);
    again.expect(1);
    assert_eq!(
        again.stderr,
        "zfleet::snapshot::exists\n\n  × nas1: Failed to snapshot tank/data@manual-2025-10-30_13-30: dataset already exists\n  help: take it later, or give another name with `--naming-schema`\n\n"
    );
    // A recursive one stops at a child that has the name too.
    let parent = f.zfleet(&["snapshot", "nas1:tank", "-r"]);
    parent.expect(1);
    assert_eq!(parent.codes(), ["zfleet::snapshot::exists"]);

    let missing = f.zfleet(&["snapshot", "nas1:tank/dta"]);
    missing.expect(1);
    assert_eq!(
        missing.stderr,
        "zfleet::check::dataset_missing\n\n  × nas1: Failed to snapshot tank/dta@manual-2025-10-30_13-30: Dataset tank/dta not found\n  help: did you mean `tank/data`?\n\n"
    );

    let replica = f.zfleet(&["snapshot", "backup:backup/replica"]);
    replica.expect(1);
    assert_eq!(replica.codes(), ["zfleet::snapshot::readonly"]);
    assert!(
        replica
            .stderr
            .contains("× backup: backup/replica is read-only (readonly=on); no snapshot was taken"),
        "{}",
        replica.stderr
    );

    let nowhere = f.zfleet(&["snapshot", "nas9:tank/data"]);
    nowhere.expect(1);
    assert_eq!(
        nowhere.stderr,
        "zfleet::cli::no_such_system\n\n  × no system `nas9` in the config\n  help: did you mean `nas1`?\n\n"
    );
    let schema = f.zfleet(&["snapshot", "nas1:tank/data", "--naming-schema", "manual-%Y"]);
    schema.expect(1);
    assert_eq!(schema.codes(), ["zfleet::snapshot::argument"]);
    // Every refusal came before any create.
    for system in ["nas1", "backup"] {
        assert!(
            !f.traced_methods(system)
                .iter()
                .any(|m| m.ends_with(".create")),
            "{system}"
        );
    }
    assert_eq!(
        snapshots(&f, "nas1", "pool.snapshot.query", "tank"),
        ["tank/data@manual-2025-10-30_13-30"]
    );
}

#[test]
fn a_snapshot_task_run_names_its_snapshot_on_every_older_version() {
    let f = applied(STANDARD_CONFIG);
    // Up to 25.04 a snapshot task's state has no `last_snapshot`.
    for (system, task) in [
        ("v2410", "home-2410"),
        ("v2404", "home-2404"),
        ("v133", "home-133"),
    ] {
        let run = f.zfleet(&["run", task]);
        run.expect(0);
        assert_eq!(
            run.stdout,
            format!(
                "✓ {system}: snapshot task {task} — SUCCESS, took pool/home@auto-2025-10-30_13-30\n"
            )
        );
    }
}

#[test]
fn an_unreachable_system_stops_the_run_everywhere() {
    let config = edit(
        STANDARD_CONFIG,
        "    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n",
        "    sources:\n      - { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] }\n      - { system: v2410, datasets: [pool/home], snapshot_tasks: [home-2410] }\n",
    );
    let f = applied(&config);
    f.faults("v2410", &["--stop-middleware"]);
    let run = f.zfleet(&["run", "media-offsite"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.codes(), ["zfleet::api::middleware_down"]);
    // nas1 could run its part, but a run is all or nothing.
    assert_eq!(jobs(&f, "nas1"), Vec::<Value>::new());
}
