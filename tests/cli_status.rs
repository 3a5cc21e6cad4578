//! `zfleet status` through the real binary on simulated fleets: tasks in every state with
//! TrueNAS's own reasons, the JSON shape, `--system`, `--failed`, `--snapshots`, widths and
//! colour, and `--check`'s Nagios exit codes and summary line. The simulated clock is frozen
//! (2025-10-30 13:30 UTC), so ages and next runs are fixed.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;
#[path = "support/tmux.rs"]
mod tmux;
use tmux::{Tmux, golden};

use std::path::Path;

use fleet::Fleet;
use serde_json::Value;

const CONFIG: &str = r#"snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, schedule: hourly, lifetime: 2 weeks }
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
replications:
  data-local:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: nas1, dataset: tank/local/data }
    retention: source
  media-offsite:
    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
"#;

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/status")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Seeds a system's state from its fixture with one call, as the first look of the
/// middleware would.
fn seed(f: &Fleet, system: &str) {
    let state = f.state_file(system);
    std::fs::create_dir_all(state.parent().expect("dir")).expect("state dir");
    let fixture = f.path().join(format!("sim/{system}.yaml"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .args(["sim", "midclt", "--state"])
        .arg(&state)
        .arg("--fixture")
        .arg(&fixture)
        .args(["call", "system.version"])
        .output()
        .expect("seed");
    assert!(out.status.success(), "{out:?}");
}

/// nas1 (25.10, Europe/Berlin) and backup (25.04, UTC) with a task in each state; nas1's
/// running replication is stalled so that it stays RUNNING while it is looked at.
fn fleet() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &data("nas1.yaml"))
        .system("backup", "25.04", &data("backup.yaml"))
        .config("status", CONFIG);
    seed(&f, "nas1");
    seed(&f, "backup");
    f.faults("nas1", &["--stall-jobs"]);
    f
}

#[test]
fn every_state_with_truenas_reasons_and_progress() {
    let f = fleet();
    let run = f.zfleet(&["status"]);
    run.expect(0);
    assert_eq!(run.stderr, "");
    golden("status_table.txt", &run.stdout);
    // Each state once, and TrueNAS's texts verbatim below the table.
    for state in [
        "FINISHED",
        "RUNNING 40%",
        "ERROR",
        "WAITING",
        "HOLD",
        "FAILED",
        "PENDING",
    ] {
        assert!(
            run.stdout.contains(state),
            "{state} missing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains(
        "nas1 media-offsite: ERROR: No incremental base on dataset 'tank/media' and replication from scratch is not allowed.\n"
    ));
    assert!(run.stdout.contains(
        "nas1 data-local: Sending 2 of 5: tank/data@auto-2025-10-30_14-00 (1.2 MiB / 3 MiB) [total 4.1 MiB of 9.8 MiB]\n"
    ));
    assert!(
        run.stdout
            .contains("backup manual copy: FAILED: [EFAULT] Task is not enabled\n")
    );
    // The same again: reading changes nothing (the stalled job stays where it was).
    assert_eq!(f.zfleet(&["status"]).stdout, run.stdout);
    f.assert_trace_valid(10);
}

