//! The TrueNAS middleware API over `midclt`, version-aware, on top of a transport.
//!
//! [`Client`] is generic over the [`Runner`] that carries `midclt` invocations, so the same
//! code drives SSH, the embedded simulator and scripted test runners. Every call goes out
//! JSON-encoded, without `-j` (jobs are followed with `core.get_jobs`), and comes back
//! through [`parse::parse_output`]. Several calls can share one round trip ([`Client::batch`]).

pub mod api;
pub mod error;
pub mod parse;
pub mod shown;
pub mod testing;
pub mod trace;
pub mod types;
pub mod version;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diag::CodeInfo;
use crate::transport::{MidcltCall, Runner};
pub use api::{ReplicationInput, SnapshotTaskInput, SshCredentialsInput};
pub use error::{ApiError, ClientError, ValidationItem};
pub use trace::Tracer;
pub use types::*;
pub use version::{Personality, Product, Version};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::api::trace",
        summary: "the ZFLEET_API_TRACE file cannot be written (a warning: the run goes on)",
    },
    CodeInfo {
        code: "zfleet::api::validation",
        summary: "the middleware rejected the values sent (one line per field)",
    },
    CodeInfo {
        code: "zfleet::api::call_failed",
        summary: "a middleware call raised an error",
    },
    CodeInfo {
        code: "zfleet::api::no_method",
        summary: "the method does not exist on this TrueNAS version",
    },
    CodeInfo {
        code: "zfleet::api::not_found",
        summary: "the object a call names does not exist (any more)",
    },
    CodeInfo {
        code: "zfleet::api::timeout",
        summary: "midclt gave up waiting for the middleware (Call timeout)",
    },
    CodeInfo {
        code: "zfleet::api::middleware_down",
        summary: "the middleware daemon is not running",
    },
    CodeInfo {
        code: "zfleet::api::not_authorized",
        summary: "the SSH user may not make this call (no admin role, or sudo refused)",
    },
    CodeInfo {
        code: "zfleet::api::login_failed",
        summary: "midclt could not log in to the middleware",
    },
    CodeInfo {
        code: "zfleet::api::no_sudo",
        summary: "the system is set to `sudo: true` but has no sudo",
    },
    CodeInfo {
        code: "zfleet::api::no_midclt",
        summary: "there is no midclt on the system (not a TrueNAS system?)",
    },
    CodeInfo {
        code: "zfleet::api::unparsable",
        summary: "a call's output could not be read as what the method returns",
    },
    CodeInfo {
        code: "zfleet::api::unsupported_version",
        summary: "system.version names a TrueNAS version zfleet does not drive",
    },
    CodeInfo {
        code: "zfleet::api::unsupported",
        summary: "a field or operation the system's TrueNAS version lacks",
    },
    CodeInfo {
        code: "zfleet::api::job_failed",
        summary: "a middleware job ended FAILED or ABORTED",
    },
];

/// The middleware API of one system.
pub struct Client<R> {
    runner: R,
    system: String,
    version: OnceLock<Version>,
    tracer: Option<Tracer>,
    poll_interval: Duration,
    round_trips: AtomicU64,
}

impl<R: Runner> Client<R> {
    /// A client for `system` (its name in the config), tracing to `ZFLEET_API_TRACE` if set.
    pub fn new(system: impl Into<String>, runner: R) -> Self {
        Client {
            runner,
            system: system.into(),
            version: OnceLock::new(),
            tracer: Tracer::from_env(),
            poll_interval: Duration::from_millis(1000),
            round_trips: AtomicU64::new(0),
        }
    }

    /// Traces to `tracer` instead of `ZFLEET_API_TRACE`.
    pub fn with_tracer(mut self, tracer: Option<Tracer>) -> Self {
        self.tracer = tracer;
        self
    }

    /// How often [`Client::wait_job`] polls.
    pub fn with_poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// Uses a version known from elsewhere instead of asking `system.version`.
    pub fn with_version(self, version: Version) -> Self {
        let _ = self.version.set(version);
        self
    }

    pub fn system(&self) -> &str {
        &self.system
    }

    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// Round trips made so far.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    /// The detected version, if known yet.
    pub fn known_version(&self) -> Option<&Version> {
        self.version.get()
    }

