//! The client driven against a scripted TrueNAS of each version: method names, payloads
//! (checked with the middleware's own request schemas), jobs, errors and secrets.

#[path = "support/request_schemas.rs"]
mod request_schemas;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use request_schemas::{Report, Schemas, data_dir};
use serde_json::{Value, json};
use zfleet::client::testing::{ScriptedRunner, failed, ok_json, ok_raw};
use zfleet::client::{
    ApiError, Client, Personality, ReplicationInput, Schedule, SnapshotTaskInput,
    SshCredentialsInput, Tracer,
};
use zfleet::transport::{MidcltCall, RawOutput, TransportError, TransportErrorKind};

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(data_dir().join("examples").join(name)).expect("example");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["result"].clone()
}

const VERSIONS: &[(&str, Personality)] = &[
    ("TrueNAS-13.0-U6.2", Personality::Core13),
    ("TrueNAS-SCALE-24.04.2", Personality::V24_04),
    ("TrueNAS-SCALE-24.10.2.1", Personality::V24_10),
    ("TrueNAS-25.04.2.4", Personality::V25_04),
    ("TrueNAS-25.10.1", Personality::V25_10),
];

/// A scripted system answering like `version` would, with the example payloads.
fn fake(version: &'static str) -> ScriptedRunner {
    let polls = Arc::new(AtomicU32::new(0));
    let new_names = !version.starts_with("TrueNAS-SCALE")
        && !version.starts_with("TrueNAS-13")
        && !version.starts_with("TrueNAS-25.04");
    let missing = move |m: &str| -> RawOutput {
        if version.starts_with("TrueNAS-25") {
            failed("Method does not exist\n")
        } else {
            failed(&format!(
                "[ENOMETHOD] Method 'query' not found in '{m}'\nTraceback (most recent call last):\n  ...\n"
            ))
        }
    };
    ScriptedRunner::new(move |c: &MidcltCall| -> RawOutput {
        match c.method.as_str() {
            "system.version" => ok_raw(version),
            "system.info" => ok_json(&example("system.info.json")),
            "pool.dataset.query" => ok_json(&example("pool.dataset.query.json")),
            "pool.snapshot.query" if new_names => {
                ok_json(&json!([{"name": "tank/data@auto-1"}, {"name": "tank/data@auto-2"}]))
            }
            "zfs.snapshot.query" if !new_names => ok_json(&json!([{"name": "tank/data@auto-1"}])),
            "pool.snapshot.query" | "zfs.snapshot.query" => missing(&c.method),
            "pool.snapshot.create" | "zfs.snapshot.create" => {
                ok_json(&json!({"name": "tank/data@manual-1", "id": "tank/data@manual-1"}))
            }
            "pool.snapshottask.query" => ok_json(&example("pool.snapshottask.query.json")),
            "pool.snapshottask.create" | "pool.snapshottask.update" => {
                ok_json(&example("pool.snapshottask.query.json")[0])
            }
            "replication.query" => ok_json(&example("replication.query.json")),
            "replication.create" | "replication.update" => {
                ok_json(&example("replication.query.json")[0])
            }
            "pool.snapshottask.delete" | "replication.delete" | "service.start" => ok_raw("True"),
            "pool.snapshottask.run" => ok_raw("null"),
            "replication.run" => ok_raw("4711"),
            "service.control" if new_names => ok_raw("4712"),
            "service.query" => ok_json(&example("service.query.ssh.json")),
            "service.update" => ok_raw("9"),
            "ssh.config" => ok_json(&example("ssh.config.json")),
            "keychaincredential.query" => ok_json(&example("keychaincredential.query.json")),
            "keychaincredential.create" => ok_json(&example("keychaincredential.query.json")[1]),
            "keychaincredential.delete" => ok_raw("null"),
            "keychaincredential.generate_ssh_key_pair" => ok_json(&json!({
                "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETSECRET\n-----END OPENSSH PRIVATE KEY-----\n",
                "public_key": "ssh-rsa AAAAB3NzaC1yc2E root@nas1\n"})),
            "keychaincredential.remote_ssh_host_key_scan" => {
                ok_raw("ssh-rsa AAAAB3Nza\necdsa-sha2-nistp256 AAAAE2Vj\nssh-ed25519 AAAAC3Nz")
            }
            "user.query" => ok_json(
                &json!([{"id": 1, "uid": 0, "username": "root", "home": "/root",
                "shell": "/usr/bin/zsh", "sshpubkey": null, "locked": false}]),
            ),
            "user.update" => ok_raw("1"),
            "core.get_jobs" => {
                let id = c.args[0][0][2].as_i64().unwrap_or(0);
                let n = polls.fetch_add(1, Ordering::SeqCst);
                let (state, pct) = if n == 0 {
                    ("RUNNING", 40)
                } else {
                    ("SUCCESS", 100)
                };
                let result = if c.args[0][0][2] == json!(4712) {
                    json!(true)
                } else {
                    Value::Null
                };
                ok_json(
                    &json!([{"id": id, "method": "replication.run", "state": state,
                    "progress": {"percent": pct, "description": format!("step {n}"), "extra": null},
                    "result": result, "error": null, "time_started": {"$date": 1761829207000_i64},
                    "time_finished": null}]),
                )
            }
            other => failed(&format!("unexpected call {other}\n")),
        }
    })
}

