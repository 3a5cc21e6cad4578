//! The SSH transport against a real OpenSSH sshd: key files, passphrases, ssh-agent,
//! known_hosts and pinned host keys, `~/.ssh/config` aliases, and the refusals.

#[path = "support/agent.rs"]
mod agent;
#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use agent::start_agent;
use client::{current_user, opts, ssh_system};
use sshd::Sshd;
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::transport::{
    self, ConnectOptions, MidcltCall, Runner, Secret, Transport, TransportError, TransportErrorKind,
};

/// The usual test system: 127.0.0.1 on the harness port, as the current user, with `key`
/// and the host key pinned.
fn pinned(sshd: &Sshd, key: &Path) -> SshSystem {
    SshSystem {
        user: Some(current_user()),
        identity_file: Some(key.to_path_buf()),
        host_key: Some(sshd.host_key_fingerprint.clone()),
        ..ssh_system("127.0.0.1", Some(sshd.port))
    }
}

fn system(ssh: SshSystem) -> System {
    System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Ssh(ssh),
    }
}

async fn connect(ssh: SshSystem, opts: &ConnectOptions) -> Result<Transport, TransportError> {
    transport::connect(&system(ssh), opts).await
}

/// Runs `system.version` through the fake midclt, which prints its argv back.
async fn assert_runs(t: &Transport) {
    let out = t
        .midclt_batch(&[MidcltCall::new("system.version", vec![])])
        .await
        .expect("batch runs");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].stdout, "call\0system.version\0");
    assert_eq!(out[0].stderr, "");
    assert_eq!(out[0].exit, 0);
}

#[tokio::test]
async fn ed25519_rsa_and_ecdsa_key_files_authenticate() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    for kind in ["ed25519", "rsa", "ecdsa"] {
        let key = sshd.authorized_key(&format!("id_{kind}"), kind, None);
        let t = connect(pinned(&sshd, &key), &opts(home.path()))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}\n{}", sshd.log()));
        assert_eq!(
            t.host_key_fingerprint().as_deref(),
            Some(sshd.host_key_fingerprint.as_str())
        );
        assert_runs(&t).await;
    }
    assert_eq!(sshd.exec_count(), 3);
}

#[tokio::test]
async fn passphrase_protected_key_with_the_passphrase_given() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_locked", "ed25519", Some("correct horse"));
    let mut o = opts(home.path());
    o.passphrase = Some(Secret::new("correct horse"));
    let t = connect(pinned(&sshd, &key), &o).await.expect("connects");
    assert_runs(&t).await;
    assert!(
        !format!("{o:?}").contains("correct horse"),
        "passphrase leaks in Debug"
    );

    o.passphrase = Some(Secret::new("wrong"));
    let e = connect(pinned(&sshd, &key), &o)
        .await
        .expect_err("wrong passphrase");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: key.clone() });
    assert_eq!(e.message, format!("wrong passphrase for {}", key.display()));
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::key_file");
    assert!(!e.message.contains("wrong\""));

    o.passphrase = None;
    let e = connect(pinned(&sshd, &key), &o)
        .await
        .expect_err("no passphrase");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: key.clone() });
    assert_eq!(
        e.message,
        format!(
            "{} is passphrase-protected, and no passphrase was given nor a terminal to ask on",
            key.display()
        )
    );
    let help = e.to_problem("nas1").help.unwrap_or_default();
    assert!(help.contains("ZFLEET_SSH_PASSPHRASE"), "{help}");
    assert!(help.contains("ssh-agent"), "{help}");
}

/// Runs in a child process with `ZFLEET_SSH_PASSPHRASE` set (see the test below).
#[tokio::test]
#[ignore = "run by passphrase_from_the_environment in a child process"]
async fn passphrase_env_child() {
    let Ok(pass) = std::env::var("ZFLEET_SSH_PASSPHRASE") else {
        panic!("run with ZFLEET_SSH_PASSPHRASE set");
    };
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_env", "ecdsa", Some(&pass));
    // Everything from the defaults except the isolation from the real user's files.
    let o = ConnectOptions {
        home: Some(home.path().to_path_buf()),
        global_known_hosts: Vec::new(),
        agent_socket: None,
        prompt_passphrase: false,
        ..ConnectOptions::default()
    };
    let t = connect(pinned(&sshd, &key), &o).await.expect("connects");
    assert_runs(&t).await;
}

