//! The live checks of `zfleet plan`: each code firing on stderr with exit 1, apply refusing
//! while the plan has errors, systems that cannot be read, and scoping with `--system`.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::{Fleet, STANDARD_CONFIG, standard};

/// The codes the checks fleet raises, in the order plan reports them.
const CHECK_CODES: [&str; 15] = [
    "zfleet::check::dataset_missing",
    "zfleet::check::ssh_disabled",
    "zfleet::check::no_snapshots",
    "zfleet::check::no_connection",
    "zfleet::check::unsupported_field",
    "zfleet::check::readonly_require",
    "zfleet::check::name_taken",
    "zfleet::check::target_unmatched",
    "zfleet::check::ssh_stopped",
    "zfleet::check::bound_task",
    "zfleet::check::readonly_source",
    "zfleet::check::dataset_type",
    "zfleet::check::task_in_use",
    "zfleet::check::adopt_ambiguous",
    "zfleet::check::retention",
];

/// Calls that change nothing: reads and the retention previews.
fn is_read(method: &str) -> bool {
    method.ends_with(".query")
        || method.starts_with("system.")
        || method == "ssh.config"
        || method.ends_with("_will_change_retention_for")
}

fn checks() -> Fleet {
    Fleet::from_data("checks", "chk")
}

#[test]
fn every_live_check_reports_its_code_and_fails_the_plan() {
    let f = checks();
    let run = f.zfleet(&["plan", "--detailed-exitcode"]);
    run.expect(1);
    assert_eq!(run.codes(), CHECK_CODES);
    insta::assert_snapshot!("checks_stderr", run.stderr);
    // The system with nothing wrong is still planned, and the others' actions are shown.
    assert!(
        run.stdout.contains(
            "ok (TrueNAS 25.10.1)\n   + create snapshot task fine\n      dataset        tank/fine\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("\nPlan: 10 to add, 4 to change, 0 to delete.\n"),
        "{}",
        run.stdout
    );
    let json = f.zfleet(&["plan", "--json"]);
    json.expect(1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        doc["summary"],
        serde_json::json!({"add": 10, "change": 4, "delete": 0, "errors": 13, "warnings": 2, "unknown_systems": 0})
    );
    let codes: Vec<&str> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, CHECK_CODES);
    f.assert_trace_valid(20);
}

#[test]
fn every_check_code_is_exercised_or_known_unreachable() {
    let registered: Vec<&str> = zfleet::plan::CODES.iter().map(|c| c.code).collect();
    for code in &registered {
        assert!(
            CHECK_CODES.contains(code),
            "{code} has no case in tests/data/plan/checks"
        );
    }
}

