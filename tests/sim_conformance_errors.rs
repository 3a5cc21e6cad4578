//! The simulated `midclt` on the error paths, per version: what it prints (stdout, stderr,
//! exit status) when a call fails, for method lookup, libzfs failures, keychain credential
//! checks, and the read-only `system.*` facts other TrueNAS clients gather.
//!
//! Each case names where its expectation comes from (branch, file, function). Cases marked
//! `ran:` were produced by running the release's real code with the harnesses in
//! `tools/conformance/` (see its README): `midclt_errors.py` runs the release's own `midclt`
//! against a fake middleware that raises the middleware's own exceptions, and
//! `keychain_create.py` runs the release's `keychaincredential.create` against a fake
//! middleware. A traceback's frames are the fake server's there, so the cases state what
//! precedes the frames and the exact tail after them.
//!
//! Run: `cargo test --test sim_conformance_errors`.

use std::path::{Path, PathBuf};

use serde_json::Value;
use zfleet::sim::{self, MidcltOutput};

const VERSIONS: [&str; 5] = ["13.3", "24.04", "24.10", "25.04", "25.10"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

/// A fresh nas1 (tasks, snapshots, keychain: `backup key` id 1, `backup` id 2) on `version`.
fn system(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture("nas1.yaml")), Some(version)).expect("seed");
    (dir, state)
}

fn run(version: &str, argv: &[&str]) -> MidcltOutput {
    let (_dir, state) = system(version);
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    sim::midclt(&state, &argv)
}

/// What stderr must be.
#[derive(Debug, Clone, Copy)]
enum Stderr {
    /// Exactly this (validation lines, JSON-RPC's `Method does not exist`).
    Exact(&'static str),
    /// `reason` (none when the middleware sends an empty one), the traceback header, frames
    /// (indented lines), then the exception's last line and the blank line `print()` adds
    /// after `format_exception()`'s own newline.
    Traceback {
        reason: Option<&'static str>,
        last: &'static str,
    },
}

fn tb(reason: &'static str, last: &'static str) -> Stderr {
    Stderr::Traceback {
        reason: Some(reason),
        last,
    }
}

fn check_stderr(what: &str, stderr: &str, want: Stderr) {
    match want {
        Stderr::Exact(s) => assert_eq!(stderr, s, "{what}"),
        Stderr::Traceback { reason, last } => {
            let head = match reason {
                Some(r) => format!("{r}\nTraceback (most recent call last):\n"),
                None => "Traceback (most recent call last):\n".to_string(),
            };
            let tail = format!("\n{last}\n\n");
            assert!(stderr.starts_with(&head), "{what}: head of\n{stderr}");
            assert!(stderr.ends_with(&tail), "{what}: tail of\n{stderr:?}");
            let frames = &stderr[head.len()..stderr.len() - tail.len() + 1];
            assert!(
                !frames.is_empty() && frames.lines().all(|l| l.starts_with("  ")),
                "{what}: frames {frames:?}"
            );
        }
    }
}

/// A failing call: empty stdout, exit 1, and `stderr`.
fn fails(version: &str, argv: &[&str], stderr: Stderr) {
    let out = run(version, argv);
    let what = format!("{version} {argv:?}");
    assert_eq!(out.stdout, "", "{what}");
    assert_eq!(out.exit, 1, "{what}: {}", out.stderr);
    check_stderr(&what, &out.stderr, stderr);
}

/// A successful call: its stdout parsed as JSON, or the bare line midclt prints for an int,
/// a string or a bool (`print(rv)` when `isinstance(rv, (int, str))`: `True`, `False`).
fn ok(version: &str, argv: &[&str]) -> Value {
    let out = run(version, argv);
    assert_eq!(
        (out.exit, out.stderr.as_str()),
        (0, ""),
        "{version} {argv:?}"
    );
    let line = out.stdout.strip_suffix('\n').expect("one line");
    serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.to_string()))
}

const CALL_ERROR: &str = "middlewared.service_exception.CallError";

// --- Tracebacks as midclt prints them ------------------------------------------------------