#[test]
fn json_has_one_object_per_task() {
    let f = fleet();
    let run = f.zfleet(&["status", "--json"]);
    run.expect(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let systems = doc["systems"].as_array().expect("systems");
    let names: Vec<&str> = systems
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["backup", "nas1"]);
    let nas1 = &systems[1];
    assert_eq!(nas1["status"], "ok");
    assert_eq!(nas1["version"], "TrueNAS 25.10.1");
    assert_eq!(nas1["timezone"], "Europe/Berlin");
    assert_eq!(nas1["now"], "2025-10-30T13:30:00Z");
    let task = |name: &str| {
        nas1["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {nas1}"))
            .clone()
    };
    let local = task("data-local");
    assert_eq!(
        local,
        serde_json::json!({
            "system": "nas1", "kind": "replication", "id": 1, "name": "data-local",
            "owner": "managed", "enabled": true, "config_enabled": true,
            "sources": ["tank/data"], "target": "tank/local/data",
            "schedule": "after snapshot tasks", "scheduled": true,
            "state": "RUNNING", "last_run": "2025-10-30T13:00:10Z",
            "progress": { "percent": 40.0, "description": "Sending 2 of 5: tank/data@auto-2025-10-30_14-00 (1.2 MiB / 3 MiB) [total 4.1 MiB of 9.8 MiB]" },
            "reason": null, "warnings": [],
            "last_snapshot": "tank/local/data@auto-2025-10-30_13-00",
            "last_snapshot_time": "2025-10-30T12:00:00Z",
            "last_snapshot_age_secs": 5400,
            "next_run": "2025-10-30 15:00 CET"
        })
    );
    let offsite = task("media-offsite");
    assert_eq!(offsite["state"], "ERROR");
    assert_eq!(
        offsite["reason"],
        "No incremental base on dataset 'tank/media' and replication from scratch is not allowed."
    );
    assert_eq!(offsite["target"], "backup:backup/nas1/media");
    assert_eq!(
        offsite["last_snapshot"],
        "backup/nas1/media@auto-2025-10-29_00-00"
    );
    assert_eq!(offsite["last_snapshot_age_secs"], 38 * 3600 + 1800);
    let archive = task("shared to backup");
    assert_eq!(archive["owner"], "project");
    assert_eq!(archive["project"], "archive");
    assert_eq!(archive["state"], "WAITING");
    let misc = task("tank/misc");
    assert_eq!(misc["owner"], "unmanaged");
    assert_eq!(misc["state"], "ERROR");
    assert_eq!(misc["next_run"], "2025-10-30 18:30 CET");
    let shared = task("tank/shared");
    assert_eq!(
        (shared["state"].as_str(), shared["enabled"].as_bool()),
        (Some("PENDING"), Some(false))
    );
    assert_eq!(shared["next_run"], Value::Null);
}

#[test]
fn system_globs_and_failed_only() {
    let f = fleet();
    let run = f.zfleet(&["status", "--system", "back*"]);
    run.expect(0);
    assert!(
        run.stdout
            .lines()
            .skip(1)
            .all(|l| l.is_empty() || l.starts_with("backup")),
        "{}",
        run.stdout
    );
    assert_eq!(f.traced_methods("nas1"), Vec::<String>::new());

    let run = f.zfleet(&["status", "--failed"]);
    run.expect(0);
    golden("status_failed.txt", &run.stdout);

    let run = f.zfleet(&["status", "--system", "nope*"]);
    run.expect(1);
    assert_eq!(run.codes(), ["zfleet::cli::no_such_system"]);
}

#[test]
fn snapshots_per_dataset_and_naming_schema() {
    let f = fleet();
    let run = f.zfleet(&["status", "--snapshots", "--system", "nas1"]);
    run.expect(0);
    let snapshots = run
        .stdout
        .split("\nSYSTEM  DATASET")
        .nth(1)
        .expect("snapshot table");
    golden(
        "status_snapshots.txt",
        &format!("SYSTEM  DATASET{snapshots}"),
    );
    let json = f.zfleet(&["status", "--snapshots", "--json", "--system", "nas1"]);
    let doc: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        doc["systems"][0]["snapshots"][0],
        serde_json::json!({
            "dataset": "tank/data", "count": 2,
            "newest": [{ "naming_schema": "auto-%Y-%m-%d_%H-%M",
                         "snapshot": "tank/data@auto-2025-10-30_14-00", "age_secs": 1800 }]
        })
    );
}

#[test]
fn narrow_terminals_cut_names_and_paths_not_states() {
    let f = fleet();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"));
    let out = cmd
        .current_dir(f.path())
        .env("COLUMNS", "120")
        .env("NO_COLOR", "1")
        .env("HOME", f.path())
        .args(["status", "--system", "nas1"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let table: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    for line in &table {
        assert!(line.chars().count() <= 120, "{line}");
    }
    assert!(table.iter().any(|l| l.contains('…')), "{text}");
    assert!(table.iter().any(|l| l.contains("RUNNING 40%")), "{text}");
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("nas1    repl  data-local")),
        "{text}"
    );
    // The reasons below the table are never cut.
    assert!(text.contains("replication from scratch is not allowed.\n"));
}

