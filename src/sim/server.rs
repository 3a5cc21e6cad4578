//! `zfleet sim serve`: an SSH server in front of a simulated fleet.
//!
//! One TCP listener per simulated system, one host key for all of them. Clients log in
//! with a public key listed in `--authorized-keys` (any user name) or in the `sshpubkey` of
//! a user of that system's state (that user name). Each `exec` request runs under the real
//! `/bin/sh` with a `PATH` whose first directory holds a `midclt` shim for that system, so a
//! script sent to `sh -s` behaves as it would on TrueNAS. Output is streamed, the exit status
//! sent, the channel closed. Like sshd's `MaxSessions 10`, a connection holds at most
//! [`MAX_SESSIONS`] channels at once. Faults from [`super::faults`] apply per exec.
//!
//! Commands run as the user running the server, like any shell account: it is a test
//! fixture, meant for loopback addresses and keys you control.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelMsg, ChannelOpenFailure, Disconnect};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::faults::{self, Counter};
use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::sim::host_key",
        summary: "the simulator's SSH host key could not be read or created",
    },
    CodeInfo {
        code: "zfleet::sim::authorized_keys",
        summary: "the authorized keys file given to `zfleet sim serve` could not be read",
    },
    CodeInfo {
        code: "zfleet::sim::listen",
        summary: "`zfleet sim serve` could not listen on an address, or was given a bad --listen",
    },
    CodeInfo {
        code: "zfleet::sim::shim",
        summary: "the midclt shim for a simulated system could not be written",
    },
];

/// Channels one connection may hold open at once (sshd's default `MaxSessions`).
pub const MAX_SESSIONS: usize = 10;

/// Host key file created in the fleet directory when `--host-key` is not given.
pub const DEFAULT_HOST_KEY: &str = "ssh_host_ed25519_key";

/// What `serve` needs to know.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The fleet directory (`<dir>/<system>.json`).
    pub state_dir: PathBuf,
    /// One listener per system; port 0 picks a free port (see [`Served::addrs`]).
    pub listen: Vec<(String, SocketAddr)>,
    pub host_key: Option<PathBuf>,
    pub authorized_keys: Option<PathBuf>,
    /// The `zfleet` binary the shims run (normally `std::env::current_exe()`).
    pub zfleet_exe: PathBuf,
}

/// A running server: its real addresses and host key, stopped on drop.
pub struct Served {
    pub addrs: Vec<(String, SocketAddr)>,
    pub fingerprint: String,
    pub host_key_path: PathBuf,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Parses `NAME=ADDR:PORT` as given to `--listen`.
pub fn parse_listen(arg: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=ADDRESS:PORT, got `{arg}`"))?;
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(format!("`{name}` is not a system name"));
    }
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("`{addr}` is not an address with a port: {e}"))?;
    Ok((name.to_string(), addr))
}

/// Quotes `s` for a POSIX shell: single quotes, with `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes `DIR/.shim/<system>/midclt`, a script that runs `zfleet sim midclt` against the
/// system's state file, and returns its directory (to put first on `PATH`).
pub fn write_shim(state_dir: &Path, system: &str, zfleet_exe: &Path) -> Result<PathBuf, Problem> {
    let shim_dir = state_dir.join(".shim").join(system);
    let state_file = state_dir.join(format!("{system}.json"));
    let script = format!(
        "#!/bin/sh\n# midclt of simulated system {system}\nexec {} sim midclt --state {} \"$@\"\n",
        sh_quote(&zfleet_exe.to_string_lossy()),
        sh_quote(&state_file.to_string_lossy()),
    );
    let path = shim_dir.join("midclt");
    let result = (|| {
        std::fs::create_dir_all(&shim_dir)?;
        std::fs::write(&path, script)?;
        set_mode(&path, 0o755)
    })();
    result.map_err(|e| {
        Problem::error(
            "zfleet::sim::shim",
            format!("cannot write {}: {e}", path.display()),
        )
        .system(system)
        .help("check that the fleet directory is writable")
    })?;
    Ok(shim_dir)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

fn host_key_problem(path: &Path, e: impl std::fmt::Display) -> Problem {
    Problem::error(
        "zfleet::sim::host_key",
        format!("cannot use host key {}: {e}", path.display()),
    )
    .object(path.display().to_string())
    .help("give an unencrypted OpenSSH private key with --host-key, or delete the file to have a new one generated")
}

/// Loads the host key, generating an Ed25519 key (and its `.pub`) if the file is absent.
pub fn load_or_create_host_key(path: &Path) -> Result<PrivateKey, Problem> {
    if path.exists() {
        return russh::keys::load_secret_key(path, None).map_err(|e| host_key_problem(path, e));
    }
    let key = PrivateKey::random(
        &mut russh::keys::key::safe_rng(),
        russh::keys::Algorithm::Ed25519,
    )
    .map_err(|e| host_key_problem(path, e))?;
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| host_key_problem(path, e))?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| host_key_problem(path, e))?;
    let result = (|| {
        if let Some(parent) = path.parent() {
            crate::files::create_dir_private(parent)?;
        }
        // Private key: created 0600 before any secret byte is written.
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        std::io::Write::write_all(&mut f, text.as_bytes())?;
        std::fs::write(path.with_extension("pub"), format!("{public}\n"))
    })();
    result.map_err(|e| host_key_problem(path, e))?;
    Ok(key)
}

