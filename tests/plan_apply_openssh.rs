//! `zfleet plan` and `zfleet apply` over a real OpenSSH server: nas1 and backup each behind
//! their own `/usr/sbin/sshd` on 127.0.0.1, whose sessions find a `midclt` that answers from
//! the system's simulated state (`zfleet::sim::server::write_shim`). Both states live in one
//! directory, so nas1's replication to backup reaches backup's state as it would over the
//! network.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/request_schemas.rs"]
mod request_schemas;
#[path = "support/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};

use fleet::Fleet;
use sshd::{Sshd, SshdOptions};

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

const NO_CHANGES: &str = "backup (TrueNAS 25.04.2): no changes\n\nnas1 (TrueNAS 25.10.1): no changes\n\nNo changes. The live state matches the config.\n";

/// The `midclt` of a system: the shim, unless the file `drop` is in the harness's files
/// directory: then a create of a snapshot task is made, and its SSH session killed before
/// the answer gets back (the network gone mid-apply). The creates of one wave run side by
/// side; the pause lets each of them be made before the first kills the process group of
/// its session's shell (which leads the session, so its group is the session id: other
/// sessions to the same server are left alone). The calls live on in their own groups, so
/// each stops there itself.
const DROPPING_MIDCLT: &str = r#"#!/bin/sh
if [ "$2" = pool.snapshottask.create ] && [ -e "@FILES@/drop" ]; then
  @SHIM@ "$@" >/dev/null
  sleep 2
  read -r _ _ _ _ _ sid _ </proc/$$/stat
  kill -KILL -"$sid"
  exit 137
fi
exec @SHIM@ "$@"
"#;

struct Served {
    fleet: Fleet,
    nas1: Sshd,
    backup: Sshd,
}

fn user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id -un");
    String::from_utf8(out.stdout)
        .expect("utf-8 user name")
        .trim()
        .to_string()
}

/// One sshd standing in for `system`, its sessions' `midclt` answering from the state in
/// `state_dir`, `key` authorised.
fn serve(state_dir: &Path, system: &str, key: &Path) -> Option<Sshd> {
    let shim =
        zfleet::sim::server::write_shim(state_dir, system, Path::new(env!("CARGO_BIN_EXE_zfleet")))
            .expect("shim")
            .join("midclt");
    let sshd = Sshd::start_with(SshdOptions {
        midclt: Some(DROPPING_MIDCLT.replace("@SHIM@", &shim.to_string_lossy())),
        ..SshdOptions::default()
    })?;
    sshd.authorize(&key.with_extension("pub"));
    Some(sshd)
}

/// nas1 and backup seeded from the fixtures, each behind its own sshd; `None` when OpenSSH
/// is missing and such tests are skipped on purpose.
fn served_fleet(config: &str) -> Option<Served> {
    if !sshd::available() {
        return None;
    }
    let mut f = Fleet::new();
    f.system("nas1", "25.10", &fleet::nas1_fixture()).system(
        "backup",
        "25.04",
        &fleet::backup_fixture(),
    );
    let state_dir = f.path().join("served");
    std::fs::create_dir_all(&state_dir).expect("state dir");
    for name in ["nas1", "backup"] {
        zfleet::sim::seed(
            &state_dir.join(format!("{name}.json")),
            Some(&f.path().join(format!("sim/{name}.yaml"))),
            None,
        )
        .expect("seed");
    }
    let key = sshd::keygen(f.path(), "id_ed25519", "ed25519", None);
    let nas1 = serve(&state_dir, "nas1", &key)?;
    let backup = serve(&state_dir, "backup", &key)?;
    f.share_state(&state_dir);
    let mut served = Served {
        fleet: f,
        nas1,
        backup,
    };
    served.config(config, &key);
    Some(served)
}

impl Served {
    /// Writes `zfleet.yaml`: both systems over SSH as the current user, then `rest`.
    fn config(&mut self, rest: &str, key: &Path) {
        let user = user();
        let systems: String = [("backup", &self.backup), ("nas1", &self.nas1)]
            .iter()
            .map(|(name, sshd)| {
                format!(
                    "  {name}: {{ host: 127.0.0.1, port: {}, user: {user}, identity_file: {}, host_key: \"{}\" }}\n",
                    sshd.port,
                    key.display(),
                    sshd.host_key_fingerprint
                )
            })
            .collect();
        self.fleet
            .raw_config("openssh", &format!("systems:\n{systems}{rest}"));
    }