/// ran: midclt_errors.py, all releases. plugins/snapshot.py `PeriodicSnapshotTaskService.run`
/// (every branch) raises `CallError("Task is not enabled")`; main.py `call_method` (≤24.10)
/// and api/base/server/ws_handler/rpc.py `process_method_call` (25.x) send `str(e)` and
/// `format_exception()`; midclt's `main` (middlewared/client/client.py ≤24.04,
/// truenas_api_client/__init__.py 24.10+) prints the reason, then the traceback with `print`.
#[test]
fn a_call_error_prints_its_reason_then_the_traceback_and_a_blank_line() {
    for v in VERSIONS {
        fails(
            v,
            &["call", "pool.snapshottask.run", "2"],
            tb(
                "[EFAULT] Task is not enabled",
                "middlewared.service_exception.CallError: [EFAULT] Task is not enabled",
            ),
        );
    }
}

/// ran: midclt_errors.py, all releases, with each release's own `filter_list`
/// (utils/__init__.py ≤25.04, utils/filter_list.py 25.10). `MatchNotFound` lives in
/// service_exception.py on every branch and has an empty `str()`: CORE's main.py
/// `call_method` sends `str(e)`, so midclt prints no reason (`if e.error:`); 24.04+ send
/// `str(e) or repr(e)`. The traceback ends in the bare class name.
#[test]
fn match_not_found_has_no_reason_on_core_and_its_repr_after() {
    let argv = [
        "call",
        "replication.query",
        r#"[["id","=",42]]"#,
        r#"{"get":true}"#,
    ];
    let last = "middlewared.service_exception.MatchNotFound";
    fails("13.3", &argv, Stderr::Traceback { reason: None, last });
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        fails(v, &argv, tb("MatchNotFound()", last));
    }
}

// --- Method and service lookup per version ------------------------------------------------

/// ran: midclt_errors.py. ≤24.10: utils/service/call.py `ServiceCallMixin._method_lookup`
/// raises `MethodNotFoundError` (a CallError subclass, so the traceback names it) for an
/// unknown method of a known service; 25.x: rpc.py `process_message` answers JSON-RPC
/// METHOD_NOT_FOUND, which midclt prints as its message alone.
#[test]
fn an_unknown_method_of_a_known_service() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &["call", "replication.nope"],
            tb(
                "[ENOMETHOD] Method 'nope' not found in 'replication'",
                "middlewared.utils.service.call.MethodNotFoundError: [ENOMETHOD] Method 'nope' not found in 'replication'",
            ),
        );
    }
    for v in ["25.04", "25.10"] {
        fails(
            v,
            &["call", "replication.nope"],
            Stderr::Exact("Method does not exist\n"),
        );
    }
}

/// ran: midclt_errors.py. utils/service/call.py `_method_lookup`: `get_service` fails →
/// `CallError(f'Service {service!r} not found', ENOMETHOD)`.
#[test]
fn an_unknown_service() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &["call", "nothing.here"],
            tb(
                "[ENOMETHOD] Service 'nothing' not found",
                &*format!("{CALL_ERROR}: [ENOMETHOD] Service 'nothing' not found").leak(),
            ),
        );
    }
    for v in ["25.04", "25.10"] {
        fails(
            v,
            &["call", "nothing.here"],
            Stderr::Exact("Method does not exist\n"),
        );
    }
}

/// ran: midclt_errors.py. `_method_lookup` splits at the last dot, so `pool.snapshot.query`
/// asks for a service `pool.snapshot`: plugins/pool_/snapshot.py (`namespace =
/// 'pool.snapshot'`) exists on stable/goldeye only; earlier branches have `zfs.snapshot`
/// (plugins/zfs_/snapshot.py, plugins/zfs.py on CORE).
#[test]
fn pool_snapshot_is_a_service_on_25_10_only() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &["call", "pool.snapshot.query"],
            tb(
                "[ENOMETHOD] Service 'pool.snapshot' not found",
                &*format!("{CALL_ERROR}: [ENOMETHOD] Service 'pool.snapshot' not found").leak(),
            ),
        );
    }
    fails(
        "25.04",
        &["call", "pool.snapshot.query"],
        Stderr::Exact("Method does not exist\n"),
    );
    let names = ok(
        "25.10",
        &[
            "call",
            "pool.snapshot.query",
            r#"[["dataset","=","tank/data"]]"#,
            r#"{"select":["name"],"order_by":["name"]}"#,
        ],
    );
    assert_eq!(
        names,
        serde_json::json!([
            {"name": "tank/data@auto-2025-10-30_12-00"},
            {"name": "tank/data@auto-2025-10-30_13-00"},
            {"name": "tank/data@manual-2025-10-29_09-00"},
        ])
    );
    // zfs.snapshot stays on every version (private on 25.10, still callable).
    for v in VERSIONS {
        let n = ok(
            v,
            &[
                "call",
                "zfs.snapshot.query",
                r#"[["name","=","tank/data@auto-2025-10-30_13-00"]]"#,
                r#"{"count":true}"#,
            ],
        );
        assert_eq!(n, Value::from(1), "{v}");
    }
}