/// Public keys found in authorized_keys text (options and comments allowed, bad lines
/// skipped: the file is user data).
pub fn parse_authorized_keys(text: &str) -> Vec<PublicKey> {
    let mut keys = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        // The key type may be preceded by options; try each position.
        for pair in tokens.windows(2) {
            if let Ok(k) = PublicKey::from_openssh(&format!("{} {}", pair[0], pair[1])) {
                keys.push(k);
                break;
            }
        }
    }
    keys
}

/// The `sshpubkey` of `user` in a state file, read loosely from the JSON (the state's
/// `users` table: objects with `username` and `sshpubkey`).
fn state_user_keys(state_file: &Path, user: &str) -> Vec<PublicKey> {
    let Ok(text) = std::fs::read_to_string(state_file) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let users = match value.get("users") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(serde_json::Value::Object(m)) => m.values().cloned().collect(),
        _ => Vec::new(),
    };
    users
        .iter()
        .filter(|u| u.get("username").and_then(|n| n.as_str()) == Some(user))
        .filter_map(|u| u.get("sshpubkey").and_then(|k| k.as_str()))
        .flat_map(parse_authorized_keys)
        .collect()
}

/// Shared by every connection of one listener.
struct SystemCtx {
    system: String,
    state_dir: PathBuf,
    state_file: PathBuf,
    shim_dir: PathBuf,
    authorized: Vec<PublicKey>,
}

struct Listener {
    ctx: Arc<SystemCtx>,
}

impl russh::server::Server for Listener {
    type Handler = Connection;

