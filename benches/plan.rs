//! `plan` and `apply` over 1, 10 and 100 embedded simulated systems, with the latency
//! `zfleet sim faults --rtt-ms 20 --midclt-ms 500` injects: 20 ms per round trip and 500 ms
//! per `midclt` start (the calls of a wave start together, so a wave pays it once).
//!
//! Each system holds `tank/ds00001…` and the config asks for one snapshot task per dataset
//! and one LOCAL replication of it (`tank/copyNNNNN` on the same system): 100 + 100 = 200
//! tasks per system (10 + 10 = 20 for the stage count). Each fleet is built once per size;
//! every run starts from a saved state (apply changes it).
//!
//! - plan: `read_fleet_scoped(.., for_plan = true)` + `plan::plan`, on the fleet with
//!   everything applied (no changes) and on the empty one (everything to create);
//! - apply: `apply::apply_all` of the plan from empty (the plan made untimed before);
//! - plan of one system of 200,000 snapshots vs one of 1,000, the config naming a dataset
//!   of 1,000.
//!
//! `cargo bench --bench plan` prints markdown tables for BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zfleet::inventory::FleetEntry;
use zfleet::model::Config;
use zfleet::plan::{Op, Plan};
use zfleet::progress::Progress;
use zfleet::sim::faults::{self, Faults};
use zfleet::sim::fleetgen;
use zfleet::sim::state::SimState;
use zfleet::transport::ConnectOptions;

// The binary's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PROJECT: &str = "bench";
const VERSION: &str = "25.10";
const RTT_MS: u64 = 20;
const MIDCLT_MS: u64 = 500;
/// Snapshots per dataset of the 1/10/100-system fleets (few: apply writes the whole state
/// at every change, and the simulator's writes are not what is measured).
const SNAPSHOTS: usize = 2;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// A fleet in a temp dir: its config, its state files and the states to start runs from.
struct Fleet {
    _dir: tempfile::TempDir,
    config: Config,
    states: Vec<PathBuf>,
    empty: Vec<SimState>,
    applied: Option<Vec<SimState>>,
}

fn system_name(i: usize) -> String {
    format!("sys{:03}", i + 1)
}

/// The config: per system, a snapshot task per dataset and a LOCAL replication of each.
fn config_text(systems: usize, datasets: usize) -> String {
    let mut y = format!("project: {PROJECT}\n\nsystems:\n");
    for i in 0..systems {
        y.push_str(&format!(
            "  {}: {{ simulator: {{ version: \"{VERSION}\" }} }}\n",
            system_name(i)
        ));
    }
    y.push_str("\nsnapshot_tasks:\n");
    for i in 0..systems {
        let s = system_name(i);
        for d in 1..=datasets {
            y.push_str(&format!(
                "  {s}-ds{d:05}:\n    system: {s}\n    dataset: tank/ds{d:05}\n    \
                 schedule: hourly\n    lifetime: 2 weeks\n"
            ));
        }
    }
    y.push_str("\nreplications:\n");
    for i in 0..systems {
        let s = system_name(i);
        for d in 1..=datasets {
            y.push_str(&format!(
                "  {s}-ds{d:05}-copy:\n    sources:\n      - {{ system: {s}, datasets: \
                 [tank/ds{d:05}], snapshot_tasks: [{s}-ds{d:05}] }}\n    target: {{ system: {s}, \
                 dataset: tank/copy{d:05} }}\n    schedule: with_snapshot_tasks\n    \
                 retention: source\n"
            ));
        }
    }
    y
}

