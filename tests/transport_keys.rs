//! Keys and files the OpenSSH way, against a real OpenSSH sshd: an encrypted key used through
//! ssh-agent, a revoked host key beating a pin, a key file readable by others refused, the
//! modes of the files zfleet writes under umask 000, and concurrent runs learning one host.

#[path = "support/agent.rs"]
mod agent;
#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use agent::start_agent;
use client::{current_user, opts, ssh_system};
use sshd::Sshd;
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::transport::{self, ConnectOptions, MidcltCall, Runner, Transport, TransportError};
use zfleet::transport::{Secret, TransportErrorKind};

fn pinned(sshd: &Sshd, key: &Path) -> SshSystem {
    SshSystem {
        user: Some(current_user()),
        identity_file: Some(key.to_path_buf()),
        host_key: Some(sshd.host_key_fingerprint.clone()),
        ..ssh_system("127.0.0.1", Some(sshd.port))
    }
}

async fn connect(ssh: SshSystem, opts: &ConnectOptions) -> Result<Transport, TransportError> {
    let system = System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Ssh(ssh),
    };
    transport::connect(&system, opts).await
}

async fn assert_runs(t: &Transport) {
    let out = t
        .midclt_batch(&[MidcltCall::new("system.version", vec![])])
        .await
        .expect("batch runs");
    assert_eq!(out[0].stdout, "call\0system.version\0");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `ssh-add KEY` with the passphrase from an askpass script: no terminal anywhere.
fn ssh_add(agent_socket: &Path, key: &Path, passphrase: &str, dir: &Path) {
    let askpass = dir.join("askpass");
    std::fs::write(&askpass, format!("#!/bin/sh\necho '{passphrase}'\n")).expect("askpass");
    chmod(&askpass, 0o700);
    let added = Command::new("ssh-add")
        .arg(key)
        .env("SSH_AUTH_SOCK", agent_socket)
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .stdin(Stdio::null())
        .output()
        .expect("ssh-add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
}

#[tokio::test]
async fn an_encrypted_key_file_is_used_through_the_agent_that_holds_it() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let Some(agent) = start_agent(home.path()) else {
        return;
    };
    let key = sshd.authorized_key("id_locked", "ed25519", Some("agent pass"));
    ssh_add(&agent.socket, &key, "agent pass", home.path());
    // No passphrase and no terminal: only the agent can sign.
    let mut o = opts(home.path());
    o.agent_socket = Some(agent.socket.clone());
    let t = connect(pinned(&sshd, &key), &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_runs(&t).await;

    // The public half is read from the key file itself: no `.pub` needed.
    std::fs::remove_file(key.with_extension("pub")).expect("rm .pub");
    let t = connect(pinned(&sshd, &key), &o)
        .await
        .expect("agent, no .pub");
    assert_runs(&t).await;

    // Without the agent it is the passphrase error it always was.
    o.agent_socket = None;
    let e = connect(pinned(&sshd, &key), &o)
        .await
        .expect_err("no agent, no passphrase");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: key.clone() });
    assert!(e.message.contains("passphrase-protected"), "{}", e.message);

    // An agent holding other keys only: the passphrase is still needed.
    let other_agent_dir = tempfile::tempdir().expect("dir");
    let Some(other_agent) = start_agent(other_agent_dir.path()) else {
        return;
    };
    let other = sshd::keygen(other_agent_dir.path(), "id_other", "ed25519", Some("x"));
    ssh_add(&other_agent.socket, &other, "x", other_agent_dir.path());
    o.agent_socket = Some(other_agent.socket.clone());
    let e = connect(pinned(&sshd, &key), &o)
        .await
        .expect_err("the agent does not hold it");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: key.clone() });
    o.passphrase = Some(Secret::new("agent pass"));
    let t = connect(pinned(&sshd, &key), &o).await.expect("passphrase");
    assert_runs(&t).await;
}

