//! What can go wrong with one middleware call, and how it is told to the user.

use std::fmt;

use crate::diag::Problem;
use crate::transport::TransportError;

/// One `[ERRNAME] attribute: message` line of a middleware validation error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidationItem {
    pub errname: String,
    /// `None` when midclt printed `ALL` (the error concerns the call as a whole).
    pub attribute: Option<String>,
    pub message: String,
}

impl fmt::Display for ValidationItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let attr = self.attribute.as_deref().unwrap_or("ALL");
        write!(f, "[{}] {}: {}", self.errname, attr, self.message)
    }
}

/// Why a call did not give a usable result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The middleware rejected the arguments (one entry per error line).
    Validation(Vec<ValidationItem>),
    /// A `CallError` or other exception: its first line, e.g. `[EFAULT] Task is not enabled`.
    CallFailed {
        errname: Option<String>,
        message: String,
    },
    /// The method is unknown on this system (`Method does not exist`, `[ENOMETHOD] ...`).
    NoMethod(String),
    /// A `get` query matched nothing (`MatchNotFound()`).
    NotFound(String),
    /// midclt gave up waiting (`Call timeout`).
    Timeout,
    /// The middleware is not running (`Failed to run middleware call. Daemon not running?`).
    MiddlewareDown,
    /// The session may not call the method (`Not authenticated`, `Not authorized`, sudo refused).
    NotAuthorized(String),
    /// midclt printed `Failed to login:` (on stdout, with exit 0).
    LoginFailed(String),
    /// `sudo: true`, and the system has no `sudo`.
    NoSudo(String),
    /// There is no `midclt` on the system's PATH.
    NoMidclt(String),
    /// The output could not be read as what the method returns.
    Unparsable(String),
    /// `system.version` names no version zfleet can drive.
    UnsupportedVersion(String),
    /// A field or operation the system's TrueNAS version does not have.
    Unsupported(String),
    /// A job ended FAILED or ABORTED.
    JobFailed {
        id: i64,
        state: String,
        error: String,
    },
    /// The round trip itself failed (SSH, simulator).
    Transport(TransportError),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Validation(items) => {
                let lines: Vec<String> = items.iter().map(|i| i.to_string()).collect();
                write!(f, "rejected by the middleware: {}", lines.join("; "))
            }
            ApiError::CallFailed { errname, message } => match errname {
                Some(e) => write!(f, "[{e}] {message}"),
                None => f.write_str(message),
            },
            ApiError::NoMethod(m) => write!(f, "method does not exist: {m}"),
            ApiError::NotFound(m) => write!(f, "not found: {m}"),
            ApiError::Timeout => f.write_str("middleware call timed out (Call timeout)"),
            ApiError::MiddlewareDown => f.write_str(
                "the middleware is not running (Failed to run middleware call. Daemon not running?)",
            ),
            ApiError::NotAuthorized(m) => write!(f, "not authorized: {m}"),
            ApiError::LoginFailed(m) => write!(f, "middleware login failed: {m}"),
            ApiError::NoSudo(m) => write!(f, "sudo not found: {m}"),
            ApiError::NoMidclt(m) => write!(f, "midclt not found: {m}"),
            ApiError::Unparsable(m) => write!(f, "unreadable answer: {m}"),
            ApiError::UnsupportedVersion(v) => write!(f, "unsupported TrueNAS version {v:?}"),
            ApiError::Unsupported(m) => f.write_str(m),
            ApiError::JobFailed { id, state, error } => write!(f, "job {id} {state}: {error}"),
            ApiError::Transport(e) => write!(f, "{}", e.message),
        }
    }
}

/// A failed call with its context: which system, which method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    pub system: String,
    pub method: String,
    pub error: ApiError,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.system, self.method, self.error)
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for Problem {
    fn from(e: ClientError) -> Problem {
        e.to_problem()
    }
}

