//! `zfleet sim ...` through the real binary: what a user types, what they read, the exit code
//! and what is left on disk. Every command runs in a scratch directory with relative paths,
//! so the diagnostics read the same wherever the tests run.

use std::path::Path;
use std::process::Command;

/// What one run printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn zfleet(dir: &Path, args: &[&str]) -> Run {
    zfleet_env(dir, args, &[])
}

fn zfleet_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zfleet"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    for var in [
        "ZFLEET_SIM_STATE",
        "ZFLEET_SIM_FIXTURE",
        "ZFLEET_SIM_VERSION",
        "ZFLEET_SIM_STATE_DIR",
        "ZFLEET_FILE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("zfleet runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The files under `dir`, relative and sorted (hidden ones too).
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.push(rel.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

const NAS1: &str = "version: \"25.10\"\nhostname: nas1\nnow: 2025-10-30T13:30:00Z\n\
                    datasets: { tank: { children: { data: {} } } }\n";

/// A scratch directory with `fleet/nas1.json` and `fleet/backup.json` seeded from fixtures.
fn fleet() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("nas1.yaml"), NAS1).expect("fixture");
    for system in ["nas1", "backup"] {
        let state = format!("fleet/{system}.json");
        let r = zfleet(
            dir.path(),
            &[
                "sim",
                "midclt",
                "--state",
                &state,
                "--fixture",
                "nas1.yaml",
                "call",
                "core.ping",
            ],
        );
        assert_eq!(
            (r.code, r.stdout.as_str()),
            (Some(0), "pong\n"),
            "{}",
            r.stderr
        );
    }
    dir
}

#[test]
fn a_mistyped_state_is_an_error_that_names_the_near_miss_and_creates_nothing() {
    let dir = fleet();
    let before = files(dir.path());
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "fleet/nsa1.json",
            "call",
            "system.version",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "zfleet::sim::state_missing\n\n  × fleet/nsa1.json: no simulator state here\n  \
         help: did you mean fleet/nas1.json? Or give `--fixture FILE` to seed a new system\n\n"
    );
    // Nothing was seeded, counted or locked.
    assert_eq!(files(dir.path()), before);

    // No name close: the systems there are listed.
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "fleet/offsite.json",
            "call",
            "core.ping",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::state_missing\n\n  × fleet/offsite.json: no simulator state here\n  \
         help: the systems in fleet are backup, nas1; or give `--fixture FILE` to seed a new \
         system\n\n"
    );
    // Nowhere near a fleet.
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "elsewhere/nas1.json",
            "call",
            "core.ping",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::state_missing\n\n  × elsewhere/nas1.json: no simulator state here\n  \
         help: give `--fixture FILE` to seed a new system (there is no state in elsewhere)\n\n"
    );
    assert_eq!(files(dir.path()), before);
}

#[test]
fn a_directory_given_as_state_file_says_so() {
    let dir = fleet();
    let r = zfleet(
        dir.path(),
        &["sim", "midclt", "--state", "fleet", "call", "core.ping"],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::state_not_file\n\n  × fleet: is a directory, not a system's state file\n  \
         help: give the state file of one system, like fleet/backup.json\n\n"
    );
}

