//! The troubled example fleet (`examples/troubled/`): `plan` shows every live check a fleet
//! can show, `apply` refuses to change anything while they stand, and `systems` reads every
//! system. Each run works on a copy in a temporary directory, so the repository is not
//! written.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A copy of `examples/troubled` (config and fixtures) whose simulated state lives inside it.
struct Troubled {
    dir: tempfile::TempDir,
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Troubled {
    fn new() -> Troubled {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/troubled");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("sim")).expect("sim dir");
        std::fs::copy(src.join("zfleet.yaml"), dir.path().join("zfleet.yaml")).expect("config");
        for entry in std::fs::read_dir(src.join("sim")).expect("fixtures") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("file name");
            std::fs::copy(&path, dir.path().join("sim").join(name)).expect("fixture");
        }
        Troubled { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn trace(&self) -> PathBuf {
        self.path().join("trace.jsonl")
    }

    /// `zfleet ARGS` in the copy: colours off, stdin empty, API calls traced.
    fn zfleet(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env("HOME", self.path())
            .env("ZFLEET_API_TRACE", self.trace())
            .env_remove("ZFLEET_SIM_STATE_DIR")
            .env_remove("ZFLEET_FILE")
            .env_remove("SSH_AUTH_SOCK")
            .args(args)
            .output()
            .expect("zfleet runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// Every simulated system's state file, by name.
    fn states(&self) -> BTreeMap<String, Vec<u8>> {
        let dir = self.path().join(".zfleet/sim/acme");
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("state dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".json") && !name.starts_with('.') {
                out.insert(name, std::fs::read(&path).expect("state"));
            }
        }
        out
    }
}

impl Run {
    fn codes(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("zfleet::"))
            .collect()
    }
}

#[test]
fn plan_shows_every_live_check_and_fails() {
    let fleet = Troubled::new();
    let run = fleet.zfleet(&["plan"]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let printed: BTreeSet<&str> = run.codes().into_iter().collect();
    let every: BTreeSet<&str> = zfleet::plan::codes::CODES.iter().map(|c| c.code).collect();
    assert_eq!(printed, every, "{}", run.stderr);
    let shown = format!("--- stdout\n{}--- stderr\n{}", run.stdout, run.stderr);
    insta::assert_snapshot!("troubled_plan", shown);
}

/// What apply sent: each traced method name.
fn methods(trace: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(trace).expect("trace");
    text.lines()
        .map(|l| {
            let call: serde_json::Value = serde_json::from_str(l).expect("trace line");
            call["method"].as_str().expect("method").to_string()
        })
        .collect()
}

fn is_read(method: &str) -> bool {
    let last = method.rsplit('.').next().unwrap_or(method);
    matches!(last, "query" | "config" | "version" | "info")
        || last.ends_with("_will_change_retention_for")
}

#[test]
fn apply_refuses_and_changes_nothing() {
    let fleet = Troubled::new();
    let before = fleet.zfleet(&["plan"]);
    assert_eq!(before.code, Some(1), "{}", before.stderr);
    let states = fleet.states();
    assert_eq!(states.len(), 6, "{:?}", states.keys());
    std::fs::remove_file(fleet.trace()).expect("trace of plan");

    let apply = fleet.zfleet(&["apply", "--yes"]);
    assert_eq!(apply.code, Some(1), "{}\n{}", apply.stdout, apply.stderr);
    // The plan's problems, then the refusal; the same plan shown, with no line of progress
    // or result.
    assert_eq!(
        apply.stderr,
        format!(
            "{}zfleet::apply::blocked\n\n  × nothing was applied: the plan has errors\n  help: fix the errors above (or leave their systems out with `--system`) and run apply again\n\n",
            before.stderr
        )
    );
    assert_eq!(apply.stdout, before.stdout);

    let sent = methods(&fleet.trace());
    assert!(sent.contains("replication.query"), "{sent:?}");
    let writes: Vec<&String> = sent.iter().filter(|m| !is_read(m)).collect();
    assert!(writes.is_empty(), "apply sent {writes:?}");
    assert_eq!(fleet.states(), states, "a simulated system's state changed");
    let after = fleet.zfleet(&["plan"]);
    assert_eq!(
        (after.code, after.stdout, after.stderr),
        (before.code, before.stdout, before.stderr)
    );
}

#[test]
fn systems_reads_all_six_and_shows_ssh_off_and_stopped() {
    let fleet = Troubled::new();
    let run = fleet.zfleet(&["systems"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "\
SYSTEM   STATUS  VERSION                 SSH                DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY
alpha    ok      TrueNAS 25.10.1         enabled, running   7         9          2           1             -
beta     ok      TrueNAS SCALE 24.04.2   disabled, stopped  1         0          0           0             -
delta    ok      TrueNAS CORE 13.3-U1.1  enabled, running   4         0          0           0             -
gamma    ok      TrueNAS SCALE 24.10.2   enabled, running   2         5          3           1             -
offsite  ok      TrueNAS SCALE 24.10.2   enabled, stopped   2         0          0           0             -
vault    ok      TrueNAS 25.04.2         enabled, running   6         2          0           0             -
"
    );
}
