//! Typed calls: what the reconciler, `apply` and the operations need, with method names and
//! fields chosen by the system's version.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::error::{ApiError, ClientError};
use super::types::*;
use super::{Client, decode};

use crate::transport::{MidcltCall, Runner};

/// Fields read from `pool.dataset.query` (the rest of each entry is never fetched).
pub const DATASET_SELECT: &[&str] = &[
    "id",
    "type",
    "pool",
    "encrypted",
    "locked",
    "readonly",
    "user_properties",
];

/// Fields read from `user.query`; `select` skips keys a version lacks.
pub const USER_SELECT: &[&str] = &[
    "id",
    "uid",
    "username",
    "home",
    "shell",
    "sshpubkey",
    "locked",
    "sudo_commands_nopasswd",
];

/// Fields read from `keychaincredential.query` for SSH connections: all their attributes,
/// none of them secret (`private_key` there is the id of a key pair).
pub const KEYCHAIN_CONNECTION_SELECT: &[&str] = &["id", "name", "type", "attributes"];

/// Fields read for key pairs (and any other type): the public key, never the private one.
/// CORE 13's `select` keeps top-level fields only, so there no attributes come back and a
/// key pair's public key stays unknown; 24.04 and later select nested fields.
pub const KEYCHAIN_KEY_PAIR_SELECT: &[&str] = &["id", "name", "type", "attributes.public_key"];

/// A periodic snapshot task as sent to create/update: always every field, so 24.x's
/// required fields are met and an update never resets a field by omission.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SnapshotTaskInput {
    pub dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub lifetime_value: i64,
    pub lifetime_unit: String,
    pub naming_schema: String,
    /// All seven keys, `begin`/`end` included.
    pub schedule: Schedule,
    pub allow_empty: bool,
    pub enabled: bool,
    /// Update data key and delete option (24.04 and later): the snapshots whose retention
    /// the change moves keep the removal date they had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixate_removal_date: Option<bool>,
}

impl From<&crate::model::SnapshotTask> for SnapshotTaskInput {
    fn from(t: &crate::model::SnapshotTask) -> Self {
        SnapshotTaskInput {
            dataset: t.dataset.clone(),
            recursive: t.recursive,
            exclude: t.exclude.clone(),
            lifetime_value: i64::from(t.lifetime.value),
            lifetime_unit: unit_name(t.lifetime.unit).to_string(),
            naming_schema: t.naming_schema.clone(),
            schedule: Schedule::from(&t.schedule),
            allow_empty: t.allow_empty,
            enabled: t.enabled,
            fixate_removal_date: None,
        }
    }
}

pub(crate) fn unit_name(u: crate::model::LifetimeUnit) -> &'static str {
    use crate::model::LifetimeUnit::*;
    match u {
        Hour => "HOUR",
        Day => "DAY",
        Week => "WEEK",
        Month => "MONTH",
        Year => "YEAR",
    }
}

/// A replication task as sent to create/update. Fields a version lacks are `None` and left
/// out; setting one on such a version is refused before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplicationInput {
    pub name: String,
    pub direction: String,
    pub transport: String,
    pub ssh_credentials: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sudo: Option<bool>,
    pub source_datasets: Vec<String>,
    pub target_dataset: String,
    pub recursive: bool,
    pub exclude: Vec<String>,
    pub properties: bool,
    pub properties_exclude: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties_override: Option<BTreeMap<String, String>>,
    pub replicate: bool,
    pub periodic_snapshot_tasks: Vec<i64>,
    pub naming_schema: Vec<String>,
    pub also_include_naming_schema: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_regex: Option<String>,
    pub auto: bool,
    pub schedule: Option<Schedule>,
    pub only_matching_schedule: bool,
    pub allow_from_scratch: bool,
    pub readonly: String,
    pub hold_pending_snapshots: bool,
    pub retention_policy: String,
    pub lifetime_value: Option<i64>,
    pub lifetime_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetimes: Option<Vec<ReplicationLifetime>>,
    pub compression: Option<String>,
    pub speed_limit: Option<i64>,
    pub large_block: bool,
    pub embed: bool,
    pub compressed: bool,
    pub retries: i64,
    pub enabled: bool,
}

