//! Carries out a plan: per system, in stages (service, pending ownership marks, snapshot
//! tasks, one-time snapshots, replications, replication deletions, snapshot tasks being
//! disabled, ownership records, snapshot task deletions), the calls of one stage in one
//! round trip; systems in parallel. A failure stops the rest of that
//! system; the others go on.

pub mod payload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use crate::client::Client;
use crate::client::parse::Reply;
use crate::plan::fields::fingerprint;
use crate::plan::ledger::{self, Kind};
use crate::plan::spec::snapshot_task_fields;
use crate::plan::{Action, Op, Subject, SystemPlan};
use crate::transport::{MidcltCall, Runner};

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    pub label: String,
    pub op: Op,
    pub status: Status,
    /// TrueNAS's error for a failed action.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemOutcome {
    pub system: String,
    pub actions: Vec<ActionOutcome>,
    /// A failure outside any one action (ownership records, the connection).
    pub error: Option<String>,
    pub round_trips: u64,
}

impl SystemOutcome {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.actions.iter().any(|a| a.status == Status::Failed)
    }
}

/// Progress of one system, for the caller to show.
pub trait Report: Send + Sync {
    fn stage(&self, system: &str, what: &str);
}

impl Report for () {
    fn stage(&self, _: &str, _: &str) {}
}

/// Which actions a stage takes.
type Pick = fn(&Action) -> bool;

struct Run<'a, R> {
    client: &'a Client<R>,
    project: &'a str,
    plan: &'a SystemPlan,
    outcomes: Vec<ActionOutcome>,
    /// Ids of snapshot tasks by zfleet name (known and created).
    task_ids: BTreeMap<String, i64>,
    /// Ids of objects created here, by action index.
    created: BTreeMap<usize, i64>,
    stopped: bool,
}

/// Applies one system's plan.
pub async fn apply_system<R: Runner>(
    client: &Client<R>,
    project: &str,
    plan: &SystemPlan,
    report: &dyn Report,
) -> SystemOutcome {
    let before = client.round_trips();
    let mut run = Run {
        client,
        project,
        plan,
        outcomes: plan
            .actions
            .iter()
            .map(|a| ActionOutcome {
                label: a.subject.label(),
                op: a.op,
                status: Status::Skipped,
                error: None,
            })
            .collect(),
        task_ids: plan.task_ids.clone(),
        created: BTreeMap::new(),
        stopped: false,
    };
    let mut error = None;
    let stages: [(&str, Pick); 8] = [
        ("SSH service", |a| {
            matches!(a.subject, Subject::SshService { .. })
        }),
        ("snapshot tasks", |a| {
            matches!(a.subject, Subject::SnapshotTask { .. })
                && a.op != Op::Delete
                && !disables_task(a)
        }),
        ("snapshots", |a| {
            matches!(a.subject, Subject::Snapshot { .. })
        }),
        ("replications", |a| {
            matches!(a.subject, Subject::Replication { .. }) && a.op != Op::Delete
        }),
        ("deleting replications", |a| {
            matches!(a.subject, Subject::Replication { .. }) && a.op == Op::Delete
        }),
        // TrueNAS refuses to disable a task an enabled replication binds: only now are
        // the replications that bound it changed or gone.
        ("disabling snapshot tasks", disables_task),
        (RECORD, |_| false),
        ("deleting snapshot tasks", |a| {
            matches!(a.subject, Subject::SnapshotTask { .. }) && a.op == Op::Delete
        }),
    ];
    // Pending marks first, so an interruption after a create is recognised next time.
    if let Err(e) = run.mark_pending().await {
        error = Some(e);
        run.stopped = true;
    }
    for (what, pick) in &stages {
        if run.stopped {
            break;
        }
        if *what == RECORD {
            report.stage(&plan.system, "recording ownership");
            if let Err(e) = run.record().await {
                error = Some(e);
                run.stopped = true;
            }
            continue;
        }
        let indices: Vec<usize> = (0..plan.actions.len())
            .filter(|i| pick(&plan.actions[*i]))
            .collect();
        if indices.is_empty() {
            continue;
        }
        report.stage(&plan.system, what);
        run.stage(&indices).await;
    }
    if !run.stopped
        && let Err(e) = run.unrecord_deleted().await
    {
        error = Some(e);
    }
    SystemOutcome {
        system: plan.system.clone(),
        actions: run.outcomes,
        error,
        round_trips: client.round_trips() - before,
    }
}

