//! The simulator held against the real API: results have the shapes of the recorded
//! examples (`tests/data/truenas-api/examples/*.json`: same keys, same types), and the
//! simulator accepts exactly the request payloads the middleware's JSON Schemas
//! (`tests/data/truenas-api/schemas/`) accept.

#[path = "support/request_schemas.rs"]
mod request_schemas;

use std::path::{Path, PathBuf};

use request_schemas::{Schemas, data_dir};
use serde_json::{Value, json};
use zfleet::sim;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

fn seeded(name: &str, version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture(name)), Some(version)).unwrap();
    (dir, state)
}

/// Splits `midclt call m '[..]' '{..}'` as a POSIX shell would (single quotes only).
fn shell_words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut has = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                has = true;
            }
            ' ' if !in_quote => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares shapes: same keys in objects, same JSON types (null matches anything, since
/// nullable fields are null in one example and set in another).
fn compare(expected: &Value, actual: &Value, path: &str, errs: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys() {
                if !a.contains_key(k) {
                    errs.push(format!("{path}.{k}: missing"));
                }
            }
            for k in a.keys() {
                if !e.contains_key(k) {
                    errs.push(format!("{path}.{k}: not in the real result"));
                }
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    compare(ev, av, &format!("{path}.{k}"), errs);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, ev) in e.iter().enumerate() {
                // Pair items by id/type/state when they have them, else by position.
                let partner = ["id", "type", "state"]
                    .iter()
                    .find_map(|k| {
                        let want = ev.get(k)?;
                        a.iter().find(|x| x.get(k) == Some(want))
                    })
                    .or_else(|| a.get(i))
                    .or_else(|| a.first());
                if let Some(av) = partner {
                    compare(ev, av, &format!("{path}[{i}]"), errs);
                }
            }
        }
        (e, a) if kind(e) == kind(a) => {}
        (e, a) => errs.push(format!(
            "{path}: {} in the real result, {} here",
            kind(e),
            kind(a)
        )),
    }
}

