//! `zfleet apply`: plan, confirm, then make every system match the config.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use super::FileArg;
use super::plan::{ScopeArgs, prepare, runtime, show};
use crate::apply::{Report, Status, SystemOutcome};
use crate::client::shown::printable;
use crate::diag::Problem;

pub const NEEDS_YES: &str = "zfleet::apply::needs_yes";
pub const BLOCKED: &str = "zfleet::apply::blocked";
pub const FAILED: &str = "zfleet::apply::failed";

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Apply without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// One log line per stage on stderr.
struct Log;

impl Report for Log {
    fn stage(&self, system: &str, what: &str) {
        crate::errln!("{}: {what}", printable(system));
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

pub fn run(args: &ApplyArgs) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let prepared = match prepare(&args.file, &args.scope, false, &rt) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let plan = &prepared.plan;
    show(plan, false);
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
    if changing > 0 && !args.yes {
        if !std::io::stdin().is_terminal() {
            super::report(&[Problem::error(
                NEEDS_YES,
                "apply needs `--yes` when it cannot ask on a terminal",
            )
            .help("review the plan above, then run `zfleet apply --yes`")]);
            return ExitCode::FAILURE;
        }
        if !confirm(changing) {
            crate::errln!("Apply cancelled.");
            return ExitCode::FAILURE;
        }
    }
    let outcomes = rt.block_on(crate::apply::apply_all(work, &plan.project, Arc::new(Log)));
    rt.shutdown_background();
    crate::out!("{}", summary(&outcomes));
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
    out.push_str(&format!(
        "Apply: {done} done, {failed} failed, {skipped} skipped.\n"
    ));
    out
}
