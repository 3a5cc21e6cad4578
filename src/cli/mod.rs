//! The command line: argument parsing and one module per command.

pub mod apply;
pub mod graph;
pub mod import;
pub mod man;
pub mod output;
pub mod plan;
pub mod reach;
pub mod run;
pub mod snapshot;
pub mod status;
pub mod systems;
pub mod validate;
pub mod version;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::diag::CodeInfo;

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: plan::NO_SUCH_SYSTEM,
        summary: "`--system` names no system of the config",
    },
    CodeInfo {
        code: plan::PLAN_FILE,
        summary: "a saved plan file cannot be written or read",
    },
    CodeInfo {
        code: apply::STALE,
        summary: "a saved plan no longer fits the config or the live state",
    },
    CodeInfo {
        code: apply::NEEDS_YES,
        summary: "apply needs `--yes` when it cannot ask on a terminal",
    },
    CodeInfo {
        code: apply::BLOCKED,
        summary: "apply refused: the plan has errors",
    },
    CodeInfo {
        code: apply::FAILED,
        summary: "some actions of apply failed",
    },
];

#[derive(Debug, Parser)]
#[command(
    name = "zfleet",
    version = version::text(),
    about = "ZFS snapshot and replication tasks across fleets of TrueNAS systems, as code"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The config file argument shared by the commands that read one.
#[derive(Debug, Clone, clap::Args)]
pub struct FileArg {
    /// Config file; a directory means its zfleet.yaml, `-` reads the config from stdin
    /// (relative paths in it are then read from the current directory).
    #[arg(
        short = 'f',
        long = "file",
        default_value = "zfleet.yaml",
        env = "ZFLEET_FILE"
    )]
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the config offline: syntax, types, references, schedules, naming schemas, and the
    /// fixtures, key and known_hosts files it names on this machine.
    Validate(validate::ValidateArgs),
    /// Print the JSON Schema of the config file (for yaml-language-server and editors).
    Schema,
    /// Connect to every system and show what zfleet sees there.
    Systems(systems::SystemsArgs),
    /// Compare the config with every system's live state: what apply would change and
    /// what stands in the way.
    Plan(plan::PlanArgs),
    /// Make every system match the config (asks first on a terminal; `--yes` otherwise).
    Apply(apply::ApplyArgs),
    /// Run Now: a replication (on every system that runs it) or a snapshot task, followed
    /// to its end.
    Run(run::RunArgs),
    /// Take a one-time manual snapshot now (as TrueCommand's Create Snapshot does).
    Snapshot(snapshot::SnapshotArgs),
    /// Every snapshot task and replication of the fleet: state, last run, recovery point,
    /// next run; `--check` for Nagios/Icinga.
    Status(status::StatusArgs),
    /// Write config for the tasks that exist on the systems (`--adopt` to take them over).
    Import(import::ImportArgs),
    /// The simulated TrueNAS: midclt-compatible command, SSH server, clock.
    #[command(subcommand)]
    Sim(crate::sim::cli::SimCommand),
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
    /// Draw the replication topology: systems, replications and their health (DOT, Mermaid, SVG).
    Graph(graph::GraphArgs),
    /// Print the manual page (roff), or write every page into a directory.
    Man(man::ManArgs),
}

pub fn main() -> ExitCode {
    install_report_handler();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Schema => {
            crate::out!("{}", crate::config::schema::json_schema());
            ExitCode::SUCCESS
        }
        Command::Systems(args) => systems::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Snapshot(args) => snapshot::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Sim(cmd) => crate::sim::cli::run(cmd),
        Command::Completions { shell } => {
            // Generated into memory: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zfleet", &mut script);
            output::write_out_bytes(&script);
            ExitCode::SUCCESS
        }
        Command::Graph(args) => graph::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// Diagnostics look the same on a terminal and in a CI log; colour only on a terminal
/// and never with `NO_COLOR`.
fn install_report_handler() {
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .force_graphical(true)
                .color(color)
                .unicode(true)
                .terminal_links(false)
                .width(100)
                .build(),
        )
    }));
}

/// Prints problems to stderr as miette reports.
pub fn report(problems: &[crate::diag::Problem]) {
    for p in problems {
        crate::errln!("{:?}", miette::Report::new(p.clone()));
    }
}