fn client(version: &'static str, trace: Option<&std::path::Path>) -> Client<ScriptedRunner> {
    Client::new("nas1", fake(version))
        .with_tracer(trace.map(Tracer::new))
        .with_poll_interval(Duration::from_millis(1))
}

fn task() -> SnapshotTaskInput {
    SnapshotTaskInput {
        dataset: "tank/data".into(),
        recursive: true,
        exclude: vec!["tank/data/scratch".into()],
        lifetime_value: 2,
        lifetime_unit: "WEEK".into(),
        naming_schema: "auto-%Y-%m-%d_%H-%M".into(),
        schedule: Schedule {
            minute: "0".into(),
            hour: "*".into(),
            dom: "*".into(),
            month: "*".into(),
            dow: "*".into(),
            begin: Some("00:00".into()),
            end: Some("23:59".into()),
        },
        allow_empty: true,
        enabled: true,
        fixate_removal_date: None,
    }
}

fn replication(v: Personality) -> ReplicationInput {
    let mut r = ReplicationInput::new(
        "offsite",
        "PUSH",
        "SSH",
        vec!["tank/data".into()],
        "backup/nas1/data",
    );
    r.ssh_credentials = Some(3);
    r.recursive = true;
    r.periodic_snapshot_tasks = vec![1];
    r.schedule = Some(Schedule {
        minute: "00".into(),
        hour: "0".into(),
        dom: "*".into(),
        month: "*".into(),
        dow: "7".into(),
        begin: Some("00:00".into()),
        end: Some("23:59".into()),
    });
    if v != Personality::Core13 {
        r.sudo = Some(true);
        r.properties_override = Some(Default::default());
    }
    r
}

/// Drives every typed call once.
async fn exercise(c: &Client<ScriptedRunner>) {
    let v = c.version().await.expect("version");
    zfleet::inventory::read(c).await.expect("inventory");
    c.snapshot_names().await.expect("snapshots");
    c.snapshot_create("tank/data", "manual-%Y-%m-%d_%H-%M", false)
        .await
        .expect("snapshot create");
    c.snapshot_task_create(&task()).await.expect("task create");
    c.snapshot_task_update(1, &task())
        .await
        .expect("task update");
    c.snapshot_task_run(1).await.expect("task run");
    c.snapshot_task_delete(1).await.expect("task delete");
    c.replication_create(&replication(v.personality))
        .await
        .expect("replication create");
    c.replication_update(1, &replication(v.personality))
        .await
        .expect("replication update");
    let job = c.replication_run(1).await.expect("run");
    assert_eq!(job, 4711);
    c.wait_job(job, |_| {}).await.expect("wait");
    c.replication_delete(1).await.expect("replication delete");
    c.ssh_service_enable(true).await.expect("enable");
    c.ssh_service_start().await.expect("start");
    let pair = c.generate_ssh_key_pair().await.expect("generate");
    c.keychain_create_key_pair("zfleet-nas1", &pair)
        .await
        .expect("key pair");
    let keys = c
        .remote_ssh_host_key_scan("192.0.2.20", 22)
        .await
        .expect("scan");
    c.keychain_create_ssh_credentials(&SshCredentialsInput {
        name: "zfleet-backup".into(),
        host: "192.0.2.20".into(),
        port: 22,
        username: "root".into(),
        private_key: 2,
        remote_host_key: keys,
        connect_timeout: 10,
    })
    .await
    .expect("ssh credentials");
    c.keychain_delete(3).await.expect("keychain delete");
    c.user_set_sshpubkey(1, "ssh-rsa AAAAB3NzaC1yc2E root@nas1")
        .await
        .expect("user update");
}

