//! The apply lock: applies of the same fleet at once are serialised per system, a lock
//! held by someone else makes apply wait and then fail naming the holder, and
//! `--break-lock` removes a lock a dead apply left behind.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use fleet::Fleet;

const CONFIG: &str = r#"snapshot_tasks:
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, schedule: hourly, lifetime: 2 weeks }
snapshots:
  - { system: backup, dataset: backup/nas1, naming_schema: "manual-%Y-%m-%d_%H-%M" }
replications:
  media-offsite:
    sources: [ { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] } ]
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
"#;

const NO_CHANGES: &str = "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n";

fn fleet() -> Fleet {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .system("backup", "25.04", &fleet::backup_fixture())
        .config("e2e", CONFIG);
    f
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Leaves the lock of an apply that died a minute ago on nas1's pool.
fn leave_lock(f: &Fleet) -> u64 {
    let since = unix_now() - 60;
    let holder = serde_json::json!({
        "token": "0123456789abcdef", "host": "ci-runner-7", "pid": 4242, "project": "e2e", "since": since,
    });
    let update = serde_json::json!({
        "user_properties_update": [ { "key": "zfleet:lock", "value": holder.to_string() } ]
    });
    f.call(
        "nas1",
        "pool.dataset.update",
        &["\"tank\"", &update.to_string()],
    );
    since
}

fn lock_of(f: &Fleet, system: &str, pool: &str) -> Option<String> {
    f.records(system)
        .get(pool)
        .and_then(|r| r.get("zfleet:lock"))
        .cloned()
}

/// nas1 alone: snapshot tasks, a one-time snapshot and a local replication.
const ONE_SYSTEM: &str = r#"snapshot_tasks:
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, schedule: hourly, lifetime: 2 weeks }
snapshots:
  - { system: nas1, dataset: tank/media, naming_schema: "manual-%Y-%m-%d_%H-%M" }
replications:
  data-local:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: nas1, dataset: tank/local/data }
    recursive: true
    retention: source
"#;

/// Two `zfleet apply --yes ARGS` of the same fleet started at once.
fn two_at_once(f: &Fleet, args: &[&str]) -> [fleet::Run; 2] {
    let mut all = vec!["apply", "--yes"];
    all.extend_from_slice(args);
    std::thread::scope(|s| {
        let a = s.spawn(|| f.zfleet(&all));
        let b = s.spawn(|| f.zfleet(&all));
        [
            a.join().expect("first apply"),
            b.join().expect("second apply"),
        ]
    })
}

/// One of the runs made everything (`done` actions); the other either found nothing left
/// to do (it planned after the first finished) or found the state moved once it held the
/// lock, and changed nothing.
fn assert_serialised(runs: &[fleet::Run; 2], done: usize) {
    let all_done = format!("Apply: {done} done, 0 failed, 0 skipped.\n");
    let winners = runs
        .iter()
        .filter(|r| r.code == Some(0) && r.stdout.ends_with(&all_done))
        .count();
    assert_eq!(winners, 1, "{runs:#?}");
    for r in runs {
        assert!(!r.stdout.contains("locked by"), "{r:#?}");
        if r.stdout.ends_with(&all_done) {
            continue;
        }
        match r.code {
            Some(0) => assert!(
                r.stdout
                    .ends_with("No changes. The live state matches the config.\n"),
                "{r:#?}"
            ),
            Some(1) => {
                assert!(
                    r.stdout
                        .contains("its live state moved since the plan was made"),
                    "{r:#?}"
                );
                assert!(!r.stdout.contains("— done"), "{r:#?}");
            }
            other => panic!("exit {other:?}: {r:#?}"),
        }
    }
}

#[test]
fn two_applies_at_once_on_one_system_are_serialised_and_make_nothing_twice() {
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture())
        .config("e2e", ONE_SYSTEM);
    let runs = two_at_once(&f, &[]);
    assert_serialised(&runs, 4);
    assert_eq!(f.snapshot_tasks("nas1").len(), 2);
    assert_eq!(f.replications("nas1").len(), 1);
    let manual = f.call(
        "nas1",
        "pool.snapshot.query",
        &[r#"[["name", "^", "tank/media@manual-"]]"#],
    );
    assert_eq!(manual.as_array().map(Vec::len), Some(1), "{manual}");
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(
        again.stdout,
        "nas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n"
    );
    assert_eq!(lock_of(&f, "nas1", "tank"), None, "given back");
    f.assert_trace_valid(20);
}

