//! Replication name regexes through the simulated `midclt`, as each TrueNAS version answers:
//! patterns are Python's (`re`), judged and matched with Python's rules, and a run selects
//! snapshots as zettarepl does.
//!
//! The expected texts of `create_rejects_patterns_python_rejects`,
//! `count_eligible_reports_python_errors` and `runs_select_snapshots_as_zettarepl_does` were
//! produced by running the real code paths under Python 3.11 (what 24.04 to 25.10 ship):
//! the plugin's `_validate` of each branch, zettarepl's `compile_name_regex` and
//! `get_snapshots_to_send_with_name_pattern` — see `tools/conformance/name_regex/`.
//!
//! Run: `cargo test --test sim_conformance_regex`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use zfleet::sim::{self, MidcltOutput};

/// Versions with `name_regex` (CORE 13 has none).
const SCALE: [&str; 4] = ["24.04", "24.10", "25.04", "25.10"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sim")
        .join(name)
}

fn system(version: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture("nas1.yaml")), Some(version)).unwrap();
    (dir, state)
}

fn midclt(state: &Path, method: &str, args: &[Value]) -> MidcltOutput {
    let mut argv = vec!["call".to_string(), method.to_string()];
    argv.extend(args.iter().map(Value::to_string));
    sim::midclt(state, &argv)
}

/// A LOCAL PUSH task that is valid apart from its name regex.
fn task(name_regex: &str) -> Value {
    json!({
        "name": "r1", "direction": "PUSH", "transport": "LOCAL",
        "source_datasets": ["tank/data"], "target_dataset": "tank/copy",
        "recursive": false, "auto": false, "retention_policy": "NONE",
        "name_regex": name_regex,
    })
}

/// The last non-empty line of a traceback: the exception class and its text.
fn last_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

// replication.py `ReplicationService._validate` (stable/dragonfish, stable/electriceel,
// stable/fangtooth, stable/goldeye): `re.compile(f"({data['name_regex']})$")` and on any
// exception `verrors.add("name_regex", f"Invalid regex: {e}")`; `do_create` adds the errors
// under `replication_create`. Positions count in the wrapped pattern. Produced by
// tools/conformance/name_regex (Python 3.11.7), identical on all four branches.
const REJECTED: &[(&str, &str)] = &[
    ("(?<=a+)b", "look-behind requires fixed-width pattern"),
    ("(a)\\1", "cannot refer to an open group at position 4"),
    ("a\\z", "bad escape \\z at position 2"),
    (
        "a(?i)b",
        "global flags not at the start of the expression at position 2",
    ),
    ("(", "missing ), unterminated subpattern at position 0"),
    (")", "unbalanced parenthesis at position 2"),
    ("\\q", "bad escape \\q at position 1"),
    ("*", "nothing to repeat at position 1"),
    ("a**", "multiple repeat at position 3"),
    ("[z-a]", "bad character range z-a at position 2"),
    ("(?<n>a)", "unknown extension ?<n at position 2"),
    ("a{3,1}", "min repeat greater than max repeat at position 3"),
];

// Same source: patterns Python accepts (Rust's `regex` crate rejects most of them).
const ACCEPTED: &[&str] = &[
    "auto-.*",
    "(?=auto)auto-\\d+",
    "(?<!manual-)\\d+",
    "(?P<n>a)(?P=n)",
    "(?>a+)b",
    "a\\Z",
    "x{,3}",
];

