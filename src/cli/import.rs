//! `zfleet import`: the tasks that exist on the systems, written as config.

use std::path::PathBuf;
use std::process::ExitCode;

use super::FileArg;
use crate::diag::{Problem, count};
use crate::import::{OUTPUT, OUTPUT_EXISTS, Request};
use crate::model::Config;

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The config whose `project` and `systems` are used; its tasks are not read.
    #[command(flatten)]
    pub file: FileArg,
    /// Only the tasks of these systems (repeatable; globs such as `nas*`). Every system is
    /// still read, to find the other end of each replication.
    #[arg(long = "system", value_name = "NAME")]
    pub systems: Vec<String>,
    /// Also declare the tasks made by hand, with `adopt: true`: the next apply records
    /// them as managed by this project.
    #[arg(long)]
    pub adopt: bool,
    /// Write the config to FILE instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long, requires = "out")]
    pub force: bool,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

/// The config's `systems:` section as written (comments and layout kept).
fn systems_text(text: &str) -> Option<String> {
    let root = crate::config::node::parse(text).ok()?;
    let crate::config::node::Kind::Map(entries) = root.kind else {
        return None;
    };
    let (key, value) = entries
        .iter()
        .find(|(k, _)| k.key_text(text) == "systems")?;
    let start = text[..key.span.offset].rfind('\n').map_or(0, |i| i + 1);
    let end = last_byte(value);
    let end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    text.get(start..end).map(str::to_string)
}

/// Where a node ends: a block mapping's own span may stop before its last entry.
fn last_byte(node: &crate::config::node::Node<'_>) -> usize {
    use crate::config::node::Kind;
    let own = node.span.offset + node.span.len;
    let inner = match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .map(|(k, v)| last_byte(k).max(last_byte(v)))
            .max(),
        Kind::Seq(items) => items.iter().map(last_byte).max(),
        _ => None,
    };
    inner.map_or(own, |i| i.max(own))
}

/// The systems `--system` selects, in the config's order.
fn selected(args: &ImportArgs, config: &Config) -> Result<Vec<String>, Problem> {
    let patterns = super::plan::system_patterns(&args.systems, config)?;
    Ok(config
        .systems
        .keys()
        .filter(|n| patterns.is_empty() || patterns.iter().any(|p| p.matches(n)))
        .cloned()
        .collect())
}

fn write_file(path: &std::path::Path, text: &str, force: bool) -> Result<(), Problem> {
    let shown = path.display();
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(Problem::error(OUTPUT_EXISTS, format!("{shown} exists"))
            .help("pass --force to replace it, or choose another file with -o"));
    }
    std::fs::write(path, text).map_err(|e| {
        Problem::error(OUTPUT, format!("cannot write {shown}: {e}"))
            .help("choose a file in a directory you can write to")
    })
}

pub fn run(args: &ImportArgs) -> ExitCode {
    let fail = |problems: &[Problem]| {
        super::report(problems);
        ExitCode::FAILURE
    };
    let doc = match crate::config::load::read(&args.file.file) {
        Ok(doc) => doc,
        Err(p) => return fail(&[p]),
    };
    let (config, mut problems) = crate::config::validate::validate(&doc);
    problems.extend(doc.problems.iter().cloned());
    problems.retain(Problem::is_error);
    if !problems.is_empty() {
        return fail(&problems);
    }
    let systems = match selected(args, &config) {
        Ok(s) => s,
        Err(p) => return fail(&[p]),
    };
    let systems_section = systems_text(&doc.text).unwrap_or_else(|| "systems: {}".to_string());

    let rt = match super::plan::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // Tasks need no snapshots: a config without tasks reads none.
    let bare = Config {
        snapshot_tasks: Default::default(),
        snapshots: Vec::new(),
        replications: Default::default(),
        ..config.clone()
    };
    let names: Vec<String> = config.systems.keys().cloned().collect();
    let progress = crate::progress::Progress::for_systems(&names);
    let opts = args.reach.connect_options();
    let fleet = rt.block_on(crate::inventory::read_fleet_scoped(
        &bare, &opts, &progress, true,
    ));
    progress.finish();
    rt.shutdown_background();

    // An import that silently lacks a system would read as "it has no tasks".
    let unread: Vec<Problem> = fleet
        .iter()
        .filter_map(|e| e.result.as_ref().err().map(|p| (e, p)))
        .map(|(e, p)| {
            if systems.contains(&e.name) {
                p.clone()
            } else {
                crate::diag::Problem {
                    severity: crate::diag::Severity::Warning,
                    ..p.clone()
                }
            }
        })
        .collect();
    super::report(&unread);
    if unread.iter().any(Problem::is_error) {
        return ExitCode::FAILURE;
    }

    let versions: Vec<String> = fleet
        .iter()
        .filter(|e| systems.contains(&e.name))
        .filter_map(|e| e.result.as_ref().ok())
        .map(|inv| format!("{} ({})", inv.system, inv.version.label()))
        .collect();
    let source = doc.source.name().to_string();
    let mut header = vec![
        format!(
            "Imported by `zfleet import` on {} from:",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        ),
        format!("  {}.", versions.join(", ")),
        format!("Systems as in {source}; tasks as the systems hold them."),
    ];
    if args.adopt {
        header.push(format!(
            "`adopt: true`: the next apply records the task as managed by project {}.",
            config.project
        ));
    }
    let req = Request {
        config: &config,
        systems_text: &systems_section,
        systems: &systems,
        adopt: args.adopt,
        header,
    };
    let imported = match crate::import::import(&req, &fleet) {
        Ok(i) => i,
        Err(p) => return fail(&[p]),
    };

    for l in &imported.left_out {
        crate::errln!("left out: {} on {}: {}", l.what, l.key.1, l.why);
    }
    for n in &imported.notes {
        crate::errln!("note: {n}");
    }
    let summary = format!(
        "Imported {} and {} from {}",
        count(imported.snapshot_tasks, "snapshot task", "snapshot tasks"),
        count(imported.replications, "replication", "replications"),
        count(systems.len(), "system", "systems"),
    );
    let left = match imported.left_out.len() {
        0 => String::new(),
        n => format!("; {n} left out"),
    };
    match &args.out {
        None => {
            crate::out!("{}", imported.text);
            crate::errln!("{summary}{left}.");
        }
        Some(path) => {
            if let Err(p) = write_file(path, &imported.text, args.force) {
                return fail(&[p]);
            }
            crate::errln!("{summary} into {}{left}.", path.display());
        }
    }
    ExitCode::SUCCESS
}
