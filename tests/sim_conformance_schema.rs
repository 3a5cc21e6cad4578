//! The simulator's validation errors against the middleware's own code: each case below was
//! produced by running the named function of that release's branch (the old `@accepts`
//! schema layer, the pydantic models with the pydantic the release ships, and the plugins'
//! validation functions) against a fake middleware, and states what `midclt call` prints:
//! stdout, stderr, exit status. `tools/conformance/README.md` says how to produce them again.
//!
//! A non-validation error prints a Python traceback whose frames the harness cannot
//! reproduce: such cases state the first line (the error text) and the last (`Class: text`).
//!
//! Run: `cargo test --test sim_conformance_schema`.

use std::path::{Path, PathBuf};

use zfleet::sim;

/// What `midclt call` prints for a case.
enum Expect {
    /// A `ValidationErrors`: these lines on stderr, nothing on stdout, exit 1.
    Errors(&'static str),
    /// Any other exception: stderr starts with the error text, then a traceback whose last
    /// line is `Class: text`; nothing on stdout, exit 1.
    Traceback {
        first: &'static str,
        last: &'static str,
    },
    /// The arguments pass every check: exit 0, the created object on stdout.
    Accepted,
}

struct Case {
    version: &'static str,
    method: &'static str,
    args: &'static str,
    expect: Expect,
}

fn case(version: &'static str, method: &'static str, args: &'static str, expect: Expect) -> Case {
    Case {
        version,
        method,
        args,
        expect,
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

/// A fresh `nas1` (the system the harness's fake middleware describes) on `version`.
fn system(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture("nas1.yaml")), Some(version)).unwrap();
    (dir, state)
}

/// The differences between what the simulator printed for `c` and what the release prints.
fn check(c: &Case) -> Vec<String> {
    let (_dir, state) = system(c.version);
    let argv = vec!["call".to_string(), c.method.to_string(), c.args.to_string()];
    let out = sim::midclt(&state, &argv);
    let mut diffs = Vec::new();
    let mut differ = |what: &str, want: &str, got: &str| {
        if want != got {
            diffs.push(format!("{what}: expected {want:?}, got {got:?}"));
        }
    };
    match c.expect {
        Expect::Errors(lines) => {
            differ("stderr", lines, &out.stderr);
            differ("stdout", "", &out.stdout);
            differ("exit", "1", &out.exit.to_string());
        }
        Expect::Traceback { first, last } => {
            let mut lines = out.stderr.lines();
            differ("stderr first line", first, lines.next().unwrap_or(""));
            differ(
                "stderr second line",
                "Traceback (most recent call last):",
                lines.next().unwrap_or(""),
            );
            let got_last = out.stderr.lines().rev().find(|l| !l.is_empty());
            differ("stderr last line", last, got_last.unwrap_or(""));
            differ("stdout", "", &out.stdout);
            differ("exit", "1", &out.exit.to_string());
        }
        Expect::Accepted => {
            differ("stderr", "", &out.stderr);
            differ("exit", "0", &out.exit.to_string());
            let created: Result<serde_json::Value, _> = serde_json::from_str(&out.stdout);
            if !created.as_ref().is_ok_and(|v| v.get("id").is_some()) {
                diffs.push(format!(
                    "stdout: expected the created object, got {:?}",
                    out.stdout
                ));
            }
        }
    }
    diffs
}

#[test]
fn validation_errors_as_the_middleware_code_produces_them() {
    let cases = cases();
    let mut failures = Vec::new();
    for c in &cases {
        let diffs = check(c);
        if !diffs.is_empty() {
            failures.push(format!(
                "{} midclt call {} '{}':\n  {}",
                c.version,
                c.method,
                c.args,
                diffs.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn cases() -> Vec<Case> {
    vec![
        // st_begin_hour_25: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // st_begin_no_colon: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // st_begin_letters: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // st_end_minute_60: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // st_begin_null: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":null}}"#,
            Expect::Traceback {
                first: r#"[begin] null not allowed"#,
                last: r#"middlewared.schema.Error: [begin] null not allowed"#,
            },
        ),
        // st_window_reversed: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Begin time should be less or equal than end time
[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_window_missed: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_unexpected_key: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"second":"0"}}"#,
            Expect::Traceback {
                first: r#"[second] Field was not expected"#,
                last: r#"middlewared.schema.Error: [second] Field was not expected"#,
            },
        ),
        // repl_begin_hour_25: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // repl_begin_no_colon: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // repl_begin_letters: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // repl_end_minute_60: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // repl_begin_null: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":null}}"#,
            Expect::Traceback {
                first: r#"[begin] null not allowed"#,
                last: r#"middlewared.schema.Error: [begin] null not allowed"#,
            },
        ),
        // repl_window_reversed: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Begin time should be less or equal than end time
[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_window_missed: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_unexpected_key: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"second":"0"}}"#,
            Expect::Traceback {
                first: r#"[second] Field was not expected"#,
                last: r#"middlewared.schema.Error: [second] Field was not expected"#,
            },
        ),
        // repl_retries_0: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.retries: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_speed_limit_0: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"speed_limit":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.speed_limit: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_port_0: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Port
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_min":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_min: Should be between 1 and 65535
"#,
            ),
        ),
        // repl_port_70000_and_retries_0: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_max":70000,"retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_max: Should be between 1 and 65535
