//! What zfleet says about itself: `--version`, the manual pages, shell completions, and
//! the CI recipe whose zfleet commands must exist with the flags it uses.

use std::process::Command;

use clap::Parser;

fn zfleet(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zfleet"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("ZFLEET_FILE")
        .output()
        .expect("zfleet runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_supported_truenas_releases() {
    let expected = format!(
        "zfleet {} (TrueNAS CORE 13.0, 13.3, TrueNAS SCALE 24.04, 24.10, TrueNAS 25.04, 25.10)\n",
        env!("CARGO_PKG_VERSION")
    );
    for flag in ["--version", "-V"] {
        assert_eq!(
            zfleet(&[flag]),
            (0, expected.clone(), String::new()),
            "{flag}"
        );
    }
}

#[test]
fn the_manual_page_is_roff_made_from_the_command_line() {
    let (code, page, err) = zfleet(&["man"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(page.starts_with(".ie \\n(.g .ds Aq \\(aq\n"), "{page}");
    assert!(
        page.contains(&format!(
            "\n.TH zfleet 1  \"zfleet {}\" \"zfleet manual\"\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{page}"
    );
    for sub in ["plan", "apply", "graph", "man", "completions", "sim"] {
        assert!(
            page.contains(&format!("zfleet\\-{sub}(1)")),
            "no {sub} in\n{page}"
        );
    }

    let (code, plan, _) = zfleet(&["man", "plan"]);
    assert_eq!(code, 0);
    assert!(plan.contains("\n.TH zfleet-plan 1 "), "{plan}");
    assert!(plan.contains("\\fBzfleet plan\\fR"), "{plan}");
    assert!(plan.contains("\\-\\-detailed\\-exitcode"), "{plan}");

    let (code, advance, _) = zfleet(&["man", "sim", "advance"]);
    assert_eq!(code, 0);
    assert!(advance.contains(".TH zfleet-sim-advance 1 "), "{advance}");
}

#[test]
fn a_manual_page_for_a_command_that_does_not_exist_is_refused() {
    let (code, out, err) = zfleet(&["man", "sim", "bogus"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("zfleet::man::no_such_command"), "{err}");
    assert!(
        err.contains("× there is no command `zfleet sim bogus`\n"),
        "{err}"
    );
    assert!(
        err.contains("help: pages exist for: midclt, serve, faults,"),
        "{err}"
    );
}

#[test]
fn man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_str().expect("utf-8");
    let (code, out, err) = zfleet(&["man", "--dir", path]);
    assert_eq!((code, err.as_str()), (0, ""));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(out, format!("{} pages written to {path}\n", names.len()));
    for page in [
        "zfleet.1",
        "zfleet-plan.1",
        "zfleet-graph.1",
        "zfleet-sim-advance.1",
    ] {
        assert!(names.iter().any(|n| n == page), "{page} not in {names:?}");
    }
    let plan = std::fs::read_to_string(dir.path().join("zfleet-plan.1")).expect("page");
    assert_eq!(plan, zfleet(&["man", "plan"]).1);

    let (code, _, err) = zfleet(&["man", "--dir", "/nonexistent/zfleet-man"]);
    assert_eq!(code, 1);
    assert!(err.contains("zfleet::man::write"), "{err}");
}

/// Each shell's script names every command and a flag of `plan`; bash's also parses.
#[test]
fn completions_for_every_shell() {
    for (shell, flag) in [
        ("bash", "--detailed-exitcode"),
        ("zsh", "--detailed-exitcode"),
        ("fish", "detailed-exitcode"),
        ("powershell", "--detailed-exitcode"),
        ("elvish", "--detailed-exitcode"),
    ] {
        let (code, script, err) = zfleet(&["completions", shell]);
        assert_eq!((code, err.as_str()), (0, ""), "{shell}");
        for word in ["plan", "apply", "graph", "man", flag] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    let (_, bash, _) = zfleet(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("zfleet.bash");
    std::fs::write(&file, bash).expect("write");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash runs");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

/// The words of a shell line that starts with `zfleet`, up to a redirection or the end
/// of the command.
fn zfleet_command(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    if !line.starts_with("zfleet ") && line != "zfleet" {
        return None;
    }
    let words = line
        .split_whitespace()
        .take_while(|w| {
            !(w.starts_with('>')
                || w.starts_with("2>")
                || w.starts_with('<')
                || *w == "|"
                || *w == "||"
                || *w == "&&"
                || *w == ";")
        })
        .map(|w| w.trim_matches('"').to_string())
        .collect();
    Some(words)
}

fn run_scripts(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("run", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => run_scripts(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| run_scripts(v, out)),
        _ => {}
    }
}

#[test]
fn the_ci_recipe_is_valid_yaml_and_its_zfleet_commands_exist() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/ci/github-actions.yml"
    );
    let text = std::fs::read_to_string(path).expect("examples/ci/github-actions.yml");
    let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("valid YAML");
    assert!(doc["jobs"]["plan"]["steps"].is_array(), "{doc}");
    assert!(doc["jobs"]["apply"]["steps"].is_array(), "{doc}");
    assert_eq!(doc["on"]["push"]["branches"], serde_json::json!(["main"]));
    assert!(doc["on"]["pull_request"].is_object(), "{doc}");

    let mut scripts = Vec::new();
    run_scripts(&doc, &mut scripts);
    let commands: Vec<Vec<String>> = scripts
        .iter()
        .flat_map(|s| s.lines())
        .filter_map(zfleet_command)
        .collect();
    for words in &commands {
        if let Err(e) = zfleet::cli::Cli::try_parse_from(words) {
            panic!("`{}` does not parse: {e}", words.join(" "));
        }
    }
    let used: Vec<String> = commands.iter().map(|w| w[1..].join(" ")).collect();
    assert_eq!(
        used,
        vec!["validate", "plan --detailed-exitcode", "apply --yes"],
        "the recipe's zfleet commands"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    assert!(
        readme.contains("](examples/ci/github-actions.yml)"),
        "the README links the recipe"
    );
}
