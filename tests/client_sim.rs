//! The client and inventory against the embedded simulator (through `transport::connect`),
//! for every version personality: reads, writes, validation errors, and payloads checked
//! with the middleware's request schemas.

#[path = "support/request_schemas.rs"]
mod request_schemas;

use std::path::{Path, PathBuf};
use std::time::Duration;

use request_schemas::Schemas;
use serde_json::Value;
use zfleet::client::{
    ApiError, Client, Personality, ReplicationInput, Schedule, SnapshotTaskInput, Tracer,
};
use zfleet::model::{SimSystem, System, SystemKind};
use zfleet::transport::{self, ConnectOptions, Transport};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sim/nas1.yaml")
}

async fn simulated(dir: &Path, version: &str, trace: Option<&Path>) -> Client<Transport> {
    let system = System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Simulator(SimSystem {
            fixture: Some(fixture()),
            version: Some(version.into()),
            state_file: dir.join(format!("nas1-{version}.json")),
        }),
    };
    let t = transport::connect(&system, &ConnectOptions::default())
        .await
        .expect("simulator opens");
    Client::new("nas1", t)
        .with_tracer(trace.map(Tracer::new))
        .with_poll_interval(Duration::from_millis(10))
}

const VERSIONS: &[(&str, Personality)] = &[
    ("13.0", Personality::Core13),
    ("13.3", Personality::Core13),
    ("24.04", Personality::V24_04),
    ("24.10", Personality::V24_10),
    ("25.04", Personality::V25_04),
    ("25.10", Personality::V25_10),
];

#[tokio::test]
async fn inventory_of_every_version() {
    let dir = tempfile::tempdir().expect("tmp");
    for &(v, personality) in VERSIONS {
        let c = simulated(dir.path(), v, None).await;
        let inv = zfleet::inventory::read(&c)
            .await
            .unwrap_or_else(|p| panic!("{v}: {p} ({:?})", p.help));
        assert_eq!(inv.version.personality, personality, "{v}");
        assert_eq!(inv.round_trips, 2, "{v}");
        assert!(
            inv.dataset("tank/data").is_some(),
            "{v}: {:?}",
            inv.datasets
        );
        assert!(
            inv.snapshots
                .contains(&"tank/data@auto-2025-10-30_13-00".to_string()),
            "{v}: {:?}",
            inv.snapshots
        );
        assert_eq!(inv.snapshot_tasks.len(), 2, "{v}");
        assert_eq!(inv.snapshot_tasks[0].dataset, "tank/data");
        assert_eq!(inv.replications.len(), 2, "{v}");
        assert_eq!(inv.replications[0].name, "offsite");
        assert!(inv.ssh_service.enable && inv.ssh_service.running(), "{v}");
        assert!(inv.users.iter().any(|u| u.username == "repl"), "{v}");
        assert_eq!(inv.keychain.len(), 2, "{v}");
    }
}

fn task(dataset: &str) -> SnapshotTaskInput {
    SnapshotTaskInput {
        dataset: dataset.into(),
        recursive: false,
        exclude: vec![],
        lifetime_value: 3,
        lifetime_unit: "DAY".into(),
        naming_schema: "zfleet-%Y-%m-%d_%H-%M".into(),
        schedule: Schedule {
            minute: "15".into(),
            hour: "*/2".into(),
            dom: "*".into(),
            month: "*".into(),
            dow: "*".into(),
            begin: Some("00:00".into()),
            end: Some("23:59".into()),
        },
        allow_empty: true,
        enabled: true,
        fixate_removal_date: None,
    }
}

