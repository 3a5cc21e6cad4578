//! `zfleet graph`: the replication topology as a picture, coloured by live health.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::FileArg;
use crate::diag::{CodeInfo, Problem, Severity};
use crate::graph::{self, Seen, Topology};

pub const WRITE: &str = "zfleet::graph::write";

pub const CODES: &[CodeInfo] = &[CodeInfo {
    code: WRITE,
    summary: "the graph cannot be written to the `-o` file",
}];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart (GitHub and GitLab draw it in Markdown).
    Mermaid,
    /// A standalone SVG picture, laid out by zfleet.
    Svg,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Output format; without it, the extension of `-o` decides (`.svg`, `.mmd`, `.dot`),
    /// else DOT.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Read only the config and reach no system: every replication is drawn as unknown.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

fn format_of(args: &GraphArgs) -> Format {
    let by_extension = args
        .out
        .as_deref()
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .and_then(|e| match e.to_ascii_lowercase().as_str() {
            "svg" => Some(Format::Svg),
            "mmd" | "mermaid" => Some(Format::Mermaid),
            "dot" | "gv" => Some(Format::Dot),
            _ => None,
        });
    args.format.or(by_extension).unwrap_or(Format::Dot)
}

pub fn render(format: Format, t: &Topology) -> String {
    match format {
        Format::Dot => graph::dot::render(t),
        Format::Mermaid => graph::mermaid::render(t),
        Format::Svg => graph::svg::render(t),
    }
}

pub fn run(args: &GraphArgs) -> ExitCode {
    let config = match crate::config::load(&args.file.file) {
        Ok(c) => c,
        Err(problems) => {
            super::report(&problems);
            return ExitCode::FAILURE;
        }
    };
    let now = chrono::Utc::now();
    let topology = if args.offline {
        graph::build(&config, |_| Seen::Offline, now)
    } else {
        let rt = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                crate::errln!("zfleet: cannot start the async runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let names: Vec<String> = config.systems.keys().cloned().collect();
        let progress = crate::progress::Progress::for_systems(&names);
        let fleet = rt.block_on(crate::inventory::read_fleet_scoped(
            &config,
            &args.reach.connect_options(),
            &progress,
            true,
        ));
        progress.finish();
        rt.shutdown_background();
        // The picture shows such a system in grey; why it could not be read goes to stderr.
        let unread: Vec<Problem> = fleet
            .iter()
            .filter_map(|e| e.result.as_ref().err())
            .map(|p| Problem {
                severity: Severity::Warning,
                ..p.clone()
            })
            .collect();
        super::report(&unread);
        graph::build(
            &config,
            |name| match fleet.iter().find(|e| e.name == name).map(|e| &e.result) {
                Some(Ok(inv)) => Seen::Read(inv),
                Some(Err(p)) => Seen::Failed(p),
                None => Seen::Offline,
            },
            now,
        )
    };
    let text = render(format_of(args), &topology);
    match &args.out {
        None => crate::out!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                let shown = path.display().to_string();
                super::report(&[
                    Problem::error(WRITE, format!("cannot write the graph: {e}"))
                        .object(shown)
                        .help("give `-o` a file in a directory zfleet may write into"),
                ]);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
