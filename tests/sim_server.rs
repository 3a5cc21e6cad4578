//! `zfleet sim serve` and the midclt shim, driven with the real OpenSSH client — and the
//! shim behind a real OpenSSH sshd, answering exactly like the simulator's own midclt.
//!
//! Needs `ssh`, `ssh-keygen` (and `/usr/sbin/sshd` for the last test); a missing one fails
//! the tests unless the user opts out (see `support/openssh.rs`).

#[path = "support/openssh.rs"]
mod openssh;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ZFLEET: &str = env!("CARGO_BIN_EXE_zfleet");

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

fn seed(dir: &Path, system: &str, version: &str) -> PathBuf {
    let state = dir.join(format!("{system}.json"));
    zfleet::sim::seed(&state, None, Some(version)).unwrap();
    state
}

/// What the simulator's own midclt prints for `argv` against `state`.
fn direct_midclt(state: &Path, argv: &[&str]) -> Output {
    Command::new(ZFLEET)
        .args(["sim", "midclt", "--state"])
        .arg(state)
        .args(argv)
        .output()
        .unwrap()
}

struct Fleet {
    dir: tempfile::TempDir,
    key: PathBuf,
    known_hosts: PathBuf,
    port: u16,
    fingerprint: String,
    _server: Killed,
}

fn serve(systems: &[(&str, &str)]) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    for (s, v) in systems {
        seed(dir.path(), s, v);
    }
    let key = dir.path().join("client_key");
    keygen(&key);
    let mut cmd = Command::new(ZFLEET);
    cmd.args(["sim", "serve", "--state"])
        .arg(dir.path())
        .arg("--authorized-keys")
        .arg(key.with_extension("pub"));
    for (s, _) in systems {
        cmd.arg("--listen").arg(format!("{s}=127.0.0.1:0"));
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let fingerprint = first
        .strip_prefix("host key ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    let listening = lines.next().unwrap().unwrap();
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    let server = Killed(child);
    let pubkey = std::fs::read_to_string(dir.path().join("ssh_host_ed25519_key.pub")).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {pubkey}")).unwrap();
    Fleet {
        dir,
        key,
        known_hosts,
        port,
        fingerprint,
        _server: server,
    }
}

fn ssh(
    key: &Path,
    known_hosts: &Path,
    port: u16,
    user: &str,
    remote: &[&str],
    stdin: &str,
) -> Output {
    let mut child = Command::new("ssh")
        .args(["-p", &port.to_string(), "-i"])
        .arg(key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "LogLevel=ERROR",
            "-F",
            "/dev/null",
        ])
        .arg(format!("{user}@127.0.0.1"))
        .args(remote)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn openssh_client_runs_midclt_like_truenas() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "25.10")]);
    let state = f.dir.path().join("nas1.json");
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "system.version"],
        "",
    );
    let direct = direct_midclt(&state, &["call", "system.version"]);
    assert_eq!(text(&out.stderr), "");
    assert!(
        text(&out.stdout).starts_with("TrueNAS-25.10"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(out.stdout, direct.stdout);
    assert_eq!(out.status.code(), Some(0));

    // A failing call: same stderr and exit code as the midclt it stands for.
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "no.such_method"],
        "",
    );
    let direct = direct_midclt(&state, &["call", "no.such_method"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), text(&direct.stderr));

    // The printed fingerprint is the host key's.
    let lf = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(f.dir.path().join("ssh_host_ed25519_key.pub"))
        .output()
        .unwrap();
    assert!(
        text(&lf.stdout).contains(&f.fingerprint),
        "{}",
        text(&lf.stdout)
    );
}

#[test]
fn script_on_stdin_of_sh_streams_output_and_exit_status() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "24.04")]);
    let script = "set -e\n\
        v=$(midclt call system.version)\n\
        printf 'version=%s\\n' \"$v\"\n\
        echo 'to stderr' >&2\n\
        midclt call core.ping\n\
        exit 7\n";
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["sh", "-s"],
        script,
    );
    assert_eq!(
        text(&out.stdout),
        "version=TrueNAS-SCALE-24.04.2\npong\n",
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), "to stderr\n");
    assert_eq!(out.status.code(), Some(7));

    // Large output arrives whole (flow control), with a plain command line.
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["seq 1 200000"],
        "",
    );
    let s = text(&out.stdout);
    assert_eq!(s.lines().count(), 200_000);
    assert_eq!(s.lines().last(), Some("200000"));
}

#[test]
fn unknown_key_is_refused_and_counters_count() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "25.04")]);
    let other = f.dir.path().join("other_key");
    keygen(&other);
    let out = ssh(&other, &f.known_hosts, f.port, "root", &["true"], "");
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );

    for _ in 0..2 {
        let out = ssh(
            &f.key,
            &f.known_hosts,
            f.port,
            "root",
            &["midclt call core.ping; midclt call core.ping"],
            "",
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let c = Command::new(ZFLEET)
        .args(["sim", "counters", "--json", "--state"])
        .arg(f.dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(v["nas1"]["connections"], 3);
    assert_eq!(v["nas1"]["execs"], 2);
    assert_eq!(v["nas1"]["midclt"], 4);
}

#[test]
fn injected_faults_reach_the_client() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "25.10")]);
    let set = |args: &[&str]| {
        let st = Command::new(ZFLEET)
            .args(["sim", "faults", "--state"])
            .arg(f.dir.path())
            .arg("nas1")
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
    };
    set(&["--stop-middleware"]);
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "system.version"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "Failed to run middleware call. Daemon not running?\n"
    );

    set(&["--timeout", "replication.query", "--rtt-ms", "300"]);
    let t0 = Instant::now();
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "replication.query"],
        "",
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        (text(&out.stderr).as_str(), out.status.code()),
        ("Call timeout\n", Some(1))
    );

    // Dropped mid-command: the client sees the connection go, not an exit status.
    set(&["--drop-after", "0"]);
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "system.version"],
        "",
    );
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(text(&out.stdout), "");

    set(&[]);
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt", "call", "core.ping"],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
}

