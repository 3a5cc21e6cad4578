//! Transport: runs `midclt` invocations on one system, over SSH or in the embedded simulator.
//!
//! The client above speaks only in [`MidcltCall`]s and [`RawOutput`]s: what `midclt` was asked
//! and exactly what it printed. A batch of calls is one round trip to the system, with the
//! calls inside it run concurrently there.
//!
//! [`connect`] gives a [`Transport`]: over SSH ([`SshTransport`]) or into the embedded
//! simulator ([`EmbeddedTransport`]). Over SSH:
//! - where: the system's `host`/`port`/`user`/`identity_file`/`known_hosts`, else
//!   `~/.ssh/config` for `host` as an alias (`ssh_config`), else port 22, `root`, default keys;
//! - trust: a pinned `SHA256:` fingerprint (any of the server's key types), else known_hosts
//!   (`known_hosts`); unknown keys are refused unless `accept_new_host_keys`, changed keys
//!   always;
//! - auth: named key files (a passphrase-protected one through ssh-agent when the agent
//!   holds it, else with `ZFLEET_SSH_PASSPHRASE` or a terminal prompt; refused when others
//!   may read it), ssh-agent, then default key files;
//! - each batch: one `sh -s` exec with the script on stdin (`script`, `quote`), at most 8 at
//!   once per connection; replies stay in memory on the system, each call is ended there
//!   after the call timeout, and closing the channel ends every process of the batch.

pub mod embedded;
pub mod known_hosts;
pub mod quote;
pub mod script;
pub mod ssh;
pub mod ssh_config;

use std::path::PathBuf;
use std::time::Duration;

use crate::diag::{CodeInfo, Problem};
pub use embedded::EmbeddedTransport;
pub use ssh::SshTransport;

/// One `midclt call METHOD ARG...` invocation; every argument is sent JSON-encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct MidcltCall {
    pub method: String,
    pub args: Vec<serde_json::Value>,
}

impl MidcltCall {
    pub fn new(method: impl Into<String>, args: Vec<serde_json::Value>) -> Self {
        MidcltCall {
            method: method.into(),
            args,
        }
    }
}

/// What one `midclt` invocation printed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::ssh::unreachable",
        summary: "no SSH connection to the system (refused, no route, DNS, connect timeout)",
    },
    CodeInfo {
        code: "zfleet::ssh::auth_failed",
        summary: "the system refused every SSH key offered",
    },
    CodeInfo {
        code: "zfleet::ssh::host_key_unknown",
        summary: "the system's host key is neither pinned nor in known_hosts",
    },
    CodeInfo {
        code: "zfleet::ssh::host_key_changed",
        summary: "the system's host key differs from the pinned or known one (or is revoked)",
    },
    CodeInfo {
        code: "zfleet::ssh::timeout",
        summary: "a round trip to the system took longer than its timeout",
    },
    CodeInfo {
        code: "zfleet::ssh::dropped",
        summary: "the connection closed before the commands finished",
    },
    CodeInfo {
        code: "zfleet::ssh::killed",
        summary: "the shell running zfleet's commands on the system was killed mid-batch",
    },
    CodeInfo {
        code: "zfleet::ssh::key_file",
        summary: "an SSH identity file is unreadable, not a key, or its passphrase is wrong",
    },
    CodeInfo {
        code: "zfleet::ssh::proxy_command",
        summary: "~/.ssh/config sets ProxyCommand for the system, which zfleet does not run",
    },
    CodeInfo {
        code: "zfleet::ssh::config_unreadable",
        summary: "the SSH client config (~/.ssh/config) exists but cannot be read",
    },
    CodeInfo {
        code: "zfleet::ssh::failed",
        summary: "the transport failed otherwise (protocol error, malformed reply, simulator)",
    },
];

