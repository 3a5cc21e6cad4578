//! Load + validate a generated config with 10,000 snapshot tasks and 5,000 replications.
//! Reports the median wall time over several runs and the peak heap in use.
//!
//!     cargo bench --bench config

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live heap bytes and their high-water mark.
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SYSTEMS: usize = 50;
const TASKS: usize = 10_000;
const REPLICATIONS: usize = 5_000;
const RUNS: usize = 11;

fn generate() -> String {
    let mut y = String::from(
        "# yaml-language-server: $schema=../schemas/zfleet.schema.json\nproject: bench\nsystems:\n",
    );
    for s in 0..SYSTEMS {
        let _ = writeln!(
            y,
            "  nas{s}: {{ host: nas{s}.example.lan, user: truenas_admin }}"
        );
    }
    y.push_str("  backup: { host: backup.example.lan }\nsnapshot_tasks:\n");
    let schedules = [
        "hourly",
        "daily",
        "\"0 */4 * * 1-5\"",
        "{ every: weekly, day: saturday, at: \"03:00\" }",
        "{ minute: \"15\", hour: \"*\", begin: \"08:00\", end: \"18:00\" }",
    ];
    for t in 0..TASKS {
        let _ = writeln!(
            y,
            "  task-{t}:\n    system: nas{}\n    dataset: tank/d{t}\n    recursive: {}\n    schedule: {}\n    lifetime: {} weeks",
            t % SYSTEMS,
            t % 2 == 0,
            schedules[t % schedules.len()],
            1 + t % 8
        );
    }
    y.push_str("replications:\n");
    for r in 0..REPLICATIONS {
        let t = 2 * r;
        let _ = writeln!(
            y,
            "  rep-{r}:\n    sources:\n      - {{ system: nas{}, datasets: [tank/d{t}], snapshot_tasks: [task-{t}] }}\n    target: {{ system: backup, dataset: backup/r{r} }}\n    recursive: {}\n    retention: {}",
            t % SYSTEMS,
            t % 2 == 0,
            if r % 3 == 0 {
                "{ custom: 8 weeks }"
            } else {
                "source"
            }
        );
    }
    y
}

fn main() {
    let dir = std::env::temp_dir().join(format!("zfleet-bench-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("zfleet.yaml");
    let text = generate();
    std::fs::write(&path, &text).expect("write config");

    let mut parse_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let doc = zfleet::config::load::read(&path).expect("parse");
        parse_times.push(start.elapsed().as_secs_f64() * 1000.0);
        drop(doc);
    }
    parse_times.sort_by(f64::total_cmp);
    let mut times = Vec::with_capacity(RUNS);
    let mut peak = 0;
    for _ in 0..RUNS {
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        let config = zfleet::config::load(&path)
            .unwrap_or_else(|p| panic!("generated config invalid: {:?}", p.first()));
        let elapsed = start.elapsed();
        assert_eq!(config.snapshot_tasks.len(), TASKS);
        assert_eq!(config.replications.len(), REPLICATIONS);
        drop(config);
        times.push(elapsed.as_secs_f64() * 1000.0);
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
    }
    times.sort_by(f64::total_cmp);
    let median = times[RUNS / 2];
    println!(
        "config: {} bytes, {TASKS} snapshot tasks, {REPLICATIONS} replications, {RUNS} runs",
        text.len()
    );
    println!("| measure | value |\n|---|---|");
    println!("| load + validate, median | {median:.1} ms |");
    println!(
        "| load + validate, min / max | {:.1} / {:.1} ms |",
        times[0],
        times[RUNS - 1]
    );
    println!(
        "| of which YAML parse into the document, median | {:.1} ms |",
        parse_times[RUNS / 2]
    );
    println!(
        "| peak heap in use | {:.1} MiB |",
        peak as f64 / (1024.0 * 1024.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