[EINVAL] replication_create.retries: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_source_missing: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Traceback {
                first: r#"[source_datasets] attribute required"#,
                last: r#"middlewared.schema.Error: [source_datasets] attribute required"#,
            },
        ),
        // repl_source_empty: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":[],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Traceback {
                first: r#"[source_datasets] Empty value not allowed"#,
                last: r#"middlewared.schema.Error: [source_datasets] Empty value not allowed"#,
            },
        ),
        // repl_empty_object: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/dict_schema.py::Dict.get_defaults
        case(
            "13.3",
            "replication.create",
            r#"{}"#,
            Expect::Traceback {
                first: r#"[name] attribute required"#,
                last: r#"middlewared.schema.Error: [name] attribute required"#,
            },
        ),
        // repl_tasks_duplicate: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Unique.__call__
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","periodic_snapshot_tasks":[1,1]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: Duplicate values are not allowed: 1
"#,
            ),
        ),
        // repl_exclude_index: produced by running truenas/13.3-stable:src/middlewared/middlewared/plugins/replication.py::ReplicationService._validate
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":true,"auto":false,"retention_policy":"NONE","exclude":["tank/data/photos","other/x"],"also_include_naming_schema":["a-%Y%m%d%H%M"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.exclude.1: This dataset is not a child of any of source datasets
"#,
            ),
        ),
        // repl_naming_schema_index: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PULL","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","naming_schema":["auto-%Y-%m-%d_%H-%M","bad"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.naming_schema.1.naming_schema: %Y must be present in snapshot naming schema
"#,
            ),
        ),
        // repl_lifetimes_item: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":1}]}"#,
            Expect::Traceback {
                first: r#"[lifetimes] Field was not expected"#,
                last: r#"middlewared.schema.Error: [lifetimes] Field was not expected"#,
            },
        ),
        // repl_lifetimes_item_value: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":0,"lifetime_unit":"DAY"}]}"#,
            Expect::Traceback {
                first: r#"[lifetimes] Field was not expected"#,
                last: r#"middlewared.schema.Error: [lifetimes] Field was not expected"#,
            },
        ),
        // repl_source_item_type: produced by running truenas/13.3-stable:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data",5],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" for push replication task
"#,
            ),
        ),
        // repl_lifetime_0: produced by running truenas/13.3-stable:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "13.3",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetime_value":0,"lifetime_unit":"DAY"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetime_value: Should be greater or equal than 1
"#,
            ),
        ),
        // st_exclude_index: produced by running truenas/13.3-stable:src/middlewared/middlewared/plugins/snapshot.py::PeriodicSnapshotTaskService._validate
        case(
            "13.3",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":true,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","exclude":["tank/data/photos","other/b"]}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.exclude.1: Excluded dataset or zvol should be a child or other descendant of selected dataset
"#,
            ),
        ),
        // st_begin_hour_25: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // st_begin_no_colon: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // st_begin_letters: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // st_end_minute_60: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // st_begin_null: produced by running stable/dragonfish:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":null}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule.begin: null not allowed
"#,
            ),
        ),
        // st_window_reversed: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Begin time should be less or equal than end time