impl ReplicationInput {
    /// TrueNAS's defaults for everything but the required fields.
    pub fn new(
        name: impl Into<String>,
        direction: &str,
        transport: &str,
        source_datasets: Vec<String>,
        target_dataset: impl Into<String>,
    ) -> Self {
        ReplicationInput {
            name: name.into(),
            direction: direction.into(),
            transport: transport.into(),
            ssh_credentials: None,
            sudo: None,
            source_datasets,
            target_dataset: target_dataset.into(),
            recursive: false,
            exclude: vec![],
            properties: true,
            properties_exclude: vec![],
            properties_override: None,
            replicate: false,
            periodic_snapshot_tasks: vec![],
            naming_schema: vec![],
            also_include_naming_schema: vec![],
            name_regex: None,
            auto: true,
            schedule: None,
            only_matching_schedule: false,
            allow_from_scratch: false,
            readonly: "SET".into(),
            hold_pending_snapshots: false,
            retention_policy: "SOURCE".into(),
            lifetime_value: None,
            lifetime_unit: None,
            lifetimes: None,
            compression: None,
            speed_limit: None,
            large_block: true,
            embed: false,
            compressed: true,
            retries: 5,
            enabled: true,
        }
    }

    /// Names of set fields that `version` does not have.
    pub fn unsupported_fields(&self, version: &super::Version) -> Vec<&'static str> {
        let set: [(&'static str, bool); 5] = [
            ("sudo", self.sudo.is_some()),
            ("name_regex", self.name_regex.is_some()),
            ("lifetimes", self.lifetimes.is_some()),
            ("properties_override", self.properties_override.is_some()),
            ("encryption_inherit", false),
        ];
        set.into_iter()
            .filter(|(f, is_set)| *is_set && !version.has_replication_field(f))
            .map(|(f, _)| f)
            .collect()
    }
}

/// An SSH connection (SSH_CREDENTIALS keychain entry) to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SshCredentialsInput {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    /// Id of the SSH_KEY_PAIR entry on the same system.
    pub private_key: i64,
    /// `type base64` lines, as `remote_ssh_host_key_scan` returns them.
    pub remote_host_key: String,
    pub connect_timeout: i64,
}

fn empty_query() -> Vec<Value> {
    vec![]
}

/// The calls [`Client`] makes, as data: inventory batches them.
pub mod calls {
    use super::*;

    pub fn system_version() -> MidcltCall {
        MidcltCall::new("system.version", vec![])
    }

    pub fn system_info() -> MidcltCall {
        MidcltCall::new("system.info", vec![])
    }

    pub fn datasets() -> MidcltCall {
        MidcltCall::new(
            "pool.dataset.query",
            vec![
                json!([]),
                json!({
                    "select": DATASET_SELECT,
                    "extra": {"flat": true, "properties": ["readonly"], "retrieve_user_props": true}
                }),
            ],
        )
    }

    /// Names of all snapshots (the `select: ["name"]` fast path skips properties).
    pub fn snapshot_names(version: &super::super::Version) -> MidcltCall {
        MidcltCall::new(
            format!("{}.query", version.snapshot_namespace()),
            vec![json!([]), json!({"select": ["name"]})],
        )
    }

    /// Names of the snapshots of `datasets` only: a system holding 200,000 snapshots
    /// costs what these datasets hold (`dataset in` + `select: ["name"]` is the fast path).
    pub fn snapshot_names_of(version: &super::super::Version, datasets: &[String]) -> MidcltCall {
        MidcltCall::new(
            format!("{}.query", version.snapshot_namespace()),
            vec![
                json!([["dataset", "in", datasets]]),
                json!({"select": ["name"]}),
            ],
        )
    }

    pub fn snapshot_tasks() -> MidcltCall {
        MidcltCall::new("pool.snapshottask.query", empty_query())
    }

    pub fn replications() -> MidcltCall {
        MidcltCall::new("replication.query", empty_query())
    }

    pub fn ssh_service() -> MidcltCall {
        MidcltCall::new("service.query", vec![json!([["service", "=", "ssh"]])])
    }

    pub fn ssh_config() -> MidcltCall {
        MidcltCall::new("ssh.config", vec![])
    }

    /// The keychain without a single private key: SSH connections whole, and every other
    /// entry (key pairs) with its public key only. Merge the answers with
    /// [`merge_keychain`](super::merge_keychain).
    pub fn keychain() -> [MidcltCall; 2] {
        [
            MidcltCall::new(
                "keychaincredential.query",
                vec![
                    json!([["type", "=", "SSH_CREDENTIALS"]]),
                    json!({"select": KEYCHAIN_CONNECTION_SELECT}),
                ],
            ),
            MidcltCall::new(
                "keychaincredential.query",
                vec![
                    json!([["type", "!=", "SSH_CREDENTIALS"]]),
                    json!({"select": KEYCHAIN_KEY_PAIR_SELECT}),
                ],
            ),
        ]
    }

