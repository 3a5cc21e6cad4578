//! SSH connections between systems, made before the per-system stages because they span
//! two systems: on the system that runs the replication, the other end's host key is
//! scanned and compared with the one zfleet itself verified, then `setup_ssh_connection`
//! generates a key pair there (its private key never leaves that system) and pins the host
//! key; the new public key is appended to the login user's authorized keys on the other
//! end (read, append, write back; other keys are kept), and the connection is proven with
//! `replication.list_datasets` before any task uses it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{ActionOutcome, Report, Status};
use crate::client::Client;
use crate::plan::build::key_set;
use crate::plan::{Subject, SystemPlan};
use crate::transport::{MidcltCall, Runner};

/// What the phase did: outcomes by (system, action index), new connection ids by
/// (system, connection name).
#[derive(Default)]
pub struct Made {
    pub outcomes: BTreeMap<(String, usize), ActionOutcome>,
    pub ids: BTreeMap<(String, String), i64>,
}

async fn one<R: Runner>(client: &Client<R>, call: MidcltCall) -> Result<Value, String> {
    client
        .call(&call.method, call.args)
        .await
        .map_err(|e| e.to_string())
}

/// Appends `key` to the authorized keys of user `user_id` unless it is there already.
async fn authorise<R: Runner>(client: &Client<R>, user_id: i64, key: &str) -> Result<(), String> {
    let users = one(
        client,
        MidcltCall::new(
            "user.query",
            vec![
                json!([["id", "=", user_id]]),
                json!({"select": ["id", "sshpubkey"]}),
            ],
        ),
    )
    .await?;
    let current = users
        .get(0)
        .and_then(|u| u.get("sshpubkey"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if key_set(key).is_subset(&key_set(&current)) {
        return Ok(());
    }
    let merged = if current.is_empty() {
        key.trim().to_string()
    } else {
        format!("{current}\n{}", key.trim())
    };
    one(
        client,
        MidcltCall::new(
            "user.update",
            vec![json!(user_id), json!({"sshpubkey": merged})],
        ),
    )
    .await?;
    Ok(())
}

struct Ends<'a, R> {
    on: &'a Client<R>,
    there: &'a Client<R>,
    lock: Arc<Mutex<()>>,
}

#[allow(clippy::too_many_arguments)]
async fn make<R: Runner>(
    ends: &Ends<'_, R>,
    name: &str,
    host: &str,
    port: u16,
    username: &str,
    host_keys: &str,
    user_id: i64,
) -> Result<i64, String> {
    let scanned = one(
        ends.on,
        MidcltCall::new(
            "keychaincredential.remote_ssh_host_key_scan",
            vec![json!({"host": host, "port": port})],
        ),
    )
    .await?;
    let scanned = scanned.as_str().unwrap_or("").to_string();
    if key_set(&scanned).is_disjoint(&key_set(host_keys)) {
        return Err(format!(
            "{host}:{port}, as seen from this system, presents other host keys than the system zfleet verified; check the address (`replication_address:`)"
        ));
    }
    let made = one(
        ends.on,
        MidcltCall::new(
            "keychaincredential.setup_ssh_connection",
            vec![json!({
                "setup_type": "MANUAL",
                "connection_name": name,
                "private_key": {"generate_key": true, "name": format!("{name} key")},
                "manual_setup": {
                    "host": host,
                    "port": port,
                    "username": username,
                    "remote_host_key": host_keys,
                },
            })],
        ),
    )
    .await?;
    let id = made
        .get("id")
        .and_then(Value::as_i64)
        .ok_or("no connection id")?;
    let pair = made
        .get("attributes")
        .and_then(|a| a.get("private_key"))
        .and_then(Value::as_i64)
        .ok_or("no key pair id")?;
    let pairs = one(
        ends.on,
        MidcltCall::new(
            "keychaincredential.query",
            vec![
                json!([["id", "=", pair]]),
                json!({"select": ["id", "attributes.public_key"]}),
            ],
        ),
    )
    .await?;
    let public = pairs
        .get(0)
        .and_then(|k| k.get("attributes"))
        .and_then(|a| a.get("public_key"))
        .and_then(Value::as_str)
        .ok_or("the new key pair has no public key")?
        .to_string();
    {
        let _one_writer = ends.lock.lock().await;
        authorise(ends.there, user_id, &public).await?;
    }
    one(
        ends.on,
        MidcltCall::new("replication.list_datasets", vec![json!("SSH"), json!(id)]),
    )
    .await
    .map_err(|e| format!("the new connection does not work: {e}"))?;
    Ok(id)
}

/// Makes every planned connection and authorises every planned key.
pub async fn connect_all<R: Runner + 'static>(
    work: &[(Arc<Client<R>>, SystemPlan)],
    report: &dyn Report,
) -> Made {
    let mut made = Made::default();
    let client_of = |name: &str| work.iter().find(|(_, p)| p.system == name).map(|(c, _)| c);
    let mut locks: BTreeMap<String, Arc<Mutex<()>>> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (on_client, plan) in work {
        for (i, a) in plan.actions.iter().enumerate() {
            match &a.subject {
                Subject::Connection {
                    name,
                    remote,
                    host,
                    port,
                    username,
                    host_keys,
                } => {
                    // The matching key action on the other end.
                    let key_action =
                        work.iter()
                            .find(|(_, p)| &p.system == remote)
                            .and_then(|(_, p)| {
                                p.actions
                                    .iter()
                                    .enumerate()
                                    .find_map(|(j, x)| match &x.subject {
                                        Subject::AuthorizedKey {
                                            from,
                                            connection,
                                            user_id,
                                            ..
                                        } if *from == plan.system && connection == name => {
                                            Some((j, *user_id))
                                        }
                                        _ => None,
                                    })
                            });
                    jobs.push((
                        plan.system.clone(),
                        i,
                        remote.clone(),
                        key_action,
                        name.clone(),
                        host.clone(),
                        *port,
                        username.clone(),
                        host_keys.clone(),
                        Arc::clone(on_client),
                    ));
                }
                Subject::AuthorizedKey {
                    key: Some(key),
                    user_id,
                    ..
                } => {
                    let lock = Arc::clone(locks.entry(plan.system.clone()).or_default());
                    let _one_writer = lock.lock().await;
                    report.stage(&plan.system, "authorising a key");
                    let r = authorise(on_client, *user_id, key).await;
                    made.outcomes.insert(
                        (plan.system.clone(), i),
                        outcome(a.subject.label(), a.op, r),
                    );
                }
                _ => {}
            }
        }
    }
    for (system, i, remote, key_action, name, host, port, username, host_keys, on) in jobs {
        let label = format!("SSH connection {name} to {remote}");
        let r = match (client_of(&remote), key_action) {
            (Some(there), Some((_, user_id))) => {
                report.stage(&system, &format!("making {label}"));
                let lock = Arc::clone(locks.entry(remote.clone()).or_default());
                let ends = Ends {
                    on: &on,
                    there,
                    lock,
                };
                make(&ends, &name, &host, port, &username, &host_keys, user_id).await
            }
            _ => Err(format!("{remote} is not part of this apply")),
        };
        if let (Ok(id), _) = (&r, ()) {
            made.ids.insert((system.clone(), name.clone()), *id);
        }
        if let Some((j, _)) = key_action {
            let key_label = format!("authorized key of {system} for user {username}");
            let key_r = r.as_ref().map(|_| ()).map_err(|e| e.clone());
            made.outcomes.insert(
                (remote.clone(), j),
                outcome(key_label, crate::plan::Op::Update, key_r),
            );
        }
        made.outcomes.insert(
            (system, i),
            outcome(label, crate::plan::Op::Create, r.map(|_| ())),
        );
    }
    made
}

fn outcome(label: String, op: crate::plan::Op, r: Result<(), String>) -> ActionOutcome {
    match r {
        Ok(()) => ActionOutcome {
            label,
            op,
            status: Status::Done,
            error: None,
        },
        Err(e) => ActionOutcome {
            label,
            op,
            status: Status::Failed,
            error: Some(e),
        },
    }
}
