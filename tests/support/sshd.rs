//! A real OpenSSH server for tests: `/usr/sbin/sshd -D -e -f CONFIG` on 127.0.0.1 with a free
//! port, its own host key and authorized_keys, as the current user, killed on drop.
//!
//! Every session runs through a `ForceCommand` wrapper that counts execs and puts a directory
//! holding `midclt` first on PATH. The default `midclt` is a fake that records its argv (each
//! argument NUL-terminated, one file per invocation) and prints it back; its method name can
//! also pick canned behaviour (see [`FAKE_MIDCLT`]). Pass another script with
//! [`SshdOptions::midclt`] (e.g. one that execs `zfleet sim midclt --state ...`).
//!
//! Use: `let Some(sshd) = Sshd::start() else { return };` — `None` means sshd or ssh-keygen
//! is missing and the user opted out of such tests (see [`openssh::require`]).
#![allow(dead_code)]

// The test crate declares `mod openssh` (support/openssh.rs) beside this module.
use crate::openssh;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

/// The fake `midclt`. `@CALLS@`, `@FILES@` are replaced by the harness's folders.
/// Methods (`midclt call METHOD ...`):
/// - `fake.out.NAME` / `fake.err.NAME`: print `FILES/NAME` to stdout / stderr;
/// - `fake.exit.N`: exit with status N;
/// - `fake.sleep.N`: sleep N seconds;
/// - `fake.drop`: kill the SSH session's process group with KILL (the remote shell dies
///   mid-batch);
/// - anything else: print the argv back, each argument NUL-terminated.
pub const FAKE_MIDCLT: &str = r#"#!/bin/sh
f=$(mktemp "@CALLS@/call.XXXXXX") || exit 99
for a in "$@"; do printf '%s\0' "$a"; done >"$f"
case "$2" in
  fake.out.*) cat "@FILES@/${2#fake.out.}" ;;
  fake.err.*) cat "@FILES@/${2#fake.err.}" >&2 ;;
  fake.exit.*) exit "${2#fake.exit.}" ;;
  fake.sleep.*) sleep "${2#fake.sleep.}" ;;
  fake.drop) kill -KILL -"$(cat "@CALLS@/../session.pid")" ;;
  *) cat "$f" ;;
esac
"#;

#[derive(Debug, Clone, Default)]
pub struct SshdOptions {
    /// The `midclt` script put on the session PATH; `None`: [`FAKE_MIDCLT`].
    pub midclt: Option<String>,
    /// Host key type (`ed25519`, `ecdsa`, `rsa`); `None`: ed25519.
    pub host_key_type: Option<String>,
    /// More host keys of these types, offered after the first.
    pub extra_host_key_types: Vec<String>,
    /// Extra `sshd_config` lines.
    pub extra_config: Vec<String>,
}

pub struct Sshd {
    dir: tempfile::TempDir,
    pub port: u16,
    /// The host's public key file and its `SHA256:` fingerprint.
    pub host_key_pub: PathBuf,
    pub host_key_fingerprint: String,
    /// Public key files of the extra host keys, in `extra_host_key_types` order.
    pub extra_host_key_pubs: Vec<PathBuf>,
    pub authorized_keys: PathBuf,
    /// Directory first on the session PATH (holds `midclt`).
    pub bin_dir: PathBuf,
    /// Where the fake midclt records each invocation's argv.
    pub calls_dir: PathBuf,
    /// Files the fake midclt's `fake.out.NAME` / `fake.err.NAME` print.
    pub files_dir: PathBuf,
    child: Child,
}

/// Whether sshd can run here: `false` only when it cannot and the user opted out.
pub fn available() -> bool {
    openssh::require(&[SSHD, "ssh-keygen"])
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Generates a key pair with ssh-keygen; returns the private key path (`.pub` beside it).
pub fn keygen(dir: &Path, name: &str, kind: &str, passphrase: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase.unwrap_or(""), "-C"])
        .arg(format!("zfleet-test-{name}"))
        .arg("-f")
        .arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    run(&mut cmd);
    path
}

/// `SHA256:...` of a public key file, as `ssh-keygen -l` prints it.
pub fn fingerprint(pub_file: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(pub_file)
        .output()
        .expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no fingerprint in {text:?}"))
        .to_string()
}