    pub fn users() -> MidcltCall {
        MidcltCall::new(
            "user.query",
            vec![json!([]), json!({"select": USER_SELECT})],
        )
    }

    pub fn job(id: i64) -> MidcltCall {
        MidcltCall::new("core.get_jobs", vec![json!([["id", "=", id]])])
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Serialising plain structs of strings, numbers and maps cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Reads `[row]` (a filtered query) as its single row.
fn single<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, ApiError> {
    let mut rows: Vec<T> = decode(v)?;
    if rows.len() != 1 {
        return Err(ApiError::NotFound(format!(
            "{what}: {} matches",
            rows.len()
        )));
    }
    rows.pop()
        .ok_or_else(|| ApiError::NotFound(what.to_string()))
}

fn as_bool(method: &str, v: Value) -> Result<bool, ApiError> {
    v.as_bool()
        .ok_or_else(|| ApiError::Unparsable(format!("{method}: expected True or False")))
}

fn as_id(v: &Value) -> Result<i64, ApiError> {
    v.as_i64()
        .ok_or_else(|| ApiError::Unparsable("expected a job id".into()))
}

impl<R: Runner> Client<R> {
    async fn decoded<T: serde::de::DeserializeOwned>(
        &self,
        call: MidcltCall,
    ) -> Result<T, ClientError> {
        self.call_as(&call.method, call.args).await
    }

    pub async fn system_info(&self) -> Result<SystemInfo, ClientError> {
        self.decoded(calls::system_info()).await
    }

    pub async fn datasets(&self) -> Result<Vec<Dataset>, ClientError> {
        self.decoded(calls::datasets()).await
    }

    /// Names of every snapshot on the system (`pool/ds@name`).
    pub async fn snapshot_names(&self) -> Result<Vec<String>, ClientError> {
        let v = self.version().await?;
        let call = calls::snapshot_names(&v);
        let rows: Vec<NameRow> = self.decoded(call).await?;
        Ok(rows.into_iter().map(|r| r.name).collect())
    }

    /// Takes a snapshot now; returns its full name.
    pub async fn snapshot_create(
        &self,
        dataset: &str,
        naming_schema: &str,
        recursive: bool,
    ) -> Result<String, ClientError> {
        let v = self.version().await?;
        let method = format!("{}.create", v.snapshot_namespace());
        let args = vec![
            json!({"dataset": dataset, "naming_schema": naming_schema, "recursive": recursive}),
        ];
        let out = self.call(&method, args).await?;
        out.get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| self.error(&method, ApiError::Unparsable("no snapshot name".into())))
    }

    pub async fn snapshot_tasks(&self) -> Result<Vec<SnapshotTask>, ClientError> {
        self.decoded(calls::snapshot_tasks()).await
    }

    pub async fn snapshot_task_create(
        &self,
        task: &SnapshotTaskInput,
    ) -> Result<SnapshotTask, ClientError> {
        self.decoded(MidcltCall::new(
            "pool.snapshottask.create",
            vec![to_value(task)],
        ))
        .await
    }

    pub async fn snapshot_task_update(
        &self,
        id: i64,
        task: &SnapshotTaskInput,
    ) -> Result<SnapshotTask, ClientError> {
        self.decoded(MidcltCall::new(
            "pool.snapshottask.update",
            vec![json!(id), to_value(task)],
        ))
        .await
    }

    pub async fn snapshot_task_delete(&self, id: i64) -> Result<(), ClientError> {
        let method = "pool.snapshottask.delete";
        let v = self.call(method, vec![json!(id)]).await?;
        as_bool(method, v).map_err(|e| self.error(method, e))?;
        Ok(())
    }

    /// Queues a run (not a job: returns at once).
    pub async fn snapshot_task_run(&self, id: i64) -> Result<(), ClientError> {
        self.call("pool.snapshottask.run", vec![json!(id)]).await?;
        Ok(())
    }

    pub async fn replications(&self) -> Result<Vec<Replication>, ClientError> {
        self.decoded(calls::replications()).await
    }

    async fn check_replication_fields(
        &self,
        method: &str,
        input: &ReplicationInput,
    ) -> Result<(), ClientError> {
        let v = self.version().await?;
        let missing = input.unsupported_fields(&v);
        if missing.is_empty() {
            return Ok(());
        }
        Err(self.error(
            method,
            ApiError::Unsupported(format!(
                "{} lacks replication field(s) {}",
                v.label(),
                missing.join(", ")
            )),
        ))
    }

    pub async fn replication_create(
        &self,
        input: &ReplicationInput,
    ) -> Result<Replication, ClientError> {
        self.check_replication_fields("replication.create", input)
            .await?;
        self.decoded(MidcltCall::new("replication.create", vec![to_value(input)]))
            .await
    }

    pub async fn replication_update(
        &self,
        id: i64,
        input: &ReplicationInput,
    ) -> Result<Replication, ClientError> {
        self.check_replication_fields("replication.update", input)
            .await?;
        self.decoded(MidcltCall::new(
            "replication.update",
            vec![json!(id), to_value(input)],
        ))
        .await
    }

    pub async fn replication_delete(&self, id: i64) -> Result<(), ClientError> {
        let method = "replication.delete";
        let v = self.call(method, vec![json!(id)]).await?;
        as_bool(method, v).map_err(|e| self.error(method, e))?;
        Ok(())
    }

    /// Starts a run; returns the job id (follow it with [`Client::wait_job`]).
    pub async fn replication_run(&self, id: i64) -> Result<i64, ClientError> {
        let method = "replication.run";
        let v = self.call(method, vec![json!(id)]).await?;
        as_id(&v).map_err(|e| self.error(method, e))
    }

    pub async fn ssh_service(&self) -> Result<ServiceStatus, ClientError> {
        let call = calls::ssh_service();
        let v = self.call(&call.method, call.args).await?;
        single(v, "ssh service").map_err(|e| self.error("service.query", e))
    }

    /// Turns "start on boot" on or off.
    pub async fn ssh_service_enable(&self, enable: bool) -> Result<(), ClientError> {
        self.call(
            "service.update",
            vec![json!("ssh"), json!({"enable": enable})],
        )
        .await?;
        Ok(())
    }

    /// Starts sshd: `service.control` job on 25.10+, `service.start` before.
    pub async fn ssh_service_start(&self) -> Result<(), ClientError> {
        let v = self.version().await?;
        let (method, started) = if v.service_control_is_job() {
            let method = "service.control";
            let id = self
                .call(method, vec![json!("START"), json!("ssh"), json!({})])
                .await
                .and_then(|v| as_id(&v).map_err(|e| self.error(method, e)))?;
            let job = self.wait_job(id, |_| {}).await?;
            (method, job.result.as_bool().unwrap_or(true))
        } else {
            let method = "service.start";
            let r = self.call(method, vec![json!("ssh")]).await?;
            (
                method,
                as_bool(method, r).map_err(|e| self.error(method, e))?,
            )
        };
        if started {
            Ok(())
        } else {
            Err(self.error(
                method,
                ApiError::CallFailed {
                    errname: None,
                    message: "the SSH service did not start".into(),
                },
            ))
        }
    }

    pub async fn ssh_config(&self) -> Result<SshConfig, ClientError> {
        self.decoded(calls::ssh_config()).await
    }

    pub async fn keychain(&self) -> Result<Vec<KeychainCredential>, ClientError> {
        let [connections, others] = calls::keychain();
        let method = connections.method.clone();
        let mut replies = self
            .batch(&[connections, others])
            .await?
            .into_iter()
            .map(|r| {
                r.and_then(|reply| reply.decode::<Vec<KeychainCredential>>())
                    .map_err(|e| self.error(&method, e))
            });
        let mut next = || {
            replies.next().unwrap_or_else(|| {
                Err(self.error(&method, ApiError::Unparsable("no answer".into())))
            })
        };
        let connections = next()?;
        let others = next()?;
        Ok(merge_keychain(connections, others))
    }

    /// A new RSA key pair, generated on the system.
    pub async fn generate_ssh_key_pair(&self) -> Result<GeneratedKeyPair, ClientError> {
        let method = "keychaincredential.generate_ssh_key_pair";
        let v = self.call(method, vec![]).await?;
        let get = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match (get("private_key"), get("public_key")) {
            (Some(private_key), Some(public_key)) => Ok(GeneratedKeyPair {
                private_key,
                public_key,
            }),
            _ => Err(self.error(method, ApiError::Unparsable("no key pair".into()))),
        }
    }

    /// Stores a generated key pair in the system's keychain; returns the entry.
    pub async fn keychain_create_key_pair(
        &self,
        name: &str,
        pair: &GeneratedKeyPair,
    ) -> Result<KeychainCredential, ClientError> {
        let data = json!({
            "name": name,
            "type": "SSH_KEY_PAIR",
            "attributes": {"private_key": pair.private_key, "public_key": pair.public_key},
        });
        self.decoded(MidcltCall::new("keychaincredential.create", vec![data]))
            .await
    }

    pub async fn keychain_create_ssh_credentials(
        &self,
        input: &SshCredentialsInput,
    ) -> Result<KeychainCredential, ClientError> {
        let data = json!({
            "name": input.name,
            "type": "SSH_CREDENTIALS",
            "attributes": {
                "host": input.host,
                "port": input.port,
                "username": input.username,
                "private_key": input.private_key,
                "remote_host_key": input.remote_host_key,
                "connect_timeout": input.connect_timeout,
            },
        });
        self.decoded(MidcltCall::new("keychaincredential.create", vec![data]))
            .await
    }

    pub async fn keychain_delete(&self, id: i64) -> Result<(), ClientError> {
        self.call("keychaincredential.delete", vec![json!(id)])
            .await?;
        Ok(())
    }

    /// The host keys of `host:port` as seen from this system (`type base64` lines).
    pub async fn remote_ssh_host_key_scan(
        &self,
        host: &str,
        port: u16,
    ) -> Result<String, ClientError> {
        let method = "keychaincredential.remote_ssh_host_key_scan";
        let v = self
            .call(method, vec![json!({"host": host, "port": port})])
            .await?;
        match v {
            Value::String(s) => Ok(s),
            _ => Err(self.error(method, ApiError::Unparsable("expected key lines".into()))),
        }
    }

    pub async fn users(&self) -> Result<Vec<User>, ClientError> {
        self.decoded(calls::users()).await
    }

    /// Replaces the user's `authorized_keys` (`sshpubkey`) with `keys`.
    pub async fn user_set_sshpubkey(&self, id: i64, keys: &str) -> Result<(), ClientError> {
        self.call("user.update", vec![json!(id), json!({"sshpubkey": keys})])
            .await?;
        Ok(())
    }

    pub async fn job(&self, id: i64) -> Result<Job, ClientError> {
        let call = calls::job(id);
        let v = self.call(&call.method, call.args).await?;
        single(v, &format!("job {id}")).map_err(|e| self.error("core.get_jobs", e))
    }

    /// Polls `core.get_jobs` until the job ends, calling `progress` on every change.
    /// FAILED and ABORTED are errors carrying the job's own error text.
    pub async fn wait_job(
        &self,
        id: i64,
        mut progress: impl FnMut(&Job) + Send,
    ) -> Result<Job, ClientError> {
        let mut last: Option<(String, Option<f64>, Option<String>)> = None;
        loop {
            let job = self.job(id).await?;
            let seen = (
                job.state.clone(),
                job.progress.percent,
                job.progress.description.clone(),
            );
            if last.as_ref() != Some(&seen) {
                progress(&job);
                last = Some(seen);
            }
            match job.state.as_str() {
                "SUCCESS" => return Ok(job),
                "FAILED" | "ABORTED" => {
                    // The job's error is the system's text: shown cleaned, like any other.
                    let error = job.error.clone().unwrap_or_else(|| job.state.clone());
                    return Err(self.error(
                        &job.method,
                        ApiError::JobFailed {
                            id,
                            state: job.state.clone(),
                            error: super::shown::clip(&error),
                        },
                    ));
                }
                _ => tokio::time::sleep(self.poll_interval.max(Duration::from_millis(1))).await,
            }
        }
    }
}

/// The two keychain queries' answers as one list by id. Each query's filter is applied here
/// again, so a system that ignored one never yields an entry twice.
pub fn merge_keychain(
    connections: Vec<KeychainCredential>,
    others: Vec<KeychainCredential>,
) -> Vec<KeychainCredential> {
    let is_connection = |c: &KeychainCredential| c.kind() == "SSH_CREDENTIALS";
    let mut all: Vec<KeychainCredential> = connections
        .into_iter()
        .filter(is_connection)
        .chain(others.into_iter().filter(|c| !is_connection(c)))
        .collect();
    all.sort_by_key(|c| c.id);
    all
}

/// One row of a `select: ["name"]` query.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct NameRow {
    pub name: String,
}
