//! The SSH transport against the simulator's own russh SSH server (`zfleet sim serve`):
//! key files, ssh-agent, pinned and known_hosts host keys, `~/.ssh/config` aliases and the
//! refusals — with the simulator's real midclt answers and its use counters.
//!
//! Needs `ssh-keygen`, `ssh-agent` and `ssh-add` (OpenSSH client tools); a missing one fails
//! the tests unless the user opts out (see `support/openssh.rs`).

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

use agent::start_agent;
use client::{opts, ssh_system};
use sshd::{fingerprint, keygen};
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::sim::faults::Counters;
use zfleet::sim::server::{ServeOptions, Served};
use zfleet::transport::{
    self, ConnectOptions, MidcltCall, Runner, Transport, TransportError, TransportErrorKind,
};

const ZFLEET: &str = env!("CARGO_BIN_EXE_zfleet");

fn tools_available() -> bool {
    openssh::require(&["ssh-keygen", "ssh-agent", "ssh-add"])
}

/// One simulated TrueNAS 25.10 system `nas1` served over SSH on 127.0.0.1, with the client
/// keys in `dir/authorized_keys`.
struct Sim {
    dir: tempfile::TempDir,
    served: Served,
    port: u16,
    /// What the simulator's own midclt prints for `call system.version`.
    version: String,
}

impl Sim {
    /// Serves `nas1`, authorising the public keys of `keys` (private key paths) for any user.
    async fn start(dir: tempfile::TempDir, keys: &[&Path]) -> Sim {
        zfleet::sim::seed(&dir.path().join("nas1.json"), None, Some("25.10")).expect("seed");
        let mut authorized = String::new();
        for k in keys {
            authorized.push_str(&std::fs::read_to_string(k.with_extension("pub")).expect("pub"));
        }
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, authorized).expect("authorized_keys");
        Sim::serve(dir, Some(authorized_keys)).await
    }

    /// Serves `nas1` where only `user` may log in, with `key` (its `sshpubkey`).
    async fn start_for_user(dir: tempfile::TempDir, key: &Path, user: &str) -> Sim {
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
        let fixture = dir.path().join("fixture.yaml");
        std::fs::write(
            &fixture,
            format!(
                "version: \"25.10\"\nusers:\n  - {{ username: {user}, uid: 0, home: /root, sshpubkey: \"{}\" }}\n",
                public.trim()
            ),
        )
        .expect("fixture");
        zfleet::sim::seed(&dir.path().join("nas1.json"), Some(&fixture), None).expect("seed");
        Sim::serve(dir, None).await
    }

    async fn serve(dir: tempfile::TempDir, authorized_keys: Option<PathBuf>) -> Sim {
        let version = direct_midclt(&dir.path().join("nas1.json"), &["call", "system.version"]);
        // The direct call above counts too; the tests count from zero.
        zfleet::sim::faults::reset_counters(dir.path()).expect("reset counters");
        let served = zfleet::sim::server::start(&ServeOptions {
            state_dir: dir.path().to_path_buf(),
            listen: vec![("nas1".into(), "127.0.0.1:0".parse().expect("addr"))],
            host_key: None,
            authorized_keys,
        })
        .await
        .expect("the simulator serves");
        let port = served.addrs[0].1.port();
        Sim {
            dir,
            served,
            port,
            version,
        }
    }

    fn counters(&self) -> Counters {
        zfleet::sim::faults::counters(self.dir.path())
            .expect("counters")
            .get("nas1")
            .copied()
            .unwrap_or_default()
    }

    /// `[127.0.0.1]:PORT <host key>` for a known_hosts file.
    fn known_hosts_line(&self) -> String {
        let public =
            std::fs::read_to_string(self.served.host_key_path.with_extension("pub")).expect("pub");
        format!("[127.0.0.1]:{} {}", self.port, public.trim_end())
    }

    /// The usual system: 127.0.0.1 on the served port as root, with `key` and the host key
    /// pinned.
    fn pinned(&self, key: &Path) -> SshSystem {
        SshSystem {
            user: Some("root".into()),
            identity_file: Some(key.to_path_buf()),
            host_key: Some(self.served.fingerprint.clone()),
            ..ssh_system("127.0.0.1", Some(self.port))
        }
    }
}

