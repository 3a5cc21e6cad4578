//! Whether the OpenSSH programs a test drives are installed.
//!
//! A missing program fails the test with what to install. Setting
//! `ZFLEET_SKIP_SSHD_TESTS=1` skips such tests instead (saying so on stderr), except with
//! `CI=true`, where nothing may be skipped.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

pub const SKIP_VAR: &str = "ZFLEET_SKIP_SSHD_TESTS";

/// `true` when every program in `tools` (an absolute path or a name on PATH) is there;
/// `false` when one is missing and the user opted out; panics otherwise.
pub fn require(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !installed(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let what = format!(
        "{} not found: install openssh-server (sshd) and openssh-client (ssh, ssh-keygen, \
         ssh-agent, ssh-add)",
        missing.join(", ")
    );
    let ci = std::env::var("CI").as_deref() == Ok("true");
    if ci {
        panic!("{what}; CI=true, so {SKIP_VAR} does not apply");
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("skipped because {SKIP_VAR}=1: {what}");
        return false;
    }
    panic!("{what}, or set {SKIP_VAR}=1 to skip the tests that need them");
}

fn installed(tool: &str) -> bool {
    if tool.starts_with('/') {
        return Path::new(tool).is_file();
    }
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}