#[test]
fn passphrase_from_the_environment() {
    if !sshd::available() {
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "passphrase_env_child",
            "--ignored",
            "--nocapture",
        ])
        .env("ZFLEET_SSH_PASSPHRASE", "env pass 'with' $pecials")
        .output()
        .expect("runs the child test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

/// Runs in a child process on a pseudo-terminal (see the test below).
#[tokio::test]
#[ignore = "run by passphrase_typed_at_the_terminal_prompt on a pseudo-terminal"]
async fn passphrase_prompt_child() {
    let Ok(dir) = std::env::var("ZFLEET_TEST_PROMPT_DIR") else {
        panic!("run with ZFLEET_TEST_PROMPT_DIR set");
    };
    let port: u16 = std::env::var("ZFLEET_TEST_PROMPT_PORT")
        .expect("port")
        .parse()
        .expect("port number");
    let fp = std::env::var("ZFLEET_TEST_PROMPT_FP").expect("fingerprint");
    let dir = PathBuf::from(dir);
    // Defaults decide: a terminal and no ZFLEET_SSH_PASSPHRASE, so zfleet asks.
    let o = ConnectOptions {
        home: Some(dir.clone()),
        global_known_hosts: Vec::new(),
        agent_socket: None,
        ..ConnectOptions::default()
    };
    assert!(o.prompt_passphrase, "stdin and stderr are a terminal here");
    let ssh = SshSystem {
        user: Some(current_user()),
        identity_file: Some(dir.join("id_prompt")),
        host_key: Some(fp),
        ..ssh_system("127.0.0.1", Some(port))
    };
    let t = connect(ssh, &o).await.expect("connects after the prompt");
    assert_runs(&t).await;
    println!("PROMPT-CHILD-CONNECTED");
}

#[test]
fn passphrase_typed_at_the_terminal_prompt() {
    let Some(sshd) = Sshd::start() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let key = sshd::keygen(dir.path(), "id_prompt", "ed25519", Some("typed secret"));
    sshd.authorize(&key.with_extension("pub"));
    let exe = std::env::current_exe().expect("test binary");
    let command = format!(
        "{} --exact passphrase_prompt_child --ignored --nocapture --test-threads 1",
        exe.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("ZFLEET_SSH_PASSPHRASE")
        .env("ZFLEET_TEST_PROMPT_DIR", dir.path())
        .env("ZFLEET_TEST_PROMPT_PORT", sshd.port.to_string())
        .env("ZFLEET_TEST_PROMPT_FP", &sshd.host_key_fingerprint)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("script(1) runs");
    // Read the terminal's output as it comes; type only once the prompt (echo off) is up.
    let mut stdout = child.stdout.take().expect("stdout");
    let seen = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().expect("lock").extend_from_slice(&buf[..n]);
            }
        })
    };
    let prompt = format!("Passphrase for {}: ", key.display());
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let text = String::from_utf8_lossy(&seen.lock().expect("lock")).into_owned();
        if text.contains(&prompt) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no passphrase prompt: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"typed secret\n").expect("type");
    }
    let status = child.wait().expect("child ends");
    reader.join().expect("reader");
    let text = String::from_utf8_lossy(&seen.lock().expect("lock")).into_owned();
    assert!(status.success(), "{text}");
    assert!(
        !text.contains("typed secret"),
        "the passphrase was echoed: {text}"
    );
    assert!(text.contains("PROMPT-CHILD-CONNECTED"), "{text}");
}

