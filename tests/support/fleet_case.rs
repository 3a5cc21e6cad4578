//! Generated fleets for property tests of plan and apply: a config (snapshot tasks, one-time
//! snapshots, replications) and one simulator fixture per system, with tasks made by hand,
//! tasks of another project and the spellings TrueNAS stores for them.
//!
//! A case is a list of plain choices (indices, flags); [`Case::render`] turns them into files,
//! dropping or adjusting the choices TrueNAS or the live checks would refuse, so that every
//! case is a fleet that can be applied. Choices shrink to smaller, plainer fleets.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

pub const PROJECT: &str = "prop";
/// Another project whose tasks share the systems.
pub const OTHER: &str = "neighbour";
/// A second project whose config the property tests apply after the first one's.
pub const PROJECT_B: &str = "annex";

pub const SYSTEMS: [&str; 3] = ["nas1", "nas2", "nas3"];
pub const VERSIONS: [&str; 5] = ["13.3", "24.04", "24.10", "25.04", "25.10"];

/// Datasets of every system (parents are created by the fixture loader).
const DATASETS: [&str; 6] = [
    "tank/data",
    "tank/data/docs",
    "tank/data/photos",
    "tank/data/photos/raw",
    "tank/media",
    "backup",
];
/// Empty, read-only datasets that replications may target (one per replication).
const KEPT: [&str; 3] = ["backup/kept0", "backup/kept1", "backup/kept2"];
/// Snapshots on every `tank` dataset, one per schema a source may name.
const SNAPSHOT_NAMES: [&str; 3] = [
    "auto-2025-10-30_12-00",
    "manual-2025-10-30_12-00",
    "daily-20251030-1200",
];

const AUTO: &str = "auto-%Y-%m-%d_%H-%M";
const DAILY: &str = "daily-%Y%m%d-%H%M";
const MANUAL: &str = "manual-%Y-%m-%d_%H-%M";
/// Only tasks made by hand use this one: zfleet never adopts them.
const HAND: &str = "hand-%Y-%m-%d_%H-%M";

/// Datasets a snapshot task of the config may snapshot.
const TASK_DATASETS: [&str; 3] = ["tank/data", "tank/data/photos", "tank/media"];

/// Schedules as a config writes them: presets, cron strings and mappings.
const CONFIG_SCHEDULES: [&str; 9] = [
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "\"0 3 * * sun\"",
    "\"0 0 * * 7\"",
    "\"*/1 * * * *\"",
    "{ every: weekly, day: monday, at: \"01:30\" }",
    "{ minute: \"00\", hour: \"*/1\" }",
];

/// [`hand_schedule`]s as a config writes them.
const MIRROR_SCHEDULES: [&str; 8] = [
    "hourly",
    "{ minute: \"00\", hour: \"*/1\" }",
    "weekly",
    "weekly",
    "\"0 0 * * 7\"",
    "\"0 3 * * sun\"",
    "\"*/1 * * * *\"",
    "monthly",
];

/// Schedules as a person sets them in the web UI: TrueNAS's own spellings of the same times.
fn hand_schedule(i: usize) -> Value {
    let (minute, hour, dom, dow) = [
        ("0", "*", "*", "*"),
        ("00", "*/1", "*", "*"),
        ("0", "0", "*", "7"),
        ("00", "00", "*", "sun"),
        ("0", "0", "*", "0"),
        ("0", "3", "*", "sun"),
        ("*/1", "*", "*", "*"),
        ("0", "0", "1", "*"),
    ][i % 8];
    json!({"minute": minute, "hour": hour, "dom": dom, "month": "*", "dow": dow})
}

const LIFETIMES: [(&str, i64, &str); 5] = [
    ("2 weeks", 2, "WEEK"),
    ("36 hours", 36, "HOUR"),
    ("6 months", 6, "MONTH"),
    ("1 year", 1, "YEAR"),
    ("10 days", 10, "DAY"),
];

#[derive(Debug, Clone)]
pub struct SystemGen {
    pub version: usize,
    /// An SSH connection whose stored host key matches no system, listed first.
    pub decoy_connection: bool,
    /// `prune: true`: tasks nobody manages are deleted.
    pub prune: bool,
    pub hand_tasks: Vec<HandTask>,
    pub hand_reps: Vec<HandRep>,
}

