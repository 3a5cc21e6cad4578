//! Carries out a plan: per system, in stages (service, pending ownership marks, snapshot
//! tasks, one-time snapshots, replications, ownership records, deletions), the calls of
//! one stage in one round trip; systems in parallel. A failure stops the rest of that
//! system; the others go on.

pub mod connect;
pub mod lock;
pub mod payload;
pub mod run;

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
    /// Ids of the objects of done actions, by action index (new ones included).
    #[serde(skip)]
    pub ids: BTreeMap<usize, i64>,
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
    /// Ids of connections made by the connection phase, by name.
    conn_ids: BTreeMap<String, i64>,
    /// Ids of objects created here, by action index.
    created: BTreeMap<usize, i64>,
    stopped: bool,
}

/// How apply guards a system.
#[derive(Debug, Clone)]
pub struct Options {
    pub project: String,
    /// How long to wait for another apply's lock.
    pub lock_wait: std::time::Duration,
    /// The pause between writing the lock and reading it back.
    pub lock_settle: std::time::Duration,
}

/// What the connection phase already did for one system.
#[derive(Debug, Clone, Default)]
pub struct Done {
    /// Outcomes of actions carried out already, by index.
    pub outcomes: BTreeMap<usize, ActionOutcome>,
    /// Ids of connections made, by name.
    pub connections: BTreeMap<String, i64>,
}

impl Options {
    pub fn new(project: &str) -> Options {
        Options {
            project: project.to_string(),
            lock_wait: std::time::Duration::from_secs(120),
            lock_settle: std::time::Duration::from_millis(300),
        }
    }
}

fn outcome_of(plan: &SystemPlan, error: String, round_trips: u64) -> SystemOutcome {
    SystemOutcome {
        system: plan.system.clone(),
        actions: plan
            .actions
            .iter()
            .map(|a| ActionOutcome {
                label: a.subject.label(),
                op: a.op,
                status: Status::Skipped,
                error: None,
            })
            .collect(),
        error: Some(error),
        round_trips,
        ids: BTreeMap::new(),
    }
}

/// Takes the system's lock and checks that its live state is still the one the plan was
/// made from; on success the caller must [`unlock`] it.
pub async fn lock_and_check<R: Runner>(
    client: &Client<R>,
    plan: &SystemPlan,
    options: &Options,
    me: &lock::Holder,
    report: &dyn Report,
) -> Result<(), String> {
    let Some(ds) = plan.lock_dataset.clone() else {
        return Err("the system has no pool to hold zfleet's lock".into());
    };
    report.stage(&plan.system, "taking the lock");
    if let Some(note) =
        lock::acquire(client, &ds, me, options.lock_wait, options.lock_settle).await?
    {
        report.stage(&plan.system, &note);
    }
    if let Err(e) = still_current(client, plan).await {
        let _ = lock::release(client, &ds, me).await;
        return Err(e);
    }
    Ok(())
}

/// Gives the system's lock back.
pub async fn unlock<R: Runner>(
    client: &Client<R>,
    plan: &SystemPlan,
    me: &lock::Holder,
) -> Result<(), String> {
    match &plan.lock_dataset {
        Some(ds) => lock::release(client, ds, me)
            .await
            .map_err(|e| format!("the lock on {ds} could not be released: {e}")),
        None => Ok(()),
    }
}

/// Whether the system still is as the plan saw it.
async fn still_current<R: Runner>(client: &Client<R>, plan: &SystemPlan) -> Result<(), String> {
    let Some(then) = &plan.state else {
        return Err("the plan does not know this system's state".into());
    };
    // The digest leaves snapshots out, so the one-time snapshots to take are looked at
    // here: another apply may have taken them since (and would be duplicated).
    let planned: Vec<(&str, &str)> = plan
        .actions
        .iter()
        .filter_map(|a| match (&a.subject, a.op) {
            (
                Subject::Snapshot {
                    dataset,
                    naming_schema,
                    ..
                },
                Op::Create,
            ) => Some((dataset.as_str(), naming_schema.as_str())),
            _ => None,
        })
        .collect();
    let scope = crate::inventory::SnapshotScope::Below(
        planned.iter().map(|(ds, _)| ds.to_string()).collect(),
    );
    let inv = crate::inventory::read_scoped(client, &scope)
        .await
        .map_err(|p| p.message)?;
    let now = crate::plan::digest::StateDigest::of(&inv);
    let mut moved = then.moved(&now);
    let taken = planned.iter().any(|(ds, schema)| {
        inv.snapshots_of(ds)
            .any(|name| crate::model::naming::parse(schema, name).is_some())
    });
    if taken {
        moved.push("one-time snapshots");
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "its live state moved since the plan was made ({}); nothing was changed here: run `zfleet plan` again",
            moved.join(", ")
        ))
    }
}

