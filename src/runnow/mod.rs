//! Run Now and one-time snapshots: which live task a config name stands for on each
//! system, how a snapshot task's run is followed (TrueNAS gives it no job), and the checks
//! a manual snapshot passes before it is taken.

pub mod find;
pub mod manual;
pub mod snaptask;

use crate::diag::CodeInfo;

pub const UNKNOWN_TASK: &str = "zfleet::run::unknown_task";
pub const NOT_ON_SYSTEM: &str = "zfleet::run::not_on_system";
pub const DISABLED: &str = "zfleet::run::disabled";
pub const NOT_APPLIED: &str = "zfleet::run::not_applied";
pub const FAILED: &str = "zfleet::run::failed";
pub const TIMEOUT: &str = "zfleet::run::timeout";
pub const SNAPSHOT_EXISTS: &str = "zfleet::snapshot::exists";
pub const SNAPSHOT_READONLY: &str = "zfleet::snapshot::readonly";
pub const SNAPSHOT_ARGUMENT: &str = "zfleet::snapshot::argument";

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: UNKNOWN_TASK,
        summary: "`zfleet run` names no replication or snapshot task of the config",
    },
    CodeInfo {
        code: NOT_ON_SYSTEM,
        summary: "`zfleet run --system` names a system the task does not run on",
    },
    CodeInfo {
        code: DISABLED,
        summary: "the task to run is disabled, in the config or on the system; nothing was run",
    },
    CodeInfo {
        code: NOT_APPLIED,
        summary: "the task to run is not on the system yet (apply creates it)",
    },
    CodeInfo {
        code: FAILED,
        summary: "a run did not end in SUCCESS (TrueNAS's error is shown)",
    },
    CodeInfo {
        code: TIMEOUT,
        summary: "`zfleet run --timeout` passed while runs were still going on (they go on)",
    },
    CodeInfo {
        code: SNAPSHOT_EXISTS,
        summary: "a snapshot of the name `zfleet snapshot` would take exists already",
    },
    CodeInfo {
        code: SNAPSHOT_READONLY,
        summary: "`zfleet snapshot` of a read-only dataset (a replica) is refused",
    },
    CodeInfo {
        code: SNAPSHOT_ARGUMENT,
        summary: "`zfleet snapshot` needs SYSTEM:DATASET and a valid naming schema",
    },
];
