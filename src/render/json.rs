//! The plan as JSON for CI. `format_version` changes only when a field changes meaning or
//! goes away; new fields may appear at any time.
//!
//! ```json
//! { "format_version": 1, "project": "homelab",
//!   "summary": { "add": 1, "change": 0, "delete": 0, "errors": 0, "warnings": 0, "unknown_systems": 0 },
//!   "systems": [ { "system": "nas1", "version": "TrueNAS SCALE 25.10.0", "known": true,
//!                  "actions": [ { "op": "create", "kind": "snapshot_task", "name": "hourly",
//!                                 "spec": { … }, "id": null,
//!                                 "changes": [ { "field": "dataset", "old": null, "new": "tank/data" } ],
//!                                 "reason": null, "anchor": "tank/data", "unrecord": [] } ],
//!                  "unmanaged": [ … ], "notes": [ … ], "forget": [ … ] } ],
//!   "diagnostics": [ … as `zfleet validate --format json` ] }
//! ```

use serde::Serialize;

use crate::plan::{Plan, SystemPlan};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    project: &'a str,
    summary: Summary,
    systems: &'a [SystemPlan],
    diagnostics: serde_json::Value,
}

#[derive(Serialize)]
struct Summary {
    add: usize,
    change: usize,
    delete: usize,
    errors: usize,
    warnings: usize,
    unknown_systems: usize,
}

pub fn value(plan: &Plan) -> serde_json::Value {
    let (add, change, delete) = plan.totals();
    let errors = plan.problems.iter().filter(|p| p.is_error()).count();
    let doc = Document {
        format_version: FORMAT_VERSION,
        project: &plan.project,
        summary: Summary {
            add,
            change,
            delete,
            errors,
            warnings: plan.problems.len() - errors,
            unknown_systems: plan.systems.iter().filter(|s| !s.known).count(),
        },
        systems: &plan.systems,
        diagnostics: crate::diag::json::diagnostics_value(&plan.problems),
    };
    serde_json::to_value(&doc).unwrap_or(serde_json::Value::Null)
}

pub fn render(plan: &Plan) -> String {
    serde_json::to_string_pretty(&value(plan)).unwrap_or_default()
}