/// ran: midclt_errors.py. utils/service/call.py `_method_lookup`: a name without a dot is
/// `CallError('Invalid method name', EBADMSG)` up to 24.10; 25.x find no such method.
#[test]
fn a_method_name_without_a_dot() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &["call", "nodot"],
            tb(
                "[EBADMSG] Invalid method name",
                "middlewared.service_exception.CallError: [EBADMSG] Invalid method name",
            ),
        );
    }
    for v in ["25.04", "25.10"] {
        fails(
            v,
            &["call", "nodot"],
            Stderr::Exact("Method does not exist\n"),
        );
    }
}

// --- libzfs wordings through the middleware -----------------------------------------------

/// ran: midclt_errors.py. zfs_/snapshot.py `ZFSSnapshotService.create` (SCALE) turns a
/// libzfs error containing `already exists` into EEXIST; plugins/zfs.py `ZFSSnapshot.do_create`
/// (13.3-stable) has no such branch and raises EFAULT. libzfs's own text for EEXIST is
/// `dataset already exists`.
#[test]
fn snapshot_create_of_an_existing_snapshot() {
    let argv = [
        "call",
        "zfs.snapshot.create",
        r#"{"dataset":"tank/data","name":"auto-2025-10-30_13-00"}"#,
    ];
    fails(
        "13.3",
        &argv,
        tb(
            "[EFAULT] Failed to snapshot tank/data@auto-2025-10-30_13-00: dataset already exists",
            "middlewared.service_exception.CallError: [EFAULT] Failed to snapshot tank/data@auto-2025-10-30_13-00: dataset already exists",
        ),
    );
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        fails(
            v,
            &argv,
            tb(
                "[EEXIST] Failed to snapshot tank/data@auto-2025-10-30_13-00: dataset already exists",
                "middlewared.service_exception.CallError: [EEXIST] Failed to snapshot tank/data@auto-2025-10-30_13-00: dataset already exists",
            ),
        );
    }
}

/// ran: midclt_errors.py. py-libzfs libzfs.pyx `ZFS.get_dataset` (every release branch):
/// `ZFSException(Error.NOENT, 'Dataset {0} not found')`; the snapshot plugin wraps it in
/// `CallError(f'Failed to snapshot {dataset}@{name}: {err}')`, EFAULT (not `already exists`).
#[test]
fn snapshot_create_on_a_missing_dataset() {
    for v in VERSIONS {
        fails(
            v,
            &[
                "call",
                "zfs.snapshot.create",
                r#"{"dataset":"tank/nope","name":"x"}"#,
            ],
            tb(
                "[EFAULT] Failed to snapshot tank/nope@x: Dataset tank/nope not found",
                "middlewared.service_exception.CallError: [EFAULT] Failed to snapshot tank/nope@x: Dataset tank/nope not found",
            ),
        );
    }
}

/// ran: midclt_errors.py. py-libzfs `ZFS.get_snapshot`: `ZFSException(Error.NOENT,
/// 'Snapshot {0} not found')`. plugins/zfs.py `do_delete` (13.3) re-raises it as
/// `CallError(str(e))`; zfs_/snapshot.py `delete` (SCALE) as `InstanceNotFound(str(e))`, a
/// validation error with no attribute. pool.snapshot.delete (25.10, plugins/pool_/snapshot.py)
/// calls zfs.snapshot.delete.
#[test]
fn snapshot_delete_of_a_missing_snapshot() {
    fails(
        "13.3",
        &["call", "zfs.snapshot.delete", "tank/data@nope"],
        tb(
            "[EFAULT] Snapshot tank/data@nope not found",
            "middlewared.service_exception.CallError: [EFAULT] Snapshot tank/data@nope not found",
        ),
    );
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        fails(
            v,
            &["call", "zfs.snapshot.delete", "tank/data@nope"],
            Stderr::Exact("[ENOENT] ALL: Snapshot tank/data@nope not found\n"),
        );
    }
    fails(
        "25.10",
        &["call", "pool.snapshot.delete", "tank/data@nope"],
        Stderr::Exact("[ENOENT] ALL: Snapshot tank/data@nope not found\n"),
    );
}