impl ClientError {
    /// The diagnostic code for this error.
    pub fn code(&self) -> &'static str {
        match &self.error {
            ApiError::Validation(items)
                if !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.errname == "ENOENT" && i.attribute.is_none()) =>
            {
                "zfleet::api::not_found"
            }
            ApiError::Validation(_) => "zfleet::api::validation",
            ApiError::CallFailed { .. } => "zfleet::api::call_failed",
            ApiError::NoMethod(_) => "zfleet::api::no_method",
            ApiError::NotFound(_) => "zfleet::api::not_found",
            ApiError::Timeout => "zfleet::api::timeout",
            ApiError::MiddlewareDown => "zfleet::api::middleware_down",
            ApiError::NotAuthorized(_) => "zfleet::api::not_authorized",
            ApiError::LoginFailed(_) => "zfleet::api::login_failed",
            ApiError::NoSudo(_) => "zfleet::api::no_sudo",
            ApiError::NoMidclt(_) => "zfleet::api::no_midclt",
            ApiError::Unparsable(_) => "zfleet::api::unparsable",
            ApiError::UnsupportedVersion(_) => "zfleet::api::unsupported_version",
            ApiError::Unsupported(_) => "zfleet::api::unsupported",
            ApiError::JobFailed { .. } => "zfleet::api::job_failed",
            ApiError::Transport(t) => t.to_problem(&self.system).code,
        }
    }

    pub fn to_problem(&self) -> Problem {
        if let ApiError::Transport(t) = &self.error {
            return transport_problem(t, &self.system);
        }
        let help = match &self.error {
            ApiError::Validation(_) => {
                "the middleware refused the values sent; the lines above name each field and why"
                    .to_string()
            }
            ApiError::CallFailed { .. } => {
                "the middleware raised an error; details are in /var/log/middlewared.log on the system"
                    .to_string()
            }
            ApiError::NoMethod(_) => {
                "this TrueNAS version lacks the method; check the version zfleet detected (`zfleet systems`)"
                    .to_string()
            }
            ApiError::NotFound(_) => {
                "the object is gone: it may have been deleted on the system; run the command again"
                    .to_string()
            }
            ApiError::Timeout => {
                "the middleware is busy or stuck; retry, or check `midclt call core.ping` on the system"
                    .to_string()
            }
            ApiError::MiddlewareDown => {
                "start the middleware (`systemctl restart middlewared`) or wait for the system to finish booting"
                    .to_string()
            }
            ApiError::NotAuthorized(_) => {
                "connect as root or as a user with the FULL_ADMIN role (the uid 950 admin works without sudo)"
                    .to_string()
            }
            ApiError::LoginFailed(_) => {
                "midclt could not log in; connect as root or the uid 950 admin over SSH".to_string()
            }
            ApiError::NoSudo(_) => {
                "remove `sudo: true` for this system and connect as root or as the uid 950 admin, \
                 which need no sudo"
                    .to_string()
            }
            ApiError::NoMidclt(_) => {
                "is this a TrueNAS system? `midclt` must be on the SSH user's PATH".to_string()
            }
            ApiError::Unparsable(_) => {
                "the system answered in a form zfleet does not know; report it with the TrueNAS version"
                    .to_string()
            }
            ApiError::UnsupportedVersion(_) => {
                "zfleet drives TrueNAS CORE 13, SCALE 24.04 and 24.10, and TrueNAS 25.04 and 25.10"
                    .to_string()
            }
            ApiError::Unsupported(_) => {
                "remove the setting for this system or upgrade TrueNAS".to_string()
            }
            ApiError::JobFailed { id, .. } => {
                format!("see `midclt call core.get_jobs '[[\"id\",\"=\",{id}]]'` or /var/log/jobs/{id}.log on the system")
            }
            ApiError::Transport(_) => String::new(),
        };
        Problem::error(self.code(), self.error.to_string())
            .system(self.system.clone())
            .object(self.method.clone())
            .help(help)
    }
}

/// A transport failure as a problem of `system` (the transport's own diagnostic).
pub fn transport_problem(e: &TransportError, system: &str) -> Problem {
    e.to_problem(system)
}
