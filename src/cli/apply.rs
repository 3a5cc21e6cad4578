//! `zfleet apply`: plan, confirm, then make every system match the config.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use super::FileArg;
use super::plan::{Prepared, ScopeArgs, prepare, runtime, show};
use crate::apply::{Report, Status, SystemOutcome};
use crate::client::shown::printable;
use crate::diag::Problem;
use crate::plan::SystemPlan;
use crate::plan::saved::SavedPlan;

pub const NEEDS_YES: &str = "zfleet::apply::needs_yes";
pub const BLOCKED: &str = "zfleet::apply::blocked";
pub const FAILED: &str = "zfleet::apply::failed";
pub const STALE: &str = "zfleet::apply::stale_plan";

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A plan saved with `zfleet plan -o FILE`: applied as it is, without asking, if the
    /// config and the live state are still those it was made from.
    #[arg(value_name = "PLAN")]
    pub plan: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub file: FileArg,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait for another apply's lock on a system: seconds or with a unit
    /// [default: 2m].
    #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse_timeout)]
    pub lock_timeout: Option<std::time::Duration>,
    /// After applying, run the replications created or changed (a new snapshot task they
    /// are bound to runs first), and wait for their jobs. `run_on_apply: true` does this
    /// for one replication.
    #[arg(long)]
    pub run: bool,
    /// How long `--run` waits for a snapshot or a replication job [default: 30m].
    #[arg(long, value_name = "DURATION", value_parser = crate::model::duration::parse_timeout)]
    pub run_timeout: Option<std::time::Duration>,
    /// Remove the apply lock of these systems first (after an apply died holding it).
    #[arg(long, value_name = "SYSTEM")]
    pub break_lock: Vec<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Apply's progress: a line per system on a terminal, one log line per stage otherwise.
struct Shown {
    progress: crate::progress::Progress,
    names: Vec<String>,
}

impl Report for Shown {
    fn stage(&self, system: &str, what: &str) {
        match self.names.iter().position(|n| n == system) {
            Some(i) if self.progress.is_drawn() => self
                .progress
                .update(i, crate::progress::Phase::Working(what.to_string())),
            _ => crate::errln!("{}: {what}", printable(system)),
        }
    }
}

fn confirm(systems: usize) -> bool {
    crate::err!(
        "Apply these changes to {}? Only 'yes' is accepted: ",
        crate::diag::count(systems, "system", "systems")
    );
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok() && line.trim() == "yes"
}

