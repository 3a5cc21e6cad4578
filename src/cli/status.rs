//! `zfleet status`: every snapshot task and replication of the fleet, its state, last run,
//! recovery point and next run. `--check` judges it for Nagios/Icinga; `--watch` redraws it
//! in place on a terminal until Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use super::FileArg;
use crate::diag::{CodeInfo, Problem};
use crate::model::Config;
use crate::status::check::{self, Level, Thresholds};
use crate::status::table::{self, Style};
use crate::status::{Connections, SystemStatus};

pub const WATCH_NEEDS_TERMINAL: &str = "zfleet::status::watch_needs_terminal";

pub const CODES: &[CodeInfo] = &[CodeInfo {
    code: WATCH_NEEDS_TERMINAL,
    summary: "`status --watch` redraws a terminal; its output is not one",
}];

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Print JSON instead of a table.
    #[arg(long, conflicts_with_all = ["check", "watch"])]
    pub json: bool,
    /// Only these systems (repeatable; globs such as `nas*`).
    #[arg(long = "system", value_name = "NAME")]
    pub systems: Vec<String>,
    /// Only tasks in ERROR or whose last run FAILED, and systems that cannot be read.
    #[arg(long)]
    pub failed: bool,
    /// Add, per dataset of the config, its snapshot count and newest snapshot per naming
    /// schema.
    #[arg(long)]
    pub snapshots: bool,
    /// Redraw every SECS seconds (default 2) until Ctrl-C; needs a terminal.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "2",
          value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "check")]
    pub watch: Option<u64>,
    /// Judge the fleet for Nagios/Icinga: one summary line with performance data, one line
    /// per finding; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    #[arg(long)]
    pub check: bool,
    /// With --check: a scheduled replication whose newest replicated snapshot is older is
    /// WARNING (`26h`, `90m`, `2d`). Without it: 26h, or 2h after the first run scheduled
    /// after that snapshot when that comes later (weekly tasks, weekends).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub max_age: Option<u64>,
    /// With --check: older than this is CRITICAL.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub critical_age: Option<u64>,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

fn parse_age(text: &str) -> Result<u64, String> {
    match crate::model::duration::parse_units(text) {
        Some(0) | None => Err(format!(
            "`{text}` is not an age (a number with a unit: `26h`, `90m`, `2d`)"
        )),
        Some(s) => Ok(s),
    }
}

/// Only the systems in scope are read.
fn scoped(config: &Config, patterns: &[glob::Pattern]) -> Config {
    let mut c = config.clone();
    if !patterns.is_empty() {
        c.systems
            .retain(|n, _| patterns.iter().any(|p| p.matches(n)));
    }
    c
}

fn colour_on_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The terminal's width, else `COLUMNS`, else none (nothing is cut).
fn columns() -> Option<usize> {
    if std::io::stdout().is_terminal() {
        // SAFETY: TIOCGWINSZ fills a plain struct we own; stdout stays open.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col > 0 {
            return Some(usize::from(size.ws_col));
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|c: &usize| *c > 0)
}