/// The shim behind a real OpenSSH sshd: `ssh root@127.0.0.1 midclt call system.version`
/// answers exactly what the simulator's midclt answers.
#[test]
fn shim_behind_openssh_sshd_answers_like_truenas() {
    let sshd = "/usr/sbin/sshd";
    if !openssh::require(&[sshd, "ssh", "ssh-keygen"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = seed(dir.path(), "nas1", "25.10");
    let shim_dir = zfleet::sim::server::write_shim(dir.path(), "nas1", Path::new(ZFLEET)).unwrap();
    let host_key = dir.path().join("sshd_host_key");
    keygen(&host_key);
    let key = dir.path().join("client_key");
    keygen(&key);
    let authorized = dir.path().join("authorized_keys");
    std::fs::copy(key.with_extension("pub"), &authorized).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             StrictModes no\nUsePAM no\nPidFile none\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin\n",
            host_key.display(),
            authorized.display(),
            shim_dir.display()
        ),
    )
    .unwrap();
    let _ = std::fs::create_dir_all("/run/sshd");
    let _sshd = Killed(
        Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pubkey = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {pubkey}")).unwrap();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());

    let out = ssh(
        &key,
        &known_hosts,
        port,
        &user,
        &["midclt", "call", "system.version"],
        "",
    );
    let direct = direct_midclt(&state, &["call", "system.version"]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("TrueNAS-25.10"));
    assert_eq!(out.stdout, direct.stdout);

    let out = ssh(
        &key,
        &known_hosts,
        port,
        &user,
        &["midclt", "call", "replication.get_instance", "99"],
        "",
    );
    let direct = direct_midclt(&state, &["call", "replication.get_instance", "99"]);
    assert_eq!(out.status.code(), direct.status.code());
    assert_eq!(text(&out.stderr), text(&direct.stderr));
}

/// Without `--authorized-keys`, the keys in a user's `sshpubkey` let that user (only) in.
#[test]
fn users_sshpubkey_from_state_authorises_that_user() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client_key");
    keygen(&key);
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let fixture = dir.path().join("fixture.yaml");
    std::fs::write(
        &fixture,
        format!(
            "version: \"25.10\"\nusers:\n  - {{ username: root, uid: 0, home: /root, sshpubkey: \"{}\" }}\n",
            public.trim()
        ),
    )
    .unwrap();
    zfleet::sim::seed(&dir.path().join("nas1.json"), Some(&fixture), None).unwrap();
    let mut child = Command::new(ZFLEET)
        .args(["sim", "serve", "--state"])
        .arg(dir.path())
        .args(["--listen", "nas1=127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _ = lines.next();
    let listening = lines.next().unwrap().unwrap();
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    let _server = Killed(child);
    let pubkey = std::fs::read_to_string(dir.path().join("ssh_host_ed25519_key.pub")).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {pubkey}")).unwrap();

    let out = ssh(
        &key,
        &known_hosts,
        port,
        "root",
        &["midclt", "call", "core.ping"],
        "",
    );
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("pong\n", Some(0))
    );
    let out = ssh(&key, &known_hosts, port, "truenas_admin", &["true"], "");
    assert_eq!(out.status.code(), Some(255));
}

struct TrustingClient(russh::keys::PublicKey);

impl russh::client::Handler for TrustingClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(
            matches!(key, russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } if key.key_data() == self.0.key_data()),
        )
    }
}

/// Like sshd's `MaxSessions 10`: the eleventh channel of a connection is refused, and a
/// closed channel frees its slot.
#[tokio::test]
async fn at_most_ten_channels_per_connection() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), "nas1", "25.10");
    let client_key = zfleet::sim::server::load_or_create_host_key(&dir.path().join("ck")).unwrap();
    let served = zfleet::sim::server::start(&zfleet::sim::server::ServeOptions {
        state_dir: dir.path().to_path_buf(),
        listen: vec![("nas1".into(), "127.0.0.1:0".parse().unwrap())],
        host_key: None,
        authorized_keys: Some(dir.path().join("ck.pub")),
        zfleet_exe: PathBuf::from(ZFLEET),
    })
    .await
    .unwrap();
    let host = zfleet::sim::server::load_or_create_host_key(&served.host_key_path).unwrap();
    let mut session = russh::client::connect(
        Arc::new(russh::client::Config::default()),
        served.addrs[0].1,
        TrustingClient(host.public_key().clone()),
    )
    .await
    .unwrap();
    let auth = session
        .authenticate_publickey(
            "root",
            russh::keys::PrivateKeyWithHashAlg::new(Arc::new(client_key), None),
        )
        .await
        .unwrap();
    assert!(auth.success());
    let mut open = Vec::new();
    for _ in 0..10 {
        open.push(session.channel_open_session().await.unwrap());
    }
    assert!(session.channel_open_session().await.is_err());
    // A command still runs on one of the ten, and its end frees the slot.
    let ch = open.pop().unwrap();
    ch.exec(true, "midclt call core.ping").await.unwrap();
    let mut ch = ch;
    let mut stdout = Vec::new();
    let mut status = None;
    while let Some(msg) = ch.wait().await {
        match msg {
            russh::ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
            russh::ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            _ => {}
        }
    }
    assert_eq!(
        (String::from_utf8_lossy(&stdout).as_ref(), status),
        ("pong\n", Some(0))
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(session.channel_open_session().await.is_ok());
}
