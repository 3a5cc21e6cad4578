//! What `zfleet sim serve` agrees to run, read without any shell.
//!
//! An exec request is split into words by POSIX quoting rules alone (single quotes, double
//! quotes, backslash) with no expansion of any kind; anything a shell would treat as an
//! operator, expansion or glob is refused. Two forms are accepted: `[sudo -n] midclt ARGS...`
//! and `sh -s` with one of zfleet's batch scripts on stdin. A batch is accepted only if
//! rebuilding it from the calls found in it gives back the very same bytes, so no other
//! script can pass for one.

use crate::transport::MidcltCall;
use crate::transport::script;

/// What an exec request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `midclt ARGS...` (or `sudo -n midclt ARGS...`): `argv` is what follows `midclt`.
    Midclt { sudo: bool, argv: Vec<String> },
    /// `sh -s`: a zfleet batch follows on stdin.
    Batch,
}

/// Why something is not run: the text names what was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub what: String,
}

impl Refusal {
    pub fn command(command: &str) -> Refusal {
        Refusal {
            what: format!("`{}`", printable(command)),
        }
    }

    pub fn shell() -> Refusal {
        Refusal {
            what: "an interactive shell".into(),
        }
    }

    pub fn subsystem(name: &str) -> Refusal {
        Refusal {
            what: format!("the `{}` subsystem", printable(name)),
        }
    }

    fn script(detail: &str) -> Refusal {
        Refusal {
            what: format!("an `sh -s` script that is not one of zfleet's batches ({detail})"),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "zfleet sim serve runs only midclt and zfleet's batches; {} refused",
            self.what
        )
    }
}

/// Exit status of a refused request (a shell's "cannot execute").
pub const REFUSED_EXIT: u32 = 126;

/// Longest command echoed back in a refusal.
const SHOWN: usize = 80;

/// `s` with control characters escaped and cut to [`SHOWN`] characters, for messages.
fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(SHOWN)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().count() > SHOWN {
        out.push('…');
    }
    out
}

/// Reads an exec request's command line.
pub fn classify(command: &str) -> Result<Request, Refusal> {
    let words = split_words(command).ok_or_else(|| Refusal::command(command))?;
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let midclt = |sudo: bool, rest: &[&str]| Request::Midclt {
        sudo,
        argv: rest.iter().map(|w| w.to_string()).collect(),
    };
    match words.as_slice() {
        ["sh", "-s"] => Ok(Request::Batch),
        ["midclt", rest @ ..] => Ok(midclt(false, rest)),
        ["sudo", "-n", "midclt", rest @ ..] => Ok(midclt(true, rest)),
        _ => Err(Refusal::command(command)),
    }
}

/// Splits a command line into words by POSIX quoting alone; `None` if it holds anything a
/// shell would expand, redirect, glob or treat as an operator, or an unclosed quote.
pub fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word may be empty but quoted (`''`): track that one was started.
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            '\'' => {
                started = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                started = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => match chars.next()? {
                            '\n' => return None,
                            c @ ('$' | '`' | '"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => return None,
                c => {
                    started = true;
                    word.push(c);
                }
            },
            // Operators, expansions, globs, comments, history, and line breaks.
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | ']' | '{'
            | '}' | '~' | '#' | '!' => return None,
            c if c.is_control() => return None,
            c => {
                started = true;
                word.push(c);
            }
        }
    }
    if started {
        words.push(word);
    }
    Some(words)
}

/// A batch read back from its script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub boundary: String,
    pub sudo: bool,
    /// The time limit of one call (`T=`).
    pub limit: std::time::Duration,
    /// Each call as `midclt` receives it: `call METHOD JSON...`.
    pub argvs: Vec<Vec<String>>,
}

/// Reads a batch script as [`script::build`] writes it; anything else is refused.
pub fn parse_batch(script_bytes: &[u8]) -> Result<Batch, Refusal> {
    let text = std::str::from_utf8(script_bytes).map_err(|_| Refusal::script("not text"))?;
    let boundary = text
        .lines()
        .find_map(|l| l.strip_prefix("B="))
        .ok_or_else(|| Refusal::script("no `B=` boundary line"))?
        .to_string();
    let limit = text
        .lines()
        .find_map(|l| l.strip_prefix("T="))
        .and_then(limit_of)
        .ok_or_else(|| Refusal::script("no `T=` time limit line"))?;
    let mut sudo = None;
    let mut calls = Vec::new();
    let mut argvs = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find("midclt call ") else {
            continue;
        };
        let with_sudo = line
            .get(..at)
            .is_some_and(|before| before.ends_with("sudo -n "));
        if *sudo.get_or_insert(with_sudo) != with_sudo {
            return Err(Refusal::script("sudo on some calls only"));
        }
        let words = quoted_words(line.get(at + "midclt call ".len()..).unwrap_or_default())
            .ok_or_else(|| Refusal::script("a call's words are not single-quoted"))?;
        let Some((method, args)) = words.split_first() else {
            return Err(Refusal::script("a call without a method"));
        };
        let values = args
            .iter()
            .map(|a| serde_json::from_str(a))
            .collect::<Result<Vec<serde_json::Value>, _>>()
            .map_err(|_| Refusal::script("an argument is not JSON"))?;
        calls.push(MidcltCall::new(method.clone(), values));
        let mut argv = vec!["call".to_string()];
        argv.extend(words);
        argvs.push(argv);
    }
    let sudo = sudo.unwrap_or(false);
    // The decisive check: the same calls must give back the very same script.
    let rebuilt = script::build(&calls, sudo, &boundary, limit)
        .map_err(|_| Refusal::script("its calls cannot be rebuilt"))?;
    if rebuilt != text {
        return Err(Refusal::script("it differs from what zfleet sends"));
    }
    Ok(Batch {
        boundary,
        sudo,
        limit,
        argvs,
    })
}

