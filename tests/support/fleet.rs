//! A simulated fleet in a temporary directory: fixtures under `sim/`, a `zfleet.yaml`, and
//! the real binary run against it with every API call traced, so a test reads as "these
//! systems, this config, these commands, this output, this live state".
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::request_schemas::{Report, Schemas};

/// What one run of the binary left.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The diagnostic codes on stderr, in order.
    pub fn codes(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("zfleet::"))
            .map(str::to_string)
            .collect()
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

pub struct Fleet {
    dir: tempfile::TempDir,
    /// System name → TrueNAS version of its fixture.
    versions: BTreeMap<String, String>,
    /// `$ZFLEET_SIM_STATE_DIR` for every run, when shared with another fleet.
    state_dir: Option<PathBuf>,
    /// The config's project, for the default state directory.
    project: String,
}

impl Default for Fleet {
    fn default() -> Self {
        Fleet::new()
    }
}

impl Fleet {
    pub fn new() -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("sim")).expect("sim dir");
        Fleet {
            dir,
            versions: BTreeMap::new(),
            state_dir: None,
            project: String::new(),
        }
    }

    /// A fleet kept as test data: `tests/data/plan/NAME/` with `zfleet.yaml` and `sim/`.
    pub fn from_data(name: &str, project: &str) -> Fleet {
        let mut f = Fleet::new();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/plan")
            .join(name);
        std::fs::copy(src.join("zfleet.yaml"), f.path().join("zfleet.yaml")).expect("config");
        for entry in std::fs::read_dir(src.join("sim")).expect("sim dir") {
            let path = entry.expect("entry").path();
            let file = path.file_name().expect("name").to_owned();
            let text = std::fs::read_to_string(&path).expect("fixture");
            let version = text
                .lines()
                .find_map(|l| l.strip_prefix("version: "))
                .map(|v| v.trim_matches('"').to_string())
                .expect("fixture names its version");
            let system = path.file_stem().and_then(|s| s.to_str()).expect("stem");
            f.versions.insert(system.to_string(), version);
            std::fs::write(f.path().join("sim").join(file), text).expect("copy");
        }
        f.project = project.to_string();
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds `sim/<name>.yaml`: `version` and a frozen clock, then `body` (fixture YAML).
    pub fn system(&mut self, name: &str, version: &str, body: &str) -> &mut Fleet {
        let text = format!("version: \"{version}\"\nnow: 2025-10-30T13:30:00Z\n{body}\n");
        std::fs::write(self.path().join(format!("sim/{name}.yaml")), text).expect("fixture");
        self.versions.insert(name.to_string(), version.to_string());
        self
    }

    /// Writes `zfleet.yaml`: the project, every system added so far, then `rest`.
    pub fn config(&mut self, project: &str, rest: &str) -> &mut Fleet {
        let systems: String = self
            .versions
            .keys()
            .map(|n| format!("  {n}: {{ simulator: {{ fixture: sim/{n}.yaml }} }}\n"))
            .collect();
        self.raw_config(project, &format!("systems:\n{systems}{rest}"))
    }

    /// Writes `zfleet.yaml` as given after `project:`.
    pub fn raw_config(&mut self, project: &str, rest: &str) -> &mut Fleet {
        self.project = project.to_string();
        let text = format!("project: {project}\n{rest}");
        std::fs::write(self.path().join("zfleet.yaml"), text).expect("config");
        self
    }

    /// Keeps the simulated state in `dir` (another fleet's, to share systems).
    pub fn share_state(&mut self, dir: &Path) -> &mut Fleet {
        self.state_dir = Some(dir.to_path_buf());
        self
    }

    /// Where the simulated systems' state lives.
    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| {
            self.path()
                .join(".zfleet/sim")
                .join(if self.project.is_empty() {
                    "unset"
                } else {
                    &self.project
                })
        })
    }

    pub fn state_file(&self, system: &str) -> PathBuf {
        self.state_dir().join(format!("{system}.json"))
    }

    pub fn trace_file(&self) -> PathBuf {
        self.path().join("trace.jsonl")
    }

    /// Runs `zfleet ARGS` in the fleet's directory, colours off, stdin empty, calls traced.
    pub fn zfleet(&self, args: &[&str]) -> Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"));
        cmd.current_dir(self.path())
            .env("NO_COLOR", "1")
            .env("HOME", self.path())
            .env("ZFLEET_API_TRACE", self.trace_file())
            .env_remove("ZFLEET_FILE")
            .env_remove("SSH_AUTH_SOCK")
            .stdin(std::process::Stdio::null())
            .args(args);
        match &self.state_dir {
            Some(d) => cmd.env("ZFLEET_SIM_STATE_DIR", d),
            None => cmd.env_remove("ZFLEET_SIM_STATE_DIR"),
        };
        let out = cmd.output().expect("zfleet runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
        }
    }

    /// `zfleet sim midclt call METHOD ARGS…` against a system's live state, as JSON.
    pub fn call(&self, system: &str, method: &str, args: &[&str]) -> Value {
        let state = self.state_file(system);
        let state = state.to_str().expect("utf-8 path");
        let mut all = vec!["sim", "midclt", "--state", state, "call", method];
        all.extend_from_slice(args);
        // Not traced: these reads are the test's, not zfleet's.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"))
            .args(&all)
            .output()
            .expect("midclt runs");
        assert!(
            out.status.success(),
            "midclt {method}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // midclt prints `True`/`False` and bare strings as they are, not as JSON.
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// `zfleet sim faults --state DIR SYSTEM ARGS…` (no ARGS clears them).
    pub fn faults(&self, system: &str, args: &[&str]) {
        let dir = self.state_dir();
        let dir = dir.to_str().expect("utf-8 path");
        let mut all = vec!["sim", "faults", "--state", dir, system];
        all.extend_from_slice(args);
        let run = self.zfleet(&all);
        run.expect(0);
    }

    /// The live snapshot tasks of a system, sorted by id.
    pub fn snapshot_tasks(&self, system: &str) -> Vec<Value> {
        as_list(self.call(system, "pool.snapshottask.query", &[]))
    }

    pub fn replications(&self, system: &str) -> Vec<Value> {
        as_list(self.call(system, "replication.query", &[]))
    }

    /// The locally set `zfleet:` user properties of every dataset of a system:
    /// `dataset → {key → value}`.
    pub fn records(&self, system: &str) -> BTreeMap<String, BTreeMap<String, String>> {
        let all = self.call(
            system,
            "pool.dataset.query",
            &["[]", r#"{"select": ["name", "user_properties"]}"#],
        );
        let mut out = BTreeMap::new();
        for ds in as_list(all) {
            let name = ds["name"].as_str().unwrap_or_default().to_string();
            let Some(props) = ds["user_properties"].as_object() else {
                continue;
            };
            let mut mine = BTreeMap::new();
            for (k, v) in props {
                let local = v["source"].as_str().is_none_or(|s| s == "LOCAL");
                if k.starts_with("zfleet:") && local {
                    let text = v["value"].as_str().unwrap_or_default().to_string();
                    mine.insert(k.clone(), text);
                }
            }
            if !mine.is_empty() {
                out.insert(name, mine);
            }
        }
        out
    }

    /// Every traced call checked against the request schemas of its system's version
    /// (those kept as test data: 25.04 and 25.10). Returns the report per schema set and
    /// the number of calls to systems of other versions, which have no schema set.
    pub fn check_trace(&self) -> (BTreeMap<String, Report>, usize) {
        let text = std::fs::read_to_string(self.trace_file()).unwrap_or_default();
        let mut by_set: BTreeMap<String, String> = BTreeMap::new();
        let mut unchecked = 0;
        for line in text.lines() {
            let call: Value = serde_json::from_str(line).expect("trace line is JSON");
            let system = call["system"].as_str().expect("system in trace");
            let version = self.versions.get(system).cloned().unwrap_or_default();
            if version == "25.04" || version == "25.10" {
                let entry = by_set.entry(version).or_default();
                entry.push_str(line);
                entry.push('\n');
            } else {
                unchecked += 1;
            }
        }
        let reports = by_set
            .into_iter()
            .map(|(set, lines)| {
                let report = Schemas::load(&set).check_lines(&lines);
                (set, report)
            })
            .collect();
        (reports, unchecked)
    }

    /// Asserts that every traced call to a 25.04 or 25.10 system passes its schemas, and
    /// that at least `min` calls were checked.
    pub fn assert_trace_valid(&self, min: usize) {
        let (reports, _) = self.check_trace();
        let mut checked = 0;
        for (set, report) in &reports {
            assert!(report.ok(), "{set}: {}", report.text());
            checked += report.passed;
        }
        assert!(checked >= min, "only {checked} calls validated");
    }

    /// The methods zfleet called, in order, per system (from the trace).
    pub fn traced_methods(&self, system: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.trace_file()).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|c| c["system"] == system)
            .filter_map(|c| c["method"].as_str().map(str::to_string))
            .collect()
    }

    /// Forgets the calls traced so far.
    pub fn clear_trace(&self) {
        let _ = std::fs::remove_file(self.trace_file());
    }
}

