//! Carries out a plan: per system, in stages (service, pending ownership marks, snapshot
//! tasks, one-time snapshots, replications, replication deletions, snapshot tasks being
//! disabled, ownership records, snapshot task deletions), the calls of one stage in one
//! round trip; systems in parallel. A failure stops the rest of that
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

/// Every action of `plan`, none of them carried out yet.
fn skipped(plan: &SystemPlan) -> Vec<ActionOutcome> {
    plan.actions
        .iter()
        .map(|a| ActionOutcome {
            label: a.subject.label(),
            op: a.op,
            status: Status::Skipped,
            error: None,
        })
        .collect()
}

fn outcome_of(plan: &SystemPlan, error: String, round_trips: u64) -> SystemOutcome {
    SystemOutcome {
        system: plan.system.clone(),
        actions: skipped(plan),
        error: Some(error),
        round_trips,
        ids: BTreeMap::new(),
    }
}

/// One attempt at a system's lock, without waiting for another apply.
async fn try_lock<R: Runner>(
    client: &Client<R>,
    plan: &SystemPlan,
    options: &Options,
    me: &lock::Holder,
) -> Result<Option<String>, String> {
    let Some(ds) = plan.lock_dataset.clone() else {
        return Err("the system has no pool to hold zfleet's lock".into());
    };
    lock::acquire(
        client,
        &ds,
        me,
        std::time::Duration::ZERO,
        options.lock_settle,
    )
    .await
}

/// Takes the locks of every system together. An attempt that finds one held by another
/// apply gives back the ones it took and tries again after a random pause, so two applies
/// over overlapping systems never hold one lock each while waiting for the other's. At
/// the deadline, the systems locked go on and the others fail with who holds them.
async fn lock_all<R: Runner + 'static>(
    work: &[(Arc<Client<R>>, SystemPlan)],
    options: &Options,
    me: &lock::Holder,
    report: &Arc<dyn Report>,
) -> Vec<Result<(), String>> {
    let deadline = std::time::Instant::now() + options.lock_wait;
    for (_, plan) in work {
        report.stage(&plan.system, "taking the lock");
    }
    loop {
        let attempts = join_all(work.iter().map(|(client, plan)| {
            let (client, plan, options, me) = (
                Arc::clone(client),
                plan.clone(),
                options.clone(),
                me.clone(),
            );
            async move { try_lock(&client, &plan, &options, &me).await }
        }))
        .await;
        if attempts.iter().all(Result::is_ok) || std::time::Instant::now() >= deadline {
            let waited = options.lock_wait.as_secs();
            return attempts
                .into_iter()
                .zip(work)
                .map(|(a, (_, plan))| match a {
                    Ok(note) => {
                        if let Some(note) = note {
                            report.stage(&plan.system, &note);
                        }
                        Ok(())
                    }
                    Err(e) if e.starts_with("locked by") => {
                        Err(format!("{e}, still after waiting {waited}s (a dead apply's lock expires after an hour; `zfleet apply --break-lock SYSTEM` removes it)"))
                    }
                    Err(e) => Err(e),
                })
                .collect();
        }
        join_all(work.iter().zip(&attempts).filter(|(_, a)| a.is_ok()).map(
            |((client, plan), _)| {
                let (client, plan, me) = (Arc::clone(client), plan.clone(), me.clone());
                async move { unlock(&client, &plan, &me).await }
            },
        ))
        .await;
        let mut r = [0u8; 2];
        let _ = getrandom::fill(&mut r);
        let pause = 200 + u64::from(u16::from_le_bytes(r) % 1000);
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
    }
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
        outcomes: skipped(plan),
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
    let locked = lock_all(&work, options, &me, &report).await;
    // Under the locks: is each system still as planned?
    let locked = join_all(work.iter().zip(locked).map(|((client, plan), l)| {
        let (client, plan, me) = (Arc::clone(client), plan.clone(), me.clone());
        async move {
            l?;
            if let Err(e) = still_current(&client, &plan).await {
                let _ = unlock(&client, &plan, &me).await;
                return Err(e);
            }
            Ok(())
        }
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