/// service/crud_service.py `get_instance` (service.py on 13.3): the query (which skips a
/// name libzfs cannot open: libzfs.pyx `_snapshots_serialized_impl`, or plugins/zfs.py's
/// NOENT guard on CORE) finds nothing, so it raises `InstanceNotFound(f'{verbose_name} {id}
/// does not exist')`, the verbose name being the service class name without `Service`.
#[test]
fn snapshot_get_instance_of_a_missing_snapshot() {
    for v in VERSIONS {
        fails(
            v,
            &["call", "zfs.snapshot.get_instance", "tank/data@nope"],
            Stderr::Exact("[ENOENT] ALL: ZFSSnapshot tank/data@nope does not exist\n"),
        );
    }
    fails(
        "25.10",
        &["call", "pool.snapshot.get_instance", "tank/data@nope"],
        Stderr::Exact("[ENOENT] ALL: PoolSnapshot tank/data@nope does not exist\n"),
    );
}

// --- Query options --------------------------------------------------------------------------

/// plugins/service.py `service_extend_context` (stable/dragonfish .. stable/goldeye):
/// `extra.include_state` false skips each service's `get_state`, and `service_extend` fills
/// `{'state': 'UNKNOWN', 'pids': []}`. 13.3-stable's `ServiceService.query` has no such option
/// and always asks.
#[test]
fn service_query_include_state_false() {
    let argv = [
        "call",
        "service.query",
        r#"[["service","=","ssh"]]"#,
        r#"{"get":true,"extra":{"include_state":false}}"#,
    ];
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        let row = ok(v, &argv);
        assert_eq!(
            (&row["service"], &row["state"], &row["pids"]),
            (
                &Value::from("ssh"),
                &Value::from("UNKNOWN"),
                &serde_json::json!([])
            ),
            "{v}"
        );
    }
    let row = ok("13.3", &argv);
    assert_eq!(row["state"], "RUNNING");
    assert_eq!(row["pids"].as_array().map(Vec::len), Some(1));
    // The default asks.
    let row = ok(
        "25.10",
        &[
            "call",
            "service.query",
            r#"[["service","=","ssh"]]"#,
            r#"{"get":true}"#,
        ],
    );
    assert_eq!(row["state"], "RUNNING");
}

// --- Other clients see a TrueNAS ---------------------------------------------------------

/// plugins/system.py (13.3-stable), plugins/system/lifecycle.py (SCALE) `boot_id`: a
/// `uuid4()` string, the same for the whole boot.
#[test]
fn system_boot_id_is_a_uuid4_string() {
    for v in VERSIONS {
        let (_dir, state) = system(v);
        let argv = vec!["call".to_string(), "system.boot_id".to_string()];
        let first = sim::midclt(&state, &argv);
        let again = sim::midclt(&state, &argv);
        assert_eq!((first.exit, first.stderr.as_str()), (0, ""), "{v}");
        assert_eq!(first.stdout, again.stdout, "{v}");
        let id = first.stdout.trim_end();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{v}: {id}"
        );
        assert!(parts[2].starts_with('4'), "{v}: {id}");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()), "{v}");
    }
}

/// plugins/system.py (13.3-stable), plugins/system/info.py (SCALE) `host_id`:
/// `hashlib.sha256(<contents of /etc/hostid>).hexdigest()`, 64 lowercase hex digits.
#[test]
fn system_host_id_is_a_sha256_hex_digest() {
    for v in VERSIONS {
        let id = ok(v, &["call", "system.host_id"]);
        let id = id.as_str().expect("a string");
        assert_eq!(id.len(), 64, "{v}: {id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{v}: {id}"
        );
    }
}

/// plugins/system.py (13.3-stable), plugins/system/info.py (SCALE; private from 25.04 but
/// callable) `build_time`: a datetime, which midclt's ejson prints as `{"$date": ms}`, the
/// same as `system.info`'s `buildtime`.
#[test]
fn system_build_time_is_a_date_and_info_buildtime() {
    for v in VERSIONS {
        let t = ok(v, &["call", "system.build_time"]);
        assert!(t["$date"].is_i64(), "{v}: {t}");
        let info = ok(v, &["call", "system.info"]);
        assert_eq!(info["buildtime"], t, "{v}");
    }
}

