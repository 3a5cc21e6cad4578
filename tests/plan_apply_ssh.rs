//! `zfleet plan` and `zfleet apply` over SSH, against the simulator's own SSH server:
//! create from empty, apply, then nothing left to change.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/request_schemas.rs"]
mod request_schemas;
#[path = "support/sshd.rs"]
mod sshd;

use std::path::PathBuf;
use std::sync::Arc;

use fleet::Fleet;

const CONFIG: &str = r#"snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, exclude: [tank/data/cache], schedule: hourly, lifetime: 2 weeks }
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
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

/// nas1 and backup served over SSH by the simulator; `None` when OpenSSH's ssh-keygen is
/// missing and such tests are skipped on purpose.
async fn served_fleet() -> Option<(Fleet, zfleet::sim::server::Served, PathBuf)> {
    if !openssh::require(&["ssh-keygen"]) {
        return None;
    }
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture()).system(
        "backup",
        "25.04",
        &fleet::backup_fixture(),
    );
    let served_dir = f.path().join("served");
    std::fs::create_dir_all(&served_dir).expect("state dir");
    for name in ["nas1", "backup"] {
        zfleet::sim::seed(
            &served_dir.join(format!("{name}.json")),
            Some(&f.path().join(format!("sim/{name}.yaml"))),
            None,
        )
        .expect("seed");
    }
    let key = sshd::keygen(f.path(), "id_ed25519", "ed25519", None);
    let served = zfleet::sim::server::start(&zfleet::sim::server::ServeOptions {
        state_dir: served_dir.clone(),
        listen: vec![
            ("nas1".into(), "127.0.0.1:0".parse().expect("addr")),
            ("backup".into(), "127.0.0.1:0".parse().expect("addr")),
        ],
        host_key: None,
        authorized_keys: Some(key.with_extension("pub")),
    })
    .await
    .expect("the simulator serves");
    let systems: String = served
        .addrs
        .iter()
        .map(|(name, addr)| {
            format!(
                "  {name}: {{ host: 127.0.0.1, port: {}, user: root, identity_file: {}, host_key: \"{}\" }}\n",
                addr.port(),
                key.display(),
                served.fingerprint
            )
        })
        .collect();
    f.share_state(&served_dir)
        .raw_config("ssh", &format!("systems:\n{systems}{CONFIG}"));

    Some((f, served, served_dir))
}

/// Runs the binary off the runtime's threads (the server runs on them).
async fn run(f: &Arc<Fleet>, args: &'static [&'static str]) -> fleet::Run {
    let f = Arc::clone(f);
    tokio::task::spawn_blocking(move || f.zfleet(args))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_apply_and_converge_over_ssh() {
    let Some((f, _served, served_dir)) = served_fleet().await else {
        return;
    };
    let f = Arc::new(f);
    let first = run(&f, &["plan", "--detailed-exitcode"]).await;
    first.expect(2);
    assert_eq!(first.stderr, "");
    assert!(
        first
            .stdout
            .ends_with("\nPlan: 5 to add, 0 to change, 0 to delete.\n"),
        "{}",
        first.stdout
    );
    let apply = run(&f, &["apply", "--yes"]).await;
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "
✓ backup: create snapshot backup/nas1@manual-%Y-%m-%d_%H-%M — done
✓ nas1: create snapshot task data-hourly — done
✓ nas1: create snapshot task media-daily — done
✓ nas1: create replication data-local — done
✓ nas1: create replication media-offsite — done
Apply: 5 done, 0 failed, 0 skipped.
"
        ),
        "{}",
        apply.stdout
    );
    let again = run(&f, &["plan", "--detailed-exitcode"]).await;
    again.expect(0);
    assert_eq!(
        again.stdout,
        "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n"
    );
    let g = Arc::clone(&f);
    let (tasks, reps, records) = tokio::task::spawn_blocking(move || {
        (
            g.snapshot_tasks("nas1"),
            g.replications("nas1"),
            g.records("nas1"),
        )
    })
    .await
    .expect("join");
    assert_eq!(tasks.len(), 2);
    assert_eq!(reps.len(), 2);
    assert_eq!(
        records.values().map(|r| r.len()).sum::<usize>(),
        4,
        "{records:?}"
    );
    let counters = zfleet::sim::faults::counters(&served_dir).expect("counters");
    assert!(
        counters.get("nas1").is_some_and(|c| c.execs > 0),
        "served over SSH"
    );
    f.assert_trace_valid(30);
}

/// The connection to nas1 dropped during apply: at the snapshot tasks' creation (7th exec
/// on the connection, after the plan's read, the lock's read, write and read back, and
/// the state check) and at the ownership records after every create (9th). Apply reports
/// it and fails; the lock it could not give back is broken with `--break-lock`; once the
/// network is back, apply again converges with no task made twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_mid_apply_then_a_rerun_converges() {
    for (drop_after, failed_line) in [
        (
            "7",
            "✗ nas1: create snapshot task data-hourly — failed\n    nas1: pool.snapshottask.create: the connection to root@127.0.0.1:",
        ),
        (
            "9",
            "✓ nas1: create replication media-offsite — done\n✗ nas1: pool.dataset.update: the connection to root@127.0.0.1:",
        ),
    ] {
        let Some((f, _served, served_dir)) = served_fleet().await else {
            return;
        };
        let f = Arc::new(f);
        run(&f, &["plan"]).await.expect(0);
        let dir = served_dir.to_str().expect("utf-8").to_string();
        let g = Arc::clone(&f);
        tokio::task::spawn_blocking(move || {
            g.zfleet(&[
                "sim",
                "faults",
                "--state",
                &dir,
                "nas1",
                "--drop-after",
                drop_after,
            ])
            .expect(0);
        })
        .await
        .expect("join");
        let broken = run(&f, &["apply", "--yes"]).await;
        broken.expect(1);
        assert!(broken.stdout.contains(failed_line), "{}", broken.stdout);
        assert_eq!(
            broken.codes().last().map(String::as_str),
            Some("zfleet::apply::failed")
        );

        let g = Arc::clone(&f);
        let dir = served_dir.to_str().expect("utf-8").to_string();
        tokio::task::spawn_blocking(move || {
            g.zfleet(&["sim", "faults", "--state", &dir, "nas1"])
                .expect(0);
        })
        .await
        .expect("join");
        run(&f, &["apply", "--yes", "--break-lock", "nas1"])
            .await
            .expect(0);
        let again = run(&f, &["plan", "--detailed-exitcode"]).await;
        again.expect(0);
        assert_eq!(
            again.stdout,
            "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n",
            "drop after {drop_after}"
        );
        let g = Arc::clone(&f);
        let (tasks, reps) =
            tokio::task::spawn_blocking(move || (g.snapshot_tasks("nas1"), g.replications("nas1")))
                .await
                .expect("join");
        assert_eq!((tasks.len(), reps.len()), (2, 2), "drop after {drop_after}");
    }
}