/// Why a round trip to a system failed (before or instead of `midclt` answering).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No TCP connection (refused, no route, DNS) or connect timeout.
    Unreachable,
    /// The server refused every authentication method offered.
    AuthFailed,
    /// The host key is in neither the pinned fingerprint nor known_hosts.
    HostKeyUnknown { fingerprint: String },
    /// The host key differs from the pinned or known one.
    HostKeyChanged { expected: String, found: String },
    /// A round trip took longer than its timeout.
    Timeout,
    /// The connection or channel closed before the command finished.
    Dropped,
    /// The remote shell was killed (by a signal) before the batch finished.
    Killed,
    /// An identity file is unreadable, not a private key, or its passphrase is wrong.
    KeyFile { path: PathBuf },
    /// The SSH client config sets `ProxyCommand` for the host (this file).
    ProxyCommand { path: PathBuf },
    /// The SSH client config exists but cannot be read.
    SshConfigUnreadable { path: PathBuf },
    /// Anything else (protocol error, malformed reply, simulator failure).
    Other,
    /// The embedded simulator refused to start (stale state, bad fixture): its own diagnostic.
    Simulator {
        code: &'static str,
        object: Option<String>,
        help: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

impl TransportError {
    /// The user-facing diagnostic for this failure on `system`.
    pub fn to_problem(&self, system: &str) -> Problem {
        let (code, help) = match &self.kind {
            TransportErrorKind::Unreachable => (
                "zfleet::ssh::unreachable",
                "check the host name and port (also in ~/.ssh/config), that the system is up \
                 and that its SSH service is running; over a slow link allow more time with \
                 --connect-timeout SECS or `connect_timeout:` under the system"
                    .to_string(),
            ),
            TransportErrorKind::AuthFailed => (
                "zfleet::ssh::auth_failed",
                "authorise one of these keys for the user on the system (Credentials → Users → \
                 SSH public key), or set identity_file / user for this system"
                    .to_string(),
            ),
            TransportErrorKind::HostKeyUnknown { fingerprint } => (
                "zfleet::ssh::host_key_unknown",
                format!(
                    "after checking the fingerprint on the system, pin it with \
                     `host_key: \"{fingerprint}\"` under this system, or run with \
                     --accept-new-host-keys to record it in known_hosts"
                ),
            ),
            TransportErrorKind::HostKeyChanged { .. } => (
                "zfleet::ssh::host_key_changed",
                "do not connect until you know why: if the system was reinstalled, verify the \
                 new fingerprint on its console, then update host_key or remove the old \
                 known_hosts line (ssh-keygen -R HOST)"
                    .to_string(),
            ),
            TransportErrorKind::Timeout => (
                "zfleet::ssh::timeout",
                "the system may be overloaded or its middleware hung; retry, or allow more \
                 time with --timeout SECS (per round of calls) or --connect-timeout SECS \
                 (connecting and logging in), or `timeout:` / `connect_timeout:` under the \
                 system in the config"
                    .to_string(),
            ),
            TransportErrorKind::Dropped => (
                "zfleet::ssh::dropped",
                "the network or the system closed the connection; retry — zfleet re-reads live \
                 state before changing anything"
                    .to_string(),
            ),
            TransportErrorKind::Killed => (
                "zfleet::ssh::killed",
                "something on the system ended zfleet's commands (an administrator, the OOM \
                 killer, a restart of the SSH service); retry — zfleet re-reads live state \
                 before changing anything"
                    .to_string(),
            ),
            TransportErrorKind::KeyFile { .. } => (
                "zfleet::ssh::key_file",
                "check the identity_file path and permissions (only its owner may read a key \
                 file: chmod 600); for a passphrase-protected key add it to ssh-agent, set \
                 ZFLEET_SSH_PASSPHRASE, or run in a terminal to be asked"
                    .to_string(),
            ),
            TransportErrorKind::ProxyCommand { .. } => (
                "zfleet::ssh::proxy_command",
                "reach the system through an SSH jump host with `ProxyJump [user@]host[:port]` \
                 in that Host block instead, or add a more specific Host block for this system \
                 with `ProxyCommand none` if it can be reached directly"
                    .to_string(),
            ),
            TransportErrorKind::SshConfigUnreadable { .. } => (
                "zfleet::ssh::config_unreadable",
                "zfleet reads it for every SSH system, as ssh does: give this user read access \
                 to it (owned by them, chmod 600), or move it aside"
                    .to_string(),
            ),
            TransportErrorKind::Other => (
                "zfleet::ssh::failed",
                "run again; if it persists, check that `sh` and `midclt` work for this user on \
                 the system"
                    .to_string(),
            ),
            TransportErrorKind::Simulator { code, help, .. } => {
                (*code, help.clone().unwrap_or_default())
            }
        };
        let problem = Problem::error(code, self.message.clone())
            .system(system)
            .help(help);
        match &self.kind {
            TransportErrorKind::KeyFile { path }
            | TransportErrorKind::ProxyCommand { path }
            | TransportErrorKind::SshConfigUnreadable { path } => {
                problem.object(path.display().to_string())
            }
            TransportErrorKind::Simulator {
                object: Some(object),
                ..
            } => problem.object(object.clone()),
            _ => problem,
        }
    }
}

/// A secret string (a key passphrase): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to connect: timeouts, trust decisions and where the user's SSH files are.
/// `Default` reads the environment (`HOME`, `SSH_AUTH_SOCK`, `ZFLEET_SSH_PASSPHRASE`, whether
/// stdin is a terminal); tests set every field instead.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// TCP connect plus SSH handshake, and authentication, each.
    pub connect_timeout: Duration,
    /// Who set `connect_timeout`: a weaker setting never overrides a stronger one.
    pub connect_timeout_from: SetBy,
    /// One `midclt` call; a batch gets this per wave of parallel calls.
    pub call_timeout: Duration,
    /// Who set `call_timeout`.
    pub call_timeout_from: SetBy,
    /// Keepalive probe interval; three missed replies close the connection.
    pub keepalive_interval: Duration,
    /// Record unknown host keys in known_hosts and trust them (`--accept-new-host-keys`).
    pub accept_new_host_keys: bool,
    /// Home for `~`, `~/.ssh/config`, default key files and known_hosts; `None`: `$HOME`.
    pub home: Option<PathBuf>,
    /// `ssh_config` file; `None`: `~/.ssh/config`.
    pub ssh_config: Option<PathBuf>,
    /// The user's known_hosts when neither the system nor `~/.ssh/config` names one;
    /// `None`: `~/.ssh/known_hosts`.
    pub known_hosts: Option<PathBuf>,
    /// Read-only known_hosts files consulted after the user's.
    pub global_known_hosts: Vec<PathBuf>,
    /// ssh-agent socket; `None`: no agent.
    pub agent_socket: Option<PathBuf>,
    /// Passphrase for protected key files.
    pub passphrase: Option<Secret>,
    /// Ask for a passphrase on the terminal when none is given.
    pub prompt_passphrase: bool,
    /// Concurrent channels (batches in flight) per connection, at most 8.
    pub max_channels: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        use std::io::IsTerminal;
        ConnectOptions {
            connect_timeout: Duration::from_secs(15),
            connect_timeout_from: SetBy::Default,
            call_timeout: Duration::from_secs(90),
            call_timeout_from: SetBy::Default,
            keepalive_interval: Duration::from_secs(15),
            accept_new_host_keys: false,
            home: None,
            ssh_config: None,
            known_hosts: None,
            global_known_hosts: vec![PathBuf::from("/etc/ssh/ssh_known_hosts")],
            agent_socket: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            passphrase: std::env::var("ZFLEET_SSH_PASSPHRASE").ok().map(Secret),
            prompt_passphrase: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            max_channels: 8,
        }
    }
}