/// A periodic snapshot task made in the web UI.
#[derive(Debug, Clone)]
pub struct HandTask {
    pub dataset: usize,
    pub recursive: bool,
    /// Exclusions, in this order, with a trailing `/` where the version keeps one.
    pub exclude: Vec<usize>,
    pub trailing: bool,
    pub lifetime: usize,
    pub schema: usize,
    pub schedule: usize,
    pub allow_empty: bool,
    pub enabled: bool,
    /// Recorded as another project's.
    pub theirs: bool,
}

/// A LOCAL push replication made in the web UI.
#[derive(Debug, Clone)]
pub struct HandRep {
    pub media_first: bool,
    pub with_media: bool,
    pub recursive: bool,
    pub schemas: Vec<usize>,
    /// Bind the first enabled hand-made task with the `hand-` schema on `tank/data`.
    pub bind: bool,
    pub scheduled: Option<usize>,
    pub enabled: bool,
    pub trailing: bool,
    pub theirs: bool,
}

#[derive(Debug, Clone)]
pub struct TaskGen {
    pub system: usize,
    pub dataset: usize,
    pub recursive: bool,
    pub exclude: Vec<usize>,
    pub schedule: usize,
    pub lifetime: usize,
    /// 0: default, 1: the default written out, 2: `daily-…`.
    pub schema: usize,
    pub allow_empty: bool,
    pub enabled: bool,
    pub adopt: bool,
    /// Copy a task made by hand on the system (dataset, schema and settings, in the
    /// config's spelling) and adopt it.
    pub mirror: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct OnceGen {
    pub system: usize,
    pub dataset: usize,
    /// 0: `once-…` (not there yet), 1: `manual-…` (already there).
    pub schema: usize,
    pub recursive: bool,
}

#[derive(Debug, Clone)]
pub struct SourceGen {
    pub system: usize,
    pub datasets: usize,
    /// Which eligible snapshot tasks of the source system to bind.
    pub tasks: Vec<bool>,
    /// 0: none, 1: auto, 2: manual, 3: both (as a list, in varied order).
    pub schemas: usize,
}

#[derive(Debug, Clone)]
pub struct RepGen {
    pub pull: bool,
    pub sources: Vec<SourceGen>,
    pub target_system: usize,
    pub target_kept: bool,
    /// Write the transport out instead of letting zfleet derive it.
    pub explicit_transport: bool,
    pub recursive: bool,
    pub exclude: bool,
    pub schedule: usize,
    pub retention: usize,
    pub readonly: usize,
    pub hold: bool,
    pub properties: bool,
    pub properties_exclude: bool,
    pub properties_override: bool,
    pub compression: usize,
    pub speed_limit: bool,
    pub retries: u32,
    pub enabled: bool,
    pub adopt: bool,
    /// A task of the same name made by hand before (then `adopt: true`).
    pub preexisting: Option<HandRep>,
}

#[derive(Debug, Clone)]
pub struct Case {
    /// The config's project, and what its task names start with.
    pub project: &'static str,
    pub prefix: &'static str,
    pub systems: Vec<SystemGen>,
    pub tasks: Vec<TaskGen>,
    pub snapshots: Vec<OnceGen>,
    pub reps: Vec<RepGen>,
}

/// A rendered case: the config text and one fixture per system, by file name.
#[derive(Debug, Clone)]
pub struct Files {
    pub config: String,
    pub fixtures: Vec<(String, String)>,
    /// `(system, task)`: config snapshot tasks that adopt a task made by hand which
    /// already is what they ask for, in TrueNAS's spelling.
    pub exact: Vec<(String, String)>,
}

impl std::fmt::Display for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "--- zfleet.yaml\n{}", self.config)?;
        if !self.exact.is_empty() {
            writeln!(f, "(adopted as they are: {:?})\n", self.exact)?;
        }
        for (name, text) in &self.fixtures {
            writeln!(f, "--- {name}\n{text}")?;
        }
        Ok(())
    }
}

fn hand_task() -> impl Strategy<Value = HandTask> {
    (
        (
            0..3usize,
            any::<bool>(),
            prop::collection::vec(0..2usize, 0..=2),
        ),
        (any::<bool>(), 0..LIFETIMES.len(), 0..3usize, 0..8usize),
        (any::<bool>(), any::<bool>(), prop::bool::weighted(0.25)),
    )
        .prop_map(
            |(
                (dataset, recursive, exclude),
                (trailing, lifetime, schema, schedule),
                (allow_empty, enabled, theirs),
            )| HandTask {
                dataset,
                recursive,
                exclude,
                trailing,
                lifetime,
                schema,
                schedule,
                allow_empty,
                enabled,
                theirs,
            },
        )
}