/// What the simulator's own midclt prints for `argv` against `state`.
fn direct_midclt(state: &Path, argv: &[&str]) -> String {
    let out = Command::new(ZFLEET)
        .args(["sim", "midclt", "--state"])
        .arg(state)
        .args(argv)
        .output()
        .expect("zfleet sim midclt");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn connect(ssh: SshSystem, opts: &ConnectOptions) -> Result<Transport, TransportError> {
    transport::connect(
        &System {
            name: "nas1".into(),
            connect_timeout: None,
            timeout: None,
            prune: false,
            fixate_removal_date: false,
            kind: SystemKind::Ssh(ssh),
        },
        opts,
    )
    .await
}

/// Runs `system.version` and `core.ping` in one batch; the simulator answers both as a
/// TrueNAS 25.10 does.
async fn assert_runs(sim: &Sim, t: &Transport) {
    let out = t
        .midclt_batch(&[
            MidcltCall::new("system.version", vec![]),
            MidcltCall::new("core.ping", vec![]),
        ])
        .await
        .expect("batch runs");
    assert_eq!(out.len(), 2);
    assert!(out[0].stdout.starts_with("TrueNAS-25.10.1"), "{:?}", out[0]);
    assert_eq!(out[0].stdout.trim_end(), sim.version.trim_end());
    assert_eq!((out[0].stderr.as_str(), out[0].exit), ("", 0));
    assert_eq!(
        (
            out[1].stdout.trim_end(),
            out[1].stderr.as_str(),
            out[1].exit
        ),
        ("pong", "", 0)
    );
}

#[tokio::test]
async fn ed25519_rsa_and_ecdsa_key_files_run_a_batch_in_one_exec() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let keys: Vec<PathBuf> = ["ed25519", "rsa", "ecdsa"]
        .iter()
        .map(|kind| keygen(home.path(), &format!("id_{kind}"), kind, None))
        .collect();
    let refs: Vec<&Path> = keys.iter().map(PathBuf::as_path).collect();
    let sim = Sim::start(dir, &refs).await;
    for (n, key) in keys.iter().enumerate() {
        let t = connect(sim.pinned(key), &opts(home.path()))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", key.display()));
        assert_eq!(
            t.host_key_fingerprint().as_deref(),
            Some(sim.served.fingerprint.as_str())
        );
        assert_runs(&sim, &t).await;
        let n = n as u64 + 1;
        // Each batch of two calls is a single exec on one connection.
        assert_eq!(
            sim.counters(),
            Counters {
                connections: n,
                execs: n,
                midclt: 2 * n
            }
        );
    }
}

#[tokio::test]
async fn ssh_agent_key_authenticates() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let Some(agent) = start_agent(home.path()) else {
        return;
    };
    let key = keygen(home.path(), "id_agent", "ed25519", None);
    let sim = Sim::start(dir, &[&key]).await;
    let added = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &agent.socket)
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
    let mut ssh = sim.pinned(&key);
    ssh.identity_file = None;

    let mut o = opts(home.path());
    o.agent_socket = Some(agent.socket.clone());
    let t = connect(ssh.clone(), &o).await.expect("agent auth");
    assert_runs(&sim, &t).await;

    o.agent_socket = None;
    let e = connect(ssh, &o).await.expect_err("no agent, no key");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed, "{}", e.message);
    assert_eq!(sim.counters().execs, 1);
}

#[tokio::test]
async fn pinned_fingerprint_and_known_hosts_entry_are_accepted() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let key = keygen(home.path(), "id_ed25519", "ed25519", None);
    let sim = Sim::start(dir, &[&key]).await;
    // The fingerprint the simulator reports is the one ssh-keygen computes.
    assert_eq!(
        sim.served.fingerprint,
        fingerprint(&sim.served.host_key_path.with_extension("pub"))
    );

    let t = connect(sim.pinned(&key), &opts(home.path()))
        .await
        .expect("pinned");
    assert_runs(&sim, &t).await;

    // A known_hosts file given for the system.
    let kh = home.path().join("fleet_known_hosts");
    std::fs::write(&kh, format!("{}\n", sim.known_hosts_line())).expect("kh");
    let mut ssh = sim.pinned(&key);
    ssh.host_key = None;
    ssh.known_hosts = Some(kh);
    let t = connect(ssh.clone(), &opts(home.path()))
        .await
        .expect("known_hosts");
    assert_eq!(
        t.host_key_fingerprint().as_deref(),
        Some(sim.served.fingerprint.as_str())
    );
    assert_runs(&sim, &t).await;

    // ~/.ssh/known_hosts.
    ssh.known_hosts = None;
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    std::fs::write(
        ssh_dir.join("known_hosts"),
        format!("{}\n", sim.known_hosts_line()),
    )
    .expect("kh");
    let t = connect(ssh, &opts(home.path()))
        .await
        .expect("~/.ssh/known_hosts");
    assert_runs(&sim, &t).await;
    assert_eq!(sim.counters().execs, 3);
}

