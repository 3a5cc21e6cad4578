//! Finding simulated systems on disk. A fleet directory holds one `<system>.json` state per
//! system; the commands check what they are given before touching anything, so that a typo
//! never seeds a blank system or an empty fleet, and say what exists instead.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use crate::config::de::suggest;
use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "zfleet::sim::state_missing",
        summary: "a simulator state file does not exist and no fixture was given to seed it",
    },
    CodeInfo {
        code: "zfleet::sim::state_not_file",
        summary: "a directory was given where a system's simulator state file is expected",
    },
    CodeInfo {
        code: "zfleet::sim::fleet_missing",
        summary: "a fleet directory does not exist, is not a directory, or holds no simulator state",
    },
    CodeInfo {
        code: "zfleet::sim::system_unknown",
        summary: "a system named on the command line is not a simulated system of the fleet directory or config",
    },
];

/// The systems of a fleet directory (the names of its `<system>.json` states), sorted.
pub fn systems(dir: &Path) -> Vec<String> {
    super::zettarepl::fleet_state_files(dir)
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect()
}

/// The directory a state file is in (`.` for a bare file name).
fn parent(state_file: &Path) -> PathBuf {
    match state_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// Checks that `state_file` can be used as one system's state: it exists, or a fixture
/// will seed it. A missing state is never created blank from the command line.
pub fn require_state_file(state_file: &Path, fixture_given: bool) -> Result<(), Problem> {
    if state_file.is_dir() {
        let names = systems(state_file);
        let example = names.first().map_or("nas1", String::as_str);
        return Err(Problem::error(
            "zfleet::sim::state_not_file",
            "is a directory, not a system's state file",
        )
        .object(show(state_file))
        .help(format!(
            "give the state file of one system, like {}",
            show(&state_file.join(format!("{example}.json")))
        )));
    }
    if fixture_given || state_file.exists() {
        return Ok(());
    }
    Err(missing_state(
        state_file,
        Some("give `--fixture FILE` to seed a new system"),
    ))
}

/// Checks that `state_file` is an existing state (for commands that never seed one).
pub fn require_existing_state(state_file: &Path) -> Result<(), Problem> {
    require_state_file(state_file, false).map_err(|p| {
        if p.code == "zfleet::sim::state_missing" {
            missing_state(state_file, None)
        } else {
            p
        }
    })
}

/// No state at `state_file`: names the closest state beside it, or lists them, then `also`.
fn missing_state(state_file: &Path, also: Option<&str>) -> Problem {
    let dir = parent(state_file);
    let names = systems(&dir);
    let stem = state_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let near = |s: &str| show(&state_file.with_file_name(format!("{s}.json")));
    let help = match (suggest(&stem, &candidates), also) {
        (Some(s), Some(also)) => format!("did you mean {}? Or {also}", near(s)),
        (Some(s), None) => format!("did you mean {}?", near(s)),
        (None, _) if names.is_empty() => {
            let none = format!("there is no state in {}", show(&dir));
            match also {
                Some(also) => format!("{also} ({none})"),
                None => none,
            }
        }
        (None, Some(also)) => format!(
            "the systems in {} are {}; or {also}",
            show(&dir),
            names.join(", ")
        ),
        (None, None) => format!("the systems in {} are {}", show(&dir), names.join(", ")),
    };
    Problem::error("zfleet::sim::state_missing", "no simulator state here")
        .object(show(state_file))
        .help(help)
}

/// Checks that `dir` is a fleet directory with at least one system; returns the systems.
pub fn require_fleet(dir: &Path) -> Result<Vec<String>, Problem> {
    let missing = |message: &str, help: String| {
        Problem::error("zfleet::sim::fleet_missing", message.to_string())
            .object(show(dir))
            .help(help)
    };
    let create = "create one with `zfleet sim generate --out DIR`, or seed systems into it with \
                  `zfleet sim midclt --state DIR/NAME.json --fixture FILE call system.version`";
    if dir.is_file() {
        return Err(missing(
            "is a file, not a fleet directory",
            format!(
                "give the directory that holds the state files: {}",
                show(&parent(dir))
            ),
        ));
    }
    if !dir.exists() {
        return Err(missing("no such fleet directory", create.to_string()));
    }
    let names = systems(dir);
    if names.is_empty() {
        return Err(missing("holds no simulator state", create.to_string()));
    }
    Ok(names)
}

/// Checks that `system` has a state in the fleet directory `dir`; returns the state file.
pub fn require_system(dir: &Path, system: &str) -> Result<PathBuf, Problem> {
    let names = require_fleet(dir)?;
    if names.iter().any(|n| n == system) {
        return Ok(dir.join(format!("{system}.json")));
    }
    let candidates: Vec<&str> = names.iter().map(String::as_str).collect();
    let help = match suggest(system, &candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the systems in {} are {}", show(dir), names.join(", ")),
    };
    Err(Problem::error(
        "zfleet::sim::system_unknown",
        format!("no simulated system `{system}` in this fleet"),
    )
    .object(show(dir))
    .help(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            std::fs::write(dir.path().join(format!("{n}.json")), "{}").unwrap();
        }
        // Not systems: hidden files, fault files, locks.
        std::fs::write(dir.path().join(".counters.json"), "{}").unwrap();
        std::fs::write(dir.path().join("nas1.faults.json"), "{}").unwrap();
        std::fs::write(dir.path().join("nas1.json.lock"), "").unwrap();
        dir
    }

    #[test]
    fn a_near_miss_is_named_and_nothing_is_created() {
        let dir = fleet(&["nas1", "backup"]);
        let typo = dir.path().join("nsa1.json");
        let e = require_state_file(&typo, false).unwrap_err();
        assert_eq!(e.code, "zfleet::sim::state_missing");
        let want = format!(
            "did you mean {}? Or give `--fixture FILE` to seed a new system",
            dir.path().join("nas1.json").display()
        );
        assert_eq!(e.help.as_deref(), Some(want.as_str()));
        assert!(!typo.exists());
        assert!(require_state_file(&typo, true).is_ok());
        assert!(require_state_file(&dir.path().join("nas1.json"), false).is_ok());
    }

    #[test]
    fn fleet_systems_are_listed_when_no_name_is_close() {
        let dir = fleet(&["nas1", "backup"]);
        assert_eq!(systems(dir.path()), vec!["backup", "nas1"]);
        let e = require_system(dir.path(), "offsite").unwrap_err();
        assert_eq!(e.code, "zfleet::sim::system_unknown");
        assert_eq!(
            e.help.unwrap(),
            format!("the systems in {} are backup, nas1", dir.path().display())
        );
        assert_eq!(
            require_system(dir.path(), "bakup")
                .unwrap_err()
                .help
                .unwrap(),
            "did you mean `backup`?"
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            require_fleet(empty.path()).unwrap_err().message,
            "holds no simulator state"
        );
    }
}
