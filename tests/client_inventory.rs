//! Inventory reads: round trips per system are constant whatever the system holds, and
//! one failing system does not hold up the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zfleet::client::testing::{LatencyRunner, ScriptedRunner, failed, ok_json, ok_raw};
use zfleet::client::{Client, Version};
use zfleet::transport::{MidcltCall, RawOutput};

fn big_system(version: &'static str, tasks: usize) -> ScriptedRunner {
    ScriptedRunner::new(move |c: &MidcltCall| respond(version, tasks, c))
}

/// A system with `tasks` datasets, snapshot tasks and replications, 10 snapshots each.
fn respond(version: &str, tasks: usize, c: &MidcltCall) -> RawOutput {
    let snapshot_ns = if version.starts_with("TrueNAS-25.10") {
        "pool.snapshot"
    } else {
        "zfs.snapshot"
    };
    {
        let m = c.method.as_str();
        if m == format!("{snapshot_ns}.query") {
            let names: Vec<Value> = (0..tasks * 10)
                .map(|i| json!({"name": format!("tank/ds{}@auto-{i:05}", i % tasks)}))
                .collect();
            return ok_json(&Value::Array(names));
        }
        match m {
            "system.version" => ok_raw(version),
            "system.info" => ok_json(&json!({"version": "x", "hostname": "nas", "timezone": "UTC"})),
            "pool.dataset.query" => ok_json(&Value::Array(
                (0..tasks)
                    .map(|i| json!({"id": format!("tank/ds{i}"), "type": "FILESYSTEM", "pool": "tank",
                        "encrypted": false, "locked": false,
                        "readonly": {"parsed": false, "rawvalue": "off", "value": "OFF", "source": "DEFAULT", "source_info": null},
                        "user_properties": {}}))
                    .collect(),
            )),
            "pool.snapshottask.query" => ok_json(&Value::Array(
                (0..tasks)
                    .map(|i| json!({"id": i + 1, "dataset": format!("tank/ds{i}"), "recursive": false,
                        "exclude": [], "lifetime_value": 2, "lifetime_unit": "WEEK",
                        "naming_schema": "auto-%Y-%m-%d_%H-%M", "allow_empty": true, "enabled": true,
                        "schedule": {"minute": "0", "hour": "*", "dom": "*", "month": "*", "dow": "*", "begin": "00:00", "end": "23:59"},
                        "vmware_sync": false, "state": {"state": "PENDING"}}))
                    .collect(),
            )),
            "replication.query" => ok_json(&Value::Array(
                (0..tasks)
                    .map(|i| json!({"id": i + 1, "name": format!("r{i}"), "direction": "PUSH", "transport": "LOCAL",
                        "ssh_credentials": null, "source_datasets": [format!("tank/ds{i}")],
                        "target_dataset": format!("tank/copy{i}"), "recursive": false, "auto": true,
                        "retention_policy": "SOURCE", "periodic_snapshot_tasks": [{"id": i + 1}],
                        "encryption_key": null, "state": {"state": "PENDING"}, "job": null}))
                    .collect(),
            )),
            "service.query" => ok_json(&json!([{"id": 9, "service": "ssh", "enable": true, "state": "RUNNING", "pids": [1]}])),
            "ssh.config" => ok_json(&json!({"id": 1, "tcpport": 22, "passwordauth": false})),
            "keychaincredential.query" => ok_json(&json!([])),
            "user.query" => ok_json(&json!([{"id": 1, "uid": 0, "username": "root"}])),
            other => failed(&format!("[ENOMETHOD] Method '{other}' not found\nTraceback (most recent call last):\n")),
        }
    }
}

#[tokio::test]
async fn two_round_trips_whatever_the_size() {
    for tasks in [1, 10, 200] {
        for version in [
            "TrueNAS-25.10.1",
            "TrueNAS-SCALE-24.04.2",
            "TrueNAS-13.0-U6.2",
        ] {
            let c = Client::new("nas", big_system(version, tasks)).with_tracer(None);
            let inv = zfleet::inventory::read(&c).await.expect("inventory");
            assert_eq!(inv.round_trips, 2, "{version} {tasks}");
            assert_eq!(inv.snapshot_tasks.len(), tasks);
            assert_eq!(inv.replications.len(), tasks);
            assert_eq!(inv.datasets.len(), tasks);
            assert_eq!(inv.snapshots.len(), tasks * 10);
            let batches = c.runner().batches();
            assert_eq!(batches.len(), 2);
            assert_eq!(batches[0][0].method, "system.version");
            assert_eq!(
                batches[0].len(),
                10,
                "everything version-independent rides along"
            );
            assert_eq!(batches[1].len(), 1);
            assert!(batches[1][0].method.ends_with("snapshot.query"));
            assert_eq!(
                batches[1][0].args,
                vec![json!([]), json!({"select": ["name"]})]
            );
        }
    }
}

#[tokio::test]
async fn a_known_version_needs_one_round_trip() {
    let v = Version::parse("TrueNAS-25.10.1").expect("version");
    let c = Client::new("nas", big_system("TrueNAS-25.10.1", 5))
        .with_tracer(None)
        .with_version(v);
    let inv = zfleet::inventory::read(&c).await.expect("inventory");
    assert_eq!(inv.round_trips, 1);
    assert_eq!(inv.snapshots.len(), 50);
    assert_eq!(inv.snapshots_of("tank/ds0").count(), 10);
    assert!(inv.ssh_service.running());
}

#[tokio::test]
async fn systems_are_read_concurrently_and_failures_stay_local() {
    let slow = |version: &'static str| LatencyRunner {
        inner: big_system(version, 20),
        round_trip: Duration::from_millis(50),
        per_midclt: Duration::from_millis(100),
    };
    let mut clients: Vec<Arc<Client<LatencyRunner<ScriptedRunner>>>> = (0..30)
        .map(|i| {
            Arc::new(Client::new(format!("nas{i:02}"), slow("TrueNAS-25.10.1")).with_tracer(None))
        })
        .collect();
    clients.push(Arc::new(
        Client::new("broken", slow("FreeNAS-11.3")).with_tracer(None),
    ));
    let started = Instant::now();
    let results = zfleet::inventory::read_all(clients).await;
    let took = started.elapsed();
    // 2 round trips × 150 ms each; sequential reading would take 31 × 300 ms.
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(results.len(), 31);
    assert_eq!(results[0].0, "nas00");
    assert!(results[..30].iter().all(|(_, r)| r.is_ok()));
    let (name, r) = &results[30];
    assert_eq!(name, "broken");
    let p = r.as_ref().expect_err("broken fails");
    assert_eq!(p.code, "zfleet::api::unsupported_version");
    assert_eq!(p.system.as_deref(), Some("broken"));
}

#[tokio::test]
async fn a_failing_query_names_its_method() {
    let r = ScriptedRunner::new(|c: &MidcltCall| match c.method.as_str() {
        "system.version" => ok_raw("TrueNAS-25.10.1"),
        "keychaincredential.query" => {
            failed("[EACCES] Not authorized\nTraceback (most recent call last):\n")
        }
        _ => respond("TrueNAS-25.10.1", 3, c),
    });
    let c = Client::new("nas1", r).with_tracer(None);
    let p = zfleet::inventory::read(&c).await.expect_err("fails");
    assert_eq!(p.code, "zfleet::api::not_authorized");
    assert_eq!(p.object.as_deref(), Some("keychaincredential.query"));
}
