//! SSH connections apply makes when none reaches the other end, the keys it authorises, and
//! `apply --run` following the replications it made to their end.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::{BACKUP_HOST_KEY, Fleet};
use serde_json::Value;

/// A key of backup's root that was there before zfleet and must stay.
const OTHER_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxkBNbOoqL3lTnNmFbE8ZcF0f4v9cXz3HnJ3Jmn9z2W admin@laptop";

/// `SHA256:…` of [`BACKUP_HOST_KEY`].
const BACKUP_FINGERPRINT: &str = "SHA256:T4XYV1qthE0Q5ATqrkTPXpLZI20etMqw4qGYHa4nrzI";

/// `SHA256:…` of nas1's key pair, [`fleet::NAS1_KEY`].
const NAS1_FINGERPRINT: &str = "SHA256:Dqa4J9BWquLtImG0TzULmlKfYhO3BwPzNuhkh6xaGUc";

const CONFIG: &str = r#"snapshot_tasks:
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
replications:
  media-offsite:
    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
"#;

/// nas1 (25.10) with no SSH connection at all; backup (25.04) whose root has one key.
fn unconnected() -> Fleet {
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        "datasets: { tank: { children: { media: {} } } }\nservices: { ssh: { enable: true, running: true } }\n",
    )
    .system(
        "backup",
        "25.04",
        &format!(
            "datasets: {{ backup: {{ children: {{ nas1: {{}} }} }} }}\nservices: {{ ssh: {{ enable: true, running: true }} }}\nssh: {{ host_keys: [\"{BACKUP_HOST_KEY}\"] }}\nusers:\n  - {{ username: root, uid: 0, home: /root, sshpubkey: \"{OTHER_KEY}\" }}\n"
        ),
    )
    .config("e2e", CONFIG);
    f
}