    fn key(&self) -> PathBuf {
        self.fleet.path().join("id_ed25519")
    }

    fn set_config(&mut self, rest: &str) {
        let key = self.key();
        self.config(rest, &key);
    }
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the config");
    text.replacen(from, to, 1)
}

#[test]
fn create_edit_and_remove_over_openssh() {
    let Some(mut s) = served_fleet(CONFIG) else {
        return;
    };
    let apply = s.fleet.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(apply.codes().is_empty(), "{}", apply.stderr);
    assert!(
        apply.stdout.ends_with(
            "
Plan: 5 to add, 0 to change, 0 to delete.

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
    let again = s.fleet.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    assert_eq!(s.fleet.snapshot_tasks("nas1").len(), 2);
    let reps = s.fleet.replications("nas1");
    let offsite = reps
        .iter()
        .find(|r| r["name"] == "media-offsite")
        .expect("media-offsite made");
    assert_eq!(offsite["transport"], "SSH");
    assert_eq!(offsite["target_dataset"], "backup/nas1/media");
    assert_eq!(reps.len(), 2);
    assert!(s.nas1.exec_count() > 0 && s.backup.exec_count() > 0);

    // An edit in place: one change, applied, then nothing left.
    let edited = replace(
        CONFIG,
        "schedule: daily, lifetime: 4 weeks",
        "schedule: daily, lifetime: 6 weeks",
    );
    s.set_config(&edited);
    let apply = s.fleet.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "\nPlan: 0 to add, 1 to change, 0 to delete.\n\n✓ nas1: update snapshot task media-daily — done\nApply: 1 done, 0 failed, 0 skipped.\n"
        ),
        "{}",
        apply.stdout
    );
    s.fleet.zfleet(&["plan", "--detailed-exitcode"]).expect(0);
    let media = s
        .fleet
        .snapshot_tasks("nas1")
        .into_iter()
        .find(|t| t["dataset"] == "tank/media")
        .expect("media-daily");
    assert_eq!(
        (&media["lifetime_value"], &media["lifetime_unit"]),
        (&serde_json::json!(6), &serde_json::json!("WEEK"))
    );

    // A removal: the LOCAL replication leaves the config and the system.
    let removed = replace(
        &edited,
        "  data-local:\n    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]\n    target: { system: nas1, dataset: tank/local/data }\n    recursive: true\n    exclude: [tank/data/cache]\n    retention: source\n",
        "",
    );
    s.set_config(&removed);
    let apply = s.fleet.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "\nPlan: 0 to add, 0 to change, 1 to delete.\n\n✓ nas1: delete replication data-local — done\nApply: 1 done, 0 failed, 0 skipped.\n"
        ),
        "{}",
        apply.stdout
    );
    let after = s.fleet.zfleet(&["plan", "--detailed-exitcode"]);
    after.expect(0);
    assert_eq!(after.stdout, NO_CHANGES);
    let names: Vec<_> = s
        .fleet
        .replications("nas1")
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, vec![serde_json::json!("media-offsite")]);
    s.fleet.assert_trace_valid(40);
}

/// nas1's sshd down when apply reads the systems: nothing is applied (a plan with an
/// unreadable system is not applied), exit 1 naming nas1's address; `--system backup`
/// applies the rest; with the server back, apply makes only what nas1 still lacks.
#[test]
fn a_stopped_sshd_blocks_its_system_and_a_rerun_converges() {
    let Some(mut s) = served_fleet(CONFIG) else {
        return;
    };
    s.fleet.zfleet(&["plan"]).expect(0);
    s.nas1.stop();
    let broken = s.fleet.zfleet(&["apply", "--yes"]);
    broken.expect(1);
    assert!(
        broken.stdout.ends_with(
            "\nnas1 (unknown: the system could not be read)\n\nPlan: 1 to add, 0 to change, 0 to delete. 1 system could not be read; what it may need is unknown.\n"
        ),
        "{}",
        broken.stdout
    );
    assert_eq!(
        broken.codes(),
        ["zfleet::ssh::unreachable", "zfleet::apply::blocked"]
    );
    assert!(
        broken.stderr.contains(&format!(
            "× nas1: cannot connect to 127.0.0.1:{}: Connection refused",
            s.nas1.port
        )),
        "{}",
        broken.stderr
    );
    let backup = s.fleet.zfleet(&["apply", "--yes", "--system", "backup"]);
    backup.expect(0);
    assert!(
        backup.stdout.ends_with(
            "\n✓ backup: create snapshot backup/nas1@manual-%Y-%m-%d_%H-%M — done\nApply: 1 done, 0 failed, 0 skipped.\n"
        ),
        "{}",
        backup.stdout
    );
    assert!(s.fleet.snapshot_tasks("nas1").is_empty());

    s.nas1.restart();
    let apply = s.fleet.zfleet(&["apply", "--yes"]);
    apply.expect(0);
    assert!(
        apply.stdout.ends_with(
            "
✓ nas1: create snapshot task data-hourly — done
✓ nas1: create snapshot task media-daily — done
✓ nas1: create replication data-local — done
✓ nas1: create replication media-offsite — done
Apply: 4 done, 0 failed, 0 skipped.
"
        ),
        "{}",
        apply.stdout
    );
    let again = s.fleet.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    assert_eq!(s.fleet.snapshot_tasks("nas1").len(), 2);
    assert_eq!(s.fleet.replications("nas1").len(), 2);
    s.fleet.assert_trace_valid(20);
}

