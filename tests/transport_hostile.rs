//! Hostile data through the SSH transport and a real sshd: arguments reach `midclt`
//! byte-for-byte, any output parses back into the right call, a batch is one exec, and a
//! hung or killed session is reported as such.

#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use client::current_user;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sshd::Sshd;
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::transport::{
    self, ConnectOptions, MidcltCall, RawOutput, Runner, Transport, TransportErrorKind,
};

async fn connect_with(sshd: &Sshd, home: &Path, sudo: bool, call_timeout: Duration) -> Transport {
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let system = System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Ssh(SshSystem {
            host: "127.0.0.1".into(),
            port: Some(sshd.port),
            user: Some(current_user()),
            identity_file: Some(key),
            host_key: Some(sshd.host_key_fingerprint.clone()),
            known_hosts: None,
            replication_address: None,
            sudo,
        }),
    };
    let opts = ConnectOptions {
        connect_timeout: Duration::from_secs(20),
        call_timeout,
        home: Some(home.to_path_buf()),
        global_known_hosts: Vec::new(),
        agent_socket: None,
        passphrase: None,
        prompt_passphrase: false,
        ..ConnectOptions::default()
    };
    transport::connect(&system, &opts)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()))
}

/// Strings a shell would love to interpret.
fn hostile_strings() -> Vec<String> {
    vec![
        "tank/with space/ds".into(),
        "it's".into(),
        "'".into(),
        "''".into(),
        "\"double\"".into(),
        "$HOME ${PATH} $(id) $((1+1))".into(),
        "`touch /tmp/zfleet-pwned`".into(),
        "a;b|c&d>e<f".into(),
        "line1\nline2\n".into(),
        "\r\t\\n\\".into(),
        "naïve/ünïcødé/数据/🚀".into(),
        "auto-%Y-%m-%d_%H-%M".into(),
        "-j".into(),
        "*?[a-z]~".into(),
        "\u{1b}[31mred".into(),
        String::new(),
    ]
}

/// What the fake midclt prints back: its argv, each argument NUL-terminated.
fn argv_echo(argv: &[String]) -> String {
    argv.iter().map(|a| format!("{a}\0")).collect()
}

/// Sends every hostile string as arguments (and one hostile method name) in one batch; each
/// call's output must be its own argv, and the recorded argv must match byte-for-byte.
async fn hostile_arguments_round_trip(t: &Transport, recorded: impl Fn() -> Vec<Vec<Vec<u8>>>) {
    let strings = hostile_strings();
    let calls: Vec<MidcltCall> = strings
        .iter()
        .map(|s| {
            MidcltCall::new(
                "pool.snapshottask.create",
                vec![
                    json!({ "dataset": s, "naming_schema": s }),
                    json!(s),
                    json!(null),
                ],
            )
        })
        .chain([MidcltCall::new("we'ird;method $x", vec![])])
        .collect();
    let expected: Vec<Vec<String>> = calls
        .iter()
        .map(|c| {
            let mut argv = vec!["call".to_string(), c.method.clone()];
            argv.extend(
                c.args
                    .iter()
                    .map(|a| serde_json::to_string(a).expect("json")),
            );
            argv
        })
        .collect();

    let out = t.midclt_batch(&calls).await.expect("batch runs");

    assert_eq!(out.len(), calls.len());
    for (got, argv) in out.iter().zip(&expected) {
        assert_eq!(
            got,
            &RawOutput {
                stdout: argv_echo(argv),
                stderr: String::new(),
                exit: 0
            }
        );
    }
    let mut want: Vec<Vec<Vec<u8>>> = expected
        .iter()
        .map(|argv| argv.iter().map(|a| a.as_bytes().to_vec()).collect())
        .collect();
    want.sort();
    assert_eq!(recorded(), want);
    assert!(!Path::new("/tmp/zfleet-pwned").exists());
}

