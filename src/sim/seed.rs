//! Seeding a system's state from its fixture, once. The state records the fixture's hash and
//! the version asked for; when either differs later, the state is reported stale instead of
//! being used as if the edit had been applied. `zfleet sim reset` discards a state so that
//! the next run seeds it again.

// `Problem` is the project-wide diagnostic; boxing it here alone would gain nothing.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};

use russh::keys::ssh_key::HashAlg;

use super::state::SeedRecord;
use super::version::Personality;
use crate::diag::{CodeInfo, Problem};

pub const CODES: &[CodeInfo] = &[CodeInfo {
    code: "zfleet::sim::fixture_changed",
    summary: "a simulated system's fixture or version changed after its state was seeded",
}];

/// `sha256:<hex>` of a fixture's bytes.
fn fingerprint(bytes: &[u8]) -> String {
    let digest = HashAlg::Sha256.digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn read_fixture(path: &Path) -> Result<String, Problem> {
    std::fs::read_to_string(path).map_err(|e| {
        Problem::error(
            "zfleet::sim::fixture_invalid",
            format!("cannot read this fixture: {e}"),
        )
        .object(path.display().to_string())
        .help("check the path of the simulator's fixture")
    })
}

/// Creates `state_file` from the fixture (YAML; none: a bare system) if it does not exist yet;
/// `version` overrides the fixture's version. When the state exists and was seeded from
/// another fixture content or version, that is an error naming `zfleet sim reset`.
pub fn seed(
    state_file: &Path,
    fixture: Option<&Path>,
    version: Option<&str>,
) -> Result<(), Problem> {
    seed_as(state_file, fixture, version, Compare::All)
}

/// [`seed`] for the command line, where a fixture or version is given to seed a new state
/// and may be left out afterwards: only what is given is compared with the state's record.
pub fn seed_given(
    state_file: &Path,
    fixture: Option<&Path>,
    version: Option<&str>,
) -> Result<(), Problem> {
    seed_as(state_file, fixture, version, Compare::Given)
}

/// Which parts of an existing state's record must match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    All,
    Given,
}

/// What a state is seeded from.
struct Seed<'a> {
    fixture: Option<&'a Path>,
    /// The fixture's text.
    text: Option<&'a str>,
    version: Option<&'a str>,
}

fn seed_as(
    state_file: &Path,
    fixture: Option<&Path>,
    version: Option<&str>,
    compare: Compare,
) -> Result<(), Problem> {
    let text = fixture.map(read_fixture).transpose()?;
    let seed = Seed {
        fixture,
        text: text.as_deref(),
        version,
    };
    let wanted = SeedRecord {
        fixture_sha256: text.as_deref().map(|t| fingerprint(t.as_bytes())),
        version: version.map(str::to_string),
    };
    if state_file.exists() {
        return check(state_file, &seed, &wanted, compare);
    }
    let hostname = state_file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("truenas")
        .to_string();
    let mut state = super::fixture::load(text.as_deref().unwrap_or("{}"), &hostname, version)
        .map_err(|p| match fixture {
            Some(path) => p.object(path.display().to_string()),
            None => p,
        })?;
    state.seeded_from = Some(wanted.clone());
    if let Some(dir) = state_file.parent()
        && !dir.as_os_str().is_empty()
    {
        crate::files::create_dir_private(dir)
            .map_err(|e| super::state_problem(state_file, &e.to_string()))?;
    }
    let _lock = super::lock(state_file)?;
    if state_file.exists() {
        return check(state_file, &seed, &wanted, compare);
    }
    super::save(state_file, &state)
}

/// Compares what an existing state was seeded from with what is asked for now. States from
/// before the record existed are taken as they are.
fn check(
    state_file: &Path,
    seed: &Seed<'_>,
    wanted: &SeedRecord,
    compare: Compare,
) -> Result<(), Problem> {
    let state = super::load(state_file)?;
    let Some(mut had) = state.seeded_from else {
        return Ok(());
    };
    if compare == Compare::Given && seed.fixture.is_none() {
        had.fixture_sha256.clone_from(&wanted.fixture_sha256);
    }
    // Another way of asking for the version the state has is the same version (`25.10` for
    // the fixture's own `25.10.1`, or nothing for it).
    if had.version != wanted.version
        && (compare == Compare::Given && wanted.version.is_none()
            || same_version(seed, &state.system.version))
    {
        had.version.clone_from(&wanted.version);
    }
    if had == *wanted {
        return Ok(());
    }
    let shown = |v: &Option<String>| match v {
        Some(v) => format!("version `{v}`"),
        None => "the fixture's own version".to_string(),
    };
    let message = match (seed.fixture, &had.fixture_sha256, &wanted.fixture_sha256) {
        (Some(f), Some(_), Some(_)) if had.fixture_sha256 != wanted.fixture_sha256 => format!(
            "the fixture {} changed after this state was seeded from it",
            f.display()
        ),
        (Some(f), None, Some(_)) => format!(
            "this state was seeded without a fixture; now {} is given",
            f.display()
        ),
        (_, Some(_), None) => "this state was seeded from a fixture; now none is given".into(),
        _ => format!(
            "this state was seeded with {}; now {} is asked for",
            shown(&had.version),
            shown(&wanted.version)
        ),
    };
    Err(Problem::error("zfleet::sim::fixture_changed", message)
        .object(state_file.display().to_string())
        .help(format!(
            "`zfleet sim reset --state {}` discards the simulated state (and every change \
                 made to it); the next run seeds it again",
            state_file.display()
        )))
}

