//! `zfleet systems`: connect to every system and show what zfleet sees there.

use std::process::ExitCode;

use super::FileArg;

#[derive(Debug, clap::Args)]
pub struct SystemsArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &SystemsArgs) -> ExitCode {
    eprintln!("zfleet systems: not built yet");
    ExitCode::FAILURE
}
