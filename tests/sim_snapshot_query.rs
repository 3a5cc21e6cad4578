//! Snapshot queries per dataset, as the reconciler makes them, on every simulated version:
//! what the middleware's `zfs.snapshot.query` (`pool.snapshot.query` on 25.10) and its
//! `filter_list` make of `=`, `^`, `in` and `OR`, and how fast a large system answers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const VERSIONS: [&str; 6] = ["13.0", "13.3", "24.04", "24.10", "25.04", "25.10"];

const FIXTURE: &str = r#"
hostname: nas1
datasets:
  tank:
    children:
      data:
        children:
          child: {}
      database: {}
snapshots:
  - tank/data@a
  - tank/data@b
  - tank/data/child@c
  - tank/database@d
"#;

fn system(dir: &Path, version: &str) -> PathBuf {
    let fixture = dir.join("fixture.yaml");
    std::fs::write(&fixture, FIXTURE).expect("fixture");
    let state = dir.join(format!("nas-{version}.json"));
    zfleet::sim::seed(&state, Some(&fixture), Some(version)).expect("seed");
    state
}

fn method(version: &str) -> &'static str {
    if version == "25.10" {
        "pool.snapshot.query"
    } else {
        "zfs.snapshot.query"
    }
}

fn query(state: &Path, version: &str, filters: Value, options: Value) -> (i32, String, String) {
    let argv = vec![
        "call".to_string(),
        method(version).to_string(),
        filters.to_string(),
        options.to_string(),
    ];
    let out = zfleet::sim::midclt(state, &argv);
    (out.exit, out.stdout, out.stderr)
}

fn names(state: &Path, version: &str, filters: Value) -> Vec<String> {
    let (exit, stdout, stderr) = query(state, version, filters, json!({"select": ["name"]}));
    assert_eq!(exit, 0, "{version}: {stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).expect("json");
    rows.iter()
        .map(|r| {
            assert_eq!(r.as_object().map(|o| o.len()), Some(1), "{version}: {r}");
            r["name"].as_str().expect("name").to_string()
        })
        .collect()
}

#[test]
fn one_dataset_its_children_and_a_list() {
    let dir = tempfile::tempdir().expect("tmp");
    for v in VERSIONS {
        let state = system(dir.path(), v);
        assert_eq!(
            names(&state, v, json!([["dataset", "=", "tank/data"]])),
            ["tank/data@a", "tank/data@b"],
            "{v}"
        );
        assert_eq!(
            names(
                &state,
                v,
                json!([[
                    "OR",
                    [
                        ["dataset", "=", "tank/data"],
                        ["dataset", "^", "tank/data/"]
                    ]
                ]])
            ),
            ["tank/data@a", "tank/data@b", "tank/data/child@c"],
            "{v}"
        );
        assert_eq!(
            names(
                &state,
                v,
                json!([["dataset", "in", ["tank/data", "tank/database"]]])
            ),
            ["tank/data@a", "tank/data@b", "tank/database@d"],
            "{v}"
        );
        assert_eq!(
            names(&state, v, json!([["name", "^", "tank/data@"]])),
            ["tank/data@a", "tank/data@b"],
            "{v}"
        );
        // Whole rows name their dataset on every version.
        let (exit, stdout, stderr) = query(
            &state,
            v,
            json!([["dataset", "=", "tank/data/child"]]),
            json!({}),
        );
        assert_eq!(exit, 0, "{v}: {stderr}");
        let rows: Vec<Value> = serde_json::from_str(&stdout).expect("json");
        assert_eq!(rows.len(), 1, "{v}");
        assert_eq!(rows[0]["dataset"], "tank/data/child", "{v}");
        assert_eq!(rows[0]["name"], "tank/data/child@c", "{v}");
    }
}

#[test]
fn or_of_condition_lists_fails_in_filter_getattrs_on_scale() {
    let dir = tempfile::tempdir().expect("tmp");
    let nested = json!([[
        "OR",
        [
            [["dataset", "=", "tank/data"]],
            [["dataset", "^", "tank/data/"]]
        ]
    ]]);
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        let state = system(dir.path(), v);
        for options in [json!({"select": ["name"]}), json!({})] {
            let (exit, stdout, stderr) = query(&state, v, nested.clone(), options);
            assert_eq!((exit, stdout.as_str()), (1, ""), "{v}");
            assert!(stderr.starts_with("Invalid filter.\n"), "{v}: {stderr}");
            assert!(
                stderr.ends_with("ValueError: Invalid filter.\n\n"),
                "{v}: {stderr}"
            );
        }
        // Three single conditions: the branch list itself is taken for a condition.
        let three = json!([[
            "OR",
            [
                ["dataset", "=", "x"],
                ["dataset", "=", "y"],
                ["dataset", "=", "tank/data"]
            ]
        ]]);
        let (exit, _, stderr) = query(&state, v, three, json!({}));
        assert_eq!(exit, 1, "{v}");
        assert!(
            stderr.starts_with("unhashable type: 'list'\n"),
            "{v}: {stderr}"
        );
    }
}

