//! `zfleet sim ...`: the simulator's own commands.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// Behave like TrueNAS's `midclt` against a simulated system's state.
    Midclt {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

pub fn run(_cmd: SimCommand) -> ExitCode {
    eprintln!("zfleet sim: not built yet");
    ExitCode::FAILURE
}
