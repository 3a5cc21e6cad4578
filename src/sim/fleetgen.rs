//! Generated fleets for tests and benchmarks: N systems × M datasets with snapshot tasks,
//! snapshots and replication tasks, the same for the same seed.
//!
//! System `sysNNN` has pool `tank` with datasets `tank/dsMMM`, snapshot tasks on the
//! first T datasets (hourly or daily, alternating), 24 snapshots per task dataset taken
//! on the hour before the generated "now", and a PUSH replication of each task dataset
//! to the next system (`tank/replicas/sysNNN/dsMMM`), over an SSH credential whose key is
//! authorised for root there. Fixtures go to `DIR/fixtures/<system>.yaml` (JSON text,
//! which YAML reads as is); state files `DIR/<system>.json` are seeded from them, and
//! `DIR/zfleet.yaml` describes the same fleet as embedded simulated systems.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[CodeInfo {
    code: "zfleet::sim::generate_io",
    summary: "`zfleet sim generate` could not write or remove a fixture, state or config file",
}];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSpec {
    pub systems: usize,
    pub datasets: usize,
    pub tasks: usize,
    pub seed: u64,
    /// Version of every system (13.0, 13.3, 24.04, 24.10, 25.04, 25.10, or one with a patch
    /// level); `None` mixes 24.04 … 25.10 by seed.
    pub version: Option<String>,
}

/// A small deterministic generator (xorshift64*), enough to vary a fleet by seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A well-formed (not usable) Ed25519 public key line from the generator.
fn fake_ed25519(rng: &mut Rng, comment: &str) -> String {
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    for _ in 0..4 {
        blob.extend_from_slice(&rng.next().to_be_bytes());
    }
    format!("ssh-ed25519 {} {comment}", base64(&blob))
}

pub fn system_name(i: usize) -> String {
    format!("sys{:03}", i + 1)
}