/// `environment` and `product_name`: plugins/system.py (13.3-stable) and
/// plugins/system/product.py (stable/dragonfish) only; stable/electriceel and later removed
/// both, so lookup fails as for any unknown method of `system`.
#[test]
fn system_environment_and_product_name_exist_up_to_24_04() {
    for v in ["13.3", "24.04"] {
        assert_eq!(ok(v, &["call", "system.environment"]), "DEFAULT", "{v}");
        assert_eq!(ok(v, &["call", "system.product_name"]), "TrueNAS", "{v}");
    }
    fails(
        "24.10",
        &["call", "system.environment"],
        tb(
            "[ENOMETHOD] Method 'environment' not found in 'system'",
            "middlewared.utils.service.call.MethodNotFoundError: [ENOMETHOD] Method 'environment' not found in 'system'",
        ),
    );
    fails(
        "24.10",
        &["call", "system.product_name"],
        tb(
            "[ENOMETHOD] Method 'product_name' not found in 'system'",
            "middlewared.utils.service.call.MethodNotFoundError: [ENOMETHOD] Method 'product_name' not found in 'system'",
        ),
    );
    for v in ["25.04", "25.10"] {
        for m in ["system.environment", "system.product_name"] {
            fails(v, &["call", m], Stderr::Exact("Method does not exist\n"));
        }
    }
}

/// `feature_enabled` (a bool, which midclt prints as Python does): 13.3-stable plugins/system.py — CORE's own product has every feature
/// but FIBRECHANNEL (enum DEDUP, FIBRECHANNEL, JAILS, VM); SCALE plugins/system/product.py
/// asks the license (none here: false) and has no JAILS. stable/goldeye checks the argument
/// with `SystemFeatureEnabledArgs.feature: Literal["DEDUP", "FIBRECHANNEL", "VM"]`.
#[test]
fn system_feature_enabled_per_version() {
    assert_eq!(
        ok("13.3", &["call", "system.feature_enabled", "VM"]),
        "True"
    );
    assert_eq!(
        ok("13.3", &["call", "system.feature_enabled", "JAILS"]),
        "True"
    );
    assert_eq!(
        ok("13.3", &["call", "system.feature_enabled", "FIBRECHANNEL"]),
        "False"
    );
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        assert_eq!(
            ok(v, &["call", "system.feature_enabled", "VM"]),
            "False",
            "{v}"
        );
    }
    fails(
        "25.10",
        &["call", "system.feature_enabled", "JAILS"],
        Stderr::Exact("[EINVAL] feature: Input should be 'DEDUP', 'FIBRECHANNEL' or 'VM'\n"),
    );
}

/// `product_type`, `state`, `ready` on every version: plugins/system.py (13.3-stable:
/// `CORE`), plugins/system/product.py (`SCALE` on 24.x, `COMMUNITY_EDITION` from 25.04),
/// plugins/system/lifecycle.py (`READY`; `ready` is `state != 'BOOTING'`).
#[test]
fn system_product_type_state_and_ready() {
    let want = [
        ("13.3", "CORE"),
        ("24.04", "SCALE"),
        ("24.10", "SCALE"),
        ("25.04", "COMMUNITY_EDITION"),
        ("25.10", "COMMUNITY_EDITION"),
    ];
    for (v, product) in want {
        assert_eq!(ok(v, &["call", "system.product_type"]), product, "{v}");
        assert_eq!(ok(v, &["call", "system.state"]), "READY", "{v}");
        assert_eq!(ok(v, &["call", "system.ready"]), "True", "{v}");
    }
}

/// `system.info`'s keys in order: plugins/system.py `info` (13.3-stable: no
/// `physical_cores`, `birthday` between `datetime` and `timezone`); plugins/system/info.py
/// (SCALE: `physical_cores` after `cores`). `version` is `system.version` up to 24.10 and
/// `system.version_short` from 25.04.
#[test]
fn system_info_fields_per_version() {
    let scale = [
        "version",
        "buildtime",
        "hostname",
        "physmem",
        "model",
        "cores",
        "physical_cores",
        "loadavg",
        "uptime",
        "uptime_seconds",
        "system_serial",
        "system_product",
        "system_product_version",
        "license",
        "boottime",
        "datetime",
        "timezone",
        "system_manufacturer",
        "ecc_memory",
    ];
    let core = [
        "version",
        "buildtime",
        "hostname",
        "physmem",
        "model",
        "cores",
        "loadavg",
        "uptime",
        "uptime_seconds",
        "system_serial",
        "system_product",
        "system_product_version",
        "license",
        "boottime",
        "datetime",
        "birthday",
        "timezone",
        "system_manufacturer",
        "ecc_memory",
    ];
    let versions = [
        ("13.3", &core, "TrueNAS-13.3-U1.1"),
        ("24.04", &scale, "TrueNAS-SCALE-24.04.2"),
        ("24.10", &scale, "TrueNAS-SCALE-24.10.2"),
        ("25.04", &scale, "25.04.2"),
        ("25.10", &scale, "25.10.1"),
    ];
    for (v, keys, version) in versions {
        let info = ok(v, &["call", "system.info"]);
        let got: Vec<&str> = info
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(got, keys.to_vec(), "{v}");
        assert_eq!(info["version"], version, "{v}");
    }
}

