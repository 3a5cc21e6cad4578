//! Fault injection and usage counters for simulated systems.
//!
//! Both live in the fleet directory beside the state files, so every process that plays a
//! part (the SSH server, each `midclt` invocation, the test driving them) sees the same
//! settings and adds to the same counts:
//!
//! - `DIR/<system>.faults.json`: what goes wrong on that system ([`Faults`]).
//! - `DIR/.counters.json`: connections, execs and midclt invocations per system, updated
//!   under an exclusive lock on `DIR/.counters.lock` and replaced atomically (write + rename),
//!   so concurrent `midclt` processes never lose a count.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::sim::faults_io",
        summary: "the simulator could not read or write a fault or counter file in the fleet directory",
    },
    CodeInfo {
        code: "zfleet::sim::faults_invalid",
        summary: "a fault file of the simulated fleet is not valid JSON of the expected shape",
    },
];

/// What goes wrong on one simulated system. Every field defaults to "nothing wrong".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay the SSH server adds before running each exec, and the embedded transport before
    /// each batch (one network round trip).
    pub rtt_ms: u64,
    /// Delay each `midclt` invocation takes before answering (the real one starts Python).
    pub midclt_ms: u64,
    /// Drop the connection in the middle of the exec that follows this many completed
    /// execs on the same connection (`0` drops the first one).
    pub drop_after: Option<u64>,
    /// Methods whose calls fail with a CallError.
    pub fail: Vec<String>,
    /// Methods whose calls end in `Call timeout`.
    pub timeout: Vec<String>,
    /// The middleware is not running: every midclt call fails to connect.
    pub stop_middleware: bool,
    /// Running replications make no more progress (a stalled link): their jobs stay
    /// RUNNING at the progress they last reported, as the middleware shows a stuck send.
    pub stall_jobs: bool,
}

/// Use counts of one simulated system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    pub connections: u64,
    pub execs: u64,
    pub midclt: u64,
}

/// Which counter to add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Connections,
    Execs,
    Midclt,
}

/// The fleet directory and system name of a state file `DIR/<system>.json`.
pub fn locate(state_file: &Path) -> (PathBuf, String) {
    let dir = match state_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let system = state_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, system)
}

pub fn faults_path(dir: &Path, system: &str) -> PathBuf {
    dir.join(format!("{system}.faults.json"))
}

fn io_problem(path: &Path, e: impl std::fmt::Display) -> Problem {
    Problem::error(
        "zfleet::sim::faults_io",
        format!("cannot access {}: {e}", path.display()),
    )
    .object(path.display().to_string())
    .help("check that the fleet directory exists and is writable")
}

/// Reads a system's faults; a missing file means no faults.
pub fn load(dir: &Path, system: &str) -> Result<Faults, Problem> {
    let path = faults_path(dir, system);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Problem::error(
                "zfleet::sim::faults_invalid",
                format!("invalid fault file {}: {e}", path.display()),
            )
            .system(system)
            .help("rewrite it with `zfleet sim faults --state DIR SYSTEM ...` or delete it")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Faults::default()),
        Err(e) => Err(io_problem(&path, e).system(system)),
    }
}

/// Writes a system's faults (an all-default value removes the file).
pub fn store(dir: &Path, system: &str, faults: &Faults) -> Result<(), Problem> {
    let path = faults_path(dir, system);
    if *faults == Faults::default() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_problem(&path, e)),
            _ => Ok(()),
        };
    }
    let text = serde_json::to_string_pretty(faults).map_err(|e| io_problem(&path, e))?;
    write_atomic(&path, text.as_bytes())
}

/// Replaces `path` with `bytes` so readers see the old or the new content, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Problem> {
    replace(path, bytes, true)
}

/// Replaces `path` with `bytes` as [`write_atomic`] does; `durable` also waits for the disk
/// (counts can do without: readers still see a whole file).
fn replace(path: &Path, bytes: &[u8], durable: bool) -> Result<(), Problem> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_problem(path, e)
    })
}

fn counters_path(dir: &Path) -> PathBuf {
    dir.join(".counters.json")
}

/// Holds the fleet's counter lock while alive.
struct CounterLock(File);

