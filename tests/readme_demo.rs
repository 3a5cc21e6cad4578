//! The README's first command and the walk-through after it, on a copy of
//! `examples/homelab` (the repository's own example state is never written by tests).

use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        let name = entry.file_name();
        if name == ".zfleet" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

fn homelab() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    let copy = dir.path().join("homelab");
    copy_dir(&root, &copy);
    let config = copy.join("zfleet.yaml");
    (dir, config)
}

fn zfleet(args: &[&str], config: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .args(args)
        .arg("-f")
        .arg(config)
        .env_remove("ZFLEET_SIM_STATE_DIR")
        .env_remove("ZFLEET_FILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("zfleet runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn plan_apply_plan_reset_on_the_homelab_fleet() {
    let (_dir, config) = homelab();
    let (code, out, err) = zfleet(&["plan"], &config);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err, "", "a healthy fleet has nothing to warn about");
    assert!(
        out.contains("  <= adopt replication nas1-to-backup (#1)  # made by hand; adopted\n"),
        "{out}"
    );
    assert!(out.contains("      schedule  null → 0 0 * * 7\n"), "{out}");
    assert!(
        out.ends_with("Plan: 0 to add, 7 to change, 0 to delete.\n"),
        "{out}"
    );

    let (code, out, err) = zfleet(&["apply", "--yes"], &config);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.ends_with("Apply: 7 done, 0 failed, 0 skipped.\n"),
        "{out}"
    );

    let (code, out, _) = zfleet(&["plan", "--detailed-exitcode"], &config);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.ends_with("No changes. The live state matches the config.\n"),
        "{out}"
    );

    let (code, _, err) = zfleet(&["sim", "reset"], &config);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = zfleet(&["plan", "--detailed-exitcode"], &config);
    assert_eq!(
        code, 2,
        "after a reset the fixtures' hand-made tasks are back: {out}"
    );
}