/// The stage that records ownership (between the others, not one of their picks).
const RECORD: &str = "";

/// An update or adoption that leaves a snapshot task disabled.
fn disables_task(a: &Action) -> bool {
    matches!(&a.subject, Subject::SnapshotTask { spec, .. } if !spec.enabled)
        && matches!(a.op, Op::Update | Op::Adopt)
}

/// `pool.dataset.update` calls setting (`Some`) and removing (`None`) user properties,
/// one call per dataset.
fn property_calls(changes: &[(String, String, Option<String>)]) -> Vec<MidcltCall> {
    let mut by_dataset: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (ds, key, value) in changes {
        let item = match value {
            Some(v) => json!({"key": key, "value": v}),
            None => json!({"key": key, "remove": true}),
        };
        by_dataset.entry(ds.as_str()).or_default().push(item);
    }
    by_dataset
        .into_iter()
        .map(|(ds, items)| {
            MidcltCall::new(
                "pool.dataset.update",
                vec![json!(ds), json!({"user_properties_update": items})],
            )
        })
        .collect()
}

impl<R: Runner> Run<'_, R> {
    async fn batch(&self, calls: &[MidcltCall]) -> Result<Vec<Result<Reply, String>>, String> {
        match self.client.batch(calls).await {
            Ok(results) => Ok(results
                .into_iter()
                .zip(calls)
                .map(|(r, c)| r.map_err(|e| self.client.error(&c.method, e).to_string()))
                .collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn properties(&self, changes: &[(String, String, Option<String>)]) -> Result<(), String> {
        let calls = property_calls(changes);
        if calls.is_empty() {
            return Ok(());
        }
        for r in self.batch(&calls).await? {
            r?;
        }
        Ok(())
    }

    async fn mark_pending(&mut self) -> Result<(), String> {
        let version = self.client.known_version().cloned();
        let mut marks = Vec::new();
        for a in self.plan.actions.iter().filter(|a| a.op == Op::Create) {
            let (kind, name, fp) = match &a.subject {
                Subject::SnapshotTask {
                    name: Some(n),
                    spec,
                } => (
                    Kind::SnapshotTask,
                    n.clone(),
                    fingerprint(&snapshot_task_fields(spec)),
                ),
                Subject::Replication { spec, .. } => (
                    Kind::Replication,
                    spec.name.clone(),
                    fingerprint(&spec.identity_fields(version.as_ref())),
                ),
                _ => continue,
            };
            let Some(anchor) = &a.anchor else { continue };
            marks.push((
                anchor.clone(),
                ledger::pending_key(self.project, kind, &name),
                Some(ledger::value(&name, Some(&fp))),
            ));
        }
        self.properties(&marks).await
    }

    /// Runs the actions at `indices` in one round trip.
    async fn stage(&mut self, indices: &[usize]) {
        let version = self.client.known_version().cloned();
        let mut calls: Vec<(usize, Vec<MidcltCall>)> = Vec::new();
        for &i in indices {
            let a = &self.plan.actions[i];
            match payload::calls(a, version.as_ref(), &self.task_ids) {
                Ok(c) if c.is_empty() => self.outcomes[i].status = Status::Done,
                Ok(c) => calls.push((i, c)),
                Err(e) => {
                    self.outcomes[i].status = Status::Failed;
                    self.outcomes[i].error = Some(e);
                    self.stopped = true;
                }
            }
        }
        if self.stopped || calls.is_empty() {
            return;
        }
        let flat: Vec<MidcltCall> = calls.iter().flat_map(|(_, c)| c.clone()).collect();
        let results = match self.batch(&flat).await {
            Ok(r) => r,
            Err(e) => {
                for (i, _) in &calls {
                    self.outcomes[*i].status = Status::Failed;
                    self.outcomes[*i].error = Some(e.clone());
                }
                self.stopped = true;
                return;
            }
        };
        let mut it = results.into_iter();
        for (i, cs) in &calls {
            let mut failure = None;
            let mut first = None;
            for _ in cs {
                match it.next() {
                    Some(Ok(reply)) => {
                        if first.is_none() {
                            first = Some(reply);
                        }
                    }
                    Some(Err(e)) => failure = failure.or(Some(e)),
                    None => failure = failure.or(Some("no answer".to_string())),
                }
            }
            let a = &self.plan.actions[*i];
            match failure {
                Some(e) => {
                    self.outcomes[*i].status = Status::Failed;
                    self.outcomes[*i].error = Some(e);
                    self.stopped = true;
                }
                None => {
                    self.outcomes[*i].status = Status::Done;
                    if a.op == Op::Create
                        && let Some(id) =
                            first.and_then(|r| r.value().get("id").and_then(Value::as_i64))
                    {
                        self.created.insert(*i, id);
                        if let Subject::SnapshotTask { name: Some(n), .. } = &a.subject {
                            self.task_ids.insert(n.clone(), id);
                        }
                    }
                }
            }
        }
    }

    /// Records ownership of what was created or adopted, moves records whose dataset
    /// changed, and removes pending marks and forgotten records.
    async fn record(&mut self) -> Result<(), String> {
        let mut changes: Vec<(String, String, Option<String>)> = Vec::new();
        for (i, a) in self.plan.actions.iter().enumerate() {
            if a.op == Op::Delete || self.outcomes[i].status != Status::Done {
                continue;
            }
            let (kind, name) = match &a.subject {
                Subject::SnapshotTask { name: Some(n), .. } => (Kind::SnapshotTask, n.clone()),
                Subject::Replication { spec, .. } => (Kind::Replication, spec.name.clone()),
                _ => continue,
            };
            let id = self.created.get(&i).copied().or(a.id);
            if let (Some(id), Some(anchor)) = (id, &a.anchor) {
                changes.push((
                    anchor.clone(),
                    ledger::key(self.project, kind, id),
                    Some(ledger::value(&name, None)),
                ));
            }
            for (ds, key) in &a.unrecord {
                changes.push((ds.clone(), key.clone(), None));
            }
            // The mark `mark_pending` set has done its work once the task is recorded.
            if a.op == Op::Create
                && let Some(anchor) = &a.anchor
            {
                let key = ledger::pending_key(self.project, kind, &name);
                if !a.unrecord.iter().any(|(ds, k)| ds == anchor && *k == key) {
                    changes.push((anchor.clone(), key, None));
                }
            }
        }
        for (ds, key) in &self.plan.forget {
            changes.push((ds.clone(), key.clone(), None));
        }
        self.properties(&changes).await
    }

    async fn unrecord_deleted(&mut self) -> Result<(), String> {
        let mut changes = Vec::new();
        for (i, a) in self.plan.actions.iter().enumerate() {
            if a.op == Op::Delete && self.outcomes[i].status == Status::Done {
                for (ds, key) in &a.unrecord {
                    changes.push((ds.clone(), key.clone(), None));
                }
            }
        }
        self.properties(&changes).await
    }
}

/// Applies every system's plan at once; results in the order of `plans`.
pub async fn apply_all<R: Runner + 'static>(
    work: Vec<(Arc<Client<R>>, SystemPlan)>,
    project: &str,
    report: Arc<dyn Report>,
) -> Vec<SystemOutcome> {
    let mut set = tokio::task::JoinSet::new();
    let n = work.len();
    let names: Vec<String> = work.iter().map(|(_, p)| p.system.clone()).collect();
    for (i, (client, plan)) in work.into_iter().enumerate() {
        let project = project.to_string();
        let report = Arc::clone(&report);
        set.spawn(async move {
            (
                i,
                apply_system(&client, &project, &plan, report.as_ref()).await,
            )
        });
    }
    let mut out: Vec<Option<SystemOutcome>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, o)) = joined
            && let Some(slot) = out.get_mut(i)
        {
            *slot = Some(o);
        }
    }
    out.into_iter()
        .zip(names)
        .map(|(o, system)| {
            o.unwrap_or(SystemOutcome {
                system,
                actions: vec![],
                error: Some("the apply of this system stopped unexpectedly".into()),
                round_trips: 0,
            })
        })
        .collect()
}