#[tokio::test]
async fn a_pem_rsa_key_is_matched_to_the_agent_by_the_pub_beside_it() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let Some(agent) = start_agent(home.path()) else {
        return;
    };
    let key = sshd.authorized_key("id_pem", "rsa", Some("pem pass"));
    // Re-encode as a PEM (PKCS#1) file, which carries no public half in the clear.
    let status = Command::new("ssh-keygen")
        .args([
            "-q", "-p", "-m", "PEM", "-P", "pem pass", "-N", "pem pass", "-f",
        ])
        .arg(&key)
        .status()
        .expect("ssh-keygen -p");
    assert!(status.success());
    let text = std::fs::read_to_string(&key).expect("key");
    assert!(
        text.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "{text}"
    );
    ssh_add(&agent.socket, &key, "pem pass", home.path());
    let mut o = opts(home.path());
    o.agent_socket = Some(agent.socket.clone());
    let t = connect(pinned(&sshd, &key), &o)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.log()));
    assert_runs(&t).await;
}

#[tokio::test]
async fn a_revoked_host_key_is_refused_even_when_pinned() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let o = opts(home.path());
    let t = connect(pinned(&sshd, &key), &o).await.expect("pinned");
    assert_runs(&t).await;

    let kh = home.path().join(".ssh/known_hosts");
    std::fs::create_dir_all(kh.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &kh,
        format!("@revoked {}", sshd.known_hosts_line(Some("*"))),
    )
    .expect("known_hosts");
    let e = connect(pinned(&sshd, &key), &o)
        .await
        .expect_err("revoked beats the pin");
    assert_eq!(
        e.to_problem("nas1").code,
        "zfleet::ssh::host_key_changed",
        "{}",
        e.message
    );
    assert_eq!(
        e.message,
        format!(
            "the host key of [127.0.0.1]:{} ({}) is marked @revoked at {}:1",
            sshd.port,
            sshd.host_key_fingerprint,
            kh.display()
        )
    );
    assert_eq!(sshd.exec_count(), 1, "nothing ran after the revocation");
}

#[tokio::test]
async fn a_private_key_readable_by_others_is_refused_with_openssh_reason() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_open", "ed25519", None);
    chmod(&key, 0o644);
    let e = connect(pinned(&sshd, &key), &opts(home.path()))
        .await
        .expect_err("refused");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: key.clone() });
    assert_eq!(
        e.message,
        format!(
            "Permissions 0644 for '{}' are too open. It is required that your private key \
             files are NOT accessible by others. This private key will be ignored.",
            key.display()
        )
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::key_file");
    assert_eq!(sshd.exec_count(), 0);

    // A default key file is skipped with the same reason.
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    let default = ssh_dir.join("id_ed25519");
    std::fs::copy(&key, &default).expect("copy");
    chmod(&default, 0o640);
    let mut ssh = pinned(&sshd, &key);
    ssh.identity_file = None;
    let e = connect(ssh.clone(), &opts(home.path()))
        .await
        .expect_err("skipped");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed);
    assert!(
        e.message.contains(&format!(
            "Permissions 0640 for '{}' are too open",
            default.display()
        )),
        "{}",
        e.message
    );
    chmod(&default, 0o600);
    let t = connect(ssh, &opts(home.path()))
        .await
        .expect("0600 is fine");
    assert_runs(&t).await;
}

fn zfleet() -> &'static str {
    env!("CARGO_BIN_EXE_zfleet")
}