#[test]
fn results_have_the_shapes_of_the_real_examples() {
    let dir = data_dir().join("examples");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let example: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(cmd) = example.get("_command").and_then(Value::as_str) else {
            continue;
        };
        let argv: Vec<String> = shell_words(cmd).into_iter().skip(1).collect();
        let (_d, state) = seeded("conformance.yaml", "25.10");
        let out = sim::midclt(&state, &argv);
        assert_eq!(out.exit, 0, "{cmd}: {}", out.stderr);
        let actual: Value = serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", out.stdout));
        let expected = &example["result"];
        if let (Value::Array(e), Value::Array(a)) = (expected, &actual) {
            assert_eq!(e.len(), a.len(), "{cmd}: number of results");
        }
        let mut errs = Vec::new();
        compare(expected, &actual, "result", &mut errs);
        if !errs.is_empty() {
            failures.push(format!("{cmd}:\n  {}", errs.join("\n  ")));
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} examples checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Older versions drop what 25.10 added: no `last_snapshot` on snapshot tasks, no
/// `message_ids` on jobs, no `state` string in embedded task rows.
#[test]
fn older_versions_have_the_older_shapes() {
    let (_d, state) = seeded("conformance.yaml", "24.04");
    let run = |argv: &[&str]| -> Value {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let out = sim::midclt(&state, &argv);
        assert_eq!(out.exit, 0, "{argv:?}: {}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    };
    let tasks = run(&["call", "pool.snapshottask.query"]);
    assert_eq!(
        tasks[0]["state"],
        json!({"state": "FINISHED", "datetime": {"$date": 1761829204000u64}})
    );
    let jobs = run(&["call", "core.get_jobs"]);
    let job = jobs[0].as_object().unwrap();
    assert!(!job.contains_key("message_ids") && !job.contains_key("result_encoding_error"));
    assert_eq!(
        job["credentials"],
        json!({"type": "UNIX_SOCKET", "data": {"username": "root"}})
    );
    let repl = run(&["call", "replication.query"]);
    let row = repl[0]["periodic_snapshot_tasks"][0].as_object().unwrap();
    assert!(!row.contains_key("state"));
    assert!(
        !repl[0]
            .as_object()
            .unwrap()
            .contains_key("has_encrypted_dataset_keys")
    );
    let info = run(&["call", "system.info"]);
    assert_eq!(info["version"], "TrueNAS-SCALE-24.04.2");
    let (_d, core) = seeded("conformance.yaml", "13.0");
    let argv: Vec<String> = ["call", "replication.query"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let out = sim::midclt(&core, &argv);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    for k in [
        "sudo",
        "name_regex",
        "lifetimes",
        "properties_override",
        "encryption_inherit",
    ] {
        assert!(v[0].get(k).is_none(), "CORE has no {k}");
    }
}

/// (method, params, accepted by the real request model?)
fn payloads() -> Vec<(&'static str, Value, bool)> {
    let repl = json!({"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"]});
    let with = |extra: Value| {
        let mut r = repl.clone();
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    vec![
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data"}]),
            true,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "recursive": true, "exclude": ["tank/data/scratch"], "lifetime_value": 3, "lifetime_unit": "DAY", "naming_schema": "hourly-%Y%m%d.%H%M", "schedule": {"minute": "15", "hour": "*/2", "dom": "*", "month": "*", "dow": "1-5", "begin": "06:00", "end": "22:00"}, "allow_empty": false, "enabled": true}]),
            true,
        ),
        ("pool.snapshottask.create", json!([]), false),
        ("pool.snapshottask.create", json!([null]), false),
        (
            "pool.snapshottask.create",
            json!([{"recursive": true}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "foo": 1}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "lifetime_value": "2"}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "lifetime_unit": "DAYS"}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "enabled": 1}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "schedule": {"minute": "0", "second": "0"}}]),
            false,
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data"}, {}]),
            false,
        ),
        (
            "pool.snapshottask.update",
            json!([1, {"enabled": true, "fixate_removal_date": true}]),
            true,
        ),
        (
            "pool.snapshottask.update",
            json!(["1", {"enabled": false}]),
            false,
        ),
        ("pool.snapshottask.update", json!([1]), false),
        (
            "pool.snapshottask.delete",
            json!([2, {"fixate_removal_date": false}]),
            true,
        ),
        ("pool.snapshottask.run", json!([1]), true),
        (
            "pool.snapshottask.query",
            json!([[["id", "=", 1]], {"get": true}]),
            true,
        ),
        ("replication.create", json!([repl]), true),
        (
            "replication.create",
            json!([with(
                json!({"name": "r2", "direction": "PULL", "naming_schema": ["auto-%Y-%m-%d_%H-%M"], "also_include_naming_schema": [], "retention_policy": "CUSTOM", "lifetime_value": 2, "lifetime_unit": "WEEK", "auto": true, "schedule": {"minute": "0", "hour": "3"}})
            )]),
            true,
        ),
        ("replication.create", json!([{}]), false),
        (
            "replication.create",
            json!([with(json!({"direction": "push"}))]),
            false,
        ),
        ("replication.create", json!([with(json!({"id": 1}))]), false),
        (
            "replication.create",
            json!([with(json!({"source_datasets": []}))]),
            false,
        ),
        (
            "replication.create",
            json!([with(json!({"speed_limit": 0}))]),
            false,
        ),
        (
            "replication.create",
            json!([with(json!({"periodic_snapshot_tasks": [1, 1]}))]),
            false,
        ),
        (
            "replication.create",
            json!([with(json!({"recursive": "false"}))]),
            false,
        ),
        (
            "replication.create",
            json!([with(json!({"properties_override": {"compression": 1}}))]),
            false,
        ),
        (
            "replication.create",
            json!([with(
                json!({"lifetimes": [{"lifetime_value": 1, "lifetime_unit": "DAY"}]})
            )]),
            false,
        ),
        ("replication.create", json!([repl, 1]), false),
        (
            "replication.update",
            json!([1, {"enabled": true, "retries": 3}]),
            true,
        ),
        ("replication.update", json!([1, {"retries": 0}]), false),
        ("replication.run", json!([1]), true),
        (
            "replication.query",
            json!([[["OR", [["id", "=", 1], ["name", "^", "pull"]]]], {"order_by": ["-id"], "select": ["id", "name"]}]),
            true,
        ),
        // The inventory's two keychain reads (never a private key).
        (
            "keychaincredential.query",
            json!([[["type", "=", "SSH_CREDENTIALS"]], {"select": ["id", "name", "type", "attributes"]}]),
            true,
        ),
        (
            "keychaincredential.query",
            json!([[["type", "!=", "SSH_CREDENTIALS"]], {"select": ["id", "name", "type", "attributes.public_key"]}]),
            true,
        ),
        (
            "keychaincredential.create",
            json!([{"name": "k2", "type": "SSH_KEY_PAIR", "attributes": {"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K x"}}]),
            true,
        ),
        (
            "keychaincredential.create",
            json!([{"name": "c2", "type": "SSH_CREDENTIALS", "attributes": {"host": "192.0.2.30", "private_key": 2, "remote_host_key": "ssh-ed25519 AAAA"}}]),
            true,
        ),
        (
            "keychaincredential.create",
            json!([{"name": "c3", "type": "SSH_CREDENTIALS", "attributes": {"host": "192.0.2.30", "private_key": 2}}]),
            false,
        ),
        (
            "keychaincredential.delete",
            json!([3, {"cascade": true}]),
            true,
        ),
        ("keychaincredential.generate_ssh_key_pair", json!([]), true),
        // The reconciler's connection setup: the key pair is made on the system.
        (
            "keychaincredential.setup_ssh_connection",
            json!([{"setup_type": "MANUAL", "connection_name": "c9",
                "private_key": {"generate_key": true, "name": "k9"},
                "manual_setup": {"host": "192.0.2.30", "remote_host_key": "ssh-ed25519 AAAA"}}]),
            true,
        ),
        (
            "keychaincredential.setup_ssh_connection",
            json!([{"setup_type": "MANUAL", "connection_name": "c9",
                "private_key": {"generate_key": false, "existing_key_id": 2},
                "manual_setup": {"host": "192.0.2.30", "remote_host_key": "ssh-ed25519 AAAA", "port": 2222}}]),
            true,
        ),
        (
            "keychaincredential.setup_ssh_connection",
            json!([{"setup_type": "MANUAL", "connection_name": "c9",
                "private_key": {"generate_key": true, "name": "k9"},
                "manual_setup": {"host": "192.0.2.30"}}]),
            false,
        ),
        ("pool.snapshottask.run", json!([1]), true),
        (
            "pool.snapshottask.update_will_change_retention_for",
            json!([1, {"naming_schema": "new-%Y-%m-%d_%H-%M"}]),
            true,
        ),
        (
            "pool.snapshottask.update_will_change_retention_for",
            json!([1, {"fixate_removal_date": true}]),
            false,
        ),
        (
            "pool.snapshottask.delete_will_change_retention_for",
            json!([1]),
            true,
        ),
        ("replication.list_datasets", json!(["LOCAL"]), true),
        ("replication.list_datasets", json!(["LOCAL", null]), true),
        ("replication.list_datasets", json!(["FTP"]), false),
        ("service.update", json!(["ssh", {"enable": true}]), true),
        ("service.update", json!(["ssh", {}]), false),
        (
            "service.control",
            json!(["START", "ssh", {"silent": false}]),
            true,
        ),
        ("service.control", json!(["BEGIN", "ssh"]), false),
        (
            "pool.snapshot.create",
            json!([{"dataset": "tank/data", "naming_schema": "manual-%Y-%m-%d_%H-%M"}]),
            true,
        ),
        (
            "pool.snapshot.create",
            json!([{"dataset": "tank/data", "name": "x", "naming_schema": "manual-%Y-%m-%d_%H-%M"}]),
            false,
        ),
        (
            "pool.snapshot.delete",
            json!(["tank/data@auto-2025-10-30_12-00", {"defer": false}]),
            true,
        ),
        (
            "pool.dataset.update",
            json!(["tank/data", {"user_properties_update": [{"key": "zfleet:owned", "value": "yes"}]}]),
            true,
        ),
        (
            "user.update",
            json!([1, {"sshpubkey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K x"}]),
            true,
        ),
        (
            "core.get_jobs",
            json!([[["state", "in", ["FAILED", "SUCCESS"]]], {"order_by": ["-id"], "limit": 2}]),
            true,
        ),
        ("system.version", json!([]), true),
    ]
}