/// Whatever a test asserts, every call zfleet made is checked against the request schemas
/// when the fleet goes away (unless the test already failed).
impl Drop for Fleet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let (reports, _) = self.check_trace();
        for (set, report) in &reports {
            assert!(report.ok(), "{set}: {}", report.text());
        }
    }
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => panic!("expected a list, got {other}"),
    }
}

/// The SSH host key of the standard fleet's `backup`, stored in `nas1`'s connection.
pub const BACKUP_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICU+pkPwy7HX8P4nj4UxGr+kU+tXTO+JK97Pk+oS8s+s";

/// The public half of nas1's replication key pair, authorized for root on backup.
pub const NAS1_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINRmhXni4Dz3snsf+W1PBrmv1mC6y5aTWVUh25LX10h+";

/// `nas1` (25.10): tank/data (docs, cache), tank/media, tank/local; SSH on; a keychain
/// connection `to-backup` holding backup's host key.
pub fn nas1_fixture() -> String {
    format!(
        r#"datasets:
  tank:
    children:
      data: {{ children: {{ docs: {{}}, cache: {{}} }} }}
      media: {{}}
      local: {{}}
services:
  ssh: {{ enable: true, running: true }}
keychain:
  - {{ name: backup key, type: SSH_KEY_PAIR, attributes: {{ public_key: "{NAS1_KEY} k" }} }}
  - name: to-backup
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.30, port: 22, username: root, private_key: 1, remote_host_key: "{BACKUP_HOST_KEY}" }}
"#
    )
}

