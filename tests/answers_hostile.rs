//! Every answer from a system is hostile. Against a real OpenSSH sshd whose `midclt` prints
//! crafted answers (escaped quotes, control characters, huge values, a private key in any
//! field), `zfleet systems` never shows the values, nor key material, on stdout, on stderr
//! or in the API trace; and a system without `sudo` says so.

#[path = "support/client.rs"]
mod client;
#[path = "support/openssh.rs"]
mod openssh;
#[path = "support/sshd.rs"]
mod sshd;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use client::{current_user, opts, ssh_system};
use sshd::{Sshd, SshdOptions};
use zfleet::client::{ApiError, parse::parse_output};
use zfleet::model::{SshSystem, System, SystemKind};
use zfleet::transport::{self, MidcltCall, Runner};

/// `system.version` answers `FILES/version` (else a good version); every other method fails
/// with `FILES/stderr` if present, else prints `FILES/stdout`.
const HOSTILE_MIDCLT: &str = r#"#!/bin/sh
[ "$1" = call ] || exit 2
if [ "$2" = system.version ]; then
  if [ -f "@FILES@/version" ]; then cat "@FILES@/version"; else echo TrueNAS-25.10.1; fi
  exit 0
fi
if [ -f "@FILES@/stderr" ]; then cat "@FILES@/stderr" >&2; exit 1; fi
case "$2" in *snapshot.query) [ -f "@FILES@/version" ] || { echo '[]'; exit 0; } ;; esac
cat "@FILES@/stdout"
"#;

/// The base64 body of a (fake) OpenSSH private key.
const BODY: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";

/// A value that must never be echoed from a decoded answer.
const VALUE: &str = "s3cretVALUE";

fn private_key() -> String {
    format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{BODY}\n-----END OPENSSH PRIVATE KEY-----\n")
}

/// Results that are JSON of the wrong shape or not JSON at all: neither their values nor
/// key material may be shown.
fn crafted_results() -> Vec<String> {
    let key = serde_json::to_string(&private_key()).expect("json");
    let huge = "A".repeat(2 << 20);
    // After the snapshot names (`[]`), system.info is read: its numbers get strings.
    vec![
        format!("{{\"physmem\": {key}, \"hostname\": {key}, \"x\": \"{VALUE}\"}}\n"),
        format!("{{\"physmem\": \"a\\\" {VALUE} \\\"\"}}\n"),
        format!("{{\"physmem\": \"x\\\\\\\" {VALUE}\"}}\n"),
        format!("{{\"physmem\": \"\\u0022, expected {VALUE}\\u0022\"}}\n"),
        format!("{{\"cores\": \"{VALUE}`, expected `x\"}}\n"),
        format!("{{\"cores\": \"{VALUE}', expected 'x\"}}\n"),
        format!("{{\"uptime_seconds\": {{\"a\\\"{VALUE}\": {key}}}}}\n"),
        format!("{{\"physmem\": \"\\u001b]2;{VALUE}\\u0007\\u0000\", \"hostname\": {key}}}\n"),
        format!("{{\"physmem\": \"{huge}{VALUE}\"}}\n"),
        format!("{{\"physmem\": \"{huge} {VALUE}\"}}\n"),
        format!("[{key} {VALUE}\n"),
        private_key(),
        format!("\u{1b}[2J{VALUE}\u{7}\n"),
    ]
}

/// Failures whose text is shown (it is the error), but never key material.
fn crafted_failures() -> Vec<(&'static str, String)> {
    let key = private_key();
    vec![
        ("stderr", format!("[EINVAL] pool.dataset.query.name: {key}")),
        (
            "stderr",
            format!("[EFAULT] {key}Traceback (most recent call last):\n  File \"x\"\n"),
        ),
        ("stderr", format!("[EINVAL] {BODY}: x\n")),
        ("stderr", format!("sudo: {key}")),
        ("stderr", key.clone()),
        (
            "stdout",
            format!("Traceback (most recent call last):\n  File \"x\"\nValueError: {key}"),
        ),
        ("version", key.clone()),
        ("version", format!("TrueNAS-25.10.1-{BODY}\n")),
        (
            "version",
            format!("Traceback (most recent call last):\nKeyError: {BODY}\n"),
        ),
    ]
}

struct Fleet {
    sshd: Sshd,
    dir: tempfile::TempDir,
}

fn fleet() -> Option<Fleet> {
    let sshd = Sshd::start_with(SshdOptions {
        midclt: Some(HOSTILE_MIDCLT.to_string()),
        ..SshdOptions::default()
    })?;
    let dir = tempfile::tempdir().expect("dir");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        format!(
            "project: t\nsystems:\n  nas1: {{ host: 127.0.0.1, port: {}, user: {}, identity_file: {}, host_key: \"{}\" }}\n",
            sshd.port,
            current_user(),
            key.display(),
            sshd.host_key_fingerprint
        ),
    )
    .expect("config");
    Some(Fleet { sshd, dir })
}

