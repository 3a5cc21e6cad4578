//! The SSH transport (russh): connect, verify the host key, authenticate, and run each batch
//! of `midclt` calls as one `sh -s` exec on a bounded pool of channels.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{
    Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate,
};
use russh::{ChannelMsg, Preferred};
use tokio::sync::Semaphore;

use super::known_hosts::{self, HostKeyPolicy, Verdict};
use super::script;
use super::ssh_config::{self, Tokens};
use super::{ConnectOptions, MidcltCall, RawOutput, TransportError, TransportErrorKind};
use crate::model::SshSystem;

/// Key files tried when neither the config nor `~/.ssh/config` names one (OpenSSH's order).
const DEFAULT_KEY_FILES: &[&str] = &["id_rsa", "id_ecdsa", "id_ed25519"];

/// Upper bound on one batch's reply, so a hostile or broken system cannot exhaust memory.
const MAX_REPLY_BYTES: usize = 512 * 1024 * 1024;

/// Where and as whom to connect, after `~/.ssh/config` and defaults.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Key files to offer, and whether the user named them (a named file that cannot be
    /// read is an error; a default one is skipped).
    pub identity_files: Vec<(PathBuf, bool)>,
    pub policy: HostKeyPolicy,
    /// `ProxyJump` hops (`[user@]host[:port]`), first hop first.
    pub jumps: Vec<String>,
    /// The ssh-agent to ask (`IdentityAgent`, else the options' socket).
    pub agent_socket: Option<PathBuf>,
    /// `IdentitiesOnly yes`: offer only agent keys that belong to the identity files.
    pub identities_only: bool,
    /// `ConnectTimeout` of `~/.ssh/config`.
    pub connect_timeout: Option<Duration>,
}

impl Resolved {
    /// `user@host:port`, for messages.
    pub fn target(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, self.port)
    }
}

fn home_dir(opts: &ConnectOptions) -> PathBuf {
    opts.home
        .clone()
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Applies `~/.ssh/config` (for `ssh.host` as an alias) and the defaults to the system's
/// settings; the zfleet config wins over `~/.ssh/config`.
pub fn resolve(ssh: &SshSystem, opts: &ConnectOptions) -> Result<Resolved, TransportError> {
    let home = home_dir(opts);
    let config_path = opts
        .ssh_config
        .clone()
        .unwrap_or_else(|| home.join(".ssh").join("config"));
    let cfg = match std::fs::read(&config_path) {
        Ok(bytes) => {
            ssh_config::lookup_with_includes(&String::from_utf8_lossy(&bytes), &ssh.host, &home)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
        Err(e) => {
            return Err(err(
                TransportErrorKind::SshConfigUnreadable { path: config_path },
                format!("cannot read this SSH client config: {e}"),
            ));
        }
    };
    let port = ssh.port.or(cfg.port).unwrap_or(22);
    let user = ssh
        .user
        .clone()
        .or(cfg.user.clone())
        .unwrap_or_else(|| "root".to_string());
    let alias = ssh.host.as_str();
    let host_tokens = Tokens {
        home: &home,
        alias,
        host: alias,
        port,
        user: &user,
    };
    let host = cfg
        .host_name
        .as_deref()
        .map(|h| ssh_config::expand(h, &host_tokens))
        .unwrap_or_else(|| ssh.host.clone());
    let tokens = Tokens {
        home: &home,
        alias,
        host: &host,
        port,
        user: &user,
    };
    let identity_files: Vec<(PathBuf, bool)> = match &ssh.identity_file {
        Some(path) => vec![(
            ssh_config::expand_tilde(&path.to_string_lossy(), &home),
            true,
        )],
        None if !cfg.identity_files.is_empty() => cfg
            .identity_files
            .iter()
            .map(|f| (PathBuf::from(ssh_config::expand(f, &tokens)), false))
            .collect(),
        None => DEFAULT_KEY_FILES
            .iter()
            .map(|f| (home.join(".ssh").join(f), false))
            .collect(),
    };
    let mut files: Vec<PathBuf> = match &ssh.known_hosts {
        Some(path) => vec![ssh_config::expand_tilde(&path.to_string_lossy(), &home)],
        None if !cfg.user_known_hosts_files.is_empty() => cfg
            .user_known_hosts_files
            .iter()
            .map(|f| PathBuf::from(ssh_config::expand(f, &tokens)))
            .collect(),
        None => vec![
            opts.known_hosts
                .clone()
                .unwrap_or_else(|| home.join(".ssh").join("known_hosts")),
        ],
    };
    files.extend(opts.global_known_hosts.iter().cloned());
    let jumps: Vec<String> = match (&cfg.proxy_jump, &cfg.proxy_command) {
        (Some(j), _) if !j.eq_ignore_ascii_case("none") => j
            .split(',')
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        (None, Some(c)) if !c.eq_ignore_ascii_case("none") => {
            return Err(err(
                TransportErrorKind::ProxyCommand { path: config_path },
                format!(
                    "ProxyCommand is set for {}, and zfleet does not run proxy commands",
                    ssh.host
                ),
            ));
        }
        _ => Vec::new(),
    };
    let agent_socket = match cfg.identity_agent.as_deref() {
        None => opts.agent_socket.clone(),
        Some(a) if a.eq_ignore_ascii_case("none") => None,
        Some("SSH_AUTH_SOCK") | Some("$SSH_AUTH_SOCK") => opts.agent_socket.clone(),
        Some(a) => match a.strip_prefix('$') {
            Some(var) => std::env::var_os(var).map(PathBuf::from),
            None => Some(PathBuf::from(ssh_config::expand(a, &tokens))),
        },
    };
    Ok(Resolved {
        jumps,
        agent_socket,
        identities_only: cfg.identities_only.unwrap_or(false),
        connect_timeout: cfg.connect_timeout,
        policy: HostKeyPolicy {
            host: host.clone(),
            port,
            pinned: ssh.host_key.clone(),
            files,
            accept_new: opts.accept_new_host_keys,
        },
        host,
        port,
        user,
        identity_files,
    })
}

/// Checks the server's key against the policy and remembers why it was refused.
struct HostKeyCheck {
    policy: HostKeyPolicy,
    seen: Arc<Mutex<Option<Seen>>>,
}

/// The key a server presented: fingerprint, algorithm, and what the policy made of it.
type Seen = (String, Algorithm, Verdict);

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // No certificate host-key algorithms are advertised, so a certificate is unexpected.
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_key else {
            return Ok(false);
        };
        let verdict = self.policy.check(key);
        let trusted = matches!(verdict, Verdict::Trusted | Verdict::Learned(_));
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((known_hosts::fingerprint(key), key.algorithm(), verdict));
        }
        Ok(trusted)
    }
}

