//! What the reconciler relies on in the simulator, per version, as the middleware and
//! zettarepl do it: `pool.snapshottask.run` in the background, RSA key pairs generated on
//! the system, `keychaincredential.setup_ssh_connection`, SSH connections that fail like
//! paramiko (host key, authorised key) in replications and `replication.list_datasets`, and
//! the retention preview / `fixate_removal_date` of snapshot tasks.
//!
//! Run: `cargo test --test sim_fidelity_reconciler`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use zfleet::sim::{self, MidcltOutput};

const SCALE: &[&str] = &["24.04", "24.10", "25.04", "25.10"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

/// A fresh nas1 state of `version`, alone in its fleet directory.
fn nas1(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture("nas1.yaml")), Some(version)).unwrap();
    (dir, state)
}

fn call_raw(state: &Path, method: &str, args: &[Value]) -> MidcltOutput {
    let mut argv = vec!["call".to_string(), method.to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    sim::midclt(state, &argv)
}

/// One call that must succeed; its result.
fn call(state: &Path, method: &str, args: &[Value]) -> Value {
    let out = call_raw(state, method, args);
    assert_eq!(out.exit, 0, "{method} {args:?} failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The first line of a failed call's stderr (the error; a traceback may follow).
fn error_line(state: &Path, method: &str, args: &[Value]) -> String {
    let out = call_raw(state, method, args);
    assert_eq!(
        out.exit, 1,
        "{method} {args:?} did not fail: {}",
        out.stdout
    );
    out.stderr.lines().next().unwrap_or_default().to_string()
}

/// A failed call's error lines (validation errors: one line each).
fn errors(state: &Path, method: &str, args: &[Value]) -> Vec<String> {
    let out = call_raw(state, method, args);
    assert_eq!(
        out.exit, 1,
        "{method} {args:?} did not fail: {}",
        out.stdout
    );
    out.stderr.lines().map(String::from).collect()
}

fn snapshot_names(state: &Path, dataset: &str) -> Vec<String> {
    let rows = call(
        state,
        "zfs.snapshot.query",
        &[
            json!([["dataset", "=", dataset]]),
            json!({"select": ["name"]}),
        ],
    );
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

// --- pool.snapshottask.run -------------------------------------------------------------

/// plugins/snapshot.py `run` only queues `run_task` for zettarepl and returns None; the
/// snapshot and the task's state come afterwards (here: on the next call).
#[test]
fn run_returns_null_and_the_snapshot_follows() {
    for version in SCALE.iter().chain(&["13.3"]) {
        let (_d, st) = nas1(version);
        // nas1's clock stands at 2025-10-30 14:05 UTC, 15:05 in Berlin.
        let out = call_raw(&st, "pool.snapshottask.run", &[json!(1)]);
        assert_eq!((out.stdout.as_str(), out.exit), ("null\n", 0), "{version}");
        // The call itself took nothing: zettarepl has yet to run the task.
        let saved = sim::load(&st).unwrap();
        assert!(
            !saved
                .snapshots
                .contains_key("tank/data@auto-2025-10-30_15-05")
        );
        let names = snapshot_names(&st, "tank/data");
        assert!(
            names.contains(&"tank/data@auto-2025-10-30_15-05".to_string()),
            "{version}: {names:?}"
        );
        let task = call(&st, "pool.snapshottask.get_instance", &[json!(1)]);
        assert_eq!(task["state"]["state"], "FINISHED", "{version}");
        assert_eq!(
            task["state"]["datetime"],
            json!({"$date": 1_761_833_100_000_i64}),
            "{version}"
        );
        // Only 25.10's observer records the snapshot taken (`set_last_snapshot`).
        let last = task["state"].get("last_snapshot").cloned();
        if *version == "25.10" {
            assert_eq!(last, Some(json!("tank/data@auto-2025-10-30_15-05")));
        } else {
            assert_eq!(last, None, "{version}");
        }
        // The excluded child got none (zettarepl's channel program skips it).
        assert!(
            !snapshot_names(&st, "tank/data/scratch")
                .contains(&"tank/data/scratch@auto-2025-10-30_15-05".to_string())
        );
    }
}

/// A second run in the same minute meets the snapshot it took: zettarepl's
/// `create_snapshot` fails and the task shows ERROR with that sentence (with `exclude` it is
/// the channel program's per-snapshot `File exists`); nothing else is created.
#[test]
fn a_run_whose_snapshot_exists_fails_as_zettarepl_reports_it() {
    for version in ["25.10", "24.04"] {
        let (_d, st) = nas1(version);
        call(&st, "pool.snapshottask.run", &[json!(1)]);
        let before = snapshot_names(&st, "tank/data/photos");
        call(&st, "pool.snapshottask.run", &[json!(1)]);
        let task = call(&st, "pool.snapshottask.get_instance", &[json!(1)]);
        assert_eq!(task["state"]["state"], "ERROR", "{version}");
        assert_eq!(
            task["state"]["error"],
            "Failed to create following snapshots:\n'tank/data@auto-2025-10-30_15-05': File exists\n'tank/data/photos@auto-2025-10-30_15-05': File exists.",
            "{version}"
        );
        assert_eq!(snapshot_names(&st, "tank/data/photos"), before);
    }
}

/// Without `exclude`, `zfs snapshot -r` fails with libzfs's line per existing snapshot.
#[test]
fn a_plain_recursive_task_fails_with_libzfs_lines() {
    let (_d, st) = nas1("25.10");
    let id = call(
        &st,
        "pool.snapshottask.create",
        &[json!({"dataset": "tank/data", "recursive": true, "naming_schema": "m-%Y-%m-%d_%H-%M"})],
    )["id"]
        .clone();
    call(&st, "pool.snapshottask.run", std::slice::from_ref(&id));
    call(&st, "pool.snapshottask.run", std::slice::from_ref(&id));
    let task = call(&st, "pool.snapshottask.get_instance", &[id]);
    assert_eq!(
        task["state"]["error"],
        "cannot create snapshot 'tank/data@m-2025-10-30_15-05': dataset already exists\ncannot create snapshot 'tank/data/photos@m-2025-10-30_15-05': dataset already exists\ncannot create snapshot 'tank/data/scratch@m-2025-10-30_15-05': dataset already exists."
    );
}

#[test]
fn a_disabled_task_is_refused_at_once() {
    let (_d, st) = nas1("25.10");
    assert_eq!(
        error_line(&st, "pool.snapshottask.run", &[json!(2)]),
        "[EFAULT] Task is not enabled"
    );
}

// --- keychaincredential.generate_ssh_key_pair ----------------------------------------

/// plugins/keychain.py runs `ssh-keygen -t rsa -f key -N "" -q` as root and returns both
/// files verbatim: OpenSSH's default RSA size (3072), comment `root@<hostname>`, newlines.
#[test]
fn generated_key_pairs_are_ssh_keygen_rsa() {
    for version in ["25.10", "24.04", "13.3"] {
        let (_d, st) = nas1(version);
        let pair = call(&st, "keychaincredential.generate_ssh_key_pair", &[]);
        let keys: Vec<&String> = pair.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["private_key", "public_key"]);
        let private = pair["private_key"].as_str().unwrap();
        let public = pair["public_key"].as_str().unwrap();
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert!(private.ends_with("-----END OPENSSH PRIVATE KEY-----\n"));
        assert!(public.starts_with("ssh-rsa AAAA") && public.ends_with(" root@nas1\n"));
        let key = russh::keys::ssh_key::PrivateKey::from_openssh(private).unwrap();
        assert!(!key.is_encrypted());
        let rsa = key.key_data().rsa().unwrap();
        assert_eq!(rsa.public().key_size(), 3072);
        assert_eq!(
            format!("{}\n", key.public_key().to_openssh().unwrap()),
            public
        );
    }
}

// --- keychaincredential.setup_ssh_connection -----------------------------------------

fn manual(key: Value, name: &str) -> Value {
    json!({
        "setup_type": "MANUAL",
        "connection_name": name,
        "private_key": key,
        "manual_setup": {"host": "192.0.2.20", "remote_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleEd25519HostKey"},
    })
}

/// A key pair generated on the system, then the connection (plugins/keychain_/
/// ssh_connections.py): the result is the SSH_CREDENTIALS entry with the defaults filled.
#[test]
fn setup_generates_the_key_on_the_system() {
    for version in SCALE {
        let (_d, st) = nas1(version);
        let made = call(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(
                json!({"generate_key": true, "name": "to-backup key"}),
                "to-backup",
            )],
        );
        assert_eq!(
            made,
            json!({"id": 4, "name": "to-backup", "type": "SSH_CREDENTIALS", "attributes": {
                "host": "192.0.2.20", "port": 22, "username": "root", "private_key": 3,
                "remote_host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleEd25519HostKey",
                "connect_timeout": 10}}),
            "{version}"
        );
        let key = call(&st, "keychaincredential.get_instance", &[json!(3)]);
        assert_eq!(key["name"], "to-backup key");
        assert_eq!(key["type"], "SSH_KEY_PAIR");
        let public = key["attributes"]["public_key"].as_str().unwrap();
        assert!(public.starts_with("ssh-rsa ") && public.ends_with(" root@nas1\n"));
    }
}

#[test]
fn setup_with_an_existing_key() {
    for version in SCALE {
        let (_d, st) = nas1(version);
        let made = call(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(
                json!({"generate_key": false, "existing_key_id": 1}),
                "again",
            )],
        );
        assert_eq!(made["id"], 3, "{version}");
        assert_eq!(made["attributes"]["private_key"], 1, "{version}");
    }
}

/// 25.x models: the `generate_key` tag is required (a missing tag is `Field required` at
/// the tag); the plugin's own checks come all at once, with its schema name.
#[test]
fn setup_errors_on_25x() {
    let (_d, st) = nas1("25.10");
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(json!({"name": "k"}), "c")]
        ),
        ["[EINVAL] options.MANUAL.private_key.generate_key: Field required"]
    );
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[json!({"connection_name": "c"})]
        ),
        ["[EINVAL] options.setup_type: Field required"]
    );
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(
                json!({"generate_key": true, "name": "backup key"}),
                "backup"
            )]
        ),
        [
            "[EINVAL] setup_ssh_connection.private_key.name: Is already in use by another SSH Key pair",
            "[EINVAL] setup_ssh_connection.connection_name: Is already in use by another Keychain Credential",
        ]
    );
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(
                json!({"generate_key": false, "existing_key_id": 9}),
                "c"
            )]
        ),
        ["[EINVAL] setup_ssh_connection.private_key.existing_key_id: SSH Key Pair not found"]
    );
    let mut no_key = manual(json!({"generate_key": true, "name": "k"}), "c");
    no_key["manual_setup"]
        .as_object_mut()
        .unwrap()
        .remove("remote_host_key");
    assert_eq!(
        errors(&st, "keychaincredential.setup_ssh_connection", &[no_key]),
        ["[EINVAL] options.MANUAL.manual_setup.remote_host_key: Field required"]
    );
}

