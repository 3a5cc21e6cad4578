//! `ZFLEET_API_TRACE` pointing where nothing can be written: one warning, and the run goes on.

use std::path::Path;
use std::process::Command;

#[test]
fn an_unwritable_trace_file_is_one_warning_not_a_failure() {
    let dir = tempfile::tempdir().expect("dir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sim/nas1.yaml");
    std::fs::write(
        dir.path().join("zfleet.yaml"),
        format!(
            "project: t\nsystems:\n  a: {{ simulator: {{ fixture: {f} }} }}\n  b: {{ simulator: {{ fixture: {f} }} }}\n",
            f = fixture.display()
        ),
    )
    .expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .current_dir(dir.path())
        .arg("systems")
        .env(
            "ZFLEET_API_TRACE",
            dir.path().join("no/such/dir/trace.jsonl"),
        )
        .env("ZFLEET_SIM_STATE_DIR", dir.path().join("state"))
        .env_remove("ZFLEET_FILE")
        .output()
        .expect("run zfleet");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stderr.matches("zfleet::api::trace").count(), 1, "{stderr}");
    assert!(stderr.contains("⚠ cannot write the API trace "), "{stderr}");
    assert!(
        stderr.contains("trace.jsonl: No such file or directory"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.contains(" ok ")).count(),
        2,
        "{stdout}"
    );
}