[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_window_missed: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_unexpected_key: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"second":"0"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule.second: Field was not expected
"#,
            ),
        ),
        // repl_begin_hour_25: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // repl_begin_no_colon: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // repl_begin_letters: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // repl_end_minute_60: produced by running stable/dragonfish:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // repl_begin_null: produced by running stable/dragonfish:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":null}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.begin: null not allowed
"#,
            ),
        ),
        // repl_window_reversed: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Begin time should be less or equal than end time
[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_window_missed: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_unexpected_key: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"second":"0"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.second: Field was not expected
"#,
            ),
        ),
        // repl_retries_0: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.retries: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_speed_limit_0: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"speed_limit":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.speed_limit: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_port_0: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Port
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_min":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_min: Should be between 1 and 65535
"#,
            ),
        ),
        // repl_port_70000_and_retries_0: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_max":70000,"retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_max: Should be between 1 and 65535
[EINVAL] replication_create.retries: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_source_missing: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_source_empty: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":[],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_empty_object: produced by running stable/dragonfish:src/middlewared/middlewared/schema/dict_schema.py::Dict.get_defaults
        case(
            "24.04",
            "replication.create",
            r#"{}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.name: attribute required
[EINVAL] replication_create.direction: attribute required
[EINVAL] replication_create.transport: attribute required
[EINVAL] replication_create.source_datasets: Empty value not allowed
[EINVAL] replication_create.target_dataset: attribute required
[EINVAL] replication_create.recursive: attribute required
[EINVAL] replication_create.auto: attribute required
[EINVAL] replication_create.retention_policy: attribute required
"#,
            ),
        ),
        // repl_tasks_duplicate: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Unique.__call__
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","periodic_snapshot_tasks":[1,1]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: Duplicate values are not allowed: 1
"#,
            ),
        ),
        // repl_exclude_index: produced by running stable/dragonfish:src/middlewared/middlewared/plugins/replication.py::ReplicationService._validate
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":true,"auto":false,"retention_policy":"NONE","exclude":["tank/data/photos","other/x"],"also_include_naming_schema":["a-%Y%m%d%H%M"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.exclude.1: This dataset is not a child of any of source datasets
"#,
            ),
        ),
        // repl_naming_schema_index: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PULL","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","naming_schema":["auto-%Y-%m-%d_%H-%M","bad"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.naming_schema.1.naming_schema: %Y must be present in snapshot naming schema
"#,
            ),
        ),
        // repl_lifetimes_item: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":1}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes: Item#1 is not valid per list types: [EINVAL] lifetime.lifetime_unit: attribute required

"#,
            ),
        ),
        // repl_lifetimes_item_value: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":0,"lifetime_unit":"DAY"}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes.1.lifetime.lifetime_value: Should be greater or equal than 1
"#,
            ),
        ),
        // repl_source_item_type: produced by running stable/dragonfish:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data",5],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" or "Name Regex" for push replication task
"#,
            ),
        ),
        // repl_lifetime_0: produced by running stable/dragonfish:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetime_value":0,"lifetime_unit":"DAY"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetime_value: Should be greater or equal than 1
"#,
            ),
        ),
        // st_exclude_index: produced by running stable/dragonfish:src/middlewared/middlewared/plugins/snapshot.py::PeriodicSnapshotTaskService._validate
        case(
            "24.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":true,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","exclude":["tank/data/photos","other/b"]}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.exclude.1: Excluded dataset should be a child or other descendant of the selected dataset
"#,
            ),
        ),
        // st_begin_hour_25: produced by running stable/electriceel:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // st_begin_no_colon: produced by running stable/electriceel:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // st_begin_letters: produced by running stable/electriceel:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // st_end_minute_60: produced by running stable/electriceel:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // st_begin_null: produced by running stable/electriceel:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":null}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule.begin: null not allowed
"#,
            ),
        ),
        // st_window_reversed: produced by running stable/electriceel:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Begin time should be less than or equal to end time
[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_window_missed: produced by running stable/electriceel:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // st_unexpected_key: produced by running stable/electriceel:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"second":"0"}}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.schedule.second: Field was not expected
"#,
            ),
        ),
        // repl_retries_0: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.retries: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_speed_limit_0: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"speed_limit":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.speed_limit: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_port_0: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Port
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_min":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_min: Should be between 1 and 65535
"#,
            ),
        ),
        // repl_port_70000_and_retries_0: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_max":70000,"retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_max: Should be between 1 and 65535
