//! Offline checks of what the config refers to on this machine: simulator fixtures, SSH key
//! files and known_hosts files, found the way the transports will look for them. No network.

use std::path::Path;

use super::codes as c;
use super::de::{OptField, Sp};
use super::load::{Document, Named};
use super::validate::{SIM_VERSIONS, expand_home, fixture_path};
use crate::diag::Problem;

/// Every problem with the local files the config names, in file order.
pub fn check(doc: &Document) -> Vec<Problem> {
    let mut problems = Vec::new();
    for Named { name, raw, .. } in &doc.systems {
        let Some(raw) = raw else { continue };
        if let Some(sim) = raw.simulator.given() {
            if let Some(fixture) = sim.fixture.given() {
                let version = sim.version.given().map(|v| v.value.0.as_str());
                problems.extend(check_fixture(doc, name, fixture, version));
            }
            // SSH settings of a simulated system are reported as such; nothing to read.
            continue;
        }
        if let Some(file) = raw.identity_file.given() {
            problems.extend(check_identity_file(doc, name, file));
        }
        if let Some(file) = raw.known_hosts.given() {
            problems.extend(check_known_hosts(doc, name, file));
        }
    }
    problems
}

/// The fixture must be readable and build a simulated system, as seeding it will.
fn check_fixture(
    doc: &Document,
    system: &str,
    fixture: &Sp<String>,
    version: Option<&str>,
) -> Option<Problem> {
    let path = fixture_path(&doc.base, &fixture.value);
    let shown = path.display();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            let (message, help) = if e.kind() == std::io::ErrorKind::NotFound {
                (
                    format!("fixture {shown} does not exist"),
                    "a fixture path is relative to the config file's directory",
                )
            } else {
                (
                    format!("cannot read fixture {shown}: {e}"),
                    "check the fixture file and its permissions",
                )
            };
            return Some(problem(
                doc,
                c::FIXTURE_MISSING,
                system,
                fixture,
                message,
                help,
            ));
        }
    };
    // The config's version replaces the fixture's; one the simulator does not know is
    // reported on its own, so the rest of the fixture is checked with a known one.
    let version = version.map(|v| {
        if SIM_VERSIONS.contains(&v) {
            v
        } else {
            "25.10"
        }
    });
    let err = crate::sim::fixture::load(&text, system, version).err()?;
    let help = err
        .help
        .clone()
        .unwrap_or_else(|| "see the fixture format of the simulator".to_string());
    Some(problem(
        doc,
        c::FIXTURE_INVALID,
        system,
        fixture,
        format!(
            "fixture {shown} is not valid: {}",
            fixture_error(&err.message)
        ),
        &help,
    ))
}

/// The simulator's message about the fixture, without its own lead-in.
fn fixture_error(message: &str) -> &str {
    message
        .strip_prefix("not a valid fixture: ")
        .unwrap_or(message)
}

/// A named key file must exist: the transport refuses to connect without it.
fn check_identity_file(doc: &Document, system: &str, file: &Sp<String>) -> Option<Problem> {
    let path = expand_home(&file.value);
    let shown = path.display();
    let message = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("identity file {shown} does not exist")
        }
        Err(e) => format!("cannot read identity file {shown}: {e}"),
        Ok(m) if m.is_dir() => format!("identity file {shown} is a directory"),
        Ok(_) => match std::fs::File::open(&path) {
            Ok(_) => return None,
            Err(e) => format!("cannot read identity file {shown}: {e}"),
        },
    };
    let help = if path.is_relative() {
        "a relative identity_file is read from the directory zfleet runs in; write its full path or ~/.ssh/..."
    } else {
        "name the private key file, or remove identity_file to use ~/.ssh/config, the agent and ~/.ssh/id_*"
    };
    Some(problem(doc, c::IDENTITY_FILE, system, file, message, help))
}

/// known_hosts may be missing (it is created when a new host key is accepted), but it must be
/// a file that can be created.
fn check_known_hosts(doc: &Document, system: &str, file: &Sp<String>) -> Option<Problem> {
    let path = expand_home(&file.value);
    let shown = path.display();
    let message = if path.is_dir() {
        format!("known_hosts {shown} is a directory")
    } else {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty())?;
        let blocked = ancestors_exist_as_files(parent)?;
        format!(
            "known_hosts {shown} cannot be created: {} is not a directory",
            blocked.display()
        )
    };
    Some(problem(
        doc,
        c::KNOWN_HOSTS,
        system,
        file,
        message,
        "name the known_hosts file itself, e.g. ~/.ssh/known_hosts",
    ))
}

/// The nearest existing ancestor of `dir` (itself included) if it is not a directory.
fn ancestors_exist_as_files(dir: &Path) -> Option<&Path> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    (!existing.is_dir()).then_some(existing)
}

fn problem(
    doc: &Document,
    code: &'static str,
    system: &str,
    at: &Sp<String>,
    message: String,
    help: &str,
) -> Problem {
    let label = match code {
        c::IDENTITY_FILE => "identity file",
        c::KNOWN_HOSTS => "known_hosts",
        _ => "fixture",
    };
    doc.problem(code, at.span, message, label)
        .system(system)
        .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str, base: &Path) -> Vec<String> {
        let mut doc =
            crate::config::load::parse("zfleet.yaml", yaml.as_bytes().to_vec()).expect("config");
        doc.base = base.to_path_buf();
        check(&doc)
            .iter()
            .map(|p| format!("{} {p}", p.code))
            .collect()
    }

    #[test]
    fn files_that_exist_where_they_should_are_fine() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        std::fs::write(d.join("key"), "not checked for content").expect("key");
        std::fs::write(d.join("nas2.yaml"), "datasets: { tank: {} }\n").expect("fixture");
        let yaml = format!(
            "project: p\nsystems:\n  nas1: {{ host: h, identity_file: {k}, known_hosts: {kh} }}\n  nas2: {{ simulator: {{ fixture: nas2.yaml, version: \"9.9\" }} }}\n",
            k = d.join("key").display(),
            kh = d.join("new/known_hosts").display(),
        );
        assert_eq!(problems(&yaml, d), Vec::<String>::new());
    }

    #[test]
    fn a_directory_or_a_file_in_the_way_is_reported() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        std::fs::write(d.join("file"), "").expect("file");
        let yaml = format!(
            "project: p\nsystems:\n  nas1: {{ host: h, identity_file: {d}, known_hosts: {d}/file/known_hosts }}\n",
            d = d.display(),
        );
        assert_eq!(
            problems(&yaml, d),
            [
                format!(
                    "zfleet::system::identity_file nas1: identity file {} is a directory",
                    d.display()
                ),
                format!(
                    "zfleet::system::known_hosts nas1: known_hosts {d}/file/known_hosts cannot be created: {d}/file is not a directory",
                    d = d.display()
                ),
            ]
        );
    }
}