#[test]
fn core_takes_only_single_conditions_as_or_branches() {
    let dir = tempfile::tempdir().expect("tmp");
    let nested = json!([[
        "OR",
        [
            [["dataset", "=", "tank/data"]],
            [["dataset", "^", "tank/data/"]]
        ]
    ]]);
    for v in ["13.0", "13.3"] {
        let state = system(dir.path(), v);
        let (exit, _, stderr) = query(&state, v, nested.clone(), json!({}));
        assert_eq!(exit, 1, "{v}");
        assert!(
            stderr.starts_with("Invalid filter [['dataset', '=', 'tank/data']]\n"),
            "{v}: {stderr}"
        );
        // Names only: `filter_getattrs` looks first, as on SCALE.
        let (exit, _, stderr) = query(&state, v, nested.clone(), json!({"select": ["name"]}));
        assert_eq!(exit, 1, "{v}");
        assert!(stderr.starts_with("Invalid filter.\n"), "{v}: {stderr}");
        // Three single conditions are fine on CORE's full rows.
        let three = json!([[
            "OR",
            [
                ["dataset", "=", "x"],
                ["dataset", "=", "y"],
                ["dataset", "=", "tank/data"]
            ]
        ]]);
        let (exit, stdout, stderr) = query(&state, v, three, json!({}));
        assert_eq!(exit, 0, "{v}: {stderr}");
        assert_eq!(
            serde_json::from_str::<Value>(&stdout)
                .expect("json")
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        // A missing key reads as None: `!=` matches it.
        let (exit, stdout, _) = query(
            &state,
            v,
            json!([["nope", "!=", 1]]),
            json!({"count": true}),
        );
        assert_eq!((exit, stdout.as_str()), (0, "4\n"), "{v}");
    }
    let state = system(dir.path(), "25.10");
    let (exit, stdout, _) = query(
        &state,
        "25.10",
        json!([["nope", "!=", 1]]),
        json!({"count": true}),
    );
    assert_eq!((exit, stdout.as_str()), (0, "0\n"));
}

#[test]
fn scale_applies_select_after_the_filters_as_top_level_keys() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = system(dir.path(), "25.10");
    let (exit, stdout, stderr) = query(
        &state,
        "25.10",
        json!([["id", "=", "tank/data@a"]]),
        json!({"select": ["snapshot_name", "dataset", "properties.used"]}),
    );
    assert_eq!(exit, 0, "{stderr}");
    // The row's own key order; a dotted path selects nothing.
    assert_eq!(
        stdout,
        "[{\"snapshot_name\": \"a\", \"dataset\": \"tank/data\"}]\n"
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(state: &Path, filters: &Value) -> Duration {
    let argv = vec![
        "call".to_string(),
        "pool.snapshot.query".to_string(),
        filters.to_string(),
        json!({"select": ["name"]}).to_string(),
    ];
    let started = Instant::now();
    let out = zfleet::sim::midclt(state, &argv);
    let took = started.elapsed();
    assert_eq!(out.exit, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("\"name\"").count(), 1000);
    took
}

#[test]
fn a_dataset_of_a_large_system_is_queried_as_fast_as_on_a_small_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big.json");
    let small = dir.path().join("small.json");
    let started = Instant::now();
    zfleet::sim::fleetgen::write_large_system(&big, "25.10", 200, 1000).expect("big");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    zfleet::sim::fleetgen::write_large_system(&small, "25.10", 1, 1000).expect("small");
    for filters in [
        json!([["dataset", "=", "tank/ds00001"]]),
        json!([[
            "OR",
            [
                ["dataset", "=", "tank/ds00001"],
                ["dataset", "^", "tank/ds00001/"]
            ]
        ]]),
    ] {
        let mut t = Vec::new();
        for state in [&small, &big] {
            timed(state, &filters);
            t.push(median((0..15).map(|_| timed(state, &filters)).collect()));
        }
        // The bar is 1.5×; a shared test machine gets some slack.
        assert!(
            t[1] < t[0] * 2,
            "{filters}: 1,000 in {:?}, 200,000 in {:?}",
            t[0],
            t[1]
        );
    }
}

fn call(state: &Path, method: &str, filters: Value, options: Value) -> Value {
    let argv = vec![
        "call".to_string(),
        method.to_string(),
        filters.to_string(),
        options.to_string(),
    ];
    let out = zfleet::sim::midclt(state, &argv);
    assert_eq!(out.exit, 0, "{method}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("json")
}

/// A raw row of py-libzfs `snapshots_serialized(['name'])`: no `properties` key.
fn raw_row(dataset: &str, snapshot: &str) -> Value {
    let full = format!("{dataset}@{snapshot}");
    json!({
        "pool": "tank", "name": full, "type": "SNAPSHOT", "snapshot_name": snapshot,
        "dataset": dataset, "id": full,
    })
}

fn without_createtxg(v: Value) -> Value {
    match v {
        Value::Array(rows) => Value::Array(
            rows.into_iter()
                .map(|mut r| {
                    if let Some(o) = r.as_object_mut() {
                        assert!(o.remove("createtxg").is_some_and(|t| t.is_string()));
                    }
                    r
                })
                .collect(),
        ),
        other => other,
    }
}

/// stable/goldeye plugins/zfs_/snapshot.py `ZFSSnapshot.query`: the fast path ends in
/// `if filters or len(options) > 1: return filter_list(snaps, filters, options)` and
/// otherwise `return snaps`. `zfs.snapshot.query` is private there and has no
/// `@filterable`, so options arrive as given: `{"select": ["name"]}` or `{"count": true}`
/// alone, with every condition consumed as a `dataset`/`pool` root, returns the raw rows.
/// `pool.snapshot.query` (pydantic `QueryOptions`) and 24.04–25.04 (`@accepts` fills the
/// query-options defaults) always have more than one option and apply them.
#[test]
fn private_snapshot_query_of_25_10_ignores_select_and_count_when_options_are_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let state = system(dir.path(), "25.10");
    let by_dataset = json!([["dataset", "=", "tank/data"]]);
    let raw = json!([raw_row("tank/data", "a"), raw_row("tank/data", "b")]);
    let rows = call(
        &state,
        "zfs.snapshot.query",
        by_dataset.clone(),
        json!({"select": ["name"]}),
    );
    assert_eq!(without_createtxg(rows), raw);
    let rows = call(
        &state,
        "zfs.snapshot.query",
        json!([["pool", "=", "tank"]]),
        json!({"count": true}),
    );
    assert_eq!(rows.as_array().map(Vec::len), Some(4), "{rows}");
    // A second option, or a condition left for filter_list, applies them.
    let names = json!([{"name": "tank/data@a"}, {"name": "tank/data@b"}]);
    assert_eq!(
        call(
            &state,
            "zfs.snapshot.query",
            by_dataset.clone(),
            json!({"select": ["name"], "order_by": ["name"]})
        ),
        names
    );
    assert_eq!(
        call(
            &state,
            "zfs.snapshot.query",
            json!([["dataset", "=", "tank/data"], ["name", "^", "tank/data@a"]]),
            json!({"select": ["name"]})
        ),
        json!([{"name": "tank/data@a"}])
    );
    assert_eq!(
        call(
            &state,
            "pool.snapshot.query",
            by_dataset.clone(),
            json!({"select": ["name"]})
        ),
        names
    );
    for v in ["24.04", "24.10", "25.04"] {
        let state = system(dir.path(), v);
        assert_eq!(
            call(
                &state,
                "zfs.snapshot.query",
                by_dataset.clone(),
                json!({"select": ["name"]})
            ),
            names,
            "{v}"
        );
        assert_eq!(
            call(
                &state,
                "zfs.snapshot.query",
                json!([["pool", "=", "tank"]]),
                json!({"count": true})
            ),
            json!(4),
            "{v}"
        );
    }
}

/// py-libzfs `snapshots_serialized`: `datasets = datasets or [p.name for p in self.pools]`,
/// so an empty `in` list for `pool` looks in every pool, and for `dataset` (not recursive)
/// at every pool's root dataset (stable/dragonfish … stable/goldeye plugins/zfs_/snapshot.py).
#[test]
fn an_empty_in_list_in_the_fast_path_means_every_pool() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        let state = system(dir.path(), v);
        assert_eq!(
            names(&state, v, json!([["pool", "in", []]])),
            [
                "tank/data@a",
                "tank/data@b",
                "tank/data/child@c",
                "tank/database@d"
            ],
            "{v}"
        );
        assert!(
            names(&state, v, json!([["dataset", "in", []]])).is_empty(),
            "{v}"
        );
        // A string is iterated as its characters, none of which is a dataset.
        assert!(
            names(&state, v, json!([["pool", "in", "tank"]])).is_empty(),
            "{v}"
        );
    }
}

