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
    Midclt {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Serve a simulated fleet over SSH: one listener per system.
    Serve(ServeArgs),
    /// Set (or with no option, clear) the faults injected into one simulated system.
    Faults(FaultsArgs),
    /// Show how many connections, execs and midclt calls each simulated system served.
    Counters(CountersArgs),
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
        SimCommand::Midclt { .. } => {
            eprintln!("zfleet sim midclt: not built yet");
            return ExitCode::FAILURE;
        }
        SimCommand::Serve(args) => serve(args),
        SimCommand::Faults(args) => set_faults(args),
        SimCommand::Counters(args) => show_counters(args),
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
        println!("{text}");
    } else {
        println!(
            "{:<20} {:>12} {:>12} {:>12}",
            "SYSTEM", "CONNECTIONS", "EXECS", "MIDCLT"
        );
        for (system, c) in &all {
            println!(
                "{:<20} {:>12} {:>12} {:>12}",
                system, c.connections, c.execs, c.midclt
            );
        }
    }
    if args.reset {
        faults::reset_counters(&args.state)?;
    }
    Ok(())
}
