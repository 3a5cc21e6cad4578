//! `zfleet sim ...`: the simulator's own commands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// Behave like TrueNAS's `midclt` against a simulated system's state.
    ///
    /// Prints byte-exactly what `midclt` prints and exits with its code, so it can stand as
    /// `midclt` on the PATH of a real sshd.
    Midclt {
        /// The system's state file.
        #[arg(long, env = "ZFLEET_SIM_STATE")]
        state: PathBuf,
        /// Seed the state from this fixture (YAML) when the state file does not exist yet.
        #[arg(long, env = "ZFLEET_SIM_FIXTURE")]
        fixture: Option<PathBuf>,
        /// Version personality for a newly seeded state (13.0, 24.04, 24.10, 25.04, 25.10).
        #[arg(long = "sim-version", env = "ZFLEET_SIM_VERSION")]
        version: Option<String>,
        /// midclt's own arguments, e.g. `call system.version`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

pub fn run(cmd: SimCommand) -> ExitCode {
    match cmd {
        SimCommand::Midclt {
            state,
            fixture,
            version,
            args,
        } => {
            if let Err(p) = super::seed(&state, fixture.as_deref(), version.as_deref()) {
                crate::cli::report(&[p]);
                return ExitCode::from(1);
            }
            let out = super::midclt(&state, &args);
            let _ = std::io::stdout().write_all(out.stdout.as_bytes());
            let _ = std::io::stderr().write_all(out.stderr.as_bytes());
            let _ = std::io::stdout().flush();
            ExitCode::from(u8::try_from(out.exit).unwrap_or(1))
        }
    }
}