#[tokio::test]
async fn unknown_host_key_is_refused_with_its_fingerprint() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let key = keygen(home.path(), "id_ed25519", "ed25519", None);
    let sim = Sim::start(dir, &[&key]).await;
    let mut ssh = sim.pinned(&key);
    ssh.host_key = None;
    let e = connect(ssh, &opts(home.path())).await.expect_err("unknown");
    let fp = sim.served.fingerprint.clone();
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
    let p = e.to_problem("nas1");
    assert_eq!(p.code, "zfleet::ssh::host_key_unknown");
    assert!(p.help.as_deref().unwrap_or("").contains(&fp));
    assert_eq!(
        sim.counters().execs,
        0,
        "nothing runs on an unverified host"
    );
    assert!(
        !home.path().join(".ssh/known_hosts").exists(),
        "no silent TOFU"
    );
}

#[tokio::test]
async fn changed_host_key_is_refused() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let key = keygen(home.path(), "id_ed25519", "ed25519", None);
    let sim = Sim::start(dir, &[&key]).await;
    let fp = sim.served.fingerprint.clone();
    let other = keygen(home.path(), "other_host_key", "ed25519", None);
    let other_fp = fingerprint(&other.with_extension("pub"));

    // A pin naming another key.
    let mut ssh = sim.pinned(&key);
    ssh.host_key = Some(other_fp.clone());
    let e = connect(ssh, &opts(home.path()))
        .await
        .expect_err("pin mismatch");
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
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::host_key_changed");

    // known_hosts holding another key for this host and port; accepting new keys never
    // overrides a changed one.
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let kh = home.path().join("kh");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {other_pub}", sim.port)).expect("kh");
    let mut ssh = sim.pinned(&key);
    ssh.host_key = None;
    ssh.known_hosts = Some(kh.clone());
    let mut o = opts(home.path());
    o.accept_new_host_keys = true;
    let e = connect(ssh, &o).await.expect_err("changed");
    assert_eq!(
        e.kind,
        TransportErrorKind::HostKeyChanged {
            expected: other_fp,
            found: fp
        }
    );
    assert!(
        e.message.contains(&format!("{}:1", kh.display())),
        "{}",
        e.message
    );
    assert_eq!(
        std::fs::read_to_string(&kh).expect("kh"),
        format!("[127.0.0.1]:{} {other_pub}", sim.port),
        "known_hosts left as it was"
    );
    assert_eq!(sim.counters().execs, 0);
}

#[tokio::test]
async fn a_key_not_in_authorized_keys_is_refused() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let good = keygen(home.path(), "id_good", "ed25519", None);
    let stranger = keygen(home.path(), "id_stranger", "ed25519", None);
    let sim = Sim::start(dir, &[&good]).await;
    let e = connect(sim.pinned(&stranger), &opts(home.path()))
        .await
        .expect_err("refused");
    assert_eq!(e.kind, TransportErrorKind::AuthFailed, "{}", e.message);
    let fp = fingerprint(&stranger.with_extension("pub"));
    assert!(e.message.contains(&fp), "{}", e.message);
    assert!(
        e.message.contains("refused every key offered"),
        "{}",
        e.message
    );
    assert_eq!(e.to_problem("nas1").code, "zfleet::ssh::auth_failed");
    assert_eq!(sim.counters().execs, 0);
}

#[tokio::test]
async fn ssh_config_alias_supplies_host_port_user_and_key() {
    if !tools_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let home = tempfile::tempdir().expect("home");
    let key = keygen(home.path(), "fleet_key", "rsa", None);
    // Only root may log in: the `User nobody` of `Host *` must lose to the alias's.
    let sim = Sim::start_for_user(dir, &key, "root").await;
    let kh = home.path().join("fleet_hosts");
    std::fs::write(&kh, format!("{}\n", sim.known_hosts_line())).expect("kh");
    let config = home.path().join("fleet_ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host other\n  Port 1\n\nHost mynas nas-*\n  HostName 127.0.0.1\n  Port {}\n  User root\n  \
             IdentityFile {}\n  UserKnownHostsFile {}\n\nHost *\n  User nobody\n",
            sim.port,
            key.display(),
            kh.display()
        ),
    )
    .expect("config");
    let mut o = opts(home.path());
    o.ssh_config = Some(config);
    let t = connect(ssh_system("mynas", None), &o)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_runs(&sim, &t).await;
    assert_eq!(
        t.host_key_fingerprint().as_deref(),
        Some(sim.served.fingerprint.as_str())
    );

    // The same alias from ~/.ssh/config (`ssh_config: None`).
    let ssh_dir = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).expect("mkdir");
    std::fs::copy(o.ssh_config.take().expect("config"), ssh_dir.join("config")).expect("copy");
    let t = connect(ssh_system("nas-1", None), &o)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_runs(&sim, &t).await;
    assert_eq!(sim.counters().execs, 2);
}
