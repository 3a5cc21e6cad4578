//! `zfleet validate` end to end: one bad config per diagnostic code, each asserting the code,
//! the message and the underlined span (golden output), plus malformed input of every kind.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate")
}

/// Runs `zfleet validate -f FILE` in `dir` with colours off.
fn validate_in(dir: &Path, file: &str) -> Output {
    Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["validate", "-f", file])
        .output()
        .expect("run zfleet")
}

/// Runs `zfleet validate` on `dir/zfleet.yaml`, expecting exit 1: the codes reported, in
/// order, and the whole stderr.
fn failing_codes(dir: &Path) -> (Vec<String>, String) {
    let out = validate_in(dir, "zfleet.yaml");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let codes = stderr
        .lines()
        .filter(|l| l.starts_with("zfleet::"))
        .map(str::to_string)
        .collect();
    (codes, stderr)
}

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// `config.unknown_key.yaml` is the case for `zfleet::config::unknown_key`; a third part names
/// another case for the same code (`config.type.cascade.yaml`).
fn expected_code(file: &Path) -> String {
    let stem = file.file_stem().and_then(|s| s.to_str()).expect("name");
    let parts: Vec<&str> = stem.splitn(3, '.').collect();
    assert!(parts.len() >= 2, "{stem}: name a case after its code");
    format!("zfleet::{}::{}", parts[0], parts[1])
}

#[test]
fn every_bad_config_reports_its_code_span_and_help() {
    let files = case_files();
    assert!(files.len() >= 25, "only {} cases", files.len());
    for file in files {
        let name = file.file_name().and_then(|s| s.to_str()).expect("name");
        let out = validate_in(&cases_dir(), name);
        let stderr = String::from_utf8(out.stderr).expect("utf-8");
        assert_eq!(out.status.code(), Some(1), "{name}: exit code\n{stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        let code = expected_code(&file);
        assert!(
            stderr.lines().any(|l| l == code),
            "{name}: expected {code} in\n{stderr}"
        );
        assert!(stderr.contains("help:"), "{name}: no help line\n{stderr}");
        insta::assert_snapshot!(name.trim_end_matches(".yaml"), stderr);
    }
}

#[test]
fn every_config_code_has_a_case_or_a_dedicated_test() {
    let tested_elsewhere = [
        "zfleet::config::io",
        "zfleet::config::too_large",
        "zfleet::config::not_utf8",
        "zfleet::config::limits",
    ];
    let cases: Vec<String> = case_files().iter().map(|f| expected_code(f)).collect();
    let mut codes: Vec<&str> = zfleet::config::CODES.iter().map(|c| c.code).collect();
    codes.extend(zfleet::model::naming::CODES.iter().map(|c| c.code));
    codes.extend(zfleet::model::lifetime::CODES.iter().map(|c| c.code));
    codes.extend(zfleet::model::schedule::CODES.iter().map(|c| c.code));
    for code in codes {
        assert!(
            cases.iter().any(|c| c == code) || tested_elsewhere.contains(&code),
            "no bad-config case for {code}: add tests/validate/{}.yaml",
            code.trim_start_matches("zfleet::").replace("::", ".")
        );
    }
}

#[test]
fn all_problems_of_a_file_are_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        "project: homelab
systems:
  nas1: { host: nas1.lan, prot: 22 }
snapshot_tasks:
  a: { system: nas2, dataset: tank/a, lifetime: 2 fortnights }
  b: { system: nas1, dataset: tank//b, recursiv: true }
",
    )
    .expect("write");
    let (codes, stderr) = failing_codes(dir.path());
    assert_eq!(
        codes,
        [
            "zfleet::config::unknown_key",
            "zfleet::system::unknown",
            "zfleet::lifetime::invalid",
            "zfleet::dataset::invalid_name",
            "zfleet::config::unknown_key",
        ],
        "{stderr}"
    );
    assert!(stderr.ends_with("error: 5 problems\n"), "{stderr}");
}

fn run_on_bytes(bytes: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("zfleet.yaml"), bytes).expect("write");
    let out = validate_in(dir.path(), "zfleet.yaml");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_input_is_a_clear_error_never_a_panic() {
    let deep = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
    let truncated = "project: x\nsystems:\n  - [".to_string();
    let huge = vec![b'#'; zfleet::config::load::MAX_FILE_BYTES + 1];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "zfleet::config::empty"),
        (
            "binary",
            vec![0xff, 0xfe, 0x00, 0x81, 0x92],
            "zfleet::config::not_utf8",
        ),
        ("deep", deep.into_bytes(), "zfleet::config::limits"),
        (
            "very deep",
            format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "zfleet::config::limits",
        ),
        ("huge", huge, "zfleet::config::too_large"),
        ("truncated", truncated.into_bytes(), "zfleet::config::"),
        (
            "scalar",
            b"just a string\n".to_vec(),
            "zfleet::config::type",
        ),
        (
            "list",
            b"- project\n- systems\n".to_vec(),
            "zfleet::config::type",
        ),
        (
            "tabs",
            b"project:\thomelab\nsystems:\n\tnas1: {}\n".to_vec(),
            "zfleet::config::",
        ),
        ("nul", b"project: \0\n".to_vec(), "zfleet::"),
        ("anchors", b"a: &a [*a]\n".to_vec(), "zfleet::config::"),
        (
            "wrong section type",
            b"project: homelab\nsystems: [nas1]\n".to_vec(),
            "zfleet::config::type",
        ),
    ];
    for (what, bytes, code) in cases {
        let (status, stderr) = run_on_bytes(&bytes);
        assert_eq!(status, Some(1), "{what}: exit code\n{stderr}");
        assert!(
            stderr.contains(code),
            "{what}: expected {code} in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: panicked\n{stderr}");
    }
}