#[tokio::test]
async fn hostile_arguments_reach_midclt_byte_for_byte_in_one_exec() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), false, Duration::from_secs(30)).await;
    hostile_arguments_round_trip(&t, || sshd.midclt_calls()).await;
    assert_eq!(sshd.exec_count(), 1, "one batch, one exec");
}

/// Canned outputs (every byte value, frame lookalikes, no trailing newline, 3 MB, exit
/// codes) each come back as their own call's result.
async fn outputs_round_trip(t: &Transport, set_file: impl Fn(&str, &[u8])) {
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let lookalike = "ZFLEET-00000000000000000000000000000000 1 0 4 0\nfake\n\
                     ZFLEET-00000000000000000000000000000000 end\n";
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| b"ab\n\0"[(i % 4) as usize])
        .collect();
    set_file("bytes", &all_bytes);
    set_file("lookalike", lookalike.as_bytes());
    set_file("no_newline", b"True");
    set_file(
        "traceback",
        b"[EFAULT] Task is not enabled\nTraceback (most recent call last):\n",
    );
    set_file("big", &big);
    set_file("empty", b"");

    let call = |m: &str| MidcltCall::new(m, vec![]);
    let calls = vec![
        call("fake.out.bytes"),
        call("fake.out.lookalike"),
        call("fake.err.lookalike"),
        call("fake.out.no_newline"),
        call("fake.err.traceback"),
        call("fake.exit.1"),
        call("fake.out.big"),
        call("fake.out.empty"),
        call("fake.exit.0"),
        call("fake.exit.42"),
    ];
    let out = t.midclt_batch(&calls).await.expect("batch runs");
    let ok = |stdout: &[u8]| RawOutput {
        stdout: String::from_utf8_lossy(stdout).into_owned(),
        stderr: String::new(),
        exit: 0,
    };
    let err = |stderr: &[u8], exit: i32| RawOutput {
        stdout: String::new(),
        stderr: String::from_utf8_lossy(stderr).into_owned(),
        exit,
    };
    assert_eq!(out[0], ok(&all_bytes));
    assert_eq!(out[1], ok(lookalike.as_bytes()));
    assert_eq!(out[2], err(lookalike.as_bytes(), 0));
    assert_eq!(out[3], ok(b"True"));
    assert_eq!(
        out[4],
        err(
            b"[EFAULT] Task is not enabled\nTraceback (most recent call last):\n",
            0
        )
    );
    assert_eq!(out[5], err(b"", 1));
    assert_eq!(out[6].stdout.len(), big.len());
    assert_eq!(out[6], ok(&big));
    assert_eq!(out[7], ok(b""));
    assert_eq!(out[8], ok(b""));
    assert_eq!(out[9], err(b"", 42));
    assert_eq!(out.len(), calls.len());
}

#[tokio::test]
async fn any_output_parses_back_to_its_own_call() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), false, Duration::from_secs(30)).await;
    outputs_round_trip(&t, |name, bytes| sshd.set_file(name, bytes)).await;
    assert_eq!(sshd.exec_count(), 1);
}

#[tokio::test]
async fn a_large_batch_is_one_exec_with_results_in_call_order() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), false, Duration::from_secs(30)).await;
    let calls: Vec<MidcltCall> = (0..40)
        .map(|i| {
            MidcltCall::new(
                "pool.dataset.query",
                vec![json!([["id", "=", format!("tank/{i}")]])],
            )
        })
        .collect();
    let out = t.midclt_batch(&calls).await.expect("batch runs");
    for (i, got) in out.iter().enumerate() {
        assert_eq!(
            got.stdout,
            format!("call\0pool.dataset.query\0[[\"id\",\"=\",\"tank/{i}\"]]\0")
        );
    }
    assert_eq!(out.len(), 40);
    assert_eq!(sshd.exec_count(), 1);
    assert!(t.midclt_batch(&[]).await.expect("empty batch").is_empty());
    assert_eq!(sshd.exec_count(), 1, "an empty batch costs no round trip");
}