#[tokio::test]
async fn ssh_agent_keys_authenticate() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let Some(agent) = start_agent(home.path()) else {
        return;
    };
    let key = sshd.authorized_key("id_agent", "ed25519", Some("agent pass"));
    // ssh-add reads the passphrase through SSH_ASKPASS when it has no terminal.
    let askpass = home.path().join("askpass");
    std::fs::write(&askpass, "#!/bin/sh\necho 'agent pass'\n").expect("askpass");
    Command::new("chmod")
        .arg("+x")
        .arg(&askpass)
        .status()
        .expect("chmod");
    let added = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &agent.socket)
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
    // The key file is gone: only the agent can sign.
    std::fs::remove_file(&key).expect("rm key");

    let mut ssh = pinned(&sshd, &key);
    ssh.identity_file = None;
    let mut o = opts(home.path());
    o.agent_socket = Some(agent.socket.clone());
    let t = connect(ssh.clone(), &o).await.expect("agent auth");
    assert_runs(&t).await;

    o.agent_socket = None;
    let e = connect(ssh, &o).await.expect_err("no agent, no key");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed);

    // The agent named by ~/.ssh/config (IdentityAgent), and IdentitiesOnly limiting it to
    // the identity files' keys (only `key.pub` is left of the agent's key).
    let other = sshd::keygen(home.path(), "id_other", "ed25519", None);
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    std::fs::write(ssh_dir.join("known_hosts"), sshd.known_hosts_line(None)).expect("kh");
    let block = |name: &str, extra: &str| {
        format!(
            "Host {name}\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityAgent {}\n{extra}\n",
            sshd.port,
            current_user(),
            agent.socket.display()
        )
    };
    std::fs::write(
        ssh_dir.join("config"),
        [
            block("via-agent", ""),
            block(
                "only-other",
                &format!("  IdentitiesOnly yes\n  IdentityFile {}\n", other.display()),
            ),
            block(
                "only-agent-key",
                &format!("  IdentitiesOnly yes\n  IdentityFile {}\n", key.display()),
            ),
        ]
        .concat(),
    )
    .expect("config");
    let t = connect(ssh_system("via-agent", None), &o)
        .await
        .expect("IdentityAgent");
    assert_runs(&t).await;
    let e = connect(ssh_system("only-other", None), &o)
        .await
        .expect_err("IdentitiesOnly keeps the agent key back");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed, "{}", e.message);
    assert!(!e.message.contains("ssh-agent key"), "{}", e.message);
    let t = connect(ssh_system("only-agent-key", None), &o)
        .await
        .expect("the agent signs for the named identity");
    assert_runs(&t).await;
}

#[tokio::test]
async fn known_hosts_plain_hashed_and_system_file() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = None;

    // ~/.ssh/known_hosts with a `[host]:port` line among others.
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    let kh = ssh_dir.join("known_hosts");
    std::fs::write(
        &kh,
        format!(
            "# fleet\n127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIME215G+DzBlG3oia8ZTnWR5lQKOE18JQitvTZ1+stW8\n{}",
            sshd.known_hosts_line(None)
        ),
    )
    .expect("known_hosts");
    let t = connect(ssh.clone(), &opts(home.path()))
        .await
        .expect("plain");
    assert_runs(&t).await;

    // Hashed by ssh-keygen -H.
    let hashed = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&kh)
        .output()
        .expect("ssh-keygen -H");
    assert!(hashed.status.success());
    let text = std::fs::read_to_string(&kh).expect("read");
    assert!(
        text.contains("|1|") && !text.contains("127.0.0.1"),
        "{text}"
    );
    let t = connect(ssh.clone(), &opts(home.path()))
        .await
        .expect("hashed");
    assert_runs(&t).await;

    // A known_hosts named by the system itself wins over ~/.ssh/known_hosts.
    std::fs::write(&kh, "").expect("empty");
    let own = home.path().join("fleet_known_hosts");
    std::fs::write(&own, sshd.known_hosts_line(None)).expect("write");
    ssh.known_hosts = Some(own);
    let t = connect(ssh, &opts(home.path()))
        .await
        .expect("system known_hosts");
    assert_runs(&t).await;
}

