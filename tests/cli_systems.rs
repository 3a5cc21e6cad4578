//! `zfleet systems` over real SSH (OpenSSH sshd with a `midclt` that answers like TrueNAS):
//! a healthy 25.10 system, a healthy 24.04 system, one whose host key does not match the
//! pinned fingerprint and one that is unreachable.

#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use client::{current_user, opts};
use serde_json::{Value, json};
use sshd::{Sshd, SshdOptions};
use zfleet::cli::systems::{exit_code, render_json, render_table, survey_config};
use zfleet::model::{Config, SshSystem, System, SystemKind};
use zfleet::progress::Progress;

/// Answers `midclt call METHOD ...` from `FILES/METHOD`, like TrueNAS for known methods.
const TRUENAS_MIDCLT: &str = r#"#!/bin/sh
[ "$1" = call ] || { echo "usage: midclt call METHOD" >&2; exit 2; }
if [ -f "@FILES@/$2" ]; then cat "@FILES@/$2"; else echo "Method does not exist" >&2; exit 1; fi
"#;

/// The recorded API examples kept as test data.
fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/truenas-api/examples")
}

fn example_line(name: &str) -> String {
    let text = std::fs::read_to_string(examples().join(name)).expect("example");
    let v: Value = serde_json::from_str(&text).expect("json");
    format!("{}\n", v["result"])
}

/// An sshd whose midclt answers like TrueNAS `version` with the example payloads.
fn truenas(version: &str, snapshot_method: &str, ssh_running: bool) -> Option<Sshd> {
    let sshd = Sshd::start_with(SshdOptions {
        midclt: Some(TRUENAS_MIDCLT.to_string()),
        ..SshdOptions::default()
    })?;
    sshd.set_file("system.version", format!("{version}\n").as_bytes());
    for (method, file) in [
        ("system.info", "system.info.json"),
        ("pool.dataset.query", "pool.dataset.query.json"),
        ("pool.snapshottask.query", "pool.snapshottask.query.json"),
        ("replication.query", "replication.query.json"),
        ("ssh.config", "ssh.config.json"),
        ("keychaincredential.query", "keychaincredential.query.json"),
    ] {
        sshd.set_file(method, example_line(file).as_bytes());
    }
    let state = if ssh_running { "RUNNING" } else { "STOPPED" };
    sshd.set_file(
        "service.query",
        format!(
            "{}\n",
            json!([{"id": 9, "service": "ssh", "enable": ssh_running, "state": state, "pids": []}])
        )
        .as_bytes(),
    );
    sshd.set_file(
        "user.query",
        b"[{\"id\": 1, \"uid\": 0, \"username\": \"root\", \"home\": \"/root\"}]\n",
    );
    sshd.set_file(
        snapshot_method,
        b"[{\"name\": \"tank/data@auto-1\"}, {\"name\": \"tank/data@auto-2\"}, {\"name\": \"tank/media@manual-1\"}]\n",
    );
    Some(sshd)
}

fn system(name: &str, port: u16, key: &Path, host_key: String) -> (String, System) {
    (
        name.to_string(),
        System {
            name: name.to_string(),
            connect_timeout: None,
            timeout: None,
            prune: false,
            fixate_removal_date: false,
            kind: SystemKind::Ssh(SshSystem {
                host: "127.0.0.1".into(),
                port: Some(port),
                user: Some(current_user()),
                identity_file: Some(key.to_path_buf()),
                host_key: Some(host_key),
                known_hosts: None,
                replication_address: None,
                sudo: false,
            }),
        },
    )
}