/// Carries out one system's actions.
async fn run_system<R: Runner>(
    client: &Client<R>,
    project: &str,
    plan: &SystemPlan,
    done: &Done,
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
        conn_ids: done.connections.clone(),
        created: BTreeMap::new(),
        stopped: false,
    };
    for (i, o) in &done.outcomes {
        if let Some(slot) = run.outcomes.get_mut(*i) {
            *slot = o.clone();
        }
    }
    let mut error = None;
    let stages: [(&str, Pick); 7] = [
        ("SSH service", |a| {
            matches!(a.subject, Subject::SshService { .. })
        }),
        ("snapshot tasks", |a| {
            matches!(a.subject, Subject::SnapshotTask { .. }) && a.op != Op::Delete
        }),
        ("snapshots", |a| {
            matches!(a.subject, Subject::Snapshot { .. })
        }),
        ("replications", |a| {
            matches!(a.subject, Subject::Replication { .. }) && a.op != Op::Delete
        }),
        ("", |_| false),
        ("deleting replications", |a| {
            matches!(a.subject, Subject::Replication { .. }) && a.op == Op::Delete
        }),
        ("deleting snapshot tasks", |a| {
            matches!(a.subject, Subject::SnapshotTask { .. }) && a.op == Op::Delete
        }),
    ];
    // Pending marks first, so an interruption after a create is recognised next time.
    if let Err(e) = run.mark_pending().await {
        error = Some(e);
        run.stopped = true;
    }
    for (i, (what, pick)) in stages.iter().enumerate() {
        if run.stopped {
            break;
        }
        if i == 4 {
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
    let mut ids = run.created.clone();
    for (i, a) in plan.actions.iter().enumerate() {
        if let (Some(id), Status::Done) = (a.id, &run.outcomes[i].status) {
            ids.entry(i).or_insert(id);
        }
    }
    SystemOutcome {
        system: plan.system.clone(),
        actions: run.outcomes,
        error,
        round_trips: client.round_trips() - before,
        ids,
    }
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
            match payload::calls(a, version.as_ref(), &self.task_ids, &self.conn_ids) {
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
                if a.op == Op::Create {
                    // The mark written before the create has served its purpose.
                    changes.push((
                        anchor.clone(),
                        ledger::pending_key(self.project, kind, &name),
                        None,
                    ));
                }
            }
            for (ds, key) in &a.unrecord {
                changes.push((ds.clone(), key.clone(), None));
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

/// Applies every system's plan at once; results in the order of `work`. Every system is
/// locked and checked first; then the SSH connections that span two systems are made;
/// then each system runs its stages; then the locks are released.
pub async fn apply_all<R: Runner + 'static>(
    work: Vec<(Arc<Client<R>>, SystemPlan)>,
    options: &Options,
    report: Arc<dyn Report>,
) -> Vec<SystemOutcome> {
    let me = lock::Holder::new(&options.project);
    let before: Vec<u64> = work.iter().map(|(c, _)| c.round_trips()).collect();
    let locked = join_all(work.iter().map(|(client, plan)| {
        let (client, plan, options, me, report) = (
            Arc::clone(client),
            plan.clone(),
            options.clone(),
            me.clone(),
            Arc::clone(&report),
        );
        async move { lock_and_check(&client, &plan, &options, &me, report.as_ref()).await }
    }))
    .await;
    let held: Vec<bool> = locked.iter().map(Result::is_ok).collect();
    let ready: Vec<(Arc<Client<R>>, SystemPlan)> = work
        .iter()
        .zip(&locked)
        .filter(|(_, l)| l.is_ok())
        .map(|((c, p), _)| (Arc::clone(c), p.clone()))
        .collect();
    let made = connect::connect_all(&ready, report.as_ref()).await;
    let outcomes = join_all(work.iter().zip(locked).map(|((client, plan), l)| {
        let (client, plan, report) = (Arc::clone(client), plan.clone(), Arc::clone(&report));
        let project = options.project.clone();
        let mut done = Done::default();
        for ((system, index), o) in &made.outcomes {
            if *system == plan.system {
                done.outcomes.insert(*index, o.clone());
            }
        }
        for ((system, name), id) in &made.ids {
            if *system == plan.system {
                done.connections.insert(name.clone(), *id);
            }
        }
        async move {
            if let Err(e) = l {
                return outcome_of(&plan, e, 0);
            }
            if done.outcomes.values().any(|o| o.status == Status::Failed) {
                // Its replications would need what failed: nothing more here.
                let mut out = outcome_of(&plan, "an SSH connection could not be set up".into(), 0);
                for (i, o) in done.outcomes {
                    if let Some(slot) = out.actions.get_mut(i) {
                        *slot = o;
                    }
                }
                return out;
            }
            run_system(&client, &project, &plan, &done, report.as_ref()).await
        }
    }))
    .await;
    let mut outcomes = outcomes;
    let released = join_all(work.iter().zip(held).map(|((client, plan), held)| {
        let (client, plan, me) = (Arc::clone(client), plan.clone(), me.clone());
        async move {
            if held {
                unlock(&client, &plan, &me).await
            } else {
                Ok(())
            }
        }
    }))
    .await;
    for ((o, r), ((client, _), b)) in outcomes
        .iter_mut()
        .zip(released)
        .zip(work.iter().zip(before))
    {
        if let Err(e) = r {
            o.error.get_or_insert(e);
        }
        o.round_trips = client.round_trips() - b;
    }
    outcomes
}

/// Runs futures concurrently on the runtime; results in their order.
pub(crate) async fn join_all<T: Send + 'static>(
    futures: impl IntoIterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let mut set = tokio::task::JoinSet::new();
    let mut n = 0;
    for (i, f) in futures.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
        n += 1;
    }
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((i, v)) = joined
            && let Some(slot) = out.get_mut(i)
        {
            *slot = Some(v);
        }
    }
    out.into_iter().flatten().collect()
}