/// Creates, updates, runs and deletes a snapshot task and a replication; returns the trace.
async fn round_trip_writes(dir: &Path, v: &str) -> String {
    let trace = dir.join(format!("trace-{v}.jsonl"));
    let c = simulated(dir, v, Some(&trace)).await;
    let created = c
        .snapshot_task_create(&task("tank/data/photos"))
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(created.dataset, "tank/data/photos");
    assert_eq!(created.schedule.hour, "*/2");
    let mut changed = task("tank/data/photos");
    changed.lifetime_value = 5;
    let updated = c
        .snapshot_task_update(created.id, &changed)
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(updated.lifetime_value, 5);
    c.snapshot_task_run(created.id).await.expect("run");

    let mut r = ReplicationInput::new(
        "zfleet-local",
        "PUSH",
        "LOCAL",
        vec!["tank/data/photos".into()],
        "tank/copy",
    );
    r.periodic_snapshot_tasks = vec![created.id];
    r.retention_policy = "SOURCE".into();
    let rep = c
        .replication_create(&r)
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(rep.periodic_snapshot_tasks, vec![created.id]);
    let job = c.replication_run(rep.id).await.expect("run");
    let j = c.job(job).await.expect("job visible");
    assert_eq!(j.id, job);
    assert_eq!(j.method, "replication.run");

    let inv = zfleet::inventory::read(&c).await.expect("inventory");
    assert!(inv.replications.iter().any(|x| x.name == "zfleet-local"));
    assert!(
        inv.snapshot_tasks
            .iter()
            .any(|t| t.id == created.id && t.lifetime_value == 5)
    );

    c.replication_delete(rep.id)
        .await
        .expect("delete replication");
    c.snapshot_task_delete(created.id)
        .await
        .expect("delete task");
    let inv = zfleet::inventory::read(&c).await.expect("inventory");
    assert!(!inv.replications.iter().any(|x| x.name == "zfleet-local"));
    assert!(!inv.snapshot_tasks.iter().any(|t| t.id == created.id));

    c.snapshot_create("tank/data", "manual-%Y-%m-%d_%H-%M", false)
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"));
    std::fs::read_to_string(&trace).expect("trace")
}

#[tokio::test]
async fn writes_round_trip_and_pass_the_request_schemas() {
    let dir = tempfile::tempdir().expect("tmp");
    for v in ["24.04", "25.04", "25.10"] {
        let text = round_trip_writes(dir.path(), v).await;
        assert!(text.lines().count() >= 12, "{v}");
        if v == "24.04" {
            continue; // no request schemas for 24.x
        }
        let report = Schemas::load(v).check_lines(&text);
        assert!(report.ok(), "{v}: {}", report.text());
        assert!(report.passed >= 10, "{v}: {}", report.text());
    }
}

#[tokio::test]
async fn simulator_validation_errors_reach_the_user_exactly() {
    let dir = tempfile::tempdir().expect("tmp");
    for v in ["24.04", "25.10"] {
        let c = simulated(dir.path(), v, None).await;
        let err = c
            .snapshot_task_create(&task("tank/nope"))
            .await
            .expect_err("missing dataset");
        let ApiError::Validation(items) = &err.error else {
            panic!("{v}: not a validation error: {err}")
        };
        assert_eq!(
            items.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
            ["[EINVAL] periodic_snapshot_create.dataset: Dataset not found"],
            "{v}"
        );
        let p = err.to_problem();
        assert_eq!(p.code, "zfleet::api::validation");
        // 24.04's replication.delete never looks the id up and answers True (§4).
        let deleted = c.replication_delete(999).await;
        if v == "24.04" {
            assert!(deleted.is_ok(), "{v}: {deleted:?}");
        } else {
            let err = deleted.expect_err("unknown id");
            assert_eq!(err.code(), "zfleet::api::not_found", "{v}: {err}");
            assert_eq!(
                err.to_problem().to_string(),
                "nas1: replication.delete: rejected by the middleware: [ENOENT] ALL: Replication 999 does not exist"
            );
        }
        let job = c.job(987_654).await.expect_err("no such job");
        assert_eq!(job.code(), "zfleet::api::not_found", "{v}: {job}");
    }
}

#[tokio::test]
async fn core_13_lacks_pool_snapshot_and_sudo() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = simulated(dir.path(), "13.0", None).await;
    let err = c
        .call("pool.snapshot.query", vec![])
        .await
        .expect_err("no pool.snapshot on CORE");
    assert_eq!(err.code(), "zfleet::api::no_method", "{err}");
    let names = c.snapshot_names().await.expect("zfs.snapshot.query");
    assert!(names.iter().any(|n| n.starts_with("tank/data@")));
    let v: Value = c.call("system.version", vec![]).await.expect("version");
    assert!(
        v.as_str().is_some_and(|s| s.starts_with("TrueNAS-13")),
        "{v}"
    );
}