/// `zfleet ARGS` in `dir` under umask 000, with `home` as HOME and no agent.
fn zfleet_umask_000(dir: &Path, home: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(zfleet())
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ZFLEET_SSH_PASSPHRASE")
        .env_remove("ZFLEET_SIM_STATE_DIR")
        .env_remove("ZFLEET_API_TRACE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("zfleet")
}

fn config(dir: &Path, sshd: &Sshd, key: &Path, extra: &str) -> PathBuf {
    let path = dir.join("zfleet.yaml");
    std::fs::write(
        &path,
        format!(
            "project: t\nsystems:\n  nas1: {{ host: 127.0.0.1, port: {}, user: {}, identity_file: {} }}\n{extra}",
            sshd.port,
            current_user(),
            key.display()
        ),
    )
    .expect("config");
    path
}

#[test]
fn files_zfleet_writes_are_private_whatever_the_umask() {
    let Some(sshd) = Sshd::start() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    std::fs::create_dir_all(dir.path().join("sim")).expect("mkdir");
    std::fs::write(dir.path().join("sim/lab.yaml"), "hostname: lab\n").expect("fixture");
    config(
        dir.path(),
        &sshd,
        &key,
        "  lab: { simulator: { fixture: sim/lab.yaml } }\n",
    );
    let trace = dir.path().join("api.jsonl");
    let out = zfleet_umask_000(
        dir.path(),
        &home,
        &["systems", "--accept-new-host-keys"],
        &[("ZFLEET_API_TRACE", &trace)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The fake midclt answers no TrueNAS version: nas1 fails after connecting.
    assert!(stdout.contains("lab "), "{stdout}");
    assert_eq!(sshd.exec_count(), 1, "{stdout}");

    let kh = home.join(".ssh/known_hosts");
    assert_eq!(
        std::fs::read_to_string(&kh).expect("known_hosts"),
        sshd.known_hosts_line(None)
    );
    let state_dir = dir.path().join(".zfleet/sim/t");
    for (path, want) in [
        (home.join(".ssh"), 0o700),
        (kh.clone(), 0o600),
        (trace.clone(), 0o600),
        (dir.path().join(".zfleet"), 0o700),
        (dir.path().join(".zfleet/sim"), 0o700),
        (state_dir.clone(), 0o700),
        (state_dir.join("lab.json"), 0o600),
    ] {
        assert_eq!(mode(&path), want, "{}", path.display());
    }

    // The simulator's SSH host key, written by `sim serve`.
    let host_key = dir.path().join("keys/sub/host_key");
    let mut serve = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(zfleet())
        .args(["sim", "serve", "--listen", "lab=127.0.0.1:0", "--host-key"])
        .arg(&host_key)
        .arg("--state")
        .arg(&state_dir)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sim serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !host_key.with_extension("pub").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = serve.kill();
    let _ = serve.wait();
    assert_eq!(mode(&host_key), 0o600);
    assert_eq!(mode(&dir.path().join("keys")), 0o700);
    assert_eq!(mode(&dir.path().join("keys/sub")), 0o700);

    // An existing known_hosts keeps the mode its owner gave it, as with OpenSSH.
    chmod(&kh, 0o644);
    std::fs::write(&kh, "").expect("empty");
    let out = zfleet_umask_000(
        dir.path(),
        &home,
        &["systems", "--accept-new-host-keys"],
        &[],
    );
    assert_eq!(
        sshd.exec_count(),
        2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(mode(&kh), 0o644);
}

#[test]
fn concurrent_runs_learning_one_host_write_one_line() {
    let Some(sshd) = Sshd::start() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    config(dir.path(), &sshd, &key, "");
    for round in 0..3 {
        let kh = home.join(".ssh/known_hosts");
        let _ = std::fs::remove_file(&kh);
        let children: Vec<_> = (0..6)
            .map(|_| {
                Command::new(zfleet())
                    .args(["systems", "--accept-new-host-keys"])
                    .current_dir(dir.path())
                    .env("HOME", &home)
                    .env_remove("SSH_AUTH_SOCK")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("zfleet")
            })
            .collect();
        for mut child in children {
            child.wait().expect("wait");
        }
        assert_eq!(
            std::fs::read_to_string(&kh).expect("known_hosts"),
            sshd.known_hosts_line(None),
            "round {round}"
        );
    }
    assert_eq!(sshd.exec_count(), 18, "every run connected");
}