#[tokio::test]
async fn a_fleet_with_an_unreachable_system_and_a_wrong_host_key() {
    let Some(nas1) = truenas("TrueNAS-25.10.1", "pool.snapshot.query", true) else {
        return;
    };
    let Some(nas2) = truenas("TrueNAS-SCALE-24.04.2", "zfs.snapshot.query", false) else {
        return;
    };
    let Some(imposter) = truenas("TrueNAS-25.10.1", "pool.snapshot.query", true) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let key = sshd::keygen(home.path(), "id_ed25519", "ed25519", None);
    for s in [&nas1, &nas2, &imposter] {
        s.authorize(&key.with_extension("pub"));
    }
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);

    let systems: BTreeMap<String, System> = [
        system("nas1", nas1.port, &key, nas1.host_key_fingerprint.clone()),
        system("nas2", nas2.port, &key, nas2.host_key_fingerprint.clone()),
        // Pinned to nas1's key while the server presents its own.
        system(
            "vault",
            imposter.port,
            &key,
            nas1.host_key_fingerprint.clone(),
        ),
        system("gone", closed_port, &key, nas1.host_key_fingerprint.clone()),
    ]
    .into_iter()
    .collect();
    let config = Config {
        project: "test".into(),
        systems,
        ..Config::default()
    };

    let reports = survey_config(&config, &opts(home.path()), &Progress::hidden()).await;
    let table = render_table(&reports)
        .replace(&nas1.host_key_fingerprint, "<fp1>")
        .replace(&nas2.host_key_fingerprint, "<fp2>")
        .replace(&imposter.host_key_fingerprint, "<fp3>");
    eprintln!("{table}");
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["gone", "nas1", "nas2", "vault"]);

    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "SYSTEM  STATUS       VERSION                SSH                DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY",
            "gone    unreachable  -                      -                  -         -          -           -             -",
            "nas1    ok           TrueNAS 25.10.1        enabled, running   1         3          2           2             <fp1>",
            "nas2    ok           TrueNAS SCALE 24.04.2  disabled, stopped  1         3          2           2             <fp2>",
            "vault   error        -                      -                  -         -          -           -             -",
        ],
        "{table}"
    );
    let gone = &reports[0];
    assert_eq!(
        gone.error.as_ref().map(|e| e.code.as_str()),
        Some("zfleet::ssh::unreachable")
    );
    let vault = &reports[3];
    let e = vault.error.as_ref().expect("vault error");
    assert_eq!(e.code, "zfleet::ssh::host_key_changed");
    assert!(
        e.message.contains(&imposter.host_key_fingerprint),
        "{}",
        e.message
    );
    assert!(table.contains("\nvault: "), "{table}");
    assert!(table.contains("[zfleet::ssh::host_key_changed]"), "{table}");
    assert!(table.contains("[zfleet::ssh::unreachable]"), "{table}");
    assert_eq!(exit_code(&reports), std::process::ExitCode::FAILURE);

    let doc: Value = serde_json::from_str(&render_json(&reports)).expect("json");
    assert_eq!(
        doc["systems"][1],
        json!({
            "name": "nas1", "status": "ok", "host_key": nas1.host_key_fingerprint,
            "version": "25.10.1", "product": "TrueNAS", "hostname": "nas1",
            "ssh": {"enabled": true, "running": true},
            "counts": {"datasets": 1, "snapshots": 3, "snapshot_tasks": 2, "replications": 2},
            "error": null
        })
    );
    // Reached, but its key did not match: an error, never "unreachable".
    assert_eq!(doc["systems"][3]["status"], "error");
    assert_eq!(
        doc["systems"][3]["error"]["code"],
        "zfleet::ssh::host_key_changed"
    );
    // The imposter never got to run anything; the good systems took two execs each.
    assert_eq!(imposter.exec_count(), 0);
    assert_eq!(nas1.exec_count(), 2, "{}", nas1.log());
    assert_eq!(nas2.exec_count(), 2);
}

#[tokio::test]
async fn an_embedded_simulator_beside_an_unreachable_system() {
    let dir = tempfile::tempdir().expect("tmp");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let lab = System {
        name: "lab".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Simulator(zfleet::model::SimSystem {
            fixture: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sim/nas1.yaml"),
            ),
            version: Some("24.10".into()),
            state_file: dir.path().join("lab.json"),
        }),
    };
    let key = dir.path().join("no-such-key");
    let systems: BTreeMap<String, System> = [
        ("lab".to_string(), lab),
        system("offline", closed_port, &key, "SHA256:AAAA".into()),
    ]
    .into_iter()
    .collect();
    let config = Config {
        project: "test".into(),
        systems,
        ..Config::default()
    };
    let reports = survey_config(&config, &opts(dir.path()), &Progress::hidden()).await;
    let table = render_table(&reports);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "SYSTEM   STATUS       VERSION                SSH               DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY",
            "lab      ok           TrueNAS SCALE 24.10.2  enabled, running  5         4          2           2             -",
            "offline  unreachable  -                      -                 -         -          -           -             -",
        ],
        "{table}"
    );
    assert_eq!(exit_code(&reports), std::process::ExitCode::FAILURE);
    let doc: Value = serde_json::from_str(&render_json(&reports)).expect("json");
    assert_eq!(doc["systems"][0]["status"], "ok");
    assert_eq!(doc["systems"][0]["host_key"], Value::Null);
    assert_eq!(
        doc["systems"][1]["error"]["code"],
        "zfleet::ssh::unreachable"
    );
}