/// py-libzfs `_snapshots_snaplist_arg` and `__snapshot_details` (stable/dragonfish …
/// stable/goldeye libzfs.pyx): `props = props or []` makes an empty `extra.properties` ask
/// for every native property; `simple_handle = set(props).issubset({'name', 'createtxg'})`
/// leaves `properties` out of the row altogether when nothing else native is asked for
/// (names no snapshot property has count as nothing).
#[test]
fn extra_properties_empty_means_all_and_createtxg_alone_means_none() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        let state = system(dir.path(), v);
        let row = |props: Value| {
            let (exit, stdout, stderr) = query(
                &state,
                v,
                json!([["id", "=", "tank/data@a"]]),
                json!({"extra": {"properties": props}}),
            );
            assert_eq!(exit, 0, "{v}: {stderr}");
            let rows: Vec<Value> = serde_json::from_str(&stdout).expect("json");
            rows.into_iter().next().expect("one row")
        };
        let all = row(json!([]));
        for p in ["used", "referenced", "creation", "createtxg", "userrefs"] {
            assert!(all["properties"].get(p).is_some(), "{v}: {p} in {all}");
        }
        for props in [
            json!(["createtxg"]),
            json!(["name"]),
            json!(["no-such-property"]),
        ] {
            let r = row(props.clone());
            assert!(r.get("properties").is_none(), "{v} {props}: {r}");
            assert!(r["createtxg"].is_string(), "{v} {props}: {r}");
        }
        let used = row(json!(["used"]));
        let keys: Vec<&String> = used["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["used"], "{v}");
    }
}

