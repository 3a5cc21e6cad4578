//! The reconciler: a pure function of the validated config and every system's live state
//! to the actions that make them agree and the problems that stand in the way. No I/O
//! here; `render` shows a plan and `apply` carries it out.

pub mod build;
pub mod checks;
pub mod codes;
pub mod digest;
pub mod fields;
pub mod ledger;
pub mod saved;
pub mod spec;

use serde::{Deserialize, Serialize};

use crate::client::api::SnapshotTaskInput;
use crate::diag::Problem;
pub use build::plan;
pub use fields::Change;
pub use spec::{ConnRef, RepSpec, TaskRef};

pub use codes::CODES;

/// What to do with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Create,
    Update,
    Delete,
    /// Take over an existing task (recorded as managed from now on), changing the fields
    /// listed, if any.
    Adopt,
}

/// The object an action is about, with what apply needs to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// A plan holds a few actions per system; their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Subject {
    SnapshotTask {
        /// zfleet name (`None` for a task zfleet does not manage, deleted by `prune`).
        name: Option<String>,
        spec: SnapshotTaskInput,
    },
    Snapshot {
        dataset: String,
        naming_schema: String,
        recursive: bool,
        #[serde(default)]
        exclude: Vec<String>,
    },
    Replication {
        /// Name in the config (`None` for an unmanaged task deleted by `prune`).
        name: Option<String>,
        spec: RepSpec,
    },
    SshService {
        enable: bool,
        start: bool,
    },
    /// An SSH connection to make on the system that runs replications: a key pair
    /// generated there and an SSH_CREDENTIALS entry pinning the other system's host keys.
    Connection {
        name: String,
        /// The system at the other end.
        remote: String,
        host: String,
        port: u16,
        username: String,
        /// `type base64` lines of the remote system's host keys.
        host_keys: String,
    },
    /// A public key to add to a user's authorized keys, for a connection from `from`.
    AuthorizedKey {
        username: String,
        user_id: i64,
        /// The system whose connection uses the key.
        from: String,
        /// That connection's name on `from`.
        connection: String,
        /// The key, when it exists already (`type base64 comment`).
        key: Option<String>,
    },
}

impl Subject {
    /// `snapshot task data-hourly`, `replication offsite`, ...
    pub fn label(&self) -> String {
        match self {
            Subject::SnapshotTask { name: Some(n), .. } => format!("snapshot task {n}"),
            Subject::SnapshotTask { name: None, spec } => {
                format!("snapshot task on {} ({})", spec.dataset, spec.naming_schema)
            }
            Subject::Snapshot {
                dataset,
                naming_schema,
                ..
            } => format!("snapshot {dataset}@{naming_schema}"),
            Subject::Replication { spec, .. } => format!("replication {}", spec.name),
            Subject::SshService { .. } => "SSH service".to_string(),
            Subject::Connection { name, remote, .. } => {
                format!("SSH connection {name} to {remote}")
            }
            Subject::AuthorizedKey { username, from, .. } => {
                format!("authorized key of {from} for user {username}")
            }
        }
    }

    /// The order apply runs actions of one system in: service, snapshot tasks, one-time
    /// snapshots, replications, replication deletions, snapshot tasks being disabled (once
    /// no replication binds them), snapshot task deletions.
    pub fn stage(&self, op: Op) -> u8 {
        match (self, op) {
            (Subject::SshService { .. }, _) => 0,
            (Subject::Connection { .. } | Subject::AuthorizedKey { .. }, _) => 0,
            (Subject::Replication { .. }, Op::Delete) => 4,
            (Subject::SnapshotTask { .. }, Op::Delete) => 6,
            (Subject::SnapshotTask { spec, .. }, Op::Update | Op::Adopt) if !spec.enabled => 5,
            (Subject::SnapshotTask { .. }, _) => 1,
            (Subject::Snapshot { .. }, _) => 2,
            (Subject::Replication { .. }, _) => 3,
        }
    }
}

/// One change to make on one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub op: Op,
    #[serde(flatten)]
    pub subject: Subject,
    /// The live object's id (update, delete, adopt).
    pub id: Option<i64>,
    /// Field-level differences (every field for a create).
    pub changes: Vec<Change>,
    /// Why, when it is not plain config vs live (`prune`, an interrupted apply, ...).
    pub reason: Option<String>,
    /// Dataset that records ownership of the object after this action.
    pub anchor: Option<String>,
    /// Ownership properties to remove after this action: `(dataset, property)`.
    pub unrecord: Vec<(String, String)>,
}

/// A task on a system that this config does not manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmanaged {
    pub kind: String,
    pub id: i64,
    pub description: String,
    /// The other project that manages it, if any.
    pub project: Option<String>,
}

/// Everything planned for one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemPlan {
    pub system: String,
    /// `TrueNAS SCALE 25.10.1`; `None` when the system could not be read.
    pub version: Option<String>,
    /// The live state is known; when not, what the system needs is unknown.
    pub known: bool,
    pub actions: Vec<Action>,
    pub unmanaged: Vec<Unmanaged>,
    /// Things worth knowing that change nothing (forgotten records, ...).
    pub notes: Vec<String>,
    /// Ownership properties to remove whatever else happens (records of vanished tasks,
    /// leftover pending marks): `(dataset, property)`.
    pub forget: Vec<(String, String)>,
    /// Replications the config names that exist on the system but are not this
    /// project's to change.
    #[serde(skip)]
    pub conflicts: Vec<Conflict>,
    /// Snapshot tasks with `adopt: true` that match several tasks made by hand, with
    /// their ids.
    #[serde(skip)]
    pub ambiguous: Vec<(String, Vec<i64>)>,
    /// Ids of this project's snapshot tasks on the system, by name, for references.
    pub task_ids: std::collections::BTreeMap<String, i64>,
    /// Digest of the live state this plan was made from (`None` when unknown).
    pub state: Option<digest::StateDigest>,
    /// Where apply takes this system's lock: its first pool by name.
    pub lock_dataset: Option<String>,
}

/// A replication name taken on the system by a task zfleet may not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub name: String,
    pub id: i64,
    /// The other project that manages it; `None` when made by hand.
    pub project: Option<String>,
}

impl SystemPlan {
    pub fn count(&self, op: Op) -> usize {
        self.actions.iter().filter(|a| a.op == op).count()
    }
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub project: String,
    pub systems: Vec<SystemPlan>,
    /// Live checks and systems that could not be read.
    #[serde(skip)]
    pub problems: Vec<Problem>,
}

impl Plan {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Creates (adoptions count as changes), updates and deletions over the fleet.
    pub fn totals(&self) -> (usize, usize, usize) {
        let sum = |op| self.systems.iter().map(|s| s.count(op)).sum::<usize>();
        (
            sum(Op::Create),
            sum(Op::Update) + sum(Op::Adopt),
            sum(Op::Delete),
        )
    }

    pub fn has_changes(&self) -> bool {
        self.systems.iter().any(|s| !s.actions.is_empty())
    }
}