fn read_saved(path: &std::path::Path) -> Result<SavedPlan, ExitCode> {
    let fail = |message: String| {
        super::report(&[Problem::error(super::plan::PLAN_FILE, message)
            .help("make a plan file with `zfleet plan -o FILE`")]);
        ExitCode::FAILURE
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    SavedPlan::from_json(&text)
        .map_err(|why| fail(format!("{} cannot be applied: {why}", path.display())))
}

/// The saved plan's systems, if the config and every system's state are unchanged.
fn check_saved(saved: &SavedPlan, fresh: &Prepared) -> Result<Vec<SystemPlan>, Problem> {
    let stale = |message: String| {
        Problem::error(STALE, message)
            .help("make a new plan with `zfleet plan -o FILE`, review it, and apply that")
    };
    if saved.errors > 0 {
        return Err(
            Problem::error(BLOCKED, "the saved plan has errors and is never applied")
                .help("fix the errors `zfleet plan` shows and save a new plan"),
        );
    }
    if saved.project != fresh.config.project
        || saved.config != crate::plan::saved::config_digest(&fresh.config)
    {
        return Err(stale("the config changed since the plan was made".into()));
    }
    let mut moved = Vec::new();
    for s in saved
        .systems
        .iter()
        .filter(|s| !s.actions.is_empty() || !s.forget.is_empty())
    {
        let now = fresh.plan.systems.iter().find(|f| f.system == s.system);
        match (now.and_then(|n| n.state.as_ref()), &s.state) {
            (Some(now), Some(then)) => {
                let what = then.moved(now);
                if !what.is_empty() {
                    moved.push(format!("{}: {}", s.system, what.join(", ")));
                }
            }
            _ => moved.push(format!("{}: its state cannot be read now", s.system)),
        }
    }
    if moved.is_empty() {
        Ok(saved.systems.clone())
    } else {
        Err(stale(format!(
            "the live state moved since the plan was made ({})",
            moved.join("; ")
        )))
    }
}

pub fn run(args: &ApplyArgs) -> ExitCode {
    let saved = match &args.plan {
        Some(path) => match read_saved(path) {
            Ok(s) => Some(s),
            Err(code) => return code,
        },
        None => None,
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let prepared = match prepare(&args.file, &args.scope, false, &rt) {
        Ok(p) => p,
        Err(code) => return code,
    };
    for name in &args.break_lock {
        let entry = prepared.fleet.iter().find(|e| &e.name == name);
        let ds = prepared
            .plan
            .systems
            .iter()
            .find(|s| &s.system == name)
            .and_then(|s| s.lock_dataset.clone());
        let (Some(client), Some(ds)) = (entry.and_then(|e| e.client.clone()), ds) else {
            super::report(&[Problem::error(
                super::plan::NO_SUCH_SYSTEM,
                format!("`--break-lock {name}`: no readable system of that name"),
            )
            .help("name a system of the config that `zfleet systems` can reach")]);
            return ExitCode::FAILURE;
        };
        match rt.block_on(crate::apply::lock::break_lock(&client, &ds)) {
            Ok(Some(held)) => crate::errln!("{name}: removed the lock of {held}"),
            Ok(None) => crate::errln!("{name}: no lock to remove"),
            Err(e) => {
                super::report(&[Problem::error(FAILED, format!("{name}: the lock could not be removed: {e}"))
                    .system(name.clone())
                    .help("remove the `zfleet:lock` user property of the pool's root dataset in the TrueNAS UI")]);
                return ExitCode::FAILURE;
            }
        }
    }
    let mut plan = prepared.plan.clone();
    if let Some(saved) = &saved {
        match check_saved(saved, &prepared) {
            Ok(systems) => {
                plan.systems = systems;
                plan.problems.clear();
            }
            Err(p) => {
                super::report(&[p]);
                return ExitCode::FAILURE;
            }
        }
    }
    show(&plan, false);
    if plan.has_errors() {
        super::report(&[Problem::error(BLOCKED, "nothing was applied: the plan has errors")
            .help("fix the errors above (or leave their systems out with `--system`) and run apply again")]);
        return ExitCode::FAILURE;
    }
    let work: Vec<_> = plan
        .systems
        .iter()
        .filter(|s| !s.actions.is_empty() || !s.forget.is_empty())
        .filter_map(|s| {
            let client = prepared
                .fleet
                .iter()
                .find(|e| e.name == s.system)
                .and_then(|e| e.client.clone())?;
            Some((client, s.clone()))
        })
        .collect();
    if work.is_empty() {
        return ExitCode::SUCCESS;
    }
    let changing = work.iter().filter(|(_, s)| !s.actions.is_empty()).count();
    if changing > 0 && !args.yes && saved.is_none() {
        if !std::io::stdin().is_terminal() {
            super::report(&[Problem::error(NEEDS_YES, "apply needs `--yes` when it cannot ask on a terminal")
                .help("review the plan above, then run `zfleet apply --yes` (or save it with `zfleet plan -o FILE` and apply that)")]);
            return ExitCode::FAILURE;
        }
        if !confirm(changing) {
            crate::errln!("Apply cancelled.");
            return ExitCode::FAILURE;
        }
    }
    let mut options = crate::apply::Options::new(&plan.project);
    if let Some(wait) = args.lock_timeout {
        options.lock_wait = wait;
    }
    let names: Vec<String> = work.iter().map(|(_, s)| s.system.clone()).collect();
    let progress = crate::progress::Progress::for_systems(&names);
    let report: Arc<dyn crate::apply::Report> = Arc::new(Shown {
        progress: progress.clone(),
        names,
    });
    let outcomes = rt.block_on(crate::apply::apply_all(
        work.clone(),
        &options,
        Arc::clone(&report),
    ));
    progress.finish();
    crate::out!("{}", summary(&outcomes));
    let config = &prepared.config;
    let wanted = |name: &str| {
        config
            .replications
            .get(name)
            .is_some_and(|r| r.run_on_apply)
    };
    let run_names: Vec<String> = work.iter().map(|(_, s)| s.system.clone()).collect();
    let run_progress = if args.run || work.iter().any(|(_, s)| s.actions.iter().any(|a| matches!(&a.subject, crate::plan::Subject::Replication { name: Some(n), .. } if wanted(n)))) {
        crate::progress::Progress::for_systems(&run_names)
    } else {
        crate::progress::Progress::hidden()
    };
    let report: Arc<dyn crate::apply::Report> = Arc::new(Shown {
        progress: run_progress.clone(),
        names: run_names,
    });
    let runs = rt.block_on(crate::apply::run::run_after(
        &work,
        &outcomes,
        &wanted,
        args.run,
        args.run_timeout
            .unwrap_or(std::time::Duration::from_secs(1800)),
        report,
    ));
    run_progress.finish();
    rt.shutdown_background();
    for r in &runs {
        match &r.error {
            None => crate::outln!(
                "✓ {}: run of replication {} — SUCCESS",
                printable(&r.system),
                printable(&r.replication)
            ),
            Some(e) => {
                crate::outln!(
                    "✗ {}: run of replication {} — failed",
                    printable(&r.system),
                    printable(&r.replication)
                );
                for line in e.lines() {
                    crate::outln!("    {}", printable(line));
                }
            }
        }
    }
    if runs.iter().any(|r| !r.ok) {
        super::report(&[
            Problem::error(FAILED, "a replication run after apply did not succeed").help(
                "the lines above give TrueNAS's error; `zfleet plan` shows the tasks are in place",
            ),
        ]);
        return ExitCode::FAILURE;
    }
    if outcomes.iter().any(SystemOutcome::failed) {
        super::report(&[Problem::error(FAILED, "apply did not finish on every system")
            .help("the summary above says what failed; run `zfleet plan` to see what is left, fix the cause, and apply again")]);
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Done / failed / skipped per system, with TrueNAS's error for each failure.
pub fn summary(outcomes: &[SystemOutcome]) -> String {
    let mut out = String::from("\n");
    let (mut done, mut failed, mut skipped) = (0, 0, 0);
    for o in outcomes {
        for a in &o.actions {
            let (mark, word) = match a.status {
                Status::Done => {
                    done += 1;
                    ("✓", "done")
                }
                Status::Failed => {
                    failed += 1;
                    ("✗", "failed")
                }
                Status::Skipped => {
                    skipped += 1;
                    ("·", "skipped")
                }
            };
            out.push_str(&format!(
                "{mark} {}: {} {} — {word}\n",
                printable(&o.system),
                crate::render::text::verb(a.op),
                printable(&a.label)
            ));
            if let Some(e) = &a.error {
                for line in e.lines() {
                    out.push_str(&format!("    {}\n", printable(line)));
                }
            }
        }
        if let Some(e) = &o.error {
            // The error names the system already.
            let e = e.strip_prefix(&format!("{}: ", o.system)).unwrap_or(e);
            out.push_str(&format!("✗ {}: {}\n", printable(&o.system), printable(e)));
        }
    }
    let stopped = outcomes.iter().filter(|o| o.error.is_some()).count();
    let stopped = if stopped > 0 {
        format!(
            " {} stopped early.",
            crate::diag::count(stopped, "system", "systems")
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "Apply: {done} done, {failed} failed, {skipped} skipped.{stopped}\n"
    ));
    out
}
