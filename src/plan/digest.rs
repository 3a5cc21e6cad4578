//! A digest of the live state a plan was made from, so that a saved plan is applied only
//! to the state it was made for. Snapshots are left out: periodic tasks add them all the
//! time, and no action depends on their exact list.

use serde::{Deserialize, Serialize};

use super::fields::{Fnv, fingerprint};
use super::spec::{RepSpec, snapshot_task_fields, snapshot_task_input};
use crate::inventory::Inventory;

/// One hash per part of a system's state, so a refusal can say what moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDigest {
    pub version: String,
    pub datasets: String,
    pub ownership: String,
    pub snapshot_tasks: String,
    pub replications: String,
    pub connections: String,
    pub ssh_service: String,
}

fn hash(parts: impl IntoIterator<Item = String>) -> String {
    let mut h = Fnv::new();
    for p in parts {
        h.write(p.as_bytes());
        h.write(&[0]);
    }
    format!("{:016x}", h.finish())
}

impl StateDigest {
    pub fn of(inv: &Inventory) -> StateDigest {
        let mut datasets: Vec<String> = inv
            .datasets
            .iter()
            .map(|d| format!("{} {} {}", d.name, d.kind, d.readonly))
            .collect();
        datasets.sort();
        let mut ownership: Vec<String> = super::ledger::read(inv)
            .into_iter()
            .map(|r| format!("{} {} {}", r.dataset, r.key, r.name))
            .collect();
        ownership.sort();
        let mut tasks: Vec<String> = inv
            .snapshot_tasks
            .iter()
            .map(|t| {
                format!(
                    "{} {}",
                    t.id,
                    fingerprint(&snapshot_task_fields(&snapshot_task_input(t)))
                )
            })
            .collect();
        tasks.sort();
        let mut reps: Vec<String> = inv
            .replications
            .iter()
            .map(|r| {
                let spec =
                    RepSpec::from_live(r, |id| Some(format!("#{id}")), |id| Some(format!("#{id}")));
                format!("{} {}", r.id, fingerprint(&spec.fields(Some(&inv.version))))
            })
            .collect();
        reps.sort();
        let mut keychain: Vec<String> = inv
            .keychain
            .iter()
            .map(|k| format!("{} {} {}", k.id, k.name, k.kind()))
            .collect();
        keychain.sort();
        StateDigest {
            version: inv.version.raw.clone(),
            datasets: hash(datasets),
            ownership: hash(ownership),
            snapshot_tasks: hash(tasks),
            replications: hash(reps),
            connections: hash(keychain),
            ssh_service: hash([format!(
                "{} {}",
                inv.ssh_service.enable, inv.ssh_service.state
            )]),
        }
    }

    /// What differs from `other`, in words.
    pub fn moved(&self, other: &StateDigest) -> Vec<&'static str> {
        let mut out = Vec::new();
        let pairs = [
            ("TrueNAS version", &self.version, &other.version),
            ("datasets", &self.datasets, &other.datasets),
            ("ownership records", &self.ownership, &other.ownership),
            (
                "snapshot tasks",
                &self.snapshot_tasks,
                &other.snapshot_tasks,
            ),
            ("replication tasks", &self.replications, &other.replications),
            (
                "SSH connections and keys",
                &self.connections,
                &other.connections,
            ),
            ("SSH service", &self.ssh_service, &other.ssh_service),
        ];
        for (what, a, b) in pairs {
            if a != b {
                out.push(what);
            }
        }
        out
    }
}
