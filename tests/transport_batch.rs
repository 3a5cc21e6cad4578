//! The remote side of a batch against a real OpenSSH sshd: replies never touch the system's
//! disk, a session killed mid-batch leaves neither files nor processes behind, a hung
//! `midclt` is ended on the system after the call timeout and named in the error, and a
//! remote shell killed mid-batch is reported as killed.

#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use client::current_user;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use sshd::{Sshd, SshdOptions};
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::transport::{self, ConnectOptions, MidcltCall, Runner, Transport, TransportErrorKind};

/// An sshd whose sessions get `tmp` as TMPDIR (where a reply file would land).
fn start(tmp: &Path) -> Option<Sshd> {
    Sshd::start_with(SshdOptions {
        extra_config: vec![format!("SetEnv TMPDIR={}", tmp.display())],
        ..SshdOptions::default()
    })
}

async fn connect(sshd: &Sshd, home: &Path, call_timeout: Duration) -> Transport {
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
            sudo: false,
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

/// Pids of processes whose command line contains `pattern`.
fn pids(pattern: &str) -> Vec<u32> {
    let out = Command::new("pgrep")
        .arg("-f")
        .arg(pattern)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Whether process `pid` still runs (and is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

/// The pid of the session's shell (`sh -s`), as the harness's session wrapper records it.
fn session_shell(sshd: &Sshd) -> u32 {
    std::fs::read_to_string(sshd.dir().join("session.pid"))
        .expect("session.pid")
        .trim()
        .parse()
        .expect("pid")
}

/// Waits until `check` holds, for at most `secs` seconds.
async fn until(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// The fake midclt's processes (it lives in `bin_dir`) and the `sleep SECS` one runs.
fn batch_processes(sshd: &Sshd, secs: u32) -> Vec<u32> {
    let mut found = pids(&sshd.bin_dir.join("midclt").to_string_lossy());
    found.extend(pids(&format!("^sleep {secs}$")));
    found.into_iter().filter(|&p| alive(p)).collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect()
}

/// Descendants of `pid`, children first in each branch's order.
fn descendants(pid: u32) -> Vec<u32> {
    let out = Command::new("pgrep")
        .arg("-P")
        .arg(pid.to_string())
        .output()
        .expect("pgrep -P");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .flat_map(|c| std::iter::once(c).chain(descendants(c)))
        .collect()
}

fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_killed_mid_batch_leaves_no_file_and_no_process() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(sshd) = start(tmp.path()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let t = connect(&sshd, home.path(), Duration::from_secs(60)).await;
    let batch = tokio::spawn(async move {
        t.midclt_batch(&[
            MidcltCall::new("system.version", vec![]),
            MidcltCall::new("fake.sleep.971", vec![json!({"private_key": "x"})]),
        ])
        .await
    });
    assert!(
        until(10, || !batch_processes(&sshd, 971).is_empty()).await,
        "the slow call started"
    );
    let shell = session_shell(&sshd);
    // The server side of the connection dies: every sshd process of this server but the
    // listener (the shell and the calls are the user's, not sshd's).
    let listener: u32 = std::fs::read_to_string(sshd.dir().join("sshd.pid"))
        .expect("sshd.pid")
        .trim()
        .parse()
        .expect("pid");
    let sessions: Vec<u32> = descendants(listener)
        .into_iter()
        .filter(|&p| command_name(p).starts_with("sshd"))
        .collect();
    assert!(!sessions.is_empty(), "an sshd session process");
    for pid in &sessions {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let e = batch.await.expect("joins").expect_err("the session died");
    assert_eq!(e.kind, TransportErrorKind::Dropped, "{}", e.message);
    assert!(
        until(5, || batch_processes(&sshd, 971).is_empty()
            && !alive(shell))
        .await,
        "left running: {:?}, shell alive: {}",
        batch_processes(&sshd, 971),
        alive(shell)
    );
    assert_eq!(
        entries(tmp.path()),
        Vec::<PathBuf>::new(),
        "nothing in TMPDIR"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_midclt_is_ended_on_the_system_and_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(sshd) = start(tmp.path()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let t = connect(&sshd, home.path(), Duration::from_secs(1)).await;
    let started = Instant::now();
    let e = t
        .midclt_batch(&[
            MidcltCall::new("system.version", vec![]),
            MidcltCall::new("fake.sleep.972", vec![]),
            MidcltCall::new("system.info", vec![]),
        ])
        .await
        .expect_err("times out");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(e.kind, TransportErrorKind::Timeout);
    assert_eq!(
        e.message,
        format!(
            "fake.sleep.972 did not answer within 1s on {}@127.0.0.1:{}",
            current_user(),
            sshd.port
        )
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::timeout");
    let shell = session_shell(&sshd);
    assert!(
        until(3, || batch_processes(&sshd, 972).is_empty()
            && !alive(shell))
        .await,
        "left running: {:?}",
        batch_processes(&sshd, 972)
    );
    assert_eq!(
        entries(tmp.path()),
        Vec::<PathBuf>::new(),
        "nothing in TMPDIR"
    );
    // The connection stays usable.
    let out = t
        .midclt_batch(&[MidcltCall::new("system.version", vec![])])
        .await
        .expect("next batch");
    assert_eq!(out[0].stdout, "call\0system.version\0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_shell_killed_mid_batch_is_reported_as_killed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(sshd) = start(tmp.path()) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let t = connect(&sshd, home.path(), Duration::from_secs(60)).await;
    let batch = tokio::spawn(async move {
        t.midclt_batch(&[
            MidcltCall::new("fake.sleep.973", vec![]),
            MidcltCall::new("system.version", vec![]),
        ])
        .await
    });
    assert!(
        until(10, || !batch_processes(&sshd, 973).is_empty()
            && sshd.midclt_calls().len() == 2)
        .await,
        "both calls started"
    );
    // system.version answers at once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shell = session_shell(&sshd);
    Command::new("kill")
        .args(["-TERM", &shell.to_string()])
        .status()
        .expect("kill");
    let e = batch.await.expect("joins").expect_err("killed");
    assert_eq!(e.kind, TransportErrorKind::Killed, "{}", e.message);
    assert_eq!(
        e.message,
        format!(
            "the remote shell on {}@127.0.0.1:{} was killed (signal TERM) after 1 of 2 result(s)",
            current_user(),
            sshd.port
        )
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::killed");
    assert!(
        until(3, || batch_processes(&sshd, 973).is_empty()).await,
        "left running: {:?}",
        batch_processes(&sshd, 973)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_zfleet_gives_up_on_ends_its_processes_on_the_system() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(sshd) = start(tmp.path()) else {
        return;
    };
    // A system whose `timeout` does not limit anything: only zfleet's own limit applies.
    let fake_timeout = sshd.bin_dir.join("timeout");
    std::fs::write(&fake_timeout, "#!/bin/sh\nshift 3\nexec \"$@\"\n").expect("write");
    Command::new("chmod")
        .arg("+x")
        .arg(&fake_timeout)
        .status()
        .expect("chmod");
    let home = tempfile::tempdir().expect("home");
    let t = connect(&sshd, home.path(), Duration::from_secs(1)).await;
    let e = t
        .midclt_batch(&[
            MidcltCall::new("fake.sleep.974", vec![]),
            MidcltCall::new("system.version", vec![]),
        ])
        .await
        .expect_err("times out");
    assert_eq!(e.kind, TransportErrorKind::Timeout);
    assert_eq!(
        e.message,
        format!(
            "{}@127.0.0.1:{} sent 1 of 2 result(s) in 11s; no answer to fake.sleep.974",
            current_user(),
            sshd.port
        )
    );
    let shell = session_shell(&sshd);
    assert!(
        until(3, || batch_processes(&sshd, 974).is_empty()
            && !alive(shell))
        .await,
        "left running: {:?}",
        batch_processes(&sshd, 974)
    );
}
