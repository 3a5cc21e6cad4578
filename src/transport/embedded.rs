//! The embedded simulator as a transport: each call goes straight to the simulator's
//! midclt-compatible entry point on the system's state file, off the async threads.

use std::path::{Path, PathBuf};

use super::{MidcltCall, RawOutput, TransportError, TransportErrorKind};
use crate::model::SimSystem;

#[derive(Debug, Clone)]
pub struct EmbeddedTransport {
    state_file: PathBuf,
    /// Per wave of concurrent calls, as over SSH, so injected latency times out the same way.
    call_timeout: std::time::Duration,
}

fn failed(message: String) -> TransportError {
    TransportError {
        kind: TransportErrorKind::Other,
        message,
    }
}

impl EmbeddedTransport {
    /// Seeds the state file (once; seeding is idempotent) and returns the transport.
    pub async fn open(
        sim: &SimSystem,
        call_timeout: std::time::Duration,
    ) -> Result<EmbeddedTransport, TransportError> {
        let state_file = sim.state_file.clone();
        let fixture = sim.fixture.clone();
        let version = sim.version.clone();
        let seeded = state_file.clone();
        let _slot = call_slots().acquire().await;
        tokio::task::spawn_blocking(move || {
            sim_seed(&seeded, fixture.as_deref(), version.as_deref())
        })
        .await
        .map_err(|e| failed(format!("the simulator stopped: {e}")))??;
        Ok(EmbeddedTransport {
            state_file,
            call_timeout,
        })
    }

    pub async fn midclt_batch(
        &self,
        calls: &[MidcltCall],
    ) -> Result<Vec<RawOutput>, TransportError> {
        let mut argvs = Vec::with_capacity(calls.len());
        for call in calls {
            let mut argv = vec!["call".to_string(), call.method.clone()];
            for arg in &call.args {
                argv.push(serde_json::to_string(arg).map_err(|e| {
                    failed(format!("cannot encode an argument of {}: {e}", call.method))
                })?);
            }
            argvs.push(argv);
        }
        let state_file = self.state_file.clone();
        let count = argvs.len();
        let waves = count.div_ceil(super::script::REMOTE_PARALLEL).max(1) as u32;
        let limit = self.call_timeout.saturating_mul(waves);
        // The calls of a wave start at once, as the batch script starts them on a real
        // system: the wave waits the injected midclt start once, without holding a thread,
        // then the simulator runs the wave on a thread of the runtime's blocking pool, one
        // state copy and at most one write for all its calls (a call never waits for a
        // job: the argv has no `-j`).
        let work = async move {
            let batch = crate::sim::faults::batch(&state_file);
            // A batch is one exec over SSH: one round trip.
            if !batch.round_trip.is_zero() {
                tokio::time::sleep(batch.round_trip).await;
            }
            let mut outputs = Vec::with_capacity(argvs.len());
            let mut argvs = argvs.into_iter().peekable();
            while argvs.peek().is_some() {
                if !batch.midclt_latency.is_zero() {
                    tokio::time::sleep(batch.midclt_latency).await;
                }
                let wave: Vec<Vec<String>> = argvs
                    .by_ref()
                    .take(super::script::REMOTE_PARALLEL)
                    .collect();
                let size = wave.len();
                let state_file = state_file.clone();
                let _slot = call_slots().acquire().await;
                let ran = tokio::task::spawn_blocking(move || {
                    crate::sim::midclt_wave(&state_file, &wave)
                })
                .await;
                match ran {
                    Ok(outs) => outputs.extend(outs.into_iter().map(raw)),
                    Err(_) => outputs.extend((0..size).map(|_| RawOutput {
                        stdout: String::new(),
                        stderr: "the simulator failed on this call".into(),
                        exit: 1,
                    })),
                }
            }
            Ok::<_, TransportError>(outputs)
        };
        match tokio::time::timeout(limit, work).await {
            Ok(done) => done,
            Err(_) => Err(TransportError {
                kind: TransportErrorKind::Timeout,
                message: format!(
                    "{count} midclt call(s) took longer than {}s",
                    limit.as_secs()
                ),
            }),
        }
    }
}

/// How many simulated calls compute at once in this process. Their waits (the injected
/// latency) happen before they take a slot, so calls still start together; what the slots
/// bound is threads, each of which costs memory of its own when a hundred systems answer at
/// once.
fn call_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        tokio::sync::Semaphore::new(cores.max(2) * 2)
    })
}

/// Seeds the state once; a state seeded from another fixture or version is refused with
/// the simulator's own diagnostic (which names `zfleet sim reset`).
fn sim_seed(
    state_file: &Path,
    fixture: Option<&Path>,
    version: Option<&str>,
) -> Result<(), TransportError> {
    crate::sim::seed(state_file, fixture, version).map_err(|p| TransportError {
        kind: TransportErrorKind::Simulator {
            code: p.code,
            object: p.object,
            help: p.help,
        },
        message: p.message,
    })
}

fn raw(o: crate::sim::MidcltOutput) -> RawOutput {
    RawOutput {
        stdout: o.stdout,
        stderr: o.stderr,
        exit: o.exit,
    }
}