#[test]
fn missing_file_names_the_file_once_and_how_to_pass_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = validate_in(dir.path(), "nope.yaml");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr,
        "zfleet::config::io

  × cannot read nope.yaml: No such file or directory (os error 2)
  help: pass the config file with -f FILE, or run zfleet where zfleet.yaml is

error: 1 problem
"
    );
}

const SMALL_VALID: &str = "project: homelab
systems:
  nas1: { simulator: { fixture: sim/nas1.yaml } }
snapshot_tasks:
  data: { system: nas1, dataset: tank/data }
";

/// A directory holding a valid config whose fixture is a relative path.
fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("sim")).expect("mkdir");
    std::fs::write(dir.path().join("sim/nas1.yaml"), "hostname: nas1\n").expect("fixture");
    std::fs::write(dir.path().join("zfleet.yaml"), SMALL_VALID).expect("config");
    dir
}

#[test]
fn a_directory_means_its_zfleet_yaml_and_paths_in_it_are_relative_to_it() {
    let dir = config_dir();
    let out = Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(dir.path().parent().expect("parent"))
        .env("NO_COLOR", "1")
        .args(["validate", "-f"])
        .arg(dir.path())
        .output()
        .expect("run zfleet");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{} is valid: 1 system, 1 snapshot task, 0 one-time snapshots, 0 replications\n",
            dir.path().join("zfleet.yaml").display()
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_directory_without_zfleet_yaml_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("fleet")).expect("mkdir");
    let out = validate_in(dir.path(), "fleet");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zfleet::config::io

  × fleet has no zfleet.yaml
  help: pass the config file itself with -f FILE

error: 1 problem
"
    );
}

/// Runs `zfleet ARGS` in `dir` with `stdin` as standard input.
fn run_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run zfleet")
}

#[test]
fn dash_reads_the_config_from_stdin_with_paths_relative_to_the_current_directory() {
    let dir = config_dir();
    let out = run_with_stdin(dir.path(), &["validate", "-f", "-"], SMALL_VALID);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "<stdin> is valid: 1 system, 1 snapshot task, 0 one-time snapshots, 0 replications\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));

    let elsewhere = tempfile::tempdir().expect("tempdir");
    let out = run_with_stdin(elsewhere.path(), &["validate", "-f", "-"], SMALL_VALID);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "zfleet::system::fixture_missing\n\n  × nas1: fixture sim/nas1.yaml does not exist\n   ╭─[<stdin>:3:33]"
        ),
        "{stderr}"
    );
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn json_format_prints_the_diagnostics_of_an_invalid_config() {
    let out = Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(cases_dir())
        .args([
            "validate",
            "--format",
            "json",
            "-f",
            "config.type.yaml11_bool.yaml",
        ])
        .output()
        .expect("run zfleet");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out);
    insta::assert_snapshot!(
        "json.invalid",
        String::from_utf8(out.stdout).expect("utf-8")
    );
}

#[test]
fn json_format_counts_what_a_valid_config_holds() {
    let dir = config_dir();
    let out = Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(dir.path())
        .args(["validate", "--format", "json"])
        .output()
        .expect("run zfleet");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json(&out),
        serde_json::json!({
            "valid": true,
            "file": "zfleet.yaml",
            "summary": {
                "errors": 0, "warnings": 0,
                "systems": 1, "snapshot_tasks": 1, "snapshots": 0, "replications": 0
            },
            "diagnostics": []
        })
    );
}

#[test]
fn json_format_reports_an_unreadable_config_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("zfleet")
        .expect("binary")
        .current_dir(dir.path())
        .args(["validate", "--format", "json", "-f", "nope.yaml"])
        .output()
        .expect("run zfleet");
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["file"], "nope.yaml");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["diagnostics"][0]["code"], "zfleet::config::io");
    assert_eq!(
        v["diagnostics"][0]["message"],
        "cannot read nope.yaml: No such file or directory (os error 2)"
    );
    assert_eq!(v["diagnostics"][0]["line"], serde_json::Value::Null);
}