/// CORE has no `system.hostname` (13.3-stable plugins/system.py defines none); SCALE's is in
/// plugins/system/info.py (private on 25.10, still callable).
#[test]
fn system_hostname_is_scale_only() {
    fails(
        "13.3",
        &["call", "system.hostname"],
        tb(
            "[ENOMETHOD] Method 'hostname' not found in 'system'",
            "middlewared.utils.service.call.MethodNotFoundError: [ENOMETHOD] Method 'hostname' not found in 'system'",
        ),
    );
    for v in ["24.04", "24.10", "25.04", "25.10"] {
        assert_eq!(ok(v, &["call", "system.hostname"]), "nas1", "{v}");
    }
}

// --- keychaincredential.create per version ------------------------------------------------

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K";

/// ran: keychain_create.py on 13.3-stable and stable/dragonfish (stable/electriceel's
/// `_validate` is the same code). plugins/keychain.py `_validate` up to 24.10: the name's
/// uniqueness is added first, then an unknown type is added and raised at once.
#[test]
fn keychain_taken_name_and_unknown_type_together_up_to_24_10() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &[
                "call",
                "keychaincredential.create",
                r#"{"name":"backup","type":"SSH_PASSWORD","attributes":{}}"#,
            ],
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.name: Object with this name already exists\n[EINVAL] keychain_credential_create.type: Invalid type\n",
            ),
        );
    }
}

/// ran: keychain_create.py (13.3, 24.04). Up to 24.10 the attributes are checked inside
/// `_validate` (validators.py `validate_attributes` on CORE, schema `validate_schema` on 24.x,
/// first error only on CORE as `Dict.clean` raises it) and reported with the name's error.
#[test]
fn keychain_taken_name_and_bad_attributes_together_up_to_24_10() {
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &[
                "call",
                "keychaincredential.create",
                &*format!(
                    r#"{{"name":"backup","type":"SSH_CREDENTIALS","attributes":{{"private_key":1,"remote_host_key":"{KEY}"}}}}"#
                )
                .leak(),
            ],
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.name: Object with this name already exists\n[EINVAL] keychain_credential_create.attributes.host: attribute required\n",
            ),
        );
    }
}

/// ran: keychain_create.py (13.3, 24.04); stable/fangtooth and stable/goldeye
/// plugins/keychain.py `_validate` call `verrors.check()` right after `_ensure_unique`. On
/// every version a taken name stops before the type's own checks (`validate_and_pre_save`:
/// the key is not looked at).
#[test]
fn keychain_taken_name_stops_before_the_key_checks() {
    for v in VERSIONS {
        fails(
            v,
            &[
                "call",
                "keychaincredential.create",
                r#"{"name":"backup","type":"SSH_KEY_PAIR","attributes":{"public_key":"not a key"}}"#,
            ],
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.name: Object with this name already exists\n",
            ),
        );
    }
}

/// ran: keychain_create.py (13.3, 24.04). plugins/keychain.py `SSHKeyPair.validate_and_pre_save`
/// (every branch): `ssh-keygen -l` rejects the public key.
#[test]
fn keychain_invalid_public_key() {
    for v in VERSIONS {
        fails(
            v,
            &[
                "call",
                "keychaincredential.create",
                r#"{"name":"k2","type":"SSH_KEY_PAIR","attributes":{"public_key":"not a key"}}"#,
            ],
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.attributes.public_key: Invalid public key\n",
            ),
        );
    }
}