/// The fixture (as JSON) of every system of the fleet, in order.
pub fn fixtures(spec: &FleetSpec) -> Vec<(String, Value)> {
    const VERSIONS: &[&str] = &["24.04", "24.10", "25.04", "25.10"];
    let mut rng = Rng::new(spec.seed);
    let now: DateTime<Utc> = DateTime::<Utc>::from_timestamp(1_761_829_200, 0).unwrap_or_default()
        + Duration::days(rng.below(365) as i64);
    let n = spec.systems;
    // Replication keys: system i pushes to system i+1 with key i.
    let keys: Vec<String> = (0..n)
        .map(|i| fake_ed25519(&mut rng, &format!("replication@{}", system_name(i))))
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        let name = system_name(i);
        let version = spec
            .version
            .clone()
            .unwrap_or_else(|| VERSIONS[rng.below(VERSIONS.len() as u64) as usize].into());
        let mut datasets = serde_json::Map::new();
        for d in 0..spec.datasets {
            datasets.insert(format!("tank/ds{:03}", d + 1), json!({}));
        }
        datasets.insert("tank/replicas".into(), json!({}));
        let mut snapshots = Vec::new();
        let mut tasks = Vec::new();
        let task_count = spec.tasks.min(spec.datasets);
        for t in 0..task_count {
            let ds = format!("tank/ds{:03}", t + 1);
            let hourly = t % 2 == 0;
            tasks.push(json!({
                "dataset": ds,
                "recursive": false,
                "lifetime_value": if hourly { 2 } else { 4 },
                "lifetime_unit": "WEEK",
                "naming_schema": "auto-%Y-%m-%d_%H-%M",
                "schedule": if hourly {
                    json!({"minute": "0", "hour": "*", "dom": "*", "month": "*", "dow": "*"})
                } else {
                    json!({"minute": "0", "hour": "0", "dom": "*", "month": "*", "dow": "*"})
                },
            }));
            let step = if hourly { 1 } else { 24 };
            for k in (0..24).rev() {
                let at = now - Duration::hours(k * step);
                snapshots.push(json!({
                    "name": format!("{ds}@{}", at.format("auto-%Y-%m-%d_%H-%M")),
                    "creation": at.to_rfc3339(),
                }));
            }
        }
        let next = (i + 1) % n;
        let next_name = system_name(next);
        let prev = (i + n - 1) % n;
        let mut keychain = Vec::new();
        let mut replications = Vec::new();
        if n > 1 && task_count > 0 {
            keychain.push(json!({
                "name": format!("{next_name} key"),
                "type": "SSH_KEY_PAIR",
                "attributes": {"private_key": null, "public_key": keys[i]},
            }));
            keychain.push(json!({
                "name": next_name,
                "type": "SSH_CREDENTIALS",
                "attributes": {
                    "host": format!("{next_name}.lan"),
                    "port": 22,
                    "username": "root",
                    "private_key": 1,
                    // The target's own (simulated) host key, as a scan would find it.
                    "remote_host_key": super::fixture::fake_host_keys(&format!("{next_name}.lan"))
                        .last()
                        .cloned()
                        .unwrap_or_default(),
                    "connect_timeout": 10,
                },
            }));
            for t in 0..task_count {
                let ds = format!("ds{:03}", t + 1);
                replications.push(json!({
                    "name": format!("{name}-{ds}-to-{next_name}"),
                    "direction": "PUSH",
                    "transport": "SSH",
                    "ssh_credentials": next_name,
                    "source_datasets": [format!("tank/{ds}")],
                    "target_dataset": format!("tank/replicas/{name}/{ds}"),
                    "recursive": false,
                    "auto": true,
                    "retention_policy": "SOURCE",
                    "periodic_snapshot_tasks": [t + 1],
                }));
            }
        }
        let mut users = Vec::new();
        if n > 1 && task_count > 0 {
            users.push(json!({
                "username": "root", "uid": 0, "home": "/root",
                "sshpubkey": keys[prev],
            }));
        }
        out.push((
            name.clone(),
            json!({
                "version": version,
                "hostname": format!("{name}.lan"),
                "timezone": "UTC",
                "addresses": [format!("10.0.{}.{}", i / 250, i % 250 + 1)],
                "now": now.to_rfc3339(),
                "datasets": Value::Object(datasets),
                "snapshots": snapshots,
                "services": {"ssh": {"enable": true, "running": true}},
                "users": users,
                "keychain": keychain,
                "snapshot_tasks": tasks,
                "replications": replications,
            }),
        ));
    }
    out
}

/// The project of the generated config (its embedded states live under
/// `DIR/.zfleet/sim/<project>/`).
pub const PROJECT: &str = "generated";

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The state file of every system, in order.
    pub states: Vec<PathBuf>,
    /// `DIR/zfleet.yaml`.
    pub config: PathBuf,
}

/// Which systems the last generation into a directory wrote, so that the next one can remove
/// the systems it no longer generates, and nothing else.
const MANIFEST: &str = ".generated.json";

fn io_problem(p: &Path, e: impl std::fmt::Display) -> Problem {
    Problem::error(
        "zfleet::sim::generate_io",
        format!("cannot write this file: {e}"),
    )
    .object(p.display().to_string())
    .help("check that the output directory is writable")
}