impl CounterLock {
    fn take(dir: &Path) -> Result<Self, Problem> {
        let path = dir.join(".counters.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_problem(&path, e))?;
        file.lock().map_err(|e| io_problem(&path, e))?;
        Ok(CounterLock(file))
    }
}

impl Drop for CounterLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn read_counters(dir: &Path) -> BTreeMap<String, Counters> {
    std::fs::read_to_string(counters_path(dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Adds one to a system's counter.
pub fn count(dir: &Path, system: &str, which: Counter) -> Result<(), Problem> {
    count_many(dir, system, which, 1)
}

fn count_many(dir: &Path, system: &str, which: Counter, n: u64) -> Result<(), Problem> {
    let _lock = CounterLock::take(dir)?;
    let mut all = read_counters(dir);
    let c = all.entry(system.to_string()).or_default();
    match which {
        Counter::Connections => c.connections += n,
        Counter::Execs => c.execs += n,
        Counter::Midclt => c.midclt += n,
    }
    let text = serde_json::to_string_pretty(&all).map_err(|e| io_problem(dir, e))?;
    replace(&counters_path(dir), text.as_bytes(), false)
}

/// The batches running in this process, per system: how many, and the midclt calls they
/// made, counted in memory and written once when the system's last batch ends (so that the
/// calls of a batch do not queue for the fleet's counter file one by one).
type Batches = BTreeMap<(PathBuf, String), (usize, u64)>;

fn batches() -> std::sync::MutexGuard<'static, Batches> {
    static BATCHES: std::sync::Mutex<Batches> = std::sync::Mutex::new(BTreeMap::new());
    BATCHES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A batch of calls on one system in this process (see [`batch`]).
pub struct Batch {
    key: (PathBuf, String),
    /// The system's round trip latency, which the batch waits once (it is one exec).
    pub round_trip: Duration,
    /// The system's midclt latency, which the batch waits once per wave itself.
    pub midclt_latency: Duration,
}

/// Starts a batch on the system of `state_file`: while it lives, midclt calls there are
/// counted in memory and do not wait the injected midclt latency, which the batch waits
/// itself, once for the calls it starts together (as they start at once on a system).
pub fn batch(state_file: &Path) -> Batch {
    let key = locate(state_file);
    let faults = load(&key.0, &key.1).unwrap_or_default();
    batches().entry(key.clone()).or_default().0 += 1;
    Batch {
        key,
        round_trip: Duration::from_millis(faults.rtt_ms),
        midclt_latency: Duration::from_millis(faults.midclt_ms),
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let pending = {
            let mut all = batches();
            let Some(entry) = all.get_mut(&self.key) else {
                return;
            };
            entry.0 = entry.0.saturating_sub(1);
            if entry.0 > 0 {
                return;
            }
            all.remove(&self.key).map_or(0, |e| e.1)
        };
        if pending > 0 {
            // Counting must never break a call: a read-only fleet dir just goes uncounted.
            let _ = count_many(&self.key.0, &self.key.1, Counter::Midclt, pending);
        }
    }
}

/// Counts one midclt call, in memory while a batch runs on the system; returns whether one
/// does (its latency is then the batch's to wait).
fn count_midclt(dir: &Path, system: &str) -> bool {
    {
        let mut all = batches();
        if let Some(entry) = all.get_mut(&(dir.to_path_buf(), system.to_string())) {
            entry.1 += 1;
            return true;
        }
    }
    // Counting must never break a call: a read-only fleet dir just goes uncounted.
    let _ = count(dir, system, Counter::Midclt);
    false
}

/// Every system's counters (systems never used are absent).
pub fn counters(dir: &Path) -> Result<BTreeMap<String, Counters>, Problem> {
    let _lock = CounterLock::take(dir)?;
    Ok(read_counters(dir))
}

/// Drops a system's counters (the system left the fleet).
pub fn forget(dir: &Path, system: &str) -> Result<(), Problem> {
    if !counters_path(dir).exists() {
        return Ok(());
    }
    let _lock = CounterLock::take(dir)?;
    let mut all = read_counters(dir);
    if all.remove(system).is_none() {
        return Ok(());
    }
    let text = serde_json::to_string_pretty(&all).map_err(|e| io_problem(dir, e))?;
    write_atomic(&counters_path(dir), text.as_bytes())
}

/// Sets every counter of the fleet back to zero.
pub fn reset_counters(dir: &Path) -> Result<(), Problem> {
    let _lock = CounterLock::take(dir)?;
    match std::fs::remove_file(counters_path(dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_problem(dir, e)),
        _ => Ok(()),
    }
}

/// The method a midclt argv calls, if it is a `call`: skips global options before `call`
/// and the call's own options after it.
fn called_method(argv: &[String]) -> Option<&str> {
    let mut it = argv.iter();
    // Global options, some with a value.
    loop {
        let a = it.next()?;
        match a.as_str() {
            "call" => break,
            "-u" | "--uri" | "-U" | "--username" | "-P" | "--password" | "-K" | "--api-key"
            | "-t" | "--timeout" => {
                it.next()?;
            }
            s if s.starts_with('-') => {}
            _ => return None,
        }
    }
    loop {
        let a = it.next()?;
        match a.as_str() {
            "-jp" | "--job-print" => {
                it.next()?;
            }
            s if s.starts_with('-') => {}
            s => return Some(s),
        }
    }
}

/// What an injected fault makes midclt print, mirroring the real failure.
fn faulted_output(faults: &Faults, argv: &[String]) -> Option<super::MidcltOutput> {
    if faults.stop_middleware {
        return Some(super::MidcltOutput {
            stdout: String::new(),
            stderr: "Failed to run middleware call. Daemon not running?\n".into(),
            exit: 1,
        });
    }
    let method = called_method(argv)?;
    if faults.timeout.iter().any(|m| m == method) {
        return Some(super::MidcltOutput {
            stdout: String::new(),
            stderr: "Call timeout\n".into(),
            exit: 1,
        });
    }
    if faults.fail.iter().any(|m| m == method) {
        return Some(super::MidcltOutput {
            stdout: String::new(),
            stderr: format!(
                "[EFAULT] Injected failure of {method}\nTraceback (most recent call last):\n  \
                 File \"/usr/lib/python3/dist-packages/middlewared/main.py\", line 211, in call_method\n    \
                 result = await self.middleware.call_with_audit(message['method'], serviceobj, methodobj, params, self)\n\
                 middlewared.service_exception.CallError: [EFAULT] Injected failure of {method}\n"
            ),
            exit: 1,
        });
    }
    None
}

/// The one call `sim::midclt` makes before doing anything: counts the invocation, waits
/// the configured midclt latency (unless a [`batch`] waits it), and returns the output of an injected failure if one
/// applies (the call must then not run).
pub fn before_midclt(state_file: &Path, argv: &[String]) -> Option<super::MidcltOutput> {
    let (dir, system) = locate(state_file);
    let in_batch = count_midclt(&dir, &system);
    let faults = load(&dir, &system).unwrap_or_default();
    if faults.midclt_ms > 0 && !in_batch {
        std::thread::sleep(Duration::from_millis(faults.midclt_ms));
    }
    faulted_output(&faults, argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn method_found_after_global_and_call_options() {
        assert_eq!(
            called_method(&argv(&["-t", "30", "call", "-j", "replication.run", "1"])),
            Some("replication.run")
        );
        assert_eq!(
            called_method(&argv(&["call", "-jp", "description", "core.get_jobs"])),
            Some("core.get_jobs")
        );
        assert_eq!(called_method(&argv(&["ping"])), None);
    }

    #[test]
    fn counters_accumulate_per_system_and_reset() {
        let dir = tempfile::tempdir().unwrap();
        count(dir.path(), "nas1", Counter::Connections).unwrap();
        count(dir.path(), "nas1", Counter::Midclt).unwrap();
        count(dir.path(), "nas1", Counter::Midclt).unwrap();
        count(dir.path(), "nas2", Counter::Execs).unwrap();
        let all = counters(dir.path()).unwrap();
        assert_eq!(
            all["nas1"],
            Counters {
                connections: 1,
                execs: 0,
                midclt: 2
            }
        );
        assert_eq!(all["nas2"].execs, 1);
        forget(dir.path(), "nas2").unwrap();
        assert_eq!(counters(dir.path()).unwrap().len(), 1);
        reset_counters(dir.path()).unwrap();
        assert!(counters(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn concurrent_counting_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let d = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    for _ in 0..25 {
                        count(&d, "nas1", Counter::Midclt).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(counters(dir.path()).unwrap()["nas1"].midclt, 200);
    }

    #[test]
    fn injected_faults_print_the_real_texts() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("nas1.json");
        let faults = Faults {
            timeout: vec!["replication.query".into()],
            fail: vec!["pool.dataset.query".into()],
            ..Faults::default()
        };
        store(dir.path(), "nas1", &faults).unwrap();
        let out = before_midclt(&state, &argv(&["call", "replication.query"])).unwrap();
        assert_eq!((out.stderr.as_str(), out.exit), ("Call timeout\n", 1));
        let out = before_midclt(&state, &argv(&["call", "pool.dataset.query"])).unwrap();
        assert!(
            out.stderr
                .starts_with("[EFAULT] Injected failure of pool.dataset.query\nTraceback")
        );
        assert!(before_midclt(&state, &argv(&["call", "system.version"])).is_none());

        store(
            dir.path(),
            "nas1",
            &Faults {
                stop_middleware: true,
                ..faults
            },
        )
        .unwrap();
        let out = before_midclt(&state, &argv(&["call", "system.version"])).unwrap();
        assert_eq!(
            out.stderr,
            "Failed to run middleware call. Daemon not running?\n"
        );
        assert_eq!(counters(dir.path()).unwrap()["nas1"].midclt, 4);

        store(dir.path(), "nas1", &Faults::default()).unwrap();
        assert!(!faults_path(dir.path(), "nas1").exists());
    }
}
