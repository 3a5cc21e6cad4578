//! `zfleet sim reset`: discards simulated state so that it is seeded again from its fixture,
//! after the fixture was edited (or to start a simulated system over).

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use crate::config::de::suggest;
use crate::diag::Problem;
use crate::model::{Config, SystemKind};

/// One system whose state was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    pub system: String,
    pub state_file: PathBuf,
    /// Whether there was a state to discard.
    pub removed: bool,
}

/// The state files of the config's embedded simulated systems named in `names` (all of them
/// when `names` is empty).
pub fn config_states(config: &Config, names: &[String]) -> Result<Vec<(String, PathBuf)>, Problem> {
    let simulated: Vec<(&str, &Path)> = config
        .systems
        .iter()
        .filter_map(|(name, s)| match &s.kind {
            SystemKind::Simulator(sim) => Some((name.as_str(), sim.state_file.as_path())),
            SystemKind::Ssh(_) => None,
        })
        .collect();
    if names.is_empty() {
        return Ok(simulated
            .iter()
            .map(|(n, f)| (n.to_string(), f.to_path_buf()))
            .collect());
    }
    let mut out = Vec::new();
    for name in names {
        if let Some((n, f)) = simulated.iter().find(|(n, _)| n == name) {
            out.push((n.to_string(), f.to_path_buf()));
            continue;
        }
        let problem = if config.systems.contains_key(name) {
            Problem::error(
                "zfleet::sim::system_unknown",
                "is reached over SSH; only simulated systems have a state to reset",
            )
            .help("name a system configured with `simulator:`")
        } else {
            let candidates: Vec<&str> = simulated.iter().map(|(n, _)| *n).collect();
            let help = match suggest(name, &candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None if candidates.is_empty() => "the config has no simulated system".to_string(),
                None => format!("the simulated systems are {}", candidates.join(", ")),
            };
            Problem::error(
                "zfleet::sim::system_unknown",
                "no such system in the config",
            )
            .help(help)
        };
        return Err(problem.system(name.clone()));
    }
    Ok(out)
}

/// Discards the state of each system (see [`super::seed::remove_state`]).
pub fn reset(states: &[(String, PathBuf)]) -> Result<Vec<Reset>, Problem> {
    states
        .iter()
        .map(|(system, state_file)| {
            let removed =
                super::seed::remove_state(state_file).map_err(|p| p.system(system.clone()))?;
            Ok(Reset {
                system: system.clone(),
                state_file: state_file.clone(),
                removed,
            })
        })
        .collect()
}
