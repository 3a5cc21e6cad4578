//! `zfleet sim ...`: the simulator's own commands.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::PathBuf;
use std::process::ExitCode;

use super::faults::{self, Faults};
use super::server;

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
    /// Serve a simulated fleet over SSH: one listener per system.
    Serve(ServeArgs),
    /// Set (or with no option, clear) the faults injected into one simulated system.
    Faults(FaultsArgs),
    /// Show how many connections, execs and midclt calls each simulated system served.
    Counters(CountersArgs),
    /// Generate a fleet: N systems × M datasets with snapshot tasks, snapshots and
    /// replications, the same for the same seed.
    Generate(GenerateArgs),
    /// Move the fleet's clock forward (`90s`, `15m`, `2h`, `3d`, `1w`) and run everything due.
    Advance(AdvanceArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The fleet directory to create.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub systems: usize,
    /// Datasets per system.
    #[arg(long, default_value_t = 4)]
    pub datasets: usize,
    /// Snapshot tasks per system (each with a replication to the next system).
    #[arg(long, default_value_t = 2)]
    pub tasks: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// TrueNAS version of every system (default: a mix chosen by the seed).
    #[arg(long)]
    pub version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AdvanceArgs {
    /// The fleet directory.
    #[arg(long)]
    pub state: PathBuf,
    /// How far: `90s`, `15m`, `2h`, `3d`, `1w`, or combined like `1d12h`.
    pub duration: String,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The fleet directory (one `<system>.json` state file per system).
    #[arg(long)]
    pub state: PathBuf,
    /// `SYSTEM=ADDRESS:PORT`; repeat per system. Port 0 picks a free port (printed).
    #[arg(long, required = true, value_parser = server::parse_listen)]
    pub listen: Vec<(String, std::net::SocketAddr)>,
    /// Host private key (OpenSSH format); default `<state>/ssh_host_ed25519_key`, created
    /// if absent.
    #[arg(long)]
    pub host_key: Option<PathBuf>,
    /// Public keys allowed to log in as any user (the systems' users' `sshpubkey` are
    /// allowed too, for that user).
    #[arg(long)]
    pub authorized_keys: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct FaultsArgs {
    /// The fleet directory.
    #[arg(long)]
    pub state: PathBuf,
    /// The simulated system.
    pub system: String,
    /// Delay per SSH exec (one network round trip), in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub rtt_ms: u64,
    /// Delay per midclt invocation, in milliseconds (the real one takes about 500).
    #[arg(long, default_value_t = 0)]
    pub midclt_ms: u64,
    /// Drop the connection during the exec after this many on the same connection.
    #[arg(long)]
    pub drop_after: Option<u64>,
    /// Make calls of this method fail (repeatable).
    #[arg(long = "fail", value_name = "METHOD")]
    pub fail: Vec<String>,
    /// Make calls of this method end in `Call timeout` (repeatable).
    #[arg(long = "timeout", value_name = "METHOD")]
    pub timeout: Vec<String>,
    /// The middleware is not running: every midclt call fails to connect.
    #[arg(long)]
    pub stop_middleware: bool,
}

#[derive(Debug, clap::Args)]
pub struct CountersArgs {
    /// The fleet directory.
    #[arg(long)]
    pub state: PathBuf,
    /// Print JSON (`{"system": {"connections": N, "execs": N, "midclt": N}}`).
    #[arg(long)]
    pub json: bool,
    /// Set all counters back to zero after printing them.
    #[arg(long)]
    pub reset: bool,
}

pub fn run(cmd: SimCommand) -> ExitCode {
    let result = match cmd {
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
            crate::cli::output::write_out(&out.stdout);
            crate::cli::output::write_err(&out.stderr);
            return ExitCode::from(u8::try_from(out.exit).unwrap_or(1));
        }
        SimCommand::Serve(args) => serve(args),
        SimCommand::Faults(args) => set_faults(args),
        SimCommand::Counters(args) => show_counters(args),
        SimCommand::Generate(args) => generate(args),
        SimCommand::Advance(args) => advance(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(p) => {
            crate::cli::report(&[p]);
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), crate::diag::Problem> {
    let zfleet_exe = std::env::current_exe().map_err(|e| {
        crate::diag::Problem::error(
            "zfleet::sim::shim",
            format!("cannot find the zfleet binary: {e}"),
        )
    })?;
    server::serve_forever(&server::ServeOptions {
        state_dir: args.state,
        listen: args.listen,
        host_key: args.host_key,
        authorized_keys: args.authorized_keys,
        zfleet_exe,
    })
}

fn set_faults(args: FaultsArgs) -> Result<(), crate::diag::Problem> {
    let f = Faults {
        rtt_ms: args.rtt_ms,
        midclt_ms: args.midclt_ms,
        drop_after: args.drop_after,
        fail: args.fail,
        timeout: args.timeout,
        stop_middleware: args.stop_middleware,
    };
    faults::store(&args.state, &args.system, &f)
}

fn show_counters(args: CountersArgs) -> Result<(), crate::diag::Problem> {
    let all = faults::counters(&args.state)?;
    if args.json {
        let text = serde_json::to_string(&all).unwrap_or_else(|_| "{}".into());
        crate::outln!("{text}");
    } else {
        crate::outln!(
            "{:<20} {:>12} {:>12} {:>12}",
            "SYSTEM",
            "CONNECTIONS",
            "EXECS",
            "MIDCLT"
        );
        for (system, c) in &all {
            crate::outln!(
                "{:<20} {:>12} {:>12} {:>12}",
                system,
                c.connections,
                c.execs,
                c.midclt
            );
        }
    }
    if args.reset {
        faults::reset_counters(&args.state)?;
    }
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<(), crate::diag::Problem> {
    let spec = super::fleetgen::FleetSpec {
        systems: args.systems,
        datasets: args.datasets,
        tasks: args.tasks,
        seed: args.seed,
        version: args.version,
    };
    let states = super::fleetgen::generate(&args.out, &spec)?;
    crate::outln!(
        "generated {} systems in {}",
        states.len(),
        args.out.display()
    );
    Ok(())
}

fn advance(args: AdvanceArgs) -> Result<(), crate::diag::Problem> {
    let secs = super::clock::parse_duration(&args.duration)?;
    let report = super::jobs::advance(&args.state, secs)?;
    crate::outln!(
        "clock +{}s (offset {}s); {} systems caught up, {} replication runs completed",
        secs,
        report.offset_secs,
        report.systems,
        report.jobs_completed
    );
    Ok(())
}