/// An authenticated SSH connection to one system.
pub struct SshTransport {
    handle: Arc<Handle<HostKeyCheck>>,
    /// Connections to the ProxyJump hosts this one is tunnelled through, kept open.
    _jumps: Vec<Arc<Handle<HostKeyCheck>>>,
    channels: Arc<Semaphore>,
    sudo: bool,
    call_timeout: Duration,
    fingerprint: String,
    target: String,
}

impl std::fmt::Debug for SshTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTransport")
            .field("target", &self.target)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

fn err(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
    TransportError {
        kind,
        message: message.into(),
    }
}

impl SshTransport {
    pub async fn connect(
        ssh: &SshSystem,
        opts: &ConnectOptions,
    ) -> Result<SshTransport, TransportError> {
        let resolved = resolve(ssh, opts)?;
        let mut opts = opts.clone();
        if let Some(t) = resolved.connect_timeout {
            opts.set_connect_timeout(t, super::SetBy::SshConfig);
        }
        let opts = &opts;
        let target = resolved.target();
        let mut jumps: Vec<Arc<Handle<HostKeyCheck>>> = Vec::new();
        for hop in &resolved.jumps {
            let mut hop_resolved = resolve(&parse_hop(hop), opts)?;
            hop_resolved.jumps.clear();
            let in_hop = |e: TransportError| TransportError {
                message: format!("jump host {hop}: {}", e.message),
                ..e
            };
            let (mut h, _) = connect_verified(&hop_resolved, opts, jumps.last().map(|j| &**j))
                .await
                .map_err(in_hop)?;
            tokio::time::timeout(
                opts.connect_timeout,
                authenticate(&mut h, &hop_resolved, opts),
            )
            .await
            .map_err(|_| {
                err(
                    TransportErrorKind::Timeout,
                    format!("authentication at jump host {hop} took too long"),
                )
            })?
            .map_err(in_hop)?;
            jumps.push(Arc::new(h));
        }
        let (mut handle, fingerprint) =
            connect_verified(&resolved, opts, jumps.last().map(|j| &**j)).await?;
        tokio::time::timeout(
            opts.connect_timeout,
            authenticate(&mut handle, &resolved, opts),
        )
        .await
        .map_err(|_| {
            err(
                TransportErrorKind::Timeout,
                format!(
                    "authentication at {target} took longer than {}s",
                    opts.connect_timeout.as_secs()
                ),
            )
        })??;
        Ok(SshTransport {
            handle: Arc::new(handle),
            _jumps: jumps,
            channels: Arc::new(Semaphore::new(opts.max_channels.clamp(1, 8))),
            sudo: ssh.sudo,
            call_timeout: opts.call_timeout,
            fingerprint,
            target,
        })
    }

    /// `SHA256:...` of the host key this connection verified.
    pub fn host_key_fingerprint(&self) -> Option<String> {
        (!self.fingerprint.is_empty()).then(|| self.fingerprint.clone())
    }