#[test]
fn apply_refuses_a_plan_with_errors_and_changes_nothing() {
    let f = checks();
    f.zfleet(&["plan"]).expect(1);
    let before: Vec<_> = ["src", "ok", "core", "lonely"]
        .iter()
        .map(|s| (f.snapshot_tasks(s), f.replications(s), f.records(s)))
        .collect();
    let run = f.zfleet(&["apply", "--yes"]);
    run.expect(1);
    let mut codes = CHECK_CODES.to_vec();
    codes.push("zfleet::apply::blocked");
    assert_eq!(run.codes(), codes);
    assert!(
        run.stderr.ends_with(
            "zfleet::apply::blocked\n\n  × nothing was applied: the plan has errors\n  help: fix the errors above (or leave their systems out with `--system`) and run apply again\n\n"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("Apply:"), "{}", run.stdout);
    let after: Vec<_> = ["src", "ok", "core", "lonely"]
        .iter()
        .map(|s| (f.snapshot_tasks(s), f.replications(s), f.records(s)))
        .collect();
    assert_eq!(before, after);
    let methods: Vec<String> = ["src", "ok", "core", "lonely", "dst", "stopped"]
        .iter()
        .flat_map(|s| f.traced_methods(s))
        .collect();
    assert!(
        methods.iter().all(|m| is_read(m)),
        "only reads: {methods:?}"
    );
}

#[test]
fn system_glob_scopes_plan_and_apply_past_other_systems_errors() {
    let f = checks();
    let plan = f.zfleet(&["plan", "--system", "o*", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert_eq!(
        plan.stdout,
        "\
ok (TrueNAS 25.10.1)
   + create snapshot task fine
      dataset        tank/fine
      recursive      false
      exclude        []
      lifetime       1 WEEK
      naming_schema  auto-%Y-%m-%d_%H-%M
      schedule       0 0 * * *
      allow_empty    true
      enabled        true

Plan: 1 to add, 0 to change, 0 to delete.
"
    );
    let src_before = (f.snapshot_tasks("src"), f.records("src"));
    let apply = f.zfleet(&["apply", "--yes", "--system", "o*"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "\n✓ ok: create snapshot task fine — done\nApply: 1 done, 0 failed, 0 skipped.\n"
        ),
        "{}",
        apply.stdout
    );
    assert_eq!(f.snapshot_tasks("ok").len(), 1);
    assert_eq!(
        (f.snapshot_tasks("src"), f.records("src")),
        src_before,
        "src untouched"
    );
    assert!(f.traced_methods("src").iter().all(|m| is_read(m)));

    let none = f.zfleet(&["plan", "--system", "zz*"]);
    none.expect(1);
    assert_eq!(none.stdout, "");
    assert_eq!(
        none.stderr,
        "zfleet::cli::no_such_system\n\n  × `--system zz*` matches no system of the config\n  help: the systems are: core, dst, lonely, ok, src, stopped\n\n"
    );
    let apply_none = f.zfleet(&["apply", "--yes", "--system", "zz*"]);
    apply_none.expect(1);
    assert_eq!(apply_none.codes(), ["zfleet::cli::no_such_system"]);
}

#[test]
fn adopt_matching_several_hand_made_tasks_is_ambiguous() {
    let mut f = Fleet::new();
    f.system(
        "nas",
        "25.10",
        r#"datasets: { tank: { children: { data: {} } } }
snapshot_tasks:
  - { dataset: tank/data, lifetime_value: 1, lifetime_unit: WEEK, schedule: { minute: "0" } }
  - { dataset: tank/data, lifetime_value: 3, lifetime_unit: WEEK, schedule: { minute: "0" } }
"#,
    )
    .config(
        "amb",
        "snapshot_tasks:\n  d: { system: nas, dataset: tank/data, schedule: daily, lifetime: 2 weeks, adopt: true }\n",
    );
    let run = f.zfleet(&["plan"]);
    assert_eq!(run.codes(), ["zfleet::check::adopt_ambiguous"]);
    run.expect(1);
}

#[test]
fn unreachable_systems_are_unknown_and_the_others_plan_normally() {
    let mut f = standard();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let systems: String = ["backup", "nas1", "v133", "v2404", "v2410"]
        .iter()
        .map(|n| format!("  {n}: {{ simulator: {{ fixture: sim/{n}.yaml }} }}\n"))
        .collect();
    f.raw_config(
        "e2e",
        &format!(
            "systems:\n  gone: {{ host: 127.0.0.1, port: {port}, user: root, host_key: \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }}\n{systems}{STANDARD_CONFIG}"
        ),
    );
    // Seed the states, then stop v2404's middleware.
    f.zfleet(&["plan"]).expect(1);
    f.faults("v2404", &["--stop-middleware"]);
    let run = f.zfleet(&["plan", "--detailed-exitcode"]);
    run.expect(1);
    let codes = run.codes();
    assert_eq!(codes.len(), 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("gone: cannot connect to 127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("v2404"), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("backup (TrueNAS 25.04.2)\n   + create snapshot backup/nas1@"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\ngone (unknown: the system could not be read)\n\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nv2404 (unknown: the system could not be read)\n\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nv2410 (TrueNAS SCALE 24.10.2)\n   + create snapshot task home-2410\n")
    );
    assert!(
        run.stdout.ends_with(
            "\nPlan: 7 to add, 0 to change, 0 to delete. 2 systems could not be read; what they may need is unknown.\n"
        ),
        "{}",
        run.stdout
    );
    // Apply is blocked by the unreadable systems; `--system` leaves them out.
    let blocked = f.zfleet(&["apply", "--yes"]);
    blocked.expect(1);
    assert_eq!(
        blocked.codes().last().map(String::as_str),
        Some("zfleet::apply::blocked")
    );
    assert!(f.snapshot_tasks("v2410").is_empty());
    let scoped = f.zfleet(&["apply", "--yes", "--system", "v24*", "--system", "v133"]);
    scoped.expect(1);
    f.faults("v2404", &[]);
    let scoped = f.zfleet(&["apply", "--yes", "--system", "v24*", "--system", "v133"]);
    scoped.expect(0);
    assert_eq!(f.snapshot_tasks("v2404").len(), 1);
    assert_eq!(f.snapshot_tasks("v2410").len(), 1);
    assert!(f.snapshot_tasks("nas1").is_empty(), "out of scope");
}

#[test]
fn scoping_to_the_source_keeps_the_problems_of_its_replications_targets() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system(
            "backup",
            "25.04",
            &fleet::backup_fixture().replace(
                "ssh: { enable: true, running: true }",
                "ssh: { enable: false, running: false }",
            ),
        )
        .config(
            "e2e",
            "snapshot_tasks:\n  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }\nreplications:\n  media-offsite:\n    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/media }\n    retention: source\n",
        );
    let whole = f.zfleet(&["plan"]);
    whole.expect(1);
    assert_eq!(whole.codes(), ["zfleet::check::ssh_disabled"]);
    let scoped = f.zfleet(&["plan", "--system", "nas1"]);
    assert_eq!(scoped.codes(), ["zfleet::check::ssh_disabled"]);
    scoped.expect(1);
    f.zfleet(&["apply", "--yes", "--system", "nas1"]).expect(1);
    assert!(f.replications("nas1").is_empty());
}

#[test]
fn fix_ssh_enables_and_starts_the_service_replication_needs() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system(
            "backup",
            "25.04",
            &fleet::backup_fixture().replace(
                "ssh: { enable: true, running: true }",
                "ssh: { enable: false, running: false }",
            ),
        )
        .config(
            "e2e",
            "snapshot_tasks:\n  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }\nreplications:\n  media-offsite:\n    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]\n    target: { system: backup, dataset: backup/nas1/media }\n    retention: source\n",
        );
    f.zfleet(&["plan"]).expect(1);
    let service = f.call("backup", "service.query", &[r#"[["service", "=", "ssh"]]"#]);
    let id = service[0]["id"].as_i64().expect("id");
    let plan = f.zfleet(&["plan", "--fix-ssh", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.starts_with(&format!(
            "backup (TrueNAS 25.04.2)\n   ~ update SSH service (#{id})  # replication reaches this system over SSH (--fix-ssh)\n      enable  false → true\n      state   STOPPED → RUNNING\n\nnas1 (TrueNAS 25.10.1)\n"
        )),
        "{}",
        plan.stdout
    );
    let apply = f.zfleet(&["apply", "--yes", "--fix-ssh"]);
    apply.expect(0);
    assert!(
        apply
            .stdout
            .contains("\n✓ backup: update SSH service — done\n")
    );
    let service = f.call("backup", "service.query", &[r#"[["service", "=", "ssh"]]"#]);
    assert_eq!(
        (&service[0]["enable"], &service[0]["state"]),
        (&serde_json::json!(true), &serde_json::json!("RUNNING"))
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
fn a_new_ssh_replication_to_an_unreadable_target_is_a_problem_of_its_system() {
    let mut f = standard();
    f.config("e2e", STANDARD_CONFIG);
    f.zfleet(&["plan"]).expect(0);
    f.faults("backup", &["--stop-middleware"]);
    let scoped = f.zfleet(&["plan", "--system", "nas1"]);
    scoped.expect(1);
    assert_eq!(scoped.codes(), ["zfleet::check::no_connection"]);
    assert!(
        scoped.stderr.contains(
            "× nas1: replication media-offsite: nas1 needs an SSH connection to backup, which could not be\n  │ read: the connection cannot be planned\n  help: fix what keeps zfleet from reading backup (`zfleet systems` says what), then plan again\n"
        ),
        "{}",
        scoped.stderr
    );
    let apply = f.zfleet(&["apply", "--yes", "--system", "nas1"]);
    apply.expect(1);
    assert_eq!(
        apply.codes(),
        ["zfleet::check::no_connection", "zfleet::apply::blocked"]
    );
    assert!(!apply.stdout.contains("Apply:"), "{}", apply.stdout);
    assert!(f.snapshot_tasks("nas1").is_empty());
    assert!(f.replications("nas1").is_empty());
}
