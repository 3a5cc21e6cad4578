//! The simulated `midclt`: exact stdout/stderr/exit per version, validation errors included.
//!
//! Run: `cargo test --test sim_midclt`.

use std::path::{Path, PathBuf};

use zfleet::sim::{self, MidcltOutput};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

/// A fresh nas1 state (and backup beside it) for `version`.
fn system(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture("nas1.yaml")), Some(version)).unwrap();
    sim::seed(
        &dir.path().join("backup.json"),
        Some(&fixture("backup.yaml")),
        Some(version),
    )
    .unwrap();
    (dir, state)
}

fn run(state: &Path, argv: &[&str]) -> MidcltOutput {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    sim::midclt(state, &argv)
}

const OK_REPL: &str = r#"{"name":"r1","direction":"PUSH","transport":"LOCAL","source_datasets":["tank/data"],"target_dataset":"backup/a","recursive":false,"auto":false,"retention_policy":"NONE"}"#;

/// `OK_REPL` with `extra` merged in (later keys win, new keys go last).
fn ok_with(extra: &str) -> String {
    let mut base: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(OK_REPL).unwrap();
    let add: serde_json::Map<String, serde_json::Value> = serde_json::from_str(extra).unwrap();
    for (k, v) in add {
        base.insert(k, v);
    }
    serde_json::to_string(&base).unwrap()
}

fn ok_without(key: &str) -> String {
    let mut base: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(OK_REPL).unwrap();
    base.shift_remove(key);
    serde_json::to_string(&base).unwrap()
}

