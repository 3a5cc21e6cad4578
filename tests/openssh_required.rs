//! A test needing an OpenSSH program that is not installed fails and says what to install;
//! `ZFLEET_SKIP_SSHD_TESTS=1` skips it out loud instead, but never when `CI=true`.

#[path = "support/openssh.rs"]
mod openssh;

use std::process::Command;

const MISSING: &str = "/nonexistent/zfleet-test/sshd";

/// Runs this test binary's probe with the given environment; returns (passed, stderr).
fn probe(skip: Option<&str>, ci: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "--exact",
        "missing_program_probe",
        "--ignored",
        "--nocapture",
    ])
    .env_remove(openssh::SKIP_VAR)
    .env_remove("CI");
    if let Some(v) = skip {
        cmd.env(openssh::SKIP_VAR, v);
    }
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    let out = cmd.output().expect("test binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What a test needing a missing program does.
#[test]
#[ignore = "run by a_missing_program_fails_unless_skipped_explicitly in a child process"]
fn missing_program_probe() {
    assert!(!openssh::require(&[MISSING, "sh"]), "{MISSING} found");
}

#[test]
fn a_missing_program_fails_unless_skipped_explicitly() {
    let (passed, stderr) = probe(None, None);
    assert!(!passed, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{MISSING} not found: install openssh-server (sshd) and openssh-client (ssh, \
             ssh-keygen, ssh-agent, ssh-add), or set ZFLEET_SKIP_SSHD_TESTS=1 to skip the \
             tests that need them"
        )),
        "{stderr}"
    );

    let (passed, stderr) = probe(Some("1"), None);
    assert!(passed, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "skipped because ZFLEET_SKIP_SSHD_TESTS=1: {MISSING} not found"
        )),
        "{stderr}"
    );

    // Only `1` opts out.
    let (passed, stderr) = probe(Some("yes"), None);
    assert!(!passed, "{stderr}");

    let (passed, stderr) = probe(Some("1"), Some("true"));
    assert!(!passed, "{stderr}");
    assert!(
        stderr.contains("CI=true, so ZFLEET_SKIP_SSHD_TESTS does not apply"),
        "{stderr}"
    );
}

#[test]
fn installed_programs_are_found() {
    // Every OpenSSH test runs `sh` scripts, so it is always there.
    assert!(openssh::require(&["sh", "/bin/sh"]));
}
