//! `zfleet graph` through the real binary on simulated fleets: the topology in DOT, Mermaid
//! and SVG, each replication coloured by the health of its live task; `--offline`; `-o`;
//! and the README's picture of the example fleet, regenerated and compared.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;

use std::path::Path;

use fleet::{Fleet, backup_fixture, nas1_fixture};

const FAILURE: &str =
    "No incremental base on dataset 'tank/data' and replication from scratch is not allowed.";

/// nas1 (25.10, Berlin time, clock at 13:30 UTC) replicates to backup four ways: one ran at
/// 13:00 (fresh), one last ran at 09:00 on an hourly schedule (stale), one failed, one
/// LOCAL task never ran. `offsite` pulls from backup and cannot be reached.
fn health_fleet() -> Fleet {
    let mut f = Fleet::new();
    let nas1 = format!(
        r#"timezone: Europe/Berlin
{}snapshot_tasks:
  - {{ dataset: tank/data, recursive: true, schedule: {{ minute: "0" }} }}
replications:
  - name: data-fresh
    direction: PUSH
    transport: SSH
    ssh_credentials: to-backup
    source_datasets: [tank/data]
    target_dataset: backup/nas1/data
    recursive: true
    auto: true
    retention_policy: SOURCE
    periodic_snapshot_tasks: [1]
    state: {{ state: FINISHED, datetime: 2025-10-30T13:00:09Z }}
  - name: media-stale
    direction: PUSH
    transport: SSH
    ssh_credentials: to-backup
    source_datasets: [tank/media]
    target_dataset: backup/nas1/media
    recursive: false
    auto: true
    schedule: {{ minute: "0" }}
    naming_schema: ["auto-%Y-%m-%d_%H-%M"]
    retention_policy: SOURCE
    state: {{ state: FINISHED, datetime: 2025-10-30T09:00:09Z }}
  - name: data-failed
    direction: PUSH
    transport: SSH
    ssh_credentials: to-backup
    source_datasets: [tank/data]
    target_dataset: backup/nas1/again
    recursive: true
    auto: true
    retention_policy: SOURCE
    periodic_snapshot_tasks: [1]
    state: {{ state: ERROR, datetime: 2025-10-30T11:02:13Z, error: "{FAILURE}" }}
    job: {{ state: FAILED, error: "{FAILURE}" }}
  - name: data-local
    direction: PUSH
    transport: LOCAL
    source_datasets: [tank/data]
    target_dataset: tank/local/data
    recursive: true
    auto: false
    naming_schema: ["auto-%Y-%m-%d_%H-%M"]
    retention_policy: SOURCE
"#,
        nas1_fixture()
    );
    f.system("nas1", "25.10", &nas1)
        .system("backup", "25.04", &backup_fixture());
    f.raw_config(
        "graphs",
        r#"systems:
  nas1: { simulator: { fixture: sim/nas1.yaml } }
  backup: { simulator: { fixture: sim/backup.yaml } }
  offsite: { host: 127.0.0.1, port: 1, connect_timeout: 5s }
snapshot_tasks:
  data-hourly: { system: nas1, dataset: tank/data, recursive: true, schedule: hourly }
replications:
  data-fresh:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: backup, dataset: backup/nas1/data }
    recursive: true
    schedule: with_snapshot_tasks
  media-stale:
    sources: [ { system: nas1, datasets: [tank/media], naming_schema: "auto-%Y-%m-%d_%H-%M" } ]
    target: { system: backup, dataset: backup/nas1/media }
    schedule: hourly
  data-failed:
    sources: [ { system: nas1, datasets: [tank/data], snapshot_tasks: [data-hourly] } ]
    target: { system: backup, dataset: backup/nas1/again }
    recursive: true
    schedule: with_snapshot_tasks
  data-local:
    sources: [ { system: nas1, datasets: [tank/data], naming_schema: "auto-%Y-%m-%d_%H-%M" } ]
    target: { system: nas1, dataset: tank/local/data }
    recursive: true
    schedule: manual
  to-offsite:
    direction: pull
    sources: [ { system: backup, datasets: [backup/nas1], naming_schema: "auto-%Y-%m-%d_%H-%M" } ]
    target: { system: offsite, dataset: vault/nas1 }
    schedule: daily
"#,
    );
    f
}

#[test]
fn dot_colours_each_replication_by_its_live_health() {
    let f = health_fleet();
    let run = f.zfleet(&["graph"]);
    run.expect(0);
    insta::assert_snapshot!("graph_dot", run.stdout);
    // The unreachable system is drawn, and why is said once, as a warning.
    assert_eq!(run.codes(), vec!["zfleet::ssh::unreachable".to_string()]);
    assert!(run.stderr.contains("⚠"), "{}", run.stderr);
    f.assert_trace_valid(1);
}

#[test]
fn mermaid_has_the_same_edges_and_colours() {
    let f = health_fleet();
    let run = f.zfleet(&["graph", "--format", "mermaid"]);
    run.expect(0);
    insta::assert_snapshot!("graph_mermaid", run.stdout);
}