/// Where a setting came from, weakest first: the command line beats the system's keys in
/// the config, which beat `~/.ssh/config`, which beats zfleet's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SetBy {
    Default,
    SshConfig,
    System,
    CommandLine,
}

impl ConnectOptions {
    /// Sets the connect timeout unless a stronger setting already did.
    pub fn set_connect_timeout(&mut self, value: Duration, by: SetBy) {
        if by >= self.connect_timeout_from {
            self.connect_timeout = value;
            self.connect_timeout_from = by;
        }
    }

    /// Sets the call timeout unless a stronger setting already did.
    pub fn set_call_timeout(&mut self, value: Duration, by: SetBy) {
        if by >= self.call_timeout_from {
            self.call_timeout = value;
            self.call_timeout_from = by;
        }
    }

    /// The options for one system: its `connect_timeout:` and `timeout:` keys apply unless
    /// the command line set those.
    pub fn for_system(&self, system: &crate::model::System) -> ConnectOptions {
        let mut opts = self.clone();
        if let Some(t) = system.connect_timeout {
            opts.set_connect_timeout(t, SetBy::System);
        }
        if let Some(t) = system.timeout {
            opts.set_call_timeout(t, SetBy::System);
        }
        opts
    }
}

/// A connected system: over SSH, or the embedded simulator.
#[derive(Debug)]
pub enum Transport {
    Ssh(SshTransport),
    Embedded(EmbeddedTransport),
}

