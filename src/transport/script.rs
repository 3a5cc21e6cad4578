//! One batch of `midclt` calls as one `sh -s` script, and its framed reply parsed back.
//!
//! The script runs every call in the background with stdout, stderr and exit code going to
//! files in a private temporary directory, waits, then prints each result as a header line
//! `BOUNDARY INDEX EXIT OUT_BYTES ERR_BYTES` followed by exactly those bytes, and a final
//! `BOUNDARY end` line. The parser reads by byte counts, so nothing a call prints (boundary
//! lookalikes, binary, missing newlines) can shift the frames; the random boundary only
//! anchors the first header past anything a login script may have printed.

use super::quote::quote;
use super::{MidcltCall, RawOutput, TransportError, TransportErrorKind};

/// Calls started at once on the system; each `midclt` is a Python process of its own, so a
/// large batch runs in waves rather than all together.
pub const REMOTE_PARALLEL: usize = 16;

/// Longest header line accepted (boundary + four numbers, with room to spare).
const MAX_HEADER: usize = 256;

/// A fresh random boundary, `ZFLEET-` and 32 hex digits.
pub fn new_boundary() -> Result<String, TransportError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| TransportError {
        kind: TransportErrorKind::Other,
        message: format!("no randomness for the reply boundary: {e}"),
    })?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("ZFLEET-{hex}"))
}

/// The `sh -s` script running `calls`, each argument JSON-encoded and single-quoted.
pub fn build(calls: &[MidcltCall], sudo: bool, boundary: &str) -> Result<String, TransportError> {
    let mut s = String::new();
    s.push_str("umask 077\n");
    s.push_str(&format!("B={boundary}\n"));
    s.push_str(
        "d=$(mktemp -d 2>/dev/null || mktemp -d -t zfleet) || \
         { echo 'zfleet: cannot create a temporary directory' >&2; exit 125; }\n",
    );
    s.push_str("trap 'rm -rf \"$d\"' EXIT\n");
    s.push_str("trap 'exit 129' HUP\ntrap 'exit 130' INT\ntrap 'exit 143' TERM\n");
    for (i, call) in calls.iter().enumerate() {
        if i > 0 && i % REMOTE_PARALLEL == 0 {
            s.push_str("wait\n");
        }
        s.push_str("{ ");
        if sudo {
            s.push_str("sudo -n ");
        }
        s.push_str("midclt call ");
        s.push_str(&quote_word(&call.method, &call.method)?);
        for arg in &call.args {
            let json = serde_json::to_string(arg).map_err(|e| TransportError {
                kind: TransportErrorKind::Other,
                message: format!("cannot encode an argument of {}: {e}", call.method),
            })?;
            s.push(' ');
            s.push_str(&quote_word(&json, &call.method)?);
        }
        s.push_str(&format!(
            " </dev/null >\"$d/{i}.o\" 2>\"$d/{i}.e\"; echo $? >\"$d/{i}.x\"; }} &\n"
        ));
    }
    s.push_str("wait\n");
    s.push_str(
        "f() { x=$(cat \"$d/$1.x\" 2>/dev/null); o=$(wc -c <\"$d/$1.o\"); \
         e=$(wc -c <\"$d/$1.e\"); printf '%s %s %s %s %s\\n' \"$B\" \"$1\" \"${x:-255}\" $o $e; \
         cat \"$d/$1.o\" \"$d/$1.e\"; }\n",
    );
    for i in 0..calls.len() {
        s.push_str(&format!("f {i}\n"));
    }
    s.push_str("printf '%s end\\n' \"$B\"\n");
    Ok(s)
}

fn quote_word(word: &str, method: &str) -> Result<String, TransportError> {
    quote(word).ok_or_else(|| TransportError {
        kind: TransportErrorKind::Other,
        message: format!("a call to {method} holds a NUL byte, which no command line can carry"),
    })
}

/// Why a reply could not be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The reply ended before every frame and the end line arrived.
    Truncated { complete: usize },
    /// The reply is not in the framed format at all.
    Malformed(String),
}