#[test]
fn no_colour_off_a_terminal_even_without_no_color() {
    let f = fleet();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .current_dir(f.path())
        .env_remove("NO_COLOR")
        .env("HOME", f.path())
        .args(["status"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("ERROR") && !text.contains('\x1b'), "{text}");
}

#[test]
fn watch_refuses_a_pipe() {
    let f = fleet();
    let run = f.zfleet(&["status", "--watch"]);
    run.expect(1);
    assert_eq!(run.codes(), ["zfleet::status::watch_needs_terminal"]);
    assert_eq!(run.stdout, "");
}

// --check -----------------------------------------------------------------------------

/// nas1 alone, everything fine: the hourly snapshot 30 minutes old, replicated at once.
fn fresh() -> Fleet {
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        r#"datasets:
  tank:
    children:
      data:
        user_properties:
          "zfleet:status:st-1": '{"name":"data-hourly"}'
          "zfleet:status:rep-1": '{"name":"data-local"}'
      local: { children: { data: {} } }
snapshots: [tank/data@auto-2025-10-30_13-00, tank/local/data@auto-2025-10-30_13-00]
snapshot_tasks:
  - { dataset: tank/data, schedule: { minute: "0" }, lifetime_value: 2, lifetime_unit: WEEK,
      state: { state: FINISHED, datetime: 2025-10-30T13:00:02Z } }
replications:
  - { name: data-local, direction: PUSH, transport: LOCAL, source_datasets: [tank/data],
      target_dataset: tank/local/data, recursive: false, auto: true, retention_policy: SOURCE,
      periodic_snapshot_tasks: [1],
      state: { state: FINISHED, datetime: 2025-10-30T13:00:09Z, last_snapshot: "tank/data@auto-2025-10-30_13-00" } }
"#,
    );
    f
}

const FRESH_CONFIG: &str = r#"snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, schedule: hourly, lifetime: 2 weeks }
replications:
  data-local:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: nas1, dataset: tank/local/data }
    retention: source
"#;

#[test]
fn check_fresh_is_ok() {
    let mut f = fresh();
    f.config("status", FRESH_CONFIG);
    let run = f.zfleet(&["status", "--check"]);
    run.expect(0);
    assert_eq!(
        run.stdout,
        "ZFLEET OK - 2 tasks on 1 system | systems=1 unreadable=0 tasks=2 failed=0 stale=0 hold=0 disabled=0 oldest_rpo=1800s;93600;;0\n"
    );
    f.assert_trace_valid(4);
}

#[test]
fn check_stale_is_warning_then_critical() {
    let mut f = fresh();
    f.config("status", FRESH_CONFIG);
    let run = f.zfleet(&["status", "--check", "--max-age", "20m"]);
    run.expect(1);
    assert_eq!(
        run.stdout,
        "ZFLEET WARNING - 1 stale of 2 tasks on 1 system | systems=1 unreadable=0 tasks=2 failed=0 stale=1 hold=0 disabled=0 oldest_rpo=1800s;1200;;0\n\
         WARNING: nas1: replication data-local last replicated snapshot is 30m old (limit 20m)\n"
    );
    let run = f.zfleet(&[
        "status",
        "--check",
        "--max-age",
        "10m",
        "--critical-age",
        "25m",
    ]);
    run.expect(2);
    assert!(
        run.stdout
            .starts_with("ZFLEET CRITICAL - 1 stale of 2 tasks on 1 system | "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(" oldest_rpo=1800s;600;1500;0\n"),
        "{}",
        run.stdout
    );
}

/// nas1 with a weekly replication (Sundays at midnight) whose newest snapshot is from
/// `last` (a Sunday).
fn weekly(last: &str) -> Fleet {
    scheduled(
        &format!("{last}_00-00"),
        r#"{ minute: "0", hour: "0", dow: "7" }"#,
    )
}

/// nas1 with a replication on `schedule` whose newest snapshot is `auto-{stamp}`.
fn scheduled(stamp: &str, schedule: &str) -> Fleet {
    // The run that sent it, a few seconds after the snapshot's time.
    let (day, hm) = stamp.split_once('_').expect("stamp");
    let last = format!("{day}T{}:09Z", hm.replace('-', ":"));
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        &format!(
            r#"datasets:
  tank:
    children:
      data: {{}}
      local: {{ children: {{ data: {{}} }} }}
snapshots: [tank/data@auto-{stamp}, tank/local/data@auto-{stamp}]
replications:
  - {{ name: weekly-copy, direction: PUSH, transport: LOCAL, source_datasets: [tank/data],
      target_dataset: tank/local/data, recursive: false, auto: true, retention_policy: SOURCE,
      also_include_naming_schema: ["auto-%Y-%m-%d_%H-%M"],
      schedule: {schedule},
      state: {{ state: FINISHED, datetime: {last}, last_snapshot: "tank/data@auto-{stamp}" }} }}
"#
        ),
    );
    f.config("status", "");
    f
}

