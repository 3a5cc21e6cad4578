//! Inventory of 1 vs 100 systems with 200 snapshot tasks and 200 replications each, with
//! injected latency: 20 ms per SSH round trip and 500 ms per `midclt` start (the calls of a
//! batch start together on the system, so a batch pays it once).
//!
//! `cargo bench --bench inventory` prints a markdown table for BENCHMARKS.md: round trips
//! per system and wall times (medians over several runs), and the 100/1 ratio.

#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zfleet::client::Client;
use zfleet::client::testing::{LatencyRunner, ScriptedRunner, failed};
use zfleet::transport::{MidcltCall, RawOutput};

const TASKS: usize = 200;
const SNAPSHOTS_PER_DATASET: usize = 24;
const ROUND_TRIP: Duration = Duration::from_millis(20);
const MIDCLT_START: Duration = Duration::from_millis(500);
const RUNS: usize = 5;

/// What a 25.10 system with `TASKS` datasets, tasks and replications prints, per method.
struct Payloads {
    by_method: Vec<(&'static str, String)>,
}

fn line(v: Value) -> String {
    format!("{v}\n")
}

fn payloads(system: usize) -> Payloads {
    let datasets: Vec<Value> = (0..TASKS)
        .map(|i| {
            json!({"id": format!("tank/ds{i}"), "type": "FILESYSTEM", "pool": "tank",
                "encrypted": false, "locked": false,
                "readonly": {"parsed": false, "rawvalue": "off", "value": "OFF", "source": "DEFAULT", "source_info": null},
                "user_properties": {"zfleet:owned": {"value": "homelab", "rawvalue": "homelab", "source": "LOCAL", "parsed": "homelab"}}})
        })
        .collect();
    let schedule = json!({"minute": "0", "hour": "*", "dom": "*", "month": "*", "dow": "*", "begin": "00:00", "end": "23:59"});
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| {
            json!({"id": i + 1, "dataset": format!("tank/ds{i}"), "recursive": false, "exclude": [],
                "lifetime_value": 2, "lifetime_unit": "WEEK", "naming_schema": "auto-%Y-%m-%d_%H-%M",
                "allow_empty": true, "enabled": true, "schedule": schedule, "vmware_sync": false,
                "state": {"state": "FINISHED", "datetime": {"$date": 1761829204000_i64},
                          "last_snapshot": format!("tank/ds{i}@auto-2025-10-30_13-00")}})
        })
        .collect();
    let replications: Vec<Value> = (0..TASKS)
        .map(|i| {
            json!({"id": i + 1, "name": format!("sys{system}-r{i}"), "direction": "PUSH", "transport": "SSH",
                "ssh_credentials": {"id": 3, "name": "backup", "type": "SSH_CREDENTIALS",
                    "attributes": {"host": "192.0.2.20", "port": 22, "username": "root", "private_key": 2,
                        "remote_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample", "connect_timeout": 10}},
                "sudo": false, "source_datasets": [format!("tank/ds{i}")], "target_dataset": format!("backup/sys{system}/ds{i}"),
                "recursive": false, "exclude": [], "properties": true, "properties_exclude": [], "properties_override": {},
                "replicate": false, "encryption": false, "encryption_inherit": null, "encryption_key": null,
                "encryption_key_format": null, "encryption_key_location": null,
                "periodic_snapshot_tasks": [tasks[i].clone()], "naming_schema": [], "also_include_naming_schema": [],
                "name_regex": null, "auto": true, "schedule": null, "restrict_schedule": null,
                "only_matching_schedule": false, "allow_from_scratch": false, "readonly": "SET",
                "hold_pending_snapshots": false, "retention_policy": "SOURCE", "lifetime_value": null,
                "lifetime_unit": null, "lifetimes": [], "compression": null, "speed_limit": null,
                "large_block": true, "embed": false, "compressed": true, "retries": 5, "logging_level": null,
                "enabled": true, "state": {"state": "FINISHED", "datetime": {"$date": 1761829241000_i64},
                "warnings": [], "last_snapshot": format!("tank/ds{i}@auto-2025-10-30_13-00")}, "job": null,
                "has_encrypted_dataset_keys": false})
        })
        .collect();
    let snapshots: Vec<Value> = (0..TASKS * SNAPSHOTS_PER_DATASET)
        .map(|i| json!({"name": format!("tank/ds{}@auto-2025-10-{:02}_{:02}-00", i % TASKS, 1 + (i / TASKS) / 24, (i / TASKS) % 24)}))
        .collect();
    Payloads {
        by_method: vec![
            ("system.version", "TrueNAS-25.10.1\n".to_string()),
            (
                "system.info",
                line(
                    json!({"version": "25.10.1", "hostname": format!("nas{system}"), "timezone": "UTC"}),
                ),
            ),
            ("pool.dataset.query", line(Value::Array(datasets))),
            ("pool.snapshot.query", line(Value::Array(snapshots))),
            ("pool.snapshottask.query", line(Value::Array(tasks))),
            ("replication.query", line(Value::Array(replications))),
            (
                "service.query",
                line(
                    json!([{"id": 9, "service": "ssh", "enable": true, "state": "RUNNING", "pids": [1]}]),
                ),
            ),
            (
                "ssh.config",
                line(json!({"id": 1, "tcpport": 22, "passwordauth": false})),
            ),
            ("keychaincredential.query", line(json!([]))),
            (
                "user.query",
                line(json!([{"id": 1, "uid": 0, "username": "root", "home": "/root"}])),
            ),
        ],
    }
}