    pub async fn midclt_batch(
        &self,
        calls: &[MidcltCall],
    ) -> Result<Vec<RawOutput>, TransportError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let boundary = script::new_boundary()?;
        let script = script::build(calls, self.sudo, &boundary, self.call_timeout)?;
        let _permit = self
            .channels
            .acquire()
            .await
            .map_err(|_| err(TransportErrorKind::Dropped, "the connection is closed"))?;
        // The system ends each call after call_timeout; waiting a little longer here lets
        // its report, which names the calls, arrive first.
        let waves = calls.len().div_ceil(script::REMOTE_PARALLEL) as u32;
        let limit = self
            .call_timeout
            .saturating_mul(waves.max(1))
            .saturating_add(LOCAL_GRACE);
        let run = self.exec_script(script.into_bytes(), limit).await?;
        let frames = match script::parse(&run.stdout, &boundary, calls.len()) {
            Ok(frames) => frames,
            Err(why) => return Err(self.not_run(&why, &run)),
        };
        if run.timed_out {
            let missing = frames.missing();
            let methods = if missing.is_empty() {
                "the end of the reply".to_string()
            } else {
                names(calls, &missing)
            };
            return Err(err(
                TransportErrorKind::Timeout,
                format!(
                    "{} sent {} of {} result(s) in {}s; no answer to {methods}",
                    self.target,
                    frames.answered(),
                    calls.len(),
                    limit.as_secs()
                ),
            ));
        }
        if frames.ended {
            let results: Vec<RawOutput> = frames.results.into_iter().flatten().collect();
            let late: Vec<usize> = (0..results.len())
                .filter(|&i| results[i].exit == REMOTE_TIMEOUT_EXIT)
                .collect();
            if !late.is_empty() {
                return Err(err(
                    TransportErrorKind::Timeout,
                    format!(
                        "{} did not answer within {} on {}",
                        names(calls, &late),
                        seconds(self.call_timeout),
                        self.target
                    ),
                ));
            }
            return Ok(results);
        }
        let progress = format!("after {} of {} result(s)", frames.answered(), calls.len());
        match (&run.signal, run.status) {
            (Some(signal), _) => Err(killed(&self.target, signal, &progress)),
            (None, Some(status)) if (129..=159).contains(&status) => {
                Err(killed(&self.target, &signal_name(status - 128), &progress))
            }
            (None, None) => Err(err(
                TransportErrorKind::Dropped,
                format!("the connection to {} closed {progress}", self.target),
            )),
            (None, Some(_)) => Err(self.not_run(&format!("the reply stopped {progress}"), &run)),
        }
    }

    /// The batch's script did not run as written: what the shell said on stderr.
    fn not_run(&self, detail: &str, run: &ScriptRun) -> TransportError {
        // What the system printed is hostile: cleaned and cut like any answer shown.
        let why = crate::client::shown::clip(String::from_utf8_lossy(&run.stderr).trim());
        let why = why.as_str();
        err(
            TransportErrorKind::Other,
            format!(
                "{} did not run the midclt batch ({detail}; exit {}){}",
                self.target,
                run.status.map_or("none".to_string(), |s| s.to_string()),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            ),
        )
    }

    /// Runs `sh -s` with `script` on stdin, which stays open: its end tells the system to
    /// stop. Past `limit` the channel is closed (which ends the batch's processes on the
    /// system and frees the server's session slot) and what arrived is returned.
    async fn exec_script(
        &self,
        script: Vec<u8>,
        limit: Duration,
    ) -> Result<ScriptRun, TransportError> {
        let dropped = |e: russh::Error| {
            err(
                TransportErrorKind::Dropped,
                format!("the connection to {} failed: {e}", self.target),
            )
        };
        let deadline = tokio::time::Instant::now() + limit;
        let mut run = ScriptRun::default();
        let mut channel =
            match tokio::time::timeout_at(deadline, self.handle.channel_open_session()).await {
                Ok(channel) => channel.map_err(dropped)?,
                Err(_) => {
                    run.timed_out = true;
                    return Ok(run);
                }
            };
        let exchange = Self::exchange(&mut channel, script, &self.target, &mut run, dropped);
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result?,
            Err(_) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), channel.close()).await;
                run.timed_out = true;
            }
        }
        Ok(run)
    }

    async fn exchange(
        channel: &mut russh::Channel<client::Msg>,
        script: Vec<u8>,
        target: &str,
        run: &mut ScriptRun,
        dropped: impl Fn(russh::Error) -> TransportError,
    ) -> Result<(), TransportError> {
        channel.exec(true, "sh -s").await.map_err(&dropped)?;
        channel.data_bytes(script).await.map_err(&dropped)?;
        loop {
            // Once the shell has ended, output still flowing is awaited; silence is not:
            // processes a killed shell left behind may hold the channel open.
            let msg = if run.status.is_some() || run.signal.is_some() {
                match tokio::time::timeout(AFTER_EXIT_SILENCE, channel.wait()).await {
                    Ok(msg) => msg,
                    Err(_) => {
                        let _ = tokio::time::timeout(Duration::from_secs(2), channel.close()).await;
                        break;
                    }
                }
            } else {
                channel.wait().await
            };
            let Some(msg) = msg else { break };
            match msg {
                ChannelMsg::Data { data } => run.stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => run.stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => run.status = Some(exit_status),
                ChannelMsg::ExitSignal { signal_name, .. } => {
                    run.signal = Some(sig_name(&signal_name))
                }
                ChannelMsg::Failure => {
                    return Err(err(
                        TransportErrorKind::Other,
                        format!("{target} refused to run `sh -s`"),
                    ));
                }
                _ => {}
            }
            if run.stdout.len() + run.stderr.len() > MAX_REPLY_BYTES {
                return Err(err(
                    TransportErrorKind::Other,
                    format!(
                        "{target} sent more than {} MiB for one batch",
                        MAX_REPLY_BYTES >> 20
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What one `sh -s` exec gave back.
#[derive(Debug, Default)]
struct ScriptRun {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Exit status, if the shell exited.
    status: Option<u32>,
    /// The signal that killed the shell, if one did.
    signal: Option<String>,
    /// zfleet stopped waiting (the batch's limit passed).
    timed_out: bool,
}

/// `timeout(1)`'s exit status when it ended a call.
const REMOTE_TIMEOUT_EXIT: i32 = 124;

/// How much longer than the system's own limits zfleet waits for a batch.
const LOCAL_GRACE: Duration = Duration::from_secs(script::REMOTE_KILL_AFTER + 5);

/// How long zfleet waits for more output once the shell has ended.
const AFTER_EXIT_SILENCE: Duration = Duration::from_secs(2);

/// `90s`, or `1.5s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The methods of `calls` at `indices`, each once, in order: `a`, `a and b`, `a, b and c`.
fn names(calls: &[MidcltCall], indices: &[usize]) -> String {
    let mut methods: Vec<&str> = Vec::new();
    for m in indices
        .iter()
        .filter_map(|&i| calls.get(i))
        .map(|c| c.method.as_str())
    {
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    match methods.split_last() {
        None => "no call".to_string(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn killed(target: &str, signal: &str, progress: &str) -> TransportError {
    err(
        TransportErrorKind::Killed,
        format!("the remote shell on {target} was killed (signal {signal}) {progress}"),
    )
}

fn sig_name(sig: &russh::Sig) -> String {
    use russh::Sig::*;
    match sig {
        ABRT => "ABRT",
        ALRM => "ALRM",
        FPE => "FPE",
        HUP => "HUP",
        ILL => "ILL",
        INT => "INT",
        KILL => "KILL",
        PIPE => "PIPE",
        QUIT => "QUIT",
        SEGV => "SEGV",
        TERM => "TERM",
        USR1 => "USR1",
        Custom(name) => return name.clone(),
    }
    .to_string()
}

/// The name of signal `n` as the shell's `exit 128+n` reports it.
fn signal_name(n: u32) -> String {
    match n {
        1 => "HUP".into(),
        2 => "INT".into(),
        9 => "KILL".into(),
        13 => "PIPE".into(),
        15 => "TERM".into(),
        n => n.to_string(),
    }
}

/// A `ProxyJump` hop, `[ssh://][user@]host[:port]`, as a system to resolve.
fn parse_hop(hop: &str) -> SshSystem {
    let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, rest) = match hop.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, hop),
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (
                h.to_string(),
                p.strip_prefix(':').and_then(|p| p.parse().ok()),
            ),
            None => (rest.to_string(), None),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h.to_string(), p.parse().ok()),
            _ => (rest.to_string(), None),
        }
    };
    SshSystem {
        host,
        port,
        user,
        identity_file: None,
        host_key: None,
        known_hosts: None,
        replication_address: None,
        sudo: false,
    }
}

/// Host key algorithm families, for asking a server for each of its keys in turn.
fn families() -> Vec<Vec<Algorithm>> {
    let all = Preferred::DEFAULT.key.to_vec();
    let ed: Vec<_> = all
        .iter()
        .filter(|a| **a == Algorithm::Ed25519)
        .cloned()
        .collect();
    let ecdsa: Vec<_> = all
        .iter()
        .filter(|a| matches!(a, Algorithm::Ecdsa { .. }))
        .cloned()
        .collect();
    let rsa: Vec<_> = all
        .iter()
        .filter(|a| (*a).clone().is_rsa())
        .cloned()
        .collect();
    vec![ed, ecdsa, rsa]
}

/// TCP connect and SSH handshake with a verified host key. A pinned fingerprint may be of
/// any of the server's host keys (TrueNAS has RSA, ECDSA and Ed25519 ones): when the key
/// first offered does not match the pin, the server is asked for its other key types before
/// the key is declared changed.
async fn connect_verified(
    resolved: &Resolved,
    opts: &ConnectOptions,
    via: Option<&Handle<HostKeyCheck>>,
) -> Result<(Handle<HostKeyCheck>, String), TransportError> {
    let first = handshake(resolved, opts, None, via).await;
    let Err((e, Some(presented))) = first else {
        return first.map_err(|(e, _)| e);
    };
    let TransportErrorKind::HostKeyChanged { expected, found } = &e.kind else {
        return Err(e);
    };
    // A revoked key (no expected key) ends it: it is never worked around.
    if resolved.policy.pinned.is_none() || expected.is_empty() {
        return Err(e);
    }
    let (expected, mut seen) = (expected.clone(), vec![found.clone()]);
    for family in families() {
        if family.contains(&presented) {
            continue;
        }
        match handshake(resolved, opts, Some(family), via).await {
            Ok(connected) => return Ok(connected),
            Err((e2, _)) => {
                if let TransportErrorKind::HostKeyChanged { found, .. } = e2.kind {
                    seen.push(found);
                }
            }
        }
    }
    let name = known_hosts::host_port(&resolved.host, resolved.port);
    Err(err(
        TransportErrorKind::HostKeyChanged {
            expected: expected.clone(),
            found: seen.first().cloned().unwrap_or_default(),
        },
        format!(
            "the host key of {name} has changed: the pinned host_key is {expected}, the \
             server presented {}; this may be an attack, or the system was reinstalled",
            seen.join(", ")
        ),
    ))
}

/// One connection attempt; `keys` restricts the host key algorithms asked for. On failure,
/// also the algorithm of the key the server presented, if it got that far.
async fn handshake(
    resolved: &Resolved,
    opts: &ConnectOptions,
    keys: Option<Vec<Algorithm>>,
    via: Option<&Handle<HostKeyCheck>>,
) -> Result<(Handle<HostKeyCheck>, String), (TransportError, Option<Algorithm>)> {
    let seen = Arc::new(Mutex::new(None));
    let mut config = client_config(opts, &resolved.policy);
    if let Some(keys) = keys {
        config.preferred.key = keys.into();
    }
    let handler = HostKeyCheck {
        policy: resolved.policy.clone(),
        seen: seen.clone(),
    };
    let addr = (resolved.host.clone(), resolved.port);
    let config = Arc::new(config);
    // Whether a byte stream to the server exists: past that, a timeout is a silent server,
    // not an unreachable one.
    let stream_open = std::sync::atomic::AtomicBool::new(false);
    let connecting = async {
        let connected = match via {
            Some(jump) => {
                let channel = jump
                    .channel_open_direct_tcpip(
                        resolved.host.clone(),
                        resolved.port.into(),
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| {
                        err(
                            TransportErrorKind::Unreachable,
                            format!(
                                "the jump host could not reach {}:{}: {e}",
                                resolved.host, resolved.port
                            ),
                        )
                    })?;
                stream_open.store(true, std::sync::atomic::Ordering::Relaxed);
                client::connect_stream(config, channel.into_stream(), handler).await
            }
            None => {
                let stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| {
                    err(
                        TransportErrorKind::Unreachable,
                        format!("cannot connect to {}:{}: {e}", resolved.host, resolved.port),
                    )
                })?;
                let _ = stream.set_nodelay(true);
                stream_open.store(true, std::sync::atomic::Ordering::Relaxed);
                client::connect_stream(config, stream, handler).await
            }
        };
        connected.map_err(|e| handshake_error(e, &seen, resolved))
    };
    let presented = || {
        seen.lock()
            .ok()
            .and_then(|s| s.as_ref().map(|(_, alg, _)| alg.clone()))
    };
    let handle = match tokio::time::timeout(opts.connect_timeout, connecting).await {
        Ok(Ok(handle)) => handle,
        Ok(Err(e)) => return Err((e, presented())),
        Err(_) => {
            let secs = opts.connect_timeout.as_secs();
            let (host, port) = (&resolved.host, resolved.port);
            let e = if stream_open.load(std::sync::atomic::Ordering::Relaxed) {
                err(
                    TransportErrorKind::Timeout,
                    format!(
                        "connected to {host}:{port}, but the SSH handshake did not finish \
                         within {secs}s"
                    ),
                )
            } else {
                err(
                    TransportErrorKind::Unreachable,
                    format!("no TCP connection to {host}:{port} within {secs}s"),
                )
            };
            return Err((e, presented()));
        }
    };
    let fingerprint = seen
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(|(fp, _, _)| fp.clone()))
        .unwrap_or_default();
    Ok((handle, fingerprint))
}

fn client_config(opts: &ConnectOptions, policy: &HostKeyPolicy) -> client::Config {
    // Ask first for the host key types already recorded, as OpenSSH does, so a server with
    // several keys shows the one known_hosts can vouch for.
    let known = policy.known_algorithms();
    let mut keys: Vec<_> = Preferred::DEFAULT.key.to_vec();
    keys.sort_by_key(|a| {
        !known
            .iter()
            .any(|k| k == a || (k.clone().is_rsa() && a.clone().is_rsa()))
    });
    client::Config {
        inactivity_timeout: None,
        keepalive_interval: Some(opts.keepalive_interval),
        keepalive_max: 3,
        nodelay: true,
        preferred: Preferred {
            key: keys.into(),
            ..Preferred::DEFAULT
        },
        ..Default::default()
    }
}

fn handshake_error(
    e: russh::Error,
    seen: &Mutex<Option<Seen>>,
    resolved: &Resolved,
) -> TransportError {
    let verdict = seen
        .lock()
        .ok()
        .and_then(|s| s.as_ref().map(|(_, _, v)| v.clone()));
    let name = known_hosts::host_port(&resolved.host, resolved.port);
    match verdict {
        Some(Verdict::Unknown {
            fingerprint,
            algorithm,
            other_types,
        }) => {
            let others = if other_types.is_empty() {
                String::new()
            } else {
                format!(
                    " (known_hosts has only {} key(s) for it)",
                    other_types.join(", ")
                )
            };
            err(
                TransportErrorKind::HostKeyUnknown {
                    fingerprint: fingerprint.clone(),
                },
                format!(
                    "the host key of {name} is not known{others}: {algorithm} {fingerprint}; \
                     check it on the system (ssh-keygen -lf /etc/ssh/ssh_host_{}_key.pub) \
                     and pin it with `host_key: \"{fingerprint}\"` in the config, or run with \
                     --accept-new-host-keys",
                    key_file_kind(&algorithm)
                ),
            )
        }
        Some(Verdict::Changed {
            expected,
            found,
            source,
        }) => err(
            TransportErrorKind::HostKeyChanged {
                expected: expected.clone(),
                found: found.clone(),
            },
            format!(
                "the host key of {name} has changed: expected {expected} ({source}), \
                 the server presented {found}; this may be an attack, or the system was \
                 reinstalled"
            ),
        ),
        Some(Verdict::Revoked {
            fingerprint,
            source,
        }) => err(
            TransportErrorKind::HostKeyChanged {
                expected: String::new(),
                found: fingerprint.clone(),
            },
            format!("the host key of {name} ({fingerprint}) is marked @revoked at {source}"),
        ),
        Some(Verdict::NotRecorded { fingerprint, error }) => err(
            TransportErrorKind::HostKeyUnknown {
                fingerprint: fingerprint.clone(),
            },
            format!(
                "the host key of {name} ({fingerprint}) is new and could not be recorded: {error}"
            ),
        ),
        Some(Verdict::Trusted | Verdict::Learned(_)) | None => match e {
            russh::Error::IO(io) => err(
                TransportErrorKind::Unreachable,
                format!("SSH handshake with {name} failed: {io}"),
            ),
            russh::Error::Disconnect | russh::Error::HUP => err(
                TransportErrorKind::Dropped,
                format!("{name} closed the connection during the SSH handshake"),
            ),
            other => err(
                TransportErrorKind::Other,
                format!("SSH handshake with {name} failed: {other}"),
            ),
        },
    }
}

/// `ed25519` for `ssh-ed25519`, as in the server's host key file names.
fn key_file_kind(algorithm: &str) -> &'static str {
    if algorithm.contains("ed25519") {
        "ed25519"
    } else if algorithm.contains("ecdsa") {
        "ecdsa"
    } else {
        "rsa"
    }
}

async fn authenticate(
    handle: &mut Handle<HostKeyCheck>,
    resolved: &Resolved,
    opts: &ConnectOptions,
) -> Result<(), TransportError> {
    let target = resolved.target();
    let dropped = |e: russh::Error| {
        err(
            TransportErrorKind::Dropped,
            format!("the connection to {target} failed during authentication: {e}"),
        )
    };
    let rsa_hash = match handle.best_supported_rsa_hash().await.map_err(dropped)? {
        Some(hash) => hash,
        None => Some(HashAlg::Sha256),
    };
    let mut tried: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();

    // Named key files first, then the agent, then (with no named file) the default files.
    let (named, defaults): (Vec<_>, Vec<_>) = resolved
        .identity_files
        .iter()
        .partition(|(_, named)| *named);
    for (path, _) in &named {
        let agent = resolved.agent_socket.as_deref();
        let key = match load_key(path, true, agent, opts, &mut skipped).await? {
            Loaded::Absent => continue,
            Loaded::InAgent(public, sock) => {
                let only = std::slice::from_ref(&public);
                let signed = try_agent(
                    handle,
                    &resolved.user,
                    &sock,
                    rsa_hash,
                    Some(only),
                    &mut tried,
                    &mut skipped,
                );
                if signed.await? {
                    return Ok(());
                }
                continue;
            }
            Loaded::Key(key) => *key,
        };
        match try_key(handle, &resolved.user, key, rsa_hash, &mut tried, path).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err(closed_during_auth(e, &target, &tried)),
        }
    }
    // With IdentitiesOnly, the agent may only sign for the identity files' keys.
    let only: Option<Vec<PublicKey>> = resolved.identities_only.then(|| {
        resolved
            .identity_files
            .iter()
            .filter_map(|(path, _)| {
                let text = std::fs::read(path).unwrap_or_default();
                public_half(&String::from_utf8_lossy(&text), path)
            })
            .collect()
    });
    if let Some(sock) = &resolved.agent_socket
        && try_agent(
            handle,
            &resolved.user,
            sock,
            rsa_hash,
            only.as_deref(),
            &mut tried,
            &mut skipped,
        )
        .await?
    {
        return Ok(());
    }
    for (path, _) in &defaults {
        // The agent was asked above: a default key it holds was offered already.
        let Loaded::Key(key) = load_key(path, false, None, opts, &mut skipped).await? else {
            continue;
        };
        match try_key(handle, &resolved.user, *key, rsa_hash, &mut tried, path).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => return Err(closed_during_auth(e, &target, &tried)),
        }
    }
    let mut message = if tried.is_empty() {
        format!("no SSH key to offer to {target}")
    } else {
        format!("{target} refused every key offered: {}", tried.join(", "))
    };
    if !skipped.is_empty() {
        message.push_str(&format!(" (not offered: {})", skipped.join("; ")));
    }
    Err(err(TransportErrorKind::AuthFailed, message))
}

