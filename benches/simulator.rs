//! The embedded simulator's own cost, no latency injected:
//!
//! - the inventory `zfleet systems` reads, over 1 and 100 generated embedded systems
//!   (20 datasets, 10 snapshot tasks and 10 replications each): the first read of the
//!   process (states parsed from their files) and the median of the reads after it;
//! - `pool.snapshot.query` for one dataset's 1,000 snapshots (`dataset =`, names only) on a
//!   system holding 200,000 snapshots and on one holding only those 1,000, and the same for
//!   the recursive form (`OR` of `dataset =` and `dataset ^`).
//!
//! `cargo bench --bench simulator` prints markdown tables for BENCHMARKS.md.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use zfleet::client::Client;
use zfleet::model::SimSystem;
use zfleet::sim::fleetgen::{self, FleetSpec};
use zfleet::transport::{EmbeddedTransport, Transport};

// The binary's allocator: with a thread per call, the allocator weighs on the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 11;
const QUERY_RUNS: usize = 51;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One inventory read of every system, as `zfleet systems` does it (open, then read all).
async fn read_fleet(states: &[std::path::PathBuf], fixtures: &Path) -> Duration {
    let started = Instant::now();
    let mut clients = Vec::new();
    for state in states {
        let name = state
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sim = SimSystem {
            fixture: Some(fixtures.join(format!("{name}.yaml"))),
            version: None,
            state_file: state.clone(),
        };
        let t = EmbeddedTransport::open(&sim, Duration::from_secs(60))
            .await
            .expect("open");
        clients.push(Arc::new(
            Client::new(name, Transport::Embedded(t)).with_tracer(None),
        ));
    }
    for (name, r) in zfleet::inventory::read_all(clients).await {
        let inv = r.unwrap_or_else(|p| panic!("{name}: {p}"));
        assert_eq!(inv.snapshot_tasks.len(), 10, "{name}");
    }
    started.elapsed()
}

fn inventory(rt: &tokio::runtime::Runtime) {
    println!(
        "Inventory reads (`zfleet systems`), no latency; first read of the process and median of {RUNS} after it.\n"
    );
    println!("| systems | first read | median read |");
    println!("|---:|---:|---:|");
    for n in [1usize, 100] {
        let dir = tempfile::tempdir().expect("tmp");
        let spec = FleetSpec {
            systems: n,
            datasets: 20,
            tasks: 10,
            seed: 1,
            version: Some("25.10".into()),
        };
        let generated = fleetgen::generate(dir.path(), &spec).expect("generate");
        let fixtures = dir.path().join("fixtures");
        let first = rt.block_on(read_fleet(&generated.states, &fixtures));
        let times = (0..RUNS)
            .map(|_| rt.block_on(read_fleet(&generated.states, &fixtures)))
            .collect();
        println!("| {n} | {} | {} |", ms(first), ms(median(times)));
    }
}

fn call(state: &Path, args: &[serde_json::Value]) -> Duration {
    let mut argv = vec!["call".to_string(), "pool.snapshot.query".to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let started = Instant::now();
    let out = zfleet::sim::midclt(state, &argv);
    let took = started.elapsed();
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(rows.as_array().map(Vec::len), Some(1000));
    took
}

fn queries() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big.json");
    let small = dir.path().join("small.json");
    let started = Instant::now();
    fleetgen::write_large_system(&big, "25.10", 200, 1000).expect("big");
    let made = started.elapsed();
    fleetgen::write_large_system(&small, "25.10", 1, 1000).expect("small");
    let flat = [
        json!([["dataset", "=", "tank/ds00001"]]),
        json!({"select": ["name"]}),
    ];
    let recursive = [
        json!([[
            "OR",
            [
                ["dataset", "=", "tank/ds00001"],
                ["dataset", "^", "tank/ds00001/"]
            ]
        ]]),
        json!({"select": ["name"]}),
    ];
    println!(
        "\n`pool.snapshot.query` of one dataset's 1,000 snapshots (names only), through the \
         simulator's midclt entry point; median of {QUERY_RUNS} after a first call. The \
         200,000-snapshot system was written in {}.\n",
        ms(made)
    );
    println!("| filter | 1,000 snapshots | 200,000 snapshots | ratio |");
    println!("|---|---:|---:|---:|");
    for (label, args) in [
        ("`dataset =`", &flat),
        ("`OR` of `dataset =`, `dataset ^`", &recursive),
    ] {
        let mut t = Vec::new();
        for state in [&small, &big] {
            call(state, args);
            t.push(median((0..QUERY_RUNS).map(|_| call(state, args)).collect()));
        }
        let ratio = t[1].as_secs_f64() / t[0].as_secs_f64();
        println!("| {label} | {} | {} | {ratio:.2} |", ms(t[0]), ms(t[1]));
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    inventory(&rt);
    queries();
}
