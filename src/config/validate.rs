//! From the raw document to the validated model: references resolved, defaults applied,
//! schedules normalised, and every problem found on the way reported with its span.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::codes as c;
use super::de::{Sp, suggest};
use super::load::{Document, Named};
use super::node::Span;
use super::raw::{self, RawSchedule, RawScheduleMap};
use crate::diag::Problem;
use crate::model::dataset::{is_below, is_same_or_below, validate_name};
use crate::model::schedule::{self, SchedField, ScheduleInput};
use crate::model::{
    self, Compression, Config, DEFAULT_NAMING_SCHEMA, Direction, Lifetime, LifetimeUnit, Readonly,
    Replication, ReplicationSource, ReplicationTarget, Retention, RunSchedule, SimSystem, Snapshot,
    SnapshotTask, SshSystem, System, SystemKind, TnSchedule, Transport,
};
use crate::parallel;

/// TrueNAS versions the simulator can play.
pub const SIM_VERSIONS: &[&str] = &["13.0", "13.3", "24.04", "24.10", "25.04", "25.10"];

/// Default naming schema of one-time snapshots.
pub const DEFAULT_MANUAL_SCHEMA: &str = "manual-%Y-%m-%d_%H-%M";

/// Validates `doc` (read from `path`) into the model; all problems at once.
pub fn validate(doc: &Document, path: &Path) -> (Config, Vec<Problem>) {
    let mut v = Validator {
        doc,
        problems: Vec::new(),
    };
    let config = v.config(path);
    (config, v.problems)
}

struct Validator<'d> {
    doc: &'d Document,
    problems: Vec<Problem>,
}

