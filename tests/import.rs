//! `zfleet import` end to end on simulated fleets of every TrueNAS version: what it writes
//! is valid config, plans nothing but adoptions, and after `apply` plans nothing at all;
//! tasks of other projects and secrets stay out of it.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::{Fleet, Run};
use serde_json::Value;

/// The private key of `nas`'s replication key pair: it must never leave the system.
const SECRET: &str = "IMPORT-TEST-PRIVATE-KEY-MATERIAL";

const BACKUP_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICU+pkPwy7HX8P4nj4UxGr+kU+tXTO+JK97Pk+oS8s+s";
const NAS_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJb96CzfKNMNgovQPZV59PaU+ELM1oaK1z6zX/SybZP8";
const LAB_HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHOuuoRNzrb5MaejdYQs7cqSuA4B1ia4pL/oKJ+ndA3g";
const NAS_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINRmhXni4Dz3snsf+W1PBrmv1mC6y5aTWVUh25LX10h+";
const BACKUP_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICPPACb1CjE/QVlOFen+sTN58CJfc3YcsW7F+bxvz4SF";

/// `nas`: eleven snapshot tasks made by hand (one more belongs to project `other`) and six
/// push replications: SSH, SSH+netcat and local; recursive with excludes; bound to
/// snapshot tasks or by naming schema; custom, none and source retention; manual, preset,
/// cron and windowed schedules; disabled ones.
fn nas_fixture() -> String {
    format!(
        r#"hostname: nas
addresses: [192.0.2.10]
datasets:
  tank:
    children:
      data: {{ children: {{ photos: {{}}, scratch: {{}}, docs: {{}} }} }}
      media: {{}}
      vm: {{}}
      home: {{ children: {{ alice: {{}}, bob: {{}} }} }}
      projects: {{}}
      logs: {{}}
      copies: {{}}
      other: {{ user_properties: {{ "zfleet:other:st-12": '{{"name":"theirs"}}' }} }}
services:
  ssh: {{ enable: true, running: true }}
ssh: {{ host_keys: ["{NAS_HOST_KEY}"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{BACKUP_KEY} repl@backup" }}
keychain:
  - name: backup key
    type: SSH_KEY_PAIR
    attributes:
      private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\n{SECRET}\n-----END OPENSSH PRIVATE KEY-----\n"
      public_key: "{NAS_KEY} repl@nas"
  - name: backup
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.20, port: 22, username: root, private_key: 1, remote_host_key: "{BACKUP_HOST_KEY}" }}
snapshot_tasks:
  - {{ dataset: tank/data, recursive: true, exclude: [tank/data/scratch], lifetime_value: 2, lifetime_unit: WEEK, schedule: {{ minute: "0" }} }}
  - {{ dataset: tank/data, recursive: true, naming_schema: "daily-%Y-%m-%d_%H-%M", lifetime_value: 8, lifetime_unit: WEEK, schedule: {{ minute: "0", hour: "0" }} }}
  - {{ dataset: tank/media, lifetime_value: 6, lifetime_unit: MONTH, schedule: {{ minute: "0", hour: "0", dow: "7" }} }}
  - {{ dataset: tank/vm, naming_schema: "vm-%Y%m%d-%H%M", lifetime_value: 3, lifetime_unit: DAY, schedule: {{ minute: "15", hour: "*/4" }} }}
  - {{ dataset: tank/home, recursive: true, lifetime_value: 36, lifetime_unit: HOUR, schedule: {{ minute: "0", begin: "08:00", end: "18:00" }} }}
  - {{ dataset: tank/projects, lifetime_value: 1, lifetime_unit: YEAR, schedule: {{ minute: "0", hour: "0", dom: "1" }} }}
  - {{ dataset: tank/logs, enabled: false, allow_empty: false, lifetime_value: 2, lifetime_unit: WEEK, schedule: {{ minute: "30", hour: "2" }} }}
  - {{ dataset: tank/media, naming_schema: "media-%Y-%m-%d_%H-%M", lifetime_value: 2, lifetime_unit: DAY, schedule: {{ minute: "0" }} }}
  - {{ dataset: tank/data, lifetime_value: 1, lifetime_unit: WEEK, schedule: {{ minute: "0" }} }}
  - {{ dataset: tank/data/photos, lifetime_value: 2, lifetime_unit: WEEK, schedule: {{ minute: "0", hour: "3", dow: "1-5" }} }}
  - {{ dataset: tank/projects, naming_schema: "hourly-%Y-%m-%d_%H-%M", lifetime_value: 2, lifetime_unit: DAY, schedule: {{ minute: "0" }} }}
  - {{ dataset: tank/other, lifetime_value: 2, lifetime_unit: WEEK, schedule: {{ minute: "0" }} }}
snapshots:
  - tank/data@auto-2025-10-30_12-00
  - tank/data/photos@auto-2025-10-30_12-00
  - tank/data/docs@auto-2025-10-30_12-00
  - tank/data/scratch@auto-2025-10-30_12-00
  - tank/media@auto-2025-10-26_00-00
  - tank/media@media-2025-10-30_12-00
  - tank/vm@vm-20251030-1215
  - tank/home@auto-2025-10-30_12-00
  - tank/home/alice@auto-2025-10-30_12-00
  - tank/home/bob@auto-2025-10-30_12-00
  - tank/projects@auto-2025-10-01_00-00
  - tank/projects@hourly-2025-10-30_12-00
  - tank/logs@auto-2025-10-30_02-30
replications:
  - {{ name: data to backup, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/data], target_dataset: backup/nas/data, recursive: true, exclude: [tank/data/scratch], auto: true, retention_policy: SOURCE, periodic_snapshot_tasks: [1] }}
  - {{ name: media to backup, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/media], recursive: false, target_dataset: backup/nas/media, auto: true, schedule: {{ minute: "0", hour: "0", dow: "7" }}, retention_policy: CUSTOM, lifetime_value: 12, lifetime_unit: WEEK, compression: LZ4, speed_limit: 1048576, periodic_snapshot_tasks: [3] }}
  - {{ name: local copy, direction: PUSH, transport: LOCAL, source_datasets: [tank/projects], recursive: false, target_dataset: tank/copies/projects, auto: true, schedule: {{ minute: "0", hour: "0" }}, readonly: IGNORE, retention_policy: NONE, periodic_snapshot_tasks: [6] }}
  - {{ name: vm on demand, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/vm], recursive: false, target_dataset: backup/nas/vm, auto: false, also_include_naming_schema: ["vm-%Y%m%d-%H%M"], retention_policy: SOURCE, retries: 3, properties: false, enabled: false }}
  - {{ name: home over netcat, direction: PUSH, transport: SSH+NETCAT, ssh_credentials: backup, source_datasets: [tank/home], target_dataset: backup/nas/home, recursive: true, exclude: [tank/home/bob], auto: true, schedule: {{ minute: "0", hour: "1" }}, retention_policy: SOURCE, periodic_snapshot_tasks: [5] }}
  - {{ name: photos with holds, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/data/photos], recursive: false, target_dataset: backup/nas/photos, auto: true, schedule: {{ minute: "0", hour: "*/2", begin: "06:00", end: "22:00" }}, retention_policy: SOURCE, hold_pending_snapshots: true, allow_from_scratch: true, properties_exclude: [mountpoint], periodic_snapshot_tasks: [10] }}
  - {{ name: archive, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/projects], recursive: false, target_dataset: backup/archive, auto: true, schedule: {{ minute: "0", hour: "4" }}, retention_policy: SOURCE, also_include_naming_schema: ["hourly-%Y-%m-%d_%H-%M"] }}