/// `backup` (25.04): backup/nas1, SSH on, the host key nas1's connection knows.
pub fn backup_fixture() -> String {
    format!(
        r#"addresses: [192.0.2.30]
datasets: {{ backup: {{ children: {{ nas1: {{}} }} }} }}
services: {{ ssh: {{ enable: true, running: true }} }}
ssh: {{ host_keys: ["{BACKUP_HOST_KEY}"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{NAS1_KEY} k" }}
"#
    )
}

/// A small system of any version: pool/home and pool/work.
pub const SMALL_FIXTURE: &str = "datasets: { pool: { children: { home: {}, work: {} } } }";

/// A small system with a keychain connection `to-backup` holding backup's host key.
pub fn small_with_connection() -> String {
    format!(
        r#"{SMALL_FIXTURE}
keychain:
  - {{ name: k, type: SSH_KEY_PAIR, attributes: {{ public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINRmhXni4Dz3snsf+W1PBrmv1mC6y5aTWVUh25LX10h+ k" }} }}
  - {{ name: to-backup, type: SSH_CREDENTIALS, attributes: {{ host: 192.0.2.30, username: root, private_key: 1, remote_host_key: "{BACKUP_HOST_KEY}" }} }}
"#
    )
}

/// Five systems, one of each version personality: nas1 25.10, backup 25.04, v2410 24.10
/// (with a connection to backup), v2404 24.04, v133 13.3.
pub fn standard() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &nas1_fixture())
        .system("backup", "25.04", &backup_fixture())
        .system("v2410", "24.10", &small_with_connection())
        .system("v2404", "24.04", SMALL_FIXTURE)
        .system("v133", "13.3", SMALL_FIXTURE);
    f
}

/// The standard fleet's config: snapshot tasks on every system, a one-time snapshot, a
/// LOCAL replication and an SSH push replication.
pub const STANDARD_CONFIG: &str = r#"snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, exclude: [tank/data/cache], schedule: hourly, lifetime: 2 weeks }
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
  home-2410: { system: v2410, dataset: pool/home, schedule: daily, lifetime: 1 week }
  home-2404: { system: v2404, dataset: pool/home, schedule: daily, lifetime: 1 week }
  home-133: { system: v133, dataset: pool/home, schedule: daily, lifetime: 1 week }
snapshots:
  - { system: backup, dataset: backup/nas1, naming_schema: "manual-%Y-%m-%d_%H-%M" }
replications:
  data-local:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: nas1, dataset: tank/local/data }
    recursive: true
    exclude: [tank/data/cache]
    retention: source
  media-offsite:
    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
"#;
