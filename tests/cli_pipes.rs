//! Every command with its stdout or its stderr closed (`zfleet schema | head -1`): the
//! process ends quietly, killed by SIGPIPE like any Unix tool, and never panics.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SIGPIPE: i32 = 13;

/// Which stream the reader has gone away from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Closed {
    Stdout,
    Stderr,
}

/// Runs zfleet in `dir` with one stream connected to a pipe whose reading end is already
/// closed, so the first write to it fails with EPIPE. The other stream is captured.
fn run_closed(dir: &Path, args: &[&str], closed: Closed) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zfleet"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("ZFLEET_FILE")
        .env_remove("ZFLEET_API_TRACE")
        .env("ZFLEET_SIM_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null());
    match closed {
        Closed::Stdout => cmd.stdout(writer).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(writer).stdout(Stdio::piped()),
    };
    let child = cmd.spawn().expect("spawn zfleet");
    child.wait_with_output().expect("wait")
}

/// A scratch copy of the homelab example whose simulated systems are already seeded.
fn fleet() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    copy_dir(&src, dir.path()).expect("copy the example");
    std::fs::write(dir.path().join("bad.yaml"), "project: x\nsystems: [1\n").expect("bad");
    let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .current_dir(dir.path())
        .args(["systems"])
        .env_remove("ZFLEET_FILE")
        .env("ZFLEET_SIM_STATE_DIR", dir.path().join("state"))
        .output()
        .expect("seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sim = dir.path().join("state");
    assert!(
        sim.join("nas1.json").is_file(),
        "no state in {}",
        sim.display()
    );
    (dir, sim)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            if entry.file_name() != ".zfleet" {
                copy_dir(&entry.path(), &target)?;
            }
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn assert_quiet_sigpipe(args: &[&str], closed: Closed, out: &Output) {
    let other = match closed {
        Closed::Stdout => String::from_utf8_lossy(&out.stderr),
        Closed::Stderr => String::from_utf8_lossy(&out.stdout),
    };
    assert!(
        !other.contains("panicked") && !other.contains("Broken pipe"),
        "zfleet {args:?} with {closed:?} closed printed:\n{other}"
    );
    assert_ne!(out.status.code(), Some(101), "zfleet {args:?}: a panic");
    assert_eq!(
        out.status.signal(),
        Some(SIGPIPE),
        "zfleet {args:?} with {closed:?} closed should end by SIGPIPE, ended {:?}; other stream:\n{other}",
        out.status
    );
}

#[test]
fn every_command_ends_quietly_when_stdout_is_closed() {
    let (dir, sim) = fleet();
    let sim = sim.to_str().expect("utf-8 path");
    let nas1 = format!("{sim}/nas1.json");
    let generated = dir.path().join("generated");
    let generated = generated.to_str().expect("utf-8 path");
    let commands: Vec<Vec<&str>> = vec![
        vec!["schema"],
        vec!["completions", "zsh"],
        vec!["completions", "bash"],
        vec!["validate"],
        vec!["systems"],
        vec!["systems", "--json"],
        vec!["systems", "--json", "-f", "bad.yaml"],
        vec!["validate", "--format", "json"],
        vec!["validate", "--format", "json", "-f", "bad.yaml"],
        vec!["sim", "midclt", "--state", &nas1, "call", "system.version"],
        vec!["sim", "counters", "--state", sim],
        vec!["sim", "counters", "--state", sim, "--json"],
        vec!["sim", "advance", "--state", sim, "1h"],
        vec!["sim", "generate", "--out", generated, "--systems", "2"],
        vec!["sim", "reset", "nas2"],
        vec![
            "sim",
            "serve",
            "--state",
            sim,
            "--listen",
            "nas1=127.0.0.1:0",
        ],
    ];
    for args in &commands {
        let out = run_closed(dir.path(), args, Closed::Stdout);
        assert_quiet_sigpipe(args, Closed::Stdout, &out);
    }
}

#[test]
fn every_command_ends_quietly_when_stderr_is_closed() {
    let (dir, sim) = fleet();
    let sim = sim.to_str().expect("utf-8 path");
    let nas1 = format!("{sim}/nas1.json");
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", "-f", "bad.yaml"],
        vec!["validate", "-f", "missing.yaml"],
        vec!["systems", "-f", "bad.yaml"],
        vec!["sim", "midclt", "--state", &nas1, "call", "no.such.method"],
        vec!["sim", "advance", "--state", sim, "soon"],
        vec!["sim", "faults", "--state", sim, "no-such-system"],
        vec!["sim", "counters", "--state", "no-such-dir"],
        vec!["sim", "reset", "no-such-system"],
        vec!["sim", "generate", "--out", "g", "--truenas-version", "9.9"],
    ];
    for args in &commands {
        let out = run_closed(dir.path(), args, Closed::Stderr);
        assert_quiet_sigpipe(args, Closed::Stderr, &out);
    }
    // Usage errors are clap's: it ignores the failed write and exits 2, also quietly.
    let usage_errors: Vec<Vec<&str>> = vec![
        vec![
            "sim",
            "serve",
            "--state",
            sim,
            "--listen",
            "nas1=not-an-address",
        ],
        vec!["completions", "no-such-shell"],
        vec!["no-such-command"],
        vec!["systems", "--timeout", "0"],
    ];
    for args in &usage_errors {
        let out = run_closed(dir.path(), args, Closed::Stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "zfleet {args:?}: {stdout}");
        assert!(stdout.is_empty(), "zfleet {args:?}: {stdout}");
    }
}

/// clap prints help and version itself; a closed stdout must not turn them into a panic.
#[test]
fn help_and_version_with_stdout_closed_do_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["--help"][..],
        &["--version"],
        &["systems", "--help"],
        &["sim", "--help"],
    ] {
        let out = run_closed(dir.path(), args, Closed::Stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "zfleet {args:?}:\n{err}");
        assert_ne!(out.status.code(), Some(101), "zfleet {args:?}");
    }
}