/// The real binary on a config file: an embedded simulator, an unreachable system and (when
/// sshd is available) a system whose host key does not match the pinned one.
#[test]
fn the_binary_prints_the_table_and_fails_when_a_system_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(dir.path().join("sim")).expect("mkdir");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/troubled/sim/alpha.yaml"),
        dir.path().join("sim/alpha.yaml"),
    )
    .expect("fixture");
    let imposter = truenas("TrueNAS-25.10.1", "pool.snapshot.query", true);
    let key = sshd::keygen(dir.path(), "id_ed25519", "ed25519", None);
    let mut yaml = String::from(
        "project: t\nsystems:\n  lab: { simulator: { fixture: sim/alpha.yaml } }\n  \
         gone: { host: 127.0.0.1, port: 1, host_key: \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }\n",
    );
    if let Some(s) = &imposter {
        s.authorize(&key.with_extension("pub"));
        yaml.push_str(&format!(
            "  vault: {{ host: 127.0.0.1, port: {}, user: {}, identity_file: {}, host_key: \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }}\n",
            s.port,
            current_user(),
            key.display()
        ));
    }
    std::fs::write(dir.path().join("zfleet.yaml"), yaml).expect("config");

    let run = |json: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("zfleet").expect("binary");
        cmd.current_dir(dir.path())
            .env("HOME", dir.path())
            .env_remove("SSH_AUTH_SOCK")
            .arg("systems");
        if json {
            cmd.arg("--json");
        }
        cmd.assert().code(1)
    };
    let out = run(false);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "SYSTEM  STATUS       VERSION          SSH               DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY",
            "gone    unreachable  -                -                 -         -          -           -             -",
            "lab     ok           TrueNAS 25.10.1  enabled, running  7         9          2           1             -",
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains("\ngone: cannot connect to 127.0.0.1:1: "),
        "{stdout}"
    );
    if let Some(s) = &imposter {
        assert!(lines[3].starts_with("vault   error        -"), "{stdout}");
        assert!(
            stdout.contains("[zfleet::ssh::host_key_changed]"),
            "{stdout}"
        );
        assert!(stdout.contains(&s.host_key_fingerprint), "{stdout}");
        assert_eq!(s.exec_count(), 0);
    }

    let out = run(true);
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(doc["systems"][0]["name"], "gone");
    assert_eq!(
        doc["systems"][0]["error"]["code"],
        "zfleet::ssh::unreachable"
    );
    assert_eq!(
        doc["systems"][1]["counts"],
        json!({"datasets": 7, "snapshots": 9, "snapshot_tasks": 2, "replications": 1})
    );
    assert_eq!(
        doc["systems"][1]["ssh"],
        json!({"enabled": true, "running": true})
    );
}

/// The real binary against the simulator's own SSH server: a good system, one pinned to a
/// key the server does not have, and one on a closed port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_against_simulator_served_systems() {
    let dir = tempfile::tempdir().expect("tmp");
    for name in ["nas1", "vault"] {
        zfleet::sim::seed(
            &dir.path().join(format!("{name}.json")),
            None,
            Some("25.10"),
        )
        .expect("seed");
    }
    let key = sshd::keygen(dir.path(), "id_ed25519", "ed25519", None);
    let stranger = sshd::keygen(dir.path(), "stranger", "ed25519", None);
    let wrong = sshd::fingerprint(&stranger.with_extension("pub"));
    let served = zfleet::sim::server::start(&zfleet::sim::server::ServeOptions {
        state_dir: dir.path().to_path_buf(),
        listen: vec![
            ("nas1".into(), "127.0.0.1:0".parse().expect("addr")),
            ("vault".into(), "127.0.0.1:0".parse().expect("addr")),
        ],
        host_key: None,
        authorized_keys: Some(key.with_extension("pub")),
    })
    .await
    .expect("the simulator serves");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let line = |name: &str, port: u16, fp: &str| {
        format!(
            "  {name}: {{ host: 127.0.0.1, port: {port}, user: root, identity_file: {}, host_key: \"{fp}\" }}\n",
            key.display()
        )
    };
    let yaml = [
        "project: t\nsystems:\n".to_string(),
        line("nas1", served.addrs[0].1.port(), &served.fingerprint),
        line("vault", served.addrs[1].1.port(), &wrong),
        line("gone", closed_port, &served.fingerprint),
    ]
    .concat();
    std::fs::write(dir.path().join("cfg.yaml"), yaml).expect("config");

    let home = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"))
            .current_dir(&home)
            .env("HOME", &home)
            .env_remove("SSH_AUTH_SOCK")
            .args(["systems", "-f", "cfg.yaml"])
            .output()
            .expect("runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[1].starts_with("gone    unreachable  -"), "{stdout}");
    // A bare 25.10 seed: no pools, its SSH service recorded as off in the middleware.
    assert_eq!(
        lines[2],
        format!(
            "nas1    ok           TrueNAS 25.10.1  disabled, stopped  0         0          0           0             {}",
            served.fingerprint
        ),
        "{stdout}"
    );
    assert!(lines[3].starts_with("vault   error        -"), "{stdout}");
    assert!(stdout.contains("\nvault: "), "{stdout}");
    assert!(
        stdout.contains("[zfleet::ssh::host_key_changed]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&served.fingerprint) && stdout.contains(&wrong),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "\ngone: cannot connect to 127.0.0.1:{closed_port}: "
        )),
        "{stdout}"
    );
    let counters = zfleet::sim::faults::counters(dir.path()).expect("counters");
    assert_eq!(
        counters.get("vault").map_or(0, |c| c.execs),
        0,
        "nothing ran behind the wrong host key"
    );
    assert!(counters.get("nas1").is_some_and(|c| c.execs > 0));
}
