//! Runs after apply (`apply --run`, `run_on_apply: true`): a replication whose snapshot
//! task is new first runs that task and waits until its snapshot exists (TrueNAS cannot
//! replicate before there is one), then the replication runs and its job is followed to
//! the end. [`follow`] is the one way a job is followed, here and in `zfleet run`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Report, Status, SystemOutcome};
use crate::client::Client;
use crate::model::naming;
use crate::plan::{Op, Subject, SystemPlan, TaskRef};
use crate::transport::{MidcltCall, Runner};

/// How one replication run ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutcome {
    pub system: String,
    pub replication: String,
    pub ok: bool,
    /// TrueNAS's error, for a failed run.
    pub error: Option<String>,
}

/// One replication to run and the new snapshot tasks it waits for.
struct Job {
    name: String,
    id: i64,
    /// `(task id, dataset, naming schema)`.
    first: Vec<(i64, String, String)>,
}

fn jobs(
    plan: &SystemPlan,
    outcome: &SystemOutcome,
    wanted: &dyn Fn(&str) -> bool,
    all: bool,
) -> Vec<Job> {
    let mut out = Vec::new();
    for (i, a) in plan.actions.iter().enumerate() {
        let Subject::Replication {
            name: Some(config_name),
            spec,
        } = &a.subject
        else {
            continue;
        };
        if a.op == Op::Delete
            || outcome
                .actions
                .get(i)
                .is_none_or(|o| o.status != Status::Done)
        {
            continue;
        }
        if !(all || wanted(config_name)) {
            continue;
        }
        let Some(id) = outcome.ids.get(&i).copied() else {
            continue;
        };
        let mut first = Vec::new();
        for t in &spec.periodic_snapshot_tasks {
            let TaskRef::Name(n) = t else { continue };
            // A task this apply created: it has no snapshot yet.
            let made = plan.actions.iter().enumerate().find(|(_, x)| {
                x.op == Op::Create
                    && matches!(&x.subject, Subject::SnapshotTask { name: Some(m), .. } if m == n)
            });
            if let Some((j, x)) = made
                && let (Some(tid), Subject::SnapshotTask { spec, .. }) =
                    (outcome.ids.get(&j), &x.subject)
            {
                first.push((*tid, spec.dataset.clone(), spec.naming_schema.clone()));
            }
        }
        out.push(Job {
            name: spec.name.clone(),
            id,
            first,
        });
    }
    out
}

async fn call<R: Runner>(client: &Client<R>, c: MidcltCall) -> Result<serde_json::Value, String> {
    client
        .call(&c.method, c.args)
        .await
        .map_err(|e| e.to_string())
}

async fn wait_for_snapshot<R: Runner>(
    client: &Client<R>,
    dataset: &str,
    schema: &str,
    limit: Duration,
) -> Result<(), String> {
    let ns = client
        .known_version()
        .map_or("zfs.snapshot", |v| v.snapshot_namespace())
        .to_string();
    let started = Instant::now();
    loop {
        let v = call(
            client,
            MidcltCall::new(
                format!("{ns}.query"),
                vec![
                    json!([["dataset", "=", dataset]]),
                    json!({"select": ["name"]}),
                ],
            ),
        )
        .await?;
        let found = v.as_array().into_iter().flatten().any(|row| {
            row.get("name")
                .and_then(|n| n.as_str())
                .and_then(|n| n.split_once('@'))
                .is_some_and(|(_, snap)| naming::parse(schema, snap).is_some())
        });
        if found {
            return Ok(());
        }
        if started.elapsed() >= limit {
            return Err(format!(
                "no snapshot of {dataset} matching {schema} appeared within {}s",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn run_one<R: Runner>(
    client: &Client<R>,
    system: &str,
    job: &Job,
    limit: Duration,
    report: &dyn Report,
) -> Result<(), String> {
    for (tid, dataset, schema) in &job.first {
        report.stage(
            system,
            &format!("running the new snapshot task of {dataset} first"),
        );
        call(
            client,
            MidcltCall::new("pool.snapshottask.run", vec![json!(tid)]),
        )
        .await?;
        wait_for_snapshot(client, dataset, schema, limit).await?;
    }
    report.stage(system, &format!("replication {}: starting", job.name));
    let id = client
        .replication_run(job.id)
        .await
        .map_err(|e| e.to_string())?;
    let what = format!("replication {}", job.name);
    match tokio::time::timeout(limit, follow(client, system, &what, id, report)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "job {id} did not finish within {}s; it goes on on the system",
            limit.as_secs()
        )),
    }
}

/// What a job's progress line says: `40% Sending 2 of 5: …`, or its state when TrueNAS
/// gives no description.
fn job_line(j: &crate::client::Job) -> String {
    let percent = j
        .progress
        .percent
        .map(|p| format!("{p:.0}% "))
        .unwrap_or_default();
    let what = j
        .progress
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| j.state.clone());
    format!("{percent}{what}")
}

/// Follows job `id` to its end, telling `report` each change as `{what}: {progress}`.
/// `Err` is the job's own error for a FAILED or ABORTED job (TrueNAS's text, e.g.
/// `[EFAULT] Task is not enabled`), or why it could not be followed.
pub async fn follow<R: Runner>(
    client: &Client<R>,
    system: &str,
    what: &str,
    id: i64,
    report: &dyn Report,
) -> Result<(), String> {
    let waited = client
        .wait_job(id, |j| {
            report.stage(system, &format!("{what}: {}", job_line(j)))
        })
        .await;
    match waited {
        Ok(_) => Ok(()),
        Err(crate::client::ClientError {
            error: crate::client::ApiError::JobFailed { error, .. },
            ..
        }) => Err(error),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs the replications apply created or changed: those whose config name `wanted`
/// says (`run_on_apply`), or all of them with `all` (`--run`).
pub async fn run_after<R: Runner + 'static>(
    work: &[(Arc<Client<R>>, SystemPlan)],
    outcomes: &[SystemOutcome],
    wanted: &(dyn Fn(&str) -> bool + Sync),
    all: bool,
    limit: Duration,
    report: Arc<dyn Report>,
) -> Vec<RunOutcome> {
    let mut todo = Vec::new();
    for ((client, plan), outcome) in work.iter().zip(outcomes) {
        for job in jobs(plan, outcome, wanted, all) {
            todo.push((Arc::clone(client), plan.system.clone(), job));
        }
    }
    let futures = todo.into_iter().map(|(client, system, job)| {
        let report = Arc::clone(&report);
        async move {
            let r = run_one(&client, &system, &job, limit, report.as_ref()).await;
            RunOutcome {
                system,
                replication: job.name,
                ok: r.is_ok(),
                error: r.err(),
            }
        }
    });
    super::join_all(futures).await
}
