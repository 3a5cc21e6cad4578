//! The status as a table for a person: one line per task, cut to the terminal's width, the
//! state coloured on a terminal; below it, untruncated, what TrueNAS says about tasks that
//! are not simply fine (errors and reasons as TrueNAS words them, a running job's progress)
//! and why a system could not be read.

use super::check::human_secs;
use super::{SystemStatus, TaskRow};
use crate::client::shown::printable;

/// How the table is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub colour: bool,
    /// Columns available; `None` draws every cell whole.
    pub width: Option<usize>,
}

const HEADER: [&str; 10] = [
    "SYSTEM",
    "TYPE",
    "TASK",
    "SOURCE → TARGET",
    "SCHEDULE",
    "STATE",
    "LAST RUN",
    "LAST SNAPSHOT",
    "AGE",
    "NEXT RUN",
];
const TYPE: usize = 1;
const TASK: usize = 2;
const PATHS: usize = 3;
const SNAPSHOT: usize = 7;
const SCHEDULE: usize = 4;
const STATE: usize = 5;
/// Columns that give up width, and the narrowest each may become.
const SHRINK: [(usize, usize); 5] = [
    (TYPE, 4),
    (TASK, 10),
    (PATHS, 14),
    (SCHEDULE, 8),
    (SNAPSHOT, 10),
];

fn colour_of(state: &str) -> Option<&'static str> {
    match state.split(' ').next().unwrap_or("") {
        "FINISHED" => Some("32"),
        "RUNNING" | "WAITING" => Some("36"),
        "HOLD" => Some("33"),
        "ERROR" | "FAILED" | "UNREACHABLE" | "UNREADABLE" => Some("31"),
        _ => None,
    }
}

fn owner_mark(t: &TaskRow) -> String {
    match &t.owner {
        super::rows::Owner::Managed => String::new(),
        super::rows::Owner::Unmanaged => " [unmanaged]".into(),
        super::rows::Owner::Project(p) => format!(" [project {}]", printable(p)),
    }
}

/// Whole minutes once past the first: a run's seconds are noise in a table.
fn coarse(secs: i64) -> String {
    human_secs(if secs >= 60 { secs - secs % 60 } else { secs })
}

fn ago(
    now: Option<chrono::DateTime<chrono::Utc>>,
    t: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    match (now, t) {
        (Some(now), Some(t)) => format!("{} ago", coarse((now - t).num_seconds().max(0))),
        _ => "-".into(),
    }
}

fn state_cell(t: &TaskRow) -> String {
    match t.progress.as_ref().and_then(|p| p.percent) {
        Some(p) => format!("{} {}%", t.state, p.round() as i64),
        None => t.state.clone(),
    }
}

fn task_cells(s: &SystemStatus, t: &TaskRow) -> Vec<String> {
    let paths = match &t.target {
        Some(target) => format!("{} → {}", t.sources.join(", "), target),
        None => t.sources.join(", "),
    };
    let next = if !t.enabled {
        "disabled".to_string()
    } else {
        t.next_run.clone().unwrap_or_else(|| "-".into())
    };
    let snapshot = t
        .last_snapshot
        .as_deref()
        .map(|n| n.split_once('@').map_or(n, |(_, s)| s).to_string())
        .unwrap_or_else(|| "-".into());
    vec![
        s.name.clone(),
        if t.kind == "replication" {
            "replication"
        } else {
            "snapshot"
        }
        .to_string(),
        format!("{}{}", t.name, owner_mark(t)),
        paths,
        t.schedule.clone(),
        state_cell(t),
        ago(s.now, t.last_run),
        snapshot,
        t.last_snapshot_age_secs
            .map(coarse)
            .unwrap_or_else(|| "-".into()),
        next,
    ]
    .into_iter()
    .map(|c| printable(&c))
    .collect()
}