"#
    )
}

/// `backup`: two snapshot tasks and two pull replications from `nas`.
fn backup_fixture() -> String {
    format!(
        r#"hostname: backup
addresses: [192.0.2.20]
datasets:
  backup:
    children:
      nas: {{}}
      lab: {{}}
      pulled: {{}}
services:
  ssh: {{ enable: true, running: true }}
ssh: {{ host_keys: ["{BACKUP_HOST_KEY}"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{NAS_KEY} repl@nas\n{LAB_HOST_KEY} repl@lab" }}
keychain:
  - name: nas key
    type: SSH_KEY_PAIR
    attributes: {{ public_key: "{BACKUP_KEY} repl@backup" }}
  - name: nas
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.10, port: 22, username: root, private_key: 1, remote_host_key: "{NAS_HOST_KEY}" }}
snapshot_tasks:
  - {{ dataset: backup/nas, recursive: true, lifetime_value: 4, lifetime_unit: WEEK, schedule: {{ minute: "0", hour: "0" }} }}
  - {{ dataset: backup/pulled, recursive: true, naming_schema: "weekly-%Y-%m-%d_%H-%M", lifetime_value: 26, lifetime_unit: WEEK, schedule: {{ minute: "0", hour: "0", dow: "7" }} }}
snapshots:
  - backup/nas@auto-2025-10-30_00-00
  - backup/pulled@weekly-2025-10-26_00-00
replications:
  - {{ name: pull logs, direction: PULL, transport: SSH, ssh_credentials: nas, source_datasets: [tank/logs], recursive: false, target_dataset: backup/pulled/logs, naming_schema: ["auto-%Y-%m-%d_%H-%M"], auto: true, schedule: {{ minute: "0", hour: "0" }}, retention_policy: CUSTOM, lifetime_value: 4, lifetime_unit: WEEK }}
  - {{ name: pull media, direction: PULL, transport: SSH, ssh_credentials: nas, source_datasets: [tank/media], recursive: false, target_dataset: backup/pulled/media, naming_schema: ["media-%Y-%m-%d_%H-%M", "auto-%Y-%m-%d_%H-%M"], auto: true, schedule: {{ minute: "0" }}, readonly: IGNORE, retention_policy: SOURCE }}
"#
    )
}

/// `lab`: one snapshot task and a push named like one of `nas`'s, into the same target
/// with the same settings: one replication with two sources.
fn lab_fixture() -> String {
    format!(
        r#"hostname: lab
addresses: [192.0.2.30]
datasets:
  lab: {{ children: {{ stuff: {{}} }} }}
services:
  ssh: {{ enable: true, running: true }}
keychain:
  - name: backup key
    type: SSH_KEY_PAIR
    attributes: {{ public_key: "{LAB_HOST_KEY} repl@lab" }}
  - name: backup
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.20, port: 22, username: root, private_key: 1, remote_host_key: "{BACKUP_HOST_KEY}" }}
snapshot_tasks:
  - {{ dataset: lab/stuff, naming_schema: "hourly-%Y-%m-%d_%H-%M", lifetime_value: 2, lifetime_unit: DAY, schedule: {{ minute: "0" }} }}
snapshots:
  - lab/stuff@hourly-2025-10-30_12-00
replications:
  - {{ name: archive, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [lab/stuff], recursive: false, target_dataset: backup/archive, auto: true, schedule: {{ minute: "0", hour: "4" }}, retention_policy: SOURCE, also_include_naming_schema: ["hourly-%Y-%m-%d_%H-%M"] }}
"#
    )
}

