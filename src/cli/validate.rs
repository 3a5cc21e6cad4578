//! `zfleet validate`: offline checks of the config.

use std::process::ExitCode;

use super::FileArg;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub file: FileArg,
}

pub fn run(args: &ValidateArgs) -> ExitCode {
    match crate::config::load(&args.file.file) {
        Ok(_) => ExitCode::SUCCESS,
        Err(problems) => {
            super::report(&problems);
            ExitCode::FAILURE
        }
    }
}
