//! Proving an imported config: it must read back as valid config, and planning it against
//! the live state it came from must propose nothing but adoptions without changes.

use std::collections::BTreeMap;

use super::collect::{Key, RepEntry, TaskEntry};
use super::yaml::{Entry, Writer};
use crate::diag::Problem;
use crate::inventory::FleetEntry;
use crate::model::{Config, Direction, Transport};
use crate::plan::{Op, Subject};

pub struct Verdict {
    /// Live tasks to leave out, with the reason.
    pub drops: Vec<(Key, String)>,
    /// What plan will still show, for tasks this project manages already.
    pub notes: Vec<String>,
}

/// Every live task behind an entry, and whether this project manages them all.
struct Index {
    entries: BTreeMap<Entry, (Vec<Key>, bool)>,
    /// `(system the task runs on, system at the other end)` of each replication.
    links: Vec<(String, String, String)>,
}

fn index(tasks: &[TaskEntry], reps: &[RepEntry]) -> Index {
    let mut entries = BTreeMap::new();
    for t in tasks {
        entries.insert(
            Entry::SnapshotTask(t.task.name.clone()),
            (vec![t.origin.key.clone()], t.origin.managed),
        );
    }
    let mut links = Vec::new();
    for r in reps {
        entries.insert(
            Entry::Replication(r.rep.name.clone()),
            (
                r.origins.iter().map(|o| o.key.clone()).collect(),
                r.origins.iter().all(|o| o.managed),
            ),
        );
        for s in &r.rep.sources {
            if r.rep.transport_for(&s.system) == Transport::Local {
                continue;
            }
            let (on, other) = match r.rep.direction {
                Direction::Push => (s.system.clone(), r.rep.target.system.clone()),
                Direction::Pull => (r.rep.target.system.clone(), s.system.clone()),
            };
            links.push((on, other, r.rep.name.clone()));
        }
    }
    Index { entries, links }
}

impl Index {
    /// Leaves `entry` out (made by hand), or notes what plan will do (managed already).
    fn fault(&self, entry: &Entry, why: &str, v: &mut Verdict) {
        let Some((keys, managed)) = self.entries.get(entry) else {
            return;
        };
        if *managed {
            let label = match entry {
                Entry::SnapshotTask(n) => format!("snapshot task {n}"),
                Entry::Replication(n) => format!("replication {n}"),
            };
            v.notes.push(format!("{label}: {why}"));
        } else {
            v.drops
                .extend(keys.iter().map(|k| (k.clone(), why.to_string())));
        }
    }
}

pub fn verify<R>(
    config: &Config,
    written: &Writer,
    fleet: &[FleetEntry<R>],
    tasks: &[TaskEntry],
    reps: &[RepEntry],
) -> Result<Verdict, Problem> {
    let idx = index(tasks, reps);
    let mut v = Verdict {
        drops: vec![],
        notes: vec![],
    };
    let invalid = |message: String| {
        Problem::error(super::INVALID, message)
            .help("check the `systems` section of the config import reads")
    };
    let doc = crate::config::load::parse("imported config", written.text.as_bytes().to_vec())
        .map_err(|p| invalid(format!("the imported config does not read back: {p}")))?;
    let (mut readback, mut problems) = crate::config::validate::validate(&doc);
    problems.extend(doc.problems.iter().cloned());
    for p in problems.iter().filter(|p| p.is_error()) {
        let at = p.span.as_ref().map(|(s, _)| s.offset());
        match at.and_then(|o| written.entry_at(o)) {
            // A managed task that does not read back cannot be kept either.
            Some(e) => match idx.entries.get(e) {
                Some((keys, _)) => v.drops.extend(keys.iter().map(|k| {
                    (
                        k.clone(),
                        format!("written, it is not valid: {}", p.message),
                    )
                })),
                None => return Err(invalid(p.to_string())),
            },
            None => return Err(invalid(p.to_string())),
        }
    }
    if !v.drops.is_empty() {
        return Ok(v);
    }
    readback.systems = config.systems.clone();
    let plan = crate::plan::plan(&readback, fleet, &crate::plan::build::Options::default());
    for sp in &plan.systems {
        for a in &sp.actions {
            let fields: Vec<&str> = a.changes.iter().map(|c| c.field.as_str()).collect();
            let why = match a.op {
                Op::Adopt if fields.is_empty() => continue,
                Op::Adopt | Op::Update => format!(
                    "the config cannot say its {} as TrueNAS has it",
                    fields.join(", ")
                ),
                Op::Create => "plan would create it instead of taking over the task".to_string(),
                Op::Delete => String::new(),
            };
            match (&a.subject, a.op) {
                (Subject::SnapshotTask { name: Some(n), .. }, Op::Delete) => v.notes.push(format!(
                    "plan will delete snapshot task {n} (#{}) on {}: it is managed by this project and not imported",
                    a.id.unwrap_or_default(),
                    sp.system
                )),
                (Subject::Replication { name: Some(n), .. }, Op::Delete) => v.notes.push(format!(
                    "plan will delete replication {n} (#{}) on {}: it is managed by this project and not imported",
                    a.id.unwrap_or_default(),
                    sp.system
                )),
                (_, Op::Delete) => v.notes.push(format!(
                    "plan will delete {} (#{}) on {}: the system has `prune: true` and the task is not imported",
                    a.subject.label(),
                    a.id.unwrap_or_default(),
                    sp.system
                )),
                (Subject::SnapshotTask { name: Some(n), .. }, _) => {
                    idx.fault(&Entry::SnapshotTask(n.clone()), &why, &mut v)
                }
                (Subject::Replication { name: Some(n), .. }, _) => {
                    idx.fault(&Entry::Replication(n.clone()), &why, &mut v)
                }
                (Subject::Connection { remote, .. }, _) => {
                    for (on, other, name) in &idx.links {
                        if *on == sp.system && other == remote {
                            idx.fault(
                                &Entry::Replication(name.clone()),
                                &format!("no SSH connection on {on} reaches {other}, and plan would make one"),
                                &mut v,
                            );
                        }
                    }
                }
                (Subject::AuthorizedKey { from, .. }, _) => {
                    for (on, other, name) in &idx.links {
                        if on == from && *other == sp.system {
                            idx.fault(
                                &Entry::Replication(name.clone()),
                                &format!("the key of its SSH connection is not authorised on {other}, and plan would add it"),
                                &mut v,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        for c in &sp.conflicts {
            idx.fault(
                &Entry::Replication(c.name.clone()),
                "a task of that name exists that zfleet may not take over",
                &mut v,
            );
        }
        for (name, ids) in &sp.ambiguous {
            idx.fault(
                &Entry::SnapshotTask(name.clone()),
                &format!(
                    "it matches several tasks made by hand ({} of them)",
                    ids.len()
                ),
                &mut v,
            );
        }
    }
    Ok(v)
}