/// Tasks made by hand: snapshot tasks and TrueNAS replication tasks.
const HAND_MADE: usize = 11 + 2 + 1 + 7 + 2 + 1;

fn fleet(version: &str) -> Fleet {
    let mut f = Fleet::new();
    f.system("nas", version, &nas_fixture())
        .system("backup", version, &backup_fixture())
        .system("lab", version, &lab_fixture())
        .config("acme", "");
    f
}

/// Asserts that nothing a run printed holds the private key.
fn no_secret(run: &Run) {
    assert!(!run.stdout.contains(SECRET), "stdout: {}", run.stdout);
    assert!(!run.stderr.contains(SECRET), "stderr: {}", run.stderr);
}

/// The config without its comments and `adopt` lines.
fn body(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.trim() != "adopt: true")
        .map(|l| format!("{l}\n"))
        .collect()
}

fn ledger_records(f: &Fleet) -> usize {
    ["nas", "backup", "lab"]
        .iter()
        .flat_map(|s| f.records(s).into_values())
        .flat_map(|m| m.into_keys())
        .filter(|k| k.starts_with("zfleet:acme:"))
        .count()
}

fn round_trip(version: &str) {
    let f = fleet(version);

    // Without --adopt: tasks made by hand are left out, each with the reason.
    let run = f.zfleet(&["import"]);
    run.expect(0);
    no_secret(&run);
    assert!(!run.stdout.contains("snapshot_tasks:"), "{}", run.stdout);
    let hand_made = run
        .stderr
        .lines()
        .filter(|l| l.ends_with("made by hand; `zfleet import --adopt` declares it, and the next apply takes it over"))
        .count();
    assert_eq!(hand_made, HAND_MADE, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "left out: snapshot task #12 (tank/other, auto-%Y-%m-%d_%H-%M) on nas: managed by project other; it belongs in that project's config\n"
        ),
        "{}",
        run.stderr
    );

    // With --adopt, into a file.
    let run = f.zfleet(&["import", "--adopt", "-o", "imported.yaml"]);
    run.expect(0);
    no_secret(&run);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.ends_with(
            "Imported 14 snapshot tasks and 9 replications from 3 systems into imported.yaml; 1 left out.\n"
        ),
        "{}",
        run.stderr
    );
    let written = std::fs::read_to_string(f.path().join("imported.yaml")).expect("written");
    assert!(!written.contains(SECRET));
    assert!(written.contains("  archive:\n    sources:\n      - { system: lab, datasets: [lab/stuff], naming_schema: hourly-%Y-%m-%d_%H-%M }\n      - { system: nas, datasets: [tank/projects], naming_schema: hourly-%Y-%m-%d_%H-%M }\n"), "{written}");

    f.zfleet(&["validate", "-f", "imported.yaml"]).expect(0);
    let run = f.zfleet(&["plan", "-f", "imported.yaml", "--json"]);
    run.expect(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let actions: Vec<&Value> = plan["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .flat_map(|s| s["actions"].as_array().expect("actions"))
        .collect();
    assert_eq!(actions.len(), HAND_MADE, "{}", run.stdout);
    for a in &actions {
        assert_eq!(a["op"], "adopt", "{a}");
        assert_eq!(a["changes"], Value::Array(vec![]), "{a}");
    }
    assert_eq!(ledger_records(&f), 0);

    let run = f.zfleet(&["apply", "-f", "imported.yaml", "--yes"]);
    run.expect(0);
    no_secret(&run);
    f.zfleet(&["plan", "-f", "imported.yaml", "--detailed-exitcode"])
        .expect(0);
    assert_eq!(ledger_records(&f), HAND_MADE);

    // Managed now: imported again without --adopt, under the same names, and still no change.
    let run = f.zfleet(&["import", "-o", "again.yaml"]);
    run.expect(0);
    let again = std::fs::read_to_string(f.path().join("again.yaml")).expect("written");
    assert_eq!(body(&again), body(&written));
    f.zfleet(&["plan", "-f", "again.yaml", "--detailed-exitcode"])
        .expect(0);

    let trace = std::fs::read_to_string(f.trace_file()).unwrap_or_default();
    assert!(!trace.contains(SECRET));
}

#[test]
fn round_trip_13_3() {
    round_trip("13.3");
}

#[test]
fn round_trip_24_04() {
    round_trip("24.04");
}

#[test]
fn round_trip_24_10() {
    round_trip("24.10");
}

#[test]
fn round_trip_25_04() {
    round_trip("25.04");
}

#[test]
fn round_trip_25_10() {
    round_trip("25.10");
}

/// A small fleet for the golden output: one task of each kind, one replication the config
/// cannot describe (`name_regex`), one whose other end is no system of the config.
fn small_fleet() -> Fleet {
    let mut f = Fleet::new();
    let nas = format!(
        r#"hostname: nas
datasets:
  tank: {{ children: {{ data: {{}}, media: {{}} }} }}
services:
  ssh: {{ enable: true, running: true }}
ssh: {{ host_keys: ["{NAS_HOST_KEY}"] }}
keychain:
  - name: backup key
    type: SSH_KEY_PAIR
    attributes: {{ private_key: "{SECRET}", public_key: "{NAS_KEY} repl@nas" }}
  - name: backup
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.20, port: 22, username: root, private_key: 1, remote_host_key: "{BACKUP_HOST_KEY}" }}
  - name: elsewhere
    type: SSH_CREDENTIALS
    attributes: {{ host: 203.0.113.9, port: 22, username: root, private_key: 1, remote_host_key: "{LAB_HOST_KEY}" }}
snapshot_tasks:
  - {{ dataset: tank/data, recursive: true, lifetime_value: 2, lifetime_unit: WEEK, schedule: {{ minute: "0" }} }}
  - {{ dataset: tank/media, naming_schema: "media-%Y%m%d-%H%M", lifetime_value: 90, lifetime_unit: DAY, schedule: {{ minute: "30", hour: "1-5", begin: "01:00", end: "05:59" }} }}
snapshots:
  - tank/data@auto-2025-10-30_12-00
  - tank/media@media-20251030-0130
replications:
  - {{ name: offsite, direction: PUSH, transport: SSH, ssh_credentials: backup, source_datasets: [tank/data], target_dataset: backup/nas/data, recursive: true, auto: true, schedule: {{ minute: "0", hour: "3" }}, retention_policy: CUSTOM, lifetime_value: 4, lifetime_unit: WEEK, periodic_snapshot_tasks: [1] }}
  - {{ name: far away, direction: PUSH, transport: SSH, ssh_credentials: elsewhere, source_datasets: [tank/media], target_dataset: vault/media, recursive: false, auto: false, retention_policy: SOURCE, periodic_snapshot_tasks: [2] }}
"#
    );
    let backup = format!(
        r#"hostname: backup
datasets:
  backup: {{ children: {{ nas: {{}} }} }}
services:
  ssh: {{ enable: true, running: true }}
ssh: {{ host_keys: ["{BACKUP_HOST_KEY}"] }}
users:
  - {{ username: root, uid: 0, home: /root, sshpubkey: "{NAS_KEY} repl@nas" }}
keychain:
  - name: nas key
    type: SSH_KEY_PAIR
    attributes: {{ public_key: "{BACKUP_KEY} repl@backup" }}
  - name: nas
    type: SSH_CREDENTIALS
    attributes: {{ host: 192.0.2.10, port: 22, username: root, private_key: 1, remote_host_key: "{NAS_HOST_KEY}" }}
replications:
  - {{ name: pull by regex, direction: PULL, transport: SSH, ssh_credentials: nas, source_datasets: [tank/media], target_dataset: backup/nas/media, recursive: false, name_regex: "^media-.*", auto: true, schedule: {{ minute: "0" }}, retention_policy: SOURCE }}
  - {{ name: pull with holds, direction: PULL, transport: SSH, ssh_credentials: nas, source_datasets: [tank/data], target_dataset: backup/nas/held, recursive: false, naming_schema: ["auto-%Y-%m-%d_%H-%M"], hold_pending_snapshots: true, auto: true, schedule: {{ minute: "0" }}, retention_policy: SOURCE }}
  - {{ name: pull media, direction: PULL, transport: SSH, ssh_credentials: nas, source_datasets: [tank/media], target_dataset: backup/nas/media, recursive: false, naming_schema: ["media-%Y%m%d-%H%M"], auto: true, schedule: {{ minute: "0" }}, retention_policy: SOURCE }}
"#
    );
    f.system("nas", "25.10", &nas)
        .system("backup", "25.10", &backup)
        .config("acme", "");
    f
}