impl Fleet {
    /// Makes midclt answer `text` as `what` (stdout, stderr or version) and nothing else.
    fn answer(&self, what: &str, text: &str) {
        for f in ["stdout", "stderr", "version"] {
            let _ = std::fs::remove_file(self.sshd.files_dir.join(f));
        }
        self.sshd.set_file(what, text.as_bytes());
    }

    /// `zfleet systems [--json]`: exit code and everything it wrote, the API trace included.
    fn run(&self, json: bool) -> (Option<i32>, String) {
        let trace = self.dir.path().join("trace.jsonl");
        let _ = std::fs::remove_file(&trace);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zfleet"));
        cmd.arg("systems")
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1")
            .env("ZFLEET_API_TRACE", &trace)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null());
        if json {
            cmd.arg("--json");
        }
        let out: Output = cmd.output().expect("zfleet");
        let traced = std::fs::read_to_string(&trace).unwrap_or_default();
        assert!(!traced.is_empty(), "the calls were traced");
        let all = format!(
            "{}{}{traced}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), all)
    }
}

fn assert_no_key_material(all: &str, case: &str) {
    for needle in ["PRIVATE KEY", "-----BEGIN", BODY, &BODY[..32]] {
        assert!(!all.contains(needle), "{case}: {needle:?} shown in\n{all}");
    }
}

#[test]
fn crafted_results_never_reach_output_traces_or_errors() {
    let Some(f) = fleet() else { return };
    for (n, result) in crafted_results().iter().enumerate() {
        f.answer("stdout", result);
        for json in [false, true] {
            let (code, all) = f.run(json);
            let case = format!("result {n} (json: {json})");
            assert_eq!(code, Some(1), "{case}: the system fails\n{all}");
            assert!(all.contains("zfleet::api::"), "{case}: an API error\n{all}");
            assert_no_key_material(&all, &case);
            assert!(!all.contains(VALUE), "{case}: a value shown in\n{all}");
            assert!(
                !all.contains('\u{1b}') || !json,
                "{case}: escape in JSON output"
            );
        }
    }
}

#[test]
fn crafted_failures_never_show_key_material() {
    let Some(f) = fleet() else { return };
    for (n, (what, text)) in crafted_failures().iter().enumerate() {
        f.answer(what, text);
        for json in [false, true] {
            let (code, all) = f.run(json);
            let case = format!("failure {n} on {what} (json: {json})");
            assert_eq!(code, Some(1), "{case}: the system fails\n{all}");
            assert_no_key_material(&all, &case);
            assert!(
                !all.contains("unsupported TrueNAS version"),
                "{case}: garbage is not a version\n{all}"
            );
        }
    }
}

#[tokio::test]
async fn a_system_without_sudo_says_so() {
    let Some(sshd) = Sshd::start() else { return };
    // The harness's fake sudo is the only one on the session PATH.
    if ["/usr/bin/sudo", "/bin/sudo", "/usr/local/bin/sudo"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        eprintln!("skipping: this machine has sudo, so the session would find it");
        return;
    }
    std::fs::remove_file(sshd.bin_dir.join("sudo")).expect("rm sudo");
    let home = tempfile::tempdir().expect("home");
    let key = sshd.authorized_key("id_ed25519", "ed25519", None);
    let ssh = SshSystem {
        user: Some(current_user()),
        identity_file: Some(key),
        host_key: Some(sshd.host_key_fingerprint.clone()),
        sudo: true,
        ..ssh_system("127.0.0.1", Some(sshd.port))
    };
    let system = System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Ssh(ssh),
    };
    let t = transport::connect(&system, &opts(home.path()))
        .await
        .expect("connects");
    let out = t
        .midclt_batch(&[MidcltCall::new("system.version", vec![])])
        .await
        .expect("batch runs");
    assert_eq!(out[0].exit, 127, "{out:?}");
    let Err(ApiError::NoSudo(why)) = parse_output(&out[0]) else {
        panic!("not NoSudo: {out:?}");
    };
    // Each call starts under timeout(1) on the system, which reports the missing command.
    assert!(
        why.ends_with("sudo: not found")
            || why == "timeout: failed to run command 'sudo': No such file or directory",
        "{why}"
    );
    let p = zfleet::client::ClientError {
        system: "nas1".into(),
        method: "system.version".into(),
        error: ApiError::NoSudo(why),
    }
    .to_problem();
    assert_eq!(p.code, "zfleet::api::no_sudo");
}