#[test]
fn svg_is_well_formed_with_one_coloured_path_and_label_per_replication() {
    let f = health_fleet();
    let run = f.zfleet(&["graph", "-o", "fleet.svg"]);
    run.expect(0);
    assert_eq!(run.stdout, "", "-o writes the file, not stdout");
    let svg = std::fs::read_to_string(f.path().join("fleet.svg")).expect("fleet.svg written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let of_class = |class: &str| -> Vec<roxmltree::Node<'_, '_>> {
        doc.descendants()
            .filter(|n| n.attribute("class") == Some(class))
            .collect()
    };
    let health_of_paths: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "path")
        .filter_map(|n| {
            let class = n.attribute("class")?.strip_prefix("replication ")?;
            Some((class, n.attribute("stroke")?))
        })
        .collect();
    assert_eq!(
        health_of_paths,
        vec![
            ("failed", "#c62828"),
            ("fresh", "#2e7d32"),
            ("stale", "#e08a00"),
            ("stale", "#e08a00"),
            ("unknown", "#8a8a8a"),
        ],
        "in the config's order: data-failed, data-fresh, data-local, media-stale, to-offsite"
    );
    // TrueNAS's own words for the failure, as the failed label's tooltip.
    let failed = of_class("label failed");
    assert_eq!(failed.len(), 1);
    let tip = failed[0]
        .children()
        .find(|n| n.tag_name().name() == "title")
        .and_then(|n| n.text());
    assert_eq!(tip, Some(format!("failed: {FAILURE}").as_str()));
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "text")
        .filter_map(|n| n.text())
        .collect();
    for expected in [
        "media-stale",
        "tank/media → backup/nas1/media",
        "hourly · stale: last run 4 h ago",
        "with data-hourly · failed 2 h ago",
        "manual · no run recorded",
        "daily · pull · offsite not read",
        "offsite",
        "unreachable",
        "TrueNAS 25.10.1",
    ] {
        assert!(
            texts.contains(&expected),
            "no text {expected:?} in {texts:?}"
        );
    }
    assert_eq!(of_class("system").len(), 3);
}

#[test]
fn offline_reads_only_the_config() {
    let f = health_fleet();
    let run = f.zfleet(&["graph", "--offline", "--format", "mermaid"]);
    run.expect(0);
    assert_eq!(run.stderr, "");
    assert!(
        !f.trace_file().exists(),
        "--offline called a system: {}",
        std::fs::read_to_string(f.trace_file()).unwrap_or_default()
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.contains(&"  n1[\"nas1<br/>simulated\"]:::unread"),
        "{}",
        run.stdout
    );
    assert!(
        lines.contains(&"  n2[\"offsite<br/>127.0.0.1\"]:::unread"),
        "{}",
        run.stdout
    );
    assert_eq!(
        lines.iter().filter(|l| l.contains("-.->")).count(),
        5,
        "every replication drawn as unknown:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains("-->|"), "{}", run.stdout);
}

#[test]
fn the_out_file_extension_picks_the_format_and_a_bad_path_is_reported() {
    let f = health_fleet();
    f.zfleet(&["graph", "--offline", "-o", "g.mmd"]).expect(0);
    let mermaid = std::fs::read_to_string(f.path().join("g.mmd")).expect("g.mmd");
    assert!(mermaid.contains("flowchart LR\n"), "{mermaid}");
    f.zfleet(&["graph", "--offline", "-o", "g.gv"]).expect(0);
    let dot = std::fs::read_to_string(f.path().join("g.gv")).expect("g.gv");
    assert!(dot.contains("digraph \"graphs\" {\n"), "{dot}");
    // --format wins over the extension.
    f.zfleet(&["graph", "--offline", "--format", "dot", "-o", "x.svg"])
        .expect(0);
    let forced = std::fs::read_to_string(f.path().join("x.svg")).expect("x.svg");
    assert!(forced.starts_with("// Replication topology"), "{forced}");

    let run = f.zfleet(&["graph", "--offline", "-o", "no/such/dir/g.svg"]);
    run.expect(1);
    assert_eq!(run.codes(), vec!["zfleet::graph::write".to_string()]);
    assert!(run.stderr.contains("no/such/dir/g.svg"), "{}", run.stderr);
}

#[test]
fn an_invalid_config_draws_nothing() {
    let mut f = Fleet::new();
    f.raw_config(
        "broken",
        "systems: {}\nreplications: { r: { target: 3 } }\n",
    );
    let run = f.zfleet(&["graph", "--offline"]);
    run.expect(1);
    assert_eq!(run.stdout, "");
    assert!(!run.codes().is_empty(), "{}", run.stderr);
}

/// `docs/fleet.svg`, shown in the README: the example fleet as the embedded simulator
/// has it, from fresh state. `ZFLEET_BLESS=1` rewrites it.
#[test]
fn the_readme_picture_of_the_example_fleet_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let state = tempfile::tempdir().expect("state dir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .args(["graph", "--format", "svg", "-f"])
        .arg(root.join("examples/homelab/zfleet.yaml"))
        .env("ZFLEET_SIM_STATE_DIR", state.path())
        .env("NO_COLOR", "1")
        .env_remove("ZFLEET_FILE")
        .env_remove("ZFLEET_API_TRACE")
        .output()
        .expect("zfleet runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let svg = String::from_utf8(out.stdout).expect("utf-8");
    roxmltree::Document::parse(&svg).expect("well-formed XML");
    let path = root.join("docs/fleet.svg");
    if std::env::var_os("ZFLEET_BLESS").is_some() {
        std::fs::write(&path, &svg).expect("write docs/fleet.svg");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == svg,
        "docs/fleet.svg is stale: run `ZFLEET_BLESS=1 cargo test --test cli_graph` and commit it"
    );
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(
        readme.contains("](docs/fleet.svg)"),
        "the README shows docs/fleet.svg"
    );
}