impl<'d> Validator<'d> {
    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: &str,
        help: impl Into<String>,
    ) {
        let p = self.doc.problem(code, span, message, label).help(help);
        self.problems.push(p);
    }

    /// `check` applied to every item, on every core for a large section (each thread with its
    /// own problem list); results and problems in item order.
    fn each<T: Sync, R: Send>(
        &mut self,
        items: &'d [T],
        check: impl Fn(&mut Validator<'d>, &'d T) -> Option<R> + Sync,
    ) -> Vec<R> {
        let doc = self.doc;
        let threads = if items.len() > parallel::MIN_ITEMS {
            parallel::threads()
        } else {
            1
        };
        let ranges = parallel::ranges(items.len(), threads * 4);
        let parts = parallel::map(&ranges, threads, |range| {
            let mut v = Validator {
                doc,
                problems: Vec::new(),
            };
            let out: Vec<R> = items[range.clone()]
                .iter()
                .filter_map(|item| check(&mut v, item))
                .collect();
            (out, v.problems)
        });
        let mut out = Vec::with_capacity(items.len());
        for (part, mut problems) in parts {
            out.extend(part);
            self.problems.append(&mut problems);
        }
        out
    }

    fn config(&mut self, path: &Path) -> Config {
        let project = self.project();
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let systems = self.systems(&base, &project);
        let snapshot_tasks = self.snapshot_tasks(&systems);
        let snapshots = self.snapshots(&systems);
        let replications = self.replications(&systems, &snapshot_tasks);
        Config {
            project,
            systems,
            snapshot_tasks,
            snapshots,
            replications,
        }
    }

    fn project(&mut self) -> String {
        let Some((name, span)) = self.doc.project.clone() else {
            let p = Problem::error(c::PROJECT, "the config has no `project`")
                .with_source(self.doc.source.clone())
                .at(Span { offset: 0, len: 0 }, "add it here")
                .help("add `project: <name>` (e.g. `project: homelab`): zfleet marks what it manages on the systems with it");
            self.problems.push(p);
            return "default".into();
        };
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
            && name.chars().all(|ch| {
                ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '-' | '_' | '.')
            });
        if !ok {
            self.err(
                c::PROJECT,
                span,
                format!("`{name}` cannot be a project name"),
                "project name",
                "use 1 to 64 lower-case letters, digits, `-`, `_` or `.`, starting with a letter or digit",
            );
        }
        name
    }

    fn systems(&mut self, base: &Path, project: &str) -> BTreeMap<String, System> {
        let mut out = BTreeMap::new();
        for Named { name, span, raw } in &self.doc.systems {
            let kind = match (&raw.host, &raw.simulator) {
                (Some(host), None) => {
                    if let Some(k) = &raw.host_key {
                        self.host_key(k);
                    }
                    SystemKind::Ssh(SshSystem {
                        host: host.value.clone(),
                        port: raw.port.as_ref().map(|p| p.value),
                        user: raw.user.as_ref().map(|u| u.value.clone()),
                        identity_file: raw.identity_file.as_ref().map(|f| expand_home(&f.value)),
                        host_key: raw.host_key.as_ref().map(|k| k.value.clone()),
                        known_hosts: raw.known_hosts.as_ref().map(|f| expand_home(&f.value)),
                        replication_address: raw
                            .replication_address
                            .as_ref()
                            .map(|a| a.value.clone()),
                        sudo: raw.sudo.as_ref().is_some_and(|s| s.value),
                    })
                }
                (None, Some(sim)) => {
                    let ssh_only: [(&str, Option<Span>); 6] = [
                        ("port", raw.port.as_ref().map(|x| x.span)),
                        ("user", raw.user.as_ref().map(|x| x.span)),
                        ("identity_file", raw.identity_file.as_ref().map(|x| x.span)),
                        ("host_key", raw.host_key.as_ref().map(|x| x.span)),
                        ("known_hosts", raw.known_hosts.as_ref().map(|x| x.span)),
                        ("sudo", raw.sudo.as_ref().map(|x| x.span)),
                    ];
                    for (key, span) in ssh_only {
                        if let Some(span) = span {
                            self.err(
                                c::SYSTEM_KIND,
                                span,
                                format!("`{key}` has no meaning for a simulated system"),
                                "SSH setting",
                                "remove it, or replace `simulator` with `host` to reach a real system",
                            );
                        }
                    }
                    let version = sim.version.as_ref().map(|v| {
                        if !SIM_VERSIONS.contains(&v.value.0.as_str()) {
                            self.err(
                                c::SIM_VERSION,
                                v.span,
                                format!("the simulator has no TrueNAS version `{}`", v.value.0),
                                "version",
                                format!("use one of {}", SIM_VERSIONS.join(", ")),
                            );
                        }
                        v.value.0.clone()
                    });
                    SystemKind::Simulator(SimSystem {
                        fixture: sim.fixture.as_ref().map(|f| base.join(&f.value)),
                        version,
                        state_file: sim_state_dir(base, project).join(format!("{name}.json")),
                    })
                }
                (Some(host), Some(_)) => {
                    self.err(
                        c::SYSTEM_KIND,
                        host.span,
                        format!("system `{name}` has both `host` and `simulator`"),
                        "host",
                        "a system is either reached over SSH (`host`) or simulated (`simulator`), not both",
                    );
                    continue;
                }
                (None, None) => {
                    self.err(
                        c::SYSTEM_KIND,
                        *span,
                        format!("system `{name}` has neither `host` nor `simulator`"),
                        "this system",
                        "add `host: <name or address>` to reach it over SSH, or `simulator: {}` for a simulated one",
                    );
                    continue;
                }
            };
            let connect_timeout = self.timeout(raw.connect_timeout.as_ref());
            let timeout = self.timeout(raw.timeout.as_ref());
            out.insert(
                name.clone(),
                System {
                    name: name.clone(),
                    kind,
                    connect_timeout,
                    timeout,
                },
            );
        }
        out
    }

    fn timeout(&mut self, value: Option<&Sp<raw::Text>>) -> Option<std::time::Duration> {
        let value = value?;
        match model::duration::parse_timeout(&value.value.0) {
            Ok(d) => Some(d),
            Err(why) => {
                self.err(
                    c::TIMEOUT,
                    value.span,
                    why,
                    "timeout",
                    "write seconds (`30`) or a number and a unit (`30s`, `2m`, `5 minutes`), at most a day",
                );
                None
            }
        }
    }

    fn host_key(&mut self, key: &Sp<String>) {
        let ok = key.value.strip_prefix("SHA256:").is_some_and(|b64| {
            (43..=44).contains(&b64.len())
                && b64
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '/' | '='))
        });
        if !ok {
            self.err(
                c::HOST_KEY,
                key.span,
                format!("`{}` is not a SHA256 host key fingerprint", key.value),
                "host key",
                "pin the fingerprint as `ssh-keyscan HOST | ssh-keygen -lf -` prints it, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
            );
        }
    }

    /// Checks that `system` names a system; suggests the closest one if not.
    fn system_ref(&mut self, systems: &BTreeMap<String, System>, system: &Sp<String>) -> bool {
        if systems.contains_key(&system.value)
            || self.doc.systems.iter().any(|s| s.name == system.value)
        {
            return true;
        }
        let names: Vec<&str> = self.doc.systems.iter().map(|s| s.name.as_str()).collect();
        let help = match suggest(&system.value, &names) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "define it under `systems:`".to_string(),
            None => format!("the systems are {}", names.join(", ")),
        };
        self.err(
            c::SYSTEM_UNKNOWN,
            system.span,
            format!("unknown system `{}`", system.value),
            "not defined under `systems`",
            help,
        );
        false
    }

    fn dataset(&mut self, ds: &Sp<String>) -> bool {
        match validate_name(&ds.value) {
            Ok(()) => true,
            Err(why) => {
                self.err(
                    c::DATASET_NAME,
                    ds.span,
                    format!("`{}` is not a valid dataset name", ds.value),
                    "dataset",
                    why,
                );
                false
            }
        }
    }

    fn naming_schema(&mut self, schema: &Sp<String>) {
        if let Err(why) = model::naming::validate(&schema.value) {
            self.err(
                "zfleet::naming::invalid",
                schema.span,
                why,
                "naming schema",
                "a naming schema needs %Y %m %d %H %M (or %s alone) and only letters, digits, space and `%_.:-`; e.g. auto-%Y-%m-%d_%H-%M",
            );
        }
    }

    fn lifetime(&mut self, text: &Sp<raw::Text>) -> Option<Lifetime> {
        match model::lifetime::parse(&text.value.0) {
            Ok(l) => Some(l),
            Err(why) => {
                self.err(
                    "zfleet::lifetime::invalid",
                    text.span,
                    format!("`{}` is not a lifetime: {why}", text.value.0),
                    "lifetime",
                    "write a number and a unit: `2 weeks`, `36 hours`, `30 days`, `6 months`, `1 year`",
                );
                None
            }
        }
    }

    fn schedule(&mut self, sched: &Sp<RawSchedule>) -> Option<TnSchedule> {
        match &sched.value {
            RawSchedule::Text(text) => match schedule::resolve_text(text) {
                Ok(s) => Some(s),
                Err(e) => {
                    let p = self
                        .doc
                        .problem(e.code, sched.span, e.message, "schedule")
                        .help(e.help);
                    self.problems.push(p);
                    None
                }
            },
            RawSchedule::Map(map) => {
                let input = ScheduleInput {
                    every: text(&map.every),
                    at: text(&map.at),
                    day: text(&map.day),
                    cron: text(&map.cron),
                    minute: text(&map.minute),
                    hour: text(&map.hour),
                    dom: text(&map.dom),
                    month: text(&map.month),
                    dow: text(&map.dow),
                    begin: text(&map.begin),
                    end: text(&map.end),
                };
                match schedule::resolve_map(&input) {
                    Ok(s) => Some(s),
                    Err(errors) => {
                        for e in errors {
                            let span = field_span(map, e.field).unwrap_or(sched.span);
                            let p = self
                                .doc
                                .problem(e.code, span, e.message, "schedule")
                                .help(e.help);
                            self.problems.push(p);
                        }
                        None
                    }
                }
            }
        }
    }

    /// Exclude rules shared by snapshot tasks and one-time snapshots.
    fn excludes(
        &mut self,
        exclude: &Option<Sp<Vec<Sp<String>>>>,
        recursive: bool,
        dataset: &str,
        not_recursive: &str,
        not_child: &str,
    ) -> Vec<String> {
        let Some(list) = exclude else {
            return Vec::new();
        };
        if list.value.is_empty() {
            return Vec::new();
        }
        if !recursive {
            self.err(
                c::EXCLUDE_NOT_RECURSIVE,
                list.span,
                not_recursive,
                "exclude",
                "set `recursive: true`, or remove `exclude`",
            );
        }
        let mut out = Vec::new();
        for e in &list.value {
            if !self.dataset(e) {
                continue;
            }
            if !is_below(&e.value, dataset) {
                self.err(
                    c::EXCLUDE_NOT_CHILD,
                    e.span,
                    not_child,
                    "not below the dataset",
                    format!("exclude children of `{dataset}`, such as `{dataset}/scratch`"),
                );
            }
            out.push(e.value.clone());
        }
        out
    }

    fn snapshot_tasks(
        &mut self,
        systems: &BTreeMap<String, System>,
    ) -> BTreeMap<String, SnapshotTask> {
        let doc = self.doc;
        let tasks = self.each(&doc.snapshot_tasks, |v, Named { name, raw, .. }| {
            v.system_ref(systems, &raw.system);
            v.dataset(&raw.dataset);
            let recursive = flag(&raw.recursive, false);
            let exclude = v.excludes(
                &raw.exclude,
                recursive,
                &raw.dataset.value,
                "Excluding datasets is not necessary for non-recursive periodic snapshot tasks",
                "Excluded dataset should be a child or other descendant of the selected dataset",
            );
            let schedule = match &raw.schedule {
                Some(s) => v.schedule(s),
                None => schedule::resolve_text("hourly").ok(),
            };
            let lifetime = match &raw.lifetime {
                Some(l) => v.lifetime(l),
                None => Some(Lifetime {
                    value: 2,
                    unit: LifetimeUnit::Week,
                }),
            };
            let naming_schema = match &raw.naming_schema {
                Some(s) => {
                    v.naming_schema(s);
                    s.value.clone()
                }
                None => DEFAULT_NAMING_SCHEMA.to_string(),
            };
            let (Some(schedule), Some(lifetime)) = (schedule, lifetime) else {
                return None;
            };
            Some((
                name.clone(),
                SnapshotTask {
                    name: name.clone(),
                    system: raw.system.value.clone(),
                    dataset: raw.dataset.value.clone(),
                    recursive,
                    exclude,
                    lifetime,
                    naming_schema,
                    schedule,
                    allow_empty: flag(&raw.allow_empty, true),
                    enabled: flag(&raw.enabled, true),
                },
            ))
        });
        tasks.into_iter().collect()
    }

    fn snapshots(&mut self, systems: &BTreeMap<String, System>) -> Vec<Snapshot> {
        let mut out: Vec<Snapshot> = Vec::new();
        let mut seen = BTreeSet::new();
        for (span, raw) in &self.doc.snapshots {
            self.system_ref(systems, &raw.system);
            self.dataset(&raw.dataset);
            let recursive = flag(&raw.recursive, false);
            self.excludes(
                &raw.exclude,
                recursive,
                &raw.dataset.value,
                "This option has no sense for non-recursive snapshots",
                "Excluded dataset should be a child or other descendant of the selected dataset",
            );
            let naming_schema = match &raw.naming_schema {
                Some(s) => {
                    self.naming_schema(s);
                    s.value.clone()
                }
                None => DEFAULT_MANUAL_SCHEMA.to_string(),
            };
            let key = (
                raw.system.value.clone(),
                raw.dataset.value.clone(),
                naming_schema.clone(),
            );
            if !seen.insert(key) {
                self.err(
                    c::SNAPSHOT_DUPLICATE,
                    *span,
                    format!(
                        "the snapshot of `{}` on `{}` with schema `{naming_schema}` is listed twice",
                        raw.dataset.value, raw.system.value
                    ),
                    "second entry",
                    "remove one of the two entries",
                );
                continue;
            }
            out.push(Snapshot {
                system: raw.system.value.clone(),
                dataset: raw.dataset.value.clone(),
                naming_schema,
                recursive,
            });
        }
        out
    }

    fn replications(
        &mut self,
        systems: &BTreeMap<String, System>,
        tasks: &BTreeMap<String, SnapshotTask>,
    ) -> BTreeMap<String, Replication> {
        let doc = self.doc;
        let checked = self.each(&doc.replications, |v, entry| {
            let Named { name, raw, span } = entry;
            v.replication(name, *span, raw, systems, tasks)
                .map(|r| (entry, r))
        });
        let mut targets: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for (Named { name, raw, .. }, r) in &checked {
            let (system, dataset) = (r.target.system.as_str(), r.target.dataset.as_str());
            match targets.get(&(system, dataset)) {
                Some(other) => self.err(
                    c::TARGET_CONFLICT,
                    raw.target.value.dataset.span,
                    format!(
                        "replications `{other}` and `{name}` both write into `{dataset}` on `{system}`"
                    ),
                    "target dataset",
                    "give each replication its own target dataset, e.g. backup/<replication name>",
                ),
                None => {
                    targets.insert((system, dataset), name);
                }
            }
        }
        drop(targets);
        checked
            .into_iter()
            .map(|(entry, r)| (entry.name.clone(), r))
            .collect()
    }

    fn replication(
        &mut self,
        name: &str,
        span: Span,
        raw: &raw::RawReplication,
        systems: &BTreeMap<String, System>,
        tasks: &BTreeMap<String, SnapshotTask>,
    ) -> Option<Replication> {
        let direction = match raw.direction.as_ref().map(|d| d.value) {
            Some(raw::RawDirection::Pull) => Direction::Pull,
            _ => Direction::Push,
        };
        let recursive = flag(&raw.recursive, false);
        let enabled = flag(&raw.enabled, true);
        let hold_pending_snapshots = flag(&raw.hold_pending_snapshots, false);
        let target = &raw.target.value;
        self.system_ref(systems, &target.system);
        self.dataset(&target.dataset);

        if raw.sources.value.is_empty() {
            self.err(
                c::NO_SOURCES,
                raw.sources.span,
                format!("replication `{name}` has no sources"),
                "sources",
                "add `- { system: nas1, datasets: [tank/data], snapshot_tasks: [...] }`",
            );
        }
        let mut sources = Vec::new();
        let mut source_systems: BTreeMap<&str, Span> = BTreeMap::new();
        let mut all_datasets: Vec<(String, String)> = Vec::new();
        let mut bound_any = true;
        for src in &raw.sources.value {
            let src = &src.value;
            self.system_ref(systems, &src.system);
            if source_systems
                .insert(src.system.value.as_str(), src.system.span)
                .is_some()
            {
                self.err(
                    c::DUPLICATE_SOURCE,
                    src.system.span,
                    format!(
                        "system `{}` is a source of `{name}` twice",
                        src.system.value
                    ),
                    "second source on this system",
                    "list all of a system's datasets in one source entry",
                );
            }
            if src.datasets.value.is_empty() {
                self.err(
                    c::NO_SOURCES,
                    src.datasets.span,
                    "a source needs at least one dataset",
                    "datasets",
                    "add `datasets: [pool/dataset]`",
                );
            }
            let mut datasets = Vec::new();
            for ds in &src.datasets.value {
                if self.dataset(ds) {
                    datasets.push(ds.value.clone());
                    all_datasets.push((src.system.value.clone(), ds.value.clone()));
                }
            }
            let naming_schemas: Vec<String> =
                match src.naming_schema.as_ref().map(|n| (&n.value, n.span)) {
                    None => Vec::new(),
                    Some((raw::OneOrMany::One(s), span)) => vec![self.schema_at(s, span)],
                    Some((raw::OneOrMany::Many(list), span)) => {
                        list.iter().map(|s| self.schema_at(s, span)).collect()
                    }
                };
            let task_refs = src
                .snapshot_tasks
                .as_ref()
                .map(|t| t.value.as_slice())
                .unwrap_or_default();
            let mut task_names = Vec::new();
            for t in task_refs {
                task_names.push(t.value.clone());
                self.bound_task(name, t, src, &datasets, recursive, enabled, raw, tasks);
            }
            if direction == Direction::Pull {
                if let Some(list) = src.snapshot_tasks.as_ref().filter(|l| !l.value.is_empty()) {
                    self.err(
                        c::PULL_TASKS,
                        list.span,
                        "Pull replication can't be bound to a periodic snapshot task",
                        "snapshot_tasks",
                        "a pull replication runs on the target; name the source snapshots with `naming_schema` instead",
                    );
                }
                if naming_schemas.is_empty() {
                    self.err(
                        c::NO_SNAPSHOTS,
                        src.system.span,
                        "Naming schema or Name regex are required for pull replication",
                        "this source",
                        "add `naming_schema: auto-%Y-%m-%d_%H-%M` (the schema of the snapshots to pull)",
                    );
                }
            } else if task_refs.is_empty() && naming_schemas.is_empty() {
                self.err(
                    c::NO_SNAPSHOTS,
                    src.system.span,
                    format!(
                        "source `{}` of `{name}` names neither snapshot tasks nor naming schemas, so no snapshot would be sent",
                        src.system.value
                    ),
                    "this source",
                    "add `snapshot_tasks: [<task>]`, or `naming_schema: manual-%Y-%m-%d_%H-%M` for snapshots taken otherwise",
                );
            }
            if task_refs.is_empty() {
                bound_any = false;
            }
            sources.push(ReplicationSource {
                system: src.system.value.clone(),
                datasets,
                snapshot_tasks: task_names,
                naming_schemas,
            });
        }

        let exclude = self.replication_excludes(raw, recursive, &all_datasets);
        if direction == Direction::Pull
            && let Some(h) = raw.hold_pending_snapshots.as_ref().filter(|h| h.value)
        {
            self.err(
                c::PULL_HOLD,
                h.span,
                "Pull replication tasks can't hold pending snapshots because they don't do source retention",
                "hold_pending_snapshots",
                "remove `hold_pending_snapshots`, or make the replication `direction: push`",
            );
        }

        let transport = raw.transport.as_ref().map(|t| match t.value {
            raw::RawTransport::Ssh => Transport::Ssh,
            raw::RawTransport::SshNetcat => Transport::SshNetcat,
            raw::RawTransport::Local => Transport::Local,
        });
        if let (Some(Transport::Local), Some(t)) = (transport, &raw.transport)
            && let Some(src) = sources.iter().find(|s| s.system != target.system.value)
        {
            self.err(
                c::LOCAL_TRANSPORT,
                t.span,
                format!(
                    "`transport: local` but source `{}` is not the target system `{}`",
                    src.system, target.system.value
                ),
                "transport",
                "remove `transport` to let zfleet use SSH between systems",
            );
        }
        let transport_of = |system: &str| match transport {
            Some(t) => t,
            None if system == target.system.value => Transport::Local,
            None => Transport::Ssh,
        };
        let all_local = !sources.is_empty()
            && sources
                .iter()
                .all(|s| transport_of(&s.system) == Transport::Local);
        let compression = raw.compression.as_ref().map(|x| match x.value {
            raw::RawCompression::Lz4 => Compression::Lz4,
            raw::RawCompression::Pigz => Compression::Pigz,
            raw::RawCompression::Plzip => Compression::Plzip,
        });
        let speed_limit = raw.speed_limit.as_ref().and_then(|s| self.speed_limit(s));
        for (key, span) in [
            ("Compression", raw.compression.as_ref().map(|x| x.span)),
            ("Speed limit", raw.speed_limit.as_ref().map(|x| x.span)),
        ] {
            let Some(span) = span else { continue };
            if all_local {
                self.err(
                    c::TRANSPORT_OPTION,
                    span,
                    format!("{key} has no sense for local replication"),
                    "not used by local replication",
                    "remove it; a local replication does not go over the network",
                );
            } else if transport == Some(Transport::SshNetcat) {
                self.err(
                    c::TRANSPORT_OPTION,
                    span,
                    format!("{key} is not supported for SSH+netcat replication"),
                    "not used by ssh+netcat",
                    "remove it, or use `transport: ssh`",
                );
            }
        }
        if transport == Some(Transport::Local) || all_local {
            self.target_in_source(raw, &sources, &target.system.value, &target.dataset.value);
        }

        let schedule = match &raw.schedule {
            None => schedule::resolve_text("weekly")
                .ok()
                .map(RunSchedule::Schedule),
            Some(s) => match &s.value {
                RawSchedule::Text(t) if t == "manual" => Some(RunSchedule::Manual),
                RawSchedule::Text(t) if t == "with_snapshot_tasks" => {
                    if direction == Direction::Pull || !bound_any {
                        self.err(
                            c::SCHEDULE_MODE,
                            s.span,
                            "`with_snapshot_tasks` runs a push replication after its snapshot tasks, but not every source is bound to one",
                            "schedule",
                            "bind a snapshot task to every source, or give the replication a schedule",
                        );
                    }
                    Some(RunSchedule::WithSnapshotTasks)
                }
                _ => self.schedule(s).map(RunSchedule::Schedule),
            },
        };
        let retention = self.retention(raw);
        let retries = match &raw.retries {
            Some(r) if r.value == 0 => {
                self.err(
                    c::RETRIES,
                    r.span,
                    "retries must be at least 1",
                    "retries",
                    "TrueNAS's default is 5",
                );
                5
            }
            Some(r) => r.value,
            None => 5,
        };
        let _ = span;
        Some(Replication {
            name: name.to_string(),
            sources,
            target: ReplicationTarget {
                system: target.system.value.clone(),
                dataset: target.dataset.value.clone(),
            },
            recursive,
            exclude,
            direction,
            transport,
            schedule: schedule?,
            retention: retention?,
            readonly: match raw.readonly.as_ref().map(|r| r.value) {
                Some(raw::RawReadonly::Require) => Readonly::Require,
                Some(raw::RawReadonly::Ignore) => Readonly::Ignore,
                _ => Readonly::Set,
            },
            allow_from_scratch: flag(&raw.allow_from_scratch, false),
            hold_pending_snapshots,
            properties: flag(&raw.properties, true),
            properties_exclude: raw
                .properties_exclude
                .as_ref()
                .map(|l| l.value.iter().map(|p| p.value.clone()).collect())
                .unwrap_or_default(),
            properties_override: raw
                .properties_override
                .as_ref()
                .map(|m| {
                    m.value
                        .iter()
                        .map(|(k, v)| (k.clone(), v.0.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            compression,
            speed_limit,
            retries,
            enabled,
            run_on_apply: flag(&raw.run_on_apply, false),
        })
    }

    fn schema_at(&mut self, schema: &str, span: Span) -> String {
        self.naming_schema(&Sp {
            value: schema.to_string(),
            span,
        });
        schema.to_string()
    }

    #[allow(clippy::too_many_arguments)]
    fn bound_task(
        &mut self,
        replication: &str,
        t: &Sp<String>,
        src: &raw::RawSource,
        datasets: &[String],
        recursive: bool,
        enabled: bool,
        raw: &raw::RawReplication,
        tasks: &BTreeMap<String, SnapshotTask>,
    ) {
        let Some(task) = tasks.get(&t.value) else {
            if self.doc.snapshot_tasks.iter().any(|n| n.name == t.value) {
                return; // the task itself is invalid and reported already
            }
            let names: Vec<&str> = self
                .doc
                .snapshot_tasks
                .iter()
                .map(|n| n.name.as_str())
                .collect();
            let help = match suggest(&t.value, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "define it under `snapshot_tasks:`".to_string(),
            };
            self.err(
                c::TASK_UNKNOWN,
                t.span,
                format!("unknown snapshot task `{}`", t.value),
                "not defined under `snapshot_tasks`",
                help,
            );
            return;
        };
        if task.system != src.system.value {
            self.err(
                c::TASK_OTHER_SYSTEM,
                t.span,
                format!(
                    "snapshot task `{}` runs on `{}`, but this source is `{}`",
                    t.value, task.system, src.system.value
                ),
                "task on another system",
                format!(
                    "bind it in the source for `{}`, or use a task of `{}`",
                    task.system, src.system.value
                ),
            );
            return;
        }
        let serves = datasets
            .iter()
            .any(|d| d == &task.dataset || (task.recursive && is_below(d, &task.dataset)));
        if !serves && !datasets.is_empty() {
            self.err(
                c::TASK_OTHER_DATASET,
                t.span,
                format!(
                    "snapshot task `{}` snapshots `{}`{}, which is none of this source's datasets ({})",
                    t.value,
                    task.dataset,
                    if task.recursive { " recursively" } else { "" },
                    datasets.join(", ")
                ),
                "task on another dataset",
                "bind a task whose dataset is a source dataset (or a recursive task on a parent of it)",
            );
        }
        for d in datasets {
            if task.exclude.iter().any(|e| is_same_or_below(d, e)) {
                self.err(
                    c::SOURCE_EXCLUDED,
                    t.span,
                    format!(
                        "Dataset '{d}' is excluded by bound periodic snapshot task for dataset '{}'",
                        task.dataset
                    ),
                    "bound task",
                    format!("remove `{d}` from the task's `exclude`, or bind another task"),
                );
            }
        }
        if recursive {
            let rep_ex: Vec<&str> = raw
                .exclude
                .as_ref()
                .map(|l| l.value.iter().map(|e| e.value.as_str()).collect())
                .unwrap_or_default();
            for e in &task.exclude {
                let under_source = datasets.iter().any(|d| is_below(e, d));
                if under_source && !rep_ex.contains(&e.as_str()) {
                    self.err(
                        c::MISSING_EXCLUDE,
                        t.span,
                        format!(
                            "You should exclude '{e}' as bound periodic snapshot task dataset '{}' does",
                            task.dataset
                        ),
                        "bound task",
                        format!("add `{e}` to the replication's `exclude`"),
                    );
                }
            }
        }
        if enabled && !task.enabled {
            self.err(
                c::TASK_DISABLED,
                t.span,
                format!(
                    "You can't bind disabled periodic snapshot task to enabled replication task (`{}` is disabled, `{replication}` is enabled)",
                    t.value
                ),
                "disabled task",
                "enable the snapshot task, or disable the replication",
            );
        }
    }

    fn replication_excludes(
        &mut self,
        raw: &raw::RawReplication,
        recursive: bool,
        sources: &[(String, String)],
    ) -> Vec<String> {
        let Some(list) = raw.exclude.as_ref().filter(|l| !l.value.is_empty()) else {
            return Vec::new();
        };
        if !recursive {
            self.err(
                c::EXCLUDE_NOT_RECURSIVE,
                list.span,
                "Excluding child datasets is only supported for recursive replication",
                "exclude",
                "set `recursive: true`, or remove `exclude`",
            );
        }
        let mut out = Vec::new();
        for e in &list.value {
            if !self.dataset(e) {
                continue;
            }
            if !sources.iter().any(|(_, d)| is_below(&e.value, d)) {
                self.err(
                    c::EXCLUDE_NOT_CHILD,
                    e.span,
                    "This dataset is not a child of any of source datasets",
                    "not below a source dataset",
                    "exclude a child of one of the source datasets",
                );
            }
            out.push(e.value.clone());
        }
        out
    }

    fn target_in_source(
        &mut self,
        raw: &raw::RawReplication,
        sources: &[ReplicationSource],
        target_system: &str,
        target: &str,
    ) {
        for s in sources.iter().filter(|s| s.system == target_system) {
            for d in &s.datasets {
                if is_same_or_below(target, d) || is_below(d, target) {
                    self.err(
                        c::TARGET_IN_SOURCE,
                        raw.target.value.dataset.span,
                        format!("target `{target}` and source `{d}` are on the same system and one contains the other"),
                        "target dataset",
                        "replicate into a dataset outside the source, e.g. another pool",
                    );
                }
            }
        }
    }

    fn retention(&mut self, raw: &raw::RawReplication) -> Option<Retention> {
        let Some(r) = &raw.retention else {
            return Some(Retention::Source);
        };
        match &r.value {
            raw::RawRetention::Text(t) if t == "source" => Some(Retention::Source),
            raw::RawRetention::Text(t) if t == "none" => Some(Retention::None),
            raw::RawRetention::Text(t) => {
                let help = match suggest(t, &["source", "none"]) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "use `source`, `none`, or `{custom: 4 weeks}`".to_string(),
                };
                self.err(
                    c::RETENTION,
                    r.span,
                    format!("`{t}` is not a retention policy"),
                    "retention",
                    help,
                );
                None
            }
            raw::RawRetention::Custom(l) => self.lifetime(l).map(Retention::Custom),
        }
    }

    fn speed_limit(&mut self, s: &Sp<raw::Text>) -> Option<u64> {
        match parse_speed(&s.value.0) {
            Some(n) if n > 0 => Some(n),
            _ => {
                self.err(
                    c::SPEED_LIMIT,
                    s.span,
                    format!("`{}` is not a speed limit", s.value.0),
                    "speed limit",
                    "write bytes per second (`1048576`) or a size per second (`10 MiB/s`, `500 KB/s`, `1G`)",
                );
                None
            }
        }
    }
}

fn text(f: &Option<Sp<raw::Text>>) -> Option<&str> {
    f.as_ref().map(|v| v.value.0.as_str())
}

fn flag(v: &Option<Sp<bool>>, default: bool) -> bool {
    v.as_ref().map_or(default, |b| b.value)
}

/// Where a simulated system keeps its state: `$ZFLEET_SIM_STATE_DIR`, else `.zfleet/sim/<project>`
/// beside the config file.
fn sim_state_dir(base: &Path, project: &str) -> PathBuf {
    match std::env::var_os("ZFLEET_SIM_STATE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => base.join(".zfleet").join("sim").join(project),
    }
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

fn field_span(map: &RawScheduleMap, field: SchedField) -> Option<Span> {
    let f = match field {
        SchedField::Whole => return None,
        SchedField::Every => &map.every,
        SchedField::At => &map.at,
        SchedField::Day => &map.day,
        SchedField::Cron => &map.cron,
        SchedField::Minute => &map.minute,
        SchedField::Hour => &map.hour,
        SchedField::Dom => &map.dom,
        SchedField::Month => &map.month,
        SchedField::Dow => &map.dow,
        SchedField::Begin => &map.begin,
        SchedField::End => &map.end,
    };
    f.as_ref().map(|v| v.span)
}

/// Bytes per second from `1048576`, `10 MiB/s`, `500 KB/s`, `1G`.
fn parse_speed(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t).trim();
    let split = t
        .find(|ch: char| !ch.is_ascii_digit() && ch != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KiB" | "k" => 1024.0,
        "KB" | "kB" => 1000.0,
        "M" | "MiB" => 1024.0 * 1024.0,
        "MB" => 1e6,
        "G" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "GB" => 1e9,
        _ => return None,
    };
    let v = num * mult;
    (v.is_finite() && (1.0..1e18).contains(&v)).then_some(v.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_speed;

    #[test]
    fn speeds() {
        assert_eq!(parse_speed("1048576"), Some(1_048_576));
        assert_eq!(parse_speed("10 MiB/s"), Some(10 * 1024 * 1024));
        assert_eq!(parse_speed("500 KB/s"), Some(500_000));
        assert_eq!(parse_speed("1G"), Some(1 << 30));
        assert_eq!(parse_speed("fast"), None);
        assert_eq!(parse_speed("0"), None);
    }
}