fn hand_rep() -> impl Strategy<Value = HandRep> {
    (
        (any::<bool>(), any::<bool>(), any::<bool>()),
        (
            prop::collection::vec(0..2usize, 1..=2),
            any::<bool>(),
            prop::option::of(0..8usize),
        ),
        (any::<bool>(), any::<bool>(), prop::bool::weighted(0.25)),
    )
        .prop_map(
            |(
                (media_first, with_media, recursive),
                (schemas, bind, scheduled),
                (enabled, trailing, theirs),
            )| HandRep {
                media_first,
                with_media,
                recursive,
                schemas,
                bind,
                scheduled,
                enabled,
                trailing,
                theirs,
            },
        )
}

fn system() -> impl Strategy<Value = SystemGen> {
    (
        (0..VERSIONS.len(), any::<bool>(), prop::bool::weighted(0.2)),
        prop::collection::vec(hand_task(), 0..=3),
        prop::collection::vec(hand_rep(), 0..=2),
    )
        .prop_map(
            |((version, decoy_connection, prune), hand_tasks, hand_reps)| SystemGen {
                version,
                decoy_connection,
                prune,
                hand_tasks,
                hand_reps,
            },
        )
}

fn task() -> impl Strategy<Value = TaskGen> {
    (
        (0..3usize, 0..TASK_DATASETS.len(), any::<bool>()),
        prop::collection::vec(0..2usize, 0..=2),
        (0..CONFIG_SCHEDULES.len(), 0..LIFETIMES.len(), 0..3usize),
        (any::<bool>(), prop::bool::weighted(0.8), any::<bool>()),
        prop::option::weighted(0.7, 0..3usize),
    )
        .prop_map(
            |(
                (system, dataset, recursive),
                exclude,
                (schedule, lifetime, schema),
                (allow_empty, enabled, adopt),
                mirror,
            )| TaskGen {
                system,
                dataset,
                recursive,
                exclude,
                schedule,
                lifetime,
                schema,
                allow_empty,
                enabled,
                adopt,
                mirror,
            },
        )
}

fn once() -> impl Strategy<Value = OnceGen> {
    (0..3usize, 0..3usize, 0..2usize, any::<bool>()).prop_map(
        |(system, dataset, schema, recursive)| OnceGen {
            system,
            dataset,
            schema,
            recursive,
        },
    )
}

fn source() -> impl Strategy<Value = SourceGen> {
    (
        0..3usize,
        0..5usize,
        prop::collection::vec(any::<bool>(), 0..=3),
        0..4usize,
    )
        .prop_map(|(system, datasets, tasks, schemas)| SourceGen {
            system,
            datasets,
            tasks,
            schemas,
        })
}

fn rep() -> impl Strategy<Value = RepGen> {
    (
        (
            any::<bool>(),
            prop::collection::vec(source(), 1..=2),
            0..3usize,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            0..8usize,
            0..3usize,
            0..3usize,
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (0..4usize, any::<bool>(), 1..6u32, prop::bool::weighted(0.8)),
        (any::<bool>(), prop::option::weighted(0.3, hand_rep())),
    )
        .prop_map(
            |(
                (pull, sources, target_system, target_kept, explicit_transport),
                (recursive, exclude, schedule, retention, readonly),
                (hold, properties, properties_exclude, properties_override),
                (compression, speed_limit, retries, enabled),
                (adopt, preexisting),
            )| RepGen {
                pull,
                sources,
                target_system,
                target_kept,
                explicit_transport,
                recursive,
                exclude,
                schedule,
                retention,
                readonly,
                hold,
                properties,
                properties_exclude,
                properties_override,
                compression,
                speed_limit,
                retries,
                enabled,
                adopt,
                preexisting,
            },
        )
}

pub fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(system(), 1..=3),
        prop::collection::vec(task(), 0..=4),
        prop::collection::vec(once(), 0..=2),
        prop::collection::vec(rep(), 0..=3),
    )
        .prop_map(|(systems, tasks, snapshots, reps)| Case {
            project: PROJECT,
            prefix: "",
            systems,
            tasks,
            snapshots,
            reps,
        })
}

