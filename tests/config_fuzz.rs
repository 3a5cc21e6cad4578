//! Property tests of the config parser: whatever the input, loading and validating it ends in a
//! model or in diagnostics whose spans lie inside the file, and rendering them never panics.
//! Bounded: a fixed number of cases per run (`PROPTEST_CASES` raises it for longer fuzzing).

use proptest::prelude::*;

const KEYS: &[&str] = &[
    "project",
    "systems",
    "snapshot_tasks",
    "snapshots",
    "replications",
    "host",
    "port",
    "user",
    "simulator",
    "version",
    "fixture",
    "system",
    "dataset",
    "datasets",
    "recursive",
    "exclude",
    "schedule",
    "lifetime",
    "naming_schema",
    "sources",
    "target",
    "direction",
    "transport",
    "retention",
    "custom",
    "every",
    "at",
    "day",
    "cron",
    "minute",
    "hour",
    "dom",
    "month",
    "dow",
    "begin",
    "end",
    "snapshot_tasks",
    "speed_limit",
    "retries",
    "nas1",
    "backup",
    "x",
];

const SCALARS: &[&str] = &[
    "nas1",
    "backup",
    "tank/data",
    "tank//x",
    "hourly",
    "weekly",
    "2 weeks",
    "auto-%Y-%m-%d_%H-%M",
    "%s",
    "0 0 * * 7",
    "25.10",
    "true",
    "no",
    "~",
    "22",
    "-1",
    "99999999999999999999",
    "'quoted'",
    "\"dq\\u00e9\"",
    "push",
    "pull",
    "local",
    "{custom: 4 weeks}",
    "SHA256:x",
    "*/5",
    "",
];

fn yaml_value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop::sample::select(SCALARS)
        .prop_map(str::to_string)
        .boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        3 => leaf,
        1 => prop::collection::vec(yaml_value(depth - 1), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        2 => prop::collection::vec((prop::sample::select(KEYS), yaml_value(depth - 1)), 0..5)
            .prop_map(|kv| format!("{{{}}}", kv.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "))),
    ]
    .boxed()
}

fn yaml_document() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS), yaml_value(4)), 0..6).prop_map(|entries| {
        entries
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect::<String>()
    })
}

fn check(bytes: Vec<u8>) {
    let len = bytes.len();
    let problems = match zfleet::config::load::parse("zfleet.yaml", bytes) {
        Err(p) => vec![p],
        Ok(doc) => {
            let (_, mut problems) = zfleet::config::validate::validate(&doc);
            problems.extend(doc.problems.iter().cloned());
            problems
        }
    };
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    for p in problems {
        if let Some((span, _)) = &p.span {
            assert!(
                span.offset() + span.len() <= len,
                "span {span:?} outside {len} bytes: {p}"
            );
        }
        assert!(p.code.starts_with("zfleet::"), "{}", p.code);
        let mut out = String::new();
        handler.render_report(&mut out, &p).expect("render");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(bytes);
    }

    #[test]
    fn yaml_shaped_input_never_panics(doc in yaml_document()) {
        check(doc.into_bytes());
    }

    #[test]
    fn real_configs_with_one_byte_changed_never_panic(pos in 0usize..400, byte in any::<u8>()) {
        let mut text = b"project: homelab\nsystems:\n  nas1: { host: nas1.lan }\n  backup: { simulator: { version: \"25.10\" } }\nsnapshot_tasks:\n  t: { system: nas1, dataset: tank/data, schedule: { every: daily, at: \"02:00\" }, lifetime: 2 weeks }\nreplications:\n  r:\n    sources: [{ system: nas1, datasets: [tank/data], snapshot_tasks: [t] }]\n    target: { system: backup, dataset: pool/data }\n    retention: { custom: 4 weeks }\n".to_vec();
        let pos = pos % text.len();
        text[pos] = byte;
        check(text);
    }
}