    /// Runs calls in one round trip. The outer error is the transport's (nothing ran, or
    /// nothing came back); each inner result is that call's own outcome.
    pub async fn batch(
        &self,
        calls: &[MidcltCall],
    ) -> Result<Vec<Result<parse::Reply, ApiError>>, ClientError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        let outcome = self.runner.midclt_batch(calls).await;
        let ms = started.elapsed().as_millis();
        let outputs = match outcome {
            Ok(o) if o.len() == calls.len() => o,
            Ok(o) => {
                let err =
                    ApiError::Unparsable(format!("{} answers for {} calls", o.len(), calls.len()));
                self.trace_all(calls, false, ms);
                return Err(self.error(&calls[0].method, err));
            }
            Err(e) => {
                self.trace_all(calls, false, ms);
                return Err(self.error(&calls[0].method, ApiError::Transport(e)));
            }
        };
        let results: Vec<Result<parse::Reply, ApiError>> =
            outputs.iter().map(parse::parse_reply).collect();
        if let Some(t) = &self.tracer {
            for (call, r) in calls.iter().zip(&results) {
                t.record(&self.system, &call.method, &call.args, r.is_ok(), ms);
            }
        }
        Ok(results)
    }

    /// The answers of a batch of `calls`, to be taken in the calls' order.
    pub fn answers<'c>(
        &'c self,
        calls: &[MidcltCall],
        results: Vec<Result<parse::Reply, ApiError>>,
    ) -> Answers<'c, R> {
        let methods: Vec<String> = calls.iter().map(|c| c.method.clone()).collect();
        Answers {
            client: self,
            items: results.into_iter().zip(methods),
        }
    }

    fn trace_all(&self, calls: &[MidcltCall], ok: bool, ms: u128) {
        if let Some(t) = &self.tracer {
            for call in calls {
                t.record(&self.system, &call.method, &call.args, ok, ms);
            }
        }
    }

    /// One call, one round trip.
    pub async fn call(&self, method: &str, args: Vec<Value>) -> Result<Value, ClientError> {
        Ok(self.call_reply(method, args).await?.value())
    }

    async fn call_reply(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<parse::Reply, ClientError> {
        let call = MidcltCall::new(method, args);
        let mut results = self.batch(std::slice::from_ref(&call)).await?;
        match results.pop() {
            Some(r) => r.map_err(|e| self.error(method, e)),
            None => Err(self.error(method, ApiError::Unparsable("no answer".into()))),
        }
    }

    /// One call decoded into `T`.
    pub async fn call_as<T: DeserializeOwned>(
        &self,
        method: &str,
        args: Vec<Value>,
    ) -> Result<T, ClientError> {
        let reply = self.call_reply(method, args).await?;
        reply.decode().map_err(|e| self.error(method, e))
    }

    /// The system's version, asked once (`system.version`) and remembered.
    pub async fn version(&self) -> Result<Version, ClientError> {
        if let Some(v) = self.version.get() {
            return Ok(v.clone());
        }
        let raw = self.call("system.version", vec![]).await?;
        self.learn_version(&raw)
    }

    /// Records the version from a `system.version` result fetched by the caller.
    pub fn learn_version(&self, raw: &Value) -> Result<Version, ClientError> {
        let text = match raw {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Not a version at all (garbage, several lines): the middleware is broken, which
        // says more than "unsupported version".
        if !version::looks_like_version(&text) {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let error = ApiError::CallFailed {
                errname: None,
                message: format!(
                    "the middleware answered with no version: {}",
                    shown::clip(first.trim())
                ),
            };
            return Err(self.error("system.version", error));
        }
        let v = Version::parse(&text).map_err(|e| self.error("system.version", e))?;
        let _ = self.version.set(v.clone());
        Ok(self.version.get().cloned().unwrap_or(v))
    }

    pub(crate) fn error(&self, method: &str, error: ApiError) -> ClientError {
        ClientError {
            system: self.system.clone(),
            method: method.to_string(),
            error,
        }
    }
}

/// Reads a result as `T`; a shape mismatch is [`ApiError::Unparsable`] (no values quoted, as
/// results may hold secrets).
/// The answers of one batch in the order of its calls, each error named after its method.
pub struct Answers<'c, R: Runner> {
    client: &'c Client<R>,
    items: std::iter::Zip<
        std::vec::IntoIter<Result<parse::Reply, ApiError>>,
        std::vec::IntoIter<String>,
    >,
}

impl<R: Runner> Answers<'_, R> {
    fn take(&mut self) -> Result<(Result<parse::Reply, ApiError>, String), ClientError> {
        self.items.next().ok_or_else(|| {
            self.client
                .error("batch", ApiError::Unparsable("missing answer".into()))
        })
    }

    /// The next call's reply as it came.
    pub fn reply(&mut self) -> Result<parse::Reply, ClientError> {
        let (r, method) = self.take()?;
        r.map_err(|e| self.client.error(&method, e))
    }

    /// The next call's reply decoded into `T`.
    pub fn decoded<T: DeserializeOwned>(&mut self) -> Result<T, ClientError> {
        let (r, method) = self.take()?;
        r.and_then(|v| v.decode())
            .map_err(|e| self.client.error(&method, e))
    }
}

pub fn decode<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::Unparsable(format!("unexpected shape: {}", shown::shape_error(&e))))
}