#[test]
fn fleet_commands_refuse_a_missing_empty_or_file_fleet_directory() {
    let dir = fleet();
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let create = "  help: create one with `zfleet sim generate --out DIR`, or seed systems into it \
                  with `zfleet sim\n        midclt --state DIR/NAME.json --fixture FILE call \
                  system.version`\n\n";
    let commands: [&[&str]; 4] = [
        &["sim", "advance", "1h", "--state"],
        &["sim", "faults", "nas1", "--rtt-ms", "5", "--state"],
        &["sim", "counters", "--state"],
        &["sim", "serve", "--listen", "nas1=127.0.0.1:0", "--state"],
    ];
    for command in commands {
        let run = |state: &str| {
            let mut args = command.to_vec();
            args.push(state);
            zfleet(dir.path(), &args)
        };
        let r = run("flet");
        assert_eq!(r.code, Some(1), "{command:?}");
        assert_eq!(
            r.stderr,
            format!("zfleet::sim::fleet_missing\n\n  × flet: no such fleet directory\n{create}"),
            "{command:?}"
        );
        let r = run("empty");
        assert_eq!(r.code, Some(1), "{command:?}");
        assert_eq!(
            r.stderr,
            format!("zfleet::sim::fleet_missing\n\n  × empty: holds no simulator state\n{create}"),
            "{command:?}"
        );
        let r = run("fleet/nas1.json");
        assert_eq!(r.code, Some(1), "{command:?}");
        assert_eq!(
            r.stderr,
            "zfleet::sim::fleet_missing\n\n  × fleet/nas1.json: is a file, not a fleet directory\n  \
             help: give the directory that holds the state files: fleet\n\n",
            "{command:?}"
        );
    }
    // Nothing was written into the directories that were refused.
    assert_eq!(files(&dir.path().join("empty")), Vec::<String>::new());
    assert!(!dir.path().join("flet").exists());
}

#[test]
fn faults_refuse_a_system_without_state_and_suggest_the_near_one() {
    let dir = fleet();
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "faults",
            "--state",
            "fleet",
            "nas2",
            "--stop-middleware",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::system_unknown\n\n  × fleet: no simulated system `nas2` in this fleet\n  \
         help: did you mean `nas1`?\n\n"
    );
    assert!(!dir.path().join("fleet/nas2.faults.json").exists());
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "faults",
            "--state",
            "fleet",
            "offsite",
            "--stop-middleware",
        ],
    );
    assert_eq!(
        r.stderr,
        "zfleet::sim::system_unknown\n\n  × fleet: no simulated system `offsite` in this fleet\n  \
         help: the systems in fleet are backup, nas1\n\n"
    );
    // A system that is there takes the fault.
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "faults",
            "--state",
            "fleet",
            "nas1",
            "--stop-middleware",
        ],
    );
    assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""));
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "fleet/nas1.json",
            "call",
            "core.ping",
        ],
    );
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            Some(1),
            "Failed to run middleware call. Daemon not running?\n"
        )
    );
}

#[test]
fn serve_refuses_a_system_without_state() {
    let dir = fleet();
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "serve",
            "--state",
            "fleet",
            "--listen",
            "bakup=127.0.0.1:0",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::system_unknown\n\n  × fleet: no simulated system `bakup` in this fleet\n  \
         help: did you mean `backup`?\n\n"
    );
    // Refused before the server wrote its host key or shims.
    assert!(!dir.path().join("fleet/ssh_host_ed25519_key").exists());
    assert!(!dir.path().join("fleet/.shim").exists());
}

#[test]
fn generate_refuses_an_unknown_version_before_writing_anything() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "generate",
            "--out",
            "out",
            "--truenas-version",
            "26.04",
        ],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "zfleet::sim::version_unknown\n\n  × the simulator has no TrueNAS version `26.04`\n  \
         help: use one of 13.0, 13.3, 24.04, 24.10, 25.04, 25.10 (optionally with a patch \
         level, like\n        25.10.1 or 13.3-U1.1)\n\n"
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn generate_writes_a_config_that_validates_and_answers_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "generate",
            "--out",
            "out",
            "--systems",
            "2",
            "--datasets",
            "2",
            "--tasks",
            "1",
            "--truenas-version",
            "25.04",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "generated 2 systems in out; their config is out/zfleet.yaml\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/zfleet.yaml")).expect("config"),
        "# Generated by `zfleet sim generate --systems 2 --datasets 2 --tasks 1 --seed 1`.\n\
         # Every system is simulated, seeded from fixtures/<system>.yaml.\n\
         project: generated\n\
         \n\
         systems:\n  \
           sys001: { simulator: { fixture: fixtures/sys001.yaml, version: \"25.04\" } }\n  \
           sys002: { simulator: { fixture: fixtures/sys002.yaml, version: \"25.04\" } }\n\
         \n\
         snapshot_tasks:\n  \
           sys001-ds001:\n    system: sys001\n    dataset: tank/ds001\n    schedule: hourly\n    \
             lifetime: 2 weeks\n  \
           sys002-ds001:\n    system: sys002\n    dataset: tank/ds001\n    schedule: hourly\n    \
             lifetime: 2 weeks\n\
         \n\
         replications:\n  \
           sys001-ds001-to-sys002:\n    sources:\n      \
             - { system: sys001, datasets: [tank/ds001], snapshot_tasks: [sys001-ds001] }\n    \
             target: { system: sys002, dataset: tank/replicas/sys001/ds001 }\n    \
             schedule: with_snapshot_tasks\n    retention: source\n  \
           sys002-ds001-to-sys001:\n    sources:\n      \
             - { system: sys002, datasets: [tank/ds001], snapshot_tasks: [sys002-ds001] }\n    \
             target: { system: sys001, dataset: tank/replicas/sys002/ds001 }\n    \
             schedule: with_snapshot_tasks\n    retention: source\n"
    );
    let r = zfleet(dir.path(), &["validate", "-f", "out/zfleet.yaml"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            Some(0),
            "out/zfleet.yaml is valid: 2 systems, 2 snapshot tasks, 0 one-time snapshots, 2 replications\n",
            ""
        )
    );
    let r = zfleet(dir.path(), &["systems", "-f", "out/zfleet.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "SYSTEM  STATUS  VERSION          SSH               DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY\n\
         sys001  ok      TrueNAS 25.04.2  enabled, running  4         24         1           1             -\n\
         sys002  ok      TrueNAS 25.04.2  enabled, running  4         24         1           1             -\n"
    );
}

