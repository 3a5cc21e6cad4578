//! `zfleet snapshot SYSTEM:DATASET`: a one-time manual snapshot, as TrueCommand's Create
//! Snapshot takes it, refused before anything is sent when plan would refuse it.

use std::process::ExitCode;

use super::FileArg;
use crate::diag::Problem;
use crate::inventory::SnapshotScope;
use crate::model::Config;
use crate::runnow::manual;

#[derive(Debug, clap::Args)]
pub struct SnapshotArgs {
    /// The system of the config and the dataset, e.g. `nas1:tank/data`.
    #[arg(value_name = "SYSTEM:DATASET")]
    pub target: String,
    #[command(flatten)]
    pub file: FileArg,
    /// Snapshot every dataset below it too, under the same name.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// The name, strftime-style in the system's timezone.
    #[arg(long, value_name = "SCHEMA", default_value = manual::DEFAULT_SCHEMA)]
    pub naming_schema: String,
    #[command(flatten)]
    pub reach: super::reach::ReachArgs,
}

/// `name` is a system of the config; otherwise the error names the nearest one.
pub fn known_system(config: &Config, name: &str) -> Result<(), Problem> {
    if config.systems.contains_key(name) {
        return Ok(());
    }
    let names: Vec<&str> = config.systems.keys().map(String::as_str).collect();
    let help = match crate::config::de::suggest(name, &names) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the systems are: {}", names.join(", ")),
    };
    Err(Problem::error(
        super::plan::NO_SUCH_SYSTEM,
        format!("no system `{name}` in the config"),
    )
    .help(help))
}

fn fail(problems: &[Problem]) -> ExitCode {
    super::report(problems);
    ExitCode::FAILURE
}

pub fn run(args: &SnapshotArgs) -> ExitCode {
    let (system, dataset) = match manual::split_target(&args.target) {
        Ok(t) => t,
        Err(p) => return fail(&[p]),
    };
    if let Err(why) = crate::model::naming::validate(&args.naming_schema) {
        return fail(&[Problem::error(
            crate::runnow::SNAPSHOT_ARGUMENT,
            format!("`--naming-schema {}`: {why}", args.naming_schema),
        )
        .help("it needs %Y, %m, %d, %H and %M, e.g. `manual-%Y-%m-%d_%H-%M`")]);
    }
    let config = match crate::config::load(&args.file.file) {
        Ok(c) => c,
        Err(p) => return fail(&p),
    };
    if let Err(p) = known_system(&config, system) {
        return fail(&[p]);
    }
    let Some(sys) = config.systems.get(system) else {
        return ExitCode::FAILURE;
    };
    let rt = match super::plan::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let opts = args.reach.connect_options();
    let outcome = rt.block_on(async {
        let transport = crate::transport::connect(sys, &opts)
            .await
            .map_err(|e| e.to_problem(system))?;
        let client = crate::client::Client::new(system, transport);
        let scope = SnapshotScope::Below(vec![dataset.to_string()]);
        let inv = crate::inventory::read_scoped(&client, &scope).await?;
        let name = manual::name_at(&inv, &args.naming_schema);
        manual::check(system, &inv, dataset, &name, args.recursive)?;
        // The name checked is the name sent, whatever minute it is by now.
        manual::take(&client, dataset, &name, args.recursive)
            .await
            .map_err(|e| e.to_problem())
    });
    rt.shutdown_background();
    match outcome {
        Ok(full) => {
            crate::outln!("✓ {system}: took {full}");
            ExitCode::SUCCESS
        }
        Err(p) => fail(&[p]),
    }
}
