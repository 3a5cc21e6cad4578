//! `zfleet sim serve`: an SSH server in front of a simulated fleet.
//!
//! One TCP listener per simulated system, one host key for all of them. A client logs in as
//! a user of that system's state with a public key listed in `--authorized-keys` or in that
//! user's own `sshpubkey` ([`super::account`]). The server is not a shell: an exec request
//! is read by [`super::shell`] and only `midclt ...` commands and zfleet's `sh -s` batches
//! run, in-process against the system's state; anything else, shells and subsystems
//! included, gets a refusal on stderr and exit status 126. Like sshd's `MaxSessions 10`, a
//! connection holds at most [`MAX_SESSIONS`] channels at once. Faults from
//! [`super::faults`] apply per exec.
//!
//! `zfleet sim serve` listens on loopback addresses only unless told otherwise
//! (`--allow-remote`): it is a test fixture, meant for keys you control.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey};
use russh::server::{Auth, ChannelOpenHandle, Msg, Server as _, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelMsg, ChannelOpenFailure, Disconnect};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::MidcltOutput;
use super::account::{self, Account};
use super::faults::{self, Counter};
use super::shell::{self, Refusal, Request};
use crate::diag::{CodeInfo, Problem};
use crate::transport::script::REMOTE_PARALLEL;

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
        code: "zfleet::sim::listen_remote",
        summary: "`zfleet sim serve` was asked to listen on a non-loopback address without --allow-remote",
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

/// Parses `NAME=ADDR:PORT` (or `NAME=:PORT`, meaning 127.0.0.1) as given to `--listen`.
pub fn parse_listen(arg: &str) -> Result<(String, SocketAddr), String> {
    let (name, addr) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=ADDRESS:PORT, got `{arg}`"))?;
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(format!("`{name}` is not a system name"));
    }
    let addr: SocketAddr = match addr.strip_prefix(':') {
        Some(port) => port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|e| format!("`{port}` is not a port: {e}"))?,
        None => addr
            .parse()
            .map_err(|e| format!("`{addr}` is not an address with a port: {e}"))?,
    };
    Ok((name.to_string(), addr))
}

/// The refusal of a `--listen` address other machines could reach.
pub fn remote_listen_refused(system: &str, addr: &SocketAddr) -> Problem {
    Problem::error(
        "zfleet::sim::listen_remote",
        "not a loopback address, so other machines could connect",
    )
    .system(system)
    .object(addr.to_string())
    .help("listen on 127.0.0.1 or [::1] (`SYSTEM=:PORT` is 127.0.0.1), or pass --allow-remote to serve the fleet to other machines")
}

/// Quotes `s` for a POSIX shell: single quotes, with `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Writes `DIR/.shim/<system>/midclt`, a script that runs `zfleet sim midclt` against the
/// system's state file, and returns its directory, to put first on the `PATH` of a real
/// sshd standing in for the system (the simulator's own server needs none).
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
        crate::files::set_mode(&path, 0o755)
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
        let mut f = crate::files::create_new_private(path)?;
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

