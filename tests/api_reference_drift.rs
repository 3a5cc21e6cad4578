//! The TrueNAS API reference data kept in `tests/data/truenas-api` is a copy of part of the
//! team's reference folder. When that folder happens to sit next to the repository
//! (`../shared/truenas-api`), the copy must match it byte for byte, and every recorded
//! example must be copied. Without it there is nothing to compare and the test passes: the
//! other tests never need it.

use std::path::{Path, PathBuf};

fn files(dir: &Path, under: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir.join(under)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = format!("{under}/{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            files(dir, &name, out);
        } else {
            out.push(name);
        }
    }
}

/// What differs between the kept copy and the reference folder, one line per file.
fn drift(copy: &Path, reference: &Path) -> Vec<String> {
    let mut kept = Vec::new();
    files(copy, "examples", &mut kept);
    files(copy, "schemas", &mut kept);
    kept.sort();
    let mut drift = Vec::new();
    for name in &kept {
        match std::fs::read(reference.join(name)) {
            Err(_) => drift.push(format!("{name}: not in the reference folder")),
            Ok(want) if std::fs::read(copy.join(name)).ok().as_ref() != Some(&want) => {
                drift.push(format!("{name}: differs"));
            }
            Ok(_) => {}
        }
    }
    let mut examples = Vec::new();
    files(reference, "examples", &mut examples);
    examples.sort();
    for name in examples {
        if !kept.contains(&name) {
            drift.push(format!("{name}: not copied"));
        }
    }
    drift
}

#[test]
fn copies_match_the_reference_folder_when_it_is_beside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference: PathBuf = root.join("../shared/truenas-api");
    if !reference.is_dir() {
        return;
    }
    let drift = drift(&root.join("tests/data/truenas-api"), &reference);
    assert!(
        drift.is_empty(),
        "drift between tests/data/truenas-api and ../shared/truenas-api \
         (refresh as tests/data/truenas-api/README.md says):\n  {}",
        drift.join("\n  ")
    );
}

#[test]
fn drift_lists_changed_missing_and_uncopied_files() {
    let copy = tempfile::tempdir().expect("tmp");
    let reference = tempfile::tempdir().expect("tmp");
    let write = |dir: &Path, name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    for (name, text) in [
        ("examples/same.json", "{}"),
        ("examples/changed.json", "[1]"),
        ("schemas/25.10/gone.json", "{}"),
    ] {
        write(copy.path(), name, text);
    }
    for (name, text) in [
        ("examples/same.json", "{}"),
        ("examples/changed.json", "[2]"),
        ("examples/new.json", "{}"),
        ("schemas/25.10/not-needed.json", "{}"),
    ] {
        write(reference.path(), name, text);
    }
    assert_eq!(
        drift(copy.path(), reference.path()),
        [
            "examples/changed.json: differs",
            "schemas/25.10/gone.json: not in the reference folder",
            "examples/new.json: not copied",
        ]
    );
    write(copy.path(), "examples/changed.json", "[2]");
    write(copy.path(), "examples/new.json", "{}");
    write(reference.path(), "schemas/25.10/gone.json", "{}");
    assert!(drift(copy.path(), reference.path()).is_empty());
}