/// Reads `count` framed results out of the script's stdout, in call order.
pub fn parse(out: &[u8], boundary: &str, count: usize) -> Result<Vec<RawOutput>, FrameError> {
    let first = format!("{boundary} 0 ");
    let end_line = format!("{boundary} end\n");
    let start = if count == 0 {
        find_line_start(out, end_line.as_bytes())
    } else {
        find_line_start(out, first.as_bytes())
    };
    let Some(mut pos) = start else {
        return Err(if out.is_empty() {
            FrameError::Truncated { complete: 0 }
        } else {
            FrameError::Malformed("no result header in the reply".into())
        });
    };
    let mut results = Vec::with_capacity(count);
    for index in 0..count {
        let truncated = FrameError::Truncated { complete: index };
        let rest = out.get(pos..).ok_or(truncated.clone())?;
        let nl = rest
            .iter()
            .take(MAX_HEADER)
            .position(|&b| b == b'\n')
            .ok_or_else(|| {
                if rest.len() < MAX_HEADER {
                    truncated.clone()
                } else {
                    FrameError::Malformed(format!("header {index} too long"))
                }
            })?;
        let header = std::str::from_utf8(rest.get(..nl).unwrap_or_default())
            .map_err(|_| FrameError::Malformed(format!("header {index} is not text")))?;
        let (exit, out_len, err_len) = parse_header(header, boundary, index)?;
        let body = pos + nl + 1;
        // Lengths come from the wire: add them without overflow.
        let (Some(err_start), Some(end)) = (
            body.checked_add(out_len),
            body.checked_add(out_len)
                .and_then(|e| e.checked_add(err_len)),
        ) else {
            return Err(FrameError::Malformed(format!(
                "impossible lengths in header {index}"
            )));
        };
        let stdout = out.get(body..err_start).ok_or_else(|| truncated.clone())?;
        let stderr = out.get(err_start..end).ok_or_else(|| truncated.clone())?;
        results.push(RawOutput {
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
            exit,
        });
        pos = end;
    }
    let tail = out.get(pos..).unwrap_or_default();
    if tail.starts_with(end_line.as_bytes()) {
        Ok(results)
    } else if end_line.as_bytes().starts_with(tail) {
        Err(FrameError::Truncated { complete: count })
    } else {
        Err(FrameError::Malformed(
            "unexpected bytes after the last result".into(),
        ))
    }
}

/// `(exit, stdout bytes, stderr bytes)` from `BOUNDARY INDEX EXIT OUT ERR`.
fn parse_header(
    header: &str,
    boundary: &str,
    index: usize,
) -> Result<(i32, usize, usize), FrameError> {
    let bad = || FrameError::Malformed(format!("bad header for result {index}: {header:?}"));
    let fields: Vec<&str> = header.split(' ').collect();
    let [b, i, exit, out_len, err_len] = fields.as_slice() else {
        return Err(bad());
    };
    if *b != boundary || i.parse::<usize>().ok() != Some(index) {
        return Err(bad());
    }
    let exit = exit.trim().parse::<i32>().map_err(|_| bad())?;
    let out_len = out_len.parse::<usize>().map_err(|_| bad())?;
    let err_len = err_len.parse::<usize>().map_err(|_| bad())?;
    Ok((exit, out_len, err_len))
}

