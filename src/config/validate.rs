//! From the raw document to the validated model: references resolved, defaults applied,
//! schedules normalised, and every problem found on the way reported with its span.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::codes as c;
use super::de::{Field, OptField, Sp, suggest};
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

/// Validates `doc` into the model; all problems at once. Entries with a problem are left out
/// of the model, and checks that need a value that has a problem are skipped.
pub fn validate(doc: &Document) -> (Config, Vec<Problem>) {
    let mut v = Validator {
        doc,
        problems: Vec::new(),
    };
    let config = v.config();
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

    fn config(&mut self) -> Config {
        let project = self.project();
        let base = self.doc.base.clone();
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
        let (name, span) = match &self.doc.project {
            Some(Field::Ok(p)) => (p.value.clone(), p.span),
            Some(Field::Invalid) => return "default".into(),
            None => {
                let p = Problem::error(c::PROJECT, "the config has no `project`")
                    .with_source(self.doc.source.clone())
                    .at(Span { offset: 0, len: 0 }, "add it here")
                    .help("add `project: <name>` (e.g. `project: homelab`): zfleet marks what it manages on the systems with it");
                self.problems.push(p);
                return "default".into();
            }
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
            let Some(raw) = raw else { continue };
            let kind = match (&raw.host, &raw.simulator) {
                (Some(host), None) => {
                    if let Some(k) = raw.host_key.given() {
                        self.host_key(k);
                    }
                    let port_ok = raw.port.given().is_none_or(|p| self.port(p));
                    let host = host.ok().and_then(|h| self.host(h));
                    host.filter(|_| port_ok).map(|host| {
                        SystemKind::Ssh(SshSystem {
                            host,
                            port: raw.port.given().map(|p| p.value),
                            user: raw.user.given().map(|u| u.value.clone()),
                            identity_file: raw.identity_file.given().map(|f| expand_home(&f.value)),
                            host_key: raw.host_key.given().map(|k| k.value.clone()),
                            known_hosts: raw.known_hosts.given().map(|f| expand_home(&f.value)),
                            replication_address: raw
                                .replication_address
                                .given()
                                .map(|a| a.value.clone()),
                            sudo: raw.sudo.given().is_some_and(|s| s.value),
                        })
                    })
                }
                (None, Some(sim)) => {
                    self.ssh_only(raw);
                    sim.ok().map(|sim| {
                        SystemKind::Simulator(SimSystem {
                            fixture: sim.fixture.given().map(|f| fixture_path(base, &f.value)),
                            version: self.sim_version(sim),
                            state_file: sim_state_dir(base, project).join(format!("{name}.json")),
                        })
                    })
                }
                (Some(host), Some(sim)) => {
                    let at = host
                        .ok()
                        .map(|h| h.span)
                        .or(sim.ok().map(|s| s.span))
                        .unwrap_or(*span);
                    self.err(
                        c::SYSTEM_KIND,
                        at,
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
            let connect_timeout = self.timeout(raw.connect_timeout.given());
            let timeout = self.timeout(raw.timeout.given());
            // A system with a bad value is reported already; the model gets only sound ones.
            let (Some(kind), false) = (kind, system_has_invalid(raw)) else {
                continue;
            };
            out.insert(
                name.clone(),
                System {
                    name: name.clone(),
                    kind,
                    connect_timeout,
                    timeout,
                    prune: raw.prune.given().is_some_and(|p| p.value),
                    fixate_removal_date: raw.fixate_removal_date.given().is_some_and(|p| p.value),
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

    /// SSH settings on a simulated system.
    fn ssh_only(&mut self, raw: &raw::RawSystem) {
        let ssh_only: [(&str, Option<Span>); 6] = [
            ("port", raw.port.given().map(|x| x.span)),
            ("user", raw.user.given().map(|x| x.span)),
            ("identity_file", raw.identity_file.given().map(|x| x.span)),
            ("host_key", raw.host_key.given().map(|x| x.span)),
            ("known_hosts", raw.known_hosts.given().map(|x| x.span)),
            ("sudo", raw.sudo.given().map(|x| x.span)),
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
    }

    fn sim_version(&mut self, sim: &Sp<raw::RawSimulator>) -> Option<String> {
        let v = sim.version.given()?;
        if !SIM_VERSIONS.contains(&v.value.0.as_str()) {
            self.err(
                c::SIM_VERSION,
                v.span,
                format!("the simulator has no TrueNAS version `{}`", v.value.0),
                "version",
                format!("use one of {}", SIM_VERSIONS.join(", ")),
            );
        }
        Some(v.value.0.clone())
    }

    /// The address to connect to: a name, an IPv4 or a bare IPv6 address, or a bracketed
    /// IPv6 address (brackets dropped). Nothing that `ssh` could read as an option or that
    /// holds spaces.
    fn host(&mut self, host: &Sp<String>) -> Option<String> {
        let text = host.value.as_str();
        let refuse = |me: &mut Self, why: String, help: &str| {
            me.err(c::HOST, host.span, why, "host", help);
            None
        };
        if text.is_empty() {
            return refuse(
                self,
                "`host` is empty".into(),
                "write the system's name or address, e.g. `host: nas1.lan` or `host: 192.0.2.10`",
            );
        }
        if text.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            return refuse(
                self,
                format!("`{}` has spaces or control characters", text.escape_debug()),
                "a host is one name or address; to give a port, use `port:`",
            );
        }
        if text.starts_with('-') {
            return refuse(
                self,
                format!("`{text}` starts with `-`"),
                "host names and addresses never start with `-`; ssh would read it as an option",
            );
        }
        if let Some(inner) = text.strip_prefix('[') {
            return match inner.strip_suffix(']') {
                Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_ok() => Some(v6.to_string()),
                _ => refuse(
                    self,
                    format!("`{text}` is not a bracketed IPv6 address"),
                    "write an IPv6 address as `[fe80::1]` or `fe80::1`, and a port with `port:`",
                ),
            };
        }
        if text.contains(':') && text.parse::<std::net::Ipv6Addr>().is_err() {
            return refuse(
                self,
                format!("`{text}` is neither a host name nor an IP address"),
                "give the port with `port:`, and an IPv6 address as `[fe80::1]` or `fe80::1`",
            );
        }
        Some(text.to_string())
    }

    fn port(&mut self, port: &Sp<u16>) -> bool {
        if port.value != 0 {
            return true;
        }
        self.err(
            c::PORT,
            port.span,
            "port 0 is not a port to connect to".to_string(),
            "port",
            "give the system's SSH port (1 to 65535), or leave `port` out for 22 or `~/.ssh/config`",
        );
        false
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
        if self.doc.systems_invalid
            || systems.contains_key(&system.value)
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
    /// `recursive` and `dataset` are `None` when their values are bad: the checks that need
    /// them are skipped.
    fn excludes(
        &mut self,
        exclude: &Option<Field<Sp<Vec<Sp<String>>>>>,
        recursive: Option<bool>,
        dataset: Option<&str>,
        not_recursive: &str,
        not_child: &str,
    ) -> Vec<String> {
        let Some(list) = exclude.given() else {
            return Vec::new();
        };
        if list.value.is_empty() {
            return Vec::new();
        }
        if recursive == Some(false) {
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
            if let Some(dataset) = dataset
                && !is_below(&e.value, dataset)
            {
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
            let raw = raw.as_ref()?;
            let system = raw.system.ok();
            if let Some(s) = system {
                v.system_ref(systems, s);
            }
            let dataset = raw.dataset.ok().filter(|d| v.dataset(d));
            let recursive = flag(&raw.recursive, false);
            let exclude = v.excludes(
                &raw.exclude,
                recursive,
                dataset.map(|d| d.value.as_str()),
                "Excluding datasets is not necessary for non-recursive periodic snapshot tasks",
                "Excluded dataset should be a child or other descendant of the selected dataset",
            );
            let schedule = match &raw.schedule {
                Some(Field::Ok(s)) => v.schedule(s),
                Some(Field::Invalid) => None,
                None => schedule::resolve_text("hourly").ok(),
            };
            let lifetime = match &raw.lifetime {
                Some(Field::Ok(l)) => v.lifetime(l),
                Some(Field::Invalid) => None,
                None => Some(Lifetime {
                    value: 2,
                    unit: LifetimeUnit::Week,
                }),
            };
            let naming_schema = match &raw.naming_schema {
                Some(Field::Ok(s)) => {
                    v.naming_schema(s);
                    Some(s.value.clone())
                }
                Some(Field::Invalid) => None,
                None => Some(DEFAULT_NAMING_SCHEMA.to_string()),
            };
            if raw.exclude.invalid() {
                return None;
            }
            Some((
                name.clone(),
                SnapshotTask {
                    name: name.clone(),
                    system: system?.value.clone(),
                    dataset: dataset?.value.clone(),
                    recursive: recursive?,
                    exclude,
                    lifetime: lifetime?,
                    naming_schema: naming_schema?,
                    schedule: schedule?,
                    allow_empty: flag(&raw.allow_empty, true)?,
                    enabled: flag(&raw.enabled, true)?,
                    adopt: flag(&raw.adopt, false)?,
                    fixate_removal_date: flag(&raw.fixate_removal_date, false)?,
                },
            ))
        });
        tasks.into_iter().collect()
    }

    fn snapshots(&mut self, systems: &BTreeMap<String, System>) -> Vec<Snapshot> {
        let mut out: Vec<Snapshot> = Vec::new();
        let mut seen = BTreeSet::new();
        for (span, raw) in &self.doc.snapshots {
            let system = raw.system.ok();
            if let Some(s) = system {
                self.system_ref(systems, s);
            }
            let dataset = raw.dataset.ok();
            if let Some(d) = dataset {
                self.dataset(d);
            }
            let recursive = flag(&raw.recursive, false);
            let exclude = self.excludes(
                &raw.exclude,
                recursive,
                dataset.map(|d| d.value.as_str()),
                "This option has no sense for non-recursive snapshots",
                "Excluded dataset should be a child or other descendant of the selected dataset",
            );
            let naming_schema = match &raw.naming_schema {
                Some(Field::Ok(s)) => {
                    self.naming_schema(s);
                    Some(s.value.clone())
                }
                Some(Field::Invalid) => None,
                None => Some(DEFAULT_MANUAL_SCHEMA.to_string()),
            };
            let (Some(system), Some(dataset), Some(naming_schema)) =
                (system, dataset, naming_schema)
            else {
                continue;
            };
            let key = (
                system.value.clone(),
                dataset.value.clone(),
                naming_schema.clone(),
            );
            if !seen.insert(key) {
                self.err(
                    c::SNAPSHOT_DUPLICATE,
                    *span,
                    format!(
                        "the snapshot of `{}` on `{}` with schema `{naming_schema}` is listed twice",
                        dataset.value, system.value
                    ),
                    "second entry",
                    "remove one of the two entries",
                );
                continue;
            }
            let (Some(recursive), false) = (recursive, raw.exclude.invalid()) else {
                continue;
            };
            out.push(Snapshot {
                system: system.value.clone(),
                dataset: dataset.value.clone(),
                naming_schema,
                recursive,
                exclude,
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
            let Named { name, raw, .. } = entry;
            v.replication(name, raw.as_ref()?, systems, tasks)
                .map(|r| (name.clone(), r))
        });
        self.target_conflicts();
        checked.into_iter().collect()
    }

    /// Two replications writing into one dataset; every replication whose target is readable
    /// takes part, whatever its other problems.
    fn target_conflicts(&mut self) {
        let doc = self.doc;
        let mut targets: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for Named { name, raw, .. } in &doc.replications {
            let Some(target) = raw.as_ref().and_then(|r| r.target.ok()) else {
                continue;
            };
            let (Some(system), Some(dataset)) = (target.system.ok(), target.dataset.ok()) else {
                continue;
            };
            if validate_name(&dataset.value).is_err() {
                continue;
            }
            match targets.get(&(system.value.as_str(), dataset.value.as_str())) {
                Some(other) => self.err(
                    c::TARGET_CONFLICT,
                    dataset.span,
                    format!(
                        "replications `{other}` and `{name}` both write into `{}` on `{}`",
                        dataset.value, system.value
                    ),
                    "target dataset",
                    "give each replication its own target dataset, e.g. backup/<replication name>",
                ),
                None => {
                    targets.insert((&system.value, &dataset.value), name);
                }
            }
        }
    }

    /// Checks one replication. Values with a problem are `None` here: the checks that need
    /// them are skipped, and the replication stays out of the model.
    fn replication(
        &mut self,
        name: &str,
        raw: &raw::RawReplication,
        systems: &BTreeMap<String, System>,
        tasks: &BTreeMap<String, SnapshotTask>,
    ) -> Option<Replication> {
        let direction = match &raw.direction {
            None => Some(Direction::Push),
            Some(Field::Ok(d)) if d.value == raw::RawDirection::Pull => Some(Direction::Pull),
            Some(Field::Ok(_)) => Some(Direction::Push),
            Some(Field::Invalid) => None,
        };
        let recursive = flag(&raw.recursive, false);
        let enabled = flag(&raw.enabled, true);
        let hold_pending_snapshots = flag(&raw.hold_pending_snapshots, false);
        let target = raw.target.ok();
        let target_system = target.and_then(|t| t.system.ok());
        let target_dataset = target.and_then(|t| t.dataset.ok());
        if let Some(s) = target_system {
            self.system_ref(systems, s);
        }
        if let Some(d) = target_dataset {
            self.dataset(d);
        }

        let source_list = raw.sources.ok();
        if let Some(list) = source_list.filter(|l| l.value.is_empty()) {
            self.err(
                c::NO_SOURCES,
                list.span,
                format!("replication `{name}` has no sources"),
                "sources",
                "add `- { system: nas1, datasets: [tank/data], snapshot_tasks: [...] }`",
            );
        }
        // Whether every source could be read completely; if not, the replication is not
        // modelled and checks over all sources are skipped.
        let mut sources_sound = source_list.is_some();
        let mut sources = Vec::new();
        let mut source_systems: BTreeMap<&str, Span> = BTreeMap::new();
        let mut all_datasets: Vec<(String, String)> = Vec::new();
        let mut bound_any = Some(true);
        for src_sp in source_list.map(|l| l.value.as_slice()).unwrap_or_default() {
            let src = &src_sp.value;
            let system = src.system.ok();
            let source_span = system.map_or(src_sp.span, |s| s.span);
            if let Some(system) = system {
                self.system_ref(systems, system);
                if source_systems
                    .insert(system.value.as_str(), system.span)
                    .is_some()
                {
                    self.err(
                        c::DUPLICATE_SOURCE,
                        system.span,
                        format!("system `{}` is a source of `{name}` twice", system.value),
                        "second source on this system",
                        "list all of a system's datasets in one source entry",
                    );
                }
            }
            let listed = src.datasets.ok();
            if let Some(list) = listed.filter(|l| l.value.is_empty()) {
                self.err(
                    c::NO_SOURCES,
                    list.span,
                    "a source needs at least one dataset",
                    "datasets",
                    "add `datasets: [pool/dataset]`",
                );
            }
            let mut datasets = Vec::new();
            for ds in listed.map(|l| l.value.as_slice()).unwrap_or_default() {
                if self.dataset(ds) {
                    datasets.push(ds.value.clone());
                    if let Some(system) = system {
                        all_datasets.push((system.value.clone(), ds.value.clone()));
                    }
                }
            }
            let naming_schemas: Option<Vec<String>> = match &src.naming_schema {
                None => Some(Vec::new()),
                Some(Field::Invalid) => None,
                Some(Field::Ok(n)) => Some(match &n.value {
                    raw::OneOrMany::One(s) => vec![self.schema_at(s, n.span)],
                    raw::OneOrMany::Many(list) => {
                        list.iter().map(|s| self.schema_at(s, n.span)).collect()
                    }
                }),
            };
            let task_refs: Option<&[Sp<String>]> = match &src.snapshot_tasks {
                None => Some(&[]),
                Some(Field::Invalid) => None,
                Some(Field::Ok(t)) => Some(t.value.as_slice()),
            };
            let mut task_names = Vec::new();
            for t in task_refs.unwrap_or_default() {
                task_names.push(t.value.clone());
                let bound = Bound {
                    replication: name,
                    source_system: system.map(|s| s.value.as_str()),
                    datasets: listed.map(|_| datasets.as_slice()),
                    recursive,
                    enabled,
                };
                self.bound_task(&bound, t, raw, tasks);
            }
            match direction {
                Some(Direction::Pull) => {
                    if let Some(list) = src.snapshot_tasks.given().filter(|l| !l.value.is_empty()) {
                        self.err(
                            c::PULL_TASKS,
                            list.span,
                            "Pull replication can't be bound to a periodic snapshot task",
                            "snapshot_tasks",
                            "a pull replication runs on the target; name the source snapshots with `naming_schema` instead",
                        );
                    }
                    if naming_schemas.as_ref().is_some_and(Vec::is_empty) {
                        self.err(
                            c::NO_SNAPSHOTS,
                            source_span,
                            "Naming schema or Name regex are required for pull replication",
                            "this source",
                            "add `naming_schema: auto-%Y-%m-%d_%H-%M` (the schema of the snapshots to pull)",
                        );
                    }
                }
                Some(Direction::Push)
                    if task_refs.is_some_and(<[_]>::is_empty)
                        && naming_schemas.as_ref().is_some_and(Vec::is_empty) =>
                {
                    self.err(
                        c::NO_SNAPSHOTS,
                        source_span,
                        format!(
                            "source `{}` of `{name}` names neither snapshot tasks nor naming schemas, so no snapshot would be sent",
                            system.map_or("?", |s| s.value.as_str())
                        ),
                        "this source",
                        "add `snapshot_tasks: [<task>]`, or `naming_schema: manual-%Y-%m-%d_%H-%M` for snapshots taken otherwise",
                    );
                }
                _ => {}
            }
            match task_refs {
                Some([]) => bound_any = Some(false),
                None if bound_any == Some(true) => bound_any = None,
                _ => {}
            }
            match (system, listed, naming_schemas, task_refs) {
                (Some(system), Some(_), Some(naming_schemas), Some(_)) => {
                    sources.push(ReplicationSource {
                        system: system.value.clone(),
                        datasets,
                        snapshot_tasks: task_names,
                        naming_schemas,
                    })
                }
                _ => sources_sound = false,
            }
        }

        let exclude = self.replication_excludes(
            raw,
            recursive,
            sources_sound.then_some(all_datasets.as_slice()),
        );
        if direction == Some(Direction::Pull)
            && let Some(h) = raw.hold_pending_snapshots.given().filter(|h| h.value)
        {
            self.err(
                c::PULL_HOLD,
                h.span,
                "Pull replication tasks can't hold pending snapshots because they don't do source retention",
                "hold_pending_snapshots",
                "remove `hold_pending_snapshots`, or make the replication `direction: push`",
            );
        }

        // `Some(None)`: not written, derived per source.
        let transport: Option<Option<Transport>> = match &raw.transport {
            None => Some(None),
            Some(Field::Invalid) => None,
            Some(Field::Ok(t)) => Some(Some(match t.value {
                raw::RawTransport::Ssh => Transport::Ssh,
                raw::RawTransport::SshNetcat => Transport::SshNetcat,
                raw::RawTransport::Local => Transport::Local,
            })),
        };
        if let (Some(t), Some(target_system)) = (raw.transport.given(), target_system)
            && transport == Some(Some(Transport::Local))
            && let Some(src) = sources.iter().find(|s| s.system != target_system.value)
        {
            self.err(
                c::LOCAL_TRANSPORT,
                t.span,
                format!(
                    "`transport: local` but source `{}` is not the target system `{}`",
                    src.system, target_system.value
                ),
                "transport",
                "remove `transport` to let zfleet use SSH between systems",
            );
        }
        // Whether every source is local to the target: unknown while the transport, the
        // target system or a source's system is.
        let all_local = match (transport, target_system) {
            (Some(t), Some(target_system)) if sources_sound => Some(
                !sources.is_empty()
                    && sources.iter().all(|s| match t {
                        Some(t) => t == Transport::Local,
                        None => s.system == target_system.value,
                    }),
            ),
            _ => None,
        };
        let compression = match &raw.compression {
            None => Some(None),
            Some(Field::Invalid) => None,
            Some(Field::Ok(x)) => Some(Some(match x.value {
                raw::RawCompression::Lz4 => Compression::Lz4,
                raw::RawCompression::Pigz => Compression::Pigz,
                raw::RawCompression::Plzip => Compression::Plzip,
            })),
        };
        let speed_limit = match &raw.speed_limit {
            None => Some(None),
            Some(Field::Invalid) => None,
            Some(Field::Ok(s)) => self.speed_limit(s).map(Some),
        };
        for (key, span) in [
            ("Compression", raw.compression.given().map(|x| x.span)),
            ("Speed limit", raw.speed_limit.given().map(|x| x.span)),
        ] {
            let Some(span) = span else { continue };
            if all_local == Some(true) {
                self.err(
                    c::TRANSPORT_OPTION,
                    span,
                    format!("{key} has no sense for local replication"),
                    "not used by local replication",
                    "remove it; a local replication does not go over the network",
                );
            } else if transport == Some(Some(Transport::SshNetcat)) {
                self.err(
                    c::TRANSPORT_OPTION,
                    span,
                    format!("{key} is not supported for SSH+netcat replication"),
                    "not used by ssh+netcat",
                    "remove it, or use `transport: ssh`",
                );
            }
        }
        if let (Some(target_system), Some(target_dataset)) = (target_system, target_dataset)
            && (transport == Some(Some(Transport::Local)) || all_local == Some(true))
        {
            self.target_in_source(&sources, target_system, target_dataset);
        }

        let schedule = match &raw.schedule {
            None => schedule::resolve_text("weekly")
                .ok()
                .map(RunSchedule::Schedule),
            Some(Field::Invalid) => None,
            Some(Field::Ok(s)) => match &s.value {
                RawSchedule::Text(t) if t == "manual" => Some(RunSchedule::Manual),
                RawSchedule::Text(t) if t == "with_snapshot_tasks" => {
                    if direction == Some(Direction::Pull) || bound_any == Some(false) {
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
            None => Some(5),
            Some(Field::Invalid) => None,
            Some(Field::Ok(r)) if r.value == 0 => {
                self.err(
                    c::RETRIES,
                    r.span,
                    "retries must be at least 1",
                    "retries",
                    "TrueNAS's default is 5",
                );
                None
            }
            Some(Field::Ok(r)) => Some(r.value),
        };
        let readonly = match &raw.readonly {
            None => Some(Readonly::Set),
            Some(Field::Invalid) => None,
            Some(Field::Ok(r)) => Some(match r.value {
                raw::RawReadonly::Require => Readonly::Require,
                raw::RawReadonly::Ignore => Readonly::Ignore,
                raw::RawReadonly::Set => Readonly::Set,
            }),
        };
        let properties_exclude = match &raw.properties_exclude {
            None => Some(Vec::new()),
            Some(Field::Invalid) => None,
            Some(Field::Ok(l)) => Some(l.value.iter().map(|p| p.value.clone()).collect()),
        };
        let properties_override = match &raw.properties_override {
            None => Some(BTreeMap::new()),
            Some(Field::Invalid) => None,
            Some(Field::Ok(m)) => Some(
                m.value
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
            ),
        };
        if !sources_sound {
            return None;
        }
        Some(Replication {
            name: name.to_string(),
            sources,
            target: ReplicationTarget {
                system: target_system?.value.clone(),
                dataset: target_dataset?.value.clone(),
            },
            recursive: recursive?,
            exclude: exclude?,
            direction: direction?,
            transport: transport?,
            schedule: schedule?,
            retention: retention?,
            readonly: readonly?,
            allow_from_scratch: flag(&raw.allow_from_scratch, false)?,
            hold_pending_snapshots: hold_pending_snapshots?,
            properties: flag(&raw.properties, true)?,
            properties_exclude: properties_exclude?,
            properties_override: properties_override?,
            compression: compression?,
            speed_limit: speed_limit?,
            retries: retries?,
            enabled: enabled?,
            run_on_apply: flag(&raw.run_on_apply, false)?,
            adopt: flag(&raw.adopt, false)?,
        })
    }

    fn schema_at(&mut self, schema: &str, span: Span) -> String {
        self.naming_schema(&Sp {
            value: schema.to_string(),
            span,
        });
        schema.to_string()
    }

    fn bound_task(
        &mut self,
        b: &Bound<'_>,
        t: &Sp<String>,
        raw: &raw::RawReplication,
        tasks: &BTreeMap<String, SnapshotTask>,
    ) {
        let Some(task) = tasks.get(&t.value) else {
            if self.doc.snapshot_tasks_invalid
                || self.doc.snapshot_tasks.iter().any(|n| n.name == t.value)
            {
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
        let Some(source_system) = b.source_system else {
            return;
        };
        if task.system != source_system {
            self.err(
                c::TASK_OTHER_SYSTEM,
                t.span,
                format!(
                    "snapshot task `{}` runs on `{}`, but this source is `{source_system}`",
                    t.value, task.system
                ),
                "task on another system",
                format!(
                    "bind it in the source for `{}`, or use a task of `{source_system}`",
                    task.system
                ),
            );
            return;
        }
        let datasets = b.datasets.unwrap_or_default();
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
        let rep_ex: Option<Vec<&str>> = match &raw.exclude {
            None => Some(Vec::new()),
            Some(Field::Invalid) => None,
            Some(Field::Ok(l)) => Some(l.value.iter().map(|e| e.value.as_str()).collect()),
        };
        if b.recursive == Some(true)
            && let Some(rep_ex) = rep_ex
        {
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
        if b.enabled == Some(true) && !task.enabled {
            self.err(
                c::TASK_DISABLED,
                t.span,
                format!(
                    "You can't bind disabled periodic snapshot task to enabled replication task (`{}` is disabled, `{}` is enabled)",
                    t.value, b.replication
                ),
                "disabled task",
                "enable the snapshot task, or disable the replication",
            );
        }
    }

    /// The replication's `exclude`; `None` when it cannot be read. `sources` is `None` when
    /// not every source dataset is known: an exclude may then be below an unknown one.
    fn replication_excludes(
        &mut self,
        raw: &raw::RawReplication,
        recursive: Option<bool>,
        sources: Option<&[(String, String)]>,
    ) -> Option<Vec<String>> {
        let list = match &raw.exclude {
            None => return Some(Vec::new()),
            Some(Field::Invalid) => return None,
            Some(Field::Ok(l)) if l.value.is_empty() => return Some(Vec::new()),
            Some(Field::Ok(l)) => l,
        };
        if recursive == Some(false) {
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
            if let Some(sources) = sources
                && !sources.iter().any(|(_, d)| is_below(&e.value, d))
            {
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
        Some(out)
    }

    fn target_in_source(
        &mut self,
        sources: &[ReplicationSource],
        target_system: &Sp<String>,
        target: &Sp<String>,
    ) {
        for s in sources.iter().filter(|s| s.system == target_system.value) {
            for d in &s.datasets {
                if is_same_or_below(&target.value, d) || is_below(d, &target.value) {
                    self.err(
                        c::TARGET_IN_SOURCE,
                        target.span,
                        format!(
                            "target `{}` and source `{d}` are on the same system and one contains the other",
                            target.value
                        ),
                        "target dataset",
                        "replicate into a dataset outside the source, e.g. another pool",
                    );
                }
            }
        }
    }

    fn retention(&mut self, raw: &raw::RawReplication) -> Option<Retention> {
        let r = match &raw.retention {
            None => return Some(Retention::Source),
            Some(Field::Invalid) => return None,
            Some(Field::Ok(r)) => r,
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

/// A boolean key: its value, the default when absent, `None` when its value is bad.
fn flag(v: &Option<Field<Sp<bool>>>, default: bool) -> Option<bool> {
    match v {
        None => Some(default),
        Some(Field::Ok(b)) => Some(b.value),
        Some(Field::Invalid) => None,
    }
}

/// What a bound snapshot task is checked against: its replication and source, `None` where
/// their values are bad.
struct Bound<'a> {
    replication: &'a str,
    source_system: Option<&'a str>,
    datasets: Option<&'a [String]>,
    recursive: Option<bool>,
    enabled: Option<bool>,
}

/// Whether any key of a system has a bad value.
fn system_has_invalid(raw: &raw::RawSystem) -> bool {
    raw.host.invalid()
        || raw.port.invalid()
        || raw.user.invalid()
        || raw.identity_file.invalid()
        || raw.host_key.invalid()
        || raw.known_hosts.invalid()
        || raw.replication_address.invalid()
        || raw.sudo.invalid()
        || raw.connect_timeout.invalid()
        || raw.timeout.invalid()
        || raw.prune.invalid()
        || raw.fixate_removal_date.invalid()
        || raw.simulator.invalid()
        || raw
            .simulator
            .given()
            .is_some_and(|s| s.fixture.invalid() || s.version.invalid())
}

/// A simulator fixture's path as written, against the config's directory.
pub fn fixture_path(base: &Path, written: &str) -> PathBuf {
    base.join(written)
}

/// Where a simulated system keeps its state: `$ZFLEET_SIM_STATE_DIR`, else `.zfleet/sim/<project>`
/// beside the config file.
fn sim_state_dir(base: &Path, project: &str) -> PathBuf {
    match std::env::var_os("ZFLEET_SIM_STATE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => base.join(".zfleet").join("sim").join(project),
    }
}

/// `~` and `~/...` against `$HOME`, as the SSH transport reads them; other paths unchanged
/// (a relative one is then read from the current directory, as OpenSSH does).
pub fn expand_home(path: &str) -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) => crate::transport::ssh_config::expand_tilde(path, Path::new(&home)),
        None => PathBuf::from(path),
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
    fn ipv6_hosts_are_taken_bare_or_bracketed() {
        let text = "project: p\nsystems:\n  a: { host: \"[fe80::1]\" }\n  b: { host: \"fd00::10\", port: 2222 }\n  c: { host: 192.0.2.10 }\n";
        let doc = crate::config::load::parse("t.yaml", text.as_bytes().to_vec()).expect("parses");
        let (config, problems) = super::validate(&doc);
        assert!(problems.is_empty(), "{problems:?}");
        let hosts: Vec<(String, Option<u16>)> = config
            .systems
            .values()
            .map(|s| match &s.kind {
                crate::model::SystemKind::Ssh(ssh) => (ssh.host.clone(), ssh.port),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            hosts,
            vec![
                ("fe80::1".to_string(), None),
                ("fd00::10".to_string(), Some(2222)),
                ("192.0.2.10".to_string(), None)
            ]
        );
    }

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
