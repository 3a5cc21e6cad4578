//! `zfleet man`: manual pages generated from the command-line definition, so they never
//! drift from `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

use crate::diag::{CodeInfo, Problem};

pub const NO_SUCH_COMMAND: &str = "zfleet::man::no_such_command";
pub const WRITE: &str = "zfleet::man::write";

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: NO_SUCH_COMMAND,
        summary: "`zfleet man` names a command zfleet does not have",
    },
    CodeInfo {
        code: WRITE,
        summary: "a manual page cannot be written into `--dir`",
    },
];

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (`plan`, `sim advance`); none prints zfleet(1).
    #[arg(value_name = "COMMAND")]
    pub command: Vec<String>,
    /// Write every page (zfleet.1, zfleet-plan.1, …) into DIR instead, for packaging.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: &ManArgs) -> ExitCode {
    let result = match &args.dir {
        Some(dir) => write_all(dir).map(|n| {
            crate::outln!(
                "{} written to {}",
                crate::diag::count(n, "page", "pages"),
                dir.display()
            );
        }),
        None => page(&args.command).map(|roff| super::output::write_out_bytes(&roff)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(p) => {
            super::report(&[p]);
            ExitCode::FAILURE
        }
    }
}

/// The whole command tree with the names pages use (`zfleet plan`, `zfleet-plan`).
fn built() -> clap::Command {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn man(cmd: &clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd.clone())
        .source(format!("zfleet {}", env!("CARGO_PKG_VERSION")))
        .manual("zfleet manual")
}

fn render(cmd: &clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man(cmd).render(&mut out);
    out
}

/// The roff page of the command at `path` (empty: zfleet itself).
pub fn page(path: &[String]) -> Result<Vec<u8>, Problem> {
    let root = built();
    let mut cmd = &root;
    for (i, name) in path.iter().enumerate() {
        cmd = cmd.find_subcommand(name).ok_or_else(|| {
            let known: Vec<&str> = cmd
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(clap::Command::get_name)
                .collect();
            let typed = path[..=i].join(" ");
            Problem::error(
                NO_SUCH_COMMAND,
                format!("there is no command `zfleet {typed}`"),
            )
            .help(format!("pages exist for: {}", known.join(", ")))
        })?;
    }
    Ok(render(cmd))
}

/// Writes a page for every command, nested ones included; returns how many.
pub fn write_all(dir: &Path) -> Result<usize, Problem> {
    fn walk(cmd: &clap::Command, dir: &Path, n: &mut usize) -> Result<(), Problem> {
        let page = man(cmd);
        let path = dir.join(page.get_filename());
        std::fs::write(&path, render(cmd)).map_err(|e| {
            Problem::error(WRITE, format!("cannot write {}: {e}", path.display()))
                .object(path.display().to_string())
                .help("`--dir` must be a directory zfleet may write into")
        })?;
        *n += 1;
        for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
            walk(sub, dir, n)?;
        }
        Ok(())
    }
    let mut n = 0;
    walk(&built(), dir, &mut n)?;
    Ok(n)
}