/// The server hung up while keys were being offered: after refusals, most likely its
/// `MaxAuthTries` (6 by default) ran out before the right key came up.
fn closed_during_auth(e: russh::Error, target: &str, tried: &[String]) -> TransportError {
    if tried.len() > 1 {
        err(
            TransportErrorKind::AuthFailed,
            format!(
                "{target} closed the connection after refusing {} key(s) (its MaxAuthTries?): \
                 {}; name the right key with identity_file",
                tried.len() - 1,
                tried.join(", ")
            ),
        )
    } else {
        err(
            TransportErrorKind::Dropped,
            format!("the connection to {target} failed during authentication: {e}"),
        )
    }
}

async fn try_key(
    handle: &mut Handle<HostKeyCheck>,
    user: &str,
    key: PrivateKey,
    rsa_hash: Option<HashAlg>,
    tried: &mut Vec<String>,
    path: &Path,
) -> Result<bool, russh::Error> {
    tried.push(format!(
        "{} ({} {})",
        path.display(),
        key.algorithm().as_str(),
        key.public_key().fingerprint(HashAlg::Sha256)
    ));
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash);
    Ok(handle.authenticate_publickey(user, key).await?.success())
}

async fn try_agent(
    handle: &mut Handle<HostKeyCheck>,
    user: &str,
    sock: &Path,
    rsa_hash: Option<HashAlg>,
    only: Option<&[PublicKey]>,
    tried: &mut Vec<String>,
    skipped: &mut Vec<String>,
) -> Result<bool, TransportError> {
    let mut agent = match AgentClient::connect_uds(sock).await {
        Ok(agent) => agent,
        Err(e) => {
            skipped.push(format!("ssh-agent at {}: {e}", sock.display()));
            return Ok(false);
        }
    };
    let identities = match agent.request_identities().await {
        Ok(ids) => ids,
        Err(e) => {
            skipped.push(format!("ssh-agent at {}: {e}", sock.display()));
            return Ok(false);
        }
    };
    for identity in identities {
        let AgentIdentity::PublicKey { key, comment } = identity else {
            continue;
        };
        if only.is_some_and(|keys| !keys.iter().any(|k| k.key_data() == key.key_data())) {
            continue;
        }
        tried.push(format!(
            "ssh-agent key {comment:?} ({} {})",
            key.algorithm().as_str(),
            key.fingerprint(HashAlg::Sha256)
        ));
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            Ok(result) if result.success() => return Ok(true),
            Ok(_) => {}
            Err(e) => skipped.push(format!("ssh-agent could not sign: {e}")),
        }
    }
    Ok(false)
}