#[test]
fn regenerating_with_fewer_systems_removes_only_the_stale_systems_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let generate = |systems: &str, seed: &str| {
        let r = zfleet(
            dir.path(),
            &[
                "sim",
                "generate",
                "--out",
                "out",
                "--systems",
                systems,
                "--seed",
                seed,
            ],
        );
        assert_eq!(r.code, Some(0), "{}", r.stderr);
    };
    generate("3", "1");
    // Use the fleet: faults, counters, the embedded states of its config, a scheduler look.
    for args in [
        &["sim", "faults", "--state", "out", "sys003", "--rtt-ms", "5"][..],
        &[
            "sim",
            "midclt",
            "--state",
            "out/sys003.json",
            "call",
            "core.ping",
        ],
        &["systems", "-f", "out/zfleet.yaml"],
        &["sim", "advance", "--state", "out", "1h"],
    ] {
        let r = zfleet(dir.path(), args);
        assert_eq!(r.code, Some(0), "{args:?}: {}", r.stderr);
    }
    // The user's own files in the fleet directory.
    std::fs::write(dir.path().join("out/notes.txt"), "mine").expect("write");
    std::fs::write(dir.path().join("out/fixtures/lab.yaml"), "mine").expect("write");
    std::fs::write(dir.path().join("out/sys004.json.bak"), "mine").expect("write");
    let before = files(&dir.path().join("out"));
    assert!(
        before.iter().any(|f| f == "sys003.faults.json"),
        "{before:?}"
    );
    assert!(
        before
            .iter()
            .any(|f| f == ".zfleet/sim/generated/sys003.json"),
        "{before:?}"
    );

    generate("2", "7");
    let after = files(&dir.path().join("out"));
    assert!(
        after.iter().all(|f| !f.contains("sys003")),
        "stale files left: {after:?}"
    );
    for mine in ["notes.txt", "fixtures/lab.yaml", "sys004.json.bak"] {
        assert!(after.iter().any(|f| f == mine), "{mine} removed: {after:?}");
    }
    // Regenerated systems start over from their new fixtures, in both kinds of state.
    assert!(!after.iter().any(|f| f == ".clock.json"), "{after:?}");
    let r = zfleet(dir.path(), &["sim", "counters", "--state", "out"]);
    assert_eq!(
        r.stdout,
        "SYSTEM                CONNECTIONS        EXECS       MIDCLT\n"
    );
    let r = zfleet(dir.path(), &["systems", "-f", "out/zfleet.yaml"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "out/sys001.json",
            "--fixture",
            "out/fixtures/sys001.yaml",
            "call",
            "core.ping",
        ],
    );
    assert_eq!((r.code, r.stderr.as_str()), (Some(0), ""));
}

