//! `zfleet run NAME`: Run Now for a replication (on every system that runs it) or a
//! snapshot task, following each run to its end.
//!
//! Exit codes: 0 every run ended in SUCCESS (or, with `--no-wait`, every run started);
//! 1 a run failed, or nothing ran (refused, unknown name, unreachable system);
//! 124 `--timeout` passed while runs went on (as timeout(1) says it).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::FileArg;
use crate::apply::Report;
use crate::client::Client;
use crate::client::shown::printable;
use crate::client::types::TaskState;
use crate::diag::Problem;
use crate::plan::ledger::Kind;
use crate::runnow::find::{self, Wanted};
use crate::runnow::snaptask::{self, Ended};
use crate::runnow::{FAILED, TIMEOUT};
use crate::transport::Transport;

/// Exit code when `--timeout` passes first.
pub const EXIT_TIMEOUT: u8 = 124;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 every run ended in SUCCESS (with --no-wait: every run started); 1 a run failed, or nothing ran; 124 --timeout passed while runs went on."
)]
pub struct RunArgs {
    /// A replication or snapshot task of the config.
    pub name: String,
    #[command(flatten)]
    pub file: FileArg,
    /// Only on this system (a replication runs on every system that has one of its
    /// sources, or on its target when it pulls).
    #[arg(long, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// Start the runs and return at once (prints the job ids).
    #[arg(long)]
    pub no_wait: bool,
    /// Stop waiting after DURATION (`90s`, `30m`) and exit 124; the runs go on on the
    /// systems and are not aborted.
    #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse_timeout, conflicts_with = "no_wait")]
    pub timeout: Option<Duration>,
    /// Trust host keys seen for the first time and record them in known_hosts.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Time allowed to connect, for the SSH handshake and for logging in, each [default:
    /// 15s].
    #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse_timeout)]
    pub connect_timeout: Option<Duration>,
}

/// One task to run, found on its system.
struct Target {
    wanted: Wanted,
    /// Its line on the terminal: the system, with the task when a system runs several.
    label: String,
    client: Arc<Client<Transport>>,
    id: i64,
    /// A snapshot task's live row before the run (its run is followed by its state).
    task: Option<crate::client::SnapshotTask>,
}

/// How one run went.
enum Outcome {
    Started(Option<i64>),
    Success(Option<String>),
    Failed(String),
    Running(Option<i64>),
}

/// Run's progress: a line per task on a terminal, a log line per change otherwise.
struct Shown {
    progress: crate::progress::Progress,
    labels: Vec<String>,
}

impl Report for Shown {
    fn stage(&self, label: &str, what: &str) {
        match self.labels.iter().position(|n| n == label) {
            Some(i) if self.progress.is_drawn() => self
                .progress
                .update(i, crate::progress::Phase::Working(what.to_string())),
            _ => crate::errln!("{}: {}", printable(label), printable(what)),
        }
    }
}

fn fail(problems: &[Problem]) -> ExitCode {
    super::report(problems);
    ExitCode::FAILURE
}

pub fn run(args: &RunArgs) -> ExitCode {
    let config = match crate::config::load(&args.file.file) {
        Ok(c) => c,
        Err(p) => return fail(&p),
    };
    if let Some(s) = &args.system
        && let Err(p) = super::snapshot::known_system(&config, s)
    {
        return fail(&[p]);
    }
    let wanted = match find::wanted(&config, &args.name, args.system.as_deref()) {
        Ok(w) => w,
        Err(p) => return fail(&[p]),
    };
    let rt = match super::plan::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let targets = match rt.block_on(locate(&config, &wanted, args)) {
        Ok(t) => t,
        Err(problems) => return fail(&problems),
    };
    let labels: Vec<String> = targets.iter().map(|t| t.label.clone()).collect();
    let progress = crate::progress::Progress::for_systems(&labels);
    let report: Arc<dyn Report> = Arc::new(Shown {
        progress: progress.clone(),
        labels,
    });
    let deadline = args.timeout.map(|t| (Instant::now() + t, t));
    let outcomes = rt.block_on(run_all(&targets, args.no_wait, deadline, report));
    progress.finish();
    rt.shutdown_background();
    conclude(&targets, &outcomes, deadline.map(|(_, t)| t))
}