/// 24.x: `generate_key` defaults to true and the plugin checks the rest; the credential is
/// made by `keychaincredential.create`, and a key pair generated for it is deleted again
/// when that fails.
#[test]
fn setup_errors_on_24x() {
    let (_d, st) = nas1("24.10");
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[json!({"connection_name": "c", "setup_type": "MANUAL"})]
        ),
        [
            "[EINVAL] setup_ssh_connection.private_key.name: Must be set when SSH Key pair is to be generated",
            "[EINVAL] setup_ssh_connection.manual_setup: Must be specified for 'MANUAL' setup",
        ]
    );
    let keys_before = call(&st, "keychaincredential.query", &[]);
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[
                json!({"connection_name": "c", "setup_type": "MANUAL", "private_key": {"name": "k"}, "manual_setup": {"host": "192.0.2.20"}})
            ]
        ),
        ["[EINVAL] keychain_credential_create.attributes.remote_host_key: attribute required"]
    );
    // `Str('setup_type', required=True, default='MANUAL')`: required wins over the default.
    assert_eq!(
        errors(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[
                json!({"connection_name": "c", "private_key": {"name": "k"}, "manual_setup": {"host": "h"}})
            ]
        ),
        ["[EINVAL] setup_ssh_connection.setup_type: attribute required"]
    );
    assert_eq!(call(&st, "keychaincredential.query", &[]), keys_before);
}

