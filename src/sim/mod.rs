//! A simulated TrueNAS: state, middleware methods, midclt-compatible output, jobs and time.
//!
//! One system's state lives in one JSON file (a fleet is a directory of them,
//! `<dir>/<system>.json`), kept in memory by [`store`] for the life of the process. [`midclt`]
//! runs one `midclt` command line against such a system and prints exactly what the real
//! `midclt` of that system's version would print. The simulator reads the wire (argv with JSON arguments) and validates with its own
//! rules, written from the middleware's; it shares no API types with the client.
//!
//! What the engine (clock, jobs, replication, SSH server) builds on:
//! - [`with_state`] (locked read-modify-write), [`load`] (lock-free read of any fleet
//!   member, parsed again only when its file changed), [`write_state`], [`find_system_file`] (fleet member by hostname/address);
//! - [`state::SimState`]: `now()` (frozen or real time plus `clock.offset_secs`),
//!   `add_job` / `finish_job` / `fail_job`, `extensions` for the engine's own data;
//!   replications keep their last run in `ReplicationTask::job` and zettarepl's view in
//!   `state` (a [`state::TaskState`]); `replication.run` leaves a `WAITING` job to drive;
//! - [`methods::snapshottask::take_task_snapshot`] for scheduled snapshot runs;
//! - [`ENGINE_HOOK`], run before every invocation (outside the lock) and while `-j` waits.
//!
//! Fixture format: see [`fixture`].

// `seed` returns a `Problem` by contract; these errors are rare and leave the hot path.
#![allow(clippy::result_large_err)]

pub mod account;
pub mod cli;
pub mod clock;
pub mod errors;
pub mod faults;
pub mod filter;
pub mod fixture;
pub mod fleet;
pub mod fleetgen;
pub mod jobs;
pub mod methods;
pub mod pyre;
pub mod render;
pub mod reset;
pub mod scheduler;
pub mod seed;
pub mod server;
pub mod shared;
pub mod shell;
pub mod state;
pub mod store;
pub mod version;
pub mod zettarepl;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diag::{CodeInfo, Problem};
use errors::SimError;
pub use seed::seed;
use state::{JobState, SimState};
use version::Personality;

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::sim::state_unreadable",
        summary: "a simulator state file cannot be read, parsed or written",
    },
    CodeInfo {
        code: "zfleet::sim::fixture_invalid",
        summary: "a simulator fixture file cannot be read or does not describe a valid system",
    },
    CodeInfo {
        code: "zfleet::sim::version_unknown",
        summary: "a simulator version is not one of 13.0, 13.3, 24.04, 24.10, 25.04, 25.10",
    },
];

/// What one `midclt` invocation printed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MidcltOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}

/// The text midclt prints when it cannot reach the middleware.
const DAEMON_DOWN: &str = "Failed to run middleware call. Daemon not running?\n";

/// Runs one midclt invocation (argv as midclt receives it, e.g. `["call","system.version"]`)
/// against the system whose state is in `state_file`; persists changes under the state's
/// lock. Prints exactly what real midclt prints for that system's version.
pub fn midclt(state_file: &Path, argv: &[String]) -> MidcltOutput {
    // The engine (faults, clock, jobs) looks first, outside the state lock.
    if let Some(out) = ENGINE_HOOK.get_or_init(|| jobs::before_midclt)(state_file, argv) {
        return out;
    }
    // A read runs on this process's shared copy of the state, beside other reads.
    let outcome = store::read_or_write(state_file, |state| run_argv(state, state_file, argv));
    match outcome {
        Ok(Ran::Done(out)) => out,
        Ok(Ran::Follow(id)) => follow_job(state_file, id),
        // No state: the middleware is not there.
        Err(_) => MidcltOutput {
            stdout: String::new(),
            stderr: DAEMON_DOWN.into(),
            exit: 1,
        },
    }
}