#[test]
fn create_rejects_patterns_python_rejects() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for version in SCALE {
        let (_dir, state) = system(version);
        for (pattern, error) in REJECTED {
            cases += 1;
            let out = midclt(&state, "replication.create", &[task(pattern)]);
            let expected = MidcltOutput {
                stdout: String::new(),
                stderr: format!("[EINVAL] replication_create.name_regex: Invalid regex: {error}\n"),
                exit: 1,
            };
            if out != expected {
                failures.push(format!("{version} {pattern:?}: {out:?}"));
            }
        }
    }
    assert_eq!(cases, 48);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn create_accepts_patterns_python_accepts() {
    let mut failures = Vec::new();
    for version in SCALE {
        for (i, pattern) in ACCEPTED.iter().enumerate() {
            let (_dir, state) = system(version);
            let mut t = task(pattern);
            t["name"] = json!(format!("r{i}"));
            let out = midclt(&state, "replication.create", &[t]);
            let created: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
            if out.exit != 0 || !out.stderr.is_empty() || created["name_regex"] != json!(pattern) {
                failures.push(format!("{version} {pattern:?}: {out:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// replication.py `_validate` (stable/goldeye only): a bound periodic snapshot task and a
// name regex exclude each other; 25.04 and earlier accept both.
#[test]
fn regex_with_periodic_snapshot_tasks_only_rejected_on_25_10() {
    for version in SCALE {
        let (_dir, state) = system(version);
        let mut t = task("auto-.*");
        t["periodic_snapshot_tasks"] = json!([1]);
        let out = midclt(&state, "replication.create", &[t]);
        if version == "25.10" {
            assert_eq!(
                out,
                MidcltOutput {
                    stdout: String::new(),
                    stderr: "[EINVAL] replication_create.name_regex: Naming regex can't be used with periodic snapshot tasks\n".into(),
                    exit: 1,
                },
                "{version}"
            );
        } else {
            assert_eq!((out.exit, out.stderr.as_str()), (0, ""), "{version}");
        }
    }
}

// CORE 13.3 `replication.py`: the schema has no `name_regex`, so the old schema layer
// refuses the key before the plugin runs (as for any unknown key).
#[test]
fn core_has_no_name_regex() {
    let (_dir, state) = system("13.3");
    let out = midclt(&state, "replication.create", &[task("auto-.*")]);
    assert_eq!(out.stdout, "");
    assert_eq!(out.exit, 1);
    assert_eq!(
        out.stderr.lines().next(),
        Some("[name_regex] Field was not expected")
    );
    assert_eq!(
        last_line(&out.stderr),
        "middlewared.schema.Error: [name_regex] Field was not expected"
    );
}

fn count(name_regex: Option<&str>, schemas: &[&str]) -> Value {
    let mut d = json!({"datasets": ["tank/data"], "naming_schema": schemas, "transport": "LOCAL"});
    if let Some(r) = name_regex {
        d["name_regex"] = json!(r);
    }
    d
}

// zettarepl.py `ZettareplService.count_eligible_manual_snapshots` (stable/dragonfish to
// stable/goldeye): `compile_name_regex` (zettarepl name_pattern.py) failing becomes
// `CallError(f"Invalid `name_regex`: {e}")` (EFAULT). Produced by tools/conformance/name_regex.
#[test]
fn count_eligible_reports_python_errors() {
    let mut failures = Vec::new();
    for version in SCALE {
        let (_dir, state) = system(version);
        for (pattern, error) in REJECTED {
            let out = midclt(
                &state,
                "replication.count_eligible_manual_snapshots",
                &[count(Some(pattern), &[])],
            );
            let reason = format!("[EFAULT] Invalid `name_regex`: {error}");
            let ok = out.stdout.is_empty()
                && out.exit == 1
                && out.stderr.lines().next() == Some(reason.as_str())
                && last_line(&out.stderr)
                    == format!("middlewared.service_exception.CallError: {reason}");
            if !ok {
                failures.push(format!("{version} {pattern:?}: {out:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// zettarepl.py `count_eligible_manual_snapshots` (stable/dragonfish to stable/goldeye): both
// selectors at once, or neither, is a CallError with EINVAL; the first check runs before
// the snapshots are listed.
#[test]
fn count_eligible_needs_exactly_one_selector() {
    for version in SCALE {
        let (_dir, state) = system(version);
        for (args, reason) in [
            (
                count(Some("auto-.*"), &["auto-%Y-%m-%d_%H-%M"]),
                "[EINVAL] `naming_schema` and `name_regex` cannot be used simultaneously",
            ),
            (
                count(None, &[]),
                "[EINVAL] Either `naming_schema` or `name_regex` must be specified",
            ),
        ] {
            let out = midclt(
                &state,
                "replication.count_eligible_manual_snapshots",
                &[args],
            );
            assert_eq!(out.stdout, "", "{version}");
            assert_eq!(out.exit, 1, "{version}");
            assert_eq!(out.stderr.lines().next(), Some(reason), "{version}");
            assert_eq!(
                last_line(&out.stderr),
                format!("middlewared.service_exception.CallError: {reason}"),
                "{version}"
            );
        }
    }
}

// zettarepl.py `count_eligible_manual_snapshots`: `[s.name for s in snapshots if
// name_pattern.match(s.name)]` — Python's `match` on `({name_regex})$`. tank/data of
// nas1.yaml holds auto-2025-10-30_12-00, auto-2025-10-30_13-00 and manual-2025-10-29_09-00.
#[test]
fn count_eligible_matches_with_python_semantics() {
    let cases: &[(&str, u64)] = &[
        ("auto-.*", 2),
        ("auto", 0),
        ("(?!auto).*", 1),
        ("(?<!x)auto-\\d{4}(?=-10-30).*", 2),
        ("(?P<y>\\d)?[a-z]+-2025-10-(?:29|30)_1\\d-00", 2),
        ("manual-.*\\Z", 1),
        ("(?i)AUTO.*", u64::MAX),
        ("a{,3}uto-.*", 2),
    ];
    for version in SCALE {
        let (_dir, state) = system(version);
        for (pattern, eligible) in cases {
            let out = midclt(
                &state,
                "replication.count_eligible_manual_snapshots",
                &[count(Some(pattern), &[])],
            );
            if *eligible == u64::MAX {
                // Global flags inside the wrapping group are an error, even at the start.
                assert_eq!(
                    out.stderr.lines().next(),
                    Some(
                        "[EFAULT] Invalid `name_regex`: global flags not at the start of the expression at position 1"
                    ),
                    "{version}"
                );
                continue;
            }
            assert_eq!(
                (out.stdout.as_str(), out.stderr.as_str(), out.exit),
                (
                    format!("{{\"total\": 3, \"eligible\": {eligible}}}\n").as_str(),
                    "",
                    0
                ),
                "{version} {pattern:?}"
            );
        }
    }
}

/// A system with `tank/src` holding `source` (oldest first) and, when `target` is given,
/// `tank/dst` holding those.
fn run_system(
    version: &str,
    source: &[&str],
    target: Option<&[&str]>,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut snaps = String::new();
    let mut minute = 0;
    for (ds, names) in [("tank/src", source), ("tank/dst", target.unwrap_or(&[]))] {
        for n in names {
            minute += 1;
            snaps.push_str(&format!(
                "  - {{ name: \"{ds}@{n}\", creation: 2025-10-30T10:{minute:02}:00Z, referenced: 3072 }}\n"
            ));
        }
    }
    let dst = if target.is_some() {
        "      dst: {}\n"
    } else {
        ""
    };
    let text = format!(
        "version: \"{version}\"\nhostname: nas1\nnow: 2025-10-30T13:30:00Z\ndatasets:\n  tank:\n    children:\n      src: {{}}\n{dst}snapshots:\n{snaps}"
    );
    let fixture = dir.path().join("nas1.fixture.yaml");
    std::fs::write(&fixture, text).unwrap();
    let state = dir.path().join("nas1.json");
    sim::seed(&state, Some(&fixture), Some(version)).unwrap();
    (dir, state)
}

/// Creates and runs a LOCAL task from tank/src to tank/dst; every job row seen, the
/// finished one last.
fn run_task(state: &Path, name_regex: &str) -> Vec<Value> {
    let t = json!({
        "name": "r1", "direction": "PUSH", "transport": "LOCAL",
        "source_datasets": ["tank/src"], "target_dataset": "tank/dst",
        "recursive": false, "auto": false, "retention_policy": "NONE",
        "name_regex": name_regex,
    });
    let out = midclt(state, "replication.create", &[t]);
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let id: Value = serde_json::from_str(&out.stdout).unwrap();
    let out = midclt(state, "replication.run", &[id["id"].clone()]);
    assert_eq!(out.exit, 0, "{}", out.stderr);
    let job: u64 = out.stdout.trim().parse().unwrap();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let out = midclt(state, "core.get_jobs", &[json!([["id", "=", job]])]);
        let rows: Value = serde_json::from_str(&out.stdout).unwrap();
        let row = rows[0].clone();
        let done = matches!(row["state"].as_str(), Some("SUCCESS" | "FAILED"));
        seen.push(row);
        if done {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("job {job} did not finish");
}

fn target_names(state: &Path, version: &str) -> Vec<String> {
    let method = if version == "25.10" {
        "pool.snapshot.query"
    } else {
        "zfs.snapshot.query"
    };
    let out = midclt(state, method, &[json!([["dataset", "=", "tank/dst"]])]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let full = r["name"].as_str().unwrap();
            full.strip_prefix("tank/dst@").unwrap_or(full).to_string()
        })
        .collect();
    v.sort();
    v
}

// zettarepl snapshots_to_send.py `get_snapshots_to_send_with_name_pattern` (truenas/zettarepl
// master): the newest source snapshot (createtxg order) the target has by name is the base;
// of the later ones, those `name_pattern.match` accepts are sent — all of them (`-I`) when
// every one matches. run.py `run_replication_steps` words the failures. Outcomes produced
// by tools/conformance/name_regex.
#[test]
fn runs_select_snapshots_as_zettarepl_does() {
    type Case = (
        &'static str,
        &'static [&'static str],
        Option<&'static [&'static str]>,
        Result<&'static [&'static str], &'static str>,
    );
    let cases: &[Case] = &[
        (
            "auto-.*",
            &["auto-1", "manual-1", "auto-2"],
            None,
            Ok(&["auto-1", "auto-2"]),
        ),
        (
            "auto-\\d",
            &["auto-1", "auto-2", "auto-3"],
            Some(&["auto-1"]),
            Ok(&["auto-1", "auto-2", "auto-3"]),
        ),
        (
            "(?!manual).*",
            &["auto-1", "manual-1", "hourly-1"],
            None,
            Ok(&["auto-1", "hourly-1"]),
        ),
        (
            "\\w+-(\\d)(?<=1)",
            &["a-1", "a-2", "b-1"],
            None,
            Ok(&["a-1", "b-1"]),
        ),
        (
            "auto-.*",
            &["auto-1", "manual-1", "auto-2"],
            Some(&["manual-1"]),
            Ok(&["auto-2", "manual-1"]),
        ),
        (
            "auto",
            &["auto-1"],
            None,
            Err("Dataset 'tank/src' does not have any matching snapshots to replicate."),
        ),
        // Nothing to send: no base is needed, so this is not the from-scratch error.
        (
            "auto-.*",
            &["manual-1"],
            Some(&["manual-0"]),
            Err("Dataset 'tank/src' does not have any matching snapshots to replicate."),
        ),
        (
            "auto-.*",
            &["auto-1"],
            Some(&["other-0"]),
            Err(
                "No incremental base on dataset 'tank/src' and replication from scratch is not allowed.",
            ),
        ),
    ];
    let mut failures = Vec::new();
    for version in SCALE {
        for (pattern, source, target, outcome) in cases {
            let (_dir, state) = run_system(version, source, *target);
            let rows = run_task(&state, pattern);
            let row = rows.last().cloned().unwrap_or_default();
            let got = match row["state"].as_str() {
                Some("SUCCESS") => Ok(target_names(&state, version)),
                _ => Err(row["error"].as_str().unwrap_or_default().to_string()),
            };
            let want = match outcome {
                Ok(names) => Ok(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                Err(e) => Err(format!("[EFAULT] {e}")),
            };
            if got != want {
                failures.push(format!(
                    "{version} {pattern:?} {source:?} {target:?}: {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// middleware zettarepl.py `_set_replication_task_progress` (stable/dragonfish to
// stable/goldeye, same text): `Sending {sent + 1} of {total}: {dataset}@{snapshot}
// ({format_size(bytes_sent)} / {format_size(bytes_total)})` and ` [total {dst} of {src}]`;
// `format_size` is humanfriendly's binary one (values as humanfriendly 10.0 prints them).
// With a name regex zettarepl sends only the matching snapshots, so the count is theirs.
#[test]
fn run_progress_counts_the_snapshots_the_regex_selects() {
    for version in SCALE {
        let (_dir, state) = run_system(version, &["auto-1", "manual-1", "auto-2"], None);
        let rows = run_task(&state, "auto-.*");
        let running = rows
            .iter()
            .find(|r| r["state"] == "RUNNING")
            .unwrap_or_else(|| panic!("{version}: never seen running: {rows:?}"));
        assert_eq!(
            running["progress"]["description"],
            "Sending 1 of 2: tank/src@auto-1 (1.5 KiB / 3 KiB) [total 1.5 KiB of 6 KiB]",
            "{version}"
        );
        assert_eq!(rows.last().unwrap()["state"], "SUCCESS", "{version}");
    }
}

// zettarepl run.py `check_target_existence_and_type`: an existing target of another type
// fails the run before anything is sent (the middleware adds the full stop, make_sentence).
#[test]
fn run_refuses_a_target_of_another_type() {
    for version in SCALE {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "version: \"{version}\"\nhostname: nas1\nnow: 2025-10-30T13:30:00Z\ndatasets:\n  tank:\n    children:\n      src: {{}}\n      dst: {{ type: volume, volsize: 1073741824 }}\nsnapshots:\n  - tank/src@auto-1\n"
        );
        let fixture = dir.path().join("nas1.fixture.yaml");
        std::fs::write(&fixture, text).unwrap();
        let state = dir.path().join("nas1.json");
        sim::seed(&state, Some(&fixture), Some(version)).unwrap();
        let rows = run_task(&state, "auto-.*");
        let last = rows.last().unwrap();
        assert_eq!(last["state"], "FAILED", "{version}");
        assert_eq!(
            last["error"],
            "[EFAULT] Source 'tank/src' is a filesystem, but target 'tank/dst' already exists and is a volume.",
            "{version}"
        );
    }
}

// CPython 3.11 `re` itself on 1,500 generated name regexes (tools/conformance/name_regex/
// patterns.py, as run): each pattern's `re.compile(f"({p})$")` error text, or which of 13
// names `match` accepts. The simulator judges and matches with `sim::pyre`.
#[test]
fn python_verdicts_on_generated_patterns() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/name_regex_python.json");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let names: Vec<&str> = data["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1500);
    let mut failures = Vec::new();
    for case in cases {
        let (pattern, kind, want) = (
            case[0].as_str().unwrap(),
            case[1].as_str().unwrap(),
            case[2].as_str().unwrap(),
        );
        let got = match sim::pyre::compile_name_regex(pattern) {
            Ok(r) => (
                "match",
                names
                    .iter()
                    .map(|n| if r.is_match(n) { '1' } else { '0' })
                    .collect::<String>(),
            ),
            Err(e) => ("error", e.to_string()),
        };
        if got != (kind, want.to_string()) {
            failures.push(format!("{pattern:?}: want {kind} {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