/// A case and a later config for the same systems (of the same project, or of the other).
pub fn evolution() -> impl Strategy<Value = (Case, Case)> {
    (
        case(),
        prop::collection::vec(task(), 0..=4),
        prop::collection::vec(once(), 0..=2),
        prop::collection::vec(rep(), 0..=3),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(first, tasks, snapshots, reps, neighbour)| {
            // Sometimes the later config is a second project's, beside the first.
            let (project, prefix) = if neighbour {
                (PROJECT_B, "b-")
            } else {
                (PROJECT, "")
            };
            let second = Case {
                project,
                prefix,
                systems: first.systems.clone(),
                tasks,
                snapshots,
                reps,
            };
            (first, second)
        })
}

/// A YAML flow rendering of a JSON value: plain scalars where YAML reads them back as the
/// same string, quoted otherwise.
pub fn flow(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-.".contains(c))
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && !["true", "false", "yes", "no", "null", "on", "off", "y", "n"]
                    .contains(&s.to_ascii_lowercase().as_str());
            if plain {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", flow(&json!(k)), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The ed25519 host key the simulator gives a system that names none.
fn host_key(system: &str) -> String {
    zfleet::sim::fixture::fake_host_keys(system)
        .into_iter()
        .find(|k| k.starts_with("ssh-ed25519 "))
        .unwrap_or_default()
}

fn is_below(ds: &str, parent: &str) -> bool {
    ds == parent || ds.starts_with(&format!("{parent}/"))
}

/// The exclusions of a task on `dataset` that `picks` choose, in pick order, unique.
fn task_exclude(dataset: &str, picks: &[usize]) -> Vec<String> {
    let children: &[&str] = match dataset {
        "tank/data" => &["tank/data/docs", "tank/data/photos/raw"],
        "tank/data/photos" => &["tank/data/photos/raw"],
        _ => &[],
    };
    let mut out: Vec<String> = Vec::new();
    for p in picks {
        if let Some(c) = children.get(p % children.len().max(1))
            && !out.iter().any(|x| x == c)
        {
            out.push(c.to_string());
        }
    }
    out
}

/// One config snapshot task, as the render keeps it for binding.
struct Task {
    name: String,
    system: usize,
    dataset: String,
    recursive: bool,
    exclude: Vec<String>,
    enabled: bool,
}

impl Case {
    fn system_count(&self) -> usize {
        self.systems.len()
    }

    fn core(&self, system: usize) -> bool {
        VERSIONS[self.systems[system].version] == "13.3"
    }

    fn replication_verbatim(&self, system: usize) -> bool {
        VERSIONS[self.systems[system].version] == "25.10"
    }

    fn snapshot_task_verbatim(&self, system: usize) -> bool {
        matches!(VERSIONS[self.systems[system].version], "25.04" | "25.10")
    }

    /// The config and the fixtures.
    pub fn render(&self) -> Files {
        let n = self.system_count();
        let mut config = format!("project: {}\nsystems:\n", self.project);
        for (name, sys) in SYSTEMS.iter().zip(&self.systems) {
            config.push_str(&format!(
                "  {name}: {{ simulator: {{ fixture: {name}.yaml }}{} }}\n",
                if sys.prune { ", prune: true" } else { "" }
            ));
        }

        // Snapshot tasks.
        let mut tasks: Vec<Task> = Vec::new();
        let mut lines = Vec::new();
        let mut exact = Vec::new();
        // (system, dataset, schema) of the tasks that adopt, in name order.
        let mut adopting: Vec<(usize, usize, &str)> = Vec::new();
        let mut mirrored: Vec<(usize, usize)> = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            let system = t.system % n;
            let name = format!("{}st{i}", self.prefix);
            let hand = &self.systems[system].hand_tasks;
            let copy = t
                .mirror
                .filter(|_| !hand.is_empty())
                .map(|k| (k % hand.len().max(1), &hand[k % hand.len().max(1)]))
                .filter(|(_, h)| h.schema != 2 && !h.theirs);
            let t = match copy {
                Some((k, h)) => {
                    let schema = if h.schema == 1 { 2 } else { t.schema % 2 };
                    let key = (system, h.dataset, [AUTO, AUTO, DAILY][schema]);
                    if !mirrored.contains(&(system, k)) && !adopting.contains(&key) {
                        exact.push((SYSTEMS[system].to_string(), name.clone()));
                    }
                    mirrored.push((system, k));
                    TaskGen {
                        system,
                        dataset: h.dataset,
                        recursive: h.recursive,
                        exclude: h.exclude.clone(),
                        schedule: h.schedule,
                        lifetime: h.lifetime,
                        schema,
                        allow_empty: h.allow_empty,
                        enabled: h.enabled,
                        adopt: true,
                        mirror: Some(k),
                    }
                }
                None => TaskGen {
                    mirror: None,
                    ..t.clone()
                },
            };
            let dataset = TASK_DATASETS[t.dataset].to_string();
            let exclude = if t.recursive {
                task_exclude(&dataset, &t.exclude)
            } else {
                vec![]
            };
            let schema = [AUTO, AUTO, DAILY][t.schema];
            if t.adopt {
                adopting.push((system, t.dataset, schema));
            }
            let schedule = if t.mirror.is_some() {
                MIRROR_SCHEDULES[t.schedule]
            } else {
                CONFIG_SCHEDULES[t.schedule]
            };
            let mut line = format!(
                "  {name}: {{ system: {}, dataset: {dataset}",
                SYSTEMS[system]
            );
            if t.recursive {
                line.push_str(", recursive: true");
            }
            if !exclude.is_empty() {
                line.push_str(&format!(", exclude: {}", flow(&json!(exclude))));
            }
            line.push_str(&format!(
                ", schedule: {schedule}, lifetime: {}",
                LIFETIMES[t.lifetime].0
            ));
            if t.schema > 0 {
                line.push_str(&format!(", naming_schema: {}", flow(&json!(schema))));
            }
            if !t.allow_empty {
                line.push_str(", allow_empty: false");
            }
            if !t.enabled {
                line.push_str(", enabled: false");
            }
            if t.adopt {
                line.push_str(", adopt: true");
            }
            line.push_str(" }");
            lines.push(line);
            tasks.push(Task {
                name,
                system,
                dataset,
                recursive: t.recursive,
                exclude,
                enabled: t.enabled,
            });
        }
        if !lines.is_empty() {
            config.push_str("snapshot_tasks:\n");
            config.push_str(&lines.join("\n"));
            config.push('\n');
        }

        // One-time snapshots, each (system, dataset, schema) once, as the config demands.
        let mut seen = Vec::new();
        for s in &self.snapshots {
            let key = (s.system % n, s.dataset, s.schema);
            if seen.contains(&key) {
                continue;
            }
            if seen.is_empty() {
                config.push_str("snapshots:\n");
            }
            seen.push(key);
            let schema = ["once-%Y-%m-%d_%H-%M", MANUAL][s.schema];
            config.push_str(&format!(
                "  - {{ system: {}, dataset: {}, naming_schema: {}{} }}\n",
                SYSTEMS[s.system % n],
                TASK_DATASETS[s.dataset],
                flow(&json!(schema)),
                if s.recursive { ", recursive: true" } else { "" }
            ));
        }

        // Replications, and the same-named tasks made by hand before, per system.
        let mut preexisting: Vec<Vec<(String, HandRep)>> = vec![vec![]; n];
        let mut lines = Vec::new();
        for (i, r) in self.reps.iter().enumerate() {
            let name = format!("{}rep{i}", self.prefix);
            let target_system = r.target_system % n;
            // Sources on distinct systems.
            let mut sources: Vec<&SourceGen> = Vec::new();
            for s in &r.sources {
                if !sources.iter().any(|x| x.system % n == s.system % n) {
                    sources.push(s);
                }
            }
            let source_sets: Vec<Vec<&str>> = sources
                .iter()
                .map(|s| match s.datasets {
                    0 => vec!["tank/data"],
                    1 => vec!["tank/media"],
                    2 => vec!["tank/data", "tank/media"],
                    3 => vec!["tank/media", "tank/data"],
                    _ => vec!["tank/data/photos"],
                })
                .collect();
            // An exclusion must be below a source dataset of every task.
            let exclude: Vec<String> =
                if r.recursive && r.exclude && source_sets.iter().all(|d| d.contains(&"tank/data"))
                {
                    vec!["tank/data/docs".into()]
                } else {
                    vec![]
                };
            let runs_on: Vec<usize> = sources
                .iter()
                .map(|s| if r.pull { target_system } else { s.system % n })
                .collect();
            let transports: Vec<&str> = sources
                .iter()
                .map(|s| {
                    if s.system % n == target_system {
                        "LOCAL"
                    } else {
                        "SSH"
                    }
                })
                .collect();
            // An explicit transport must suit every source.
            let explicit = r.explicit_transport && transports.iter().all(|t| *t == transports[0]);
            let all_ssh = transports.iter().all(|t| *t == "SSH");

            let mut source_lines = Vec::new();
            let mut every_source_bound = true;
            for (k, s) in sources.iter().enumerate() {
                let system = s.system % n;
                let datasets = &source_sets[k];
                let eligible: Vec<&Task> = tasks
                    .iter()
                    .filter(|t| {
                        // The config refuses snapshot tasks on a pull source.
                        !r.pull
                            && t.system == system
                            && datasets
                                .iter()
                                .all(|d| *d == t.dataset || (t.recursive && is_below(d, &t.dataset)))
                            && datasets
                                .iter()
                                .all(|d| !t.exclude.iter().any(|x| is_below(d, x)))
                            && (!r.recursive || t.recursive)
                            && (!r.enabled || t.enabled)
                            // TrueNAS: a recursive replication excludes what its tasks do.
                            && (!r.recursive
                                || t.exclude.iter().all(|x| {
                                    !datasets.iter().any(|d| is_below(x, d)) || exclude.contains(x)
                                }))
                    })
                    .collect();
                let bound: Vec<&str> = eligible
                    .iter()
                    .zip(&s.tasks)
                    .filter(|(_, pick)| **pick)
                    .map(|(t, _)| t.name.as_str())
                    .collect();
                let mut schemas: Vec<&str> = match s.schemas {
                    0 => vec![],
                    1 => vec![AUTO],
                    2 => vec![MANUAL],
                    _ => {
                        if k % 2 == 0 {
                            vec![MANUAL, AUTO]
                        } else {
                            vec![AUTO, MANUAL]
                        }
                    }
                };
                if bound.is_empty() && schemas.is_empty() {
                    schemas.push(AUTO);
                }
                every_source_bound &= !bound.is_empty();
                let mut line = format!(
                    "{{ system: {}, datasets: {}",
                    SYSTEMS[system],
                    flow(&json!(datasets))
                );
                if !bound.is_empty() {
                    line.push_str(&format!(", snapshot_tasks: {}", flow(&json!(bound))));
                }
                match schemas.len() {
                    0 => {}
                    1 => line.push_str(&format!(", naming_schema: {}", flow(&json!(schemas[0])))),
                    _ => line.push_str(&format!(", naming_schema: {}", flow(&json!(schemas)))),
                }
                line.push_str(" }");
                source_lines.push(line);
            }

            let target = if r.target_kept {
                KEPT[i % KEPT.len()].to_string()
            } else {
                format!("backup/r{i}")
            };
            let mut line = format!(
                "  {name}:\n    sources: [{}]\n    target: {{ system: {}, dataset: {target} }}\n",
                source_lines.join(", "),
                SYSTEMS[target_system]
            );
            let mut opts: Vec<String> = Vec::new();
            if r.pull {
                opts.push("direction: pull".into());
            }
            // SSH+netcat takes neither compression nor a speed limit.
            let netcat = explicit && all_ssh && r.compression == 0 && r.speed_limit;
            if netcat {
                opts.push("transport: ssh+netcat".into());
            } else if explicit {
                opts.push(format!("transport: {}", transports[0].to_ascii_lowercase()));
            }
            if r.recursive {
                opts.push("recursive: true".into());
            }
            if !exclude.is_empty() {
                opts.push(format!("exclude: {}", flow(&json!(exclude))));
            }
            let schedule = match r.schedule {
                0 => "manual",
                1 if !r.pull && every_source_bound => "with_snapshot_tasks",
                1 => "daily",
                2 => "\"0 3 * * sun\"",
                3 => "{ every: weekly, day: 7, at: \"01:30\" }",
                4 => "{ cron: \"*/30 * * * *\" }",
                5 => "hourly",
                6 => "{ minute: \"0\", hour: \"0\", dow: \"sun\" }",
                _ => "",
            };
            if !schedule.is_empty() {
                opts.push(format!("schedule: {schedule}"));
            }
            match r.retention {
                0 => {}
                1 => opts.push("retention: none".into()),
                _ => opts.push("retention: { custom: 4 weeks }".into()),
            }
            let target_readonly = r.target_kept;
            match r.readonly {
                1 => opts.push("readonly: ignore".into()),
                2 if target_readonly => opts.push("readonly: require".into()),
                _ => {}
            }
            if r.hold && !r.pull {
                opts.push("hold_pending_snapshots: true".into());
            }
            if !r.properties {
                opts.push("properties: false".into());
            }
            if r.properties_exclude {
                opts.push("properties_exclude: [mountpoint, sharenfs]".into());
            }
            if r.properties_override && runs_on.iter().all(|s| !self.core(*s)) {
                opts.push("properties_override: { compression: lz4, atime: \"off\" }".into());
            }
            if all_ssh && !netcat {
                match r.compression {
                    1 => opts.push("compression: lz4".into()),
                    2 => opts.push("compression: pigz".into()),
                    3 => opts.push("compression: plzip".into()),
                    _ => {}
                }
                if r.speed_limit {
                    opts.push("speed_limit: 10 MiB/s".into());
                }
            }
            if r.retries != 5 {
                opts.push(format!("retries: {}", r.retries));
            }
            if !r.enabled {
                opts.push("enabled: false".into());
            }
            // A same-named task made by hand is taken over, never refused.
            let pre = r.preexisting.clone();
            if r.adopt || pre.is_some() {
                opts.push("adopt: true".into());
            }
            for o in opts {
                line.push_str(&format!("    {o}\n"));
            }
            lines.push(line);
            if let Some(pre) = pre {
                let shared = |on: usize| runs_on.iter().filter(|x| **x == on).count() > 1;
                for (k, on) in runs_on.iter().enumerate() {
                    let task_name = if shared(*on) {
                        format!("{name} ({})", SYSTEMS[sources[k].system % n])
                    } else {
                        name.clone()
                    };
                    if !preexisting[*on].iter().any(|(x, _)| *x == task_name) {
                        preexisting[*on].push((task_name, pre.clone()));
                    }
                }
            }
        }
        if !lines.is_empty() {
            config.push_str("replications:\n");
            config.push_str(&lines.concat());
        }

        let fixtures = (0..n)
            .map(|i| {
                (
                    format!("{}.yaml", SYSTEMS[i]),
                    self.fixture(i, &preexisting[i]),
                )
            })
            .collect();
        Files {
            config,
            fixtures,
            exact,
        }
    }

    fn fixture(&self, i: usize, preexisting: &[(String, HandRep)]) -> String {
        let n = self.system_count();
        let name = SYSTEMS[i];
        let sys = &self.systems[i];
        let mut datasets = Map::new();
        for d in DATASETS {
            datasets.insert(d.into(), json!({}));
        }
        for k in KEPT {
            datasets.insert(k.into(), json!({"readonly": true}));
        }
        let snapshots: Vec<String> = DATASETS
            .iter()
            .filter(|d| d.starts_with("tank/"))
            .flat_map(|d| SNAPSHOT_NAMES.iter().map(move |s| format!("{d}@{s}")))
            .collect();

        // Keychain: one key pair, a connection to every other system (a decoy first).
        let mut keychain = vec![json!({
            "id": 1, "name": "replication key", "type": "SSH_KEY_PAIR",
            "attributes": {"public_key": format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey{name} zfleet@{name}")}
        })];
        if sys.decoy_connection {
            keychain.push(json!({
                "id": 2, "name": "old", "type": "SSH_CREDENTIALS",
                "attributes": {"host": "192.0.2.99", "port": 22, "username": "root", "private_key": 1,
                               "remote_host_key": host_key("retired")}
            }));
        }
        for (j, other) in SYSTEMS[..n].iter().enumerate() {
            if j != i {
                keychain.push(json!({
                    "id": 10 + j, "name": format!("to-{other}"), "type": "SSH_CREDENTIALS",
                    "attributes": {"host": format!("{other}.lan"), "port": 22, "username": "root",
                                   "private_key": 1, "remote_host_key": host_key(other)}
                }));
            }
        }

        // Tasks made by hand.
        let verbatim = self.snapshot_task_verbatim(i);
        let mut snapshot_tasks = Vec::new();
        let mut theirs: Vec<(String, String)> = Vec::new();
        for (k, t) in sys.hand_tasks.iter().enumerate() {
            let id = k + 1;
            let dataset = TASK_DATASETS[t.dataset];
            let exclude: Vec<String> = if t.recursive {
                task_exclude(dataset, &t.exclude)
                    .into_iter()
                    .map(|x| {
                        if t.trailing && verbatim {
                            format!("{x}/")
                        } else {
                            x
                        }
                    })
                    .collect()
            } else {
                vec![]
            };
            let (_, value, unit) = LIFETIMES[t.lifetime];
            let schema = [AUTO, DAILY, HAND][t.schema];
            snapshot_tasks.push(json!({
                "id": id,
                "dataset": dataset,
                "recursive": t.recursive,
                "exclude": exclude,
                "lifetime_value": value,
                "lifetime_unit": unit,
                "naming_schema": schema,
                "schedule": hand_schedule(t.schedule),
                "allow_empty": t.allow_empty,
                "enabled": t.enabled,
            }));
            if t.theirs {
                theirs.push((dataset.into(), format!("zfleet:{OTHER}:st-{id}")));
            }
        }
        // The first enabled `hand-` task on tank/data without exclusions, for binding.
        let bindable = sys
            .hand_tasks
            .iter()
            .enumerate()
            .find(|(_, t)| {
                t.schema == 2
                    && t.enabled
                    && TASK_DATASETS[t.dataset] == "tank/data"
                    && (!t.recursive || t.exclude.is_empty())
            })
            .map(|(k, _)| k + 1);

        let verbatim = self.replication_verbatim(i);
        let mut replications = Vec::new();
        let hand = sys
            .hand_reps
            .iter()
            .enumerate()
            .map(|(k, r)| (format!("hand-{k}"), r))
            .chain(preexisting.iter().map(|(n, r)| (n.clone(), r)));
        for (k, (rep_name, r)) in hand.enumerate() {
            let id = k + 1;
            let slash = |p: &str| {
                if r.trailing && verbatim {
                    format!("{p}/")
                } else {
                    p.to_string()
                }
            };
            let mut sources = vec![slash("tank/data")];
            if r.with_media {
                sources.push(slash("tank/media"));
                if r.media_first {
                    sources.reverse();
                }
            }
            let schemas: Vec<&str> = {
                let mut s: Vec<&str> = r.schemas.iter().map(|x| [AUTO, HAND][*x]).collect();
                s.dedup();
                s
            };
            let bind: Vec<usize> = match bindable {
                Some(id) if r.bind && !r.with_media => vec![id],
                _ => vec![],
            };
            let mut row = json!({
                "id": id,
                "name": rep_name,
                "direction": "PUSH",
                "transport": "LOCAL",
                "source_datasets": sources,
                "target_dataset": slash(&format!("backup/hand-{k}")),
                "recursive": r.recursive,
                "exclude": if r.recursive { vec![slash("tank/data/docs")] } else { vec![] },
                "periodic_snapshot_tasks": bind,
                "also_include_naming_schema": schemas,
                "auto": r.scheduled.is_some(),
                "retention_policy": "SOURCE",
                "enabled": r.enabled,
            });
            if let (Some(s), Some(m)) = (r.scheduled, row.as_object_mut()) {
                m.insert("schedule".into(), hand_schedule(s));
            }
            replications.push(row);
            if r.theirs && !preexisting.iter().any(|(n, _)| *n == rep_name) {
                theirs.push(("tank/data".into(), format!("zfleet:{OTHER}:rep-{id}")));
            }
        }
        for (dataset, key) in theirs {
            let props = datasets
                .get_mut(&dataset)
                .and_then(Value::as_object_mut)
                .map(|d| d.entry("user_properties").or_insert_with(|| json!({})));
            if let Some(Value::Object(p)) = props {
                p.insert(key, json!("{\"name\":\"theirs\"}"));
            }
        }

        let mut out = format!(
            "version: \"{}\"\nhostname: {name}\nnow: 2025-10-30T13:00:00Z\nservices: {{ ssh: {{ enable: true, running: true }} }}\n",
            VERSIONS[sys.version]
        );
        out.push_str("datasets:\n");
        for (d, v) in &datasets {
            out.push_str(&format!("  {d}: {}\n", flow(v)));
        }
        out.push_str("snapshots:\n");
        for s in &snapshots {
            out.push_str(&format!("  - {s}\n"));
        }
        out.push_str("keychain:\n");
        for k in &keychain {
            out.push_str(&format!("  - {}\n", flow(k)));
        }
        if !snapshot_tasks.is_empty() {
            out.push_str("snapshot_tasks:\n");
            for t in &snapshot_tasks {
                out.push_str(&format!("  - {}\n", flow(t)));
            }
        }
        if !replications.is_empty() {
            out.push_str("replications:\n");
            for r in &replications {
                out.push_str(&format!("  - {}\n", flow(r)));
            }
        }
        out
    }
}
