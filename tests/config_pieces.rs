//! Parsing a config in pieces on several threads gives exactly the one-piece tree (spans
//! included), or declines; it never accepts a file the one-piece parse rejects. Checked on
//! every YAML file of the project, on hand-written traps, and on generated block-style files
//! full of constructs that span lines.

use std::path::Path;

use proptest::prelude::*;
use zfleet::config::node;
use zfleet::config::pieces;

/// Cuts at every possible line: the most pieces the layout allows.
fn in_pieces(text: &str) -> Option<String> {
    pieces::parse_with(text, 3, 1).map(|n| format!("{n:?}"))
}

fn in_one_piece(text: &str) -> Result<String, node::ParseError> {
    node::parse_in_one_piece(text).map(|n| format!("{n:?}"))
}

/// The property: pieces either decline or agree with the one-piece parse.
fn agrees(text: &str) -> Result<bool, String> {
    match (in_pieces(text), in_one_piece(text)) {
        (None, _) => Ok(false),
        (Some(p), Ok(o)) if p == o => Ok(true),
        (Some(p), Ok(o)) => Err(format!("trees differ\n{text}\npieces: {p}\none:    {o}")),
        (Some(_), Err(e)) => Err(format!(
            "pieces accepted what one piece rejects ({e:?}):\n{text}"
        )),
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn every_yaml_file_of_the_project_parses_the_same_in_pieces() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "tests"] {
        yaml_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    let mut cut = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        match agrees(&text) {
            Ok(true) => cut += 1,
            Ok(false) => {}
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    // The examples and most test configs are plain block mappings: they must be cut.
    assert!(
        cut * 2 > files.len(),
        "only {cut} of {} files were cut",
        files.len()
    );
}

#[test]
fn an_example_fleet_is_cut_into_entries() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab/zfleet.yaml"),
    )
    .expect("example");
    assert_eq!(agrees(&text), Ok(true));
}

/// Files where a cut line would change the meaning, or where the one-piece parse fails.
const TRAPS: &[&str] = &[
    // Multi-line quoted strings and flow collections running over an entry-like line.
    "a:\n  x: \"one\n  y: two\"\n  z: 1\n",
    "a:\n  x: 'one\n  y: two'\n",
    "a:\n  x: [1,\n  y, 2]\n",
    "a:\n  x: {p: 1,\n  y: 2}\n",
    "a: \"one\nb: two\"\n",
    "a: [1,\nb]\n",
    // Block scalars: content indented, a line at the parent's indentation ends them.
    "a:\n  x: |\n    text\n    y: not a key\n  y: 1\n",
    "a:\n  x: >\n    folded\n\n    more\n  y: 1\n",
    "a: |\n  text\nb: 1\n",
    "a: |\nfoo\nb: 1\n",
    "a:\n  x: |\n  y: 1\n",
    "a:\n  x: |\nb: 1\n",
    "a:\n  x: |-\n    t\n\n  # c\n\n  y: 2\n",
    "a:\n  x: >\n    t\n\n# c\nb: 2\n",
    "a:\n  x: |\n    t\n  y: 1\nb: 1\n",
    // Empty values before a cut.
    "a:\n  x:\n  y: 1\n",
    "a:\n  x: 1\n  z:\nb: 1\n",
    "a:\n  x: 1\n  z:\n\n  # c\n  w: 2\n",
    "a:\n  x: 1\n  z: {p: }\n  w: 2\n",
    "a:\nb:\n",
    "a:\n  x:\n    -\n  y: 1\n",
    "a:\n  x: &A\n  y: *A\n",
    "a:\n  x: !!str\n  y: 1\n",
    // Lone CR line breaks hiding a document end marker.
    "a:\n  x: 1\r...\n  y: 2\n",
    "a: 1\r...\nb: 2\n",
    "a: 1\r...\r\nb: 2\n",
    "a: 1\r... # c\nb: 2\n",
    "a:\n  x: |\r    t\r...\n  y: 2\n",
    // Block scalars without content before a cut: kept line breaks, keys, after merges.
    "a:\n  x: |+\n  y: 1\n",
    "a:\n  x: |+\n\n\n  y: 1\n",
    "a:\n  x: >+\n\n  y: 1\n",
    "a:\n  x: |+ # c\n  y: 1\n",
    "a:\n  x:\n    |+\n\n  y: 1\n",
    "a: |+\n\nb: 1\n",
    "a: |+\n \nb: 1\n",
    "a:\r\n  x: |+\r\n  y: 1\r\n",
    "a:\n  x:\n  - |+\n\n  y: 1\n",
    "a:\n  w: 0\n  ? |\n  y: 1\n",
    "a:\n  x: 1\n  y:\n  - ? |\n  z: 3\n",
    "a:\n  x:\n    <<: {m: 1}\n    k: |\n  y: 1\n",
    "a:\n  x:\n    <<: {m: 1}\n    k:\n    - |\n  y: 1\n",
    "a: 1\nb:\n  <<: {m: 1}\n  k: |\nc: 1\n",
    // Plain scalars over lines.
    "a:\n  x: one\n    two\n  y: 1\n",
    "a:\n  word\n  other\n",
    "a:\n  x: 1\n word\n",
    // Anchors and aliases within and across pieces; merge keys.
    "a:\n  x: &A {p: 1}\n  y: *A\n",
    "a:\n  x: &A {p: 1}\nb:\n  y: *A\n",
    "a:\n  x: 1\n  <<: {z: 2}\n",
    "<<: {a: 1}\nb: 2\n",
    // Duplicate keys across pieces.
    "a:\n  x: 1\n  y: 2\n  x: 3\n",
    "a: 1\nb: 2\na: 3\n",
    // Documents, directives and odd roots.
    "---\na:\n  x: 1\n  y: 2\n",
    "a:\n  x: 1\n---\nb: 2\n",
    "a:\n  x: 1\n...\nb: 2\n",
    "%YAML 1.2\n---\na: 1\nb: 2\n",
    "- a\n- b\n",
    "{a: 1,\nb: 2}\n",
    "? a\n: 1\nb: 2\n",
    "a:\n  ? x\n  : 1\n  y: 2\n",
    // Comments, blank lines, CRLF, tabs, less indented lines.
    "# c\na:\n  # c\n  x: 1\n\n# c\n  y: 2\nb: 3 # c\n",
    "a:\r\n  x: 1\r\n  y: 2\r\nb: 3\r\n",
    "a:\n\tx: 1\n",
    "a:\n    x: 1\n  y: 2\n",
    "a:\n  x:\n  - 1\n  - 2\n  y: 3\n",
    "a:\n  x: 1\n  'y': 2\n  \"z\": 3\n  7: 4\n",
    "a:\n  x: 1\n  y: 2\nb:\n  x: 1\n",
    "a:",
    "a:\n  x: 1\n  y",
    "",
];