/// Runs the invocations of one wave, the calls a batch starts at once on a system, as the
/// middleware serialises them: in order, on one copy of the state, written once if any of
/// them changed it. The engine looks once before the wave, as before a lone invocation: the
/// calls of one instant see one state of the schedules and jobs.
/// Outputs in the order of `argvs`.
pub fn midclt_wave(state_file: &Path, argvs: &[Vec<String>]) -> Vec<MidcltOutput> {
    let hook = *ENGINE_HOOK.get_or_init(|| jobs::before_midclt);
    // A call whose output a fault replaces never reaches the middleware. The engine looks
    // once per wave; another hook (a test's) sees every call.
    let faulted: Vec<Option<MidcltOutput>> =
        if std::ptr::fn_addr_eq(hook, jobs::before_midclt as EngineHook) {
            jobs::before_wave(state_file, argvs)
        } else {
            argvs.iter().map(|argv| hook(state_file, argv)).collect()
        };
    let outcome = store::read_or_write(state_file, |state| {
        argvs
            .iter()
            .zip(&faulted)
            .map(|(argv, f)| f.is_none().then(|| run_argv(state, state_file, argv)))
            .collect::<Vec<_>>()
    });
    let ran = match outcome {
        Ok(ran) => ran,
        Err(_) => vec![None; argvs.len()],
    };
    faulted
        .into_iter()
        .zip(ran)
        .map(|(f, r)| match (f, r) {
            (Some(out), _) => out,
            (None, Some(Ran::Done(out))) => out,
            (None, Some(Ran::Follow(id))) => follow_job(state_file, id),
            (None, None) => MidcltOutput {
                stdout: String::new(),
                stderr: DAEMON_DOWN.into(),
                exit: 1,
            },
        })
        .collect()
}

/// What one invocation did under the lock: printed its output, or started a job that
/// `-j` has to follow.
#[derive(Clone)]
enum Ran {
    Done(MidcltOutput),
    Follow(u64),
}

impl From<MidcltOutput> for Ran {
    fn from(out: MidcltOutput) -> Ran {
        Ran::Done(out)
    }
}

/// Loads the state under an exclusive lock, runs `f` on it, and saves it if `f` changed it.
/// Other processes (the SSH server, the clock) use this too.
pub fn with_state<R>(state_file: &Path, f: impl FnOnce(&mut SimState) -> R) -> Result<R, Problem> {
    store::with_state(state_file, f)
}

/// Reads a state without locking (for looking at other systems of the fleet; writes are
/// atomic renames, so a reader sees a whole file). The file is parsed again only when it
/// changed since this process last read or wrote it.
pub fn load(state_file: &Path) -> Result<SimState, Problem> {
    store::current(state_file).map(|st| SimState::clone(&st))
}

/// Writes a whole state; the caller holds its [`lock`].
pub(crate) fn save(state_file: &Path, state: &SimState) -> Result<(), Problem> {
    store::save(state_file, state.clone())
}

/// Takes the exclusive lock of a state file, for this process's threads and every other
/// process alike.
pub(crate) fn lock(state_file: &Path) -> Result<store::LockGuard, Problem> {
    store::lock(state_file)
}

pub(crate) fn state_problem(state_file: &Path, why: &str) -> Problem {
    Problem::error(
        "zfleet::sim::state_unreadable",
        format!("simulator state {}: {why}", state_file.display()),
    )
    .object(state_file.display().to_string())
    .help(format!(
        "if the file is damaged, `zfleet sim reset --state {}` discards it so that it is seeded again",
        state_file.display()
    ))
}

/// The state file of the fleet member (`<dir>/*.json`) whose hostname, address or file
/// name is `host`.
pub fn find_system_file(dir: &Path, host: &str) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    entries.into_iter().find(|p| {
        p.file_stem().is_some_and(|s| s == host)
            || load(p).is_ok_and(|st| {
                st.system.hostname == host || st.system.addresses.iter().any(|a| a == host)
            })
    })
}

/// The engine's hook, run before every invocation outside the state lock (it may take the
/// lock itself): counts the call, applies injected faults (its output then replaces the
/// call's) and lets time, schedules and jobs catch up. `-j` also calls it while it waits.
pub type EngineHook = fn(&Path, &[String]) -> Option<MidcltOutput>;
pub static ENGINE_HOOK: std::sync::OnceLock<EngineHook> = std::sync::OnceLock::new();

/// Parses midclt's command line as argparse would for the system's version and runs it.
fn run_argv(state: &mut SimState, state_file: &Path, argv: &[String]) -> Ran {
    let p = state.personality();
    match parse_argv(p, argv) {
        Err(e) => output_err(&e, p).into(),
        Ok(Invocation::Ping) => MidcltOutput {
            stdout: if p.ping_prints_pong() {
                "pong\n".into()
            } else {
                String::new()
            },
            stderr: String::new(),
            exit: 0,
        }
        .into(),
        Ok(Invocation::Call { method, args, job }) => {
            let dir = state_file.parent().map(Path::to_path_buf);
            let mut ctx = methods::Ctx::new(state, dir);
            match methods::call(&mut ctx, &method, args) {
                Ok(result) => {
                    if job
                        && let Some(id) = result.as_u64()
                        && methods::is_job_method(p, &method)
                    {
                        return Ran::Follow(id);
                    }
                    MidcltOutput {
                        stdout: render::midclt_stdout(&result),
                        stderr: String::new(),
                        exit: 0,
                    }
                    .into()
                }
                Err(e) => output_err(&e, p).into(),
            }
        }
    }
}