#[tokio::test]
async fn sudo_prefixes_every_call() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), true, Duration::from_secs(30)).await;
    let calls = vec![
        MidcltCall::new("system.version", vec![]),
        MidcltCall::new("replication.query", vec![json!([["name", "=", "it's"]])]),
    ];
    let out = t.midclt_batch(&calls).await.expect("batch runs");
    assert_eq!(out[0].stdout, "call\0system.version\0");
    assert_eq!(
        out[1].stdout,
        "call\0replication.query\0[[\"name\",\"=\",\"it's\"]]\0"
    );
    assert_eq!(sshd.sudo_count(), 2);
}

#[tokio::test]
async fn a_hung_call_times_out() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), false, Duration::from_secs(1)).await;
    let started = Instant::now();
    let e = t
        .midclt_batch(&[MidcltCall::new("fake.sleep.6", vec![])])
        .await
        .expect_err("times out");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.kind, TransportErrorKind::Timeout);
    assert!(
        e.message
            .starts_with("fake.sleep.6 did not answer within 1s on "),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::timeout");
    // The connection stays usable after a timed-out batch.
    let out = t
        .midclt_batch(&[MidcltCall::new("system.version", vec![])])
        .await
        .expect("next batch");
    assert_eq!(out[0].stdout, "call\0system.version\0");
}

#[tokio::test]
async fn a_killed_session_is_reported_as_killed() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let t = connect_with(&sshd, home.path(), false, Duration::from_secs(30)).await;
    let e = t
        .midclt_batch(&[
            MidcltCall::new("system.version", vec![]),
            MidcltCall::new("fake.drop", vec![]),
        ])
        .await
        .expect_err("killed");
    assert_eq!(e.kind, TransportErrorKind::Killed, "{}", e.message);
    assert!(
        e.message
            .contains("was killed (signal KILL) after 0 of 2 result(s)"),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::killed");
}

// The same batches through the simulator's own SSH server (russh), which interprets them
// itself: the simulator's engine hook is replaced by the fake midclt, so argv and outputs can
// be checked exactly.

struct SimServer {
    _dir: tempfile::TempDir,
    served: zfleet::sim::server::Served,
    fleet: std::path::PathBuf,
    calls: std::path::PathBuf,
    files: std::path::PathBuf,
    key: std::path::PathBuf,
}

/// [`sshd::FAKE_MIDCLT`] as the simulator's engine hook: the state is `DIR/fleet/nas1.json`,
/// calls are recorded in `DIR/calls`, canned outputs read from `DIR/files`.
fn fake_midclt(state: &Path, argv: &[String]) -> Option<zfleet::sim::MidcltOutput> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = state.parent()?.parent()?;
    let echo: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    std::fs::write(dir.join("calls").join(format!("call.{n}")), &echo).ok()?;
    let file = |name: &str| {
        String::from_utf8_lossy(&std::fs::read(dir.join("files").join(name)).unwrap_or_default())
            .into_owned()
    };
    let mut out = zfleet::sim::MidcltOutput::default();
    let method = argv.get(1).map_or("", String::as_str);
    if let Some(name) = method.strip_prefix("fake.out.") {
        out.stdout = file(name);
    } else if let Some(name) = method.strip_prefix("fake.err.") {
        out.stderr = file(name);
    } else if let Some(code) = method.strip_prefix("fake.exit.") {
        out.exit = code.parse().unwrap_or(255);
    } else {
        out.stdout = String::from_utf8_lossy(&echo).into_owned();
    }
    Some(out)
}

async fn start_sim_server() -> SimServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let (fleet, calls, files) = (
        dir.path().join("fleet"),
        dir.path().join("calls"),
        dir.path().join("files"),
    );
    for d in [&fleet, &calls, &files] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    // Root logs in only to a system that has it.
    zfleet::sim::seed(&fleet.join("nas1.json"), None, Some("25.10")).expect("seed");
    // Set once for the whole test binary; only these tests run the simulator in-process.
    let _ = zfleet::sim::ENGINE_HOOK.set(fake_midclt);
    let key = sshd::keygen(dir.path(), "id_ed25519", "ed25519", None);
    let served = zfleet::sim::server::start(&zfleet::sim::server::ServeOptions {
        state_dir: fleet.clone(),
        listen: vec![("nas1".into(), "127.0.0.1:0".parse().expect("addr"))],
        host_key: None,
        authorized_keys: Some(key.with_extension("pub")),
    })
    .await
    .unwrap_or_else(|p| panic!("{p}"));
    SimServer {
        _dir: dir,
        served,
        fleet,
        calls,
        files,
        key,
    }
}