#[test]
fn traps_are_declined_or_parsed_the_same() {
    let failures: Vec<String> = TRAPS.iter().filter_map(|t| agrees(t).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn plain_sections_are_cut_and_agree() {
    for t in [
        "a:\n  x: 1\n  y: 2\nb:\n  x: 1\n",
        "# c\na:\n  # c\n  x: 1\n\n# c\n  y: 2\nb: 3 # c\n",
        "a:\r\n  x: 1\r\n  y: 2\r\nb: 3\r\n",
        "---\na:\n  x: 1\n  y: 2\n",
        "a:\n  x: |\n    text\n    y: not a key\n  y: 1\n",
    ] {
        assert_eq!(agrees(t), Ok(true), "{t}");
    }
}

#[test]
fn a_large_generated_fleet_is_cut_and_agrees() {
    let mut text =
        String::from("project: p\nsystems:\n  nas1: { host: nas1.lan }\nsnapshot_tasks:\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "  t{i}:\n    system: nas1\n    dataset: tank/d{i}\n    schedule: {{ every: daily, at: \"02:00\" }}\n    lifetime: 2 weeks\n"
        ));
    }
    text.push_str("replications:\n");
    for i in 0..300 {
        text.push_str(&format!(
            "  r{i}:\n    sources: [{{ system: nas1, datasets: [tank/d{i}], snapshot_tasks: [t{i}] }}]\n    target: {{ system: nas1, dataset: pool/r{i} }}\n"
        ));
    }
    for piece in [1, 100, 5000] {
        let p = pieces::parse_with(&text, 2, piece).map(|n| format!("{n:?}"));
        assert_eq!(
            p,
            Some(in_one_piece(&text).expect("valid")),
            "pieces of {piece}"
        );
    }
    // The entry point cuts a file of this size on two threads, not on one.
    assert!(text.len() > 256 * 1024, "{}", text.len());
    assert!(pieces::parse(&text, 2).is_some());
    assert!(pieces::parse(&text, 1).is_none());
}

const KEYS: &[&str] = &["a", "b", "x", "y", "'q'", "\"d\"", "7", "<<"];
const VALUES: &[&str] = &[
    "1", "two", "\"dq", "dq\"", "'sq", "sq'", "[1,", "2]", "{p: 1,", "q: 2}", "|", ">-", "&A v",
    "*A", "&B", "", "# c", "x: y", "- i", "-", "? k", ": v", "---", "...", "\t1",
];

/// A line: an indentation, maybe a key, maybe a value, maybe a comment.
fn line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&[0usize, 0, 1, 2, 2, 2, 4, 4, 6][..]),
        prop::option::of(prop::sample::select(KEYS)),
        prop::option::of(prop::sample::select(VALUES)),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(indent, key, value, comment, crlf)| {
            let mut l = " ".repeat(indent);
            if let Some(k) = key {
                l.push_str(k);
                l.push(':');
                if value.is_some() {
                    l.push(' ');
                }
            }
            if let Some(v) = value {
                l.push_str(v);
            }
            if comment {
                l.push_str(" # c");
            }
            l.push_str(if crlf { "\r\n" } else { "\n" });
            l
        })
}

