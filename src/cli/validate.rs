//! `zfleet validate`: offline checks of the config.

use std::process::ExitCode;

use super::FileArg;
use crate::diag::Problem;
use crate::diag::json::ConfigCounts;
use crate::model::Config;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// How to print the result: `text` (diagnostics on stderr) or `json` (one document on
    /// stdout, also when the config is invalid).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: &ValidateArgs) -> ExitCode {
    let checked = crate::config::check(&args.file.file);
    let problems = &checked.problems;
    let valid = !problems.iter().any(Problem::is_error);
    let counts = checked.config.as_ref().filter(|_| valid).map(counts);
    match args.format {
        Format::Json => {
            crate::outln!(
                "{}",
                crate::diag::json::document(&checked.file, problems, counts)
            );
        }
        Format::Text => {
            super::report(problems);
            match counts {
                Some(c) => crate::outln!("{} is valid: {}", checked.file, holds(&c)),
                None => crate::errln!("{}", summary(problems)),
            }
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn counts(c: &Config) -> ConfigCounts {
    ConfigCounts {
        systems: c.systems.len(),
        snapshot_tasks: c.snapshot_tasks.len(),
        snapshots: c.snapshots.len(),
        replications: c.replications.len(),
    }
}

/// "2 systems, 1 snapshot task, 0 one-time snapshots, 1 replication".
fn holds(c: &ConfigCounts) -> String {
    [
        crate::diag::count(c.systems, "system", "systems"),
        crate::diag::count(c.snapshot_tasks, "snapshot task", "snapshot tasks"),
        crate::diag::count(c.snapshots, "one-time snapshot", "one-time snapshots"),
        crate::diag::count(c.replications, "replication", "replications"),
    ]
    .join(", ")
}

fn summary(problems: &[Problem]) -> String {
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let mut line = format!(
        "error: {}",
        crate::diag::count(errors, "problem", "problems")
    );
    if warnings > 0 {
        line.push_str(&format!(
            ", {}",
            crate::diag::count(warnings, "warning", "warnings")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        let one = ConfigCounts {
            systems: 1,
            snapshot_tasks: 1,
            snapshots: 1,
            replications: 1,
        };
        assert_eq!(
            holds(&one),
            "1 system, 1 snapshot task, 1 one-time snapshot, 1 replication"
        );
        let none = ConfigCounts {
            systems: 2,
            snapshot_tasks: 0,
            snapshots: 3,
            replications: 0,
        };
        assert_eq!(
            holds(&none),
            "2 systems, 0 snapshot tasks, 3 one-time snapshots, 0 replications"
        );
    }

    #[test]
    fn the_summary_counts_errors_and_warnings() {
        let e = Problem::error("zfleet::config::type", "x");
        let w = Problem::warning("zfleet::config::type", "y");
        assert_eq!(summary(std::slice::from_ref(&e)), "error: 1 problem");
        assert_eq!(summary(&[e.clone(), e, w]), "error: 2 problems, 1 warning");
    }
}