/// (version, method, JSON args, exact stderr).
fn cases() -> Vec<(&'static str, &'static str, Vec<String>, String)> {
    let s = |x: &str| x.to_string();
    let st = "pool.snapshottask.create";
    let rc = "replication.create";
    let ds = |extra: &str| format!(r#"{{"dataset":"tank/data"{extra}}}"#);
    let full24 = |extra: &str| {
        format!(
            r#"{{"dataset":"tank/data","recursive":true,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M"{extra}}}"#
        )
    };
    let line = |l: &str| format!("{l}\n");
    let ve = "Value error, ";
    let mut v = vec![
        // --- 25.10 pydantic: pool.snapshottask.create
        ("25.10", st, vec![], line("[EINVAL] data: Field required")),
        (
            "25.10",
            st,
            vec![s("null")],
            line(
                "[EINVAL] data: Input should be a valid dictionary or instance of PoolSnapshotTaskCreate",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(""), s("{}")],
            line("[EINVAL] ALL: Too many arguments (expected 1, found 2)"),
        ),
        (
            "25.10",
            st,
            vec![s(r#"{"recursive":true}"#)],
            line("[EINVAL] data.dataset: Field required"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","foo":1"#)],
            line("[EINVAL] data.foo: Extra inputs are not permitted"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"minute":"0","second":"0"}"#)],
            line("[EINVAL] data.schedule.second: Extra inputs are not permitted"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","lifetime_unit":"DAYS""#)],
            line(
                "[EINVAL] data.lifetime_unit: Input should be 'HOUR', 'DAY', 'WEEK', 'MONTH' or 'YEAR'",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","lifetime_value":"2""#)],
            line("[EINVAL] data.lifetime_value: Input should be a valid integer"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","recursive":"true""#)],
            line("[EINVAL] data.recursive: Input should be a valid boolean"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","enabled":1"#)],
            line("[EINVAL] data.enabled: Input should be a valid boolean"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","exclude":"tank/data/x""#)],
            line("[EINVAL] data.exclude: Input should be a valid list"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"minute":"61"}"#)],
            line(
                "[EINVAL] data.schedule: Value error, Please ensure fields match cron syntax - [61 * * * * ] is not acceptable, out of range",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"minute":"5/10"}"#)],
            line(
                "[EINVAL] data.schedule: Value error, Please ensure fields match cron syntax - Only range or `*` are allowed before `/`",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"hour":"noon"}"#)],
            line(
                "[EINVAL] data.schedule: Value error, Please ensure fields match cron syntax - [00 noon * * *] is not acceptable",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"begin":"9am"}"#)],
            line(
                "[EINVAL] data.schedule.begin: Value error, Time should be in 24 hour format like \"18:00\"",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","schedule":{"begin":"25:00"}"#)],
            line("[EINVAL] data.schedule.begin: Value error, hour must be in 0..23"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"foo""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}%Y must be present in snapshot naming schema"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"%Y-%m-%d_%H""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}%M must be present in snapshot naming schema"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"auto-%Y%m%d%H%M%%""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}% is not an allowed character in ZFS snapshot name"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"snap@%Y-%m-%d_%H-%M""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}@ is not an allowed character in ZFS snapshot name"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"a/b#%Y-%m-%d_%H-%M""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}/# are not allowed characters in ZFS snapshot name"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"%s-%Y""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}No other placeholder can be used with %s in naming schema"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"auto--%Y-%m-%d_%H-%M%z""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}%z and `--` can't be present in snapshot naming schema at the same time. ZFS snapshot names can't contain `+` so we use `--` instead."
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"%Y-%m-%d_%H-%M-%I""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}Failed to parse datetime using provided format: datetime=datetime.datetime(2000, 2, 29, 19, 40, tzinfo=<StaticTzInfo 'Etc/GMT-10'>), formatted=2000-02-29_19-40-07, parsed=datetime.datetime(2000, 2, 29, 7, 40)"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"%Y-%m-%d_%H-%M-%q""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}'q' is a bad directive in format '%Y-%m-%d_%H-%M-%q'"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"%Y-%m-%d_%H-%M-%d""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}Invalid naming schema: redefinition of group name 'd' as group 6; was group 3"
            )),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","naming_schema":"""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}%Y must be present in snapshot naming schema"
            )),
        ),
        // plugin checks
        (
            "25.10",
            st,
            vec![s(r#"{"dataset":"tank/nope"}"#)],
            line("[EINVAL] periodic_snapshot_create.dataset: Dataset not found"),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","exclude":["tank/data/photos"]"#)],
            line(
                "[EINVAL] periodic_snapshot_create.exclude: Excluding datasets is not necessary for non-recursive periodic snapshot tasks",
            ),
        ),
        (
            "25.10",
            st,
            vec![ds(r#","recursive":true,"exclude":["tank/vms"]"#)],
            line(
                "[EINVAL] periodic_snapshot_create.exclude.0: Excluded dataset should be a child or other descendant of the selected dataset",
            ),
        ),
        // update
        (
            "25.10",
            "pool.snapshottask.update",
            vec![s(r#""1""#), s(r#"{"enabled":false}"#)],
            line("[EINVAL] id: Input should be a valid integer"),
        ),
        (
            "25.10",
            "pool.snapshottask.update",
            vec![s("1")],
            line("[EINVAL] data: Field required"),
        ),
        (
            "25.10",
            "pool.snapshottask.update",
            vec![s("1"), s(r#"{"foo":1}"#)],
            line("[EINVAL] data.foo: Extra inputs are not permitted"),
        ),
        (
            "25.10",
            "pool.snapshottask.update",
            vec![s("99"), s("{}")],
            line("[ENOENT] ALL: PeriodicSnapshotTask 99 does not exist"),
        ),
        (
            "25.10",
            "pool.snapshottask.update",
            vec![s("1"), s(r#"{"enabled":false}"#)],
            line(
                "[EINVAL] periodic_snapshot_update.enabled: You can't disable this periodic snapshot task because it is bound to enabled replication task 1",
            ),
        ),
        // --- 25.10 pydantic: replication.create
        (
            "25.10",
            rc,
            vec![],
            line("[EINVAL] replication_create: Field required"),
        ),
        (
            "25.10",
            rc,
            vec![s("{}")],
            [
                "name",
                "direction",
                "transport",
                "source_datasets",
                "target_dataset",
                "recursive",
                "auto",
                "retention_policy",
            ]
            .iter()
            .map(|f| line(&format!("[EINVAL] replication_create.{f}: Field required")))
            .collect(),
        ),
        (
            "25.10",
            rc,
            vec![ok_without("name")],
            line("[EINVAL] replication_create.name: Field required"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"foo":1}"#)],
            line("[EINVAL] replication_create.foo: Extra inputs are not permitted"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"id":1}"#)],
            line("[EINVAL] replication_create.id: Extra inputs are not permitted"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"direction":"push"}"#)],
            line("[EINVAL] replication_create.direction: Input should be 'PUSH' or 'PULL'"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"transport":"SSH+NC"}"#)],
            line(
                "[EINVAL] replication_create.transport: Input should be 'SSH', 'SSH+NETCAT' or 'LOCAL'",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"retention_policy":"KEEP"}"#)],
            line(
                "[EINVAL] replication_create.retention_policy: Input should be 'SOURCE', 'CUSTOM' or 'NONE'",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"readonly":"ON"}"#)],
            line(
                "[EINVAL] replication_create.readonly: Input should be 'SET', 'REQUIRE' or 'IGNORE'",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"compression":"GZIP"}"#)],
            line(
                "[EINVAL] replication_create.compression: Input should be 'LZ4', 'PIGZ' or 'PLZIP'",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"name":""}"#)],
            line("[EINVAL] replication_create.name: String should have at least 1 character"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"source_datasets":[]}"#)],
            line(
                "[EINVAL] replication_create.source_datasets: List should have at least 1 item after validation, not 0",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"ssh_credentials":"1"}"#)],
            line("[EINVAL] replication_create.ssh_credentials: Input should be a valid integer"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"periodic_snapshot_tasks":[1,1]}"#)],
            line("[EINVAL] replication_create.periodic_snapshot_tasks: List must be unique"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"speed_limit":0}"#)],
            line(
                "[EINVAL] replication_create.speed_limit: Input should be greater than or equal to 1",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"netcat_active_side_port_min":70000}"#)],
            line(
                "[EINVAL] replication_create.netcat_active_side_port_min: Input should be less than or equal to 65535",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"properties_override":{"compression":1}}"#)],
            line(
                "[EINVAL] replication_create.properties_override.compression: Input should be a valid string",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"lifetimes":[{"lifetime_value":1,"lifetime_unit":"DAY"}]}"#,
            )],
            line("[EINVAL] replication_create.lifetimes.0.schedule: Field required"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"auto":true,"schedule":{"begin":"18:00","end":"06:00"}}"#,
            )],
            line(
                "[EINVAL] replication_create.schedule: Assertion failed, Begin time should be less than or equal to end time",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"auto":true,"schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}}"#,
            )],
            line(
                "[EINVAL] replication_create.schedule: Assertion failed, Specified schedule does not match specified time interval",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"restrict_schedule":{"begin":"6"}}"#)],
            line(
                "[EINVAL] replication_create.restrict_schedule.begin: Value error, Time should be in 24 hour format like \"18:00\"",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"also_include_naming_schema":["foo"]}"#)],
            line(&format!(
                "[EINVAL] replication_create.also_include_naming_schema.0: {ve}%Y must be present in snapshot naming schema"
            )),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"direction":"PULL","naming_schema":["auto-%Y-%m-%d_%H-%M","x","y@"]}"#,
            )],
            format!(
                "[EINVAL] replication_create.naming_schema.1: {ve}%Y must be present in snapshot naming schema\n[EINVAL] replication_create.naming_schema.2: {ve}@ is not an allowed character in ZFS snapshot name\n"
            ),
        ),
        (
            "25.10",
            rc,
            vec![s(OK_REPL), s("1")],
            line("[EINVAL] ALL: Too many arguments (expected 1, found 2)"),
        ),
        // replication plugin checks
        (
            "25.10",
            rc,
            vec![s(OK_REPL)],
            line(
                "[EINVAL] replication_create.periodic_snapshot_tasks: You must at least either bind a periodic snapshot task or provide \"Also Include Naming Schema\" or \"Name Regex\" for push replication task",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"name":"offsite","periodic_snapshot_tasks":[1],"recursive":true,"exclude":["tank/data/scratch"]}"#,
            )],
            line("[EINVAL] replication_create.name: Object with this name already exists"),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(r#"{"periodic_snapshot_tasks":[2]}"#)],
            line(
                "[EINVAL] replication_create.periodic_snapshot_tasks.0: You can't bind disabled periodic snapshot task to enabled replication task",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"transport":"SSH","also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"]}"#,
            )],
            line(
                "[EINVAL] replication_create.ssh_credentials: SSH Credentials are required for non-local replication",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"transport":"SSH","ssh_credentials":1,"also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"]}"#,
            )],
            line(
                "[EINVAL] replication_create.ssh_credentials: [EINVAL] Credential is not of type SSH_CREDENTIALS",
            ),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"direction":"PULL","naming_schema":["auto-%Y-%m-%d_%H-%M"],"retention_policy":"CUSTOM","compression":"LZ4"}"#,
            )],
            "[EINVAL] replication_create.compression: Compression has no sense for local replication\n[EINVAL] replication_create.lifetime_value: This field is required for custom retention policy\n[EINVAL] replication_create.lifetime_value: This field is required for custom retention policy\n".to_string(),
        ),
        (
            "25.10",
            rc,
            vec![ok_with(
                r#"{"also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"],"name_regex":"auto-.*"}"#,
            )],
            line(
                "[EINVAL] replication_create.name_regex: Naming regex can't be used with Naming schema",
            ),
        ),
        (
            "25.10",
            "replication.get_instance",
            vec![s("9")],
            line("[ENOENT] ALL: Replication 9 does not exist"),
        ),
        (
            "25.10",
            "replication.update",
            vec![s("9"), s("{}")],
            line("[ENOENT] ALL: Replication 9 does not exist"),
        ),
        (
            "25.10",
            "replication.delete",
            vec![s("9")],
            line("[ENOENT] ALL: Replication 9 does not exist"),
        ),
        (
            "25.10",
            "replication.update",
            vec![s("2"), s(r#"{"auto":false}"#)],
            line(
                "[EINVAL] replication_update.schedule: You can't have schedule for replication that does not run automatically",
            ),
        ),
        (
            "25.10",
            "keychaincredential.delete",
            vec![s("2")],
            line(
                "[EINVAL] options.cascade: This credential is used and no cascade option is specified",
            ),
        ),
        (
            "25.10",
            "keychaincredential.create",
            vec![s(
                r#"{"name":"backup","type":"SSH_KEY_PAIR","attributes":{"public_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K"}}"#,
            )],
            line("[EINVAL] keychain_credential_create.name: Object with this name already exists"),
        ),
        (
            "25.10",
            "service.update",
            vec![s(r#""ssh""#), s("{}")],
            line("[EINVAL] service_update.enable: Field required"),
        ),
        // --- 25.04: snapshot tasks pydantic, replication old schema
        (
            "25.04",
            st,
            vec![ds(r#","naming_schema":"foo""#)],
            line(&format!(
                "[EINVAL] data.naming_schema: {ve}%Y must be present in snapshot naming schema"
            )),
        ),
        (
            "25.04",
            rc,
            vec![ok_with(r#"{"foo":1}"#)],
            line("[EINVAL] replication_create.foo: Field was not expected"),
        ),
        (
            "25.04",
            rc,
            vec![ok_with(r#"{"direction":"push"}"#)],
            line("[EINVAL] replication_create.direction: Invalid choice: push"),
        ),
        (
            "25.04",
            rc,
            vec![ok_with(r#"{"retries":0}"#)],
            line("[EINVAL] replication_create.retries: Should be greater than or equal to 1"),
        ),
        (
            "25.04",
            rc,
            vec![ok_with(
                r#"{"replicate":true,"recursive":true,"also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"]}"#,
            )],
            line(
                "[EINVAL] replication_create.retention_policy: Only `Same as Source` retention policy can be used for full filesystem replication",
            ),
        ),
        (
            "25.04",
            "keychaincredential.delete",
            vec![s("2")],
            line(
                "[EINVAL] options.cascade: This credential is used and no cascade option is specified",
            ),
        ),
        // --- 24.04 / 24.10: old schema
        (
            "24.04",
            st,
            vec![ds("")],
            [
                "recursive",
                "lifetime_value",
                "lifetime_unit",
                "naming_schema",
            ]
            .iter()
            .map(|f| {
                line(&format!(
                    "[EINVAL] periodic_snapshot_create.{f}: attribute required"
                ))
            })
            .collect(),
        ),
        (
            "24.04",
            st,
            vec![full24(r#","foo":1"#)],
            line("[EINVAL] periodic_snapshot_create.foo: Field was not expected"),
        ),
        (
            "24.04",
            st,
            vec![full24(r#","lifetime_unit":"DAYS""#)],
            line("[EINVAL] periodic_snapshot_create.lifetime_unit: Invalid choice: DAYS"),
        ),
        (
            "24.04",
            st,
            vec![full24(r#","recursive":"yes""#)],
            line("[EINVAL] periodic_snapshot_create.recursive: Not a boolean"),
        ),
        (
            "24.04",
            st,
            vec![full24(r#","naming_schema":"foo""#)],
            line(
                "[EINVAL] periodic_snapshot_create.naming_schema: %Y must be present in snapshot naming schema",
            ),
        ),
        (
            "24.10",
            st,
            vec![full24(
                r#","schedule":{"minute":"0","hour":"5","begin":"06:00","end":"07:00"}"#,
            )],
            line(
                "[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval",
            ),
        ),
        (
            "24.10",
            st,
            vec![full24(r#","schedule":{"begin":"18:00","end":"06:00"}"#)],
            format!(
                "{}{}",
                line(
                    "[EINVAL] periodic_snapshot_create.schedule: Begin time should be less than or equal to end time",
                ),
                line(
                    "[EINVAL] periodic_snapshot_create.schedule: Specified schedule does not match specified time interval",
                ),
            ),
        ),
        (
            "24.04",
            rc,
            vec![s("{}")],
            [
                "name",
                "direction",
                "transport",
                "source_datasets",
                "target_dataset",
                "recursive",
                "auto",
                "retention_policy",
            ]
            .iter()
            .map(|f| {
                // `source_datasets` has a default (`[]`) that `empty=False` rejects.
                let msg = if *f == "source_datasets" {
                    "Empty value not allowed"
                } else {
                    "attribute required"
                };
                line(&format!("[EINVAL] replication_create.{f}: {msg}"))
            })
            .collect(),
        ),
        (
            "24.04",
            rc,
            vec![ok_with(r#"{"recursive":"no","retries":"x"}"#)],
            line("[EINVAL] replication_create.recursive: Not a boolean")
                + &line("[EINVAL] replication_create.retries: Not an integer"),
        ),
        (
            "24.04",
            rc,
            vec![ok_with(r#"{"naming_schema":["foo"],"direction":"PULL"}"#)],
            line(
                "[EINVAL] replication_create.naming_schema.0.naming_schema: %Y must be present in snapshot naming schema",
            ),
        ),
        (
            "24.04",
            "replication.update",
            vec![s("9"), s("{}")],
            line("[ENOENT] ALL: Replication 9 does not exist"),
        ),
        (
            "24.10",
            "keychaincredential.delete",
            vec![s("2")],
            line(
                "[EINVAL] options.cascade: This credential is used and no cascade option is specified",
            ),
        ),
        (
            "24.10",
            "user.update",
            vec![s("2"), s(r#"{"sshpubkey":"ssh-ed25519 AAAA x"}"#)],
            line(
                "[EINVAL] user_update.sshpubkey: Home directory is not writable, leave this blank\"",
            ),
        ),
        // --- CORE 13
        (
            "13.0",
            st,
            vec![s(
                r#"{"dataset":"tank/nope","recursive":false,"lifetime_value":2,"lifetime_unit":"WEEK","naming_schema":"auto-%Y-%m-%d_%H-%M"}"#,
            )],
            line("[EINVAL] periodic_snapshot_create.dataset: ZFS dataset or zvol not found"),
        ),
        (
            "13.0",
            rc,
            vec![ok_with(
                r#"{"direction":"PULL","naming_schema":["auto-%Y-%m-%d_%H-%M"],"auto":true}"#,
            )],
            line(
                "[EINVAL] replication_create.auto: Pull replication that runs automatically must have a schedule",
            ),
        ),
    ];
    v.sort_by_key(|c| c.0);
    v
}

#[test]
fn validation_errors_exact_per_version() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for (version, method, args, expected) in &cases {
        let (_dir, state) = system(version);
        let mut argv = vec!["call", method];
        argv.extend(args.iter().map(String::as_str));
        let out = run(&state, &argv);
        if out.stderr != *expected || out.exit != 1 || !out.stdout.is_empty() {
            failures.push(format!(
                "{version} {method} {args:?}\n  expected: {expected:?}\n  got:      {:?} (exit {}, stdout {:?})",
                out.stderr, out.exit, out.stdout
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

/// Errors that come with a traceback: the first line is exact, a traceback follows.
#[test]
fn call_errors_print_reason_and_traceback() {
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "24.04",
            vec!["call", "pool.snapshottask.create", "{}", "{}"],
            "[EFAULT] Too many arguments (expected 1, found 2)",
        ),
        (
            "25.04",
            vec!["call", "pool.snapshottask.create", "{}", "{}"],
            "[EFAULT] Too many arguments (expected 1, found 2)",
        ),
        (
            "24.04",
            vec!["call", "keychaincredential.delete", "2"],
            "[EFAULT] This credential is used and no cascade option is specified",
        ),
        (
            "25.10",
            vec!["call", "pool.snapshottask.run", "2"],
            "[EFAULT] Task is not enabled",
        ),
        (
            "24.10",
            vec!["call", "replication.nope"],
            "[ENOMETHOD] Method 'nope' not found in 'replication'",
        ),
        (
            "24.04",
            vec!["call", "nothing.here"],
            "[ENOMETHOD] Service 'nothing' not found",
        ),
        (
            "25.10",
            vec![
                "call",
                "replication.query",
                "[[\"id\",\"=\",42]]",
                "{\"get\":true}",
            ],
            "MatchNotFound()",
        ),
        (
            "25.10",
            vec!["call", "pool.snapshottask.delete", "1"],
            "[EFAULT] You are deleting the last periodic snapshot task bound to enabled replication task 'offsite' which will break it. Please, disable that replication task first.",
        ),
        (
            "13.0",
            vec![
                "call",
                "replication.create",
                &*Box::leak(ok_with(r#"{"sudo":true}"#).into_boxed_str()),
            ],
            "[sudo] Field was not expected",
        ),
        (
            "25.10",
            vec![
                "call",
                "zfs.snapshot.create",
                "{\"dataset\":\"tank/data\",\"name\":\"auto-2025-10-30_13-00\"}",
            ],
            "[EEXIST] Failed to snapshot tank/data@auto-2025-10-30_13-00: dataset already exists",
        ),
    ];
    for (version, argv, first) in cases {
        let (_dir, state) = system(version);
        let out = run(&state, &argv);
        let mut lines = out.stderr.lines();
        assert_eq!(
            lines.next(),
            Some(first),
            "{version} {argv:?}: {}",
            out.stderr
        );
        assert_eq!(
            lines.next(),
            Some("Traceback (most recent call last):"),
            "{version} {argv:?}"
        );
        assert_eq!(out.exit, 1);
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn method_does_not_exist_on_jsonrpc_versions() {
    for v in ["25.04", "25.10"] {
        let (_dir, state) = system(v);
        let out = run(&state, &["call", "replication.nope"]);
        assert_eq!(
            (out.stderr.as_str(), out.exit),
            ("Method does not exist\n", 1)
        );
    }
    // pool.snapshot.* only exists from 25.10 on.
    let (_dir, state) = system("25.04");
    let out = run(&state, &["call", "pool.snapshot.query"]);
    assert_eq!(out.stderr, "Method does not exist\n");
    let (_dir, state) = system("24.10");
    let out = run(&state, &["call", "system.version_short"]);
    assert_eq!(out.stdout, "24.10.2\n");
    let (_dir, state) = system("13.0");
    let out = run(&state, &["call", "system.version_short"]);
    assert!(
        out.stderr
            .starts_with("[ENOMETHOD] Method 'version_short' not found in 'system'\n")
    );
}

#[test]
fn results_print_like_python() {
    let (_dir, state) = system("25.10");
    let ok = |argv: &[&str]| {
        let out = run(&state, argv);
        assert_eq!(out.exit, 0, "{argv:?}: {}", out.stderr);
        assert_eq!(out.stderr, "");
        out.stdout
    };
    assert_eq!(ok(&["call", "system.version"]), "TrueNAS-25.10.1\n");
    assert_eq!(ok(&["call", "system.product_type"]), "COMMUNITY_EDITION\n");
    assert_eq!(ok(&["ping"]), "pong\n");
    assert_eq!(ok(&["call", "core.ping"]), "pong\n");
    assert_eq!(
        ok(&["call", "service.query", r#"[["service","=","ssh"]]"#]),
        "[{\"id\": 6, \"service\": \"ssh\", \"enable\": true, \"state\": \"RUNNING\", \"pids\": [1222]}]\n"
    );
    assert_eq!(
        ok(&["call", "pool.snapshottask.query", "[]", r#"{"count":true}"#]),
        "2\n"
    );
    assert_eq!(
        ok(&[
            "call",
            "replication.query",
            r#"[["id","=",2]]"#,
            r#"{"select":["name","state.state"]}"#
        ]),
        "[{\"name\": \"pull-archive\", \"state\": {\"state\": \"ERROR\"}}]\n"
    );
    assert_eq!(ok(&["call", "pool.snapshottask.run", "1"]), "null\n");
    assert_eq!(
        ok(&[
            "call",
            "pool.snapshot.delete",
            r#""tank/data@manual-2025-10-29_09-00""#
        ]),
        "True\n"
    );
    // Non-ASCII as \uXXXX, Python separators.
    let created = ok(&[
        "call",
        "replication.create",
        &ok_with(
            r#"{"name":"Büro → backup","also_include_naming_schema":["auto-%Y-%m-%d_%H-%M"]}"#,
        ),
    ]);
    assert!(
        created.starts_with(
            "{\"id\": 3, \"name\": \"B\\u00fcro \\u2192 backup\", \"direction\": \"PUSH\""
        ),
        "{created}"
    );
    // A raw string argument (not JSON) is passed as a string.
    assert_eq!(
        ok(&[
            "call",
            "pool.dataset.query",
            r#"[["id","=","tank/vms"]]"#,
            r#"{"select":["id","type","mountpoint"]}"#
        ]),
        "[{\"id\": \"tank/vms\", \"type\": \"VOLUME\", \"mountpoint\": null}]\n"
    );
    let (_d, st24) = system("24.04");
    assert_eq!(
        run(&st24, &["call", "replication.delete", "99"]).stdout,
        "True\n"
    );
    assert_eq!(
        run(&st24, &["call", "system.version"]).stdout,
        "TrueNAS-SCALE-24.04.2\n"
    );
    assert_eq!(
        run(&st24, &["ping"]),
        MidcltOutput {
            stdout: String::new(),
            stderr: String::new(),
            exit: 0
        }
    );
    let (_d, core) = system("13.0");
    assert_eq!(
        run(&core, &["call", "system.version"]).stdout,
        "TrueNAS-13.0-U6.2\n"
    );
    assert_eq!(
        run(&core, &["call", "system.product_type"]).stdout,
        "CORE\n"
    );
}

#[test]
fn replication_run_returns_a_job_even_when_disabled() {
    let (_dir, state) = system("25.10");
    let out = run(
        &state,
        &["call", "replication.update", "1", r#"{"enabled":false}"#],
    );
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let out = run(&state, &["call", "replication.run", "1"]);
    assert_eq!(out.exit, 0);
    let id: u64 = out.stdout.trim().parse().unwrap();
    let job = run(
        &state,
        &[
            "call",
            "core.get_jobs",
            &format!(r#"[["id","=",{id}]]"#),
            r#"{"get":true,"select":["state","error","arguments"]}"#,
        ],
    );
    assert_eq!(
        job.stdout,
        "{\"state\": \"FAILED\", \"error\": \"[EFAULT] Task is not enabled\", \"arguments\": [1, true]}\n"
    );
    // An enabled task gets a WAITING job the engine then drives; the task points at it.
    let out = run(&state, &["call", "replication.run", "2"]);
    let id2: u64 = out.stdout.trim().parse().unwrap();
    assert_eq!(id2, id + 1);
    let job = run(&state, &["call", "replication.get_instance", "2"]);
    let v: serde_json::Value = serde_json::from_str(&job.stdout).unwrap();
    assert_eq!(v["job"]["id"], id2);
    assert_eq!(v["job"]["state"], "WAITING");
    // The failed fixture job is kept with its error.
    let old = run(
        &state,
        &[
            "call",
            "core.get_jobs",
            r#"[["state","=","FAILED"],["arguments.0","=",2]]"#,
            r#"{"select":["error"]}"#,
        ],
    );
    assert!(
        old.stdout.contains("Refusing to replicate."),
        "{}",
        old.stdout
    );
}

#[test]
fn job_flag_spelling_differs_by_version() {
    // ≤24.10: `-j` takes a value, so `-job` means "-j ob" and works.
    let (_dir, state) = system("24.10");
    let out = run(&state, &["call", "-job", "replication.run", "2"]);
    // It parses (no usage error, exit 2); the job then runs to its end and reports there.
    assert_ne!(out.exit, 2, "{}", out.stderr);
    assert!(!out.stderr.contains("usage:"), "{}", out.stderr);
    // 25.04+: `-j` is a flag; `-job` is an argparse error, exit 2.
    let (_dir, state) = system("25.04");
    let out = run(&state, &["call", "-job", "replication.run", "2"]);
    assert_eq!(out.exit, 2);
    assert!(
        out.stderr
            .ends_with("midclt call: error: argument -j/--job: ignored explicit argument 'ob'\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.starts_with("usage: midclt call "));
    let out = run(&state, &["frobnicate"]);
    assert_eq!(out.exit, 2);
    assert!(
        out.stderr
            .contains("midclt: error: argument name: invalid choice: 'frobnicate'")
    );
}

#[test]
fn changes_persist_and_reads_do_not_write() {
    let (dir, state) = system("25.10");
    let before = std::fs::read_to_string(&state).unwrap();
    run(&state, &["call", "replication.query"]);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), before);
    let out = run(
        &state,
        &[
            "call",
            "pool.dataset.update",
            r#""tank/data""#,
            r#"{"user_properties_update":[{"key":"zfleet:task-1","value":"daily"}]}"#,
        ],
    );
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let child = run(
        &state,
        &[
            "call",
            "pool.dataset.query",
            r#"[["id","=","tank/data/photos"]]"#,
            r#"{"get":true,"select":["user_properties"]}"#,
        ],
    );
    assert_eq!(
        child.stdout,
        "{\"user_properties\": {\"zfleet:owned\": {\"parsed\": \"offsite\", \"rawvalue\": \"offsite\", \"value\": \"offsite\", \"source\": \"INHERITED\", \"source_info\": \"tank/data\"}, \"zfleet:task-1\": {\"parsed\": \"daily\", \"rawvalue\": \"daily\", \"value\": \"daily\", \"source\": \"INHERITED\", \"source_info\": \"tank/data\"}}}\n"
    );
    // Cross-system: scan backup's host keys through the fleet directory.
    let scan = run(
        &state,
        &[
            "call",
            "keychaincredential.remote_ssh_host_key_scan",
            r#"{"host":"192.0.2.20"}"#,
        ],
    );
    assert_eq!(scan.exit, 0, "{}", scan.stderr);
    let backup = sim::load(&dir.path().join("backup.json")).unwrap();
    assert_eq!(
        scan.stdout,
        format!("{}\n", backup.ssh.host_keys.join("\n"))
    );
    let unmatched = run(
        &state,
        &[
            "call",
            "replication.target_unmatched_snapshots",
            r#""PUSH""#,
            r#"["tank/data"]"#,
            r#""backup/nas1/data""#,
            r#""SSH""#,
            "2",
        ],
    );
    assert_eq!(
        unmatched.stdout,
        "{\"backup/nas1/data\": [\"old-2025-01-01_00-00\"]}\n"
    );
    let count = run(
        &state,
        &[
            "call",
            "replication.count_eligible_manual_snapshots",
            r#"{"datasets":["tank/data"],"naming_schema":["auto-%Y-%m-%d_%H-%M"],"transport":"LOCAL"}"#,
        ],
    );
    assert_eq!(count.stdout, "{\"total\": 3, \"eligible\": 2}\n");
}

#[test]
fn missing_state_is_a_daemon_that_is_not_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&dir.path().join("none.json"), &["call", "system.version"]);
    assert_eq!(
        out,
        MidcltOutput {
            stdout: String::new(),
            stderr: "Failed to run middleware call. Daemon not running?\n".into(),
            exit: 1
        }
    );
}

#[test]
fn binary_prints_the_same_bytes_and_exit_code() {
    let (dir, state) = system("25.10");
    let bin = assert_cmd::cargo::cargo_bin("zfleet");
    let out = std::process::Command::new(&bin)
        .args(["sim", "midclt", "--state"])
        .arg(&state)
        .args(["call", "replication.get_instance", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "[ENOENT] ALL: Replication 9 does not exist\n"
    );
    assert!(out.stdout.is_empty());
    // ZFLEET_SIM_STATE works as well, and a fixture seeds a missing state.
    let fresh = dir.path().join("lab.json");
    let out = std::process::Command::new(&bin)
        .args([
            "sim",
            "midclt",
            "--truenas-version",
            "24.04",
            "call",
            "system.version",
        ])
        .env("ZFLEET_SIM_STATE", &fresh)
        .env("ZFLEET_SIM_FIXTURE", fixture("backup.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "TrueNAS-SCALE-24.04.2\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn snapshot_task_run_names_snapshots_in_the_system_timezone() {
    // nas1 is in Europe/Berlin and its clock is frozen at 2025-10-30T14:05:00Z (15:05 local).
    let (_dir, state) = system("25.10");
    let out = run(&state, &["call", "pool.snapshottask.run", "1"]);
    assert_eq!(
        (out.stdout.as_str(), out.exit),
        ("null\n", 0),
        "{}",
        out.stderr
    );
    let names = run(
        &state,
        &[
            "call",
            "pool.snapshot.query",
            r#"[["snapshot_name","=","auto-2025-10-30_15-05"]]"#,
            r#"{"select":["name"],"order_by":["name"]}"#,
        ],
    );
    // Recursive, with the task's exclude honoured.
    assert_eq!(
        names.stdout,
        "[{\"name\": \"tank/data/photos@auto-2025-10-30_15-05\"}, {\"name\": \"tank/data@auto-2025-10-30_15-05\"}]\n"
    );
    let task = run(&state, &["call", "pool.snapshottask.get_instance", "1"]);
    let v: serde_json::Value = serde_json::from_str(&task.stdout).unwrap();
    assert_eq!(
        v["state"],
        serde_json::json!({"state": "FINISHED", "datetime": {"$date": 1761833100000u64}, "last_snapshot": "tank/data@auto-2025-10-30_15-05"})
    );
    // A manual snapshot from a naming schema, and the duplicate refused like ZFS does.
    let made = run(
        &state,
        &[
            "call",
            "pool.snapshot.create",
            r#"{"dataset":"tank/vms","naming_schema":"manual-%Y-%m-%d_%H-%M"}"#,
        ],
    );
    assert_eq!(made.exit, 0, "{}", made.stderr);
    assert!(
        made.stdout
            .contains("\"id\": \"tank/vms@manual-2025-10-30_15-05\""),
        "{}",
        made.stdout
    );
    let again = run(
        &state,
        &[
            "call",
            "pool.snapshot.create",
            r#"{"dataset":"tank/vms","name":"manual-2025-10-30_15-05"}"#,
        ],
    );
    assert!(again.stderr.starts_with(
        "[EEXIST] Failed to snapshot tank/vms@manual-2025-10-30_15-05: dataset already exists\n"
    ));
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("call".to_string()),
            Just("-j".to_string()),
            Just("-job".to_string()),
            Just("-q".to_string()),
            Just("ping".to_string()),
            prop::sample::select(vec![
                "replication.create",
                "replication.update",
                "pool.snapshottask.create",
                "pool.snapshottask.update",
                "keychaincredential.create",
                "pool.dataset.update",
                "core.get_jobs",
                "replication.query",
                "user.update",
                "service.update",
                "pool.snapshot.create",
                "zfs.snapshot.delete",
                "replication.run",
            ])
            .prop_map(String::from),
            r#"[\[\]{}",:a-z0-9 .\-_%@/\\é]{0,40}"#,
            Just(r#"[["OR",[["id","=",1],["name","~","(a"]]]]"#.to_string()),
            Just(
                r#"{"name":"x","direction":"PUSH","schedule":{"minute":"99"},"lifetimes":[{}]}"#
                    .to_string()
            ),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]
        /// Any command line gets midclt's answer (exit 0, 1 or 2) and never a panic.
        #[test]
        fn any_argv_is_answered(argv in prop::collection::vec(token(), 0..6), v in prop::sample::select(vec!["13.0", "24.04", "25.04", "25.10"])) {
            let (_dir, state) = system(v);
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let out = run(&state, &argv);
            prop_assert!([0, 1, 2].contains(&out.exit), "{:?}", out);
            prop_assert!(out.exit == 0 || !out.stderr.is_empty());
        }
    }
}

#[test]
fn retention_previews_list_the_tasks_snapshots() {
    let (_dir, state) = system("25.10");
    let del = run(
        &state,
        &[
            "call",
            "pool.snapshottask.delete_will_change_retention_for",
            "1",
        ],
    );
    // task_retention.py groups `sorted()` full names: `tank/data/photos@` before `tank/data@`.
    assert_eq!(
        del.stdout,
        "{\"tank/data/photos\": [\"auto-2025-10-30_13-00\"], \"tank/data\": [\"auto-2025-10-30_12-00\", \"auto-2025-10-30_13-00\"]}\n"
    );
    let same = run(
        &state,
        &[
            "call",
            "pool.snapshottask.update_will_change_retention_for",
            "1",
            r#"{"enabled":true}"#,
        ],
    );
    assert_eq!(same.stdout, "{}\n");
    let longer = run(
        &state,
        &[
            "call",
            "pool.snapshottask.update_will_change_retention_for",
            "1",
            r#"{"lifetime_value":4}"#,
        ],
    );
    // Only snapshots the task would stop owning count; a lifetime never changes that.
    assert_eq!(longer.stdout, "{}\n");
}