/// Whether seeding now would give a system of version `actual`.
fn same_version(seed: &Seed<'_>, actual: &str) -> bool {
    match seed.version {
        Some(v) => Personality::from_version(v).is_some_and(|p| {
            p.full_version(v) == actual
                || (Personality::from_version(actual) == Some(p) && p.release(actual) == v)
        }),
        None => super::fixture::load(seed.text.unwrap_or("{}"), "-", None)
            .is_ok_and(|s| s.system.version == actual),
    }
}

/// The files of one system's state that zfleet writes beside it: the state, its lock and the
/// scheduler's bookkeeping. Faults stay: they are the user's settings, not state.
pub fn state_files(state_file: &Path) -> Vec<PathBuf> {
    let mut lock = state_file.as_os_str().to_os_string();
    lock.push(".lock");
    vec![
        state_file.to_path_buf(),
        PathBuf::from(lock),
        super::scheduler::bookkeeping_path(state_file),
    ]
}

/// Deletes a system's state (see [`state_files`]); returns whether there was one.
pub fn remove_state(state_file: &Path) -> Result<bool, Problem> {
    let existed = state_file.exists();
    for path in state_files(state_file) {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(super::state_problem(&path, &e.to_string())
                    .help("check that the state's directory is writable"));
            }
            _ => {}
        }
    }
    Ok(existed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_fixture_is_reported_until_reset() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = dir.path().join("nas1.yaml");
        let state = dir.path().join("state").join("nas1.json");
        std::fs::write(&fixture, "version: \"24.10\"\n").unwrap();
        seed(&state, Some(&fixture), None).unwrap();
        // The same fixture again: nothing to say.
        seed(&state, Some(&fixture), None).unwrap();
        std::fs::write(&fixture, "version: \"25.04\"\n").unwrap();
        let e = seed(&state, Some(&fixture), None).unwrap_err();
        assert_eq!(e.code, "zfleet::sim::fixture_changed");
        assert_eq!(
            e.message,
            format!(
                "the fixture {} changed after this state was seeded from it",
                fixture.display()
            )
        );
        assert!(e.help.unwrap().starts_with("`zfleet sim reset --state "));
        let e = seed(&state, Some(&fixture), Some("25.10")).unwrap_err();
        assert_eq!(e.code, "zfleet::sim::fixture_changed");
        assert!(remove_state(&state).unwrap());
        assert!(!remove_state(&state).unwrap());
        seed(&state, Some(&fixture), None).unwrap();
        assert_eq!(
            super::super::load(&state).unwrap().system.version,
            "25.04.2"
        );
    }

    #[test]
    fn the_command_line_compares_only_what_it_gives() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = dir.path().join("nas1.yaml");
        let state = dir.path().join("nas1.json");
        std::fs::write(&fixture, "hostname: nas1\n").unwrap();
        seed_given(&state, Some(&fixture), Some("24.04")).unwrap();
        seed_given(&state, None, Some("24.04")).unwrap();
        seed_given(&state, Some(&fixture), None).unwrap();
        seed_given(&state, None, Some("24.04.2")).unwrap();
        assert!(seed(&state, Some(&fixture), None).is_err());
        assert!(seed_given(&state, None, Some("24.10")).is_err());
    }

    #[test]
    fn another_version_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("nas1.json");
        seed(&state, None, Some("24.04")).unwrap();
        let e = seed(&state, None, Some("25.10")).unwrap_err();
        assert_eq!(
            e.message,
            "this state was seeded with version `24.04`; now version `25.10` is asked for"
        );
        // The same version asked for another way is no change.
        seed(&state, None, Some("24.04.2")).unwrap();
        seed(&state, None, Some("24.04")).unwrap();
        let blank = dir.path().join("blank.json");
        seed(&blank, None, None).unwrap();
        seed(&blank, None, Some("25.10")).unwrap();
    }
}
