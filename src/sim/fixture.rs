//! Fixtures: one simulated system described in readable YAML, turned into a [`SimState`].
//!
//! Every key is optional; `{}` is a bare 25.10 system with root, the admin user and a stopped
//! SSH service.
//!
//! ```yaml
//! version: "25.10"            # 13.0 | 13.3 | 24.04 | 24.10 | 25.04 | 25.10, or a full 25.10.1 / 13.3-U1.1
//! hostname: nas1              # default: the state file's name
//! timezone: Europe/Berlin     # default UTC
//! addresses: [192.0.2.10]     # how other systems of the fleet reach this one
//! enterprise: false           # changes system.product_type
//! now: 2025-10-30T13:00:00Z   # freezes the clock (epoch seconds also accepted)
//! datasets:                   # nested (children) or flat (full names), or both
//!   tank:
//!     children:
//!       data:
//!         user_properties: { "zfleet:owned": "yes" }   # inherited by children
//!         children: { photos: {}, scratch: {} }
//!       vm: { type: volume, volsize: 10737418240 }
//!   backup/nas1/data:          # parents are created as needed
//!     readonly: true           # LOCAL readonly=on; children inherit it
//!     properties: { compression: lz4, atime: "off" }
//!     encrypted: true          # encryption root; `locked: true` leaves the key unloaded
//! snapshots:                  # full names, or objects with times
//!   - tank/data@auto-2025-10-30_12-00
//!   - { name: tank/data@auto-2025-10-30_13-00, creation: 2025-10-30T13:00:00Z }
//! services:
//!   ssh: { enable: true, running: true }
//! ssh: { tcpport: 22, host_keys: ["ssh-ed25519 AAAA..."] }   # host keys default to fake ones
//! users:                      # root and the uid-950 admin are added when absent
//!   - { username: repl, uid: 3000, home: /mnt/tank/home/repl, sshpubkey: "ssh-ed25519 AAAA... x",
//!       sudo_commands_nopasswd: [/usr/sbin/zfs] }
//! keychain:                   # ids follow list order unless given
//!   - { name: backup key, type: SSH_KEY_PAIR, attributes: { private_key: "...", public_key: "ssh-ed25519 AAAA..." } }
//!   - { name: backup, type: SSH_CREDENTIALS,
//!       attributes: { host: 192.0.2.20, private_key: 1, remote_host_key: "ssh-ed25519 AAAA..." } }
//! snapshot_tasks:             # pool.snapshottask.create fields; defaults as on 25.04+
//!   - { dataset: tank/data, recursive: true, schedule: { minute: "0" },
//!       state: { state: FINISHED, datetime: 2025-10-30T13:00:04Z, last_snapshot: "tank/data@auto-2025-10-30_13-00" } }
//! replications:               # replication.create fields; ssh_credentials by id or name
//!   - name: offsite
//!     direction: PUSH
//!     transport: SSH
//!     ssh_credentials: backup
//!     source_datasets: [tank/data]
//!     target_dataset: backup/nas1/data
//!     recursive: true
//!     auto: true
//!     retention_policy: SOURCE
//!     periodic_snapshot_tasks: [1]
//!     state: { state: ERROR, datetime: 2025-10-30T14:02:13Z,
//!              error: "No incremental base on dataset 'tank/data' and replication from scratch is not allowed." }
//!     job: { state: FAILED, error: "No incremental base ... is not allowed." }   # its last run
//! jobs:                       # other pre-existing jobs
//!   - { method: pool.dataset.lock, arguments: ["tank/secret"], state: FAILED, error: "[EFAULT] Dataset is busy" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::methods;
use super::state::*;
use super::version::Personality;
use crate::diag::Problem;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Fixture {
    version: Option<Value>,
    hostname: Option<String>,
    timezone: Option<String>,
    addresses: Vec<String>,
    enterprise: bool,
    now: Option<TimeFx>,
    boottime: Option<TimeFx>,
    datasets: BTreeMap<String, Option<DatasetFx>>,
    snapshots: Vec<SnapshotFx>,
    services: BTreeMap<String, ServiceFx>,
    ssh: Option<SshFx>,
    users: Vec<UserFx>,
    keychain: Vec<CredentialFx>,
    snapshot_tasks: Vec<Map<String, Value>>,
    replications: Vec<Map<String, Value>>,
    jobs: Vec<JobFx>,
}

