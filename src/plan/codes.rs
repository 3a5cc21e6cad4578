//! Diagnostic codes of `plan`'s live checks.

use crate::diag::CodeInfo;

pub const SSH_DISABLED: &str = "zfleet::check::ssh_disabled";
pub const SSH_STOPPED: &str = "zfleet::check::ssh_stopped";
pub const DATASET_MISSING: &str = "zfleet::check::dataset_missing";
pub const DATASET_TYPE: &str = "zfleet::check::dataset_type";
pub const NO_SNAPSHOTS: &str = "zfleet::check::no_snapshots";
pub const READONLY_SOURCE: &str = "zfleet::check::readonly_source";
pub const READONLY_REQUIRE: &str = "zfleet::check::readonly_require";
pub const TARGET_UNMATCHED: &str = "zfleet::check::target_unmatched";
pub const BOUND_TASK: &str = "zfleet::check::bound_task";
pub const UNSUPPORTED_FIELD: &str = "zfleet::check::unsupported_field";
pub const NAME_TAKEN: &str = "zfleet::check::name_taken";
pub const TASK_IN_USE: &str = "zfleet::check::task_in_use";
pub const NO_CONNECTION: &str = "zfleet::check::no_connection";
pub const ADOPT_AMBIGUOUS: &str = "zfleet::check::adopt_ambiguous";
pub const RETENTION: &str = "zfleet::check::retention";

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: SSH_DISABLED,
        summary: "the SSH service of a system that replication reaches over SSH is not enabled",
    },
    CodeInfo {
        code: SSH_STOPPED,
        summary: "the SSH service of a system that replication reaches over SSH is not running",
    },
    CodeInfo {
        code: DATASET_MISSING,
        summary: "a dataset a task needs (source, snapshot dataset, target's parent) does not exist",
    },
    CodeInfo {
        code: DATASET_TYPE,
        summary: "a zvol where a filesystem is needed, or the reverse",
    },
    CodeInfo {
        code: NO_SNAPSHOTS,
        summary: "no snapshot matches a replication's naming schemas and nothing in the plan will make one",
    },
    CodeInfo {
        code: READONLY_SOURCE,
        summary: "a replication's source dataset is read-only (TrueCommand refuses these sources)",
    },
    CodeInfo {
        code: READONLY_REQUIRE,
        summary: "`readonly: require` but the target dataset is not read-only",
    },
    CodeInfo {
        code: TARGET_UNMATCHED,
        summary: "the target holds snapshots but none in common with the source; the run would fail without `allow_from_scratch`",
    },
    CodeInfo {
        code: BOUND_TASK,
        summary: "a replication is bound to a snapshot task that is disabled, on another dataset, or not recursive",
    },
    CodeInfo {
        code: UNSUPPORTED_FIELD,
        summary: "a setting the system's TrueNAS version does not have",
    },
    CodeInfo {
        code: NAME_TAKEN,
        summary: "a replication of that name exists on the system and zfleet does not manage it",
    },
    CodeInfo {
        code: TASK_IN_USE,
        summary: "a snapshot task to delete or disable is still used by an enabled replication",
    },
    CodeInfo {
        code: NO_CONNECTION,
        summary: "no SSH connection on the system that runs a replication reaches the other end",
    },
    CodeInfo {
        code: RETENTION,
        summary: "an edit or deletion of a snapshot task changes which existing snapshots TrueNAS keeps",
    },
    CodeInfo {
        code: ADOPT_AMBIGUOUS,
        summary: "`adopt: true` matches several tasks made by hand",
    },
];