#[test]
fn systems_json_prints_the_same_diagnostics_for_an_invalid_config() {
    let case = "config.type.yaml11_bool.yaml";
    let run = |args: &[&str]| {
        Command::cargo_bin("zfleet")
            .expect("binary")
            .current_dir(cases_dir())
            .args(args)
            .output()
            .expect("run zfleet")
    };
    let systems = run(&["systems", "--json", "-f", case]);
    let validate = run(&["validate", "--format", "json", "-f", case]);
    assert_eq!(systems.status.code(), Some(1));
    assert!(
        systems.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&systems.stderr)
    );
    assert_eq!(json(&systems), json(&validate));
}

#[test]
fn a_valid_config_says_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        "# yaml-language-server: $schema=schemas/zfleet.schema.json
project: homelab
systems:
  nas1: { host: nas1.lan, user: truenas_admin, host_key: \"SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8\" }
  backup: { host: backup.lan }
snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, exclude: [tank/data/scratch], lifetime: 2 weeks }
snapshots:
  - { system: nas1, dataset: tank/media }
replications:
  offsite:
    sources:
      - { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly], naming_schema: manual-%Y-%m-%d_%H-%M }
    target: { system: backup, dataset: backup/offsite }
    recursive: true
    exclude: [tank/data/scratch]
    retention: { custom: 4 weeks }
    speed_limit: 10 MiB/s
",
    )
    .expect("write");
    let out = validate_in(dir.path(), "zfleet.yaml");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zfleet.yaml is valid: 2 systems, 1 snapshot task, 1 one-time snapshot, 1 replication\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A fleet large enough to be parsed and checked on several threads, with `bad` lines
/// replacing some tasks and, if `conflict`, replication 1400 writing where replication 3 does.
fn large_fleet(bad: &[(usize, &str)], conflict: bool) -> String {
    let mut y = String::from(
        "project: big\nsystems:\n  nas1: { host: nas1.lan }\n  backup: { host: backup.lan }\nsnapshot_tasks:\n",
    );
    for t in 0..3000 {
        match bad.iter().find(|(i, _)| *i == t) {
            Some((_, line)) => y.push_str(line),
            None => y.push_str(&format!(
                "  task-{t}:\n    system: nas1\n    dataset: tank/d{t}\n    schedule: {{ every: daily, at: \"02:00\" }}\n    lifetime: 2 weeks\n"
            )),
        }
    }
    y.push_str("replications:\n");
    for r in 0..1500 {
        let target = if conflict && r == 1400 { 3 } else { r };
        y.push_str(&format!(
            "  rep-{r}:\n    sources: [{{ system: nas1, datasets: [tank/d{r}], snapshot_tasks: [task-{r}] }}]\n    target: {{ system: backup, dataset: backup/r{target} }}\n"
        ));
    }
    y
}

#[test]
fn a_large_fleet_reports_every_problem_in_file_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = large_fleet(
        &[
            (
                7,
                "  task-7: { system: nas1, dataset: tank/d7, lifetime: 2 fortnights }\n",
            ),
            (1500, "  task-1500: { system: nas9, dataset: tank/d1500 }\n"),
            (
                2999,
                "  task-2999: { system: nas1, dataset: tank/d2999, recursiv: true }\n",
            ),
        ],
        true,
    );
    assert!(text.len() > 512 * 1024, "{} bytes", text.len());
    std::fs::write(dir.path().join("zfleet.yaml"), &text).expect("write");
    let (codes, stderr) = failing_codes(dir.path());
    assert_eq!(
        codes,
        [
            "zfleet::lifetime::invalid",
            "zfleet::system::unknown",
            "zfleet::config::unknown_key",
            "zfleet::replication::target_conflict",
        ],
        "{stderr}"
    );
    assert!(stderr.contains("[zfleet.yaml:"), "{stderr}");
    assert!(stderr.ends_with("error: 4 problems\n"), "{stderr}");
}

#[test]
fn a_large_fleet_with_a_name_used_twice_far_apart_points_at_the_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = large_fleet(
        &[(2500, "  task-10: { system: nas1, dataset: tank/x }\n")],
        false,
    );
    std::fs::write(dir.path().join("zfleet.yaml"), &text).expect("write");
    let line = text
        .lines()
        .position(|l| l == "  task-10: { system: nas1, dataset: tank/x }")
        .expect("line")
        + 1;
    let out = validate_in(dir.path(), "zfleet.yaml");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("zfleet::config::duplicate_key"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("[zfleet.yaml:{line}:3]")),
        "line {line}: {stderr}"
    );
}

#[test]
fn a_large_valid_fleet_says_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("zfleet.yaml"), large_fleet(&[], false)).expect("write");
    let out = validate_in(dir.path(), "zfleet.yaml");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zfleet.yaml is valid: 2 systems, 3000 snapshot tasks, 0 one-time snapshots, 1500 replications\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}
