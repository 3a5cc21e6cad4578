//! Ownership recorded on the systems themselves, so that any machine (a CI runner with a
//! fresh checkout included) knows what zfleet manages there.
//!
//! Each managed task has one ZFS user property on a dataset of the system it runs on (a
//! snapshot task's `dataset`; a push replication's first source dataset; a pull
//! replication's target's parent, which exists before the first run creates the target):
//! `zfleet:<project>:<kind>-<id>` = `{"name":"<zfleet name>"}`. One small property per
//! object keeps every value far below TrueNAS's 1024-character limit whatever the fleet's
//! size. Children inherit the property; only locally set ones count.
//!
//! Creating a task and recording it are two calls. In between, a *pending* mark
//! `zfleet:<project>:pending-<kind>-<hash of the name>` = `{"name":…,"fp":…}` holds the
//! fingerprint of what is being created: a re-run after an interruption claims the one
//! unrecorded task with exactly that fingerprint instead of creating a duplicate.

use serde::{Deserialize, Serialize};

use super::fields::Fnv;
use crate::inventory::Inventory;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    SnapshotTask,
    Replication,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::SnapshotTask => "st",
            Kind::Replication => "rep",
        }
    }
    fn from_tag(t: &str) -> Option<Kind> {
        match t {
            "st" => Some(Kind::SnapshotTask),
            "rep" => Some(Kind::Replication),
            _ => None,
        }
    }
}

/// One ownership property found on a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Dataset the property is set on.
    pub dataset: String,
    /// The whole property name.
    pub key: String,
    pub project: String,
    pub kind: Kind,
    /// The task's id; `None` for a pending mark.
    pub id: Option<i64>,
    /// zfleet name of the task.
    pub name: String,
    /// Fingerprint of the task being created (pending marks).
    pub fingerprint: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Value {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fp: Option<String>,
}

pub const PREFIX: &str = "zfleet:";

/// `zfleet:<project>:<kind>-<id>`.
pub fn key(project: &str, kind: Kind, id: i64) -> String {
    format!("{PREFIX}{project}:{}-{id}", kind.tag())
}

/// `zfleet:<project>:pending-<kind>-<hash>`: ZFS property names take lower-case letters,
/// digits and `:._-` only, so the task's name goes into the value and a hash of it here.
pub fn pending_key(project: &str, kind: Kind, name: &str) -> String {
    let mut h = Fnv::new();
    h.write(name.as_bytes());
    format!(
        "{PREFIX}{project}:pending-{}-{:016x}",
        kind.tag(),
        h.finish()
    )
}

pub fn value(name: &str, fingerprint: Option<&str>) -> String {
    serde_json::to_string(&Value {
        name: name.to_string(),
        fp: fingerprint.map(str::to_string),
    })
    .unwrap_or_default()
}

/// Every locally set zfleet property of the system, of every project.
pub fn read(inv: &Inventory) -> Vec<Record> {
    read_datasets(&inv.datasets)
}

/// [`read`] over a dataset list read by other means (status reads no inventory).
pub fn read_datasets(datasets: &[crate::client::Dataset]) -> Vec<Record> {
    let mut out = Vec::new();
    for ds in datasets {
        for (k, v) in &ds.user_properties {
            if !k.starts_with(PREFIX) {
                continue;
            }
            // Inherited copies on child datasets are not records of their own.
            let local = v
                .source
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("local"));
            if !local {
                continue;
            }
            let text = v.rawvalue.as_deref().or(v.value.as_deref()).unwrap_or("");
            if let Some(r) = parse(&ds.name, k, text) {
                out.push(r);
            }
        }
    }
    out
}

fn parse(dataset: &str, key: &str, text: &str) -> Option<Record> {
    let rest = key.strip_prefix(PREFIX)?;
    let (project, what) = rest.split_once(':')?;
    let value: Value = serde_json::from_str(text).ok()?;
    let (kind, id, fingerprint) = match what.strip_prefix("pending-") {
        Some(p) => {
            let (tag, _hash) = p.split_once('-')?;
            (Kind::from_tag(tag)?, None, Some(value.fp.clone()?))
        }
        None => {
            let (tag, id) = what.split_once('-')?;
            (Kind::from_tag(tag)?, Some(id.parse().ok()?), None)
        }
    };
    Some(Record {
        dataset: dataset.to_string(),
        key: key.to_string(),
        project: project.to_string(),
        kind,
        id,
        name: value.name,
        fingerprint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_zfs_user_property_names() {
        for k in [
            key("homelab", Kind::SnapshotTask, 12),
            pending_key("homelab", Kind::Replication, "Nightly Offsite (ÄÖ)"),
        ] {
            assert!(k.len() <= 256);
            assert!(
                k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ":_.-".contains(c)),
                "{k}"
            );
        }
    }

    #[test]
    fn records_read_back() {
        let k = key("p", Kind::Replication, 7);
        let r = parse("tank/a", &k, &value("offsite", None)).expect("parses");
        assert_eq!(
            (r.kind, r.id, r.name.as_str()),
            (Kind::Replication, Some(7), "offsite")
        );
        let k = pending_key("p", Kind::SnapshotTask, "hourly");
        let r = parse("tank/a", &k, &value("hourly", Some("abc"))).expect("parses");
        assert_eq!((r.id, r.fingerprint.as_deref()), (None, Some("abc")));
        assert!(parse("tank/a", "zfleet:p:st-x", "{}").is_none());
        assert!(parse("tank/a", &key("p", Kind::SnapshotTask, 1), "not json").is_none());
    }
}