/// The state digest leaves snapshots out: the one-time snapshot the first apply took is
/// what moved for the second.
#[test]
fn two_applies_at_once_take_a_one_time_snapshot_once() {
    let mut f = Fleet::new();
    f.system("backup", "25.04", &fleet::backup_fixture()).config(
        "e2e",
        "snapshots:\n  - { system: backup, dataset: backup/nas1, naming_schema: \"manual-%Y-%m-%d_%H-%M\" }\n",
    );
    let runs = two_at_once(&f, &[]);
    assert_serialised(&runs, 1);
    if let Some(loser) = runs.iter().find(|r| r.code == Some(1)) {
        assert!(
            loser.stdout.contains("\n✗ backup: its live state moved since the plan was made (one-time snapshots); nothing was changed here: run `zfleet plan` again\n"),
            "{loser:#?}"
        );
    }
    let manual = f.call(
        "backup",
        "zfs.snapshot.query",
        &[r#"[["name", "^", "backup/nas1@manual-"]]"#],
    );
    assert_eq!(manual.as_array().map(Vec::len), Some(1), "{manual}");
    f.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
}

#[test]
fn two_applies_at_once_on_two_systems_are_serialised_and_make_nothing_twice() {
    // The interleaving depends on timing: a few rounds, each on a fresh fleet.
    for round in 0..5 {
        let f = fleet();
        let runs = two_at_once(&f, &["--lock-timeout", "15s"]);
        assert_serialised(&runs, 4);
        assert_eq!(f.snapshot_tasks("nas1").len(), 2, "round {round}");
        assert_eq!(f.replications("nas1").len(), 1, "round {round}");
        let manual = f.call(
            "backup",
            "zfs.snapshot.query",
            &[r#"[["name", "^", "backup/nas1@manual-"]]"#],
        );
        assert_eq!(manual.as_array().map(Vec::len), Some(1), "{manual}");
        let again = f.zfleet(&["plan", "--detailed-exitcode"]);
        again.expect(0);
        assert_eq!(again.stdout, NO_CHANGES);
        assert_eq!(lock_of(&f, "nas1", "tank"), None, "given back");
        assert_eq!(lock_of(&f, "backup", "backup"), None, "given back");
    }
}

#[test]
fn a_held_lock_fails_apply_naming_its_holder_and_break_lock_removes_it() {
    let f = fleet();
    f.zfleet(&["plan"]).expect(0);
    let since = leave_lock(&f);
    let when = chrono::DateTime::from_timestamp(since as i64, 0)
        .expect("time")
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let holder = format!("an apply of project e2e on ci-runner-7 (pid 4242) since {when}");

    let started = std::time::Instant::now();
    let blocked = f.zfleet(&["apply", "--yes", "--lock-timeout", "1s"]);
    blocked.expect(1);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        blocked.stdout.contains(&format!(
            "✗ nas1: locked by {holder}, still after waiting 1s (a dead apply's lock expires after an hour; `zfleet apply --break-lock SYSTEM` removes it)\n"
        )),
        "{}",
        blocked.stdout
    );
    assert_eq!(blocked.codes(), ["zfleet::apply::failed"]);
    assert!(f.snapshot_tasks("nas1").is_empty(), "nothing made on nas1");
    assert!(f.replications("nas1").is_empty());
    assert!(
        lock_of(&f, "nas1", "tank").is_some(),
        "the holder's lock stays"
    );

    let broken = f.zfleet(&["apply", "--yes", "--break-lock", "nas1"]);
    broken.expect(0);
    assert!(
        broken
            .stderr
            .starts_with(&format!("nas1: removed the lock of {holder}\n")),
        "{}",
        broken.stderr
    );
    assert_eq!(f.snapshot_tasks("nas1").len(), 2);
    assert_eq!(lock_of(&f, "nas1", "tank"), None);
    let again = f.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);

    let nothing = f.zfleet(&["apply", "--yes", "--break-lock", "nas1"]);
    nothing.expect(0);
    assert_eq!(nothing.stderr, "nas1: no lock to remove\n");
    let unknown = f.zfleet(&["apply", "--yes", "--break-lock", "nas9"]);
    unknown.expect(1);
    assert_eq!(
        unknown.stderr,
        "zfleet::cli::no_such_system\n\n  × `--break-lock nas9`: no readable system of that name\n  help: name a system of the config that `zfleet systems` can reach\n\n"
    );
    f.assert_trace_valid(20);
}
