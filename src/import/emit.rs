//! The imported config as YAML: defaults left out, so that what is written is what
//! differs from TrueNAS's and zfleet's defaults.

use super::collect::{RepEntry, TaskEntry};
use super::yaml::{Entry, Writer, list, scalar};
use crate::model::{
    self, Compression, DEFAULT_NAMING_SCHEMA, Direction, Readonly, Retention, RunSchedule,
    Transport,
};

/// Writes the whole file: `header` comment lines, the project, `systems` as given, tasks.
pub fn config(
    header: &[String],
    project: &str,
    systems: &str,
    tasks: &[TaskEntry],
    reps: &[RepEntry],
) -> Writer {
    let mut w = Writer::default();
    for h in header {
        w.line(format!("# {h}").trim_end());
    }
    w.key(0, "project", &scalar(project));
    w.line("");
    w.line(systems.trim_end());
    if !tasks.is_empty() {
        w.line("");
        w.line("snapshot_tasks:");
        for e in tasks {
            w.begin(Entry::SnapshotTask(e.task.name.clone()));
            snapshot_task(&mut w, &e.task);
        }
        w.end();
    }
    if !reps.is_empty() {
        w.line("");
        w.line("replications:");
        for e in reps {
            w.begin(Entry::Replication(e.rep.name.clone()));
            replication(&mut w, &e.rep);
        }
        w.end();
    }
    w
}

fn snapshot_task(w: &mut Writer, t: &model::SnapshotTask) {
    w.line(&format!("  {}:", scalar(&t.name)));
    w.key(4, "system", &scalar(&t.system));
    w.key(4, "dataset", &scalar(&t.dataset));
    if t.recursive {
        w.key(4, "recursive", "true");
    }
    if !t.exclude.is_empty() {
        w.key(4, "exclude", &list(&t.exclude));
    }
    if let Some(s) = super::schedule::text(&t.schedule) {
        w.key(4, "schedule", &s);
    }
    w.key(4, "lifetime", &t.lifetime.to_string());
    if t.naming_schema != DEFAULT_NAMING_SCHEMA {
        w.key(4, "naming_schema", &scalar(&t.naming_schema));
    }
    if !t.allow_empty {
        w.key(4, "allow_empty", "false");
    }
    if !t.enabled {
        w.key(4, "enabled", "false");
    }
    if t.adopt {
        w.key(4, "adopt", "true");
    }
}

fn replication(w: &mut Writer, r: &model::Replication) {
    w.line(&format!("  {}:", scalar(&r.name)));
    w.line("    sources:");
    for s in &r.sources {
        let mut parts = vec![
            format!("system: {}", scalar(&s.system)),
            format!("datasets: {}", list(&s.datasets)),
        ];
        if !s.snapshot_tasks.is_empty() {
            parts.push(format!("snapshot_tasks: {}", list(&s.snapshot_tasks)));
        }
        match s.naming_schemas.as_slice() {
            [] => {}
            [one] => parts.push(format!("naming_schema: {}", scalar(one))),
            many => parts.push(format!("naming_schema: {}", list(many))),
        }
        w.line(&format!("      - {{ {} }}", parts.join(", ")));
    }
    w.key(
        4,
        "target",
        &format!(
            "{{ system: {}, dataset: {} }}",
            scalar(&r.target.system),
            scalar(&r.target.dataset)
        ),
    );
    if r.direction == Direction::Pull {
        w.key(4, "direction", "pull");
    }
    match r.transport {
        Some(Transport::Ssh) => w.key(4, "transport", "ssh"),
        Some(Transport::SshNetcat) => w.key(4, "transport", "ssh+netcat"),
        Some(Transport::Local) => w.key(4, "transport", "local"),
        None => {}
    }
    if r.recursive {
        w.key(4, "recursive", "true");
    }
    if !r.exclude.is_empty() {
        w.key(4, "exclude", &list(&r.exclude));
    }
    let schedule = match &r.schedule {
        RunSchedule::Manual => Some("manual".to_string()),
        RunSchedule::WithSnapshotTasks => Some("with_snapshot_tasks".to_string()),
        RunSchedule::Schedule(s) => super::schedule::text(s),
    };
    if let Some(s) = schedule {
        w.key(4, "schedule", &s);
    }
    match &r.retention {
        Retention::Source => {}
        Retention::None => w.key(4, "retention", "none"),
        Retention::Custom(l) => w.key(4, "retention", &format!("{{ custom: {l} }}")),
    }
    match r.readonly {
        Readonly::Set => {}
        Readonly::Require => w.key(4, "readonly", "require"),
        Readonly::Ignore => w.key(4, "readonly", "ignore"),
    }
    if r.allow_from_scratch {
        w.key(4, "allow_from_scratch", "true");
    }
    if r.hold_pending_snapshots {
        w.key(4, "hold_pending_snapshots", "true");
    }
    if !r.properties {
        w.key(4, "properties", "false");
    }
    if !r.properties_exclude.is_empty() {
        w.key(4, "properties_exclude", &list(&r.properties_exclude));
    }
    if !r.properties_override.is_empty() {
        let pairs: Vec<String> = r
            .properties_override
            .iter()
            .map(|(k, v)| format!("{}: {}", scalar(k), scalar(v)))
            .collect();
        w.key(
            4,
            "properties_override",
            &format!("{{ {} }}", pairs.join(", ")),
        );
    }
    if let Some(c) = r.compression {
        let c = match c {
            Compression::Lz4 => "lz4",
            Compression::Pigz => "pigz",
            Compression::Plzip => "plzip",
        };
        w.key(4, "compression", c);
    }
    if let Some(s) = r.speed_limit {
        w.key(4, "speed_limit", &speed(s));
    }
    if r.retries != 5 {
        w.key(4, "retries", &r.retries.to_string());
    }
    if !r.enabled {
        w.key(4, "enabled", "false");
    }
    if r.adopt {
        w.key(4, "adopt", "true");
    }
}

/// Bytes per second, in MiB/s or KiB/s when it is a whole number of them.
fn speed(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB/s", bytes / MIB)
    } else if bytes.is_multiple_of(KIB) {
        format!("{} KiB/s", bytes / KIB)
    } else {
        bytes.to_string()
    }
}
