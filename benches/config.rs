//! Load + validate a generated config with 10,000 snapshot tasks and 5,000 replications.
//! Reports the median wall time over several runs and the peak heap in use.
//!
//!     cargo bench --bench config

use std::alloc::{GlobalAlloc, Layout};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

/// The binary's allocator (mimalloc), counting live heap bytes and their high-water mark
/// while `COUNTING` is set. Counting is off in the timed runs: its shared counters would slow
/// down the threads that parse in parallel.
struct Counting;

static INNER: mimalloc::MiMalloc = mimalloc::MiMalloc;
static COUNTING: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { INNER.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let size = layout.size() as i64;
            let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { INNER.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            CURRENT.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SYSTEMS: usize = 50;
const TASKS: usize = 10_000;
const REPLICATIONS: usize = 5_000;
const RUNS: usize = 21;

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

/// `RUNS` timed loads of `path`, sorted, in milliseconds.
fn timed_loads(path: &std::path::Path) -> Vec<f64> {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let config = zfleet::config::load(path)
            .unwrap_or_else(|p| panic!("generated config invalid: {:?}", p.first()));
        let elapsed = start.elapsed();
        assert_eq!(config.snapshot_tasks.len(), TASKS);
        assert_eq!(config.replications.len(), REPLICATIONS);
        drop(config);
        times.push(elapsed.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times
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
    let times = timed_loads(&path);
    zfleet::parallel::limit_threads(1);
    let one_thread = timed_loads(&path);
    zfleet::parallel::limit_threads(0);
    // Peak heap of one more run, counted from what was in use before it.
    COUNTING.store(true, Ordering::Relaxed);
    let config = zfleet::config::load(&path).expect("valid");
    COUNTING.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed).max(0);
    drop(config);
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
        "| load + validate on one thread, median | {:.1} ms |",
        one_thread[RUNS / 2]
    );
    println!(
        "| ratio one thread / {} threads | {:.2} |",
        zfleet::parallel::threads(),
        one_thread[RUNS / 2] / median
    );
    println!(
        "| of which reading, parsing and deserializing into the document, median | {:.1} ms |",
        parse_times[RUNS / 2]
    );
    println!(
        "| peak heap in use | {:.1} MiB |",
        peak as f64 / (1024.0 * 1024.0)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
