//! Timeouts as a user sets them: `--connect-timeout` / `--timeout` on the command line,
//! `connect_timeout:` / `timeout:` under a system, `ConnectTimeout` in ~/.ssh/config — the
//! command line first, then the system's keys, then ~/.ssh/config.

#[path = "support/silent.rs"]
mod silent;
use silent::silent_server;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn zfleet(home: &Path, dir: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .current_dir(dir)
        .args(args)
        .env("HOME", home)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("ZFLEET_FILE")
        .env_remove("ZFLEET_API_TRACE")
        .output()
        .expect("run zfleet");
    (out, started.elapsed())
}

fn error_message(out: &Output) -> String {
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let e = &doc["systems"][0]["error"];
    format!(
        "{} [{}] {}",
        e["message"], e["code"], doc["systems"][0]["status"]
    )
}

#[test]
fn connect_timeout_from_ssh_config_then_the_system_then_the_flag() {
    let port = silent_server();
    let home = tempfile::tempdir().expect("home");
    let ssh = home.path().join(".ssh");
    std::fs::create_dir_all(&ssh).expect("mkdir");
    std::fs::write(
        ssh.join("config"),
        format!("Host slow\n  HostName 127.0.0.1\n  Port {port}\n  ConnectTimeout 1\n"),
    )
    .expect("ssh config");
    let dir = tempfile::tempdir().expect("dir");
    let write = |extra: &str| {
        std::fs::write(
            dir.path().join("zfleet.yaml"),
            format!(
                "project: t\nsystems:\n  nas: {{ host: slow, host_key: \"SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8\"{extra} }}\n"
            ),
        )
        .expect("config")
    };

    // ~/.ssh/config alone: 1 s. The server accepted the connection, so this is a timeout of
    // a reached system, not an unreachable one.
    write("");
    let (out, took) = zfleet(home.path(), dir.path(), &["systems", "--json"]);
    let e = error_message(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("connected to 127.0.0.1:") && e.contains("did not finish within 1s"),
        "{e}"
    );
    assert!(e.contains("[\"zfleet::ssh::timeout\"] \"error\""), "{e}");
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // The system's key wins over ~/.ssh/config.
    write(", connect_timeout: 2s");
    let (out, _) = zfleet(home.path(), dir.path(), &["systems", "--json"]);
    assert!(
        error_message(&out).contains("within 2s"),
        "{}",
        error_message(&out)
    );

    // The command line wins over both.
    let (out, _) = zfleet(
        home.path(),
        dir.path(),
        &["systems", "--json", "--connect-timeout", "3"],
    );
    assert!(
        error_message(&out).contains("within 3s"),
        "{}",
        error_message(&out)
    );
}

/// The help of a timeout names every way to allow more time.
#[test]
fn a_call_timeout_says_how_to_allow_more_time() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sim/nas1.yaml");
    let state = dir.path().join("state");
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        format!(
            "project: t\nsystems:\n  lab: {{ simulator: {{ fixture: {}, version: \"25.10\" }}, timeout: 1 }}\n",
            fixture.display()
        ),
    )
    .expect("config");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zfleet"))
            .current_dir(dir.path())
            .args(args)
            .env("HOME", home.path())
            .env("ZFLEET_SIM_STATE_DIR", &state)
            .env_remove("ZFLEET_FILE")
            .output()
            .expect("run zfleet")
    };
    let out = run(&["systems", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Not on a terminal: no progress lines, nothing at all on stderr.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // Every midclt call of the simulated system now takes 1.5 s.
    let faults = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .args(["sim", "faults", "--state"])
        .arg(&state)
        .args(["lab", "--midclt-ms", "1500"])
        .output()
        .expect("faults");
    assert!(
        faults.status.success(),
        "{}",
        String::from_utf8_lossy(&faults.stderr)
    );

    let out = run(&["systems", "--json"]);
    let e = error_message(&out);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("took longer than 1s") && e.contains("zfleet::ssh::timeout"),
        "{e}"
    );
    let out = run(&["systems"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("--timeout SECS") && table.contains("`timeout:`"),
        "{table}"
    );

    // The flag overrides the system's `timeout: 1`.
    let out = run(&["systems", "--json", "--timeout", "2m"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