[EINVAL] replication_create.retries: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_source_missing: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_source_empty: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":[],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_empty_object: produced by running stable/electriceel:src/middlewared/middlewared/schema/dict_schema.py::Dict.get_defaults
        case(
            "24.10",
            "replication.create",
            r#"{}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.name: attribute required
[EINVAL] replication_create.direction: attribute required
[EINVAL] replication_create.transport: attribute required
[EINVAL] replication_create.source_datasets: Empty value not allowed
[EINVAL] replication_create.target_dataset: attribute required
[EINVAL] replication_create.recursive: attribute required
[EINVAL] replication_create.auto: attribute required
[EINVAL] replication_create.retention_policy: attribute required
"#,
            ),
        ),
        // repl_tasks_duplicate: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Unique.__call__
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","periodic_snapshot_tasks":[1,1]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: Duplicate values are not allowed: 1
"#,
            ),
        ),
        // repl_exclude_index: produced by running stable/electriceel:src/middlewared/middlewared/plugins/replication.py::ReplicationService._validate
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":true,"auto":false,"retention_policy":"NONE","exclude":["tank/data/photos","other/x"],"also_include_naming_schema":["a-%Y%m%d%H%M"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.exclude.1: This dataset is not a child of any of source datasets
"#,
            ),
        ),
        // repl_naming_schema_index: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PULL","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","naming_schema":["auto-%Y-%m-%d_%H-%M","bad"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.naming_schema.1.naming_schema: %Y must be present in snapshot naming schema
"#,
            ),
        ),
        // repl_lifetimes_item: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":1}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes: Item#1 is not valid per list types: [EINVAL] lifetime.lifetime_unit: attribute required

"#,
            ),
        ),
        // repl_lifetimes_item_value: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":0,"lifetime_unit":"DAY"}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes.1.lifetime.lifetime_value: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_source_item_type: produced by running stable/electriceel:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data",5],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" or "Name Regex" for push replication task
"#,
            ),
        ),
        // repl_lifetime_0: produced by running stable/electriceel:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "24.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetime_value":0,"lifetime_unit":"DAY"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetime_value: Should be greater than or equal to 1
"#,
            ),
        ),
        // st_exclude_index: produced by running stable/electriceel:src/middlewared/middlewared/plugins/snapshot.py::PeriodicSnapshotTaskService._validate
        case(
            "24.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":true,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","exclude":["tank/data/photos","other/b"]}"#,
            Expect::Errors(
                r#"[EINVAL] periodic_snapshot_create.exclude.1: Excluded dataset should be a child or other descendant of the selected dataset
"#,
            ),
        ),
        // repl_begin_hour_25: produced by running stable/fangtooth:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"25:00"}}"#,
            Expect::Traceback {
                first: r#"hour must be in 0..23"#,
                last: r#"ValueError: hour must be in 0..23"#,
            },
        ),
        // repl_begin_no_colon: produced by running stable/fangtooth:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"1200"}}"#,
            Expect::Traceback {
                first: r#"Time should be in 24 hour format like "18:00""#,
                last: r#"ValueError: Time should be in 24 hour format like "18:00""#,
            },
        ),
        // repl_begin_letters: produced by running stable/fangtooth:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"ab:cd"}}"#,
            Expect::Traceback {
                first: r#"invalid literal for int() with base 10: 'ab'"#,
                last: r#"ValueError: invalid literal for int() with base 10: 'ab'"#,
            },
        ),
        // repl_end_minute_60: produced by running stable/fangtooth:src/middlewared/middlewared/schema/string_schema.py::Time.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"end":"12:60"}}"#,
            Expect::Traceback {
                first: r#"minute must be in 0..59"#,
                last: r#"ValueError: minute must be in 0..59"#,
            },
        ),
        // repl_begin_null: produced by running stable/fangtooth:src/middlewared/middlewared/schema/attribute.py::Attribute.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":null}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.begin: null not allowed
"#,
            ),
        ),
        // repl_window_reversed: produced by running stable/fangtooth:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Begin time should be less than or equal to end time