/// `T=`'s value: whole seconds (`90`) or seconds with milliseconds (`1.500`).
fn limit_of(text: &str) -> Option<std::time::Duration> {
    let (secs, millis) = match text.split_once('.') {
        Some((s, m)) if m.len() == 3 => (s, m.parse::<u64>().ok()?),
        Some(_) => return None,
        None => (text, 0),
    };
    let secs: u64 = secs.parse().ok()?;
    Some(std::time::Duration::from_secs(secs) + std::time::Duration::from_millis(millis))
}

/// Whether `bytes` hold a whole batch script: zfleet never closes stdin (its end tells the
/// script that zfleet has gone), so the script is whole at its closing `}` line.
pub fn script_is_whole(bytes: &[u8]) -> bool {
    bytes.starts_with(b"{\n") && bytes.ends_with(b"\n}\n")
}

/// The single-quoted words (`'...'`, a `'` inside written `'\''`) at the start of `s`,
/// separated by single spaces, up to the first thing that is not one.
fn quoted_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut rest = s;
    while let Some(body) = rest.strip_prefix('\'') {
        let mut word = String::new();
        let mut tail = body;
        loop {
            let end = tail.find('\'')?;
            word.push_str(tail.get(..end)?);
            tail = tail.get(end + 1..)?;
            match tail.strip_prefix("\\''") {
                Some(after) => {
                    word.push('\'');
                    tail = after;
                }
                None => break,
            }
        }
        words.push(word);
        match tail.strip_prefix(' ') {
            Some(after) => rest = after,
            None => break,
        }
    }
    Some(words)
}

/// One call's result as the batch prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit: i32,
}

/// What the batch script prints on stdout for these results, byte for byte: per call an
/// `o` frame (stdout, then `x`, the exit status and a newline, as `od -An -v -tx1` lines), an
/// `e` frame (stderr) and a `done` line; then the end line. In a wave the calls are the
/// stages of one pipeline, each printing its own frames before passing on the earlier
/// stages', so a wave's frames come last call first.
pub fn frames(boundary: &str, results: &[CallResult]) -> Vec<u8> {
    let mut out = Vec::new();
    let indexed: Vec<(usize, &CallResult)> = results.iter().enumerate().collect();
    for wave in indexed.chunks(script::REMOTE_PARALLEL) {
        for (i, r) in wave.iter().rev() {
            let mut stdout = r.stdout.clone();
            stdout.extend_from_slice(format!("x{}\n", r.exit).as_bytes());
            out.extend_from_slice(format!("{boundary} {i} o\n{}\n", od(&stdout)).as_bytes());
            out.extend_from_slice(
                format!("{boundary} {i} e\n{}\n{boundary} {i} done\n", od(&r.stderr)).as_bytes(),
            );
        }
    }
    out.extend_from_slice(format!("{boundary} end\n").as_bytes());
    out
}