/// Shared by every connection of one listener.
struct SystemCtx {
    system: String,
    state_dir: PathBuf,
    state_file: PathBuf,
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
            account: None,
            open: Arc::new(AtomicUsize::new(0)),
            execs: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// One client connection.
struct Connection {
    ctx: Arc<SystemCtx>,
    /// The logged-in user, once authenticated.
    account: Option<Account>,
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
        Ok(if self.allowed(user, offer.public_key).is_some() {
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
        match self.allowed(user, key.public_key) {
            Some(account) => {
                self.account = Some(account);
                Ok(Auth::Accept)
            }
            None => Ok(Auth::reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(account) = self.account.clone() else {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        };
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
            account,
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
        // The command itself reaches the channel's task as `ChannelMsg::Exec`, which
        // decides whether it runs.
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Accepted only so that the client reads the refusal the channel's task sends.
        session.channel_success(channel)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Likewise: the refusal names the subsystem.
        session.channel_success(channel)
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // No terminal is ever allocated, but OpenSSH's `-t` gives up on a refused one before
        // it would show why the shell or command after it is refused.
        session.channel_success(channel)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Nothing here reads an environment; say so rather than pretend to set it.
        session.channel_failure(channel)
    }
}

impl Connection {
    /// The account `user` logs in to with `key`: the user must exist on the system, and the
    /// key be in `--authorized-keys` or in that user's own `sshpubkey`.
    fn allowed(&self, user: &str, key: &PublicKey) -> Option<Account> {
        let account = account::lookup(&self.ctx.state_file, user)?;
        let same = |k: &PublicKey| k.key_data() == key.key_data();
        let own = account
            .sshpubkey
            .as_deref()
            .map(parse_authorized_keys)
            .unwrap_or_default();
        (self.ctx.authorized.iter().any(same) || own.iter().any(same)).then_some(account)
    }
}

/// Longest batch script accepted on stdin: far above any batch zfleet sends, far below
/// what would strain the server.
const MAX_SCRIPT: usize = 16 << 20;

/// What a channel asked for.
enum Incoming {
    Exec(Vec<u8>),
    Refused(Refusal),
}

/// What a request printed and its exit status.
struct Answer {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: u32,
}

impl Answer {
    fn refused(r: &Refusal) -> Answer {
        Answer {
            stdout: Vec::new(),
            stderr: format!("{r}\n").into_bytes(),
            exit: shell::REFUSED_EXIT,
        }
    }

    fn midclt(out: MidcltOutput) -> Answer {
        Answer {
            stdout: out.stdout.into_bytes(),
            stderr: out.stderr.into_bytes(),
            exit: u32::try_from(out.exit).unwrap_or(255),
        }
    }
}

/// Everything one channel's task needs.
struct ExecJob {
    ctx: Arc<SystemCtx>,
    account: Account,
    execs: Arc<AtomicU64>,
    session: russh::server::Handle,
}

impl ExecJob {
    async fn serve_channel(self, channel: Channel<Msg>) {
        let (mut rx, tx) = channel.split();
        // Wait for what the channel is for; a close before that ends it.
        let incoming = loop {
            match rx.wait().await {
                Some(ChannelMsg::Exec { command, .. }) => break Incoming::Exec(command),
                Some(ChannelMsg::RequestShell { .. }) => break Incoming::Refused(Refusal::shell()),
                Some(ChannelMsg::RequestSubsystem { name, .. }) => {
                    break Incoming::Refused(Refusal::subsystem(&name));
                }
                Some(ChannelMsg::Eof) | Some(ChannelMsg::Close) | None => return,
                Some(_) => {}
            }
        };
        let command = match incoming {
            Incoming::Exec(command) => command,
            Incoming::Refused(r) => return send(&tx, Answer::refused(&r)).await,
        };
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

        let request = match std::str::from_utf8(&command) {
            Ok(c) => shell::classify(c),
            Err(_) => Err(Refusal::command(&String::from_utf8_lossy(&command))),
        };
        let answer = match request {
            Err(r) => Answer::refused(&r),
            Ok(Request::Midclt { sudo, argv }) => {
                let ctx = self.ctx.clone();
                let account = self.account.clone();
                let run = tokio::task::spawn_blocking(move || {
                    account::midclt(&ctx.state_file, &account, sudo, &argv)
                });
                Answer::midclt(run.await.unwrap_or_else(|_| crashed()))
            }
            Ok(Request::Batch) => {
                let Some(script) = read_stdin(&mut rx).await else {
                    // The client went away before the script was whole: nothing runs.
                    return;
                };
                match shell::parse_batch(&script) {
                    Err(r) => Answer::refused(&r),
                    Ok(batch) => self.run_batch(batch).await,
                }
            }
        };
        if drop_now {
            // The command ran but its answer never arrives: the harshest form of a
            // connection lost mid-command (side effects happened).
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
        send(&tx, answer).await;
    }

    /// Runs a batch's calls in waves, as the script's background jobs do, and frames the
    /// results as the script prints them.
    async fn run_batch(&self, batch: shell::Batch) -> Answer {
        let mut results = Vec::with_capacity(batch.argvs.len());
        for wave in batch.argvs.chunks(REMOTE_PARALLEL) {
            let runs: Vec<_> = wave
                .iter()
                .map(|argv| {
                    let ctx = self.ctx.clone();
                    let account = self.account.clone();
                    let argv = argv.clone();
                    let sudo = batch.sudo;
                    tokio::task::spawn_blocking(move || {
                        account::midclt(&ctx.state_file, &account, sudo, &argv)
                    })
                })
                .collect();
            for run in runs {
                let out = run.await.unwrap_or_else(|_| crashed());
                results.push(shell::CallResult {
                    stdout: out.stdout.into_bytes(),
                    stderr: out.stderr.into_bytes(),
                    exit: out.exit,
                });
            }
        }
        Answer {
            stdout: shell::frames(&batch.boundary, &results),
            stderr: Vec::new(),
            exit: 0,
        }
    }
}

/// What a midclt whose task panicked leaves behind: no output, status 1.
fn crashed() -> MidcltOutput {
    MidcltOutput {
        stdout: String::new(),
        stderr: String::new(),
        exit: 1,
    }
}

/// The channel's data up to the end of a whole batch script (zfleet keeps stdin open while
/// the batch runs) or up to EOF; `None` if the channel closed first. Past [`MAX_SCRIPT`]
/// bytes the rest is dropped and the script (then incomplete) is refused by its parser.
async fn read_stdin(rx: &mut russh::ChannelReadHalf) -> Option<Vec<u8>> {
    let mut script = Vec::new();
    loop {
        match rx.wait().await {
            Some(ChannelMsg::Data { data }) => {
                let room = MAX_SCRIPT.saturating_sub(script.len());
                script.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                if shell::script_is_whole(&script) {
                    return Some(script);
                }
            }
            Some(ChannelMsg::Eof) => return Some(script),
            Some(ChannelMsg::Close) | None => return None,
            Some(_) => {}
        }
    }
}

/// Sends an answer: output (with flow control), exit status, EOF, close.
async fn send(tx: &russh::ChannelWriteHalf<Msg>, answer: Answer) {
    let mut out = tx.make_writer();
    let mut err = tx.make_writer_ext(Some(1));
    let _ = out.write_all(&answer.stdout).await;
    let _ = out.flush().await;
    let _ = err.write_all(&answer.stderr).await;
    let _ = err.flush().await;
    let _ = tx.exit_status(answer.exit).await;
    let _ = tx.eof().await;
    let _ = tx.close().await;
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
        assert_eq!(
            parse_listen("nas1=:2201").unwrap().1,
            "127.0.0.1:2201".parse().unwrap()
        );
        assert_eq!(
            parse_listen("nas1=[::1]:0").unwrap().1,
            "[::1]:0".parse().unwrap()
        );
        assert!(parse_listen("nas1=:x").is_err());
        assert!(parse_listen("nas1=:").is_err());
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