impl SimServer {
    fn system(&self, pin: bool) -> System {
        System {
            name: "nas1".into(),
            connect_timeout: None,
            timeout: None,
            prune: false,
            fixate_removal_date: false,
            kind: SystemKind::Ssh(SshSystem {
                host: "127.0.0.1".into(),
                port: Some(self.served.addrs[0].1.port()),
                user: Some("root".into()),
                identity_file: Some(self.key.clone()),
                host_key: pin.then(|| self.served.fingerprint.clone()),
                known_hosts: Some(self.fleet.join("no_known_hosts")),
                replication_address: None,
                sudo: false,
            }),
        }
    }

    fn opts(&self) -> ConnectOptions {
        ConnectOptions {
            connect_timeout: Duration::from_secs(20),
            home: Some(self.fleet.clone()),
            global_known_hosts: Vec::new(),
            agent_socket: None,
            passphrase: None,
            prompt_passphrase: false,
            ..ConnectOptions::default()
        }
    }

    fn execs(&self) -> u64 {
        zfleet::sim::faults::counters(&self.fleet)
            .expect("counters")
            .get("nas1")
            .map_or(0, |c| c.execs)
    }

    fn recorded(&self) -> Vec<Vec<Vec<u8>>> {
        let mut calls: Vec<Vec<Vec<u8>>> = std::fs::read_dir(&self.calls)
            .expect("calls")
            .filter_map(|e| e.ok())
            .map(|e| {
                let bytes = std::fs::read(e.path()).expect("call");
                let mut args: Vec<Vec<u8>> = bytes.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
                args.pop();
                args
            })
            .collect();
        calls.sort();
        calls
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_ssh_server_carries_the_same_batches() {
    let sim = start_sim_server().await;
    let t = transport::connect(&sim.system(true), &sim.opts())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        t.host_key_fingerprint().as_deref(),
        Some(sim.served.fingerprint.as_str())
    );
    hostile_arguments_round_trip(&t, || sim.recorded()).await;
    assert_eq!(sim.execs(), 1, "one batch, one exec");
    outputs_round_trip(&t, |name, bytes| {
        std::fs::write(sim.files.join(name), bytes).expect("write")
    })
    .await;
    assert_eq!(sim.execs(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_ssh_server_host_key_must_be_known() {
    let sim = start_sim_server().await;
    let e = transport::connect(&sim.system(false), &sim.opts())
        .await
        .expect_err("unknown host key");
    assert_eq!(
        e.kind,
        TransportErrorKind::HostKeyUnknown {
            fingerprint: sim.served.fingerprint.clone()
        }
    );
    assert!(e.message.contains(&sim.served.fingerprint), "{}", e.message);
    assert_eq!(sim.execs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_simulator_drops_is_reported_as_dropped() {
    let sim = start_sim_server().await;
    zfleet::sim::faults::store(
        &sim.fleet,
        "nas1",
        &zfleet::sim::faults::Faults {
            drop_after: Some(1),
            ..Default::default()
        },
    )
    .expect("faults");
    let t = transport::connect(&sim.system(true), &sim.opts())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let call = [MidcltCall::new("system.version", vec![])];
    let out = t.midclt_batch(&call).await.expect("first exec answers");
    assert_eq!(out[0].stdout, "call\0system.version\0");
    let e = t
        .midclt_batch(&call)
        .await
        .expect_err("second exec dropped");
    assert_eq!(e.kind, TransportErrorKind::Dropped, "{}", e.message);
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::dropped");
}