[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_window_missed: produced by running stable/fangtooth:src/middlewared/middlewared/schema/dict_schema.py::Cron.validate
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_unexpected_key: produced by running stable/fangtooth:src/middlewared/middlewared/schema/dict_schema.py::Dict.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"second":"0"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.second: Field was not expected
"#,
            ),
        ),
        // repl_retries_0: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.retries: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_speed_limit_0: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"speed_limit":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.speed_limit: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_port_0: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Port
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_min":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_min: Should be between 1 and 65535
"#,
            ),
        ),
        // repl_port_70000_and_retries_0: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"SSH+NETCAT","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","ssh_credentials":1,"netcat_active_side":"LOCAL","netcat_active_side_port_max":70000,"retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.netcat_active_side_port_max: Should be between 1 and 65535
[EINVAL] replication_create.retries: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_source_missing: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_source_empty: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":[],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.source_datasets: Empty value not allowed
"#,
            ),
        ),
        // repl_empty_object: produced by running stable/fangtooth:src/middlewared/middlewared/schema/dict_schema.py::Dict.get_defaults
        case(
            "25.04",
            "replication.create",
            r#"{}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.name: attribute required
[EINVAL] replication_create.direction: attribute required
[EINVAL] replication_create.transport: attribute required
[EINVAL] replication_create.source_datasets: Empty value not allowed
[EINVAL] replication_create.target_dataset: attribute required
[EINVAL] replication_create.recursive: attribute required
[EINVAL] replication_create.auto: attribute required
[EINVAL] replication_create.retention_policy: attribute required
"#,
            ),
        ),
        // repl_tasks_duplicate: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Unique.__call__
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","periodic_snapshot_tasks":[1,1]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: Duplicate values are not allowed: 1
"#,
            ),
        ),
        // repl_exclude_index: produced by running stable/fangtooth:src/middlewared/middlewared/plugins/replication.py::ReplicationService._validate
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":true,"auto":false,"retention_policy":"NONE","exclude":["tank/data/photos","other/x"],"also_include_naming_schema":["a-%Y%m%d%H%M"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.exclude.1: This dataset is not a child of any of source datasets
"#,
            ),
        ),
        // repl_naming_schema_index: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PULL","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","naming_schema":["auto-%Y-%m-%d_%H-%M","bad"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.naming_schema.1.naming_schema: %Y must be present in snapshot naming schema
"#,
            ),
        ),
        // repl_lifetimes_item: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":1}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes: Item#1 is not valid per list types: [EINVAL] lifetime.lifetime_unit: attribute required

"#,
            ),
        ),
        // repl_lifetimes_item_value: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.validate
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetimes":[{"schedule":{"hour":"1"},"lifetime_value":1,"lifetime_unit":"DAY"},{"schedule":{"hour":"2"},"lifetime_value":0,"lifetime_unit":"DAY"}]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetimes.1.lifetime.lifetime_value: Should be greater than or equal to 1
"#,
            ),
        ),
        // repl_source_item_type: produced by running stable/fangtooth:src/middlewared/middlewared/schema/list_schema.py::List.clean
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data",5],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.periodic_snapshot_tasks: You must at least either bind a periodic snapshot task or provide "Also Include Naming Schema" or "Name Regex" for push replication task
"#,
            ),
        ),
        // repl_lifetime_0: produced by running stable/fangtooth:src/middlewared/middlewared/validators.py::Range.__call__
        case(
            "25.04",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"CUSTOM","lifetime_value":0,"lifetime_unit":"DAY"}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.lifetime_value: Should be greater than or equal to 1
"#,
            ),
        ),
        // st_pyd_begin_hour_25: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"25:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] data.schedule.begin: Value error, hour must be in 0..23
"#,
            ),
        ),
        // st_pyd_begin_letters: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"ab:cd"}}"#,
            Expect::Errors(
                r#"[EINVAL] data.schedule.begin: Value error, invalid literal for int() with base 10: 'ab'
"#,
            ),
        ),
        // st_pyd_window_reversed: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Accepted,
        ),
        // st_pyd_window_missed: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Accepted,
        ),
        // st_pyd_missing_and_extra: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCreate
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"zzz":1,"naming_schema":"auto-%Y-%m-%d_%H-%M","aaa":2}"#,
            Expect::Errors(
                r#"[EINVAL] data.dataset: Field required
[EINVAL] data.zzz: Extra inputs are not permitted
[EINVAL] data.aaa: Extra inputs are not permitted
"#,
            ),
        ),
        // st_pyd_lifetime_0: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/pool_snapshottask.py::PoolSnapshotTaskCreate
        case(
            "25.04",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":0,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M"}"#,
            Expect::Accepted,
        ),
        // kc_union_bad_key_type: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.04",
            "keychaincredential.create",
            r#"{"name":"k","type":"SSH_KEY_PAIR","attributes":{"private_key":5}}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.attributes.private_key: Input should be a valid string
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.type: Input should be 'SSH_CREDENTIALS'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.host: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.remote_host_key: Field required
"#,
            ),
        ),
        // kc_union_unknown_type: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.04",
            "keychaincredential.create",
            r#"{"name":"k","type":"NOPE","attributes":{}}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.type: Input should be 'SSH_KEY_PAIR'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.type: Input should be 'SSH_CREDENTIALS'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.host: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.private_key: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.remote_host_key: Field required