fn system(i: usize) -> Arc<Client<LatencyRunner<ScriptedRunner>>> {
    let p = payloads(i);
    let runner = ScriptedRunner::new(move |c: &MidcltCall| -> RawOutput {
        match p.by_method.iter().find(|(m, _)| *m == c.method) {
            Some((_, out)) => RawOutput {
                stdout: out.clone(),
                stderr: String::new(),
                exit: 0,
            },
            None => failed("Method does not exist\n"),
        }
    });
    Arc::new(
        Client::new(
            format!("nas{i}"),
            LatencyRunner {
                inner: runner,
                round_trip: ROUND_TRIP,
                per_midclt: MIDCLT_START,
            },
        )
        .with_tracer(None),
    )
}

/// One fleet read: wall time and the round trips each system took.
async fn read_fleet(n: usize) -> (Duration, Vec<u64>) {
    let clients: Vec<_> = (0..n).map(system).collect();
    let started = Instant::now();
    let results = zfleet::inventory::read_all(clients).await;
    let took = started.elapsed();
    let trips = results
        .into_iter()
        .map(|(name, r)| match r {
            Ok(inv) => {
                assert_eq!(inv.snapshot_tasks.len(), TASKS, "{name}");
                assert_eq!(inv.replications.len(), TASKS, "{name}");
                inv.round_trips
            }
            Err(p) => panic!("{name}: {p}"),
        })
        .collect();
    (took, trips)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for n in [1usize, 100] {
        let mut times = Vec::new();
        let mut max_trips = 0;
        for _ in 0..RUNS {
            let (t, trips) = rt.block_on(read_fleet(n));
            max_trips = max_trips.max(trips.into_iter().max().unwrap_or(0));
            times.push(t);
        }
        rows.push((n, max_trips, median(times)));
    }
    let base = rows[0].2.as_secs_f64();
    println!(
        "Inventory, {TASKS} snapshot tasks + {TASKS} replications + {} snapshots per system; \
         {} ms per round trip, {} ms per midclt start; median of {RUNS} runs.\n",
        TASKS * SNAPSHOTS_PER_DATASET,
        ROUND_TRIP.as_millis(),
        MIDCLT_START.as_millis()
    );
    println!("| systems | round trips per system (max) | wall time (median) | ratio to 1 system |");
    println!("|---:|---:|---:|---:|");
    for (n, trips, t) in &rows {
        println!(
            "| {n} | {trips} | {:.0} ms | {:.2} |",
            t.as_secs_f64() * 1000.0,
            t.as_secs_f64() / base
        );
    }
    let ratio = rows[1].2.as_secs_f64() / base;
    println!(
        "\nGoals: round trips per system ≤ 2 ({}), wall-time ratio 100/1 ≤ 1.5 ({ratio:.2}, {}).",
        if rows.iter().all(|r| r.1 <= 2) {
            "met"
        } else {
            "MISSED"
        },
        if ratio <= 1.5 { "met" } else { "MISSED" }
    );
}