/// Connects to `system` (SSH: TCP, host key check, authentication; simulator: seeding).
pub async fn connect(
    system: &crate::model::System,
    opts: &ConnectOptions,
) -> Result<Transport, TransportError> {
    let opts = &opts.for_system(system);
    match &system.kind {
        crate::model::SystemKind::Ssh(ssh) => {
            Ok(Transport::Ssh(SshTransport::connect(ssh, opts).await?))
        }
        crate::model::SystemKind::Simulator(sim) => Ok(Transport::Embedded(
            EmbeddedTransport::open(sim, opts.call_timeout).await?,
        )),
    }
}

impl Transport {
    /// `SHA256:...` of the verified host key (SSH only).
    pub fn host_key_fingerprint(&self) -> Option<String> {
        match self {
            Transport::Ssh(t) => t.host_key_fingerprint(),
            Transport::Embedded(_) => None,
        }
    }
}

impl Runner for Transport {
    async fn midclt_batch(&self, calls: &[MidcltCall]) -> Result<Vec<RawOutput>, TransportError> {
        match self {
            Transport::Ssh(t) => t.midclt_batch(calls).await,
            Transport::Embedded(t) => t.midclt_batch(calls).await,
        }
    }
}

/// Something that runs batches of `midclt` calls on one system: one batch, one round trip.
pub trait Runner: Send + Sync {
    fn midclt_batch(
        &self,
        calls: &[MidcltCall],
    ) -> impl std::future::Future<Output = Result<Vec<RawOutput>, TransportError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_a_registered_code_system_and_help() {
        let kinds = [
            TransportErrorKind::Unreachable,
            TransportErrorKind::AuthFailed,
            TransportErrorKind::HostKeyUnknown {
                fingerprint: "SHA256:abc".into(),
            },
            TransportErrorKind::HostKeyChanged {
                expected: "SHA256:abc".into(),
                found: "SHA256:def".into(),
            },
            TransportErrorKind::Timeout,
            TransportErrorKind::Dropped,
            TransportErrorKind::Killed,
            TransportErrorKind::KeyFile {
                path: "/k/id_ed25519".into(),
            },
            TransportErrorKind::ProxyCommand {
                path: "/h/.ssh/config".into(),
            },
            TransportErrorKind::SshConfigUnreadable {
                path: "/h/.ssh/config".into(),
            },
            TransportErrorKind::Other,
        ];
        let mut codes = Vec::new();
        for kind in kinds {
            let e = TransportError {
                kind,
                message: "m".into(),
            };
            let p = e.to_problem("nas1");
            assert!(CODES.iter().any(|c| c.code == p.code), "{}", p.code);
            assert_eq!(p.system.as_deref(), Some("nas1"));
            assert_eq!(p.message, "m");
            assert!(p.help.as_deref().is_some_and(|h| !h.is_empty()));
            assert!(p.is_error());
            codes.push(p.code);
        }
        codes.dedup();
        assert_eq!(
            codes.len(),
            CODES.len(),
            "each code used by exactly one kind"
        );
        let unknown = TransportError {
            kind: TransportErrorKind::HostKeyUnknown {
                fingerprint: "SHA256:abc".into(),
            },
            message: String::new(),
        };
        assert!(
            unknown
                .to_problem("nas1")
                .help
                .is_some_and(|h| h.contains("host_key: \"SHA256:abc\""))
        );
    }

    #[test]
    fn a_simulator_failure_keeps_its_own_diagnostic() {
        let e = TransportError {
            kind: TransportErrorKind::Simulator {
                code: "zfleet::sim::fixture_changed",
                object: Some("s/nas1.json".into()),
                help: Some("reset it".into()),
            },
            message: "m".into(),
        };
        let p = e.to_problem("nas1");
        assert_eq!(p.code, "zfleet::sim::fixture_changed");
        assert_eq!(p.object.as_deref(), Some("s/nas1.json"));
        assert_eq!(p.help.as_deref(), Some("reset it"));
        assert_eq!(p.to_string(), "nas1: s/nas1.json: m");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let o = ConnectOptions {
            passphrase: Some(Secret::new("hunter2")),
            ..ConnectOptions::default()
        };
        assert!(!format!("{o:?}").contains("hunter2"));
    }
}