#[test]
fn golden_output_of_a_small_fleet() {
    let f = small_fleet();
    let run = f.zfleet(&["import", "--adopt"]);
    run.expect(0);
    no_secret(&run);
    // The first line says when; everything else is the same on every run.
    let (when, rest) = run.stdout.split_once('\n').expect("lines");
    assert!(
        when.starts_with("# Imported by `zfleet import` on 20"),
        "{when}"
    );
    assert!(when.ends_with(" UTC from:"), "{when}");
    insta::assert_snapshot!("small_fleet", rest);
    assert_eq!(
        run.stderr,
        "\
left out: replication #1 \"pull by regex\" on backup: the config cannot say its name_regex as TrueNAS has it
left out: replication #2 \"pull with holds\" on backup: written, it is not valid: Pull replication tasks can't hold pending snapshots because they don't do source retention
left out: replication #3 \"pull media\" on backup: the key of its SSH connection is not authorised on nas, and plan would add it
left out: replication #2 \"far away\" on nas: its SSH connection \"elsewhere\" reaches 203.0.113.9, which is no system of the config
Imported 2 snapshot tasks and 1 replication from 2 systems; 4 left out.
"
    );
    std::fs::write(f.path().join("imported.yaml"), &run.stdout).expect("write");
    f.zfleet(&["validate", "-f", "imported.yaml"]).expect(0);
    let run = f.zfleet(&["plan", "-f", "imported.yaml", "--json"]);
    run.expect(0);
    let plan: Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    assert_eq!(plan["summary"]["add"], 0, "{}", run.stdout);
    assert_eq!(plan["summary"]["change"], 3, "{}", run.stdout);
    assert_eq!(plan["summary"]["delete"], 0, "{}", run.stdout);
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let f = small_fleet();
    let target = f.path().join("out.yaml");
    std::fs::write(&target, "keep me\n").expect("write");
    let run = f.zfleet(&["import", "-o", "out.yaml"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.codes(), ["zfleet::import::output_exists"]);
    assert!(run.stderr.contains("out.yaml exists"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep me\n");

    let run = f.zfleet(&["import", "-o", "out.yaml", "--force"]);
    run.expect(0);
    let text = std::fs::read_to_string(&target).expect("read");
    assert!(text.contains("project: acme\n"), "{text}");
    assert!(!text.contains(SECRET));
    assert!(
        run.stderr.ends_with(
            "Imported 0 snapshot tasks and 0 replications from 2 systems into out.yaml; 7 left out.\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn system_selects_whose_tasks_are_imported() {
    let f = fleet("25.10");
    let run = f.zfleet(&["import", "--adopt", "--system", "lab"]);
    run.expect(0);
    let tasks: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':'))
        .collect();
    assert_eq!(tasks, ["  lab-lab-stuff-hourly:", "  archive:"]);
    assert!(
        run.stdout.contains(
            "    sources:\n      - { system: lab, datasets: [lab/stuff], naming_schema: hourly-%Y-%m-%d_%H-%M }\n    target: { system: backup, dataset: backup/archive }\n"
        ),
        "{}",
        run.stdout
    );

    let run = f.zfleet(&["import", "--system", "nsa"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert_eq!(run.codes(), ["zfleet::cli::no_such_system"]);
}