fn system_cells(s: &SystemStatus) -> Vec<String> {
    let mut row = vec!["-".to_string(); HEADER.len()];
    row[0] = printable(&s.name);
    match &s.error {
        Some(e) => {
            row[TASK] = e.code.clone();
            row[STATE] = if s.status == "unreachable" {
                "UNREACHABLE"
            } else {
                "UNREADABLE"
            }
            .into();
        }
        None => row[TASK] = "(no tasks)".into(),
    }
    row
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `w` characters: the end goes for names, the middle for paths (both ends of
/// a path say the most).
fn cut(s: &str, w: usize, middle: bool) -> String {
    let n = width(s);
    if n <= w {
        return s.to_string();
    }
    if w <= 1 {
        return "…".chars().take(w).collect();
    }
    if middle {
        let head = (w - 1) / 2;
        let tail = w - 1 - head;
        let start: String = s.chars().take(head).collect();
        let end: String = s.chars().skip(n - tail).collect();
        format!("{start}…{end}")
    } else {
        let start: String = s.chars().take(w - 1).collect();
        format!("{start}…")
    }
}

/// Column widths that fit `max`: the widest shrinkable column gives up one character at a
/// time until the line fits or none can give more.
fn fit(mut widths: Vec<usize>, max: Option<usize>) -> Vec<usize> {
    let Some(max) = max else {
        return widths;
    };
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len().saturating_sub(1));
    // The type column narrows in one step, to `snap`/`repl`.
    if total(&widths) > max && widths[TYPE] > 4 {
        widths[TYPE] = 4;
    }
    while total(&widths) > max {
        let candidate = SHRINK
            .iter()
            .filter(|(i, min)| widths[*i] > *min)
            .max_by_key(|(i, _)| widths[*i]);
        match candidate {
            Some((i, _)) => widths[*i] -= 1,
            None => break,
        }
    }
    widths
}

fn details(systems: &[SystemStatus]) -> String {
    let mut out = String::new();
    for s in systems {
        if let Some(e) = &s.error {
            out.push_str(&format!(
                "{}: {} [{}]\n",
                printable(&s.name),
                printable(&e.message),
                e.code
            ));
            if let Some(h) = &e.help {
                out.push_str(&format!("  help: {}\n", printable(h)));
            }
        }
        for t in &s.tasks {
            let who = format!("{} {}", printable(&s.name), printable(&t.name));
            if let Some(r) = &t.reason {
                out.push_str(&format!("{who}: {}: {}\n", t.state, printable(r)));
            }
            if let Some(d) = t.progress.as_ref().and_then(|p| p.description.as_deref())
                && !d.is_empty()
            {
                out.push_str(&format!("{who}: {}\n", printable(d)));
            }
            for w in &t.warnings {
                out.push_str(&format!("{who}: warning: {}\n", printable(w)));
            }
        }
    }
    out
}

/// The whole text: the table, then the details, if any.
pub fn render(systems: &[SystemStatus], style: Style) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for s in systems {
        if s.error.is_some() || s.tasks.is_empty() {
            rows.push(system_cells(s));
        }
        for t in &s.tasks {
            rows.push(task_cells(s, t));
        }
    }
    let natural: Vec<usize> = (0..HEADER.len())
        .map(|i| {
            rows.iter()
                .map(|r| width(&r[i]))
                .chain(std::iter::once(width(HEADER[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let widths = fit(natural, style.width);
    let paint = |code: Option<&str>, text: &str| match code {
        Some(c) if style.colour => format!("\x1b[{c}m{text}\x1b[0m"),
        _ => text.to_string(),
    };
    let mut out = String::new();
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    for (n, row) in std::iter::once(&header).chain(rows.iter()).enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let text = if i == TYPE && widths[i] < width(cell) {
                // `snapshot`/`replication` narrowed: their first four letters still differ.
                cell.chars().take(widths[i].min(4)).collect()
            } else {
                // Headers lose their end, whatever their column's cells lose.
                cut(cell, widths[i], n > 0 && (i == PATHS || i == SNAPSHOT))
            };
            let pad = widths[i].saturating_sub(width(&text));
            let shown = if n == 0 {
                paint(Some("1"), &text)
            } else if i == STATE {
                paint(colour_of(&text), &text)
            } else {
                text
            };
            line.push_str(&shown);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let more = details(systems);
    if !more.is_empty() {
        out.push('\n');
        out.push_str(&more);
    }
    out
}

/// `--snapshots`: per dataset of the config, the count and the newest of each schema.
pub fn render_snapshots(systems: &[SystemStatus]) -> String {
    let header = [
        "SYSTEM",
        "DATASET",
        "SNAPSHOTS",
        "NAMING SCHEMA",
        "NEWEST",
        "AGE",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for s in systems {
        for d in s.snapshots.iter().flatten() {
            if d.newest.is_empty() {
                rows.push(vec![
                    s.name.clone(),
                    d.dataset.clone(),
                    d.count.to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            for n in &d.newest {
                rows.push(vec![
                    s.name.clone(),
                    d.dataset.clone(),
                    d.count.to_string(),
                    n.naming_schema.clone(),
                    n.snapshot
                        .split_once('@')
                        .map_or(n.snapshot.as_str(), |(_, s)| s)
                        .to_string(),
                    human_secs(n.age_secs),
                ]);
            }
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| width(&r[i])).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let cell = printable(cell);
            line.push_str(&cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - width(&cell) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_names_at_the_end_and_paths_in_the_middle() {
        assert_eq!(cut("offsite-nightly", 8, false), "offsite…");
        assert_eq!(
            cut("tank/data → backup:backup/data", 11, true),
            "tank/…/data"
        );
        assert_eq!(cut("short", 8, true), "short");
    }

    #[test]
    fn only_the_wide_columns_give_way() {
        let natural = vec![6, 11, 30, 40, 8, 8, 8, 25, 3, 20];
        let fitted = fit(natural.clone(), Some(120));
        let total: usize = fitted.iter().sum::<usize>() + 18;
        assert!(total <= 120, "{fitted:?}");
        for i in [0, 5, 6, 8, 9] {
            assert_eq!(fitted[i], natural[i]);
        }
        assert_eq!(fitted[TYPE], 4);
        assert_eq!(fit(natural.clone(), None), natural);
    }
}