/// Writes `systems` states of `datasets` datasets (and `snapshots` snapshots each), the
/// injected latency of each, and a config asking for `tasks` datasets' tasks.
fn build(systems: usize, datasets: usize, snapshots: usize, tasks: usize) -> Fleet {
    let dir = tempfile::tempdir().expect("tmp");
    let sim_dir = dir.path().join(".zfleet").join("sim").join(PROJECT);
    let mut states = Vec::new();
    for i in 0..systems {
        let name = system_name(i);
        let state = sim_dir.join(format!("{name}.json"));
        fleetgen::write_large_system(&state, VERSION, datasets, snapshots).expect("state");
        let f = Faults {
            rtt_ms: RTT_MS,
            midclt_ms: MIDCLT_MS,
            ..Faults::default()
        };
        faults::store(&sim_dir, &name, &f).expect("faults");
        states.push(state);
    }
    let file = dir.path().join("zfleet.yaml");
    std::fs::write(&file, config_text(systems, tasks)).expect("config");
    let config = zfleet::config::load(&file).unwrap_or_else(|p| panic!("config: {p:?}"));
    let empty = states
        .iter()
        .map(|s| zfleet::sim::load(s).expect("load"))
        .collect();
    Fleet {
        _dir: dir,
        config,
        states,
        empty,
        applied: None,
    }
}

fn restore(states: &[PathBuf], saved: &[SimState]) {
    for (path, st) in states.iter().zip(saved) {
        zfleet::sim::write_state(path, st).expect("restore");
    }
}

/// One plan: read every system for plan, then plan. Wall time, the plan, the fleet read,
/// and the most round trips a system took; the time of `plan::plan` alone goes to stderr
/// with `ZFLEET_BENCH_PART=plans`.
async fn plan_once(config: &Config) -> (Duration, Plan, Vec<FleetEntry>, u64) {
    let started = Instant::now();
    let fleet = zfleet::inventory::read_fleet_scoped(
        config,
        &ConnectOptions::default(),
        &Progress::hidden(),
        true,
    )
    .await;
    let read = started.elapsed();
    let plan = zfleet::plan::plan(config, &fleet, &zfleet::plan::build::Options::default());
    let took = started.elapsed();
    if std::env::var("ZFLEET_BENCH_PART").is_ok_and(|p| p == "plans") {
        eprintln!(
            "{} systems: read {}, plan::plan {}",
            fleet.len(),
            ms(read),
            ms(took - read)
        );
    }
    let trips = fleet
        .iter()
        .map(|e| match &e.result {
            Ok(inv) => inv.round_trips,
            Err(p) => panic!("{}: {p}", e.name),
        })
        .max()
        .unwrap_or(0);
    assert!(!plan.has_errors(), "{:?}", plan.problems);
    (took, plan, fleet, trips)
}

struct PlanRow {
    took: Duration,
    trips: u64,
}

/// `runs` plans of the fleet in the state `saved`, after a first one; checks every system
/// plans `creates` creates.
fn plan_runs(
    rt: &tokio::runtime::Runtime,
    fleet: &Fleet,
    saved: &[SimState],
    creates: usize,
    runs: usize,
) -> PlanRow {
    let mut times = Vec::new();
    let mut trips = 0;
    // A plan changes nothing: one restore, and a first untimed plan in which the simulator
    // parses the restored state files (a real system does not parse its state per plan).
    restore(&fleet.states, saved);
    rt.block_on(plan_once(&fleet.config));
    for _ in 0..runs {
        let (took, plan, _, t) = rt.block_on(plan_once(&fleet.config));
        for s in &plan.systems {
            assert_eq!(s.count(Op::Create), creates, "{}", s.system);
            assert_eq!(s.actions.len(), creates, "{}", s.system);
        }
        times.push(took);
        trips = trips.max(t);
    }
    PlanRow {
        took: median(times),
        trips,
    }
}

