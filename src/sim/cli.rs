//! `zfleet sim ...`: the simulator's own commands.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::faults::{self, Faults};
use super::{fleet, server, version};

/// The TrueNAS versions the simulator impersonates, for help texts.
#[derive(Debug, clap::Subcommand)]
pub enum SimCommand {
    /// Behave like TrueNAS's `midclt` against a simulated system's state.
    ///
    /// Prints byte-exactly what `midclt` prints and exits with its code, so it can stand as
    /// `midclt` on the PATH of a real sshd. A state that does not exist yet is seeded from
    /// `--fixture`; without one, a missing state is an error (never a blank system).
    Midclt {
        /// The system's state file.
        #[arg(long, env = "ZFLEET_SIM_STATE")]
        state: PathBuf,
        /// Seed the state from this fixture (YAML) when the state file does not exist yet.
        #[arg(long, env = "ZFLEET_SIM_FIXTURE")]
        fixture: Option<PathBuf>,
        /// TrueNAS version of a newly seeded state, over the fixture's own (13.0, 13.3, 24.04,
        /// 24.10, 25.04, 25.10, or one with a patch level).
        #[arg(
            long = "truenas-version",
            value_name = "VERSION",
            env = "ZFLEET_SIM_VERSION"
        )]
        version: Option<String>,
        /// midclt's own arguments, e.g. `call system.version`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Serve a simulated fleet over SSH: one listener per system, on loopback.
    ///
    /// The server is not a shell: it runs `midclt ...` (and `sudo -n midclt ...`) commands
    /// and zfleet's own `sh -s` batches, interpreted by the simulator against the system's
    /// state, and refuses every other command, interactive shells, subsystems (sftp) and
    /// forwarding. `midclt` answers root and the uid-950 admin; other users are not
    /// authenticated by the middleware, as on TrueNAS.
    Serve(ServeArgs),
    /// Set (or with no option, clear) the faults injected into one simulated system.
    Faults(FaultsArgs),
    /// Show how many connections, execs and midclt calls each simulated system served.
    Counters(CountersArgs),
    /// Generate a fleet: N systems × M datasets with snapshot tasks, snapshots and
    /// replications, the same for the same seed.
    ///
    /// Writes `DIR/fixtures/<system>.yaml`, a state `DIR/<system>.json` per system (for
    /// `sim serve`, `sim advance`, ...) and `DIR/zfleet.yaml`, a config with the same systems
    /// (embedded, from the fixtures), snapshot tasks and replications. Generating into the
    /// same directory again starts the fleet over and removes the systems no longer
    /// generated.
    Generate(GenerateArgs),
    /// Move the fleet's clock forward (`90s`, `15m`, `2h`, `3d`, `1w`) and run everything due.
    Advance(AdvanceArgs),
    /// Discard simulated state so that the next run seeds it again from its fixture.
    ///
    /// `zfleet sim reset [-f zfleet.yaml] [SYSTEM...]` resets the config's simulated systems
    /// (all of them when none is named); `zfleet sim reset --state FILE` resets one state file
    /// of `zfleet sim midclt` or of a fleet directory. Every change made to the simulated
    /// system since it was seeded is lost; its injected faults stay.
    Reset(ResetArgs),
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
    /// TrueNAS version of every system (13.0, 13.3, 24.04, 24.10, 25.04, 25.10, or one with
    /// a patch level; default: a mix of 24.04 to 25.10 chosen by the seed).
    #[arg(
        long = "truenas-version",
        value_name = "VERSION",
        env = "ZFLEET_SIM_VERSION"
    )]
    pub version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub file: crate::cli::FileArg,
    /// One state file to reset instead of the config's systems.
    #[arg(long, conflicts_with = "systems")]
    pub state: Option<PathBuf>,
    /// Simulated systems of the config to reset (default: all of them).
    pub systems: Vec<String>,
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
    /// `SYSTEM=ADDRESS:PORT`, or `SYSTEM=:PORT` for 127.0.0.1; repeat per system. Port 0
    /// picks a free port (printed). Only loopback addresses unless --allow-remote.
    #[arg(long, required = true, value_parser = server::parse_listen)]
    pub listen: Vec<(String, std::net::SocketAddr)>,
    /// Listen on addresses other machines can reach (0.0.0.0, ::, a LAN address). The
    /// server is a test fixture: anyone holding an allowed key can change the simulated
    /// systems, so keep it on loopback unless the network is yours.
    #[arg(long)]
    pub allow_remote: bool,
    /// Host private key (OpenSSH format); default `<state>/ssh_host_ed25519_key`, created
    /// if absent.
    #[arg(long)]
    pub host_key: Option<PathBuf>,
    /// Public keys allowed to log in as any user the system has (a user's own `sshpubkey`
    /// lets that user in too). Unknown and locked users never log in.
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
    /// Delay per round trip (an SSH exec, or a batch of an embedded system), in milliseconds.
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
    /// Running replications stall: their jobs stay RUNNING at their last progress.
    #[arg(long)]
    pub stall_jobs: bool,
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
            if let Err(p) = prepare_midclt(&state, fixture.as_deref(), version.as_deref()) {
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
        SimCommand::Reset(args) => return reset(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(p) => {
            crate::cli::report(&[p]);
            ExitCode::FAILURE
        }
    }
}