#[tokio::test]
async fn the_recorded_host_key_type_is_asked_for_first() {
    // The server has ed25519 (preferred) and RSA keys; known_hosts records only RSA, as on
    // a system first reached by an older client. OpenSSH asks for the recorded type first;
    // so must zfleet, instead of calling the host unknown.
    let Some(sshd) = Sshd::start_with(sshd::SshdOptions {
        extra_host_key_types: vec!["rsa".into()],
        ..Default::default()
    }) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let rsa_pub = sshd.extra_host_key_pubs[0].clone();
    let kh = home.path().join("kh");
    std::fs::write(&kh, sshd.known_hosts_line_for(&rsa_pub, None)).expect("kh");
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = None;
    ssh.known_hosts = Some(kh);
    let t = connect(ssh, &opts(home.path())).await.expect("connects");
    assert_eq!(t.host_key_fingerprint(), Some(sshd::fingerprint(&rsa_pub)));
    assert_runs(&t).await;
}

#[tokio::test]
async fn a_pin_may_name_any_of_the_servers_host_keys() {
    let Some(sshd) = Sshd::start_with(sshd::SshdOptions {
        extra_host_key_types: vec!["ecdsa".into(), "rsa".into()],
        ..Default::default()
    }) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    // Pinned to the RSA key although the server offers Ed25519 first.
    let rsa_fp = sshd::fingerprint(&sshd.extra_host_key_pubs[1]);
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = Some(rsa_fp.clone());
    let t = connect(ssh.clone(), &opts(home.path()))
        .await
        .expect("connects");
    assert_eq!(t.host_key_fingerprint(), Some(rsa_fp));
    assert_runs(&t).await;

    // A pin matching none of them names every key the server presented.
    let stranger = sshd::keygen(home.path(), "stranger", "ed25519", None);
    let pin = sshd::fingerprint(&stranger.with_extension("pub"));
    ssh.host_key = Some(pin.clone());
    let e = connect(ssh, &opts(home.path())).await.expect_err("changed");
    assert!(
        matches!(e.kind, TransportErrorKind::HostKeyChanged { ref expected, .. } if *expected == pin)
    );
    let mut presented = vec![sshd.host_key_fingerprint.clone()];
    presented.extend(
        sshd.extra_host_key_pubs
            .iter()
            .map(|p| sshd::fingerprint(p)),
    );
    for fp in &presented {
        assert!(
            e.message.contains(fp.as_str()),
            "{fp} missing: {}",
            e.message
        );
    }
    assert_eq!(sshd.exec_count(), 1);
}

#[tokio::test]
async fn unknown_host_key_is_refused_with_its_fingerprint() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = None;
    let e = connect(ssh, &opts(home.path())).await.expect_err("unknown");
    let fp = sshd.host_key_fingerprint.clone();
    assert_eq!(
        e.kind,
        TransportErrorKind::HostKeyUnknown {
            fingerprint: fp.clone()
        }
    );
    assert!(
        e.message.contains(&format!("ssh-ed25519 {fp}")),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(&format!("host_key: \"{fp}\"")),
        "{}",
        e.message
    );
    assert!(
        e.message.contains("--accept-new-host-keys"),
        "{}",
        e.message
    );
    let p = e.to_problem("nas1");
    assert_eq!(p.code, "zfleet::ssh::host_key_unknown");
    assert_eq!(p.system.as_deref(), Some("nas1"));
    assert!(p.help.as_deref().unwrap_or("").contains(&fp));
    assert_eq!(
        sshd.exec_count(),
        0,
        "nothing may run on an unverified host"
    );
    assert!(
        !home.path().join(".ssh/known_hosts").exists(),
        "no silent TOFU"
    );
}