/// ran: keychain_create.py (13.3, 24.04). plugins/keychain.py
/// `SSHKeyPair.validate_and_pre_save`: with neither key,
/// `You must specify at least public key` (13.3-stable .. stable/electriceel), reworded
/// `You must specify a key` in stable/fangtooth.
#[test]
fn keychain_key_pair_without_keys() {
    let argv = [
        "call",
        "keychaincredential.create",
        r#"{"name":"k2","type":"SSH_KEY_PAIR","attributes":{}}"#,
    ];
    for v in ["13.3", "24.04", "24.10"] {
        fails(
            v,
            &argv,
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.attributes.public_key: You must specify at least public key\n",
            ),
        );
    }
    for v in ["25.04", "25.10"] {
        fails(
            v,
            &argv,
            Stderr::Exact(
                "[EINVAL] keychain_credential_create.attributes.public_key: You must specify a key\n",
            ),
        );
    }
}

/// ran: keychain_create.py (13.3 created it; 24.04 passed every check). No branch checks that
/// an SSH_CREDENTIALS `private_key` names a key pair: `SSHCredentials` has no
/// `validate_and_pre_save` of its own in plugins/keychain.py, and the 25.x models type it
/// as a plain int.
#[test]
fn keychain_ssh_credentials_private_key_is_not_looked_up() {
    for v in VERSIONS {
        let made = ok(
            v,
            &[
                "call",
                "keychaincredential.create",
                &*format!(
                    r#"{{"name":"c2","type":"SSH_CREDENTIALS","attributes":{{"host":"192.0.2.30","private_key":99,"remote_host_key":"{KEY}"}}}}"#
                )
                .leak(),
            ],
        );
        assert_eq!(made["attributes"]["private_key"], 99, "{v}");
        assert_eq!(made["name"], "c2", "{v}");
    }
}

/// ran: keychain_create.py. `type` is `Str("type", required=True)` in `@accepts`: CORE's
/// schema layer raises its first error as `middlewared.schema.Error` with a traceback;
/// 24.x report it as a validation line.
#[test]
fn keychain_missing_type() {
    let argv = [
        "call",
        "keychaincredential.create",
        r#"{"name":"c3","attributes":{}}"#,
    ];
    fails(
        "13.3",
        &argv,
        tb(
            "[type] attribute required",
            "middlewared.schema.Error: [type] attribute required",
        ),
    );
    for v in ["24.04", "24.10"] {
        fails(
            v,
            &argv,
            Stderr::Exact("[EINVAL] keychain_credential_create.type: attribute required\n"),
        );
    }
}

// --- Jobs followed with -j ----------------------------------------------------------------

/// Runs `argvs` in order on one fresh system; returns the last output.
fn run_all(version: &str, argvs: &[&[&str]]) -> MidcltOutput {
    let (_dir, state) = system(version);
    let mut last = MidcltOutput::default();
    for argv in argvs {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        last = sim::midclt(&state, &argv);
    }
    last
}

/// `midclt call -j` of a job that fails on a CallError: truenas_api_client `Job.result`
/// (release/25.04.2, release/25.10.1) raises `ClientException(job['error'],
/// trace={'formatted': job['exception'], ...})`, and `main` prints the error, then the
/// traceback with `print`. plugins/replication.py `run` raises `CallError("Task is not
/// enabled")` inside the job.
#[test]
fn a_failed_job_prints_its_error_then_its_traceback_and_a_blank_line() {
    for v in ["25.04", "25.10"] {
        let out = run_all(
            v,
            &[
                &["call", "replication.update", "1", r#"{"enabled":false}"#],
                &["call", "-j", "replication.run", "1"],
            ],
        );
        assert_eq!((out.stdout.as_str(), out.exit), ("", 1), "{v}");
        check_stderr(
            v,
            &out.stderr,
            tb(
                "[EFAULT] Task is not enabled",
                "middlewared.service_exception.CallError: [EFAULT] Task is not enabled",
            ),
        );
    }
}

/// A job that fails on a validation error (`get_instance`'s `InstanceNotFound` inside
/// plugins/replication.py `run`): `Job.result` raises `ValidationErrors(exc_info['extra'])`,
/// so midclt prints the validation line alone.
#[test]
fn a_job_failing_validation_prints_the_validation_line() {
    for v in ["25.04", "25.10"] {
        fails(
            v,
            &["call", "-j", "replication.run", "99"],
            Stderr::Exact("[ENOENT] ALL: Replication 99 does not exist\n"),
        );
    }
}