/// Without `--max-age`, a weekly replication is judged by its schedule (7 days between
/// runs plus 2 hours), not by the daily default; a given `--max-age` holds for it too.
#[test]
fn check_judges_a_weekly_replication_by_its_schedule() {
    let f = weekly("2025-10-26");
    let run = f.zfleet(&["status", "--check"]);
    run.expect(0);
    assert!(
        run.stdout.starts_with("ZFLEET OK - 1 task on 1 system | "),
        "{}",
        run.stdout
    );
    // A critical age alone is not reached before the schedule's own limit either.
    f.zfleet(&["status", "--check", "--critical-age", "48h"])
        .expect(0);
    let run = f.zfleet(&["status", "--check", "--max-age", "26h"]);
    run.expect(1);
    assert!(
        run.stdout.ends_with("\nWARNING: nas1: replication weekly-copy last replicated snapshot is 4d13h old (limit 1d2h)\n"),
        "{}",
        run.stdout
    );
    // Hourly on Mondays only, judged on Thursday: the snapshot of Monday 23:00 is 2d14h
    // old, and the next run is not due before next Monday.
    let f = scheduled("2025-10-27_23-00", r#"{ minute: "0", dow: "1" }"#);
    let run = f.zfleet(&["status", "--check"]);
    run.expect(0);
    // A run missed: stale by its own schedule.
    let f = weekly("2025-10-19");
    let run = f.zfleet(&["status", "--check"]);
    run.expect(1);
    assert!(
        run.stdout.ends_with("\nWARNING: nas1: replication weekly-copy last replicated snapshot is 11d13h old (limit 7d2h)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_failed_is_critical_with_every_finding() {
    let f = fleet();
    let run = f.zfleet(&["status", "--check"]);
    run.expect(2);
    golden("status_check_failed.txt", &run.stdout);
}

#[test]
fn check_unreachable_is_unknown() {
    let mut f = fresh();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    f.config("status", FRESH_CONFIG);
    // The fresh system, and one nobody answers for.
    let text = std::fs::read_to_string(f.path().join("zfleet.yaml")).expect("config");
    let text = text.replacen(
        "systems:\n",
        &format!("systems:\n  gone: {{ host: 127.0.0.1, port: {port}, connect_timeout: 3 }}\n"),
        1,
    );
    std::fs::write(f.path().join("zfleet.yaml"), text).expect("config");
    let run = f.zfleet(&["status", "--check"]);
    run.expect(3);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "ZFLEET UNKNOWN - 1 unreadable of 2 tasks on 2 systems | systems=2 unreadable=1 tasks=2 failed=0 stale=0 hold=0 disabled=0 oldest_rpo=1800s;93600;;0"
    );
    assert!(
        lines[1].starts_with("UNKNOWN: gone: cannot be read: "),
        "{}",
        run.stdout
    );
    assert!(
        lines[1].ends_with("[zfleet::ssh::unreachable]"),
        "{}",
        run.stdout
    );
    // The table shows the system as one row with its code; the exit code says a system failed.
    let run = f.zfleet(&["status"]);
    run.expect(1);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("gone")
            && l.contains("zfleet::ssh::unreachable")
            && l.contains("UNREACHABLE")),
        "{}",
        run.stdout
    );
}