/// A time: epoch seconds, RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` (UTC).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum TimeFx {
    Epoch(i64),
    Text(String),
}

impl TimeFx {
    fn secs(&self) -> Result<i64, String> {
        match self {
            TimeFx::Epoch(s) => Ok(*s),
            TimeFx::Text(t) => parse_time(t),
        }
    }
}

fn parse_time(t: &str) -> Result<i64, String> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Ok(n.and_utc().timestamp());
        }
    }
    Err(format!(
        "`{t}` is not a time (use 2025-10-30T13:00:00Z or epoch seconds)"
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DatasetFx {
    #[serde(rename = "type")]
    kind: Option<String>,
    readonly: Option<bool>,
    properties: BTreeMap<String, Value>,
    /// Properties that arrived with a replication (source RECEIVED).
    received: BTreeMap<String, Value>,
    user_properties: BTreeMap<String, String>,
    encrypted: bool,
    locked: bool,
    used: Option<u64>,
    volsize: Option<u64>,
    creation: Option<TimeFx>,
    children: BTreeMap<String, Option<DatasetFx>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SnapshotFx {
    Name(String),
    Full(SnapshotObjFx),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotObjFx {
    name: String,
    creation: Option<TimeFx>,
    createtxg: Option<u64>,
    used: Option<u64>,
    referenced: Option<u64>,
    #[serde(default)]
    user_properties: BTreeMap<String, String>,
    #[serde(default)]
    holds: BTreeMap<String, i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ServiceFx {
    enable: bool,
    running: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SshFx {
    tcpport: Option<u16>,
    passwordauth: bool,
    host_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFx {
    username: String,
    uid: u32,
    home: Option<String>,
    shell: Option<String>,
    full_name: Option<String>,
    sshpubkey: Option<String>,
    #[serde(default)]
    sudo_commands: Vec<String>,
    #[serde(default)]
    sudo_commands_nopasswd: Vec<String>,
    #[serde(default)]
    password_disabled: bool,
    #[serde(default)]
    locked: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFx {
    id: Option<u64>,
    name: String,
    #[serde(rename = "type")]
    kind: CredentialType,
    attributes: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct JobFx {
    id: Option<u64>,
    method: Option<String>,
    arguments: Option<Vec<Value>>,
    state: Option<JobState>,
    error: Option<String>,
    result: Value,
    percent: Option<f64>,
    description: Option<String>,
    time_started: Option<TimeFx>,
    time_finished: Option<TimeFx>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StateFx {
    state: Option<TaskStateKind>,
    datetime: Option<TimeFx>,
    error: Option<String>,
    reason: Option<String>,
    warnings: Vec<String>,
    progress: Option<Value>,
    last_snapshot: Option<String>,
}

fn bad(msg: impl Into<String>) -> Problem {
    Problem::error("zfleet::sim::fixture_invalid", msg.into())
        .help("see the fixture format in the documentation of zfleet's `sim::fixture` module")
}

/// Turns a fixture's YAML text into a state; `version` (if given) overrides the fixture's.
/// `default_hostname` is used when the fixture names none.
pub fn load(
    yaml: &str,
    default_hostname: &str,
    version: Option<&str>,
) -> Result<SimState, Problem> {
    let fx: Fixture = if yaml.trim().is_empty() {
        Fixture::default()
    } else {
        serde_saphyr::from_str(yaml)
            .map_err(|e| bad(format!("not a valid fixture: {}", yaml_error(&e))))?
    };
    build(fx, default_hostname, version)
}

/// The YAML reader's message without its excerpt of the text (which it calls `<input>`;
/// the caller names the file): the line, the column and what is wrong there.
fn yaml_error(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim_end()
        .to_string()
}

/// Whether `release` is a bare release line (`25.10`) and `full` a version of it (`25.10.3`).
fn is_release_of(release: &str, full: &str) -> bool {
    let p = Personality::from_version(full);
    super::version::RELEASES.contains(&release)
        && p.is_some()
        && p.map(|p| p.release(full)) == Some(release)
}

/// `25.10` written unquoted in YAML is the number 25.1; read it back as a version.
fn version_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let f = n.as_f64()?;
            let major = f.trunc();
            let minor = ((f - major) * 100.0).round() as i64;
            if major as i64 == 13 {
                Some(format!("13.{}", minor / 10))
            } else {
                Some(format!("{}.{minor:02}", major as i64))
            }
        }
        _ => None,
    }
}

fn build(fx: Fixture, default_hostname: &str, version: Option<&str>) -> Result<SimState, Problem> {
    let own = match &fx.version {
        Some(v) => {
            Some(version_text(v).ok_or_else(|| bad("`version` must be a string like \"25.10\""))?)
        }
        None => None,
    };
    let given = match (version, &own) {
        // A bare release line over a fixture of that line keeps the fixture's patch level.
        (Some(v), Some(o)) if !is_release_of(v, o) => v.to_string(),
        (Some(_), Some(o)) => o.clone(),
        (Some(v), None) => v.to_string(),
        (None, Some(o)) => o.clone(),
        (None, None) => "25.10".into(),
    };
    let p = super::version::parse(&given)?;
    let hostname = fx
        .hostname
        .clone()
        .unwrap_or_else(|| default_hostname.to_string());
    let timezone = fx.timezone.clone().unwrap_or_else(|| "UTC".into());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(bad(format!("unknown timezone `{timezone}`")));
    }
    let mut st = SimState::empty(&hostname, &p.full_version(&given), &timezone);
    st.system.addresses = fx.addresses.clone();
    st.system.enterprise = fx.enterprise;
    if let Some(now) = &fx.now {
        st.clock.frozen_at = Some(now.secs().map_err(bad)?);
    }
    let now = st.now_secs();
    st.system.boottime = match &fx.boottime {
        Some(t) => t.secs().map_err(bad)?,
        None => now - 273906,
    };

    // Datasets.
    let mut flat = Vec::new();
    for (name, ds) in fx.datasets {
        flatten(&name, ds.unwrap_or_default(), &mut flat);
    }
    for (name, ds) in flat {
        add_dataset(&mut st, &name, ds, now)?;
    }

    // Snapshots, oldest first so txgs grow with time.
    let mut snaps = Vec::new();
    for s in fx.snapshots {
        let obj = match s {
            SnapshotFx::Name(name) => SnapshotObjFx {
                name,
                creation: None,
                createtxg: None,
                used: None,
                referenced: None,
                user_properties: BTreeMap::new(),
                holds: BTreeMap::new(),
            },
            SnapshotFx::Full(o) => o,
        };
        let creation = match &obj.creation {
            Some(t) => t.secs().map_err(bad)?,
            None => parse_name_time(&obj.name).unwrap_or(now),
        };
        snaps.push((creation, obj));
    }
    snaps.sort_by_key(|(c, _)| *c);
    for (creation, obj) in snaps {
        let Some((dataset, snap)) = obj.name.split_once('@') else {
            return Err(bad(format!("snapshot `{}` has no `@`", obj.name)));
        };
        if !st.datasets.contains_key(dataset) {
            return Err(bad(format!(
                "snapshot `{}` is of dataset `{dataset}`, which the fixture does not define",
                obj.name
            )));
        }
        let txg = match obj.createtxg {
            Some(t) => {
                st.txg = st.txg.max(t);
                t
            }
            None => st.next_txg(),
        };
        st.snapshots.insert(
            obj.name.clone(),
            Snapshot {
                dataset: dataset.into(),
                name: snap.into(),
                creation,
                createtxg: txg,
                used: obj.used.unwrap_or(0),
                referenced: obj.referenced.unwrap_or(1_299_229_696),
                user_properties: obj.user_properties,
                holds: obj.holds,
            },
        );
    }

    // Services.
    for name in [
        "cifs",
        "ftp",
        "iscsitarget",
        "nfs",
        "snmp",
        "ssh",
        "ups",
        "smartd",
    ] {
        let id = SimState::take_id(&mut st.next_ids.service);
        let f = fx.services.get(name);
        st.services.push(Service {
            id,
            service: name.into(),
            enable: f.is_some_and(|s| s.enable),
            state: if f.is_some_and(|s| s.running) {
                ServiceState::Running
            } else {
                ServiceState::Stopped
            },
        });
    }
    for name in fx.services.keys() {
        if st.service(name).is_none() {
            return Err(bad(format!("unknown service `{name}`")));
        }
    }

    if let Some(ssh) = fx.ssh {
        if let Some(port) = ssh.tcpport {
            st.ssh.tcpport = port;
        }
        st.ssh.passwordauth = ssh.passwordauth;
        st.ssh.host_keys = ssh.host_keys;
    }
    if st.ssh.host_keys.is_empty() {
        st.ssh.host_keys = fake_host_keys(&hostname);
    }

    // Users: root and the admin account unless the fixture defines them.
    let mut users = fx.users;
    if !users.iter().any(|u| u.uid == 0) {
        users.insert(
            0,
            UserFx {
                username: "root".into(),
                uid: 0,
                home: Some("/root".into()),
                shell: Some(
                    if p.is_core() {
                        "/bin/csh"
                    } else {
                        "/usr/bin/zsh"
                    }
                    .into(),
                ),
                full_name: Some("root".into()),
                sshpubkey: None,
                sudo_commands: Vec::new(),
                sudo_commands_nopasswd: Vec::new(),
                password_disabled: !p.is_core(),
                locked: false,
            },
        );
    }
    if !p.is_core() && !users.iter().any(|u| u.uid == 950) {
        let name = if p == Personality::V2404 {
            "admin"
        } else {
            "truenas_admin"
        };
        users.push(UserFx {
            username: name.into(),
            uid: 950,
            home: Some(format!("/home/{name}")),
            shell: Some("/usr/bin/zsh".into()),
            full_name: Some("Local Administrator".into()),
            sshpubkey: None,
            sudo_commands: vec!["ALL".into()],
            sudo_commands_nopasswd: Vec::new(),
            password_disabled: false,
            locked: false,
        });
    }
    for u in users {
        let id = SimState::take_id(&mut st.next_ids.user);
        st.users.push(User {
            id,
            uid: u.uid,
            home: u.home.unwrap_or_else(|| "/var/empty".into()),
            shell: u.shell.unwrap_or_else(|| "/usr/bin/zsh".into()),
            full_name: u.full_name.unwrap_or_else(|| u.username.clone()),
            builtin: u.uid == 0,
            locked: u.locked,
            password_disabled: u.password_disabled,
            sshpubkey: u.sshpubkey.map(|k| k.trim().to_string()),
            sudo_commands: u.sudo_commands,
            sudo_commands_nopasswd: u.sudo_commands_nopasswd,
            group: if u.uid == 0 { 0 } else { u.uid },
            username: u.username,
        });
    }

    // Keychain.
    for c in fx.keychain {
        let id = match c.id {
            Some(id) => {
                st.next_ids.credential = st.next_ids.credential.max(id + 1);
                id
            }
            None => SimState::take_id(&mut st.next_ids.credential),
        };
        if st.keychain.iter().any(|k| k.id == id || k.name == c.name) {
            return Err(bad(format!(
                "keychain credential `{}` is defined twice",
                c.name
            )));
        }
        st.keychain.push(Credential {
            id,
            name: c.name,
            kind: c.kind,
            attributes: c.attributes,
        });
    }

    // Snapshot tasks.
    for mut t in fx.snapshot_tasks {
        let state = take_state(&mut t)?;
        let id = take_fixed_id(&mut t, &mut st.next_ids.snapshot_task)?;
        let mut task = methods::snapshottask::row_from_input(id, &t)
            .map_err(|e| bad(format!("snapshot task {id}: {e}")))?;
        if let Some(s) = state {
            task.state = s;
        }
        st.snapshot_tasks.push(task);
    }

    // Replications.
    for mut r in fx.replications {
        let state = take_state(&mut r)?;
        let job = match r.remove("job") {
            Some(Value::Null) | None => None,
            Some(v) => Some(
                serde_json::from_value::<JobFx>(v)
                    .map_err(|e| bad(format!("replication job: {e}")))?,
            ),
        };
        if let Some(Value::String(name)) = r.get("ssh_credentials").cloned() {
            let id = st
                .keychain
                .iter()
                .find(|k| k.name == name)
                .map(|k| k.id)
                .ok_or_else(|| bad(format!("no keychain credential named `{name}`")))?;
            r.insert("ssh_credentials".into(), json!(id));
        }
        let id = take_fixed_id(&mut r, &mut st.next_ids.replication)?;
        let mut task = methods::replication::row_from_input(id, &r)
            .map_err(|e| bad(format!("replication {id}: {e}")))?;
        if let Some(s) = state {
            task.state = s;
        }
        if let Some(j) = job {
            let mut j = j;
            j.method.get_or_insert_with(|| "replication.run".into());
            j.arguments
                .get_or_insert_with(|| vec![json!(id), json!(true)]);
            task.job = Some(add_job(&mut st, j)?);
        }
        st.replications.push(task);
    }

    for j in fx.jobs {
        add_job(&mut st, j)?;
    }
    Ok(st)
}

fn take_state(obj: &mut Map<String, Value>) -> Result<Option<TaskState>, Problem> {
    let Some(v) = obj.remove("state") else {
        return Ok(None);
    };
    let s: StateFx = serde_json::from_value(v).map_err(|e| bad(format!("state: {e}")))?;
    Ok(Some(TaskState {
        state: s.state.unwrap_or(TaskStateKind::Pending),
        datetime: match s.datetime {
            Some(t) => Some(t.secs().map_err(bad)?),
            None => None,
        },
        error: s.error,
        reason: s.reason,
        warnings: s.warnings,
        progress: s.progress,
        last_snapshot: s.last_snapshot,
    }))
}

fn take_fixed_id(obj: &mut Map<String, Value>, counter: &mut u64) -> Result<u64, Problem> {
    match obj.remove("id") {
        Some(v) => {
            let id = v
                .as_u64()
                .ok_or_else(|| bad("`id` must be a positive integer"))?;
            *counter = (*counter).max(id + 1);
            Ok(id)
        }
        None => Ok(SimState::take_id(counter)),
    }
}

fn add_job(st: &mut SimState, j: JobFx) -> Result<u64, Problem> {
    let id = match j.id {
        Some(id) => {
            st.next_ids.job = st.next_ids.job.max(id + 1);
            id
        }
        None => SimState::take_id(&mut st.next_ids.job),
    };
    if let Some(p) = j.percent
        && !(0.0..=100.0).contains(&p)
    {
        return Err(bad(format!("job percent {p} is not between 0 and 100")));
    }
    let now = st.now_secs();
    let started = match &j.time_started {
        Some(t) => t.secs().map_err(bad)?,
        None => now,
    };
    let state = j.state.unwrap_or(if j.error.is_some() {
        JobState::Failed
    } else {
        JobState::Success
    });
    st.jobs.push(Job {
        id,
        method: j.method.unwrap_or_else(|| "replication.run".into()),
        arguments: j.arguments.unwrap_or_default(),
        description: None,
        abortable: false,
        logs_excerpt: None,
        progress: JobProgress {
            percent: j.percent.unwrap_or(if state == JobState::Success {
                100.0
            } else {
                0.0
            }),
            description: j.description.unwrap_or_default(),
            extra: Value::Null,
        },
        result: j.result,
        error: None,
        exception: None,
        exc_info: None,
        state,
        time_started: started,
        time_finished: match &j.time_finished {
            Some(t) => Some(t.secs().map_err(bad)?),
            None if state.is_finished() => Some(started + 2),
            None => None,
        },
        by_user: true,
    });
    if state == JobState::Failed {
        let err = j.error.unwrap_or_else(|| "Job failed".into());
        // The error as the middleware stores it: `[EFAULT] <reason>`.
        let reason = err.strip_prefix("[EFAULT] ").unwrap_or(&err).to_string();
        let finished = st.jobs.last().and_then(|x| x.time_finished);
        st.fail_job(id, &reason);
        if let Some(job) = st.job_mut(id) {
            job.time_finished = finished;
        }
    }
    Ok(id)
}

/// Collects nested datasets into full names, parents before children.
fn flatten(name: &str, mut ds: DatasetFx, out: &mut Vec<(String, DatasetFx)>) {
    let children = std::mem::take(&mut ds.children);
    out.push((name.to_string(), ds));
    for (child, c) in children {
        flatten(&format!("{name}/{child}"), c.unwrap_or_default(), out);
    }
}

fn add_dataset(st: &mut SimState, name: &str, fx: DatasetFx, now: i64) -> Result<(), Problem> {
    if name.is_empty() || name.contains('@') || name.split('/').any(str::is_empty) {
        return Err(bad(format!("`{name}` is not a dataset name")));
    }
    // Parents first.
    let parts: Vec<&str> = name.split('/').collect();
    for i in 1..parts.len() {
        let parent = parts[..i].join("/");
        if !st.datasets.contains_key(&parent) {
            let txg = st.next_txg();
            st.datasets
                .insert(parent, Dataset::filesystem(now - 86400 * 60, txg));
        }
    }
    let txg = st.next_txg();
    let creation = match &fx.creation {
        Some(t) => t.secs().map_err(bad)?,
        None => now - 86400 * 60,
    };
    let mut ds = st
        .datasets
        .remove(name)
        .unwrap_or_else(|| Dataset::filesystem(creation, txg));
    ds.creation = creation;
    match fx.kind.as_deref() {
        None | Some("filesystem") | Some("FILESYSTEM") => {}
        Some("volume") | Some("VOLUME") | Some("zvol") => {
            ds.kind = DatasetType::Volume;
            ds.volsize = Some(fx.volsize.unwrap_or(10 * 1024 * 1024 * 1024));
        }
        Some(other) => return Err(bad(format!("dataset `{name}`: unknown type `{other}`"))),
    }
    if let Some(ro) = fx.readonly {
        ds.properties.insert(
            "readonly".into(),
            PropValue {
                value: if ro { "on" } else { "off" }.into(),
                source: PropSource::Local,
            },
        );
    }
    for (src, props) in [
        (PropSource::Local, fx.properties),
        (PropSource::Received, fx.received),
    ] {
        for (k, v) in props {
            let value = match v {
                Value::String(s) => s,
                Value::Bool(true) => "on".into(),
                Value::Bool(false) => "off".into(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(bad(format!(
                        "dataset `{name}`: property `{k}` must be a scalar"
                    )));
                }
            };
            ds.properties.insert(k, PropValue { value, source: src });
        }
    }
    for (k, v) in fx.user_properties {
        if !k.contains(':') {
            return Err(bad(format!(
                "dataset `{name}`: user property `{k}` needs a `namespace:` prefix"
            )));
        }
        ds.user_properties.insert(
            k,
            PropValue {
                value: v,
                source: PropSource::Local,
            },
        );
    }
    if let Some(u) = fx.used {
        ds.used = u;
    }
    if fx.encrypted {
        ds.encrypted = true;
        ds.encryption_root = Some(name.to_string());
        ds.key_loaded = !fx.locked;
    } else if let Some((parent, _)) = name.rsplit_once('/')
        && let Some(p) = st.datasets.get(parent)
        && p.encrypted
    {
        // Children of an encrypted dataset share its encryption root.
        ds.encrypted = true;
        ds.encryption_root = p.encryption_root.clone();
        ds.key_loaded = p.key_loaded;
    }
    st.datasets.insert(name.to_string(), ds);
    Ok(())
}

/// A snapshot name's time if it looks like `auto-2025-10-30_13-00` (best effort).
fn parse_name_time(full: &str) -> Option<i64> {
    let snap = full.split_once('@')?.1;
    let digits: String = snap.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 12 {
        return None;
    }
    let n = chrono::NaiveDateTime::parse_from_str(&digits[..12], "%Y%m%d%H%M").ok()?;
    Some(n.and_utc().timestamp())
}

/// Well-formed but fake host keys (ed25519, ecdsa, rsa blobs) derived from the host name, so
/// every simulated system has stable, distinct keys to scan and pin.
pub fn fake_host_keys(hostname: &str) -> Vec<String> {
    let seed: Vec<u8> = {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut out = Vec::new();
        for i in 0..64u64 {
            for b in hostname.bytes() {
                h ^= u64::from(b) ^ i;
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            out.push((h >> 24) as u8);
        }
        out
    };
    let ssh_string = |b: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    };
    let mut ed = Vec::new();
    ssh_string(b"ssh-ed25519", &mut ed);
    ssh_string(&seed[..32], &mut ed);
    let mut ec = Vec::new();
    ssh_string(b"ecdsa-sha2-nistp256", &mut ec);
    ssh_string(b"nistp256", &mut ec);
    let mut point = vec![4u8];
    point.extend_from_slice(&seed);
    ssh_string(&point, &mut ec);
    let mut rsa = Vec::new();
    ssh_string(b"ssh-rsa", &mut rsa);
    ssh_string(&[1, 0, 1], &mut rsa);
    let mut modulus = vec![0u8];
    for _ in 0..6 {
        modulus.extend_from_slice(&seed);
    }
    ssh_string(&modulus, &mut rsa);
    vec![
        format!("ssh-rsa {}", base64(&rsa)),
        format!("ecdsa-sha2-nistp256 {}", base64(&ec)),
        format!("ssh-ed25519 {}", base64(&ed)),
    ]
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fixture_is_a_bare_2510() {
        let st = load("{}", "nas1", None).unwrap();
        assert_eq!(st.system.version, "25.10.1");
        assert_eq!(st.system.hostname, "nas1");
        assert!(st.users.iter().any(|u| u.uid == 0));
        assert!(
            st.users
                .iter()
                .any(|u| u.uid == 950 && u.username == "truenas_admin")
        );
        assert_eq!(st.service("ssh").map(|s| s.enable), Some(false));
    }

    #[test]
    fn nested_and_flat_datasets_and_failed_replication() {
        let yaml = r#"
version: 24.04
hostname: nas2
now: 2025-10-30T13:00:00Z
datasets:
  tank:
    children:
      data: { user_properties: { "zfleet:owned": "yes" }, children: { photos: {} } }
  backup/nas1/data: { readonly: true }
snapshots:
  - tank/data@auto-2025-10-30_12-00
services: { ssh: { enable: true, running: true } }
snapshot_tasks:
  - { dataset: tank/data, recursive: true }
replications:
  - name: offsite
    direction: PUSH
    transport: LOCAL
    source_datasets: [tank/data]
    target_dataset: backup/nas1/data
    recursive: true
    auto: true
    retention_policy: SOURCE
    periodic_snapshot_tasks: [1]
    state: { state: ERROR, datetime: 2025-10-30T12:00:05Z, error: "Broken." }
    job: { state: FAILED, error: "Broken." }
"#;
        let st = load(yaml, "x", None).unwrap();
        assert_eq!(st.system.version, "24.04.2");
        assert!(st.datasets.contains_key("backup/nas1"));
        assert!(st.datasets.contains_key("tank/data/photos"));
        assert!(st.is_readonly("backup/nas1/data"));
        assert!(!st.is_readonly("backup/nas1"));
        let up = st.effective_user_props("tank/data/photos");
        assert_eq!(up["zfleet:owned"].1, PropSource::Inherited);
        assert_eq!(
            st.snapshots["tank/data@auto-2025-10-30_12-00"].creation,
            1761825600
        );
        let r = &st.replications[0];
        assert_eq!(r.state.state, TaskStateKind::Error);
        let job = st.jobs.iter().find(|j| Some(j.id) == r.job).unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.error.as_deref(), Some("[EFAULT] Broken."));
        assert_eq!(job.arguments, vec![json!(1), json!(true)]);
    }

    #[test]
    fn rejects_unknown_keys_and_versions() {
        assert!(load("hostnme: x", "x", None).is_err());
        assert_eq!(
            load("{}", "x", Some("26.04")).unwrap_err().code,
            "zfleet::sim::version_unknown"
        );
    }

    #[test]
    fn core_13_3_and_release_overrides() {
        assert_eq!(
            load("version: 13.3", "x", None).unwrap().system.version,
            "13.3-U1.1"
        );
        assert_eq!(
            load("{}", "x", Some("13.3")).unwrap().system.version,
            "13.3-U1.1"
        );
        // The release line over a full version of it keeps the patch level; another line wins.
        let fx = "version: 25.10.3";
        assert_eq!(
            load(fx, "x", Some("25.10")).unwrap().system.version,
            "25.10.3"
        );
        assert_eq!(
            load(fx, "x", Some("24.04")).unwrap().system.version,
            "24.04.2"
        );
        assert_eq!(
            load(fx, "x", Some("25.10.2")).unwrap().system.version,
            "25.10.2"
        );
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
    }
}