fn methods(r: &ScriptedRunner) -> Vec<String> {
    r.batches().concat().into_iter().map(|c| c.method).collect()
}

#[tokio::test]
async fn each_version_is_detected_and_driven_with_its_method_names() {
    for &(raw, personality) in VERSIONS {
        let c = client(raw, None);
        exercise(&c).await;
        assert_eq!(c.known_version().map(|v| v.personality), Some(personality));
        let m = methods(c.runner());
        assert_eq!(m[0], "system.version", "{raw}: version is asked first");
        let new = personality >= Personality::V25_10;
        assert_eq!(m.iter().any(|x| x == "pool.snapshot.query"), new, "{raw}");
        assert_eq!(m.iter().any(|x| x == "zfs.snapshot.query"), !new, "{raw}");
        assert_eq!(m.iter().any(|x| x == "pool.snapshot.create"), new, "{raw}");
        assert_eq!(m.iter().any(|x| x == "service.control"), new, "{raw}");
        assert_eq!(m.iter().any(|x| x == "service.start"), !new, "{raw}");
        assert_eq!(
            m.iter().filter(|x| *x == "system.version").count(),
            1,
            "{raw}: version asked once"
        );
        // No call ever carries -j or a non-JSON argument: args are JSON values by type.
        assert!(m.iter().all(|x| !x.starts_with('-')));
    }
}

#[tokio::test]
async fn core_refuses_fields_it_lacks_before_sending() {
    let c = client("TrueNAS-13.0-U6.2", None);
    let mut r = replication(Personality::Core13);
    r.sudo = Some(true);
    r.name_regex = Some("auto-.*".into());
    let err = c.replication_create(&r).await.expect_err("refused");
    assert_eq!(err.code(), "zfleet::api::unsupported");
    assert!(err.to_string().contains("sudo, name_regex"), "{err}");
    assert!(
        !methods(c.runner())
            .iter()
            .any(|m| m == "replication.create")
    );
    let sent = c.runner().batches().concat();
    // The payload sent to CORE for a valid task carries none of the fields it lacks.
    c.replication_create(&replication(Personality::Core13))
        .await
        .expect("create");
    let create = c
        .runner()
        .batches()
        .concat()
        .into_iter()
        .skip(sent.len())
        .find(|x| x.method == "replication.create")
        .expect("sent");
    for f in [
        "sudo",
        "name_regex",
        "lifetimes",
        "properties_override",
        "encryption_inherit",
    ] {
        assert!(create.args[0].get(f).is_none(), "{f} sent to CORE");
    }
}

fn validate(trace: &std::path::Path, set: &str) -> Report {
    let text = std::fs::read_to_string(trace).expect("trace written");
    Schemas::load(set).check_lines(&text)
}

#[tokio::test]
async fn every_payload_passes_the_middleware_request_schemas() {
    for &(raw, set) in &[("TrueNAS-25.10.1", "25.10"), ("TrueNAS-25.04.2.4", "25.04")] {
        let dir = tempfile::tempdir().expect("tmp");
        let trace = dir.path().join("trace.jsonl");
        let c = client(raw, Some(&trace));
        exercise(&c).await;
        let text = std::fs::read_to_string(&trace).expect("trace written");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), methods(c.runner()).len(), "one line per call");
        for l in &lines {
            let keys: Vec<&str> = l
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["system", "method", "params", "ok", "ms"]);
            assert_eq!(l["system"], "nas1");
        }
        assert!(
            !text.contains("SECRETSECRET"),
            "private key reached the trace"
        );
        let report = validate(&trace, set);
        assert!(report.ok(), "{raw}: {}", report.text());
        assert!(
            report.passed >= 10,
            "{raw}: too few calls validated: {}",
            report.text()
        );
    }
}