#[tokio::test]
async fn changed_host_key_is_a_hard_error() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let fp = sshd.host_key_fingerprint.clone();

    // known_hosts holds another ed25519 key for this host and port.
    let other = sshd::keygen(home.path(), "other_host_key", "ed25519", None);
    let other_fp = sshd::fingerprint(&other.with_extension("pub"));
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let kh = home.path().join("kh");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {other_pub}", sshd.port)).expect("kh");
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = None;
    ssh.known_hosts = Some(kh.clone());
    let mut o = opts(home.path());
    o.accept_new_host_keys = true; // never overrides a changed key
    let e = connect(ssh, &o).await.expect_err("changed");
    assert_eq!(
        e.kind,
        TransportErrorKind::HostKeyChanged {
            expected: other_fp.clone(),
            found: fp.clone()
        }
    );
    assert!(
        e.message.contains(&fp) && e.message.contains(&other_fp),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(&format!("{}:1", kh.display())),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::host_key_changed");

    // A pinned fingerprint that does not match.
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = Some(other_fp.clone());
    let e = connect(ssh, &opts(home.path()))
        .await
        .expect_err("pin mismatch");
    assert_eq!(
        e.kind,
        TransportErrorKind::HostKeyChanged {
            expected: other_fp,
            found: fp
        }
    );
    assert_eq!(sshd.exec_count(), 0);
}

#[tokio::test]
async fn accept_new_host_keys_records_then_verifies() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let mut ssh = pinned(&sshd, &key);
    ssh.host_key = None;
    let mut o = opts(home.path());
    o.accept_new_host_keys = true;
    let t = connect(ssh.clone(), &o).await.expect("accepts new");
    assert_runs(&t).await;
    let kh = home.path().join(".ssh/known_hosts");
    assert_eq!(
        std::fs::read_to_string(&kh).expect("written"),
        sshd.known_hosts_line(None)
    );
    o.accept_new_host_keys = false;
    let t = connect(ssh, &o).await.expect("now known");
    assert_runs(&t).await;
}

#[tokio::test]
async fn a_key_the_server_does_not_accept_is_refused() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let _authorized = sshd.authorized_key("id_good", "ed25519", None);
    let stranger = sshd::keygen(home.path(), "id_stranger", "ed25519", None);
    let e = connect(pinned(&sshd, &stranger), &opts(home.path()))
        .await
        .expect_err("refused");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed);
    let fp = sshd::fingerprint(&stranger.with_extension("pub"));
    assert!(e.message.contains(&fp), "{}", e.message);
    assert!(
        e.message.contains("refused every key offered"),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::auth_failed");

    let missing = home.path().join("no_such_key");
    let e = connect(pinned(&sshd, &missing), &opts(home.path()))
        .await
        .expect_err("missing key file");
    assert_eq!(e.kind, TransportErrorKind::KeyFile { path: missing });
    assert_eq!(sshd.exec_count(), 0);
}