"#,
            ),
        ),
        // kc_union_missing_attributes: produced by running stable/fangtooth:src/middlewared/middlewared/api/v25_04_2/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.04",
            "keychaincredential.create",
            r#"{"name":"k","type":"SSH_CREDENTIALS"}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.type: Input should be 'SSH_KEY_PAIR'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.attributes: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes: Field required
"#,
            ),
        ),
        // st_pyd_begin_hour_25: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"25:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] data.schedule.begin: Value error, hour must be in 0..23
"#,
            ),
        ),
        // st_pyd_begin_letters: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"ab:cd"}}"#,
            Expect::Errors(
                r#"[EINVAL] data.schedule.begin: Value error, invalid literal for int() with base 10: 'ab'
"#,
            ),
        ),
        // st_pyd_window_reversed: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Accepted,
        ),
        // st_pyd_window_missed: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCron
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Accepted,
        ),
        // st_pyd_missing_and_extra: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCreate
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"zzz":1,"naming_schema":"auto-%Y-%m-%d_%H-%M","aaa":2}"#,
            Expect::Errors(
                r#"[EINVAL] data.dataset: Field required
[EINVAL] data.zzz: Extra inputs are not permitted
[EINVAL] data.aaa: Extra inputs are not permitted
"#,
            ),
        ),
        // st_pyd_lifetime_0: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshottask.py::PoolSnapshotTaskCreate
        case(
            "25.10",
            "pool.snapshottask.create",
            r#"{"dataset":"tank/data","recursive":false,"lifetime_value":0,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M"}"#,
            Expect::Accepted,
        ),
        // kc_union_bad_key_type: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.10",
            "keychaincredential.create",
            r#"{"name":"k","type":"SSH_KEY_PAIR","attributes":{"private_key":5}}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.attributes.private_key: Input should be a valid string
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.type: Input should be 'SSH_CREDENTIALS'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.host: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.remote_host_key: Field required
"#,
            ),
        ),
        // kc_union_unknown_type: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.10",
            "keychaincredential.create",
            r#"{"name":"k","type":"NOPE","attributes":{}}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.type: Input should be 'SSH_KEY_PAIR'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.type: Input should be 'SSH_CREDENTIALS'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.host: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.private_key: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes.remote_host_key: Field required
"#,
            ),
        ),
        // kc_union_missing_attributes: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/keychain.py::KeychainCredentialCreateArgs
        case(
            "25.10",
            "keychaincredential.create",
            r#"{"name":"k","type":"SSH_CREDENTIALS"}"#,
            Expect::Errors(
                r#"[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.type: Input should be 'SSH_KEY_PAIR'
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHKeyPairEntry.attributes: Field required
[EINVAL] keychain_credential_create.KeychainCredentialCreateSSHCredentialsEntry.attributes: Field required
"#,
            ),
        ),
        // repl_pyd_missing_and_extra: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"zzz":1,"name":"r1","aaa":2,"recursive":false}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.direction: Field required
[EINVAL] replication_create.transport: Field required
[EINVAL] replication_create.source_datasets: Field required
[EINVAL] replication_create.target_dataset: Field required
[EINVAL] replication_create.auto: Field required
[EINVAL] replication_create.retention_policy: Field required
[EINVAL] replication_create.zzz: Extra inputs are not permitted
[EINVAL] replication_create.aaa: Extra inputs are not permitted
"#,
            ),
        ),
        // repl_pyd_retries_0: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","retries":0}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.retries: Input should be greater than or equal to 1
"#,
            ),
        ),
        // repl_pyd_window_reversed: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"18:00","end":"06:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Assertion failed, Begin time should be less than or equal to end time