/// Writes the fixtures, a fresh state per system and the config; removes the systems an
/// earlier generation into `out` wrote and this one does not. The version is checked before
/// anything is written.
pub fn generate(out: &Path, spec: &FleetSpec) -> Result<Generated, Problem> {
    if let Some(v) = &spec.version {
        super::version::parse(v)?;
    }
    let fleet = fixtures(spec);
    let names: Vec<String> = fleet.iter().map(|(n, _)| n.clone()).collect();
    let fixture_dir = out.join("fixtures");
    std::fs::create_dir_all(&fixture_dir).map_err(|e| io_problem(&fixture_dir, e))?;
    let earlier = read_manifest(out);
    for stale in earlier.iter().filter(|s| !names.contains(s)) {
        remove_system(out, stale)?;
    }
    // The fleet starts over: new states, and the fleet clock back at their "now".
    match std::fs::remove_file(out.join(".clock.json")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io_problem(&out.join(".clock.json"), e));
        }
        _ => {}
    }
    let mut states = Vec::new();
    for (name, fixture) in &fleet {
        let fixture_path = fixture_dir.join(format!("{name}.yaml"));
        let text = serde_json::to_string_pretty(fixture).unwrap_or_default();
        std::fs::write(&fixture_path, text).map_err(|e| io_problem(&fixture_path, e))?;
        let state = out.join(format!("{name}.json"));
        super::seed::remove_state(&state)?;
        super::seed::remove_state(&embedded_state(out, name))?;
        super::seed(&state, Some(&fixture_path), None)?;
        states.push(state);
    }
    let config = out.join("zfleet.yaml");
    std::fs::write(&config, config_text(spec, &fleet)).map_err(|e| io_problem(&config, e))?;
    let manifest = out.join(MANIFEST);
    let text = serde_json::to_string_pretty(&json!({ "systems": names })).unwrap_or_default();
    std::fs::write(&manifest, text).map_err(|e| io_problem(&manifest, e))?;
    Ok(Generated { states, config })
}

/// Writes a system with `datasets` datasets (`tank/dsNNNNN`) of `per_dataset` snapshots each
/// (`auto-...`, hourly, the newest an hour before the system's "now") to `state_file`, seeded
/// as a system without a fixture at `version` is. The state is built in memory rather than
/// read from a fixture, so 200,000 snapshots take seconds; for tests and benchmarks of large
/// systems.
pub fn write_large_system(
    state_file: &Path,
    version: &str,
    datasets: usize,
    per_dataset: usize,
) -> Result<(), Problem> {
    use super::state::{Dataset, SeedRecord, Snapshot};
    let hostname = state_file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("truenas");
    let mut st = super::fixture::load("{}", hostname, Some(version))?;
    st.seeded_from = Some(SeedRecord {
        fixture_sha256: None,
        version: Some(version.to_string()),
    });
    let now = st.now_secs() - st.now_secs().rem_euclid(3600);
    let first_txg = st.txg + 1;
    let mut snapshots = std::collections::BTreeMap::new();
    let mut added = vec![("tank".to_string(), Dataset::filesystem(now, first_txg))];
    for d in 0..datasets {
        let ds = format!("tank/ds{:05}", d + 1);
        added.push((ds.clone(), Dataset::filesystem(now, first_txg)));
        for k in 0..per_dataset {
            let at = now - 3600 * (per_dataset - k) as i64;
            let name = DateTime::<Utc>::from_timestamp(at, 0)
                .unwrap_or_default()
                .format("auto-%Y-%m-%d_%H-%M")
                .to_string();
            snapshots.insert(
                format!("{ds}@{name}"),
                Snapshot {
                    dataset: ds.clone(),
                    name,
                    creation: at,
                    createtxg: first_txg + k as u64,
                    used: 0,
                    referenced: 98304,
                    user_properties: Default::default(),
                    holds: Default::default(),
                },
            );
        }
    }
    st.txg = first_txg + per_dataset as u64;
    st.datasets.extend(added);
    st.snapshots = snapshots.into();
    if let Some(dir) = state_file.parent()
        && !dir.as_os_str().is_empty()
    {
        crate::files::create_dir_private(dir)
            .map_err(|e| super::state_problem(state_file, &e.to_string()))?;
    }
    super::write_state(state_file, &st)
}

/// Where the generated config's embedded simulator keeps a system's state.
fn embedded_state(out: &Path, system: &str) -> PathBuf {
    out.join(".zfleet")
        .join("sim")
        .join(PROJECT)
        .join(format!("{system}.json"))
}