/// `runs` applies from empty; keeps the first applied states. Wall time of `apply_all`
/// alone and the most round trips a system took.
fn apply_runs(rt: &tokio::runtime::Runtime, fleet: &mut Fleet, runs: usize) -> PlanRow {
    let mut times = Vec::new();
    let mut trips = 0;
    for _ in 0..runs {
        restore(&fleet.states, &fleet.empty);
        let (_, plan, entries, _) = rt.block_on(plan_once(&fleet.config));
        let work: Vec<_> = plan
            .systems
            .iter()
            .map(|s| {
                let client = entries
                    .iter()
                    .find(|e| e.name == s.system)
                    .and_then(|e| e.client.clone())
                    .expect("client");
                (client, s.clone())
            })
            .collect();
        let options = zfleet::apply::Options::new(PROJECT);
        let started = Instant::now();
        let outcomes = rt.block_on(zfleet::apply::apply_all(work, &options, Arc::new(())));
        times.push(started.elapsed());
        for o in &outcomes {
            assert!(!o.failed(), "{}: {:?}", o.system, o);
            trips = trips.max(o.round_trips);
        }
        if fleet.applied.is_none() {
            fleet.applied = Some(
                fleet
                    .states
                    .iter()
                    .map(|s| zfleet::sim::load(s).expect("load"))
                    .collect(),
            );
        }
    }
    PlanRow {
        took: median(times),
        trips,
    }
}

fn fleets(rt: &tokio::runtime::Runtime) {
    const TASKS: usize = 100;
    let mut rows = Vec::new();
    // `ZFLEET_BENCH_SYSTEMS=1,10` measures those fleet sizes alone (for profiling).
    let sizes: Vec<(usize, usize)> = match std::env::var("ZFLEET_BENCH_SYSTEMS") {
        Ok(list) => list
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .map(|n| (n, if n == 1 { 5 } else { 3 }))
            .collect(),
        Err(_) => vec![(1, 5), (10, 3), (100, 3)],
    };
    for (n, runs) in sizes {
        let started = Instant::now();
        let mut fleet = build(n, TASKS, SNAPSHOTS, TASKS);
        let built = started.elapsed();
        let empty_states = fleet.empty.clone();
        let empty = plan_runs(rt, &fleet, &empty_states, 2 * TASKS, runs);
        let apply = apply_runs(rt, &mut fleet, runs);
        let applied_states = fleet.applied.clone().expect("applied");
        let applied = plan_runs(rt, &fleet, &applied_states, 0, runs);
        eprintln!("{n} systems: built in {}", ms(built));
        rows.push((n, runs, applied, empty, apply));
    }
    // The stage count with a tenth of the tasks.
    let mut small = build(1, TASKS / 10, SNAPSHOTS, TASKS / 10);
    let small_apply = apply_runs(rt, &mut small, 5);

    println!(
        "Per system: {TASKS} snapshot tasks + {TASKS} LOCAL replications (200 tasks) on {TASKS} \
         datasets of {SNAPSHOTS} snapshots; {RTT_MS} ms per round trip, {MIDCLT_MS} ms per midclt \
         start (simulator faults).\n"
    );
    println!(
        "| systems | runs | plan, no changes | plan, all to create | round trips per system (max) | apply from empty | apply round trips per system (max) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (n, runs, applied, empty, apply) in &rows {
        println!(
            "| {n} | {runs} | {} | {} | {} / {} | {} | {} |",
            ms(applied.took),
            ms(empty.took),
            applied.trips,
            empty.trips,
            ms(apply.took),
            apply.trips
        );
    }
    let first = &rows[0];
    let last = &rows[rows.len() - 1];
    let r_applied = last.2.took.as_secs_f64() / first.2.took.as_secs_f64();
    let r_empty = last.3.took.as_secs_f64() / first.3.took.as_secs_f64();
    let r_apply = last.4.took.as_secs_f64() / first.4.took.as_secs_f64();
    let plan_trips = rows.iter().all(|r| r.2.trips <= 2 && r.3.trips <= 2);
    println!(
        "\nApply of 1 system with {} + {} tasks: {} ({} round trips; {} with 200 tasks).\n",
        TASKS / 10,
        TASKS / 10,
        ms(small_apply.took),
        small_apply.trips,
        first.4.trips
    );
    println!(
        "Goals: plan round trips per system ≤ 2 ({}); plan 100/1 ≤ 1.5: no changes {r_applied:.2} \
         ({}), all to create {r_empty:.2} ({}); apply round trips independent of the tasks ({}); \
         apply 100/1 ≤ 2: {r_apply:.2} ({}).",
        met(plan_trips),
        met(r_applied <= 1.5),
        met(r_empty <= 1.5),
        met(small_apply.trips == first.4.trips),
        met(r_apply <= 2.0)
    );
}

