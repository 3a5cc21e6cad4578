//! Diagnostic codes of the config layer, each with what it means.

use crate::diag::CodeInfo;

macro_rules! codes {
    ($($name:ident = $code:literal : $summary:literal;)*) => {
        $(pub const $name: &str = $code;)*
        pub const CODES: &[CodeInfo] = &[$(CodeInfo { code: $code, summary: $summary }),*];
    };
}

codes! {
    IO = "zfleet::config::io": "The config file cannot be read.";
    TOO_LARGE = "zfleet::config::too_large": "The config file is larger than zfleet reads.";
    NOT_UTF8 = "zfleet::config::not_utf8": "The config file is not UTF-8 text.";
    EMPTY = "zfleet::config::empty": "The config file has no content.";
    SYNTAX = "zfleet::config::syntax": "The config file is not valid YAML.";
    LIMITS = "zfleet::config::limits": "The YAML is nested too deeply or has too many nodes.";
    DUPLICATE_KEY = "zfleet::config::duplicate_key": "A key (or an entry name) appears twice in one mapping.";
    UNKNOWN_KEY = "zfleet::config::unknown_key": "A key the entry does not take (often a typo).";
    MISSING_KEY = "zfleet::config::missing_key": "A required key is missing.";
    TYPE = "zfleet::config::type": "A value has the wrong type.";
    INVALID_VALUE = "zfleet::config::invalid_value": "A value is not one of the allowed ones.";
    PROJECT = "zfleet::config::project": "The project name is missing or not usable as an ownership namespace.";
    SYSTEM_UNKNOWN = "zfleet::system::unknown": "A reference to a system that `systems` does not define.";
    SYSTEM_KIND = "zfleet::system::kind": "A system must have exactly one of `host` (SSH) and `simulator`.";
    HOST = "zfleet::system::host": "A `host` is empty, has spaces, starts with `-`, or is not a name or an IP address.";
    PORT = "zfleet::system::port": "An SSH `port` is 0.";
    HOST_KEY = "zfleet::system::host_key": "A pinned host key is not a `SHA256:` fingerprint.";
    TIMEOUT = "zfleet::system::timeout": "A timeout is not a positive duration of at most a day.";
    SIM_VERSION = "zfleet::system::sim_version": "The simulator does not know this TrueNAS version.";
    FIXTURE_MISSING = "zfleet::system::fixture_missing": "A simulator fixture file does not exist or cannot be read.";
    FIXTURE_INVALID = "zfleet::system::fixture_invalid": "A simulator fixture file is not a fixture the simulator can load.";
    IDENTITY_FILE = "zfleet::system::identity_file": "An `identity_file` does not exist or cannot be read.";
    KNOWN_HOSTS = "zfleet::system::known_hosts": "A `known_hosts` path is a directory or cannot be created.";
    DATASET_NAME = "zfleet::dataset::invalid_name": "Not a valid ZFS dataset name.";
    EXCLUDE_NOT_RECURSIVE = "zfleet::dataset::exclude_not_recursive": "Excluding datasets only makes sense when recursive.";
    EXCLUDE_NOT_CHILD = "zfleet::dataset::exclude_not_child": "An excluded dataset is not below the dataset(s) it excludes from.";
    SOURCE_EXCLUDED = "zfleet::dataset::excluded_source": "A replicated dataset is excluded by the snapshot task that serves it.";
    MISSING_EXCLUDE = "zfleet::replication::missing_exclude": "A bound snapshot task excludes a dataset the replication does not.";
    TASK_UNKNOWN = "zfleet::snapshot_task::unknown": "A replication refers to a snapshot task that does not exist.";
    TASK_OTHER_SYSTEM = "zfleet::snapshot_task::other_system": "A replication source refers to a snapshot task on another system.";
    TASK_OTHER_DATASET = "zfleet::snapshot_task::other_dataset": "A bound snapshot task does not snapshot any of the source's datasets.";
    TASK_DISABLED = "zfleet::snapshot_task::disabled_bound": "An enabled replication is bound to a disabled snapshot task.";
    NO_SOURCES = "zfleet::replication::no_sources": "A replication has no sources or a source has no datasets.";
    NO_SNAPSHOTS = "zfleet::replication::no_snapshots": "A push source names neither snapshot tasks nor naming schemas.";
    PULL_TASKS = "zfleet::replication::pull_snapshot_tasks": "A pull replication cannot be bound to snapshot tasks.";
    PULL_HOLD = "zfleet::replication::pull_hold_pending": "A pull replication cannot hold pending snapshots.";
    DUPLICATE_SOURCE = "zfleet::replication::duplicate_source": "Two sources of one replication are on the same system.";
    LOCAL_TRANSPORT = "zfleet::replication::local_transport": "`transport: local` needs source and target on the same system.";
    TRANSPORT_OPTION = "zfleet::replication::transport_option": "An option the chosen transport does not support.";
    SCHEDULE_MODE = "zfleet::replication::schedule_mode": "`with_snapshot_tasks` needs a push replication bound to snapshot tasks.";
    SPEED_LIMIT = "zfleet::replication::speed_limit": "A speed limit zfleet cannot read.";
    RETRIES = "zfleet::replication::retries": "Retries must be at least 1.";
    TARGET_IN_SOURCE = "zfleet::replication::target_in_source": "A local replication's target lies inside its source or the other way round.";
    TARGET_CONFLICT = "zfleet::replication::target_conflict": "Two replications write into the same target dataset.";
    RETENTION = "zfleet::replication::retention": "Retention is not `source`, `none` or `{custom: <lifetime>}`.";
    SNAPSHOT_DUPLICATE = "zfleet::snapshot::duplicate": "The same one-time snapshot is listed twice.";
}