/// Values every config has.
const PLAIN_VALUES: &[&str] = &["1", "two", "[1, 2]", "{p: 1}", "\"q\"", "'s'", "one two"];

/// Values that span lines, refer elsewhere or are unusual.
const ENTRY_VALUES: &[&str] = &[
    "1",
    "two",
    "|",
    ">-",
    "|+",
    ">+",
    "|2",
    "|1-",
    "!!str |",
    "&B |+",
    "",
    "[1, 2]",
    "{p: 1}",
    "&A v",
    "*A",
    "\"q\"",
    "'s'",
    "!!str 5",
    "# c",
    "\"multi",
    "line\"",
    "{p: 1,",
    "q: 2}",
    "<<: {m: 1}",
    "&M {m: 1}",
    "<<: *M",
    "one two",
    "? k",
    "\t1",
];

/// An entry of a section: its key line and maybe lines under it, once in a while a random line.
fn entry(i: usize) -> impl Strategy<Value = String> {
    (
        prop_oneof![
            3 => prop::sample::select(PLAIN_VALUES),
            1 => prop::sample::select(ENTRY_VALUES),
        ],
        prop::option::weighted(
            0.3,
            prop::sample::select(
                &[
                    "    t\n",
                    "    - i\n",
                    "    k: v\n",
                    "\n",
                    "# c\n",
                    "  # c\n",
                    "  - i\n",
                ][..],
            ),
        ),
        prop::option::weighted(0.05, prop::sample::select(KEYS)),
        prop::option::weighted(0.05, line()),
    )
        .prop_map(move |(value, under, key, junk)| {
            let key = key.map_or(format!("k{i}"), str::to_string);
            format!(
                "  {key}: {value}\n{}{}",
                under.unwrap_or_default(),
                junk.unwrap_or_default()
            )
        })
}

/// Block documents: sections of entries as a config has them, with traps mixed in.
fn document() -> impl Strategy<Value = String> {
    let section = prop::collection::vec(0usize..1, 1..6).prop_flat_map(|n| {
        (0..n.len())
            .map(entry)
            .collect::<Vec<_>>()
            .prop_map(|entries| entries.concat())
    });
    prop::collection::vec(
        (
            prop::sample::select(&[":", ":", ":", ": 1", ": |"][..]),
            section,
        ),
        1..5,
    )
    .prop_map(|sections| {
        sections
            .iter()
            .enumerate()
            .map(|(i, (head, body))| {
                if *head == ":" {
                    format!("s{i}:\n{body}")
                } else {
                    format!("s{i}{head}\n")
                }
            })
            .collect()
    })
}

/// Thousands of generated documents: none where pieces and one piece disagree, and enough of
/// them cut for the check to mean something.
#[test]
fn generated_documents_are_declined_or_parsed_the_same() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let cases: usize = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(5000);
    let mut runner = TestRunner::new(Config::default());
    let strategy = document();
    let mut cut = 0;
    for _ in 0..cases {
        let doc = strategy.new_tree(&mut runner).expect("generate").current();
        match agrees(&doc) {
            Ok(true) => cut += 1,
            Ok(false) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert!(cut * 10 > cases, "only {cut} of {cases} documents were cut");
}