pub fn run(args: &StatusArgs) -> ExitCode {
    let fail = |problems: &[Problem]| -> ExitCode {
        if args.check {
            // Monitoring reads the first line: say why the state is unknown there.
            let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
            crate::outln!(
                "ZFLEET UNKNOWN - {}",
                crate::client::shown::printable(&first)
            );
            return ExitCode::from(Level::Unknown.code());
        }
        if args.json {
            let file = crate::config::load::display_name(&args.file.file);
            crate::outln!("{}", crate::diag::json::document(&file, problems, None));
        } else {
            super::report(problems);
        }
        ExitCode::FAILURE
    };
    let config = match crate::config::load(&args.file.file) {
        Ok(c) => c,
        Err(problems) => return fail(&problems),
    };
    let patterns = match super::plan::system_patterns(&args.systems, &config) {
        Ok(p) => p,
        Err(p) => return fail(&[p]),
    };
    if args.watch.is_some() && !std::io::stdout().is_terminal() {
        return fail(&[Problem::error(
            WATCH_NEEDS_TERMINAL,
            "`--watch` redraws the screen, and the output is not a terminal",
        )
        .help("run `zfleet status` once per interval instead, e.g. from cron or `watch -n 60 zfleet status`")]);
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("zfleet: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match args.watch {
        Some(secs) => rt.block_on(watch(args, &config, &patterns, secs)),
        None => once(args, &config, &patterns, &rt),
    };
    // A timed-out simulator call may still be sleeping on a worker thread: do not wait.
    rt.shutdown_background();
    code
}

fn gather(
    args: &StatusArgs,
    config: &Config,
    patterns: &[glob::Pattern],
    conns: &mut Connections,
    progress: &crate::progress::Progress,
) -> impl std::future::Future<Output = Vec<SystemStatus>> {
    let opts = args.reach.connect_options();
    let scoped = scoped(config, patterns);
    let full = config.clone();
    let (failed, snapshots) = (args.failed, args.snapshots);
    let progress = progress.clone();
    async move {
        let reads = crate::status::read_fleet(&scoped, &opts, conns, &progress).await;
        progress.finish();
        let mut systems = crate::status::build(&full, &reads, snapshots);
        crate::status::filter(&mut systems, &[], failed);
        systems
    }
}

fn once(
    args: &StatusArgs,
    config: &Config,
    patterns: &[glob::Pattern],
    rt: &tokio::runtime::Runtime,
) -> ExitCode {
    let names: Vec<String> = scoped(config, patterns).systems.keys().cloned().collect();
    let progress = if args.check || args.json {
        crate::progress::Progress::hidden()
    } else {
        crate::progress::Progress::for_systems(&names)
    };
    let mut conns = Connections::default();
    let systems = rt.block_on(gather(args, config, patterns, &mut conns, &progress));
    if args.check {
        let limits = Thresholds {
            warning_secs: args
                .max_age
                .map_or(check::DEFAULT_MAX_AGE_SECS, |s| s as i64),
            critical_secs: args.critical_age.map(|s| s as i64),
            by_schedule: args.max_age.is_none(),
        };
        let (level, text) = check::judge(&systems, limits);
        crate::out!("{text}");
        return ExitCode::from(level.code());
    }
    if args.json {
        let doc = serde_json::json!({ "systems": systems });
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
        );
    } else {
        crate::out!("{}", render(args, &systems, colour_on_stdout(), columns()));
    }
    if systems.iter().all(|s| s.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn render(
    args: &StatusArgs,
    systems: &[SystemStatus],
    colour: bool,
    width: Option<usize>,
) -> String {
    if args.failed && systems.is_empty() {
        return "no failed tasks\n".to_string();
    }
    let mut text = table::render(systems, Style { colour, width });
    if args.snapshots {
        text.push('\n');
        text.push_str(&table::render_snapshots(systems));
    }
    text
}

/// Redraws in place: home, each line cleared to its end, the rest of the screen cleared.
fn frame(header: &str, body: &str) -> String {
    let mut out = String::from("\x1b[H");
    for line in std::iter::once(header)
        .chain(std::iter::once(""))
        .chain(body.lines())
    {
        out.push_str(line);
        out.push_str("\x1b[K\n");
    }
    out.push_str("\x1b[J");
    out
}

async fn watch(
    args: &StatusArgs,
    config: &Config,
    patterns: &[glob::Pattern],
    secs: u64,
) -> ExitCode {
    let mut conns = Connections::default();
    let hidden = crate::progress::Progress::hidden();
    // Clear once, hide the cursor while redrawing; both undone on Ctrl-C.
    crate::out!("\x1b[2J\x1b[?25l");
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let systems = tokio::select! {
            s = gather(args, config, patterns, &mut conns, &hidden) => s,
            _ = &mut stop => break,
        };
        let header = format!(
            "every {secs}s: zfleet status (Ctrl-C to stop)   updated {}",
            chrono::Local::now().format("%H:%M:%S")
        );
        let body = render(args, &systems, colour_on_stdout(), columns());
        crate::out!("{}", frame(&header, &body));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
            _ = &mut stop => break,
        }
    }
    crate::out!("\x1b[?25h\n");
    ExitCode::SUCCESS
}
