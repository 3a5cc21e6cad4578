//! Replication end to end through the simulator's midclt: a task created with
//! `replication.create`, started with `replication.run`, followed with `core.get_jobs`;
//! the target system (another state file of the fleet) really receives the data — and
//! every failure ends with zettarepl's own sentence. Also the clock (`advance`).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj replication";

fn nas1_fixture(extra_datasets: &str) -> String {
    format!(
        r#"
version: "25.10"
hostname: nas1
now: 2025-10-30T13:30:00Z
addresses: [192.0.2.10]
datasets:
  tank:
    children:
      data:
        children:
          photos: {{}}
{extra_datasets}
snapshots:
  - {{ name: tank/data@auto-2025-10-30_11-00, creation: 2025-10-30T11:00:00Z }}
  - {{ name: tank/data@auto-2025-10-30_12-00, creation: 2025-10-30T12:00:00Z }}
  - {{ name: tank/data@auto-2025-10-30_13-00, creation: 2025-10-30T13:00:00Z }}
  - {{ name: tank/data/photos@auto-2025-10-30_13-00, creation: 2025-10-30T13:00:00Z }}
  - {{ name: tank/data@manual-2025-10-30, creation: 2025-10-30T13:30:00Z }}
services:
  ssh: {{ enable: true, running: true }}
keychain:
  - {{ name: backup key, type: SSH_KEY_PAIR, attributes: {{ public_key: "{KEY}" }} }}
  - {{ name: backup, type: SSH_CREDENTIALS,
      attributes: {{ host: 192.0.2.20, private_key: 1, remote_host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj" }} }}
  - {{ name: nowhere, type: SSH_CREDENTIALS,
      attributes: {{ host: 192.0.2.99, private_key: 1, remote_host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj" }} }}
snapshot_tasks:
  - {{ dataset: tank/data, recursive: true, schedule: {{ minute: "0" }} }}
"#
    )
}

fn backup_fixture(ssh_running: bool, datasets: &str, snapshots: &str) -> String {
    format!(
        r#"
version: "25.04"
hostname: backup
now: 2025-10-30T13:30:00Z
addresses: [192.0.2.20]
datasets:
  backup: {{}}
{datasets}
snapshots: [{snapshots}]
services:
  ssh: {{ enable: {ssh_running}, running: {ssh_running} }}
# The host key nas1's connection pins (paramiko refuses any other).
ssh: {{ host_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{KEY}" }}
"#
    )
}

struct Fleet {
    _dir: tempfile::TempDir,
    nas1: PathBuf,
    backup: PathBuf,
}

fn fleet(nas1: &str, backup: &str) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, text) in [("nas1", nas1), ("backup", backup)] {
        let fixture = dir.path().join(format!("{name}.fixture.yaml"));
        std::fs::write(&fixture, text).unwrap();
        let state = dir.path().join(format!("{name}.json"));
        zfleet::sim::seed(&state, Some(&fixture), None).unwrap();
        std::fs::remove_file(&fixture).unwrap();
        paths.push(state);
    }
    // Jobs complete after 30 ms of real time (or one poll per snapshot).
    zfleet::sim::clock::set_job_ms(dir.path(), 30).unwrap();
    Fleet {
        nas1: paths[0].clone(),
        backup: paths[1].clone(),
        _dir: dir,
    }
}

/// One midclt call; returns stdout or panics with stderr.
fn call(state: &Path, method: &str, args: &[Value]) -> String {
    let out = call_raw(state, method, args);
    assert_eq!(out.exit, 0, "{method} failed: {}", out.stderr);
    out.stdout
}

fn call_raw(state: &Path, method: &str, args: &[Value]) -> zfleet::sim::MidcltOutput {
    let mut argv = vec!["call".to_string(), method.to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    zfleet::sim::midclt(state, &argv)
}

fn json_call(state: &Path, method: &str, args: &[Value]) -> Value {
    serde_json::from_str(&call(state, method, args)).unwrap()
}

fn create(state: &Path, overrides: Value) -> u64 {
    let mut data = json!({
        "name": "offsite",
        "direction": "PUSH",
        "transport": "SSH",
        "ssh_credentials": 2,
        "source_datasets": ["tank/data"],
        "target_dataset": "backup/nas1/data",
        "recursive": true,
        "auto": false,
        "retention_policy": "SOURCE",
        "periodic_snapshot_tasks": [1],
    });
    for (k, v) in overrides.as_object().unwrap() {
        data[k] = v.clone();
    }
    json_call(state, "replication.create", &[data])["id"]
        .as_u64()
        .unwrap()
}

/// Runs the task and polls its job to the end; returns every job row seen.
fn run(state: &Path, id: u64) -> Vec<Value> {
    let job: u64 = call(state, "replication.run", &[json!(id)])
        .trim()
        .parse()
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let rows = json_call(state, "core.get_jobs", &[json!([["id", "=", job]])]);
        let row = rows[0].clone();
        let state_name = row["state"].as_str().unwrap().to_string();
        seen.push(row);
        if matches!(state_name.as_str(), "SUCCESS" | "FAILED" | "ABORTED") {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("job {job} did not finish: {seen:?}");
}

fn snapshot_names(state: &Path, method: &str, dataset: &str) -> Vec<String> {
    let rows = json_call(state, method, &[json!([["dataset", "=", dataset]])]);
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn task_state(state: &Path, id: u64) -> Value {
    json_call(
        state,
        "replication.query",
        &[json!([["id", "=", id]]), json!({"get": true})],
    )
}

#[test]
fn push_over_ssh_delivers_datasets_and_snapshots_to_the_target() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    // A slow job: progress moves one snapshot per poll, so every step is seen.
    zfleet::sim::clock::set_job_ms(f.nas1.parent().unwrap(), 60_000).unwrap();
    let id = create(&f.nas1, json!({}));
    let seen = run(&f.nas1, id);
    let states: Vec<&str> = seen.iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(
        states,
        [
            "WAITING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "SUCCESS"
        ]
    );
    let last = seen.last().unwrap();
    assert_eq!(last["state"], "SUCCESS", "{last}");
    assert_eq!(last["error"], Value::Null);
    assert_eq!(last["method"], "replication.run");
    // It was seen running, with zettarepl's progress wording.
    let running = seen.iter().find(|r| r["state"] == "RUNNING").unwrap();
    let desc = running["progress"]["description"].as_str().unwrap();
    assert!(
        desc.starts_with("Sending 1 of 4: tank/data@auto-2025-10-30_11-00 ("),
        "{desc}"
    );

    // The target received the matching snapshots (not the manual one), recursively.
    assert_eq!(
        snapshot_names(&f.backup, "zfs.snapshot.query", "backup/nas1/data"),
        [
            "backup/nas1/data@auto-2025-10-30_11-00",
            "backup/nas1/data@auto-2025-10-30_12-00",
            "backup/nas1/data@auto-2025-10-30_13-00",
        ]
    );
    assert_eq!(
        snapshot_names(&f.backup, "zfs.snapshot.query", "backup/nas1/data/photos"),
        ["backup/nas1/data/photos@auto-2025-10-30_13-00"]
    );
    // readonly=SET: on at the top, inherited below.
    let ds = json_call(
        &f.backup,
        "pool.dataset.query",
        &[
            json!([["id", "=", "backup/nas1/data/photos"]]),
            json!({"get": true}),
        ],
    );
    assert_eq!(ds["readonly"]["parsed"], true);
    assert_eq!(ds["readonly"]["source"], "INHERITED");
    assert_eq!(ds["readonly"]["source_info"], "backup/nas1/data");

    let task = task_state(&f.nas1, id);
    assert_eq!(task["state"]["state"], "FINISHED");
    assert_eq!(
        task["state"]["last_snapshot"],
        "tank/data@auto-2025-10-30_13-00"
    );
    assert_eq!(task["job"]["state"], "SUCCESS");

    // A second run is incremental: nothing new, still fine.
    let seen = run(&f.nas1, id);
    assert_eq!(seen.last().unwrap()["state"], "SUCCESS");
}

#[test]
fn local_replication_stays_on_the_system() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    let id = create(
        &f.nas1,
        json!({"transport": "LOCAL", "ssh_credentials": null, "target_dataset": "tank/copy", "recursive": false}),
    );
    let seen = run(&f.nas1, id);
    assert_eq!(seen.last().unwrap()["state"], "SUCCESS");
    assert_eq!(
        snapshot_names(&f.nas1, "pool.snapshot.query", "tank/copy").len(),
        3
    );
}

fn assert_fails(f: &Fleet, id: u64, sentence: &str) {
    let seen = run(&f.nas1, id);
    let last = seen.last().unwrap();
    assert_eq!(last["state"], "FAILED");
    assert_eq!(last["error"], format!("[EFAULT] {sentence}"));
    let task = task_state(&f.nas1, id);
    assert_eq!(task["state"]["state"], "ERROR");
    assert_eq!(task["state"]["error"], sentence);
}

#[test]
fn no_matching_snapshots() {
    let f = fleet(
        &nas1_fixture("      empty: {}"),
        &backup_fixture(true, "", ""),
    );
    let id = create(
        &f.nas1,
        json!({"source_datasets": ["tank/empty"], "periodic_snapshot_tasks": [], "also_include_naming_schema": ["auto-%Y-%m-%d_%H-%M"], "recursive": false}),
    );
    assert_fails(
        &f,
        id,
        "Dataset 'tank/empty' does not have any matching snapshots to replicate.",
    );
}

#[test]
fn foreign_target_snapshots_need_allow_from_scratch() {
    let backup = backup_fixture(
        true,
        "  backup/nas1/data: {}",
        "backup/nas1/data@auto-2025-10-01_00-00",
    );
    let f = fleet(&nas1_fixture(""), &backup);
    let id = create(&f.nas1, json!({"recursive": false}));
    assert_fails(
        &f,
        id,
        "No incremental base on dataset 'tank/data' and replication from scratch is not allowed.",
    );
    // Allowed: the foreign snapshot goes, the source's arrive.
    json_call(
        &f.nas1,
        "replication.update",
        &[json!(id), json!({"allow_from_scratch": true})],
    );
    assert_eq!(run(&f.nas1, id).last().unwrap()["state"], "SUCCESS");
    let names = snapshot_names(&f.backup, "zfs.snapshot.query", "backup/nas1/data");
    assert_eq!(names.len(), 3);
    assert!(!names.iter().any(|n| n.ends_with("2025-10-01_00-00")));
}

#[test]
fn require_readonly_refuses_a_writable_target() {
    let f = fleet(
        &nas1_fixture(""),
        &backup_fixture(true, "  backup/nas1/data: {}", ""),
    );
    let id = create(&f.nas1, json!({"readonly": "REQUIRE"}));
    assert_fails(
        &f,
        id,
        "Target dataset 'backup/nas1/data' exists and does not have readonly=on property, but replication task is set up to require this property. Refusing to replicate.",
    );
}

/// zettarepl replication/run.py `run_replication_steps`: a volume's sentence adds how to
/// fix it (`get_property(..., "type") == "volume"`), on every branch.
#[test]
fn require_readonly_names_the_fix_for_a_volume() {
    let f = fleet(
        &nas1_fixture("      vm: { type: volume, volsize: 1073741824 }"),
        &backup_fixture(
            true,
            "  backup/nas1/vm: { type: volume, volsize: 1073741824 }",
            "",
        ),
    );
    let id = create(
        &f.nas1,
        json!({"readonly": "REQUIRE", "source_datasets": ["tank/vm"], "target_dataset": "backup/nas1/vm", "recursive": false}),
    );
    assert_fails(
        &f,
        id,
        "Target dataset 'backup/nas1/vm' exists and does not have readonly=on property, but replication task is set up to require this property. Refusing to replicate. Please run \"zfs set readonly=on backup/nas1/vm\" on the target system to fix this.",
    );
}

/// A source with nothing to send and a target holding a snapshot the source lacks: SCALE's
/// zettarepl asks for an incremental base only when there are snapshots to send
/// (stable/dragonfish … stable/goldeye run.py `if incremental_base is None and snapshots:`)
/// and fails on the empty source; 13.3's (truenas/13.3-stable `if incremental_base is
/// None:`) fails on the missing base first.
#[test]
fn nothing_to_send_onto_foreign_snapshots_fails_per_version() {
    for (version, sentence) in [
        (
            "25.10",
            "Dataset 'tank/empty' does not have any matching snapshots to replicate.",
        ),
        (
            "13.3",
            "No incremental base on dataset 'tank/empty' and replication from scratch is not allowed.",
        ),
    ] {
        let nas1 = nas1_fixture("      empty: {}")
            .replace("version: \"25.10\"", &format!("version: \"{version}\""));
        let backup = backup_fixture(
            true,
            "  backup/nas1/empty: {}",
            "backup/nas1/empty@auto-2025-10-01_00-00",
        );
        let f = fleet(&nas1, &backup);
        let id = create(
            &f.nas1,
            json!({"source_datasets": ["tank/empty"], "target_dataset": "backup/nas1/empty", "periodic_snapshot_tasks": [], "also_include_naming_schema": ["auto-%Y-%m-%d_%H-%M"], "recursive": false}),
        );
        let seen = run(&f.nas1, id);
        let last = seen.last().unwrap();
        assert_eq!(last["state"], "FAILED", "{version}");
        assert_eq!(last["error"], format!("[EFAULT] {sentence}"), "{version}");
    }
}

/// A run asked for while the task runs fails with "Task is already running"; the task's
/// `job` stays the running one on SCALE (utils/service/task_state.py `TaskStateMixin`
/// skips a task whose job is RUNNING) and becomes the refused one on 13.3
/// (plugins/zettarepl.py `_get_state_context`: the newest `replication.run` of the task).
#[test]
fn a_run_refused_as_already_running_and_the_tasks_job_per_version() {
    for version in ["25.10", "13.3"] {
        let nas1 =
            nas1_fixture("").replace("version: \"25.10\"", &format!("version: \"{version}\""));
        let f = fleet(&nas1, &backup_fixture(true, "", ""));
        zfleet::sim::clock::set_job_ms(f.nas1.parent().unwrap(), 600_000).unwrap();
        let id = create(&f.nas1, json!({}));
        let first: u64 = call(&f.nas1, "replication.run", &[json!(id)])
            .trim()
            .parse()
            .unwrap();
        let second: u64 = call(&f.nas1, "replication.run", &[json!(id)])
            .trim()
            .parse()
            .unwrap();
        let refused = json_call(&f.nas1, "core.get_jobs", &[json!([["id", "=", second]])]);
        assert_eq!(refused[0]["state"], "FAILED", "{version}");
        assert_eq!(
            refused[0]["error"], "[EFAULT] Task is already running",
            "{version}"
        );
        let expected = if version == "13.3" { second } else { first };
        assert_eq!(task_state(&f.nas1, id)["job"]["id"], expected, "{version}");
    }
}

/// `core.get_jobs` rows of a replication run: truenas/13.3-stable job.py `__encode__` has
/// no `transient`, `description`, `abortable` or `credentials`, starts progress at
/// `{None, None}` and keeps zettarepl's float percent; SCALE starts at `{0, ""}` and keeps
/// `int(percent)`. plugins/zettarepl.py `_set_replication_task_progress`: the snapshots
/// sent plus the share of the current one's bytes.
#[test]
fn a_runs_job_rows_per_version() {
    for version in ["25.10", "13.3"] {
        let nas1 =
            nas1_fixture("").replace("version: \"25.10\"", &format!("version: \"{version}\""));
        let f = fleet(&nas1, &backup_fixture(true, "", ""));
        // Progress one snapshot per look, never by the clock.
        zfleet::sim::clock::set_job_ms(f.nas1.parent().unwrap(), 600_000).unwrap();
        let id = create(&f.nas1, json!({"recursive": false}));
        let seen = run(&f.nas1, id);
        let core = version == "13.3";
        let first = seen.first().unwrap();
        let keys: Vec<&str> = first
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        if core {
            assert_eq!(
                keys,
                [
                    "id",
                    "method",
                    "arguments",
                    "logs_path",
                    "logs_excerpt",
                    "progress",
                    "result",
                    "error",
                    "exception",
                    "exc_info",
                    "state",
                    "time_started",
                    "time_finished"
                ]
            );
            assert_eq!(
                first["logs_path"],
                format!("/tmp/middlewared/jobs/{}.log", first["id"])
            );
        } else {
            for k in ["transient", "description", "abortable", "credentials"] {
                assert!(keys.contains(&k), "{version}: {k} in {keys:?}");
            }
        }
        let untouched = if core {
            json!({"percent": null, "description": null, "extra": null})
        } else {
            json!({"percent": 0, "description": "", "extra": null})
        };
        assert_eq!(first["progress"], untouched, "{version}");
        // tank/data holds 3 snapshots of the bound task's schema (its manual one is not
        // sent): the second of 3, half sent, is 50 %.
        let sending: Vec<&Value> = seen
            .iter()
            .filter(|r| {
                r["progress"]["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("Sending 2 of 3: "))
            })
            .collect();
        assert!(!sending.is_empty(), "{version}: {seen:#?}");
        let percent = &sending[0]["progress"]["percent"];
        if core {
            assert_eq!(percent.as_f64(), Some(50.0), "{version}");
            assert!(percent.is_f64(), "{version}: {percent}");
        } else {
            assert_eq!(percent, &json!(50), "{version}");
        }
        let last = seen.last().unwrap();
        assert_eq!(last["state"], "SUCCESS", "{version}");
        assert_eq!(last["progress"]["percent"], json!(100), "{version}");
        assert!(
            last["progress"]["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Sending 3 of 3: ")),
            "{version}: {}",
            last["progress"]
        );
    }
}

#[test]
fn unknown_target_host() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    let id = create(&f.nas1, json!({"ssh_credentials": 3}));
    assert_fails(&f, id, "[Errno -2] Name or service not known.");
}

#[test]
fn target_ssh_service_disabled() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(false, "", ""));
    let id = create(&f.nas1, json!({}));
    assert_fails(&f, id, "Unable to connect to port 22 on 192.0.2.20.");
}

#[test]
fn disabled_task_job_fails() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    let id = create(&f.nas1, json!({"enabled": false}));
    let seen = run(&f.nas1, id);
    assert_eq!(
        seen.last().unwrap()["error"],
        "[EFAULT] Task is not enabled"
    );
}

#[test]
fn advancing_the_clock_takes_and_replicates_snapshots() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    let id = create(&f.nas1, json!({"auto": true}));
    let dir = f.nas1.parent().unwrap();
    let before = snapshot_names(&f.nas1, "pool.snapshot.query", "tank/data").len();
    let report = zfleet::sim::jobs::advance(dir, 2 * 3600 + 60).unwrap();
    assert_eq!(report.systems, 2);
    let after = snapshot_names(&f.nas1, "pool.snapshot.query", "tank/data");
    // Two hourly snapshots taken (recursive: photos too).
    assert_eq!(after.len(), before + 2, "{after:?}");
    assert_eq!(
        snapshot_names(&f.nas1, "pool.snapshot.query", "tank/data/photos").len(),
        3
    );
    // The bound replication ran after each: the target has the newest one.
    let newest = after
        .iter()
        .filter(|n| n.contains("@auto-"))
        .max()
        .unwrap()
        .replace("tank/data@", "backup/nas1/data@");
    let target = snapshot_names(&f.backup, "zfs.snapshot.query", "backup/nas1/data");
    assert!(target.contains(&newest), "{target:?} lacks {newest}");
    assert_eq!(task_state(&f.nas1, id)["state"]["state"], "FINISHED");
    let tasks = json_call(&f.nas1, "pool.snapshottask.query", &[]);
    assert_eq!(tasks[0]["state"]["state"], "FINISHED");
}

/// Seeds every fixture of `examples/<fleet>/sim/` into a fleet directory.
fn example_fleet(fleet: &str) -> (tempfile::TempDir, Vec<(String, PathBuf)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(fleet)
        .join("sim");
    let dir = tempfile::tempdir().unwrap();
    let mut systems = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for fixture in entries {
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        let state = dir.path().join(format!("{name}.json"));
        zfleet::sim::seed(&state, Some(&fixture), None).unwrap();
        systems.push((name, state));
    }
    zfleet::sim::clock::set_job_ms(dir.path(), 30).unwrap();
    (dir, systems)
}

/// Runs every replication task of every system; returns `(system, task name, job row)`.
fn run_all(systems: &[(String, PathBuf)]) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (name, state) in systems {
        let tasks = json_call(state, "replication.query", &[]);
        for t in tasks.as_array().unwrap() {
            let id = t["id"].as_u64().unwrap();
            let job = run(state, id).pop().unwrap();
            out.push((name.clone(), t["name"].as_str().unwrap().to_string(), job));
        }
    }
    out
}

#[test]
fn homelab_example_replicates_cleanly() {
    let (_dir, systems) = example_fleet("homelab");
    assert_eq!(systems.len(), 4);
    let results = run_all(&systems);
    assert_eq!(results.len(), 4);
    for (system, task, job) in &results {
        assert_eq!(job["state"], "SUCCESS", "{system} {task}: {}", job["error"]);
    }
}

#[test]
fn troubled_example_fails_as_its_comments_say() {
    let (_dir, systems) = example_fleet("troubled");
    let state = |n: &str| systems.iter().find(|(s, _)| s == n).unwrap().1.clone();
    // The failed run recorded in the fixture shows before anything runs.
    let before = json_call(&state("alpha"), "replication.query", &[]);
    assert_eq!(before[0]["state"]["state"], "ERROR");
    let results = run_all(&systems);
    let error = |task: &str| {
        results
            .iter()
            .find(|(_, t, _)| t == task)
            .map(|(_, _, j)| j["error"].clone())
            .unwrap()
    };
    assert_eq!(
        error("alpha-to-vault"),
        "[EFAULT] No incremental base on dataset 'tank/data' and replication from scratch is not allowed."
    );
    assert_eq!(
        error("gamma-to-beta"),
        "[EFAULT] Unable to connect to port 22 on beta.acme.internal."
    );
    // The read-only source and the odd naming schema are plan-time findings.
    let db = json_call(
        &state("alpha"),
        "pool.dataset.query",
        &[json!([["id", "=", "tank/db"]]), json!({"get": true})],
    );
    assert_eq!(db["readonly"]["parsed"], true);
    let tasks = json_call(&state("alpha"), "pool.snapshottask.query", &[]);
    assert_eq!(tasks[1]["naming_schema"], "daily-%Y%m%d-%H%M");
}

#[test]
fn generated_fleet_is_deterministic_and_replicates_on_advance() {
    let spec = zfleet::sim::fleetgen::FleetSpec {
        systems: 3,
        datasets: 3,
        tasks: 2,
        seed: 42,
        version: None,
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let states = zfleet::sim::fleetgen::generate(a.path(), &spec)
        .unwrap()
        .states;
    zfleet::sim::fleetgen::generate(b.path(), &spec).unwrap();
    assert_eq!(states.len(), 3);
    for s in ["sys001", "sys002", "sys003"] {
        let fa = std::fs::read_to_string(a.path().join("fixtures").join(format!("{s}.yaml")));
        let fb = std::fs::read_to_string(b.path().join("fixtures").join(format!("{s}.yaml")));
        assert_eq!(fa.unwrap(), fb.unwrap());
    }
    let report = zfleet::sim::jobs::advance(a.path(), 3600).unwrap();
    assert_eq!(report.systems, 3);
    assert_eq!((report.runs_succeeded, report.runs_failed), (3, 0));
    // Every system's hourly task fired and its replication ran to the next system.
    for state in &states {
        let tasks = json_call(state, "replication.query", &[]);
        let hourly = &tasks[0];
        assert_eq!(hourly["state"]["state"], "FINISHED", "{hourly}");
    }
    let rows = json_call(
        &states[1],
        "pool.dataset.query",
        &[json!([["id", "=", "tank/replicas/sys001/ds001"]])],
    );
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["readonly"]["parsed"], true);
}

/// `midclt call -j replication.run ID` waits for the end and prints the job's outcome.
#[test]
fn job_flag_waits_for_the_run() {
    let f = fleet(&nas1_fixture(""), &backup_fixture(true, "", ""));
    let id = create(&f.nas1, json!({}));
    let argv = |id: u64| -> Vec<String> {
        ["call", "-j", "replication.run", &id.to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let out = zfleet::sim::midclt(&f.nas1, &argv(id));
    assert_eq!(
        (out.stdout.as_str(), out.exit),
        ("null\n", 0),
        "{}",
        out.stderr
    );
    assert_eq!(
        snapshot_names(&f.backup, "zfs.snapshot.query", "backup/nas1/data").len(),
        3
    );

    let f = fleet(&nas1_fixture(""), &backup_fixture(false, "", ""));
    let id = create(&f.nas1, json!({}));
    let out = zfleet::sim::midclt(&f.nas1, &argv(id));
    assert_eq!(out.exit, 1);
    assert!(
        out.stderr
            .starts_with("[EFAULT] Unable to connect to port 22 on 192.0.2.20.\n"),
        "{}",
        out.stderr
    );
}