fn root_keys(f: &Fleet, system: &str) -> String {
    let users = f.call(system, "user.query", &[r#"[["username", "=", "root"]]"#]);
    users[0]["sshpubkey"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn keychain(f: &Fleet, system: &str) -> Vec<Value> {
    match f.call(system, "keychaincredential.query", &[]) {
        Value::Array(items) => items,
        other => panic!("keychain: {other}"),
    }
}

fn snapshots(f: &Fleet, system: &str, method: &str, dataset: &str) -> Vec<String> {
    let filter = format!(r#"[["dataset", "=", "{dataset}"]]"#);
    match f.call(system, method, &[&filter]) {
        Value::Array(items) => items
            .iter()
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect(),
        other => panic!("snapshots: {other}"),
    }
}

const NO_CHANGES: &str = "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n";

#[test]
fn a_push_replication_with_no_connection_gets_one_and_runs() {
    let f = unconnected();
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.starts_with(&format!(
            "\
backup (TrueNAS 25.04.2)
   ~ update authorized key of nas1 for user root (#1)  # zfleet-e2e-backup on nas1 logs in with it
      sshpubkey  + the public key of zfleet-e2e-backup key on nas1

nas1 (TrueNAS 25.10.1)
   + create SSH connection zfleet-e2e-backup to backup
      host      backup:22
      username  root
      host key  {BACKUP_FINGERPRINT}
      key pair  zfleet-e2e-backup key (generated on nas1)
   + create snapshot task media-daily
"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "   + create replication media-offsite\n      direction                PUSH\n      transport                SSH\n      ssh_credentials          zfleet-e2e-backup\n"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .ends_with("\nPlan: 3 to add, 1 to change, 0 to delete.\n")
    );

    let apply = f.zfleet(&["apply", "--yes", "--run"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "\n✓ backup: update authorized key of nas1 for user root — done\n✓ nas1: create SSH connection zfleet-e2e-backup to backup — done\n✓ nas1: create snapshot task media-daily — done\n✓ nas1: create replication media-offsite — done\nApply: 4 done, 0 failed, 0 skipped.\n✓ nas1: run of replication media-offsite — SUCCESS\n"
        ),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stderr
            .contains("nas1: making SSH connection zfleet-e2e-backup to backup\n"),
        "{}",
        apply.stderr
    );

    // The host key is scanned from nas1 before the connection is made, and the connection
    // is proven before any task uses it.
    let calls: Vec<String> = f
        .traced_methods("nas1")
        .into_iter()
        .filter(|m| m.starts_with("keychaincredential.") || m.starts_with("replication."))
        .filter(|m| !m.ends_with(".query") || m.starts_with("keychaincredential."))
        .collect();
    let scan = calls
        .iter()
        .position(|m| m == "keychaincredential.remote_ssh_host_key_scan")
        .expect("host key scanned");
    assert_eq!(
        calls[scan..],
        [
            "keychaincredential.remote_ssh_host_key_scan",
            "keychaincredential.setup_ssh_connection",
            "keychaincredential.query",
            "replication.list_datasets",
            "replication.create",
            "replication.run",
        ],
        "{calls:?}"
    );
    // On nas1: a generated key pair and a connection pinning backup's host key.
    let keys = keychain(&f, "nas1");
    let pair = keys
        .iter()
        .find(|k| k["name"] == "zfleet-e2e-backup key")
        .expect("key pair");
    assert_eq!(pair["type"], "SSH_KEY_PAIR");
    let public = pair["attributes"]["public_key"]
        .as_str()
        .expect("public key");
    let conn = keys
        .iter()
        .find(|k| k["name"] == "zfleet-e2e-backup")
        .expect("connection");
    assert_eq!(conn["type"], "SSH_CREDENTIALS");
    assert_eq!(
        (
            &conn["attributes"]["host"],
            &conn["attributes"]["username"],
            &conn["attributes"]["private_key"],
            &conn["attributes"]["remote_host_key"]
        ),
        (
            &Value::from("backup"),
            &Value::from("root"),
            &pair["id"],
            &Value::from(BACKUP_HOST_KEY)
        )
    );
    assert_eq!(
        f.replications("nas1")[0]["ssh_credentials"]["id"],
        conn["id"]
    );
    // On backup: the new key appended to root's, the key that was there kept.
    let authorized = root_keys(&f, "backup");
    let lines: Vec<&str> = authorized.lines().collect();
    assert_eq!(lines, [OTHER_KEY, public.trim()], "{authorized}");
    // The run sent the new task's snapshot.
    assert_eq!(
        snapshots(&f, "backup", "zfs.snapshot.query", "backup/nas1/media"),
        ["backup/nas1/media@auto-2025-10-30_13-30"]
    );

    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(20);
}

#[test]
fn run_on_apply_replicates_without_the_flag() {
    let mut f = unconnected();
    f.config(
        "e2e",
        &CONFIG.replace(
            "retention: source",
            "retention: source\n    run_on_apply: true",
        ),
    );
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply
            .stdout
            .ends_with("Apply: 4 done, 0 failed, 0 skipped.\n✓ nas1: run of replication media-offsite — SUCCESS\n"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        snapshots(&f, "backup", "zfs.snapshot.query", "backup/nas1/media"),
        ["backup/nas1/media@auto-2025-10-30_13-30"]
    );
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn a_reused_connection_whose_key_is_not_authorised_gets_it_authorised() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system(
            "backup",
            "25.04",
            &fleet::backup_fixture().replace(&format!("{} k", fleet::NAS1_KEY), OTHER_KEY),
        )
        .config("e2e", CONFIG);
    let plan = f.zfleet(&["plan", "--detailed-exitcode"]);
    plan.expect(2);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.starts_with(&format!(
            "backup (TrueNAS 25.04.2)\n   ~ update authorized key of nas1 for user root (#1)  # to-backup logs in with this key\n      sshpubkey  + {NAS1_FINGERPRINT}\n\nnas1 (TrueNAS 25.10.1)\n   + create snapshot task media-daily\n"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("      ssh_credentials          to-backup\n"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("create SSH connection"));
    let apply = f.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply
            .stdout
            .contains("\n✓ backup: update authorized key of nas1 for user root — done\n"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        root_keys(&f, "backup").lines().collect::<Vec<_>>(),
        [OTHER_KEY, &format!("{} k", fleet::NAS1_KEY)]
    );
    assert_eq!(keychain(&f, "nas1").len(), 2, "no new connection");
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(20);
}

/// nas1 with its connection to backup, a new snapshot task and the replication using it.
fn connected() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system("backup", "25.04", &fleet::backup_fixture())
        .config("e2e", CONFIG);
    f
}

#[test]
fn apply_run_sends_the_new_task_s_snapshot_to_the_target() {
    let f = connected();
    let apply = f.zfleet(&["apply", "--yes", "--run"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "\n✓ nas1: create snapshot task media-daily — done\n✓ nas1: create replication media-offsite — done\nApply: 2 done, 0 failed, 0 skipped.\n✓ nas1: run of replication media-offsite — SUCCESS\n"
        ),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stderr
            .contains("nas1: running the new snapshot task of tank/media first\n"),
        "{}",
        apply.stderr
    );
    let source = snapshots(&f, "nas1", "pool.snapshot.query", "tank/media");
    assert_eq!(source, ["tank/media@auto-2025-10-30_13-30"]);
    assert_eq!(
        snapshots(&f, "backup", "zfs.snapshot.query", "backup/nas1/media"),
        ["backup/nas1/media@auto-2025-10-30_13-30"]
    );
    assert_eq!(f.replications("nas1")[0]["state"]["state"], "FINISHED");
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    f.assert_trace_valid(20);
}

#[test]
fn a_failed_run_after_apply_exits_1_with_truenas_s_error() {
    let f = connected();
    f.zfleet(&["plan"]).expect(0);
    f.faults("nas1", &["--fail", "replication.run"]);
    let apply = f.zfleet(&["apply", "--yes", "--run"]);
    apply.expect(1);
    assert!(
        apply.stdout.ends_with(
            "\nApply: 2 done, 0 failed, 0 skipped.\n✗ nas1: run of replication media-offsite — failed\n    nas1: replication.run: [EFAULT] Injected failure of replication.run\n"
        ),
        "{}",
        apply.stdout
    );
    assert_eq!(apply.codes(), ["zfleet::apply::failed"]);
    assert!(
        apply.stderr.ends_with(
            "zfleet::apply::failed\n\n  × a replication run after apply did not succeed\n  help: the lines above give TrueNAS's error; `zfleet plan` shows the tasks are in place\n\n"
        ),
        "{}",
        apply.stderr
    );
    assert!(
        snapshots(&f, "backup", "zfs.snapshot.query", "backup/nas1/media").is_empty(),
        "nothing was sent"
    );
    // The tasks are in place: only the run failed.
    f.faults("nas1", &[]);
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
}
