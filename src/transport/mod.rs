//! Transport: runs `midclt` invocations on one system, over SSH or in the embedded simulator.
//!
//! The client above speaks only in [`MidcltCall`]s and [`RawOutput`]s: what `midclt` was asked
//! and exactly what it printed. A batch of calls is one round trip to the system, with the
//! calls inside it run concurrently there.

use crate::diag::CodeInfo;

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

pub const CODES: &[CodeInfo] = &[];

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
    /// Anything else (protocol error, unreadable key file, malformed reply).
    Other,
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

/// Something that runs batches of `midclt` calls on one system: one batch, one round trip.
pub trait Runner: Send + Sync {
    fn midclt_batch(
        &self,
        calls: &[MidcltCall],
    ) -> impl std::future::Future<Output = Result<Vec<RawOutput>, TransportError>> + Send;
}