/// Runs sshd on `root`'s `sshd_config` and waits until it listens on `port`.
fn spawn(root: &Path, port: u16) -> Child {
    let starts_before = std::fs::read_to_string(root.join("sshd.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("Server listening on 127.0.0.1 port {port}")))
        .count();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("sshd.log"))
        .expect("sshd.log");
    let mut child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(root.join("sshd_config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {SSHD}: {e}"));

    // Ready when this sshd says it listens: a connection alone could reach another test's
    // server that took the same free port first (this one then exits on the bind).
    let deadline = Instant::now() + Duration::from_secs(20);
    let listening = format!("Server listening on 127.0.0.1 port {port}");
    loop {
        let log = std::fs::read_to_string(root.join("sshd.log")).unwrap_or_default();
        let own = log.lines().filter(|l| l.contains(&listening)).count();
        // A restart appends to the same log: wait for one more line than the earlier runs.
        if own > starts_before && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(root.join("sshd.log")).unwrap_or_default();
            panic!("sshd exited ({status}):\n{log}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let log = std::fs::read_to_string(root.join("sshd.log")).unwrap_or_default();
            panic!("sshd did not listen on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

impl Sshd {
    pub fn start() -> Option<Sshd> {
        Sshd::start_with(SshdOptions::default())
    }

    pub fn start_with(opts: SshdOptions) -> Option<Sshd> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let bin_dir = root.join("bin");
        let calls_dir = root.join("calls");
        let files_dir = root.join("files");
        for d in [&bin_dir, &calls_dir, &files_dir] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        // sshd refuses to start as root without its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");

        let kind = opts.host_key_type.as_deref().unwrap_or("ed25519");
        let host_key = keygen(&root, &format!("ssh_host_{kind}_key"), kind, None);
        let host_key_pub = host_key.with_extension("pub");
        let host_key_fingerprint = fingerprint(&host_key_pub);
        let extra_keys: Vec<PathBuf> = opts
            .extra_host_key_types
            .iter()
            .map(|t| keygen(&root, &format!("ssh_host_{t}_key"), t, None))
            .collect();
        let authorized_keys = root.join("authorized_keys");
        std::fs::write(&authorized_keys, "").expect("authorized_keys");

        let midclt = opts
            .midclt
            .clone()
            .unwrap_or_else(|| FAKE_MIDCLT.to_string())
            .replace("@CALLS@", &calls_dir.to_string_lossy())
            .replace("@FILES@", &files_dir.to_string_lossy());
        write_executable(&bin_dir.join("midclt"), &midclt);
        // A `sudo` that only checks for `-n` and runs the rest, recording that it was used.
        write_executable(
            &bin_dir.join("sudo"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = -n ] || exit 1\nshift\necho sudo >>'{}'\nexec \"$@\"\n",
                root.join("sudo.log").display()
            ),
        );
        // Each session: count the exec, note the shell's pid, put bin_dir first on PATH.
        let session = root.join("session.sh");
        write_executable(
            &session,
            &format!(
                "#!/bin/sh\necho exec >>'{execs}'\necho $$ >'{pid}'\nPATH='{bin}':$PATH\nexport PATH\n\
                 if [ -n \"$SSH_ORIGINAL_COMMAND\" ]; then exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"; fi\nexec /bin/sh\n",
                execs = root.join("execs").display(),
                pid = root.join("session.pid").display(),
                bin = bin_dir.display(),
            ),
        );

        let port = free_port();
        let config = root.join("sshd_config");
        let mut text = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\n\
             AuthorizedKeysFile {ak}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\nForceCommand {session}\nMaxSessions 10\n\
             LogLevel VERBOSE\n",
            hk = host_key.display(),
            pid = root.join("sshd.pid").display(),
            ak = authorized_keys.display(),
            session = session.display(),
        );
        for key in &extra_keys {
            text.push_str(&format!("HostKey {}\n", key.display()));
        }
        for line in &opts.extra_config {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&config, text).expect("sshd_config");
        let child = spawn(&root, port);
        Some(Sshd {
            dir,
            port,
            host_key_pub,
            host_key_fingerprint,
            extra_host_key_pubs: extra_keys.iter().map(|k| k.with_extension("pub")).collect(),
            authorized_keys,
            bin_dir,
            calls_dir,
            files_dir,
            child,
        })
    }

    /// Kills the server (sessions it started live on): connections are refused until
    /// [`Sshd::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port, with the same host key and config.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(self.dir.path(), self.port);
    }

    /// The harness's temporary directory (sshd_config, logs, counters).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Authorises a public key file for login.
    pub fn authorize(&self, pub_file: &Path) {
        let key = std::fs::read_to_string(pub_file).expect("public key");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.authorized_keys)
            .expect("authorized_keys");
        f.write_all(key.trim_end().as_bytes()).expect("write");
        f.write_all(b"\n").expect("write");
    }

    /// Generates a key in the harness dir and authorises it; returns the private key path.
    pub fn authorized_key(&self, name: &str, kind: &str, passphrase: Option<&str>) -> PathBuf {
        let key = keygen(self.dir.path(), name, kind, passphrase);
        self.authorize(&key.with_extension("pub"));
        key
    }

    /// A known_hosts line for this server under `name` (`[127.0.0.1]:PORT` form by default).
    pub fn known_hosts_line(&self, name: Option<&str>) -> String {
        self.known_hosts_line_for(&self.host_key_pub, name)
    }

    /// A known_hosts line for one of this server's host keys (`pub_file`).
    pub fn known_hosts_line_for(&self, pub_file: &Path, name: Option<&str>) -> String {
        let key = std::fs::read_to_string(pub_file).expect("host key");
        let mut parts = key.split_whitespace();
        let (kind, b64) = (parts.next().expect("type"), parts.next().expect("key"));
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| format!("[127.0.0.1]:{}", self.port));
        format!("{name} {kind} {b64}\n")
    }

    /// Number of SSH execs (sessions) the server has run.
    pub fn exec_count(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("execs"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// Number of commands that went through `sudo -n`.
    pub fn sudo_count(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("sudo.log"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// The argv of every fake midclt invocation so far, as raw bytes, sorted.
    pub fn midclt_calls(&self) -> Vec<Vec<Vec<u8>>> {
        let mut calls: Vec<Vec<Vec<u8>>> = std::fs::read_dir(&self.calls_dir)
            .expect("calls dir")
            .filter_map(|e| e.ok())
            .map(|e| {
                let bytes = std::fs::read(e.path()).expect("call file");
                let mut args: Vec<Vec<u8>> = bytes.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
                args.pop(); // after the last NUL terminator
                args
            })
            .collect();
        calls.sort();
        calls
    }

    /// Writes a file the fake midclt prints for `fake.out.NAME` / `fake.err.NAME`.
    pub fn set_file(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.files_dir.join(name), bytes).expect("write file");
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