#[tokio::test]
async fn ssh_config_alias_supplies_host_port_user_key_and_known_hosts() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("fleet_key", "rsa", None);
    let kh = home.path().join("fleet_hosts");
    std::fs::write(&kh, sshd.known_hosts_line(None)).expect("kh");
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    std::fs::write(
        ssh_dir.join("config"),
        format!(
            "Host other\n  Port 1\n\nHost mynas nas-*\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  \
             IdentityFile {}\n  UserKnownHostsFile {}\n\nHost *\n  User nobody\n",
            sshd.port,
            current_user(),
            key.display(),
            kh.display()
        ),
    )
    .expect("config");
    let t = connect(ssh_system("mynas", None), &opts(home.path()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_runs(&t).await;
    assert_eq!(
        t.host_key_fingerprint().as_deref(),
        Some(sshd.host_key_fingerprint.as_str())
    );
}

#[tokio::test]
async fn proxy_jump_tunnels_through_the_jump_host() {
    let Some(target) = Sshd::start() else { return };
    let Some(jump) = Sshd::start() else { return };
    let Some(closed_jump) = Sshd::start_with(sshd::SshdOptions {
        extra_config: vec!["AllowTcpForwarding no".into()],
        ..Default::default()
    }) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let target_key = target.authorized_key("target_key", "ed25519", None);
    let jump_key = jump.authorized_key("jump_key", "ed25519", None);
    closed_jump.authorize(&jump_key.with_extension("pub"));
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    std::fs::write(
        ssh_dir.join("known_hosts"),
        format!(
            "{}{}{}",
            target.known_hosts_line(None),
            jump.known_hosts_line(None),
            closed_jump.known_hosts_line(None)
        ),
    )
    .expect("known_hosts");
    let user = current_user();
    std::fs::write(
        ssh_dir.join("config"),
        format!(
            "Host target closed-target\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile {}\n\n\
             Host target\n  ProxyJump jump\n\nHost closed-target\n  ProxyJump {user}@127.0.0.1:{}\n\n\
             Host jump\n  HostName 127.0.0.1\n  Port {}\n  User {user}\n  IdentityFile {}\n\n\
             Host 127.0.0.1\n  IdentityFile {}\n",
            target.port,
            target_key.display(),
            closed_jump.port,
            jump.port,
            jump_key.display(),
            jump_key.display(),
        ),
    )
    .expect("config");

    let t = connect(ssh_system("target", None), &opts(home.path()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_runs(&t).await;
    assert_eq!(
        t.host_key_fingerprint().as_deref(),
        Some(target.host_key_fingerprint.as_str())
    );
    assert_eq!((jump.exec_count(), target.exec_count()), (0, 1));

    // A jump host that refuses to forward: the target is not reached directly instead.
    let e = connect(ssh_system("closed-target", None), &opts(home.path()))
        .await
        .expect_err("no forwarding");
    assert_eq!(e.kind, TransportErrorKind::Unreachable, "{}", e.message);
    assert!(
        e.message.contains("jump host could not reach"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn default_key_files_are_tried_when_none_is_named() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    let key = sshd::keygen(&ssh_dir, "id_ecdsa", "ecdsa", None);
    sshd.authorize(&key.with_extension("pub"));
    let mut ssh = pinned(&sshd, &key);
    ssh.identity_file = None;
    let t = connect(ssh, &opts(home.path())).await.expect("default key");
    assert_runs(&t).await;
}

#[tokio::test]
async fn running_out_of_auth_tries_is_an_auth_failure() {
    let Some(sshd) = Sshd::start_with(sshd::SshdOptions {
        extra_config: vec!["MaxAuthTries 2".into()],
        ..Default::default()
    }) else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    // Three default keys, none authorised: the server hangs up before the last one.
    for (name, kind) in [
        ("id_rsa", "rsa"),
        ("id_ecdsa", "ecdsa"),
        ("id_ed25519", "ed25519"),
    ] {
        sshd::keygen(&ssh_dir, name, kind, None);
    }
    let _authorized = sshd.authorized_key("other", "ed25519", None);
    let mut ssh = pinned(&sshd, &ssh_dir.join("unused"));
    ssh.identity_file = None;
    let e = connect(ssh, &opts(home.path())).await.expect_err("refused");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed, "{}", e.message);
    assert!(
        e.message
            .contains("closed the connection after refusing 2 key(s)"),
        "{}",
        e.message
    );
    assert!(e.message.contains("identity_file"), "{}", e.message);
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut ssh = pinned(&sshd, &key);
    ssh.port = Some(port);
    let e = connect(ssh, &opts(home.path())).await.expect_err("closed");
    assert_eq!(e.kind, TransportErrorKind::Unreachable);
    assert!(
        e.message.contains(&format!("127.0.0.1:{port}")),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_share_one_connection() {
    let Some(sshd) = Sshd::start() else { return };
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let t = Arc::new(
        connect(pinned(&sshd, &key), &opts(home.path()))
            .await
            .expect("connects"),
    );
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let t = t.clone();
        set.spawn(async move {
            let out = t
                .midclt_batch(&[MidcltCall::new("core.ping", vec![serde_json::json!(i)])])
                .await
                .expect("batch");
            assert_eq!(out[0].stdout, format!("call\0core.ping\0{i}\0"));
        });
    }
    while let Some(done) = set.join_next().await {
        done.expect("task");
    }
    assert_eq!(sshd.exec_count(), 20);
}