#[tokio::test]
async fn the_validator_catches_a_bad_payload() {
    // Guards the test above: a payload the middleware would refuse must fail validation.
    let dir = tempfile::tempdir().expect("tmp");
    let trace = dir.path().join("trace.jsonl");
    let c = client("TrueNAS-25.10.1", Some(&trace));
    let _ = c
        .call(
            "pool.snapshottask.create",
            vec![json!({"dataset": "tank", "lifetime_value": "2"})],
        )
        .await;
    let report = validate(&trace, "25.10");
    assert_eq!(report.failed, 1, "{}", report.text());
    assert!(
        report.failures[0].contains("/0/lifetime_value"),
        "{}",
        report.text()
    );
}

#[tokio::test]
async fn wait_job_reports_progress_until_success() {
    let c = client("TrueNAS-25.10.1", None);
    let mut seen = Vec::new();
    let job = c
        .wait_job(4711, |j| seen.push((j.state.clone(), j.progress.percent)))
        .await
        .expect("job");
    assert_eq!(job.state, "SUCCESS");
    assert_eq!(
        seen,
        vec![
            ("RUNNING".to_string(), Some(40.0)),
            ("SUCCESS".to_string(), Some(100.0))
        ]
    );
    let polls = methods(c.runner())
        .iter()
        .filter(|m| *m == "core.get_jobs")
        .count();
    assert_eq!(polls, 2);
    let args = &c.runner().batches()[0][0].args;
    assert_eq!(args, &vec![json!([["id", "=", 4711]])]);
}

#[tokio::test]
async fn a_failed_job_is_an_error_with_its_reason() {
    let r = ScriptedRunner::new(|c: &MidcltCall| match c.method.as_str() {
        "core.get_jobs" => ok_json(
            &json!([{"id": 7, "method": "replication.run", "state": "FAILED",
            "progress": {"percent": 0, "description": "", "extra": null}, "result": null,
            "error": "[EFAULT] Task is not enabled"}]),
        ),
        _ => failed("unexpected\n"),
    });
    let c = Client::new("nas1", r).with_tracer(None);
    let err = c.wait_job(7, |_| {}).await.expect_err("failed");
    assert_eq!(err.code(), "zfleet::api::job_failed");
    let p = err.to_problem();
    assert_eq!(
        p.to_string(),
        "nas1: replication.run: job 7 FAILED: [EFAULT] Task is not enabled"
    );
    assert!(
        p.help
            .as_deref()
            .is_some_and(|h| h.contains("/var/log/jobs/7.log"))
    );
}

#[tokio::test]
async fn errors_become_problems_naming_system_and_method() {
    let cases: Vec<(RawOutput, &str, &str)> = vec![
        (
            failed("[EINVAL] periodic_snapshot_create.dataset: Dataset not found\n"),
            "zfleet::api::validation",
            "nas1: pool.snapshottask.create: rejected by the middleware: [EINVAL] periodic_snapshot_create.dataset: Dataset not found",
        ),
        (
            failed("[ENOENT] ALL: Replication 9 does not exist\n"),
            "zfleet::api::not_found",
            "nas1: pool.snapshottask.create: rejected by the middleware: [ENOENT] ALL: Replication 9 does not exist",
        ),
        (
            failed("[EFAULT] Task is not enabled\nTraceback (most recent call last):\n"),
            "zfleet::api::call_failed",
            "nas1: pool.snapshottask.create: [EFAULT] Task is not enabled",
        ),
        (
            failed("Call timeout\n"),
            "zfleet::api::timeout",
            "nas1: pool.snapshottask.create: middleware call timed out (Call timeout)",
        ),
        (
            failed("Failed to run middleware call. Daemon not running?\n"),
            "zfleet::api::middleware_down",
            "nas1: pool.snapshottask.create: the middleware is not running (Failed to run middleware call. Daemon not running?)",
        ),
        (
            failed("Method does not exist\n"),
            "zfleet::api::no_method",
            "nas1: pool.snapshottask.create: method does not exist: Method does not exist",
        ),
        (
            failed("[ENOTAUTHENTICATED] Not authenticated\nTraceback (most recent call last):\n"),
            "zfleet::api::not_authorized",
            "nas1: pool.snapshottask.create: not authorized: [ENOTAUTHENTICATED] Not authenticated",
        ),
        (
            failed("MatchNotFound()\nTraceback (most recent call last):\n"),
            "zfleet::api::not_found",
            "nas1: pool.snapshottask.create: not found: MatchNotFound()",
        ),
        (
            ok_raw("not json at all {"),
            "zfleet::api::unparsable",
            "nas1: pool.snapshottask.create: unreadable answer: not JSON (17 bytes)",
        ),
        (
            ok_raw("{\"id\": \"secret-value\"}"),
            "zfleet::api::unparsable",
            "nas1: pool.snapshottask.create: unreadable answer: unexpected shape: invalid type: string, expected i64 at line 1 column 21",
        ),
        (
            failed("sh: 1: sudo: not found\n"),
            "zfleet::api::no_sudo",
            "nas1: pool.snapshottask.create: sudo not found: sh: 1: sudo: not found",
        ),
    ];
    for (output, code, text) in cases {
        let o = output.clone();
        let c = Client::new("nas1", ScriptedRunner::new(move |_| o.clone())).with_tracer(None);
        let err = c.snapshot_task_create(&task()).await.expect_err("error");
        let p = err.to_problem();
        assert_eq!((p.code, p.to_string().as_str()), (code, text));
        assert_eq!(p.system.as_deref(), Some("nas1"));
        assert!(p.help.is_some());
        assert!(
            zfleet::client::CODES.iter().any(|ci| ci.code == code),
            "{code} unregistered"
        );
    }
}

