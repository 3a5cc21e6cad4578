//! The embedded simulator keeps each state in memory: it sees what other processes write,
//! persists its own changes, and runs the calls of a batch at once, latency included.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zfleet::model::SimSystem;
use zfleet::transport::{EmbeddedTransport, MidcltCall};

fn zfleet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_zfleet"))
}

fn argv(method: &str, args: &[Value]) -> Vec<String> {
    let mut v = vec!["call".to_string(), method.to_string()];
    v.extend(args.iter().map(Value::to_string));
    v
}

/// The snapshot names of `dataset`, read in this process.
fn names(state: &Path, dataset: &str) -> Vec<String> {
    let out = zfleet::sim::midclt(
        state,
        &argv(
            "pool.snapshot.query",
            &[
                json!([["dataset", "=", dataset]]),
                json!({"select": ["name"]}),
            ],
        ),
    );
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).expect("json");
    rows.iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

fn large(dir: &Path, name: &str, datasets: usize, per_dataset: usize) -> std::path::PathBuf {
    let state = dir.join(format!("{name}.json"));
    zfleet::sim::fleetgen::write_large_system(&state, "25.10", datasets, per_dataset)
        .expect("write");
    state
}

#[test]
fn another_process_changes_are_seen_by_the_next_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = large(dir.path(), "nas1", 2, 3);
    assert_eq!(names(&state, "tank/ds00001").len(), 3);
    let out = zfleet()
        .args(["sim", "midclt", "--state"])
        .arg(&state)
        .args(argv(
            "pool.snapshot.create",
            &[json!({"dataset": "tank/ds00001", "name": "manual"})],
        ))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = names(&state, "tank/ds00001");
    assert_eq!(after.len(), 4);
    assert!(after.contains(&"tank/ds00001@manual".to_string()));

    // And a whole other state put in its place (as `sim reset` and a new seed do).
    let other = large(dir.path(), "other", 1, 5);
    std::fs::rename(&other, &state).expect("rename");
    assert_eq!(names(&state, "tank/ds00001").len(), 5);
}

#[test]
fn sim_advance_in_another_process_is_seen() {
    let dir = tempfile::tempdir().expect("tmp");
    let generated = zfleet::sim::fleetgen::generate(
        dir.path(),
        &zfleet::sim::fleetgen::FleetSpec {
            systems: 1,
            datasets: 1,
            tasks: 1,
            seed: 1,
            version: Some("25.10".into()),
        },
    )
    .expect("generate");
    let state = &generated.states[0];
    let before = names(state, "tank/ds001");
    assert_eq!(before.len(), 24);
    let out = zfleet()
        .args(["sim", "advance", "--state"])
        .arg(dir.path())
        .arg("3h")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = names(state, "tank/ds001");
    assert_eq!(after.len(), 27, "three hourly snapshots more: {after:?}");
}

#[test]
fn changes_are_persisted_once_made() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = large(dir.path(), "nas1", 1, 1);
    let out = zfleet::sim::midclt(
        &state,
        &argv(
            "pool.snapshot.create",
            &[json!({"dataset": "tank/ds00001", "name": "kept"})],
        ),
    );
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("read")).expect("json");
    assert!(on_disk["snapshots"].get("tank/ds00001@kept").is_some());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Another process reads it from the file.
    let out = zfleet()
        .args(["sim", "midclt", "--state"])
        .arg(&state)
        .args(argv(
            "pool.snapshot.query",
            &[
                json!([["name", "=", "tank/ds00001@kept"]]),
                json!({"count": true}),
            ],
        ))
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
}

#[test]
fn reads_leave_the_file_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = large(dir.path(), "nas1", 1, 2);
    let before = std::fs::metadata(&state).expect("meta").modified().ok();
    for _ in 0..3 {
        assert_eq!(names(&state, "tank/ds00001").len(), 2);
    }
    assert_eq!(
        std::fs::metadata(&state).expect("meta").modified().ok(),
        before
    );
}

#[test]
fn a_batch_with_midclt_latency_takes_about_one_latency() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = large(dir.path(), "nas1", 1, 2);
    zfleet::sim::faults::store(
        dir.path(),
        "nas1",
        &zfleet::sim::faults::Faults {
            midclt_ms: 300,
            ..Default::default()
        },
    )
    .expect("faults");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = SimSystem {
        fixture: None,
        version: Some("25.10".into()),
        state_file: state.clone(),
    };
    let calls: Vec<MidcltCall> = (0..8)
        .map(|i| MidcltCall {
            method: if i % 2 == 0 {
                "system.version".into()
            } else {
                "pool.snapshot.query".into()
            },
            args: Vec::new(),
        })
        .collect();
    let (took, outputs) = rt.block_on(async {
        let t = EmbeddedTransport::open(&sim, Duration::from_secs(30))
            .await
            .expect("open");
        let started = Instant::now();
        let outputs = t.midclt_batch(&calls).await.expect("batch");
        (started.elapsed(), outputs)
    });
    assert_eq!(outputs.len(), 8);
    assert!(outputs.iter().all(|o| o.exit == 0));
    assert_eq!(outputs[0].stdout, "TrueNAS-25.10.1\n");
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(600), "8 calls took {took:?}");
    // The batch's calls were all counted.
    let counters = zfleet::sim::faults::counters(dir.path()).expect("counters");
    assert_eq!(counters["nas1"].midclt, 8);
}

#[test]
fn a_batch_of_an_embedded_system_waits_its_round_trip_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = large(dir.path(), "nas1", 1, 2);
    zfleet::sim::faults::store(
        dir.path(),
        "nas1",
        &zfleet::sim::faults::Faults {
            rtt_ms: 300,
            ..Default::default()
        },
    )
    .expect("faults");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = SimSystem {
        fixture: None,
        version: Some("25.10".into()),
        state_file: state.clone(),
    };
    // Two waves of calls, one round trip.
    let calls: Vec<MidcltCall> = (0..20)
        .map(|_| MidcltCall {
            method: "system.version".into(),
            args: Vec::new(),
        })
        .collect();
    let (took, outputs) = rt.block_on(async {
        let t = EmbeddedTransport::open(&sim, Duration::from_secs(30))
            .await
            .expect("open");
        let started = Instant::now();
        let outputs = t.midclt_batch(&calls).await.expect("batch");
        (started.elapsed(), outputs)
    });
    assert_eq!(outputs.len(), 20);
    assert!(outputs.iter().all(|o| o.stdout == "TrueNAS-25.10.1\n"));
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(600), "20 calls took {took:?}");
}