#[test]
fn check_with_a_broken_config_is_unknown() {
    let mut f = fresh();
    f.config("status", "snapshot_tasks: [");
    let run = f.zfleet(&["status", "--check"]);
    run.expect(3);
    assert!(
        run.stdout.starts_with("ZFLEET UNKNOWN - "),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn check_disabled_managed_task_is_warning() {
    let mut f = fresh();
    let fixture = std::fs::read_to_string(f.path().join("sim/nas1.yaml"))
        .expect("fixture")
        .replace(
            "auto: true, retention_policy",
            "auto: true, enabled: false, retention_policy",
        );
    std::fs::write(f.path().join("sim/nas1.yaml"), fixture).expect("fixture");
    f.config("status", FRESH_CONFIG);
    let run = f.zfleet(&["status", "--check"]);
    run.expect(1);
    assert!(
        run.stdout
            .starts_with("ZFLEET WARNING - 1 disabled of 2 tasks on 1 system | "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\nWARNING: nas1: replication data-local is disabled on the system; the config enables it\n"), "{}", run.stdout);
    // Disabled in the config too: intended, so fine.
    f.config(
        "status",
        &FRESH_CONFIG.replace("retention: source", "retention: source\n    enabled: false"),
    );
    let run = f.zfleet(&["status", "--check"]);
    run.expect(0);
}

// On a terminal (tmux) --------------------------------------------------------------------

/// Trailing blanks dropped; the watch header's clock made a placeholder.
fn normalise(screen: &str) -> String {
    let mut out = String::new();
    for line in screen.lines() {
        let line = match line.split_once("updated ") {
            Some((head, _)) => format!("{head}updated HH:MM:SS"),
            None => line.to_string(),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// The command on the terminal; its calls are traced, so the fleet checks them against the
/// request schemas as for every other run.
fn shell_command(f: &Fleet, args: &str) -> String {
    format!(
        "cd '{}' && env -u NO_COLOR -u ZFLEET_SIM_STATE_DIR -u ZFLEET_FILE HOME='{}' ZFLEET_API_TRACE='{}' '{}' {args}; echo \"exit $?\"; sleep 120",
        f.path().display(),
        f.path().display(),
        f.trace_file().display(),
        env!("CARGO_BIN_EXE_zfleet")
    )
}

#[test]
fn status_on_a_terminal_fits_its_width() {
    let f = fleet();
    let tmux = Tmux::start("once", &shell_command(&f, "status"), 120, 24);
    let screen = tmux.wait_for("the end of the run", |s| s.contains("exit "));
    let screen = normalise(&screen);
    for line in screen.lines() {
        assert!(line.chars().count() <= 120, "{line}");
    }
    golden("status_terminal.txt", &screen);
    // States are coloured on a terminal: red for failures, green for success.
    let colours = tmux.screen_escaped();
    assert!(colours.contains("\x1b[31mERROR"), "{colours:?}");
    assert!(colours.contains("\x1b[32mFINISHED"), "{colours:?}");

    // NO_COLOR on the same terminal: the same text, no colour.
    let plain = Tmux::start(
        "plain",
        &shell_command(&f, "status").replace(" HOME=", " NO_COLOR=1 HOME="),
        120,
        24,
    );
    let screen = plain.wait_for("the end of the run", |s| s.contains("exit "));
    assert_eq!(normalise(&screen), normalise(&tmux.screen()));
    let escaped = plain.screen_escaped();
    assert!(
        !escaped.contains("\x1b[31m") && !escaped.contains("\x1b[32m"),
        "{escaped:?}"
    );
}

#[test]
fn watch_redraws_in_place_until_ctrl_c() {
    let f = fleet();
    let tmux = Tmux::start(
        "watch",
        &shell_command(&f, "status --watch 1 --system nas1"),
        120,
        24,
    );
    let first = tmux.wait_for("the first frame", |s| {
        s.contains("every 1s") && s.contains("shared to backup")
    });
    golden("status_watch.txt", &normalise(&first));
    // Two more refreshes later the screen holds one frame, at the top: redrawn, not scrolled.
    let header = first.lines().next().unwrap_or_default().to_string();
    let later = tmux.wait_for("a later frame", |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.starts_with("every 1s") && l != header)
    });
    assert_eq!(later.matches("every 1s").count(), 1, "{later}");
    assert_eq!(normalise(&later), normalise(&first));
    tmux.keys("C-c");
    let end = tmux.wait_for("the end after Ctrl-C", |s| s.contains("exit "));
    assert!(end.contains("exit 0"), "{end}");
}

#[test]
fn every_version_personality_after_apply() {
    let mut f = fleet::standard();
    f.config("std", fleet::STANDARD_CONFIG);
    f.zfleet(&["apply", "--yes"]).expect(0);
    let run = f.zfleet(&["status", "--json"]);
    run.expect(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let mut seen = Vec::new();
    for s in doc["systems"].as_array().expect("systems") {
        assert_eq!(s["status"], "ok", "{s}");
        for t in s["tasks"].as_array().expect("tasks") {
            assert_eq!(t["owner"], "managed", "{t}");
            assert_eq!(t["state"], "PENDING", "{t}");
            seen.push(format!(
                "{}:{}",
                s["name"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            ));
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "nas1:data-hourly",
            "nas1:data-local",
            "nas1:media-daily",
            "nas1:media-offsite",
            "v133:home-133",
            "v2404:home-2404",
            "v2410:home-2410",
        ]
    );
    f.assert_trace_valid(10);
}

#[test]
fn a_run_queued_behind_a_running_replication_waits_for_it() {
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        r#"datasets:
  tank: { children: { data: {}, media: {}, local: { children: { data: {} } } } }
replications:
  - { name: data, direction: PUSH, transport: LOCAL, source_datasets: [tank/data],
      target_dataset: tank/local/data, recursive: false, auto: false, retention_policy: NONE,
      name_regex: ".*",
      state: { state: RUNNING, datetime: 2025-10-30T13:29:00Z },
      job: { state: RUNNING, percent: 10, description: "Sending 1 of 9: tank/data@a" } }
  - { name: media, direction: PUSH, transport: LOCAL, source_datasets: [tank/media],
      target_dataset: tank/local/data/media, recursive: false, auto: false,
      retention_policy: NONE, name_regex: ".*" }
"#,
    )
    .config("status", "");
    seed(&f, "nas1");
    f.faults("nas1", &["--stall-jobs"]);
    // `media` writes below `data`'s target: zettarepl holds it back while `data` runs.
    let job = f.call("nas1", "replication.run", &["2"]);
    assert!(job.as_u64().is_some(), "{job}");
    f.call("nas1", "core.get_jobs", &[]);
    let state_of = |f: &Fleet, name: &str| -> (String, Option<String>) {
        let run = f.zfleet(&["status", "--json"]);
        let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
        let t = doc["systems"][0]["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["name"] == name)
            .expect("task")
            .clone();
        (
            t["state"].as_str().unwrap_or_default().to_string(),
            t["reason"].as_str().map(str::to_string),
        )
    };
    assert_eq!(
        state_of(&f, "media"),
        (
            "WAITING".to_string(),
            Some("Waiting for another concurrent replication task to complete".to_string())
        )
    );
    assert_eq!(state_of(&f, "data").0, "RUNNING");
    // The stall lifted, `data` ends and `media` goes on.
    f.faults("nas1", &[]);
    let mut seen = Vec::new();
    for _ in 0..6 {
        let (state, _) = state_of(&f, "media");
        if state != "WAITING" {
            break;
        }
        seen.push(state);
    }
    assert!(seen.len() < 6, "still WAITING after six looks");
}