/// A config with one embedded simulated system seeded from `nas1.yaml`.
fn embedded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("nas1.yaml"), NAS1).expect("fixture");
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        "project: lab\nsystems:\n  nas1: { simulator: { fixture: nas1.yaml } }\n  \
         nas2: { simulator: { fixture: nas1.yaml, version: \"13.3\" } }\n",
    )
    .expect("config");
    dir
}

#[test]
fn an_edited_fixture_is_reported_with_the_reset_to_run_and_reset_reseeds() {
    let dir = embedded();
    let r = zfleet(dir.path(), &["systems", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(doc["systems"][0]["hostname"], "nas1");
    assert_eq!(doc["systems"][1]["version"], "13.3-U1.1");

    std::fs::write(
        dir.path().join("nas1.yaml"),
        NAS1.replace("hostname: nas1", "hostname: nas1-renamed"),
    )
    .expect("edit");
    let r = zfleet(dir.path(), &["systems"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stdout,
        "SYSTEM  STATUS  VERSION  SSH  DATASETS  SNAPSHOTS  SNAP TASKS  REPLICATIONS  HOST KEY\n\
         nas1    error   -        -    -         -          -           -             -\n\
         nas2    error   -        -    -         -          -           -             -\n\
         \n\
         nas1: the fixture nas1.yaml changed after this state was seeded from it \
         [zfleet::sim::fixture_changed]\n  \
         help: `zfleet sim reset --state .zfleet/sim/lab/nas1.json` discards the simulated state \
         (and every change made to it); the next run seeds it again\n\
         \n\
         nas2: the fixture nas1.yaml changed after this state was seeded from it \
         [zfleet::sim::fixture_changed]\n  \
         help: `zfleet sim reset --state .zfleet/sim/lab/nas2.json` discards the simulated state \
         (and every change made to it); the next run seeds it again\n"
    );

    // The config's systems by name; a typo is refused with the near name.
    let r = zfleet(dir.path(), &["sim", "reset", "nas3"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::system_unknown\n\n  × nas3: no such system in the config\n  \
         help: did you mean `nas2`?\n\n"
    );
    let r = zfleet(dir.path(), &["sim", "reset", "nas1"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (Some(0), "reset nas1 (.zfleet/sim/lab/nas1.json)\n", "")
    );
    // With no name, every simulated system of the config.
    let r = zfleet(dir.path(), &["sim", "reset", "-f", "zfleet.yaml"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            Some(0),
            "nas1 has no state yet (.zfleet/sim/lab/nas1.json)\nreset nas2 (.zfleet/sim/lab/nas2.json)\n"
        )
    );
    let r = zfleet(dir.path(), &["systems", "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(doc["systems"][0]["hostname"], "nas1-renamed");
    assert_eq!(doc["systems"][1]["hostname"], "nas1-renamed");
}

#[test]
fn midclt_reports_an_edited_fixture_and_reset_by_state_file_reseeds_it() {
    let dir = fleet();
    std::fs::write(dir.path().join("nas1.yaml"), NAS1.replace("25.10", "24.04")).expect("edit");
    let call = |fixture: bool| {
        let mut args = vec!["sim", "midclt", "--state", "fleet/nas1.json"];
        if fixture {
            args.extend(["--fixture", "nas1.yaml"]);
        }
        args.extend(["call", "system.version"]);
        zfleet(dir.path(), &args)
    };
    let r = call(true);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::fixture_changed\n\n  × fleet/nas1.json: the fixture nas1.yaml changed after \
         this state was seeded from it\n  help: `zfleet sim reset --state fleet/nas1.json` \
         discards the simulated state (and every change\n        made to it); the next run seeds \
         it again\n\n"
    );
    // Without the fixture, the state is used as it is.
    let r = call(false);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "TrueNAS-25.10.1\n"));

    let r = zfleet(dir.path(), &["sim", "reset", "--state", "fleet/nas1.json"]);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (Some(0), "reset nas1 (fleet/nas1.json)\n", "")
    );
    assert!(!dir.path().join("fleet/nas1.json").exists());
    let r = call(true);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "TrueNAS-SCALE-24.04.2\n")
    );
    // Resetting a state that is not there is an error, not a silent success.
    let r = zfleet(dir.path(), &["sim", "reset", "--state", "fleet/nsa1.json"]);
    assert_eq!(r.code, Some(1));
    assert_eq!(
        r.stderr,
        "zfleet::sim::state_missing\n\n  × fleet/nsa1.json: no simulator state here\n  \
         help: did you mean fleet/nas1.json?\n\n"
    );
}

#[test]
fn advance_counts_successful_and_failed_runs_apart() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "generate",
            "--out",
            "out",
            "--systems",
            "3",
            "--datasets",
            "1",
            "--tasks",
            "1",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = zfleet(dir.path(), &["sim", "advance", "--state", "out", "1h"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            Some(0),
            "clock +3600s (offset 3600s); 3 systems caught up, 3 replication runs succeeded, 0 failed\n"
        )
    );
    // sys002 leaves: sys001's runs into it fail, sys003's into sys001 still succeed.
    std::fs::remove_file(dir.path().join("out/sys002.json")).expect("rm");
    let r = zfleet(dir.path(), &["sim", "advance", "--state", "out", "1h"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            Some(0),
            "clock +3600s (offset 7200s); 2 systems caught up, 1 replication run succeeded, 1 failed\n"
        )
    );
}