/// CORE 13 has no such method: the unknown-method error.
#[test]
fn setup_does_not_exist_on_core() {
    let (_d, st) = nas1("13.3");
    assert_eq!(
        error_line(
            &st,
            "keychaincredential.setup_ssh_connection",
            &[manual(json!({"generate_key": true, "name": "k"}), "c")]
        ),
        "[ENOMETHOD] Method 'setup_ssh_connection' not found in 'keychaincredential'"
    );
}

// --- SSH connections as paramiko meets them ------------------------------------------

const BACKUP_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj";
const OTHER_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K";
const PAIR_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICPPACb1CjE/QVlOFen+sTN58CJfc3YcsW7F+bxvz4SF";

/// nas1 (with a key pair and a connection to 192.0.2.20 pinning `pinned`) and backup (host
/// key `BACKUP_HOST_KEY`; root authorises `authorized`).
fn pair(version: &str, pinned: &str, authorized: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let nas1 = format!(
        r#"
version: "{version}"
hostname: nas1
now: 2025-10-30T13:30:00Z
addresses: [192.0.2.10]
datasets: {{ tank: {{ children: {{ data: {{}} }} }} }}
snapshots: [ {{ name: tank/data@auto-2025-10-30_13-00, creation: 2025-10-30T13:00:00Z }} ]
keychain:
  - {{ name: backup key, type: SSH_KEY_PAIR, attributes: {{ public_key: "{PAIR_KEY} zfleet" }} }}
  - {{ name: backup, type: SSH_CREDENTIALS, attributes: {{ host: 192.0.2.20, private_key: 1, remote_host_key: "{pinned}" }} }}
"#
    );
    let backup = format!(
        r#"
version: "{version}"
hostname: backup
now: 2025-10-30T13:30:00Z
addresses: [192.0.2.20]
datasets: {{ backup: {{ children: {{ nas1: {{}}, .system: {{}} }} }}, boot-pool: {{}} }}
services: {{ ssh: {{ enable: true, running: true }} }}
ssh: {{ tcpport: 22, host_keys: ["{BACKUP_HOST_KEY}"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{authorized}" }}
"#
    );
    let mut paths = Vec::new();
    for (name, text) in [("nas1", nas1), ("backup", backup)] {
        let fx = dir.path().join(format!("{name}.yaml.in"));
        std::fs::write(&fx, text).unwrap();
        let state = dir.path().join(format!("{name}.json"));
        sim::seed(&state, Some(&fx), None).unwrap();
        std::fs::remove_file(&fx).unwrap();
        paths.push(state);
    }
    (dir, paths[0].clone(), paths[1].clone())
}

/// `replication.list_datasets` proves a connection: the remote's datasets, sorted, without
/// boot pools and `.system` (plugins/zettarepl.py `INVALID_DATASETS`).
#[test]
fn list_datasets_through_a_working_connection() {
    for version in SCALE {
        let (_d, nas1, _b) = pair(version, BACKUP_HOST_KEY, PAIR_KEY);
        assert_eq!(
            call(
                &nas1,
                "replication.list_datasets",
                &[json!("SSH"), json!(2)]
            ),
            json!(["backup", "backup/nas1"]),
            "{version}"
        );
        assert_eq!(
            call(&nas1, "replication.list_datasets", &[json!("LOCAL")]),
            json!(["tank", "tank/data"]),
            "{version}"
        );
    }
}

/// A pinned host key that is not the server's: paramiko's BadHostKeyException, which the
/// middleware turns into its own sentence with the MD5 fingerprint of the key sent (SCALE).
#[test]
fn list_datasets_refuses_a_changed_host_key() {
    for version in SCALE {
        let (_d, nas1, _b) = pair(version, OTHER_HOST_KEY, PAIR_KEY);
        assert_eq!(
            error_line(
                &nas1,
                "replication.list_datasets",
                &[json!("SSH"), json!(2)]
            ),
            "[EACCES] Remote host identification has changed. Someone could be eavesdropping on you right now (man-in-the-middle attack)! It is also possible that a host key has just been changed. The fingerprint for the RSA key sent by the remote host is 5f:c7:f5:8e:52:4c:56:a0:59:3f:e6:a5:f6:d:91:1c. Please edit your SSH connection and click \"Discover Remote Host Key\" to resolve this issue.",
            "{version}"
        );
    }
    // CORE 13.3's `_handle_ssh_exceptions` has no such sentence: `repr(e)`.
    let (_d, nas1, _b) = pair("13.3", OTHER_HOST_KEY, PAIR_KEY);
    assert_eq!(
        error_line(
            &nas1,
            "replication.list_datasets",
            &[json!("SSH"), json!(2)]
        ),
        "[EACCES] BadHostKeyException('192.0.2.20', PKey(alg=ED25519, bits=256, fp=SHA256:pd74UqIehMeRVwzIeSfSFzTurtyBXCSUCi7iY9gyzoY), PKey(alg=ED25519, bits=256, fp=SHA256:iy87fAIeP8B+xWz/+Xj8UOw4JBKh0l2NdsvH0wjSjR4))"
    );
}

/// A key pair the remote user does not authorise: paramiko's AuthenticationException,
/// `repr`'d by the middleware.
#[test]
fn list_datasets_refuses_an_unauthorised_key() {
    for version in SCALE {
        let (_d, nas1, _b) = pair(version, BACKUP_HOST_KEY, OTHER_HOST_KEY);
        assert_eq!(
            error_line(
                &nas1,
                "replication.list_datasets",
                &[json!("SSH"), json!(2)]
            ),
            "[EACCES] AuthenticationException('Authentication failed.')",
            "{version}"
        );
    }
}

/// No host key stored at all: paramiko's default `RejectPolicy` refuses the server.
#[test]
fn list_datasets_refuses_an_unknown_host() {
    let (_d, nas1, _b) = pair("25.04", "", PAIR_KEY);
    assert_eq!(
        error_line(
            &nas1,
            "replication.list_datasets",
            &[json!("SSH"), json!(2)]
        ),
        "[EACCES] SSHException(\"Server '192.0.2.20' not found in known_hosts\")"
    );
}

fn replicate(nas1: &Path) -> Value {
    let id = call(
        nas1,
        "replication.create",
        &[json!({
            "name": "r", "direction": "PUSH", "transport": "SSH", "ssh_credentials": 2,
            "source_datasets": ["tank/data"], "target_dataset": "backup/nas1/data",
            "recursive": false, "auto": false, "retention_policy": "NONE",
            "also_include_naming_schema": ["auto-%Y-%m-%d_%H-%M"],
        })],
    )["id"]
        .clone();
    let job = call(nas1, "replication.run", std::slice::from_ref(&id));
    sim::jobs::drive_to_end(nas1, job.as_u64().unwrap()).unwrap();
    call(nas1, "replication.get_instance", &[id])["state"].clone()
}

/// The same failures end a replication run with zettarepl's `str(e)` made a sentence.
#[test]
fn replication_runs_fail_like_paramiko() {
    let (_d, nas1, _b) = pair("25.10", OTHER_HOST_KEY, PAIR_KEY);
    let state = replicate(&nas1);
    assert_eq!(state["state"], "ERROR");
    assert_eq!(
        state["error"],
        "Host key for server '192.0.2.20' does not match: got 'AAAAC3NzaC1lZDI1NTE5AAAAINgT6nW3KmZdiANyl4NNWxOR+6z4PhLDF0HW9XnSZ8Gj', expected 'AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K'."
    );
    let (_d, nas1, _b) = pair("25.10", BACKUP_HOST_KEY, OTHER_HOST_KEY);
    assert_eq!(replicate(&nas1)["error"], "Authentication failed.");
    let (_d, nas1, backup) = pair("25.10", BACKUP_HOST_KEY, PAIR_KEY);
    assert_eq!(replicate(&nas1)["state"], "FINISHED");
    assert_eq!(
        snapshot_names(&backup, "backup/nas1/data"),
        ["backup/nas1/data@auto-2025-10-30_13-00"]
    );
}

/// The reconciler's way: scan the host key, let the system make the key pair and the
/// connection, authorise the public key on the target; the connection then works.
#[test]
fn scanned_key_and_generated_pair_make_a_working_connection() {
    for version in SCALE {
        let (_d, nas1, backup) = pair(version, BACKUP_HOST_KEY, OTHER_HOST_KEY);
        // midclt prints a string result as it is.
        let scanned = call_raw(
            &nas1,
            "keychaincredential.remote_ssh_host_key_scan",
            &[json!({"host": "192.0.2.20"})],
        )
        .stdout;
        assert_eq!(scanned, format!("{BACKUP_HOST_KEY}\n"), "{version}");
        let scanned = scanned.trim_end();
        let made = call(
            &nas1,
            "keychaincredential.setup_ssh_connection",
            &[json!({"setup_type": "MANUAL", "connection_name": "new",
                "private_key": {"generate_key": true, "name": "new key"},
                "manual_setup": {"host": "192.0.2.20", "remote_host_key": scanned}})],
        );
        let cred = made["id"].clone();
        assert_eq!(
            error_line(
                &nas1,
                "replication.list_datasets",
                &[json!("SSH"), cred.clone()]
            ),
            "[EACCES] AuthenticationException('Authentication failed.')"
        );
        let key = call(
            &nas1,
            "keychaincredential.get_instance",
            &[made["attributes"]["private_key"].clone()],
        );
        let public = key["attributes"]["public_key"].as_str().unwrap().trim();
        call(
            &backup,
            "user.update",
            &[
                json!(1),
                json!({"sshpubkey": format!("{OTHER_HOST_KEY}\n{public}")}),
            ],
        );
        assert_eq!(
            call(&nas1, "replication.list_datasets", &[json!("SSH"), cred]),
            json!(["backup", "backup/nas1"]),
            "{version}"
        );
    }
}

/// The test fixtures' connection (nas1 → backup as truenas_admin) works too.
#[test]
fn fixture_connection_works() {
    let (dir, st) = nas1("25.10");
    sim::seed(
        &dir.path().join("backup.json"),
        Some(&fixture("backup.yaml")),
        None,
    )
    .unwrap();
    assert_eq!(
        call(&st, "replication.list_datasets", &[json!("SSH"), json!(2)]),
        json!([
            "backup",
            "backup/archive",
            "backup/nas1",
            "backup/nas1/data",
            "backup/nas1/data/photos"
        ])
    );
}

/// Every connection of the example fleets to a system of the same fleet works: the stored
/// host key is the target's and the key pair is authorised there.
#[test]
fn example_fleet_connections_work() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for fleet in ["homelab", "troubled"] {
        let dir = tempfile::tempdir().unwrap();
        let src = examples.join(fleet).join("sim");
        let mut states = Vec::new();
        for e in std::fs::read_dir(&src).unwrap() {
            let fx = e.unwrap().path();
            let name = fx.file_stem().unwrap().to_string_lossy().into_owned();
            let state = dir.path().join(format!("{name}.json"));
            sim::seed(&state, Some(&fx), None).unwrap();
            states.push(state);
        }
        for state in &states {
            let creds = call(
                state,
                "keychaincredential.query",
                &[json!([["type", "=", "SSH_CREDENTIALS"]])],
            );
            for c in creds.as_array().unwrap() {
                let host = c["attributes"]["host"].as_str().unwrap();
                let in_fleet = states.iter().any(|s| {
                    let info = sim::load(s).unwrap();
                    info.system.hostname == host || info.system.addresses.iter().any(|a| a == host)
                });
                if !in_fleet {
                    continue;
                }
                let out = call_raw(
                    state,
                    "replication.list_datasets",
                    &[json!("SSH"), c["id"].clone()],
                );
                // The troubled fleet's beta and offsite have their SSH services stopped on
                // purpose.
                let refused = format!(
                    "[EACCES] NoValidConnectionsError(None, 'Unable to connect to port 22 on {host}')"
                );
                let expected = if ["beta.acme.internal", "offsite.acme.example"].contains(&host) {
                    (1, refused.as_str())
                } else {
                    (0, "")
                };
                assert_eq!(
                    (out.exit, out.stderr.lines().next().unwrap_or_default()),
                    expected,
                    "{fleet} {}: {}",
                    state.display(),
                    c["name"]
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6, "connections checked");
}

// --- retention preview and fixate_removal_date -----------------------------------------

/// plugins/snapshot_/task_retention.py: the snapshots the task owns (tree, naming schema,
/// a time its schedule runs), grouped by dataset in `sorted()` order of the full names.
#[test]
fn delete_preview_lists_what_the_task_owns() {
    for version in SCALE {
        let (_d, st) = nas1(version);
        let got = call(
            &st,
            "pool.snapshottask.delete_will_change_retention_for",
            &[json!(1)],
        );
        let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
        assert_eq!(
            keys.first().map(|k| k.as_str()),
            Some("tank/data/photos"),
            "{version}: {got}"
        );
        assert_eq!(
            keys.last().map(|k| k.as_str()),
            Some("tank/data"),
            "{version}: {got}"
        );
        assert!(got.get("tank/data/scratch").is_none(), "excluded: {got}");
        for list in got.as_object().unwrap().values() {
            let names: Vec<&str> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted);
            assert!(
                names
                    .iter()
                    .all(|n| n.starts_with("auto-") && n.ends_with("-00")),
                "{names:?}"
            );
        }
    }
}

/// Only snapshots the task would stop owning count: a new lifetime changes nothing here, a
/// new naming schema or a schedule that no longer runs at their times does.
#[test]
fn update_preview_is_the_ownership_difference() {
    for version in SCALE {
        let (_d, st) = nas1(version);
        let m = "pool.snapshottask.update_will_change_retention_for";
        let all = call(
            &st,
            "pool.snapshottask.delete_will_change_retention_for",
            &[json!(1)],
        );
        assert!(!all.as_object().unwrap().is_empty());
        assert_eq!(
            call(
                &st,
                m,
                &[
                    json!(1),
                    json!({"lifetime_value": 1, "lifetime_unit": "HOUR"})
                ]
            ),
            json!({}),
            "{version}"
        );
        assert_eq!(
            call(
                &st,
                m,
                &[json!(1), json!({"naming_schema": "new-%Y-%m-%d_%H-%M"})]
            ),
            all,
            "{version}"
        );
        let daily =
            json!({"schedule": {"minute": "0", "hour": "0", "dom": "*", "month": "*", "dow": "*"}});
        let got = call(&st, m, &[json!(1), daily]);
        let photos: Vec<&str> = got["tank/data/photos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        assert!(
            !photos.iter().any(|n| n.ends_with("_00-00")),
            "{version}: {photos:?}"
        );
        assert!(!photos.is_empty());
        assert_eq!(
            call(
                &st,
                m,
                &[
                    json!(1),
                    json!({"exclude": ["tank/data/scratch", "tank/data/photos"]})
                ]
            ),
            json!({"tank/data/photos": all["tank/data/photos"]}),
            "{version}"
        );
    }
}

#[test]
fn retention_previews_do_not_exist_on_core() {
    let (_d, st) = nas1("13.3");
    assert_eq!(
        error_line(
            &st,
            "pool.snapshottask.delete_will_change_retention_for",
            &[json!(1)]
        ),
        "[ENOMETHOD] Method 'delete_will_change_retention_for' not found in 'pool.snapshottask'"
    );
}

/// With `fixate_removal_date` the snapshots the task lets go keep the removal date they had
/// (time in the name + the old lifetime); retention destroys them then, and not before.
/// Without it nobody owns them any more and they stay.
#[test]
fn fixate_removal_date_pins_and_retention_honours_it() {
    for (fixate, kept_after) in [(true, false), (false, true)] {
        let (dir, st) = nas1("25.10");
        let before = snapshot_names(&st, "tank/data");
        assert!(before.contains(&"tank/data@auto-2025-10-30_13-00".to_string()));
        let mut data = json!({"naming_schema": "new-%Y-%m-%d_%H-%M"});
        if fixate {
            data["fixate_removal_date"] = json!(true);
        }
        call(&st, "pool.snapshottask.update", &[json!(1), data]);
        let rows = call(
            &st,
            "zfs.snapshot.query",
            &[json!([["name", "=", "tank/data@auto-2025-10-30_13-00"]])],
        );
        let props = rows[0]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let pinned: Vec<_> = props
            .iter()
            .filter(|(k, _)| k.starts_with("org.truenas:destroy_at_"))
            .collect();
        if fixate {
            // 13:00 Berlin + 2 weeks.
            assert_eq!(pinned.len(), 1, "{props:?}");
            assert_eq!(pinned[0].1["value"], "2025-11-13T13:00:00", "{props:?}");
        } else {
            assert!(pinned.is_empty(), "{props:?}");
        }
        // Thirteen days on: still there either way.
        sim::jobs::advance(dir.path(), 13 * 86_400).unwrap();
        assert!(
            snapshot_names(&st, "tank/data")
                .contains(&"tank/data@auto-2025-10-30_13-00".to_string())
        );
        // Past its date.
        sim::jobs::advance(dir.path(), 2 * 86_400).unwrap();
        assert_eq!(
            snapshot_names(&st, "tank/data")
                .contains(&"tank/data@auto-2025-10-30_13-00".to_string()),
            kept_after,
            "fixate={fixate}"
        );
    }
}

/// `delete(id, {"fixate_removal_date": true})` pins the task's snapshots the same way.
#[test]
fn delete_with_fixate_pins_the_tasks_snapshots() {
    let (_d, st) = nas1("24.10");
    // The replication bound to task 1 must let go first.
    call(
        &st,
        "replication.update",
        &[json!(1), json!({"enabled": false})],
    );
    // 24.x midclt prints Python's repr of the result.
    let out = call_raw(
        &st,
        "pool.snapshottask.delete",
        &[json!(1), json!({"fixate_removal_date": true})],
    );
    assert_eq!((out.stdout.as_str(), out.exit), ("True\n", 0));
    let rows = call(
        &st,
        "zfs.snapshot.query",
        &[json!([[
            "name",
            "=",
            "tank/data/photos@auto-2025-10-30_13-00"
        ]])],
    );
    let props = rows[0]["properties"].as_object().cloned().unwrap();
    assert!(
        props
            .keys()
            .any(|k| k.starts_with("org.truenas:destroy_at_")),
        "{props:?}"
    );
}