/// Passphrases typed at the prompt, per key file, for the life of the process (so a fleet
/// sharing one key asks once); the lock also keeps concurrent prompts from interleaving.
static TYPED_PASSPHRASES: LazyLock<tokio::sync::Mutex<HashMap<PathBuf, super::Secret>>> =
    LazyLock::new(|| tokio::sync::Mutex::new(HashMap::new()));

/// What an identity file gave.
enum Loaded {
    /// Nothing usable (a default file that is missing or was skipped with a note).
    Absent,
    Key(Box<PrivateKey>),
    /// Passphrase-protected, but the agent at this socket holds the key: sign there.
    InAgent(PublicKey, PathBuf),
}

/// Reads a private key. A named file that cannot be used is an error; a default one is
/// skipped with a note. A passphrase-protected key that `agent` holds is used through the
/// agent, before any passphrase is looked for (as OpenSSH does; cron and CI have no
/// terminal).
async fn load_key(
    path: &Path,
    named: bool,
    agent: Option<&Path>,
    opts: &ConnectOptions,
    skipped: &mut Vec<String>,
) -> Result<Loaded, TransportError> {
    let key_error = |why: String| {
        err(
            TransportErrorKind::KeyFile {
                path: path.to_path_buf(),
            },
            why,
        )
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if !named && e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Absent),
        Err(e) if !named => {
            skipped.push(format!("{}: {e}", path.display()));
            return Ok(Loaded::Absent);
        }
        Err(e) => {
            return Err(key_error(format!(
                "cannot read the identity file {}: {e}",
                path.display()
            )));
        }
    };
    if let Some(why) = too_open(path) {
        if named {
            return Err(key_error(why));
        }
        skipped.push(why);
        return Ok(Loaded::Absent);
    }
    match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => return Ok(Loaded::Key(Box::new(key))),
        Err(russh::keys::Error::KeyIsEncrypted) => {}
        Err(e) if named => {
            return Err(key_error(format!(
                "{} is not a private key zfleet can use: {e}",
                path.display()
            )));
        }
        Err(e) => {
            skipped.push(format!("{}: {e}", path.display()));
            return Ok(Loaded::Absent);
        }
    }
    if let Some(sock) = agent
        && let Some(public) = public_half(&text, path)
        && agent_holds(sock, &public).await
    {
        return Ok(Loaded::InAgent(public, sock.to_path_buf()));
    }
    // Passphrase-protected: the environment, else a prompt on the terminal.
    let mut typed = TYPED_PASSPHRASES.lock().await;
    let mut prompted = false;
    let passphrase = if let Some(p) = &opts.passphrase {
        Some(p.clone())
    } else if let Some(p) = typed.get(path) {
        Some(p.clone())
    } else if opts.prompt_passphrase {
        let prompt = format!("Passphrase for {}: ", path.display());
        let answer = tokio::task::spawn_blocking(move || {
            crate::progress::suspend(|| rpassword::prompt_password(prompt))
        })
        .await
        .map_err(|e| key_error(format!("passphrase prompt failed: {e}")))?
        .map_err(|e| key_error(format!("passphrase prompt failed: {e}")))?;
        prompted = true;
        Some(super::Secret::new(answer))
    } else {
        None
    };
    let Some(passphrase) = passphrase else {
        // The key-file diagnostic's help says how to give a passphrase; a skipped default
        // key only shows up inside another message, so that one says it itself.
        if named {
            return Err(key_error(format!(
                "{} is passphrase-protected, and no passphrase was given nor a terminal to \
                 ask on",
                path.display()
            )));
        }
        skipped.push(format!(
            "{} is passphrase-protected; set ZFLEET_SSH_PASSPHRASE, run zfleet in a terminal, \
             or add the key to ssh-agent",
            path.display()
        ));
        return Ok(Loaded::Absent);
    };
    match russh::keys::decode_secret_key(&text, Some(passphrase.expose())) {
        Ok(key) => {
            if prompted {
                typed.insert(path.to_path_buf(), passphrase);
            }
            Ok(Loaded::Key(Box::new(key)))
        }
        Err(_) if named => Err(key_error(format!(
            "wrong passphrase for {}",
            path.display()
        ))),
        Err(_) => {
            skipped.push(format!("wrong passphrase for {}", path.display()));
            Ok(Loaded::Absent)
        }
    }
}