/// Offset of the first occurrence of `needle` at the start of `hay` or right after a newline.
fn find_line_start(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.starts_with(needle) {
        return Some(0);
    }
    hay.windows(needle.len() + 1)
        .position(|w| w.first() == Some(&b'\n') && w.get(1..) == Some(needle))
        .map(|p| p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const B: &str = "ZFLEET-0123456789abcdef0123456789abcdef";

    fn frame(index: usize, exit: i32, out: &[u8], err: &[u8]) -> Vec<u8> {
        let mut v = format!("{B} {index} {exit} {} {}\n", out.len(), err.len()).into_bytes();
        v.extend_from_slice(out);
        v.extend_from_slice(err);
        v
    }

    fn end() -> Vec<u8> {
        format!("{B} end\n").into_bytes()
    }

    #[test]
    fn parses_frames_in_order() {
        let mut reply = frame(0, 0, b"TrueNAS-25.10.1\n", b"");
        reply.extend(frame(1, 1, b"", b"[EINVAL] x.y: bad\n"));
        reply.extend(end());
        let got = parse(&reply, B, 2).expect("parses");
        assert_eq!(
            got,
            vec![
                RawOutput {
                    stdout: "TrueNAS-25.10.1\n".into(),
                    stderr: String::new(),
                    exit: 0
                },
                RawOutput {
                    stdout: String::new(),
                    stderr: "[EINVAL] x.y: bad\n".into(),
                    exit: 1
                },
            ]
        );
    }

    #[test]
    fn output_that_mimics_frames_stays_data() {
        let fake = format!("{B} 1 0 3 0\nabc\n{B} end\n");
        let mut reply = frame(0, 0, fake.as_bytes(), fake.as_bytes());
        reply.extend(frame(1, 7, b"no newline", b"\xff\xfe"));
        reply.extend(end());
        let got = parse(&reply, B, 2).expect("parses");
        assert_eq!(got[0].stdout, fake);
        assert_eq!(got[0].stderr, fake);
        assert_eq!(got[1].stdout, "no newline");
        assert_eq!(got[1].stderr, "\u{fffd}\u{fffd}");
        assert_eq!(got[1].exit, 7);
    }

    #[test]
    fn skips_login_noise_before_the_first_header() {
        let mut reply = b"Welcome to TrueNAS\n".to_vec();
        reply.extend(frame(0, 0, b"1\n", b""));
        reply.extend(end());
        assert_eq!(parse(&reply, B, 1).expect("parses")[0].stdout, "1\n");
    }

    #[test]
    fn truncation_is_reported_with_progress() {
        let mut reply = frame(0, 0, b"x", b"");
        reply.extend(frame(1, 0, b"abcdef", b""));
        reply.truncate(reply.len() - 2);
        assert_eq!(
            parse(&reply, B, 2),
            Err(FrameError::Truncated { complete: 1 })
        );
        let mut whole = frame(0, 0, b"x", b"");
        assert_eq!(
            parse(&whole, B, 1),
            Err(FrameError::Truncated { complete: 1 })
        );
        whole.extend(b"garbage\n");
        assert!(matches!(parse(&whole, B, 1), Err(FrameError::Malformed(_))));
        assert_eq!(parse(b"", B, 1), Err(FrameError::Truncated { complete: 0 }));
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let reply = format!("{B} 0 0 {} {}\n", usize::MAX, usize::MAX);
        assert!(matches!(
            parse(reply.as_bytes(), B, 1),
            Err(FrameError::Malformed(_))
        ));
        let reply = format!("{B} 0 0 {} 0\nabc", usize::MAX - 3);
        assert!(parse(reply.as_bytes(), B, 1).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_replies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), n in 0usize..4) {
            let mut reply = format!("{B} 0 ").into_bytes();
            reply.extend(bytes);
            let _ = parse(&reply, B, n);
        }

        #[test]
        fn framed_outputs_round_trip(outs in proptest::collection::vec((proptest::collection::vec(proptest::num::u8::ANY, 0..200), proptest::collection::vec(proptest::num::u8::ANY, 0..50), -1i32..300), 0..6)) {
            let mut reply = b"noise\n".to_vec();
            for (i, (o, e, x)) in outs.iter().enumerate() {
                reply.extend(frame(i, *x, o, e));
            }
            reply.extend(end());
            let got = parse(&reply, B, outs.len()).expect("parses");
            for ((o, e, x), r) in outs.iter().zip(&got) {
                proptest::prop_assert_eq!(&r.stdout, &String::from_utf8_lossy(o).into_owned());
                proptest::prop_assert_eq!(&r.stderr, &String::from_utf8_lossy(e).into_owned());
                proptest::prop_assert_eq!(r.exit, *x);
            }
        }
    }

    #[test]
    fn rejects_a_wrong_boundary_or_index() {
        let other = "ZFLEET-ffffffffffffffffffffffffffffffff";
        let reply = format!("{other} 0 0 0 0\n{other} end\n");
        assert!(matches!(
            parse(reply.as_bytes(), B, 1),
            Err(FrameError::Malformed(_))
        ));
        let mut reply = frame(0, 0, b"", b"");
        reply.extend(frame(5, 0, b"", b""));
        reply.extend(end());
        assert!(matches!(parse(&reply, B, 2), Err(FrameError::Malformed(_))));
    }

    #[test]
    fn script_quotes_every_argument_and_runs_in_waves() {
        let calls: Vec<MidcltCall> = (0..REMOTE_PARALLEL + 1)
            .map(|i| {
                MidcltCall::new(
                    "pool.dataset.query",
                    vec![json!([["id", "=", format!("it's {i}")]])],
                )
            })
            .collect();
        let script = build(&calls, true, B).expect("builds");
        assert!(script.contains(
            "{ sudo -n midclt call 'pool.dataset.query' '[[\"id\",\"=\",\"it'\\''s 0\"]]' </dev/null >\"$d/0.o\" 2>\"$d/0.e\"; echo $? >\"$d/0.x\"; } &\n"
        ));
        assert_eq!(script.matches("\nwait\n").count(), 2);
        assert!(!script.contains(" -j"));
    }

    #[test]
    fn the_script_runs_under_a_real_sh() {
        // A `midclt` that prints its JSON argument back, and one that fails: the script and
        // the parser agree on the frames.
        let dir = tempfile::tempdir().expect("tempdir");
        let midclt = dir.path().join("midclt");
        std::fs::write(
            &midclt,
            "#!/bin/sh\nshift 2\nif [ \"$1\" = '\"fail\"' ]; then echo oops >&2; exit 3; fi\nprintf '%s' \"$1\"\n",
        )
        .expect("write");
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&midclt)
            .status()
            .expect("chmod");
        let calls = vec![
            MidcltCall::new("a", vec![json!("x'y $z")]),
            MidcltCall::new("b", vec![json!("fail")]),
        ];
        let script = build(&calls, false, B).expect("builds");
        let mut child = std::process::Command::new("sh")
            .arg("-s")
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("runs");
        let got = parse(&out.stdout, B, 2).expect("parses");
        assert_eq!(got[0].stdout, "\"x'y $z\"");
        assert_eq!(got[0].exit, 0);
        assert_eq!(got[1].stderr, "oops\n");
        assert_eq!(got[1].exit, 3);
    }
}
