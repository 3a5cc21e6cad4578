//! The replication topology of a config: systems as nodes, the TrueNAS replication tasks
//! the config asks for as edges from source to target, each with the health of its last
//! run read from the live state. Rendered as DOT, Mermaid or SVG, always in the same order
//! (the config's), so that output can be compared from run to run.

pub mod dot;
pub mod health;
pub mod layout;
pub mod mermaid;
pub mod svg;

use serde::Serialize;

use crate::diag::Problem;
use crate::inventory::Inventory;
use crate::model::{Config, RunSchedule, SystemKind};
use crate::plan::build::desired_replications;

pub use health::Health;

/// What is known of one system's live state.
pub enum Seen<'a> {
    /// Not asked (`--offline`).
    Offline,
    /// Asked, and it could not be read.
    Failed(&'a Problem),
    Read(&'a Inventory),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    /// Second line: the version, `unreachable`, or where the system is (offline).
    pub detail: String,
    /// Its live state was read.
    pub read: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    /// The config's replication name.
    pub replication: String,
    /// Index into [`Topology::nodes`] where the data comes from.
    pub from: usize,
    /// Index into [`Topology::nodes`] where it goes.
    pub to: usize,
    /// `tank/data → backup/nas1/data`.
    pub datasets: String,
    /// `hourly`, `with data-hourly`, `manual`, or the cron fields.
    pub schedule: String,
    /// The task runs on the target and pulls.
    pub pull: bool,
    pub health: Health,
    /// `ok 30 min ago`, `failed 2 h ago`, `never ran`, `nas1 unreachable`.
    pub status: String,
    /// What TrueNAS said, as it said it (an error, a hold reason).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topology {
    pub project: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Edge {
    /// The third line of a label: schedule, direction and state.
    pub fn summary(&self) -> String {
        let pull = if self.pull { " · pull" } else { "" };
        format!("{}{pull} · {}", self.schedule, self.status)
    }
}

/// The topology of `config`, with each system's live state as `seen` tells it.
pub fn build<'a>(
    config: &Config,
    seen: impl Fn(&str) -> Seen<'a>,
    now: chrono::DateTime<chrono::Utc>,
) -> Topology {
    let names: Vec<&String> = config.systems.keys().collect();
    let index = |name: &str| names.iter().position(|n| n.as_str() == name);
    let nodes = config
        .systems
        .values()
        .map(|system| match seen(&system.name) {
            Seen::Read(inv) => Node {
                name: system.name.clone(),
                detail: inv.version.label(),
                read: true,
            },
            Seen::Failed(p) => Node {
                name: system.name.clone(),
                detail: if p.code == "zfleet::ssh::unreachable" {
                    "unreachable".into()
                } else {
                    "could not be read".into()
                },
                read: false,
            },
            Seen::Offline => Node {
                name: system.name.clone(),
                detail: match &system.kind {
                    SystemKind::Ssh(ssh) => ssh.host.clone(),
                    SystemKind::Simulator(_) => "simulated".into(),
                },
                read: false,
            },
        })
        .collect();
    let mut edges = Vec::new();
    for d in desired_replications(config) {
        let (Some(from), Some(to)) = (index(&d.source.system), index(&d.rep.target.system)) else {
            continue;
        };
        let (health, status, reason) = match seen(&d.runs_on) {
            Seen::Offline => (Health::Unknown, "not read (offline)".to_string(), None),
            Seen::Failed(_) => (Health::Unknown, format!("{} not read", d.runs_on), None),
            Seen::Read(inv) => match inv.replications.iter().find(|l| l.name == d.spec.name) {
                Some(live) => {
                    let h = health::classify(live, inv, now);
                    (h.health, h.status, h.reason)
                }
                None => (Health::Unknown, format!("not on {}", d.runs_on), None),
            },
        };
        edges.push(Edge {
            replication: d.rep.name.clone(),
            from,
            to,
            datasets: format!(
                "{} → {}",
                d.source.datasets.join(", "),
                d.rep.target.dataset
            ),
            schedule: schedule_label(&d.rep.schedule, &d.source.snapshot_tasks),
            pull: d.rep.direction == crate::model::Direction::Pull,
            health,
            status,
            reason,
        });
    }
    Topology {
        project: config.project.clone(),
        nodes,
        edges,
    }
}

/// A schedule as the config would say it: a preset's name where it is one.
fn schedule_label(schedule: &RunSchedule, tasks: &[String]) -> String {
    match schedule {
        RunSchedule::Manual => "manual".into(),
        RunSchedule::WithSnapshotTasks if tasks.is_empty() => "with snapshot tasks".into(),
        RunSchedule::WithSnapshotTasks => format!("with {}", tasks.join(", ")),
        RunSchedule::Schedule(s) => preset_name(s)
            .map(str::to_string)
            .unwrap_or_else(|| crate::plan::fields::show_schedule(s)),
    }
}

fn preset_name(s: &crate::model::TnSchedule) -> Option<&'static str> {
    use crate::model::schedule::{canonical, resolve_text};
    let mine = canonical(s).ok()?;
    ["hourly", "daily", "weekly", "monthly"]
        .into_iter()
        .find(|p| {
            resolve_text(p)
                .ok()
                .and_then(|t| canonical(&t).ok())
                .is_some_and(|c| c == mine)
        })
}

/// Escapes text for XML and HTML attributes and content.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_named_and_other_schedules_shown_as_cron() {
        let text = |t: &str| {
            let s = crate::model::schedule::resolve_text(t).expect("schedule");
            schedule_label(&RunSchedule::Schedule(s), &[])
        };
        assert_eq!(text("hourly"), "hourly");
        assert_eq!(text("0 0 * * *"), "daily");
        assert_eq!(text("weekly"), "weekly");
        assert_eq!(text("15 3 * * 1-5"), "15 3 * * 1-5");
        assert_eq!(
            schedule_label(&RunSchedule::WithSnapshotTasks, &["a".into(), "b".into()]),
            "with a, b"
        );
        assert_eq!(schedule_label(&RunSchedule::Manual, &[]), "manual");
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml_escape("a<b>&\"c'\n"), "a&lt;b&gt;&amp;&quot;c&#39; ");
    }
}