/// One system at `state` with `datasets` datasets of 1,000 snapshots; a config with a
/// snapshot task and a LOCAL replication of `tank/ds00001`.
fn large_system(dir: &Path, datasets: usize) -> Config {
    let sim_dir = dir.join(".zfleet").join("sim").join(PROJECT);
    let state = sim_dir.join(format!("{}.json", system_name(0)));
    fleetgen::write_large_system(&state, VERSION, datasets, 1000).expect("state");
    let f = Faults {
        rtt_ms: RTT_MS,
        midclt_ms: MIDCLT_MS,
        ..Faults::default()
    };
    faults::store(&sim_dir, &system_name(0), &f).expect("faults");
    let file = dir.join("zfleet.yaml");
    std::fs::write(&file, config_text(1, 1)).expect("config");
    zfleet::config::load(&file).unwrap_or_else(|p| panic!("config: {p:?}"))
}

fn snapshots(rt: &tokio::runtime::Runtime) {
    const RUNS: usize = 5;
    let mut row = Vec::new();
    for datasets in [1usize, 200] {
        let dir = tempfile::tempdir().expect("tmp");
        let config = large_system(dir.path(), datasets);
        // Reads change nothing: no reset between runs. The first run parses the state.
        rt.block_on(plan_once(&config));
        let mut times = Vec::new();
        let mut trips = 0;
        for _ in 0..RUNS {
            let (took, plan, fleet, t) = rt.block_on(plan_once(&config));
            assert_eq!(plan.systems[0].count(Op::Create), 2);
            let inv = fleet[0].result.as_ref().expect("inventory");
            assert_eq!(inv.snapshots.len(), 1000);
            times.push(took);
            trips = trips.max(t);
        }
        row.push((median(times), trips));
    }
    let ratio = row[1].0.as_secs_f64() / row[0].0.as_secs_f64();
    println!(
        "\nPlan of one system whose config names `tank/ds00001` (1,000 snapshots), median of \
         {RUNS} after a first run:\n"
    );
    println!("| snapshots on the system | round trips | plan |");
    println!("|---:|---:|---:|");
    println!("| 1,000 | {} | {} |", row[0].1, ms(row[0].0));
    println!("| 200,000 | {} | {} |", row[1].1, ms(row[1].0));
    println!(
        "\nGoal: 200,000 within 1.5× of 1,000 ({ratio:.2}, {}).",
        met(ratio <= 1.5)
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // `ZFLEET_BENCH_PART=fleets` or `snapshots` runs one part alone.
    let part = std::env::var("ZFLEET_BENCH_PART").unwrap_or_default();
    if part.is_empty() || part == "fleets" {
        fleets(&rt);
    }
    // Plans alone (all to create), for profiling: `ZFLEET_BENCH_SYSTEMS` sizes.
    if part == "plans" {
        let sizes = std::env::var("ZFLEET_BENCH_SYSTEMS").unwrap_or_else(|_| "1,100".into());
        for n in sizes.split(',').filter_map(|n| n.trim().parse().ok()) {
            let fleet = build(n, 100, SNAPSHOTS, 100);
            let empty = fleet.empty.clone();
            let row = plan_runs(&rt, &fleet, &empty, 200, 5);
            eprintln!("{n} systems: plan median {}", ms(row.took));
        }
    }
    if part.is_empty() || part == "snapshots" {
        snapshots(&rt);
    }
}
