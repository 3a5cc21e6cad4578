//! Runners for tests and benchmarks: a scripted one that answers from a function and
//! records every batch, and a wrapper that injects latency like a real system would.

use std::sync::Mutex;
use std::time::Duration;

use crate::transport::{MidcltCall, RawOutput, Runner, TransportError};

type Responder = Box<dyn Fn(&MidcltCall) -> RawOutput + Send + Sync>;

/// Answers each call with `respond(call)` and records the batches it was given.
pub struct ScriptedRunner {
    respond: Responder,
    batches: Mutex<Vec<Vec<MidcltCall>>>,
    fail_with: Mutex<Option<TransportError>>,
}

impl ScriptedRunner {
    pub fn new(respond: impl Fn(&MidcltCall) -> RawOutput + Send + Sync + 'static) -> Self {
        ScriptedRunner {
            respond: Box::new(respond),
            batches: Mutex::new(Vec::new()),
            fail_with: Mutex::new(None),
        }
    }

    /// Every following round trip fails with `e`.
    pub fn fail(&self, e: TransportError) {
        *self.fail_with.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    /// The batches sent so far, in order.
    pub fn batches(&self) -> Vec<Vec<MidcltCall>> {
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Runner for ScriptedRunner {
    async fn midclt_batch(&self, calls: &[MidcltCall]) -> Result<Vec<RawOutput>, TransportError> {
        if let Some(e) = self
            .fail_with
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(e);
        }
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(calls.to_vec());
        Ok(calls.iter().map(|c| (self.respond)(c)).collect())
    }
}

/// Adds `round_trip` per batch and `per_midclt` once per batch (the calls of a batch start
/// their `midclt` processes concurrently on the system).
pub struct LatencyRunner<R> {
    pub inner: R,
    pub round_trip: Duration,
    pub per_midclt: Duration,
}

impl<R: Runner> Runner for LatencyRunner<R> {
    async fn midclt_batch(&self, calls: &[MidcltCall]) -> Result<Vec<RawOutput>, TransportError> {
        tokio::time::sleep(self.round_trip + self.per_midclt).await;
        self.inner.midclt_batch(calls).await
    }
}

/// Stdout as midclt prints a JSON result (one line).
pub fn ok_json(v: &serde_json::Value) -> RawOutput {
    RawOutput {
        stdout: format!("{v}\n"),
        stderr: String::new(),
        exit: 0,
    }
}

/// Stdout as midclt prints a raw string, int or bool result.
pub fn ok_raw(text: &str) -> RawOutput {
    RawOutput {
        stdout: format!("{text}\n"),
        stderr: String::new(),
        exit: 0,
    }
}

/// A failed call with `stderr`, exit 1.
pub fn failed(stderr: &str) -> RawOutput {
    RawOutput {
        stdout: String::new(),
        stderr: stderr.to_string(),
        exit: 1,
    }
}