/// `-j`: follow the job to its end (letting the engine move it, up to the call timeout)
/// and print its result or error as midclt does.
fn follow_job(state_file: &Path, id: u64) -> MidcltOutput {
    let poll: Vec<String> = vec!["call".into(), "core.get_jobs".into()];
    for round in 0..1200 {
        let Ok(state) = load(state_file) else {
            break;
        };
        let Some(job) = state.jobs.iter().find(|j| j.id == id) else {
            break;
        };
        match job.state {
            JobState::Success => {
                return MidcltOutput {
                    stdout: render::midclt_stdout(&job.result),
                    stderr: String::new(),
                    exit: 0,
                };
            }
            JobState::Failed | JobState::Aborted => {
                return MidcltOutput {
                    stdout: String::new(),
                    stderr: job_failure(job),
                    exit: 1,
                };
            }
            JobState::Waiting | JobState::Running => {}
        }
        // Without an engine nothing moves the job: answer like the call without `-j`.
        let Some(hook) = ENGINE_HOOK.get() else {
            break;
        };
        let _ = hook(state_file, &poll);
        if round > 0 {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    MidcltOutput {
        stdout: render::midclt_stdout(&Value::from(id)),
        stderr: String::new(),
        exit: 0,
    }
}

/// What midclt prints for a failed job (its client's `Job.result`): a validation failure
/// as one line per error of `exc_info.extra`; anything else as the error, then the
/// traceback, which `print()` follows with a blank line.
fn job_failure(job: &state::Job) -> String {
    let exc_info = job.exc_info.as_ref();
    if exc_info.and_then(|e| e.get("type")).and_then(Value::as_str) == Some("VALIDATION") {
        let errors = exc_info
            .and_then(|e| e.get("extra"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        return errors
            .iter()
            .map(|e| {
                let attr = e.get(0).and_then(Value::as_str).filter(|a| !a.is_empty());
                let msg = e.get(1).and_then(Value::as_str).unwrap_or("");
                let errname = errname(e.get(2).and_then(Value::as_u64));
                format!("[{errname}] {}: {msg}\n", attr.unwrap_or("ALL"))
            })
            .collect();
    }
    let mut stderr = job.error.clone().unwrap_or_default();
    stderr.push('\n');
    if let Some(exc) = &job.exception {
        stderr.push_str(exc);
        stderr.push('\n');
    }
    stderr
}

/// Python's `errno.errorcode` for the errnos simulated jobs fail with.
fn errname(n: Option<u64>) -> &'static str {
    match n {
        Some(1) => "EPERM",
        Some(2) => "ENOENT",
        Some(4) => "EINTR",
        Some(5) => "EIO",
        Some(13) => "EACCES",
        Some(14) => "EFAULT",
        Some(17) => "EEXIST",
        Some(22) => "EINVAL",
        Some(110) => "ETIMEDOUT",
        Some(111) => "ECONNREFUSED",
        _ => "EUNKNOWN",
    }
}

fn output_err(e: &SimError, p: Personality) -> MidcltOutput {
    let (stderr, exit) = e.render(p);
    MidcltOutput {
        stdout: String::new(),
        stderr,
        exit,
    }
}

#[derive(Debug)]
enum Invocation {
    Ping,
    Call {
        method: String,
        args: Vec<Value>,
        job: bool,
    },
}

/// argparse, as `midclt` of version `p` sets it up (api doc §1.1–1.3).
fn parse_argv(p: Personality, argv: &[String]) -> Result<Invocation, SimError> {
    let usage = |sub: &'static str, m: String| SimError::Usage { sub, message: m };
    let mut i = 0;
    // Global options.
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "-u" | "--uri" | "-U" | "--username" | "-P" | "--password" | "-t" | "--timeout" => {
                let Some(v) = argv.get(i + 1) else {
                    return Err(usage(
                        "",
                        format!("argument {}: expected one argument", opt_name(a)),
                    ));
                };
                if matches!(a, "-t" | "--timeout") && v.parse::<i64>().is_err() {
                    return Err(usage(
                        "",
                        format!("argument -t/--timeout: invalid int value: '{v}'"),
                    ));
                }
                i += 2;
            }
            "-K" | "--api-key" if !p.is_core() => {
                if argv.get(i + 1).is_none() {
                    return Err(usage(
                        "",
                        "argument -K/--api-key: expected one argument".into(),
                    ));
                }
                i += 2;
            }
            "-q" | "--quiet" if !p.quiet_is_call_option() => i += 1,
            _ if a.starts_with('-') && a.len() > 1 => {
                return Err(usage("", format!("unrecognized arguments: {a}")));
            }
            _ => break,
        }
    }
    let Some(sub) = argv.get(i) else {
        return Err(usage(
            "",
            "the following arguments are required: name".into(),
        ));
    };
    let choices = if p.is_core() {
        "'call', 'ping', 'waitready', 'sql', 'subscribe'"
    } else if p >= Personality::V2510 {
        "'call', 'ping', 'subscribe'"
    } else {
        "'call', 'ping', 'waitready', 'subscribe'"
    };
    match sub.as_str() {
        "ping" => {
            if argv.len() > i + 1 {
                return Err(usage(
                    "",
                    format!("unrecognized arguments: {}", argv[i + 1..].join(" ")),
                ));
            }
            Ok(Invocation::Ping)
        }
        "call" => parse_call(p, &argv[i + 1..]),
        "waitready" | "subscribe" | "sql" if choices.contains(&format!("'{sub}'")) => {
            Err(SimError::efault(format!("midclt {sub} is not simulated")))
        }
        other => Err(usage(
            "",
            format!("argument name: invalid choice: '{other}' (choose from {choices})"),
        )),
    }
}

fn opt_name(a: &str) -> &'static str {
    match a {
        "-u" | "--uri" => "-u/--uri",
        "-U" | "--username" => "-U/--username",
        "-P" | "--password" => "-P/--password",
        _ => "-t/--timeout",
    }
}

