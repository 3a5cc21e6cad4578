//! `zfleet sim serve` and the midclt shim, driven with the real OpenSSH client — and the
//! shim behind a real OpenSSH sshd, answering exactly like the simulator's own midclt.
//!
//! Needs `ssh`, `ssh-keygen` (and `/usr/sbin/sshd` for the last test); a missing one fails
//! the tests unless the user opts out (see `support/openssh.rs`).

#[path = "support/openssh.rs"]
mod openssh;

use std::io::{BufRead, BufReader, Read, Write};
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

/// zfleet's batch script for `calls`, with a fixed boundary.
fn batch(calls: &[(&str, Vec<serde_json::Value>)]) -> String {
    let calls: Vec<zfleet::transport::MidcltCall> = calls
        .iter()
        .map(|(m, a)| zfleet::transport::MidcltCall::new(*m, a.clone()))
        .collect();
    zfleet::transport::script::build(&calls, false, BOUNDARY, Duration::from_secs(30)).unwrap()
}

const BOUNDARY: &str = "ZFLEET-0123456789abcdef0123456789abcdef";

/// zfleet's batch on stdin of `sh -s` answers, byte for byte, what the real `sh` prints for
/// the same script with the simulator's midclt on its PATH.
#[test]
fn a_zfleet_batch_answers_like_a_real_sh() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "24.04")]);
    let script = batch(&[
        ("system.version", vec![]),
        ("core.ping", vec![]),
        ("no.such_method", vec![]),
        (
            "pool.dataset.query",
            vec![serde_json::json!([["id", "=", "it's $(id) `x`"]])],
        ),
        ("replication.get_instance", vec![serde_json::json!(99)]),
    ]);
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["sh", "-s"],
        &script,
    );
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));

    // The same script under the host's sh, against an identical system.
    let twin = tempfile::tempdir().unwrap();
    seed(twin.path(), "nas1", "24.04");
    let shim = zfleet::sim::server::write_shim(twin.path(), "nas1", Path::new(ZFLEET)).unwrap();
    let mut child = Command::new("sh")
        .arg("-s")
        .env("PATH", format!("{}:/usr/bin:/bin", shim.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like zfleet, keep stdin open while the batch runs: its end tells the script that the
    // client has gone.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    let mut real_stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut real_stdout)
        .unwrap();
    drop(stdin);
    let real = child.wait_with_output().unwrap();
    assert_eq!(real.status.code(), Some(0), "{}", text(&real.stderr));
    assert_eq!(text(&out.stdout), text(&real_stdout));
    let frames = zfleet::transport::script::parse(&out.stdout, BOUNDARY, 5).unwrap();
    assert!(frames.ended);
    let r = |i: usize| frames.results[i].clone().unwrap();
    assert_eq!(r(0).stdout, "TrueNAS-SCALE-24.04.2\n");
    assert_eq!(r(1).stdout, "pong\n");
    assert_eq!(r(2).exit, 1);
    assert_eq!(r(3).stdout, "[]\n");
}

/// What the server refuses, with the OpenSSH client: host commands, anything a shell would
/// interpret, scripts other than zfleet's batches, interactive shells and sftp.
#[test]
fn anything_but_midclt_and_zfleet_batches_is_refused() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let f = serve(&[("nas1", "25.10")]);
    let pwned = f.dir.path().join("pwned");
    let refused = |what: &str| {
        format!("zfleet sim serve runs only midclt and zfleet's batches; {what} refused\n")
    };
    let touch = format!("touch {}", pwned.display());
    let batch_and_more = format!("{}{touch}\n", batch(&[("core.ping", vec![])]));
    let cases: Vec<(Vec<&str>, &str, String)> = vec![
        (vec!["ls /"], "", refused("`ls /`")),
        (vec!["cat", "/etc/passwd"], "", refused("`cat /etc/passwd`")),
        (vec![&touch], "", refused(&format!("`{touch}`"))),
        (
            vec!["midclt call system.version; ls"],
            "",
            refused("`midclt call system.version; ls`"),
        ),
        (
            vec!["midclt call system.version $(touch /tmp/x)"],
            "",
            refused("`midclt call system.version $(touch /tmp/x)`"),
        ),
        (
            vec!["midclt call system.version > /tmp/x"],
            "",
            refused("`midclt call system.version > /tmp/x`"),
        ),
        (
            vec!["PATH=/tmp midclt call system.version"],
            "",
            refused("`PATH=/tmp midclt call system.version`"),
        ),
        (
            vec!["sh -c 'midclt call core.ping'"],
            "",
            refused("`sh -c 'midclt call core.ping'`"),
        ),
        (
            vec!["sh", "-s"],
            "ls /\n",
            refused(
                "an `sh -s` script that is not one of zfleet's batches (no `B=` boundary line)",
            ),
        ),
        (
            vec!["sh", "-s"],
            &batch_and_more,
            refused(
                "an `sh -s` script that is not one of zfleet's batches (it differs from what zfleet sends)",
            ),
        ),
    ];
    for (remote, stdin, message) in &cases {
        let out = ssh(&f.key, &f.known_hosts, f.port, "root", remote, stdin);
        assert_eq!(
            (
                text(&out.stdout).as_str(),
                text(&out.stderr).as_str(),
                out.status.code()
            ),
            ("", message.as_str(), Some(126)),
            "{remote:?}"
        );
    }
    assert!(!pwned.exists());

    // An interactive shell, even with a forced terminal.
    let out = Command::new("ssh")
        .args(["-tt", "-p", &f.port.to_string(), "-i"])
        .arg(&f.key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", f.known_hosts.display()))
        .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
        .args(["-o", "LogLevel=ERROR", "-F", "/dev/null"])
        .arg("root@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        (
            text(&out.stdout).as_str(),
            text(&out.stderr),
            out.status.code()
        ),
        ("", refused("an interactive shell"), Some(126))
    );

    // sftp: the subsystem is refused, nothing is transferred.
    let out = Command::new("sftp")
        .args(["-b", "-", "-P", &f.port.to_string(), "-i"])
        .arg(&f.key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", f.known_hosts.display()))
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ])
        .arg("root@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out.stderr).starts_with(&refused("the `sftp` subsystem")),
        "{}",
        text(&out.stderr)
    );

    // Forwarding is refused: no connection leaves the server.
    let out = Command::new("ssh")
        .args([
            "-W",
            &format!("127.0.0.1:{}", f.port),
            "-p",
            &f.port.to_string(),
            "-i",
        ])
        .arg(&f.key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", f.known_hosts.display()))
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ])
        .arg("root@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(text(&out.stdout), "");
    assert!(
        text(&out.stderr).contains("administratively prohibited"),
        "{}",
        text(&out.stderr)
    );

    // The client's environment reaches nothing: midclt is the simulator's whatever PATH says.
    let out = Command::new("ssh")
        .args(["-p", &f.port.to_string(), "-i"])
        .arg(&f.key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", f.known_hosts.display()))
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ])
        .args(["-o", "SetEnv=PATH=/nonexistent LD_PRELOAD=/nonexistent.so"])
        .args(["root@127.0.0.1", "midclt", "call", "core.ping"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("pong\n", Some(0)),
        "{}",
        text(&out.stderr)
    );

    // Plain midclt still works, quoted as a shell would quote it.
    let out = ssh(
        &f.key,
        &f.known_hosts,
        f.port,
        "root",
        &["midclt call pool.dataset.query '[[\"id\",\"=\",\"x\"]]'"],
        "",
    );
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("[]\n", Some(0)),
        "{}",
        text(&out.stderr)
    );
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

    let two_pings = batch(&[("core.ping", vec![]), ("core.ping", vec![])]);
    for _ in 0..2 {
        let out = ssh(
            &f.key,
            &f.known_hosts,
            f.port,
            "root",
            &["sh", "-s"],
            &two_pings,
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

/// Without `--authorized-keys`, the keys in a user's `sshpubkey` let that user (only) in,
/// and `midclt` answers as TrueNAS answers that user: root and the uid-950 admin are full
/// admins, another user is not authenticated, and `sudo -n` needs NOPASSWD.
#[test]
fn users_sshpubkey_from_state_authorises_that_user() {
    if !openssh::require(&["ssh", "ssh-keygen"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client_key");
    keygen(&key);
    let ops_key = dir.path().join("ops_key");
    keygen(&ops_key);
    let public = |k: &Path| {
        std::fs::read_to_string(k.with_extension("pub"))
            .unwrap()
            .trim()
            .to_string()
    };
    let fixture = dir.path().join("fixture.yaml");
    std::fs::write(
        &fixture,
        format!(
            "version: \"25.10\"\nusers:\n  \
             - {{ username: root, uid: 0, home: /root, sshpubkey: \"{}\" }}\n  \
             - {{ username: ops, uid: 3000, home: /home/ops, sshpubkey: \"{}\" }}\n",
            public(&key),
            public(&ops_key)
        ),
    )
    .unwrap();
    zfleet::sim::seed(&dir.path().join("nas1.json"), Some(&fixture), None).unwrap();
    let mut child = Command::new(ZFLEET)
        .args(["sim", "serve", "--state"])
        .arg(dir.path())
        .args(["--listen", "nas1=:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _ = lines.next();
    let listening = lines.next().unwrap().unwrap();
    assert!(
        listening.starts_with("nas1 listening on 127.0.0.1:"),
        "{listening}"
    );
    let port: u16 = listening.rsplit(':').next().unwrap().parse().unwrap();
    let _server = Killed(child);
    let pubkey = std::fs::read_to_string(dir.path().join("ssh_host_ed25519_key.pub")).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {pubkey}")).unwrap();
    let ping = ["midclt", "call", "core.ping"];

    let out = ssh(&key, &known_hosts, port, "root", &ping, "");
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("pong\n", Some(0))
    );
    // A key logs in as its own user only.
    for (k, user) in [(&key, "truenas_admin"), (&key, "ops"), (&ops_key, "root")] {
        let out = ssh(k, &known_hosts, port, user, &ping, "");
        assert_eq!(out.status.code(), Some(255), "{user}");
        assert!(text(&out.stderr).contains("Permission denied"), "{user}");
    }
    // ops logs in, but the middleware does not authenticate it.
    let out = ssh(&ops_key, &known_hosts, port, "ops", &ping, "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert!(
        text(&out.stderr).starts_with("[ENOTAUTHENTICATED] Not authenticated\nTraceback"),
        "{}",
        text(&out.stderr)
    );
    let sudo = ["sudo", "-n", "midclt", "call", "core.ping"];
    let out = ssh(&ops_key, &known_hosts, port, "ops", &sudo, "");
    assert_eq!(
        (text(&out.stderr).as_str(), out.status.code()),
        ("sudo: a password is required\n", Some(1))
    );
    let out = ssh(&key, &known_hosts, port, "root", &sudo, "");
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("pong\n", Some(0))
    );
    // zfleet's batch with `sudo: true` answers the same way, call by call.
    let calls = [zfleet::transport::MidcltCall::new("core.ping", vec![])];
    let script =
        zfleet::transport::script::build(&calls, true, BOUNDARY, Duration::from_secs(30)).unwrap();
    for (k, user, want) in [
        (&key, "root", ("pong\n", "", 0)),
        (&ops_key, "ops", ("", "sudo: a password is required\n", 1)),
    ] {
        let out = ssh(k, &known_hosts, port, user, &["sh", "-s"], &script);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let got = zfleet::transport::script::parse(&out.stdout, BOUNDARY, 1).unwrap();
        let got = got.results[0].clone().unwrap();
        assert_eq!(
            (got.stdout.as_str(), got.stderr.as_str(), got.exit),
            want,
            "{user}"
        );
    }
}

/// `sim serve` listens on loopback only, unless `--allow-remote` says otherwise; the help
/// says so.
#[test]
fn non_loopback_listen_needs_allow_remote() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), "nas1", "25.10");
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"] {
        let out = Command::new(ZFLEET)
            .args(["sim", "serve", "--state"])
            .arg(dir.path())
            .args(["--listen", &format!("nas1={addr}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{addr}");
        assert_eq!(text(&out.stdout), "");
        let err = text(&out.stderr);
        assert!(err.contains("zfleet::sim::listen_remote"), "{err}");
        assert!(
            err.contains(&format!(
                "nas1: {addr}: not a loopback address, so other machines could connect"
            )),
            "{err}"
        );
        assert!(err.contains("pass --allow-remote"), "{err}");
    }
    // Refused before anything was written.
    assert!(!dir.path().join("ssh_host_ed25519_key").exists());

    let mut child = Command::new(ZFLEET)
        .args(["sim", "serve", "--allow-remote", "--state"])
        .arg(dir.path())
        .args(["--listen", "nas1=0.0.0.0:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _server = Killed(child);
    let _ = lines.next();
    let listening = lines.next().unwrap().unwrap();
    assert!(
        listening.starts_with("nas1 listening on 0.0.0.0:"),
        "{listening}"
    );

    let help = Command::new(ZFLEET)
        .args(["sim", "serve", "--help"])
        .output()
        .unwrap();
    let help = text(&help.stdout);
    for words in [
        "one listener per system, on loopback",
        "The server is not a shell",
        "Only loopback addresses unless --allow-remote",
        "--allow-remote",
    ] {
        assert!(help.contains(words), "{words}: {help}");
    }
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
