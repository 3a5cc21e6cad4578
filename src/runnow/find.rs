//! From a config name to the live tasks to run: a replication with sources on N systems is
//! N TrueNAS tasks (named as plan names them), a snapshot task is one. The live task is the
//! one this project's ownership record names, as plan matches them.

use crate::diag::Problem;
use crate::inventory::Inventory;
use crate::model::Config;
use crate::plan::ledger::{self, Kind};

use super::{DISABLED, NOT_APPLIED, NOT_ON_SYSTEM, UNKNOWN_TASK};

/// One TrueNAS task a config name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The system that runs it.
    pub system: String,
    pub kind: Kind,
    /// Its name on TrueNAS (replications) or in the config (snapshot tasks).
    pub task: String,
    /// The config's name.
    pub name: String,
}

impl Wanted {
    /// `replication offsite`, `snapshot task data-hourly`.
    pub fn label(&self) -> String {
        match self.kind {
            Kind::Replication => format!("replication {}", self.task),
            Kind::SnapshotTask => format!("snapshot task {}", self.task),
        }
    }
}

/// The tasks `name` stands for, on `only` (a system of the config) or everywhere. A task
/// the config disables is refused here, before anything connects.
pub fn wanted(config: &Config, name: &str, only: Option<&str>) -> Result<Vec<Wanted>, Problem> {
    let rep = config.replications.get(name);
    let st = config.snapshot_tasks.get(name);
    let (all, enabled, section) = match (rep, st) {
        (Some(_), Some(_)) => {
            return Err(Problem::error(
                UNKNOWN_TASK,
                format!("`{name}` names both a replication and a snapshot task"),
            )
            .object(name.to_string())
            .help("rename one of the two in the config"));
        }
        (Some(r), None) => (
            crate::plan::build::desired_replications(config)
                .into_iter()
                .filter(|d| d.rep.name == name)
                .map(|d| Wanted {
                    system: d.runs_on.clone(),
                    kind: Kind::Replication,
                    task: d.spec.name.clone(),
                    name: name.to_string(),
                })
                .collect::<Vec<_>>(),
            r.enabled,
            "replications",
        ),
        (None, Some(t)) => (
            vec![Wanted {
                system: t.system.clone(),
                kind: Kind::SnapshotTask,
                task: t.name.clone(),
                name: name.to_string(),
            }],
            t.enabled,
            "snapshot_tasks",
        ),
        (None, None) => return Err(unknown(config, name)),
    };
    let all = match only {
        None => all,
        Some(system) => {
            let on: Vec<Wanted> = all.iter().filter(|w| w.system == system).cloned().collect();
            if on.is_empty() {
                let mut runs: Vec<&str> = all.iter().map(|w| w.system.as_str()).collect();
                runs.dedup();
                return Err(Problem::error(
                    NOT_ON_SYSTEM,
                    format!("`{name}` does not run on {system}"),
                )
                .object(name.to_string())
                .help(format!("it runs on {}", runs.join(", "))));
            }
            on
        }
    };
    if !enabled {
        // One refusal names every system: nothing runs anywhere.
        let systems: Vec<&str> = all.iter().map(|w| w.system.as_str()).collect();
        let label = all.first().map(Wanted::label).unwrap_or_default();
        return Err(Problem::error(
            DISABLED,
            "is disabled in the config (`enabled: false`); nothing was run",
        )
        .system(systems.join(", "))
        .object(label)
        .help(format!(
            "set `enabled: true` under `{section}: {name}`, run `zfleet apply`, then run it"
        )));
    }
    Ok(all)
}

fn unknown(config: &Config, name: &str) -> Problem {
    let names: Vec<&str> = config
        .replications
        .keys()
        .chain(config.snapshot_tasks.keys())
        .map(String::as_str)
        .collect();
    let help = match crate::config::de::suggest(name, &names) {
        Some(s) => format!("did you mean `{s}`?"),
        None if names.is_empty() => "the config declares no replications or snapshot tasks".into(),
        None => format!(
            "the replications and snapshot tasks are: {}",
            names.join(", ")
        ),
    };
    Problem::error(
        UNKNOWN_TASK,
        format!("no replication or snapshot task `{name}` in the config"),
    )
    .help(help)
}

/// The id of the live task `w` stands for on its system, recorded as this project's. A
/// task not there yet, or disabled on the system, is refused.
pub fn locate(project: &str, inv: &Inventory, w: &Wanted) -> Result<i64, Problem> {
    let refuse = |code, message: &str, help: &str| {
        Problem::error(code, message.to_string())
            .system(w.system.clone())
            .object(w.label())
            .help(help.to_string())
    };
    let live = ledger::read(inv)
        .into_iter()
        .filter(|r| r.project == project && r.kind == w.kind && r.name == w.task)
        .find_map(|r| {
            let id = r.id?;
            // A record whose task is gone or was replaced counts for nothing, as in plan.
            match w.kind {
                Kind::Replication => inv
                    .replications
                    .iter()
                    .find(|t| t.id == id && t.name == r.name)
                    .map(|t| (id, t.enabled)),
                Kind::SnapshotTask => inv
                    .snapshot_tasks
                    .iter()
                    .find(|t| {
                        t.id == id && crate::plan::fields::clean_path(&t.dataset) == r.dataset
                    })
                    .map(|t| (id, t.enabled)),
            }
        });
    match live {
        Some((id, true)) => Ok(id),
        Some((_, false)) => Err(refuse(
            DISABLED,
            "is disabled on the system; nothing was run",
            "the config enables it: run `zfleet apply`, then run it again",
        )),
        None => Err(refuse(
            NOT_APPLIED,
            "is not on the system yet",
            "run `zfleet apply` to create it, then run it",
        )),
    }
}
