//! `import`: the tasks that exist on the systems, written as config.
//!
//! Every entry written is proven before it is kept: the YAML is read back by the config
//! loader (it must be valid) and planned against the live state it came from (it must
//! plan nothing but adoptions without changes). An entry that fails either is left out
//! with the reason, and the rest is proven again, until everything written holds.

pub mod collect;
pub mod emit;
pub mod names;
pub mod schedule;
pub mod verify;
pub mod yaml;

use std::collections::BTreeMap;

use crate::diag::{CodeInfo, Problem};
use crate::inventory::{FleetEntry, Inventory};
use crate::model::Config;
use collect::{Collected, Key, LeftOut, Scope};

pub const OUTPUT: &str = "zfleet::import::output";
pub const OUTPUT_EXISTS: &str = "zfleet::import::output_exists";
pub const INVALID: &str = "zfleet::import::invalid";

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: OUTPUT,
        summary: "the imported config cannot be written to the file `-o` names",
    },
    CodeInfo {
        code: OUTPUT_EXISTS,
        summary: "the file `-o` names exists, and `--force` was not given",
    },
    CodeInfo {
        code: INVALID,
        summary: "the imported config does not hold: the `systems` section does not read back, or plan would still change it",
    },
];

/// What to import and how.
pub struct Request<'a> {
    pub config: &'a Config,
    /// The `systems:` section as the config file has it.
    pub systems_text: &'a str,
    /// Systems whose tasks are imported, in order.
    pub systems: &'a [String],
    pub adopt: bool,
    /// Comment lines at the top of the file.
    pub header: Vec<String>,
}

/// The imported config, and what was left out.
pub struct Imported {
    pub text: String,
    pub snapshot_tasks: usize,
    pub replications: usize,
    pub left_out: Vec<LeftOut>,
    /// Things plan will say about this config that import could not avoid.
    pub notes: Vec<String>,
}

/// Imports from `fleet` (every system of the config, read).
pub fn import<R>(req: &Request<'_>, fleet: &[FleetEntry<R>]) -> Result<Imported, Problem> {
    let inventories: BTreeMap<String, &Inventory> = fleet
        .iter()
        .filter_map(|e| e.result.as_ref().ok().map(|i| (e.name.clone(), i)))
        .collect();
    // First with every task made by hand, to learn which ones the config can hold.
    let (mut excluded, mut result) = settle(req, &inventories, fleet, BTreeMap::new(), true)?;
    if !req.adopt {
        // Those that can be held are left out now for being made by hand, the others
        // keep the reason found.
        excluded.retain(|k, _| result.left_out.iter().any(|l| l.key == *k && !l.hand_made));
        (_, result) = settle(req, &inventories, fleet, excluded, false)?;
    }
    Ok(result)
}

/// Collects, writes and proves the config until every entry holds.
fn settle<R>(
    req: &Request<'_>,
    inventories: &BTreeMap<String, &Inventory>,
    fleet: &[FleetEntry<R>],
    mut excluded: BTreeMap<Key, String>,
    adopt: bool,
) -> Result<(BTreeMap<Key, String>, Imported), Problem> {
    loop {
        let scope = Scope {
            project: &req.config.project,
            fleet: inventories,
            systems: req.systems,
            excluded: &excluded,
            adopt,
        };
        let Collected {
            tasks,
            reps,
            left_out,
        } = collect::collect(&scope);
        let written = emit::config(
            &req.header,
            &req.config.project,
            req.systems_text,
            &tasks,
            &reps,
        );
        let verdict = verify::verify(req.config, &written, fleet, &tasks, &reps)?;
        if verdict.drops.is_empty() {
            let imported = Imported {
                text: written.text,
                snapshot_tasks: tasks.len(),
                replications: reps.len(),
                left_out,
                notes: verdict.notes,
            };
            return Ok((excluded, imported));
        }
        let before = excluded.len();
        for (key, why) in verdict.drops {
            excluded.entry(key).or_insert(why);
        }
        if excluded.len() == before {
            // Nothing new to leave out: proving again would find the same.
            return Err(Problem::error(
                INVALID,
                "the imported config does not hold, and no task can be left out to fix it",
            )
            .help("run `zfleet plan` on the written config to see what it would change"));
        }
    }
}