/// Whether the simulator took the call (exit 0), or rejected it in its argument layer
/// (for these payloads every valid one passes the plugin checks too).
fn sim_accepts(state: &Path, method: &str, params: &Value) -> bool {
    let mut argv = vec!["call".to_string(), method.to_string()];
    argv.extend(params.as_array().unwrap().iter().map(|p| p.to_string()));
    let out = sim::midclt(state, &argv);
    out.exit == 0
}

#[test]
fn simulator_accepts_exactly_what_the_real_schemas_accept() {
    let mut schemas = Schemas::load("25.10");
    let calls = payloads();
    let verdicts: Vec<bool> = calls
        .iter()
        .map(|(m, p, _)| schemas.accepts(m, p))
        .collect();
    let mut failures = Vec::new();
    for (i, ((method, params, expected), schema_ok)) in calls.iter().zip(&verdicts).enumerate() {
        if schema_ok != expected {
            failures.push(format!(
                "#{i} {method} {params}: schema says {schema_ok}, table says {expected}"
            ));
        }
        let (_d, state) = seeded("conformance.yaml", "25.10");
        let sim_ok = sim_accepts(&state, method, params);
        if sim_ok != *schema_ok {
            failures.push(format!(
                "#{i} {method} {params}: schema accepts={schema_ok}, simulator accepts={sim_ok}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same for 25.04, where only snapshot tasks and the keychain have pydantic models.
#[test]
fn simulator_matches_the_2504_schemas() {
    let mut schemas = Schemas::load("25.04");
    let calls: Vec<(&str, Value)> = vec![
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data"}]),
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "naming_schema": 5}]),
        ),
        (
            "pool.snapshottask.create",
            json!([{"dataset": "tank/data", "bogus": true}]),
        ),
        (
            "pool.snapshottask.update",
            json!([1, {"lifetime_value": 4}]),
        ),
        (
            "keychaincredential.create",
            json!([{"name": "c2", "type": "SSH_CREDENTIALS", "attributes": {"host": "h", "private_key": 2, "remote_host_key": "ssh-ed25519 AAAA"}}]),
        ),
        (
            "keychaincredential.create",
            json!([{"name": "c3", "type": "SSH_CREDENTIALS", "attributes": {"private_key": 2, "remote_host_key": "x"}}]),
        ),
        (
            "keychaincredential.setup_ssh_connection",
            json!([{"setup_type": "MANUAL", "connection_name": "c9",
                "private_key": {"generate_key": true, "name": "k9"},
                "manual_setup": {"host": "h", "remote_host_key": "ssh-ed25519 AAAA"}}]),
        ),
        (
            "keychaincredential.setup_ssh_connection",
            json!([{"setup_type": "MANUAL", "connection_name": "c9",
                "private_key": {"generate_key": false},
                "manual_setup": {"host": "h", "remote_host_key": "ssh-ed25519 AAAA"}}]),
        ),
        (
            "pool.snapshottask.update_will_change_retention_for",
            json!([1, {"lifetime_value": 4}]),
        ),
        (
            "pool.snapshottask.update_will_change_retention_for",
            json!([1, {"bogus": 4}]),
        ),
    ];
    let verdicts: Vec<bool> = calls.iter().map(|(m, p)| schemas.accepts(m, p)).collect();
    // The set holds both verdicts, so a check that accepts (or refuses) everything fails.
    assert!(
        verdicts.contains(&true) && verdicts.contains(&false),
        "{verdicts:?}"
    );
    for ((method, params), schema_ok) in calls.iter().zip(verdicts) {
        let (_d, state) = seeded("conformance.yaml", "25.04");
        assert_eq!(
            sim_accepts(&state, method, params),
            schema_ok,
            "25.04 {method} {params}"
        );
    }
}

/// The schema check is as strict as the middleware's models, and refuses to pass a call
/// it cannot check.
#[test]
fn schema_check_is_strict_about_integers_and_unknown_methods() {
    let mut schemas = Schemas::load("25.10");
    let task = |lifetime: Value| json!([{"dataset": "tank/data", "lifetime_value": lifetime}]);
    assert!(schemas.accepts("pool.snapshottask.create", &task(json!(2))));
    assert!(!schemas.accepts("pool.snapshottask.create", &task(json!(2.0))));
    assert!(!schemas.accepts("pool.snapshottask.create", &task(json!("2"))));
    let report = schemas.check_lines(concat!(
        "{\"method\": \"pool.snapshottask.run\", \"params\": [1]}\n",
        "# a comment\n",
        "\n",
        "{\"method\": \"pool.snapshottask.run\", \"params\": [1.0]}\n",
        "{\"method\": \"not.a.method\"}\n",
        "{\"params\": []}\n",
        "not json\n",
    ));
    assert_eq!(
        (report.passed, report.failed, report.skipped),
        (1, 3, 1),
        "{}",
        report.text()
    );
    assert!(
        report.failures[0].starts_with("line 4: pool.snapshottask.run: FAIL: /0: "),
        "{}",
        report.text()
    );
}