/// Checks the state `sim midclt` is pointed at and seeds it from a given fixture.
fn prepare_midclt(
    state: &Path,
    fixture: Option<&Path>,
    version: Option<&str>,
) -> Result<(), crate::diag::Problem> {
    if let Some(v) = version {
        version::parse(v)?;
    }
    fleet::require_state_file(state, fixture.is_some())?;
    if fixture.is_some() || version.is_some() {
        super::seed::seed_given(state, fixture, version)?;
    }
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), crate::diag::Problem> {
    for (system, addr) in &args.listen {
        fleet::require_system(&args.state, system)?;
        if !args.allow_remote && !addr.ip().is_loopback() {
            return Err(server::remote_listen_refused(system, addr));
        }
    }
    server::serve_forever(&server::ServeOptions {
        state_dir: args.state,
        listen: args.listen,
        host_key: args.host_key,
        authorized_keys: args.authorized_keys,
    })
}

fn set_faults(args: FaultsArgs) -> Result<(), crate::diag::Problem> {
    fleet::require_system(&args.state, &args.system)?;
    let f = Faults {
        rtt_ms: args.rtt_ms,
        midclt_ms: args.midclt_ms,
        drop_after: args.drop_after,
        fail: args.fail,
        timeout: args.timeout,
        stop_middleware: args.stop_middleware,
        stall_jobs: args.stall_jobs,
    };
    faults::store(&args.state, &args.system, &f)
}

fn show_counters(args: CountersArgs) -> Result<(), crate::diag::Problem> {
    fleet::require_fleet(&args.state)?;
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
    let written = super::fleetgen::generate(&args.out, &spec)?;
    crate::outln!(
        "generated {} in {}; their config is {}",
        crate::diag::count(written.states.len(), "system", "systems"),
        args.out.display(),
        written.config.display()
    );
    Ok(())
}

fn advance(args: AdvanceArgs) -> Result<(), crate::diag::Problem> {
    let secs = super::clock::parse_duration(&args.duration)?;
    fleet::require_fleet(&args.state)?;
    let report = super::jobs::advance(&args.state, secs)?;
    use crate::diag::count;
    crate::outln!(
        "clock +{}s (offset {}s); {} caught up, {} succeeded, {} failed",
        secs,
        report.offset_secs,
        count(report.systems, "system", "systems"),
        count(report.runs_succeeded, "replication run", "replication runs"),
        report.runs_failed
    );
    Ok(())
}

fn reset(args: &ResetArgs) -> ExitCode {
    let states = match &args.state {
        Some(state) => fleet::require_existing_state(state).map(|()| {
            let (_, system) = faults::locate(state);
            vec![(system, state.clone())]
        }),
        None => match crate::config::load(&args.file.file) {
            Ok(config) => super::reset::config_states(&config, &args.systems),
            Err(problems) => {
                crate::cli::report(&problems);
                return ExitCode::FAILURE;
            }
        },
    };
    match states.and_then(|s| super::reset::reset(&s)) {
        Ok(done) => {
            for r in done {
                if r.removed {
                    crate::outln!("reset {} ({})", r.system, r.state_file.display());
                } else {
                    crate::outln!("{} has no state yet ({})", r.system, r.state_file.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(p) => {
            crate::cli::report(&[p]);
            ExitCode::FAILURE
        }
    }
}