fn parse_call(p: Personality, argv: &[String]) -> Result<Invocation, SimError> {
    let usage = |m: String| SimError::Usage {
        sub: "call",
        message: m,
    };
    let mut job = false;
    let mut i = 0;
    let mut positional: Vec<&String> = Vec::new();
    while i < argv.len() {
        let a = argv[i].as_str();
        if !positional.is_empty() {
            // After the method, everything is an argument.
            positional.push(&argv[i]);
            i += 1;
            continue;
        }
        if a == "-jp" || a == "--job-print" {
            let Some(v) = argv.get(i + 1) else {
                return Err(usage(
                    "argument -jp/--job-print: expected one argument".into(),
                ));
            };
            if v != "progressbar" && v != "description" {
                return Err(usage(format!(
                    "argument -jp/--job-print: invalid choice: '{v}' (choose from 'progressbar', 'description')"
                )));
            }
            i += 2;
        } else if a == "-q" || a == "--quiet" {
            if !p.quiet_is_call_option() {
                return Err(SimError::Usage {
                    sub: "",
                    message: format!("unrecognized arguments: {a}"),
                });
            }
            i += 1;
        } else if a == "--job" || a == "-j" || (a.starts_with("-j") && !a.starts_with("-jp")) {
            if p.job_flag_takes_value() {
                // type=bool: the value is the rest of the token or the next token.
                let value = if a.len() > 2 && a.starts_with("-j") {
                    a[2..].to_string()
                } else if let Some(v) = argv.get(i + 1) {
                    i += 1;
                    v.clone()
                } else {
                    return Err(usage("argument -j/--job: expected one argument".into()));
                };
                job = !value.is_empty();
                i += 1;
            } else {
                if a.len() > 2 && a.starts_with("-j") {
                    return Err(usage(format!(
                        "argument -j/--job: ignored explicit argument '{}'",
                        &a[2..]
                    )));
                }
                job = true;
                i += 1;
            }
        } else if a.starts_with('-') && a.len() > 1 && a.parse::<f64>().is_err() {
            return Err(SimError::Usage {
                sub: "",
                message: format!("unrecognized arguments: {a}"),
            });
        } else {
            positional.push(&argv[i]);
            i += 1;
        }
    }
    let Some((method, rest)) = positional.split_first() else {
        return Err(usage("the following arguments are required: method".into()));
    };
    let args = rest.iter().map(|a| decode_arg(a)).collect();
    Ok(Invocation::Call {
        method: method.to_string(),
        args,
        job,
    })
}

/// Each argument goes through `json.loads`; when that fails the raw string is passed.
fn decode_arg(a: &str) -> Value {
    serde_json::from_str(a).unwrap_or_else(|_| Value::String(a.to_string()))
}

/// Writes a complete state (for seeding fleets programmatically).
pub fn write_state(state_file: &Path, state: &SimState) -> Result<(), Problem> {
    let _lock = lock(state_file)?;
    save(state_file, state)
}