/// `od -An -v -tx1` of `bytes` as a command substitution keeps it: 16 bytes a line, each
/// as a space and two hex digits, without the last newline.
fn od(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| line.iter().map(|b| format!(" {b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const B: &str = "ZFLEET-0123456789abcdef0123456789abcdef";
    const LIMIT: std::time::Duration = std::time::Duration::from_millis(1500);

    fn words(s: &str) -> Option<Vec<String>> {
        split_words(s)
    }

    #[test]
    fn quoting_without_expansion() {
        assert_eq!(
            words(r#"midclt call 'a b' "c d" e\ f '' "x\"y" 'it'\''s'"#),
            Some(
                ["midclt", "call", "a b", "c d", "e f", "", "x\"y", "it's"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(words("  "), Some(vec![]));
        assert_eq!(words(r#""a\b""#), Some(vec![r"a\b".to_string()]));
        assert_eq!(words("'$HOME; `id`'"), Some(vec!["$HOME; `id`".into()]));
    }

    #[test]
    fn operators_expansions_and_globs_are_refused() {
        for bad in [
            "midclt call a; ls",
            "midclt call a | cat",
            "midclt call a && ls",
            "midclt call a > /tmp/x",
            "midclt call a < /etc/passwd",
            "midclt call $(id)",
            "midclt call `id`",
            "midclt call \"$HOME\"",
            "midclt call \"`id`\"",
            "midclt call $HOME",
            "midclt call *",
            "midclt call ~root",
            "midclt call a\nls",
            "midclt call 'unclosed",
            "midclt call \"unclosed",
            "midclt call a\\",
            "midclt call (a)",
            "midclt call a # comment",
        ] {
            assert_eq!(words(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_midclt_and_sh_s_are_requests() {
        assert_eq!(
            classify("midclt call system.version"),
            Ok(Request::Midclt {
                sudo: false,
                argv: vec!["call".into(), "system.version".into()]
            })
        );
        assert_eq!(
            classify("sudo -n midclt -t 60 call core.ping"),
            Ok(Request::Midclt {
                sudo: true,
                argv: ["-t", "60", "call", "core.ping"].map(String::from).to_vec()
            })
        );
        assert_eq!(classify("sh -s"), Ok(Request::Batch));
        for bad in [
            "ls /",
            "cat /etc/passwd",
            "sh",
            "sh -c 'midclt call core.ping'",
            "bash -s",
            "PATH=/tmp midclt call core.ping",
            "env midclt call core.ping",
            "/tmp/midclt call core.ping",
            "sudo midclt call core.ping",
            "sudo -n ls",
            "",
        ] {
            assert!(classify(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refusals_name_the_command_printably() {
        let r = classify("ls /").unwrap_err();
        assert_eq!(
            r.to_string(),
            "zfleet sim serve runs only midclt and zfleet's batches; `ls /` refused"
        );
        let r = classify(&format!("echo\x1b[31m{}", "x".repeat(200))).unwrap_err();
        assert!(r.what.starts_with("`echo\\u{1b}[31mxxx"), "{}", r.what);
        assert!(r.what.ends_with("x…`"), "{}", r.what);
    }

    fn calls() -> Vec<MidcltCall> {
        vec![
            MidcltCall::new("system.version", vec![]),
            MidcltCall::new(
                "pool.dataset.query",
                vec![json!([["id", "=", "it's $(id) `x`\n"]]), json!({"a": 1.5})],
            ),
        ]
    }

    #[test]
    fn zfleet_batches_are_read_back() {
        for sudo in [false, true] {
            let script = script::build(&calls(), sudo, B, LIMIT).unwrap();
            let batch = parse_batch(script.as_bytes()).unwrap();
            assert_eq!(batch.boundary, B);
            assert_eq!(batch.sudo, sudo);
            assert_eq!(batch.limit, LIMIT);
            assert!(script_is_whole(script.as_bytes()));
            assert!(!script_is_whole(&script.as_bytes()[..script.len() - 2]));
            assert_eq!(
                batch.argvs,
                vec![
                    vec!["call".to_string(), "system.version".into()],
                    vec![
                        "call".to_string(),
                        "pool.dataset.query".into(),
                        r#"[["id","=","it's $(id) `x`\n"]]"#.into(),
                        r#"{"a":1.5}"#.into()
                    ],
                ]
            );
        }
        let empty = script::build(&[], false, B, LIMIT).unwrap();
        assert_eq!(parse_batch(empty.as_bytes()).unwrap().argvs.len(), 0);
    }

    #[test]
    fn anything_else_on_sh_s_is_refused() {
        let script = script::build(&calls(), false, B, LIMIT).unwrap();
        let tampered = [
            format!("{script}ls /\n"),
            format!("ls /\n{script}"),
            script.replace("T=1.500", "T=$(id)"),
            script.replace("</dev/null", "</etc/passwd"),
            script.replace("'system.version'", "'system.version'; id"),
            script.replace("'system.version'", "system.version"),
            script.replace("exec cat", "exec cat /etc/passwd"),
            "midclt call core.ping\n".into(),
            "set -e\nv=$(midclt call system.version)\n".into(),
            String::new(),
        ];
        for t in tampered {
            let r = parse_batch(t.as_bytes()).unwrap_err();
            assert!(r.what.contains("not one of zfleet's batches"), "{t}");
        }
        assert!(parse_batch(b"\xff\xfe").is_err());
    }

    #[test]
    fn frames_parse_back_with_the_clients_parser() {
        let results = vec![
            CallResult {
                stdout: b"TrueNAS-25.10.1\n".to_vec(),
                stderr: vec![],
                exit: 0,
            },
            CallResult {
                stdout: vec![],
                stderr: b"[EINVAL] x: bad\n".to_vec(),
                exit: 1,
            },
        ];
        let out = frames(B, &results);
        let got = script::parse(&out, B, 2).unwrap();
        assert!(got.ended);
        let first = got.results[0].clone().unwrap();
        let second = got.results[1].clone().unwrap();
        assert_eq!(first.stdout, "TrueNAS-25.10.1\n");
        assert_eq!(
            (second.stderr.as_str(), second.exit),
            ("[EINVAL] x: bad\n", 1)
        );
        assert_eq!(frames(B, &[]), format!("{B} end\n").into_bytes());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_scripts_and_commands_never_panic(s in "\\PC{0,200}") {
            let _ = parse_batch(s.as_bytes());
            let _ = classify(&s);
        }
    }
}