    fn new_client(&mut self, _peer: Option<SocketAddr>) -> Connection {
        let _ = faults::count(&self.ctx.state_dir, &self.ctx.system, Counter::Connections);
        Connection {
            ctx: self.ctx.clone(),
            user: String::new(),
            open: Arc::new(AtomicUsize::new(0)),
            execs: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// One client connection.
struct Connection {
    ctx: Arc<SystemCtx>,
    user: String,
    /// Channels currently open on this connection.
    open: Arc<AtomicUsize>,
    /// Execs started on this connection (for `drop_after`).
    execs: Arc<AtomicU64>,
}

/// Gives a channel slot back when the channel's task ends, however it ends.
struct SlotGuard(Arc<AtomicUsize>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if self.key_allowed(user, offer.public_key) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_allowed(user, key.public_key) {
            self.user = user.to_string();
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.open.fetch_add(1, Ordering::SeqCst) >= MAX_SESSIONS {
            self.open.fetch_sub(1, Ordering::SeqCst);
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        let guard = SlotGuard(self.open.clone());
        reply.accept().await;
        let job = ExecJob {
            ctx: self.ctx.clone(),
            user: self.user.clone(),
            execs: self.execs.clone(),
            session: session.handle(),
        };
        tokio::spawn(async move {
            let _guard = guard;
            job.serve_channel(channel).await;
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The command itself reaches the channel's task as `ChannelMsg::Exec`.
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }
}

impl Connection {
    fn key_allowed(&self, user: &str, key: &PublicKey) -> bool {
        let same = |k: &PublicKey| k.key_data() == key.key_data();
        self.ctx.authorized.iter().any(same)
            || state_user_keys(&self.ctx.state_file, user).iter().any(same)
    }
}

/// Everything one channel's task needs.
struct ExecJob {
    ctx: Arc<SystemCtx>,
    user: String,
    execs: Arc<AtomicU64>,
    session: russh::server::Handle,
}

impl ExecJob {
    async fn serve_channel(self, channel: Channel<Msg>) {
        let (mut rx, tx) = channel.split();
        // Wait for the exec request; anything else before it is ignored, a close ends it.
        let command = loop {
            match rx.wait().await {
                Some(ChannelMsg::Exec { command, .. }) => break command,
                Some(ChannelMsg::Eof) | Some(ChannelMsg::Close) | None => return,
                Some(_) => {}
            }
        };
        let command = String::from_utf8_lossy(&command).into_owned();
        let dir = self.ctx.state_dir.clone();
        let system = self.ctx.system.clone();
        let faults = tokio::task::spawn_blocking(move || {
            let _ = faults::count(&dir, &system, Counter::Execs);
            faults::load(&dir, &system).unwrap_or_default()
        })
        .await
        .unwrap_or_default();
        if faults.rtt_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.rtt_ms)).await;
        }
        let nth = self.execs.fetch_add(1, Ordering::SeqCst);
        let drop_now = faults.drop_after.is_some_and(|n| nth >= n);

        let mut child = match self.spawn(&command) {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("sh: cannot run command: {e}\n");
                let _ = tx.extended_data_bytes(1, msg.into_bytes()).await;
                let _ = tx.exit_status(127).await;
                let _ = tx.eof().await;
                let _ = tx.close().await;
                return;
            }
        };
        let mut stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();

        if drop_now {
            // The command runs to its end but its answer never arrives: the harshest
            // form of a connection lost mid-command (side effects happened).
            drop(stdin.take());
            let _ = child.wait().await;
            let _ = self
                .session
                .disconnect(
                    Disconnect::ConnectionLost,
                    "simulated connection drop".into(),
                    String::new(),
                )
                .await;
            return;
        }

        let out_writer = tx.make_writer();
        let err_writer = tx.make_writer_ext(Some(1));
        let pump_out = async move {
            if let Some(mut s) = stdout {
                let mut w = out_writer;
                let _ = tokio::io::copy(&mut s, &mut w).await;
                let _ = w.flush().await;
            }
        };
        let pump_err = async move {
            if let Some(mut s) = stderr {
                let mut w = err_writer;
                let _ = tokio::io::copy(&mut s, &mut w).await;
                let _ = w.flush().await;
            }
        };
        let outputs = async { tokio::join!(pump_out, pump_err) };
        tokio::pin!(outputs);

        // Feed the client's data to the child's stdin until EOF, while output flows.
        let mut outputs_done = false;
        let mut client_gone = false;
        loop {
            tokio::select! {
                msg = rx.wait(), if !client_gone => match msg {
                    Some(ChannelMsg::Data { data }) => {
                        if let Some(w) = stdin.as_mut()
                            && w.write_all(&data).await.is_err()
                        {
                            stdin = None;
                        }
                    }
                    Some(ChannelMsg::Eof) => stdin = None,
                    Some(ChannelMsg::Close) | None => {
                        // Client went away: stop the command, nobody reads its output.
                        client_gone = true;
                        let _ = child.start_kill();
                    }
                    Some(_) => {}
                },
                _ = &mut outputs, if !outputs_done => outputs_done = true,
            }
            if outputs_done || client_gone {
                break;
            }
        }
        drop(stdin);
        if !outputs_done && !client_gone {
            outputs.await;
        }
        let status = child.wait().await;
        if client_gone {
            return;
        }
        let code = match status {
            Ok(s) => exit_code(s),
            Err(_) => 255,
        };
        let _ = tx.exit_status(code).await;
        let _ = tx.eof().await;
        let _ = tx.close().await;
    }

    fn spawn(&self, command: &str) -> std::io::Result<tokio::process::Child> {
        let path = format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            self.ctx.shim_dir.display()
        );
        let home = if self.user == "root" {
            "/root".to_string()
        } else {
            format!("/home/{}", self.user)
        };
        tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .env_clear()
            .env("PATH", path)
            .env("HOME", home)
            .env("USER", &self.user)
            .env("LOGNAME", &self.user)
            .env("SHELL", "/bin/sh")
            .env("LANG", "C.UTF-8")
            .env("ZFLEET_SIM_STATE", &self.ctx.state_file)
            .current_dir(&self.ctx.state_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
    }
}

#[cfg(unix)]
fn exit_code(s: std::process::ExitStatus) -> u32 {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => c as u32,
        (None, Some(sig)) => 128 + sig as u32,
        _ => 255,
    }
}

#[cfg(not(unix))]
fn exit_code(s: std::process::ExitStatus) -> u32 {
    s.code().map_or(255, |c| c as u32)
}

/// Binds every listener and starts serving in the background of the current tokio runtime.
pub async fn start(opts: &ServeOptions) -> Result<Served, Problem> {
    let state_dir = std::path::absolute(&opts.state_dir).map_err(|e| {
        Problem::error(
            "zfleet::sim::listen",
            format!("bad fleet directory {}: {e}", opts.state_dir.display()),
        )
    })?;
    let host_key_path = opts
        .host_key
        .clone()
        .unwrap_or_else(|| state_dir.join(DEFAULT_HOST_KEY));
    let key = load_or_create_host_key(&host_key_path)?;
    let fingerprint = key.public_key().fingerprint(HashAlg::Sha256).to_string();
    let authorized = match &opts.authorized_keys {
        None => Vec::new(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Problem::error(
                    "zfleet::sim::authorized_keys",
                    format!("cannot read {}: {e}", p.display()),
                )
                .object(p.display().to_string())
                .help("give an OpenSSH authorized_keys file with --authorized-keys")
            })?;
            parse_authorized_keys(&text)
        }
    };
    let config = Arc::new(russh::server::Config {
        keys: vec![key],
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(3600)),
        nodelay: true,
        ..Default::default()
    });

    let mut served = Served {
        addrs: Vec::new(),
        fingerprint,
        host_key_path,
        tasks: Vec::new(),
    };
    for (system, addr) in &opts.listen {
        let shim_dir = write_shim(&state_dir, system, &opts.zfleet_exe)?;
        let socket = TcpListener::bind(addr).await.map_err(|e| {
            Problem::error(
                "zfleet::sim::listen",
                format!("cannot listen on {addr}: {e}"),
            )
            .system(system)
            .help("choose a free port, or port 0 to have one picked")
        })?;
        let local = socket.local_addr().unwrap_or(*addr);
        served.addrs.push((system.clone(), local));
        let mut listener = Listener {
            ctx: Arc::new(SystemCtx {
                system: system.clone(),
                state_dir: state_dir.clone(),
                state_file: state_dir.join(format!("{system}.json")),
                shim_dir,
                authorized: authorized.clone(),
            }),
        };
        let config = config.clone();
        served.tasks.push(tokio::spawn(async move {
            let _ = listener.run_on_socket(config, &socket).await;
        }));
    }
    Ok(served)
}