/// Connects to the systems that run the tasks and finds each live task; every refusal is
/// collected so that nothing runs unless all can.
async fn locate(
    config: &crate::model::Config,
    wanted: &[Wanted],
    args: &RunArgs,
) -> Result<Vec<Target>, Vec<Problem>> {
    let mut scoped = config.clone();
    scoped
        .systems
        .retain(|name, _| wanted.iter().any(|w| &w.system == name));
    let reach = super::reach::ReachArgs {
        accept_new_host_keys: args.accept_new_host_keys,
        connect_timeout: args.connect_timeout,
        timeout: None,
    };
    let names: Vec<String> = scoped.systems.keys().cloned().collect();
    let progress = crate::progress::Progress::for_systems(&names);
    let fleet =
        crate::inventory::read_fleet_scoped(&scoped, &reach.connect_options(), &progress, true)
            .await;
    progress.finish();
    let mut problems = Vec::new();
    let mut targets = Vec::new();
    for w in wanted {
        let Some(entry) = fleet.iter().find(|e| e.name == w.system) else {
            continue;
        };
        let (inv, client) = match (&entry.result, &entry.client) {
            (Ok(inv), Some(c)) => (inv, Arc::clone(c)),
            (Err(p), _) => {
                if !problems.iter().any(|q: &Problem| q.system == p.system) {
                    problems.push(p.clone());
                }
                continue;
            }
            (Ok(_), None) => continue,
        };
        match find::locate(&config.project, inv, w) {
            Ok(id) => {
                let several = wanted.iter().filter(|o| o.system == w.system).count() > 1;
                targets.push(Target {
                    label: if several {
                        format!("{} ({})", w.system, w.task)
                    } else {
                        w.system.clone()
                    },
                    task: inv.snapshot_tasks.iter().find(|t| t.id == id).cloned(),
                    wanted: w.clone(),
                    client,
                    id,
                });
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(targets)
    } else {
        Err(problems)
    }
}

async fn run_all(
    targets: &[Target],
    no_wait: bool,
    deadline: Option<(Instant, Duration)>,
    report: Arc<dyn Report>,
) -> Vec<Outcome> {
    let futures = targets.iter().map(|t| {
        let client = Arc::clone(&t.client);
        let (kind, id, label, what) = (t.wanted.kind, t.id, t.label.clone(), t.wanted.label());
        let task = t.task.clone();
        let report = Arc::clone(&report);
        async move {
            let before = task.as_ref().map(|t| t.state.clone()).unwrap_or_default();
            report.stage(&label, &format!("{what}: starting"));
            let job = match start(&client, kind, id).await {
                Ok(job) => job,
                Err(e) => return Outcome::Failed(e),
            };
            if no_wait {
                return Outcome::Started(job);
            }
            let waiting = wait(
                &client,
                job,
                task.as_ref(),
                &before,
                &label,
                &what,
                &*report,
            );
            match deadline {
                None => waiting.await,
                Some((at, _)) => {
                    match tokio::time::timeout_at(tokio::time::Instant::from_std(at), waiting).await
                    {
                        Ok(o) => o,
                        Err(_) => Outcome::Running(job),
                    }
                }
            }
        }
    });
    crate::apply::join_all(futures).await
}

/// Run Now: a replication's job id; a snapshot task has none.
async fn start(client: &Client<Transport>, kind: Kind, id: i64) -> Result<Option<i64>, String> {
    match kind {
        Kind::Replication => client
            .replication_run(id)
            .await
            .map(Some)
            .map_err(|e| e.to_string()),
        Kind::SnapshotTask => client
            .snapshot_task_run(id)
            .await
            .map(|()| None)
            .map_err(|e| e.to_string()),
    }
}

async fn wait(
    client: &Client<Transport>,
    job: Option<i64>,
    task: Option<&crate::client::SnapshotTask>,
    before: &TaskState,
    label: &str,
    what: &str,
    report: &dyn Report,
) -> Outcome {
    match (job, task) {
        (Some(job), _) => match crate::apply::run::follow(client, label, what, job, report).await {
            Ok(()) => Outcome::Success(None),
            Err(e) => Outcome::Failed(e),
        },
        (None, Some(task)) => {
            // Only RUNNING says something new: the state the run ends in is the outcome.
            let seen = |state: &str| {
                if state == "RUNNING" {
                    report.stage(label, &format!("{what}: RUNNING"));
                }
            };
            match snaptask::wait(client, task, before, Duration::from_secs(1), 10, seen).await {
                Ok(Ended::Taken(s)) => Outcome::Success(s.map(|s| format!("took {s}"))),
                Ok(Ended::Existed(_)) => {
                    Outcome::Success(Some("its snapshot existed already".into()))
                }
                Ok(Ended::Failed(e)) | Err(e) => Outcome::Failed(e),
            }
        }
        (None, None) => Outcome::Failed("the snapshot task could not be read".into()),
    }
}

/// Prints one line per run (and TrueNAS's error under a failure), then the verdict.
fn conclude(targets: &[Target], outcomes: &[Outcome], limit: Option<Duration>) -> ExitCode {
    let mut failed = 0;
    let mut running = Vec::new();
    for (t, o) in targets.iter().zip(outcomes) {
        let head = format!(
            "{}: {}",
            printable(&t.wanted.system),
            printable(&t.wanted.label())
        );
        let job = |j: &Option<i64>| j.map(|j| format!(", job {j}")).unwrap_or_default();
        match o {
            Outcome::Started(j) => crate::outln!("→ {head} — started{}", job(j)),
            Outcome::Success(None) => crate::outln!("✓ {head} — SUCCESS"),
            Outcome::Success(Some(d)) => crate::outln!("✓ {head} — SUCCESS, {}", printable(d)),
            Outcome::Failed(e) => {
                failed += 1;
                crate::outln!("✗ {head} — FAILED");
                for line in e.lines() {
                    crate::outln!("    {}", printable(line));
                }
            }
            Outcome::Running(j) => {
                crate::outln!("… {head} — still running{}", job(j));
                running.push(format!(
                    "{} on {}{}",
                    t.wanted.label(),
                    t.wanted.system,
                    job(j)
                ));
            }
        }
    }
    let mut problems = Vec::new();
    if failed > 0 {
        problems.push(
            Problem::error(
                FAILED,
                format!(
                    "{failed} of {} did not end in SUCCESS",
                    crate::diag::count(outcomes.len(), "run", "runs")
                ),
            )
            .object(format!(
                "`{}`",
                targets.first().map_or("", |t| &t.wanted.name)
            ))
            .help("TrueNAS's error is under each failed run above"),
        );
    }
    if !running.is_empty() {
        let secs = limit.map_or(0, |l| l.as_secs());
        problems.push(
            Problem::error(
                TIMEOUT,
                format!("still running after {secs}s: {}", running.join("; ")),
            )
            .help("the runs go on on the systems and are not aborted; their state shows how they end (`zfleet status`, or Jobs in the TrueNAS UI)"),
        );
    }
    super::report(&problems);
    if failed > 0 {
        ExitCode::FAILURE
    } else if !running.is_empty() {
        ExitCode::from(EXIT_TIMEOUT)
    } else {
        ExitCode::SUCCESS
    }
}