/// nas1's SSH session killed while apply creates its snapshot tasks, after they are made:
/// nas1 fails with the dropped connection, backup is applied; the lock nas1 could not give
/// back is broken, and a re-run converges with no task made twice.
#[test]
fn a_session_dropped_mid_apply_then_a_rerun_converges() {
    let Some(s) = served_fleet(CONFIG) else {
        return;
    };
    s.fleet.zfleet(&["plan"]).expect(0);
    s.nas1.set_file("drop", b"");
    let broken = s.fleet.zfleet(&["apply", "--yes"]);
    broken.expect(1);
    assert!(
        broken
            .stdout
            .contains("✓ backup: create snapshot backup/nas1@manual-%Y-%m-%d_%H-%M — done\n"),
        "{}",
        broken.stdout
    );
    assert!(
        broken.stdout.contains(&format!(
            "✗ nas1: create snapshot task data-hourly — failed\n    nas1: pool.snapshottask.create: the remote shell on {}@127.0.0.1:{} was killed (signal KILL) after 0 of 2 result(s)\n",
            user(),
            s.nas1.port
        )),
        "{}",
        broken.stdout
    );
    assert!(
        broken
            .stdout
            .ends_with("\nApply: 1 done, 2 failed, 2 skipped.\n"),
        "{}",
        broken.stdout
    );
    assert_eq!(
        broken.codes().last().map(String::as_str),
        Some("zfleet::apply::failed")
    );
    // Made on nas1, side by side so in either order, though zfleet never heard back.
    let made = s.fleet.snapshot_tasks("nas1");
    let id_of = |dataset: &str| {
        made.iter()
            .find(|t| t["dataset"] == dataset)
            .map(|t| t["id"].clone())
            .expect("task made")
    };
    let (data_id, media_id) = (id_of("tank/data"), id_of("tank/media"));
    assert_eq!(made.len(), 2);

    std::fs::remove_file(s.nas1.files_dir.join("drop")).expect("network back");
    let rerun = s.fleet.zfleet(&["apply", "--yes", "--break-lock", "nas1"]);
    rerun.expect(0);
    // What the dropped apply made is adopted, not made again.
    assert!(
        rerun.stdout.contains(&format!(
            "
nas1 (TrueNAS 25.10.1)
  <= adopt snapshot task data-hourly (#{data_id})  # made by an interrupted apply
  <= adopt snapshot task media-daily (#{media_id})  # made by an interrupted apply
   + create replication data-local
"
        )),
        "{}",
        rerun.stdout
    );
    assert!(
        rerun.stdout.ends_with(
            "
Plan: 2 to add, 2 to change, 0 to delete.

✓ nas1: adopt snapshot task data-hourly — done
✓ nas1: adopt snapshot task media-daily — done
✓ nas1: create replication data-local — done
✓ nas1: create replication media-offsite — done
Apply: 4 done, 0 failed, 0 skipped.
"
        ),
        "{}",
        rerun.stdout
    );
    let again = s.fleet.zfleet(&["plan", "--detailed-exitcode"]);
    again.expect(0);
    assert_eq!(again.stdout, NO_CHANGES);
    assert_eq!(s.fleet.snapshot_tasks("nas1").len(), 2);
    assert_eq!(s.fleet.replications("nas1").len(), 2);
    s.fleet.assert_trace_valid(20);
}
