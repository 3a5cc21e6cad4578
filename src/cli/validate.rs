//! `zfleet validate`: offline checks of the config.

use std::process::ExitCode;

use super::FileArg;
use crate::diag::Problem;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: FileArg,
}

pub fn run(args: &ValidateArgs) -> ExitCode {
    let path = &args.file.file;
    let (config, problems) = crate::config::check(path);
    super::report(&problems);
    let errors = problems.iter().filter(|p| p.is_error()).count();
    match config {
        Some(c) if errors == 0 => {
            crate::outln!(
                "{} is valid: {} systems, {} snapshot tasks, {} one-time snapshots, {} replications",
                path.display(),
                c.systems.len(),
                c.snapshot_tasks.len(),
                c.snapshots.len(),
                c.replications.len()
            );
            ExitCode::SUCCESS
        }
        _ => {
            crate::errln!("{}", summary(&problems));
            ExitCode::FAILURE
        }
    }
}

fn summary(problems: &[Problem]) -> String {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if warnings == 0 {
        format!("error: {}", plural(errors, "problem"))
    } else {
        format!(
            "error: {}, {}",
            plural(errors, "problem"),
            plural(warnings, "warning")
        )
    }
}
