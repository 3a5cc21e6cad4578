//! `zfleet systems`: connect to every system and show what zfleet sees there.

use std::process::ExitCode;

use serde::Serialize;

use super::FileArg;
use crate::client::shown::printable;
use crate::diag::Problem;
use crate::inventory::{self, FleetEntry, Inventory};
use crate::model::Config;

#[derive(Debug, clap::Args)]
pub struct SystemsArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

/// What `zfleet systems` reports about one system (the `--json` shape).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SystemReport {
    pub name: String,
    /// `ok`, `unreachable` (no connection could be made) or `error` (anything else: host
    /// key, login, timeout, failed calls; `error.code` says which).
    pub status: &'static str,
    pub host_key: Option<String>,
    pub version: Option<String>,
    pub product: Option<String>,
    pub hostname: Option<String>,
    pub ssh: Option<SshState>,
    pub counts: Option<Counts>,
    pub error: Option<ErrorReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SshState {
    pub enabled: bool,
    pub running: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub datasets: usize,
    pub snapshots: usize,
    pub snapshot_tasks: usize,
    pub replications: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorReport {
    pub code: String,
    pub message: String,
    pub help: Option<String>,
}

impl From<&Problem> for ErrorReport {
    fn from(p: &Problem) -> Self {
        ErrorReport {
            code: p.code.to_string(),
            message: p.message.clone(),
            help: p.help.clone(),
        }
    }
}

impl SystemReport {
    fn failed(name: &str, p: &Problem) -> Self {
        SystemReport {
            name: name.to_string(),
            status: "error",
            host_key: None,
            version: None,
            product: None,
            hostname: None,
            ssh: None,
            counts: None,
            error: Some(p.into()),
        }
    }

    fn from_inventory(
        name: &str,
        host_key: Option<String>,
        r: &Result<Inventory, Problem>,
    ) -> Self {
        match r {
            Ok(inv) => SystemReport {
                name: name.to_string(),
                status: "ok",
                host_key,
                version: Some(inv.version.number.clone()),
                product: Some(inv.version.product.to_string()),
                hostname: inv.info.hostname.clone(),
                ssh: Some(SshState {
                    enabled: inv.ssh_service.enable,
                    running: inv.ssh_service.running(),
                }),
                counts: Some(Counts {
                    datasets: inv.datasets.len(),
                    snapshots: inv.snapshots.len(),
                    snapshot_tasks: inv.snapshot_tasks.len(),
                    replications: inv.replications.len(),
                }),
                error: None,
            },
            // Only a system that could not be reached at all is "unreachable"; one that
            // answered and then refused, stalled or failed is an "error" with its code.
            Err(p) => SystemReport {
                status: if p.code == "zfleet::ssh::unreachable" {
                    "unreachable"
                } else {
                    "error"
                },
                host_key,
                ..SystemReport::failed(name, p)
            },
        }
    }
}

impl From<&FleetEntry> for SystemReport {
    fn from(e: &FleetEntry) -> Self {
        SystemReport::from_inventory(&e.name, e.host_key.clone(), &e.result)
    }
}

/// The `--json` document.
pub fn render_json(reports: &[SystemReport]) -> String {
    let doc = serde_json::json!({ "systems": reports });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}

/// The table for humans, then one paragraph per system that failed.
pub fn render_table(reports: &[SystemReport]) -> String {
    let header = [
        "SYSTEM",
        "STATUS",
        "VERSION",
        "SSH",
        "DATASETS",
        "SNAPSHOTS",
        "SNAP TASKS",
        "REPLICATIONS",
        "HOST KEY",
    ];
    let dash = || "-".to_string();
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in reports {
        let ssh = r.ssh.as_ref().map_or_else(dash, |s| {
            format!(
                "{}, {}",
                if s.enabled { "enabled" } else { "disabled" },
                if s.running { "running" } else { "stopped" }
            )
        });
        let version = match (&r.product, &r.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => dash(),
        };
        let count =
            |f: fn(&Counts) -> usize| r.counts.as_ref().map_or_else(dash, |c| f(c).to_string());
        rows.push(vec![
            printable(&r.name),
            r.status.to_string(),
            printable(&version),
            ssh,
            count(|c| c.datasets),
            count(|c| c.snapshots),
            count(|c| c.snapshot_tasks),
            count(|c| c.replications),
            r.host_key.as_deref().map_or_else(dash, printable),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for r in reports {
        if let Some(e) = &r.error {
            out.push('\n');
            out.push_str(&format!(
                "{}: {} [{}]\n",
                printable(&r.name),
                printable(&e.message),
                e.code
            ));
            if let Some(h) = &e.help {
                out.push_str(&format!("  help: {}\n", printable(h)));
            }
        }
    }
    out
}

pub fn exit_code(reports: &[SystemReport]) -> ExitCode {
    if reports.iter().all(|r| r.status == "ok") {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub fn run(args: &SystemsArgs) -> ExitCode {
    let config = match crate::config::load(&args.file.file) {
        Ok(c) => c,
        Err(problems) => {
            if args.json {
                let file = crate::config::load::display_name(&args.file.file);
                crate::outln!("{}", crate::diag::json::document(&file, &problems, None));
            } else {
                super::report(&problems);
            }
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("zfleet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = args.reach.connect_options();
    let names: Vec<String> = config.systems.keys().cloned().collect();
    let progress = crate::progress::Progress::for_systems(&names);
    let reports = rt.block_on(survey_config(&config, &opts, &progress));
    progress.finish();
    // A timed-out simulator call may still be sleeping on a worker thread: do not wait.
    rt.shutdown_background();
    if args.json {
        crate::outln!("{}", render_json(&reports));
    } else {
        crate::out!("{}", render_table(&reports));
    }
    exit_code(&reports)
}

/// Reads every system of `config` over the real transports (SSH or the embedded simulator).
pub async fn survey_config(
    config: &Config,
    opts: &crate::transport::ConnectOptions,
    progress: &crate::progress::Progress,
) -> Vec<SystemReport> {
    let entries = inventory::read_fleet(config, opts, progress).await;
    entries.iter().map(SystemReport::from).collect()
}