/// A condition on a key the rows lack: 24.04's `filter_list` reads it with `get`, which
/// gives `None` (stable/dragonfish utils/__init__.py `get`, `filterop`), so `!=` matches
/// every row, as on CORE; from 24.10 `filterop` returns False for an undefined key
/// (stable/electriceel utils/__init__.py: `if data.result is undefined: return False`).
#[test]
fn a_missing_key_matches_not_equal_up_to_24_04_only() {
    let dir = tempfile::tempdir().unwrap();
    for (v, expected) in [
        ("13.3", 4),
        ("24.04", 4),
        ("24.10", 0),
        ("25.04", 0),
        ("25.10", 0),
    ] {
        let state = system(dir.path(), v);
        let found = names(&state, v, json!([["nope", "!=", 1]]));
        assert_eq!(found.len(), expected, "{v}: {found:?}");
        assert!(
            names(&state, v, json!([["nope", "=", 1]])).is_empty(),
            "{v}"
        );
    }
}

/// CORE 13's rows are py-libzfs `ZFSSnapshot.asdict` (truenas/13.3-stable libzfs.pyx:
/// `ZFSObject.asdict` then holds, dataset, snapshot_name, mountpoint): every property and
/// the holds whatever `extra` says, no top-level `createtxg`. With no snapshot at all, the
/// names fast path returns `[]` before `filter_list` (plugins/zfs.py `if not stdout:
/// return []`), for `count` too.
#[test]
fn core_rows_are_asdict_and_an_empty_system_counts_as_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let state = system(dir.path(), "13.3");
    let (exit, stdout, stderr) = query(
        &state,
        "13.3",
        json!([["id", "=", "tank/data@a"]]),
        json!({"extra": {"properties": ["used"], "holds": false}}),
    );
    assert_eq!(exit, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).expect("json");
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "pool",
            "type",
            "properties",
            "holds",
            "dataset",
            "snapshot_name",
            "mountpoint"
        ]
    );
    assert!(
        rows[0]["properties"].get("referenced").is_some(),
        "{}",
        rows[0]
    );
    assert_eq!(rows[0]["holds"], json!({}));
    assert_eq!(rows[0]["mountpoint"], Value::Null);

    let fixture = dir.path().join("empty.yaml");
    std::fs::write(&fixture, "hostname: nas1\ndatasets:\n  tank: {}\n").expect("fixture");
    let empty = dir.path().join("empty.json");
    zfleet::sim::seed(&empty, Some(&fixture), Some("13.3")).expect("seed");
    let (exit, stdout, _) = query(&empty, "13.3", json!([]), json!({"count": true}));
    assert_eq!((exit, stdout.trim()), (0, "[]"));
}