"#,
            ),
        ),
        // repl_pyd_window_missed: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule: Assertion failed, Specified schedule does not match specified time interval
"#,
            ),
        ),
        // repl_pyd_begin_no_colon: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"1200"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.begin: Value error, Time should be in 24 hour format like "18:00"
"#,
            ),
        ),
        // repl_pyd_begin_hour_25: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":true,"retention_policy":"NONE","schedule":{"begin":"25:00"}}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.schedule.begin: Value error, hour must be in 0..23
"#,
            ),
        ),
        // repl_pyd_naming_schema_index: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/replication.py::ReplicationCreate
        case(
            "25.10",
            "replication.create",
            r#"{"name":"r1","direction":"PULL","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE","naming_schema":["auto-%Y-%m-%d_%H-%M","bad"]}"#,
            Expect::Errors(
                r#"[EINVAL] replication_create.naming_schema.1: Value error, %Y must be present in snapshot naming schema
"#,
            ),
        ),
        // ps_union_both: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshot.py::PoolSnapshotCreateArgs
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"manual-1","naming_schema":"auto-%Y-%m-%d_%H-%M"}"#,
            Expect::Errors(
                r#"[EINVAL] data.PoolSnapshotCreateWithName.naming_schema: Extra inputs are not permitted
[EINVAL] data.PoolSnapshotCreateWithSchema.name: Extra inputs are not permitted
"#,
            ),
        ),
        // ps_union_neither: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshot.py::PoolSnapshotCreateArgs
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data"}"#,
            Expect::Errors(
                r#"[EINVAL] data.PoolSnapshotCreateWithName.name: Field required
[EINVAL] data.PoolSnapshotCreateWithSchema.naming_schema: Field required
"#,
            ),
        ),
        // ps_union_bad_type: produced by running stable/goldeye:src/middlewared/middlewared/api/v25_10_0/pool_snapshot.py::PoolSnapshotCreateArgs
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"manual-1","recursive":"yes"}"#,
            Expect::Errors(
                r#"[EINVAL] data.PoolSnapshotCreateWithName.recursive: Input should be a valid boolean
[EINVAL] data.PoolSnapshotCreateWithSchema.recursive: Input should be a valid boolean
[EINVAL] data.PoolSnapshotCreateWithSchema.naming_schema: Field required
[EINVAL] data.PoolSnapshotCreateWithSchema.name: Extra inputs are not permitted
"#,
            ),
        ),
        // ps_exclude_not_recursive: produced by running stable/goldeye:src/middlewared/middlewared/plugins/zfs_/snapshot.py::ZFSSnapshotService.create
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"manual-1","exclude":["tank/data/photos"]}"#,
            Expect::Errors(
                r#"[EINVAL] snapshot_create.exclude: This option has no sense for non-recursive snapshots
"#,
            ),
        ),
        // ps_exclude_with_properties: produced by running stable/goldeye:src/middlewared/middlewared/plugins/zfs_/snapshot.py::ZFSSnapshotService.create
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"manual-1","recursive":true,"exclude":["tank/data/photos"],"properties":{"a:b":"c"}}"#,
            Expect::Errors(
                r#"[EINVAL] snapshot_create.properties: This option is not supported when excluding datasets
"#,
            ),
        ),
        // ps_exclude_with_properties_bad_name: produced by running stable/goldeye:src/middlewared/middlewared/plugins/zfs_/snapshot.py::ZFSSnapshotService.create
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"a@b","exclude":["tank/data/photos"],"properties":{"a:b":"c"}}"#,
            Expect::Errors(
                r#"[EINVAL] snapshot_create.exclude: This option has no sense for non-recursive snapshots
[EINVAL] snapshot_create.properties: This option is not supported when excluding datasets
[EINVAL] snapshot_create.name: Invalid snapshot name
"#,
            ),
        ),
        // ps_invalid_name: produced by running stable/goldeye:src/middlewared/middlewared/plugins/zfs_/snapshot.py::ZFSSnapshotService.create
        case(
            "25.10",
            "pool.snapshot.create",
            r#"{"dataset":"tank/data","name":"a@b"}"#,
            Expect::Errors(
                r#"[EINVAL] snapshot_create.name: Invalid snapshot name
"#,
            ),
        ),
    ]
}