#[test]
fn one_version_flag_everywhere_and_13_3_is_core_13_3() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("nas1.yaml"), NAS1).expect("fixture");
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "core.json",
            "--fixture",
            "nas1.yaml",
            "--truenas-version",
            "13.3",
            "call",
            "system.version",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (Some(0), "TrueNAS-13.3-U1.1\n")
    );
    // The same environment variable for both commands.
    let r = zfleet_env(
        dir.path(),
        &["sim", "generate", "--out", "out", "--systems", "1"],
        &[("ZFLEET_SIM_VERSION", "13.3")],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "out/sys001.json",
            "call",
            "system.version",
        ],
    );
    assert_eq!(r.stdout, "TrueNAS-13.3-U1.1\n");
    let r = zfleet(dir.path(), &["systems", "-f", "out/zfleet.yaml"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("sys001  ok      TrueNAS CORE 13.3-U1.1"),
        "{}",
        r.stdout
    );
    // The old names are gone.
    let r = zfleet(
        dir.path(),
        &["sim", "generate", "--out", "other", "--version", "13.3"],
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .starts_with("error: unexpected argument '--version' found"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("other").exists());
    // Every list of versions names 13.3.
    for args in [
        &["sim", "midclt", "--help"][..],
        &["sim", "generate", "--help"],
    ] {
        let r = zfleet(dir.path(), args);
        // Help is wrapped to the terminal's width: compare words.
        let words = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("(13.0, 13.3, 24.04, 24.10, 25.04, 25.10, or one with a patch level"),
            "{args:?}: {}",
            r.stdout
        );
        assert!(
            words.contains("--truenas-version <VERSION>"),
            "{}",
            r.stdout
        );
        assert!(words.contains("[env: ZFLEET_SIM_VERSION=]"), "{}", r.stdout);
    }
    let r = zfleet(dir.path(), &["schema"]);
    assert!(
        r.stdout
            .contains("`13.0`, `13.3`, `24.04`, `24.10`, `25.04` or `25.10`"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_fixture_that_does_not_parse_is_named_once_with_the_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("x.yaml"), "hostname: x\n  bad: [\n").expect("fixture");
    let r = zfleet(
        dir.path(),
        &[
            "sim",
            "midclt",
            "--state",
            "x.json",
            "--fixture",
            "x.yaml",
            "call",
            "system.version",
        ],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "x.yaml: not a valid fixture: line 2 column 6: mapping values are not allowed"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("<input>"), "{}", r.stderr);
    assert_eq!(r.stderr.matches("x.yaml").count(), 1, "{}", r.stderr);
    assert!(
        !dir.path().join("x.json").exists(),
        "no state from a broken fixture"
    );
}