#[tokio::test]
async fn unparseable_version_is_an_error_not_a_default() {
    for raw in ["FreeNAS-11.3-U5", "TrueNAS-SCALE-23.10.2", "TrueNAS-2"] {
        let c = Client::new("nas1", ScriptedRunner::new(move |_| ok_raw(raw))).with_tracer(None);
        let err = c.version().await.expect_err("refused");
        assert_eq!(err.error, ApiError::UnsupportedVersion(raw.to_string()));
        let err = zfleet::inventory::read(&c).await.expect_err("refused");
        assert_eq!(err.code, "zfleet::api::unsupported_version");
    }
}

#[tokio::test]
async fn garbage_for_a_version_is_a_middleware_error() {
    let secret = "-----BEGIN OPENSSH PRIVATE KEY-----";
    for (stdout, shown) in [
        ("hello\n", "hello"),
        ("<html>\n<body>502 Bad Gateway\n", "<html>"),
        ("TrueNAS-25.10 \u{1b}[2J\n", "TrueNAS-25.10  [2J"),
        (
            "Traceback (most recent call last):\n  File \"x\", line 1\nConnectionRefusedError: [Errno 111] Connection refused\n",
            "the middleware failed: ConnectionRefusedError: [Errno 111] Connection refused",
        ),
    ] {
        let c = Client::new("nas1", ScriptedRunner::new(move |_| ok_raw(stdout))).with_tracer(None);
        let err = c.version().await.expect_err("refused");
        assert_eq!(err.code(), "zfleet::api::call_failed", "{stdout:?}");
        assert!(err.to_string().contains(shown), "{err}");
    }
    let answer =
        format!("{secret}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n");
    let c = Client::new("nas1", ScriptedRunner::new(move |_| ok_raw(&answer))).with_tracer(None);
    let err = c.version().await.expect_err("refused");
    let shown = format!("{:?}", err.to_problem());
    assert!(
        !shown.contains("PRIVATE") && !shown.contains("b3BlbnNz"),
        "{shown}"
    );
}

#[tokio::test]
async fn transport_failure_is_reported_per_system() {
    let r = ScriptedRunner::new(|_| ok_raw("x"));
    r.fail(TransportError {
        kind: TransportErrorKind::Unreachable,
        message: "connection refused (127.0.0.1:1)".into(),
    });
    let c = Client::new("lab", r).with_tracer(None);
    let p = zfleet::inventory::read(&c).await.expect_err("unreachable");
    assert_eq!(p.code, "zfleet::ssh::unreachable");
    assert_eq!(p.to_string(), "lab: connection refused (127.0.0.1:1)");
}