fn read_manifest(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join(MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.get("systems")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Removes every file zfleet keeps for a system that is no longer generated.
fn remove_system(out: &Path, system: &str) -> Result<(), Problem> {
    // Only names this generator makes: a damaged manifest must not reach other files.
    if !is_system_name(system) {
        return Ok(());
    }
    super::seed::remove_state(&out.join(format!("{system}.json")))?;
    super::seed::remove_state(&embedded_state(out, system))?;
    let shim = out.join(".shim").join(system);
    for path in [
        out.join("fixtures").join(format!("{system}.yaml")),
        super::faults::faults_path(out, system),
        shim.join("midclt"),
    ] {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_problem(&path, e));
            }
            _ => {}
        }
    }
    // The shim's directory goes only when empty.
    let _ = std::fs::remove_dir(&shim);
    super::faults::forget(out, system)
}

/// `sysNNN`, as [`system_name`] makes them.
fn is_system_name(name: &str) -> bool {
    name.strip_prefix("sys")
        .is_some_and(|n| n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `DIR/zfleet.yaml`: the generated systems as embedded simulated systems seeded from their
/// fixtures, with the snapshot tasks and replications the fixtures already hold.
fn config_text(spec: &FleetSpec, fleet: &[(String, Value)]) -> String {
    let mut y = format!(
        "# Generated by `zfleet sim generate --systems {} --datasets {} --tasks {} --seed {}`.\n\
         # Every system is simulated, seeded from fixtures/<system>.yaml.\n\
         project: {PROJECT}\n\nsystems:\n",
        spec.systems, spec.datasets, spec.tasks, spec.seed
    );
    for (name, fx) in fleet {
        let full = fx["version"].as_str().unwrap_or("25.10");
        let release =
            super::version::Personality::from_version(full).map_or("25.10", |p| p.release(full));
        y.push_str(&format!(
            "  {name}: {{ simulator: {{ fixture: fixtures/{name}.yaml, version: \"{release}\" }} }}\n"
        ));
    }
    let task_count = spec.tasks.min(spec.datasets);
    if task_count > 0 && !fleet.is_empty() {
        y.push_str("\nsnapshot_tasks:\n");
        for (name, _) in fleet {
            for t in 0..task_count {
                let hourly = t % 2 == 0;
                y.push_str(&format!(
                    "  {name}-ds{n:03}:\n    system: {name}\n    dataset: tank/ds{n:03}\n    \
                     schedule: {}\n    lifetime: {} weeks\n",
                    if hourly { "hourly" } else { "daily" },
                    if hourly { 2 } else { 4 },
                    n = t + 1,
                ));
            }
        }
    }
    let n = fleet.len();
    if n > 1 && task_count > 0 {
        y.push_str("\nreplications:\n");
        for (i, (name, _)) in fleet.iter().enumerate() {
            let next = &fleet[(i + 1) % n].0;
            for t in 0..task_count {
                y.push_str(&format!(
                    "  {name}-ds{d:03}-to-{next}:\n    sources:\n      - {{ system: {name}, \
                     datasets: [tank/ds{d:03}], snapshot_tasks: [{name}-ds{d:03}] }}\n    \
                     target: {{ system: {next}, dataset: tank/replicas/{name}/ds{d:03} }}\n    \
                     schedule: with_snapshot_tasks\n    retention: source\n",
                    d = t + 1,
                ));
            }
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn same_seed_same_fleet_other_seed_other_fleet() {
        let spec = FleetSpec {
            systems: 3,
            datasets: 4,
            tasks: 2,
            seed: 7,
            version: None,
        };
        assert_eq!(fixtures(&spec), fixtures(&spec));
        let other = FleetSpec {
            seed: 8,
            ..spec.clone()
        };
        assert_ne!(fixtures(&spec), fixtures(&other));
        let f = fixtures(&spec);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].1["snapshot_tasks"].as_array().unwrap().len(), 2);
        assert_eq!(f[0].1["snapshots"].as_array().unwrap().len(), 48);
        // sys001 pushes to sys002, whose root holds sys001's key.
        assert_eq!(
            f[0].1["keychain"][0]["attributes"]["public_key"],
            f[1].1["users"][0]["sshpubkey"]
        );
    }
}
