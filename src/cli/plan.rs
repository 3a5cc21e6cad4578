//! `zfleet plan`: what apply would change, and what stands in the way.

use std::process::ExitCode;

use super::FileArg;
use crate::diag::Problem;
use crate::inventory::FleetEntry;
use crate::model::Config;
use crate::plan::Plan;

pub const NO_SUCH_SYSTEM: &str = "zfleet::cli::no_such_system";
pub const PLAN_FILE: &str = "zfleet::cli::plan_file";

#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Print the plan as JSON (see the format in the README).
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when there is nothing to change, 2 when there is, 1 on errors.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan to FILE, for `zfleet apply FILE` (applied only if neither the config
    /// nor the live state moved in between).
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
}

/// Options shared by `plan` and `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScopeArgs {
    /// Only these systems (repeatable; globs such as `nas*`). Others are still read, for
    /// the checks that look across systems, but nothing is planned or changed on them.
    #[arg(long = "system", value_name = "NAME")]
    pub systems: Vec<String>,
    /// Plan to enable and start the SSH service where replication needs it.
    #[arg(long)]
    pub fix_ssh: bool,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

/// The patterns of `--system` (names or globs such as `nas*`); one that is not a valid
/// glob or matches no system of the config is an error.
pub fn system_patterns(texts: &[String], config: &Config) -> Result<Vec<glob::Pattern>, Problem> {
    let mut out = Vec::new();
    for text in texts {
        let pattern = glob::Pattern::new(text).map_err(|e| {
            Problem::error(
                NO_SUCH_SYSTEM,
                format!("`--system {text}` is not a valid pattern: {e}"),
            )
            .help("use a system name or a glob such as `nas*`")
        })?;
        if !config.systems.keys().any(|n| pattern.matches(n)) {
            let known: Vec<&str> = config.systems.keys().map(String::as_str).collect();
            return Err(Problem::error(
                NO_SUCH_SYSTEM,
                format!("`--system {text}` matches no system of the config"),
            )
            .help(format!("the systems are: {}", known.join(", "))));
        }
        out.push(pattern);
    }
    Ok(out)
}

/// A plan made from the live state, with everything needed to show or apply it.
pub struct Prepared {
    pub config: Config,
    pub fleet: Vec<FleetEntry>,
    pub plan: Plan,
}

/// Loads the config, reads the fleet and plans. `Err` is the exit code after the
/// problems have been reported.
pub fn prepare(
    file: &FileArg,
    scope: &ScopeArgs,
    json: bool,
    rt: &tokio::runtime::Runtime,
) -> Result<Prepared, ExitCode> {
    let fail = |problems: &[Problem]| {
        if json {
            let name = crate::config::load::display_name(&file.file);
            crate::outln!("{}", crate::diag::json::document(&name, problems, None));
        } else {
            super::report(problems);
        }
        ExitCode::FAILURE
    };
    let config = crate::config::load(&file.file).map_err(|p| fail(&p))?;
    let patterns = system_patterns(&scope.systems, &config).map_err(|p| fail(&[p]))?;
    let in_scope = |name: &str| patterns.is_empty() || patterns.iter().any(|p| p.matches(name));
    let opts = scope.reach.connect_options();
    let names: Vec<String> = config.systems.keys().cloned().collect();
    let progress = crate::progress::Progress::for_systems(&names);
    let fleet = rt.block_on(crate::inventory::read_fleet_scoped(
        &config, &opts, &progress, true,
    ));
    progress.finish();
    let options = crate::plan::build::Options {
        fix_ssh: scope.fix_ssh,
    };
    let mut plan = crate::plan::plan(&config, &fleet, &options);
    let previews = rt.block_on(retention_previews(&plan, &fleet));
    for sp in &plan.systems {
        if let Some(answers) = previews.get(&sp.system) {
            plan.problems
                .extend(crate::plan::checks::retention(sp, answers));
        }
    }
    plan.systems.retain(|s| in_scope(&s.system));
    // A problem of another system stays when it concerns a replication of one in scope.
    let involved: Vec<String> = config
        .replications
        .values()
        .filter(|r| in_scope(&r.target.system) || r.sources.iter().any(|s| in_scope(&s.system)))
        .map(|r| format!("replication {}", r.name))
        .collect();
    plan.problems.retain(|p| {
        p.system.as_deref().is_none_or(&in_scope)
            || p.object.as_ref().is_some_and(|o| involved.contains(o))
    });
    Ok(Prepared {
        config,
        fleet,
        plan,
    })
}

pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        crate::errln!("zfleet: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })
}

/// Prints the plan: diagnostics to stderr, the plan to stdout (or all as JSON).
pub fn show(plan: &Plan, json: bool) {
    if json {
        crate::outln!("{}", crate::render::json::render(plan));
    } else {
        super::report(&plan.problems);
        crate::out!(
            "{}",
            crate::render::text::render(plan, crate::render::stdout_colour())
        );
    }
}

pub fn run(args: &PlanArgs) -> ExitCode {
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let prepared = match prepare(&args.file, &args.scope, args.json, &rt) {
        Ok(p) => p,
        Err(code) => return code,
    };
    rt.shutdown_background();
    let plan = &prepared.plan;
    show(plan, args.json);
    if let Some(path) = &args.out {
        let saved = crate::plan::saved::SavedPlan::new(plan, &prepared.config);
        if let Err(e) = std::fs::write(path, saved.to_json() + "\n") {
            super::report(&[Problem::error(
                PLAN_FILE,
                format!("cannot write {}: {e}", path.display()),
            )
            .help("choose a file in a directory you can write to")]);
            return ExitCode::FAILURE;
        }
        if !args.json {
            crate::errln!(
                "Saved the plan to {}; apply it with `zfleet apply {}`.",
                path.display(),
                path.display()
            );
        }
    }
    if plan.has_errors() {
        ExitCode::FAILURE
    } else if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

type Answers = Vec<(usize, std::collections::BTreeMap<String, Vec<String>>)>;

/// Asks each system with snapshot task edits or deletions which snapshots would change
/// retention (one round trip per such system; CORE 13 has no such methods).
async fn retention_previews(
    plan: &Plan,
    fleet: &[FleetEntry],
) -> std::collections::BTreeMap<String, Answers> {
    let mut set = tokio::task::JoinSet::new();
    for sp in &plan.systems {
        let calls = crate::plan::checks::retention_calls(sp);
        let client = fleet
            .iter()
            .find(|e| e.name == sp.system)
            .and_then(|e| e.client.clone());
        let Some(client) = client else { continue };
        let core = client
            .known_version()
            .is_some_and(|v| v.personality == crate::client::version::Personality::Core13);
        if calls.is_empty() || core {
            continue;
        }
        let system = sp.system.clone();
        set.spawn(async move {
            let just: Vec<_> = calls.iter().map(|(_, c)| c.clone()).collect();
            let mut answers = Vec::new();
            // A preview that fails only costs the warning, never the plan.
            if let Ok(results) = client.batch(&just).await {
                for ((i, _), r) in calls.iter().zip(results) {
                    if let Ok(reply) = r
                        && let Ok(map) = reply.decode()
                    {
                        answers.push((*i, map));
                    }
                }
            }
            (system, answers)
        });
    }
    let mut out = std::collections::BTreeMap::new();
    while let Some(Ok((system, answers))) = set.join_next().await {
        out.insert(system, answers);
    }
    out
}
