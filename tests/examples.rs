//! The example fleets: each config starts with the schema line and validates.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn example_configs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path().join("zfleet.yaml")))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn examples_start_with_the_schema_line_and_validate() {
    let configs = example_configs();
    assert!(
        configs.len() >= 2,
        "expected two example fleets, found {configs:?}"
    );
    for config in configs {
        let text = std::fs::read_to_string(&config).expect("read");
        let first = text.lines().next().unwrap_or_default();
        let schema = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: first line is {first:?}", config.display()));
        let schema_path = config.parent().expect("dir").join(schema);
        assert!(
            schema_path.is_file(),
            "{}: schema {schema} not found",
            config.display()
        );
        let out = Command::cargo_bin("zfleet")
            .expect("binary")
            .args(["validate", "-f"])
            .arg(&config)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{} does not validate:\n{}",
            config.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