/// OpenSSH's refusal of a private key file its owner lets others read.
#[cfg(unix)]
fn too_open(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let mode = meta.mode() & 0o777;
    (meta.uid() == uid && mode & 0o077 != 0).then(|| {
        format!(
            "Permissions {mode:04o} for '{}' are too open. It is required that your private \
             key files are NOT accessible by others. This private key will be ignored.",
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn too_open(_: &Path) -> Option<String> {
    None
}

/// The public half of a private key file without decrypting it: OpenSSH-format files carry
/// it in the clear; for others (PEM RSA) the `.pub` file beside it.
fn public_half(text: &str, path: &Path) -> Option<PublicKey> {
    if let Ok(key) = PrivateKey::from_openssh(text) {
        return Some(key.public_key().clone());
    }
    let mut pub_file = path.as_os_str().to_owned();
    pub_file.push(".pub");
    russh::keys::load_public_key(PathBuf::from(pub_file)).ok()
}

/// Whether the agent at `sock` holds `key` (an agent that does not answer holds nothing).
async fn agent_holds(sock: &Path, key: &PublicKey) -> bool {
    let Ok(mut agent) = AgentClient::connect_uds(sock).await else {
        return false;
    };
    let Ok(identities) = agent.request_identities().await else {
        return false;
    };
    identities.iter().any(|id| {
        matches!(id, AgentIdentity::PublicKey { key: held, .. } if held.key_data() == key.key_data())
    })
}

/// Fingerprint of a public key, for callers that hold one.
pub fn fingerprint(key: &PublicKey) -> String {
    known_hosts::fingerprint(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_once_in_call_order() {
        let calls: Vec<MidcltCall> = ["a.query", "b.query", "a.query", "c.query"]
            .into_iter()
            .map(|m| MidcltCall::new(m, vec![]))
            .collect();
        assert_eq!(names(&calls, &[1]), "b.query");
        assert_eq!(names(&calls, &[0, 2]), "a.query");
        assert_eq!(names(&calls, &[0, 1, 3]), "a.query, b.query and c.query");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5s");
        assert_eq!(seconds(Duration::from_secs(90)), "90s");
        assert_eq!(signal_name(15), "TERM");
    }

    #[test]
    fn proxy_jump_hops() {
        let h = parse_hop("admin@bastion.example:2222");
        assert_eq!(
            (h.user.as_deref(), h.host.as_str(), h.port),
            (Some("admin"), "bastion.example", Some(2222))
        );
        let h = parse_hop("ssh://[fd00::1]:22");
        assert_eq!(
            (h.user, h.host.as_str(), h.port),
            (None, "fd00::1", Some(22))
        );
        let h = parse_hop("bastion");
        assert_eq!((h.host.as_str(), h.port), ("bastion", None));
    }

    #[test]
    fn an_unreadable_ssh_config_says_what_to_do() {
        let home = tempfile::tempdir().expect("home");
        // A folder where the file should be: unreadable as a file, even for root.
        let config = home.path().join("config");
        std::fs::create_dir(&config).expect("mkdir");
        let opts = ConnectOptions {
            home: Some(home.path().to_path_buf()),
            ssh_config: Some(config.clone()),
            ..ConnectOptions::default()
        };
        let e = resolve(&parse_hop("nas"), &opts).expect_err("refused");
        assert_eq!(
            e.kind,
            TransportErrorKind::SshConfigUnreadable {
                path: config.clone()
            }
        );
        let p = e.to_problem("nas1");
        assert_eq!(p.code, "zfleet::ssh::config_unreadable");
        assert_eq!(p.object.as_deref(), Some(config.to_string_lossy().as_ref()));
        assert!(
            p.message
                .starts_with("cannot read this SSH client config: "),
            "{}",
            p.message
        );
        assert!(p.help.is_some_and(|h| h.contains("chmod 600")));
    }

    #[test]
    fn proxy_command_is_refused_not_ignored() {
        let home = tempfile::tempdir().expect("home");
        let config = home.path().join("config");
        std::fs::write(&config, "Host nas\n  ProxyCommand nc %h %p\n").expect("write");
        let opts = ConnectOptions {
            home: Some(home.path().to_path_buf()),
            ssh_config: Some(config.clone()),
            ..ConnectOptions::default()
        };
        let e = resolve(&parse_hop("nas"), &opts).expect_err("refused");
        assert_eq!(
            e.kind,
            TransportErrorKind::ProxyCommand {
                path: config.clone()
            }
        );
        let p = e.to_problem("nas1");
        assert_eq!(p.code, "zfleet::ssh::proxy_command");
        assert_eq!(
            p.to_string(),
            format!(
                "nas1: {}: ProxyCommand is set for nas, and zfleet does not run proxy commands",
                config.display()
            )
        );
        assert!(p.help.is_some_and(|h| h.contains("ProxyJump")));
        std::fs::write(
            home.path().join("config"),
            "Host nas\n  ProxyJump j1,admin@j2:2200\n",
        )
        .expect("write");
        let r = resolve(&parse_hop("nas"), &opts).expect("resolves");
        assert_eq!(r.jumps, vec!["j1", "admin@j2:2200"]);
    }
}