/// `zfleet sim serve`: starts, prints the host key fingerprint and the addresses, serves
/// until interrupted.
pub fn serve_forever(opts: &ServeOptions) -> Result<(), Problem> {
    let rt = tokio::runtime::Runtime::new()
        .map_err(|e| Problem::error("zfleet::sim::listen", format!("cannot start runtime: {e}")))?;
    rt.block_on(async {
        let served = start(opts).await?;
        crate::outln!(
            "host key {} ({})",
            served.fingerprint,
            served.host_key_path.display()
        );
        for (system, addr) in &served.addrs {
            crate::outln!("{system} listening on {addr}");
        }
        let _ = tokio::signal::ctrl_c().await;
        drop(served);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_arguments() {
        assert_eq!(
            parse_listen("nas1=127.0.0.1:2222").unwrap(),
            ("nas1".to_string(), "127.0.0.1:2222".parse().unwrap())
        );
        assert!(parse_listen("nas1").is_err());
        assert!(parse_listen("../x=127.0.0.1:1").is_err());
        assert!(parse_listen("nas1=localhost").is_err());
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(sh_quote("a'b c"), r"'a'\''b c'");
    }

    #[test]
    fn authorized_keys_with_options_and_junk() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create_host_key(&dir.path().join("k")).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let text = format!("# comment\nno-pty,command=\"x\" {public} me@x\ngarbage line here\n");
        let keys = parse_authorized_keys(&text);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_data(), key.public_key().key_data());
    }

    #[test]
    fn host_key_created_once_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let a = load_or_create_host_key(&path).unwrap();
        let b = load_or_create_host_key(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert!(path.with_extension("pub").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
