//! One batch of `midclt` calls as one `sh -s` script, and its framed reply parsed back.
//!
//! Nothing of a reply touches the system's disk: each call's output is held in a shell
//! variable (hex-encoded by `od`, so every byte survives) and printed as frames on stdout.
//! The calls of a wave run at once as the stages of one pipeline; each stage prints its own
//! frames and then copies the upstream stages' frames through, so frames never interleave.
//!
//! The script (`build`), every line as emitted; the lines marked fixed never change:
//!
//! ```text
//! {                                    fixed: parsed whole before anything runs
//! B=ZFLEET-<32 hex digits>             the reply boundary
//! T=<seconds>                          the time limit of one call, e.g. 90 or 1.5
//! <PROLOGUE>                           fixed: the lines of [`PROLOGUE`]
//! z 0 [sudo -n] midclt call 'METHOD' 'JSON'... </dev/null |
//! z 1 [sudo -n] midclt call 'METHOD' 'JSON'... &
//! wait $!                              one `z ... &` pipeline and `wait $!` per wave
//! <EPILOGUE>                           fixed: the lines of [`EPILOGUE`]
//! }
//! ```
//!
//! Each call is `z INDEX` and the command to run; the method and every argument are single
//! quoted (`'` written as `'\''`), so no shell parses user data. Waves hold at most
//! [`REMOTE_PARALLEL`] calls; the first call of a wave reads `</dev/null`, the last ends
//! with ` &`, the others with ` |` (a one-call wave: `z N ... </dev/null &`).
//!
//! The reply on stdout, after whatever a login script printed:
//!
//! ```text
//! BOUNDARY INDEX o       then `od -An -v -tx1` lines: the call's stdout, then `x`, its
//!                        exit status and a newline (124: `timeout` ended it after T)
//! BOUNDARY INDEX e       then `od` lines: the call's stderr
//! BOUNDARY INDEX done    the call's frames are whole
//! BOUNDARY end           once every wave is done
//! ```
//!
//! Frames come in any order. Hex lines never start with the boundary, so a frame ends at
//! the next header line. Remote processes are bounded twice: `timeout -k 5 T` ends each call
//! (with its children), and a watcher reading stdin, which zfleet never closes, sees EOF
//! when the channel closes (zfleet gave up, or the connection or sshd died) and sends TERM
//! to the shell, whose trap ends every process under it. When the shell itself is killed
//! with KILL, the calls still running end at their time limit.

use std::time::Duration;

use super::quote::quote;
use super::{MidcltCall, RawOutput, TransportError, TransportErrorKind};

/// Calls started at once on the system; each `midclt` is a Python process of its own, so a
/// large batch runs in waves rather than all together.
pub const REMOTE_PARALLEL: usize = 16;

/// Seconds `timeout` waits after its TERM before it sends KILL.
pub const REMOTE_KILL_AFTER: u64 = 5;

/// The fixed lines after `B=` and `T=`: the watcher (`w`), the time limit (`t`), the
/// cleanup (`k` lists a process tree parents first, so no stage outlives its call to print
/// a frame; `q` ends it on a signal) and one call as a pipeline stage (`z`).
pub const PROLOGUE: &str = r#"exec 3<&0
{ cat >/dev/null; kill -TERM $$; } <&3 >/dev/null 2>&1 &
w=$!
exec 3<&-
if command -v timeout >/dev/null 2>&1; then t() { timeout -k 5 "$T" "$@"; }; else t() { "$@"; }; fi
k() { echo "$1"; for c in $(pgrep -P "$1" 2>/dev/null); do k "$c"; done; }
q() { trap '' HUP INT PIPE TERM; kill -TERM $(for c in $(pgrep -P $$ 2>/dev/null); do k "$c"; done) "$w" 2>/dev/null; exit "$1"; }
trap 'q 129' HUP; trap 'q 130' INT; trap 'q 141' PIPE; trap 'q 143' TERM
z() (
i=$1; shift
exec 4>&1
e=$( { o=$( { t "$@" </dev/null 2>&3 3>&- 4>&-; echo "x$?"; } | od -An -v -tx1 ); printf '%s %s o\n%s\n' "$B" "$i" "$o" >&4; } 3>&1 | od -An -v -tx1 )
printf '%s %s e\n%s\n%s %s done\n' "$B" "$i" "$e" "$B" "$i"
exec cat
)
"#;

/// The fixed lines after the last wave.
pub const EPILOGUE: &str = "printf '%s end\\n' \"$B\"\nkill \"$w\" 2>/dev/null\nexit 0\n";

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

/// `timeout(1)`'s duration for `limit`: whole seconds, or seconds with milliseconds.
fn seconds(limit: Duration) -> String {
    let limit = limit.max(Duration::from_millis(1));
    if limit.subsec_millis() == 0 {
        limit.as_secs().to_string()
    } else {
        format!("{}.{:03}", limit.as_secs(), limit.subsec_millis())
    }
}

/// The `sh -s` script running `calls`, each ended on the system after `limit`.
pub fn build(
    calls: &[MidcltCall],
    sudo: bool,
    boundary: &str,
    limit: Duration,
) -> Result<String, TransportError> {
    let mut s = String::from("{\n");
    s.push_str(&format!("B={boundary}\nT={}\n", seconds(limit)));
    s.push_str(PROLOGUE);
    for wave in calls.chunks(REMOTE_PARALLEL).enumerate().map(|(w, c)| {
        c.iter()
            .enumerate()
            .map(move |(i, call)| (w * REMOTE_PARALLEL + i, call))
    }) {
        let mut wave = wave.peekable();
        let mut first = true;
        while let Some((index, call)) = wave.next() {
            s.push_str(&format!("z {index} "));
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
            // The first stage must not read the script's stdin (bash gives a background
            // pipeline no /dev/null of its own).
            if std::mem::take(&mut first) {
                s.push_str(" </dev/null");
            }
            s.push_str(if wave.peek().is_some() {
                " |\n"
            } else {
                " &\nwait $!\n"
            });
        }
    }
    s.push_str(EPILOGUE);
    s.push_str("}\n");
    Ok(s)
}

fn quote_word(word: &str, method: &str) -> Result<String, TransportError> {
    quote(word).ok_or_else(|| TransportError {
        kind: TransportErrorKind::Other,
        message: format!("a call to {method} holds a NUL byte, which no command line can carry"),
    })
}

/// What arrived of a reply: each call's result if both its frames came whole, and whether
/// the end line came (then every result is there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frames {
    pub results: Vec<Option<RawOutput>>,
    pub ended: bool,
}

impl Frames {
    /// How many calls answered.
    pub fn answered(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    /// Indices of the calls whose answer did not arrive.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.results.len())
            .filter(|&i| self.results[i].is_none())
            .collect()
    }
}

/// One frame being read: call index, stdout (`true`) or stderr, decoded bytes so far.
type Open = (usize, bool, Vec<u8>);

/// Reads the frames of `count` calls out of the script's stdout. A reply cut short is not
/// an error here (see [`Frames::ended`]); bytes that cannot be frames are.
pub fn parse(out: &[u8], boundary: &str, count: usize) -> Result<Frames, String> {
    let mut outs: Vec<Option<(Vec<u8>, i32)>> = vec![None; count];
    let mut errs: Vec<Option<Vec<u8>>> = vec![None; count];
    let prefix = format!("{boundary} ");
    // Only whole lines count: a last line without its newline may still be arriving.
    let whole = out.iter().filter(|&&b| b == b'\n').count();
    let lines = out
        .split(|&b| b == b'\n')
        .take(whole)
        .skip_while(|l| !l.starts_with(prefix.as_bytes()));
    let mut open: Option<Open> = None;
    let mut ended = false;
    let mut done = vec![false; count];
    for line in lines {
        if let Some(header) = line.strip_prefix(prefix.as_bytes()) {
            if let Some(frame) = open.take() {
                close_frame(frame, &mut outs, &mut errs)?;
            }
            if header == b"end" {
                ended = true;
                break;
            }
            if let Some(index) = header.strip_suffix(b" done") {
                let index = call_index(index, count)?;
                if outs[index].is_none() || errs[index].is_none() || done[index] {
                    return Err(format!("result {index} is not whole"));
                }
                done[index] = true;
                continue;
            }
            open = Some(open_frame(header, count, &outs, &errs)?);
        } else if let Some((_, _, bytes)) = open.as_mut() {
            decode_hex_line(line, bytes)?;
        }
    }
    let results: Vec<Option<RawOutput>> = outs
        .into_iter()
        .zip(errs)
        .zip(done)
        .map(|((o, e), done)| match (o, e) {
            (Some((stdout, exit)), Some(stderr)) if done => Some(RawOutput {
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
                exit,
            }),
            _ => None,
        })
        .collect();
    if ended && let Some(i) = results.iter().position(Option::is_none) {
        return Err(format!("the reply ended without result {i}"));
    }
    Ok(Frames { results, ended })
}

/// `INDEX o` / `INDEX e` (after the boundary) as a new, empty frame.
fn open_frame(
    header: &[u8],
    count: usize,
    outs: &[Option<(Vec<u8>, i32)>],
    errs: &[Option<Vec<u8>>],
) -> Result<Open, String> {
    let text = String::from_utf8_lossy(header);
    let bad = || format!("bad frame header {:?}", clip(&text));
    let (index, stream) = text.split_once(' ').ok_or_else(bad)?;
    let index = call_index(index.as_bytes(), count)?;
    let is_out = match stream {
        "o" => true,
        "e" => false,
        _ => return Err(bad()),
    };
    let seen = if is_out {
        outs[index].is_some()
    } else {
        errs[index].is_some()
    };
    if seen {
        return Err(format!("result {index} came twice"));
    }
    Ok((index, is_out, Vec::new()))
}

/// A call's index in a header: a number below `count`.
fn call_index(text: &[u8], count: usize) -> Result<usize, String> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|&i| i < count)
        .ok_or_else(|| {
            format!(
                "bad call index {:?} in a frame header",
                clip(&String::from_utf8_lossy(text))
            )
        })
}

/// Stores a finished frame; a stdout frame ends with `x`, the exit status and a newline.
fn close_frame(
    (index, is_out, bytes): Open,
    outs: &mut [Option<(Vec<u8>, i32)>],
    errs: &mut [Option<Vec<u8>>],
) -> Result<(), String> {
    if !is_out {
        errs[index] = Some(bytes);
        return Ok(());
    }
    let bad = || format!("result {index} has no exit status");
    let body = bytes.strip_suffix(b"\n").ok_or_else(bad)?;
    let x = body.iter().rposition(|&b| b == b'x').ok_or_else(bad)?;
    let exit = std::str::from_utf8(&body[x + 1..])
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        .ok_or_else(bad)?;
    outs[index] = Some((body[..x].to_vec(), exit));
    Ok(())
}

/// Appends the bytes of one `od -An -tx1` line (two-digit hex numbers between blanks).
fn decode_hex_line(line: &[u8], into: &mut Vec<u8>) -> Result<(), String> {
    for word in line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
    {
        let byte = match word {
            [hi, lo] => hex_digit(*hi).zip(hex_digit(*lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        into.push(byte.ok_or_else(|| {
            format!(
                "a line in a frame is not hex: {:?}",
                clip(&String::from_utf8_lossy(line))
            )
        })?);
    }
    Ok(())
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// At most 60 characters of text from the system, for a message.
fn clip(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    const B: &str = "ZFLEET-0123456789abcdef0123456789abcdef";

    /// `bytes` as `od -An -v -tx1` prints them (GNU spacing; `wide` for FreeBSD's).
    fn od(bytes: &[u8], wide: bool) -> String {
        let sep = if wide { "   " } else { " " };
        bytes
            .chunks(16)
            .map(|c| {
                let words: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
                format!("{sep}{}\n", words.join(sep))
            })
            .collect()
    }

    fn frames(index: usize, out: &[u8], err: &[u8], exit: i32) -> String {
        let mut o = out.to_vec();
        o.extend(format!("x{exit}\n").into_bytes());
        format!(
            "{B} {index} o\n{}{B} {index} e\n{}{B} {index} done\n",
            od(&o, index % 2 == 1),
            od(err, false)
        )
    }

    fn end() -> String {
        format!("{B} end\n")
    }

    fn raw(stdout: &str, stderr: &str, exit: i32) -> RawOutput {
        RawOutput {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit,
        }
    }

    #[test]
    fn parses_frames_in_any_order_after_login_noise() {
        let reply = format!(
            "Welcome to TrueNAS\n{}{}{}",
            frames(1, b"", b"[EINVAL] x.y: bad\n", 1),
            frames(0, b"TrueNAS-25.10.1\n", b"", 0),
            end()
        );
        let got = parse(reply.as_bytes(), B, 2).expect("parses");
        assert!(got.ended);
        assert_eq!(
            got.results,
            vec![
                Some(raw("TrueNAS-25.10.1\n", "", 0)),
                Some(raw("", "[EINVAL] x.y: bad\n", 1))
            ]
        );
    }

    #[test]
    fn output_that_mimics_frames_or_trailers_stays_data() {
        let fake = format!("{B} 1 o\n 78 30 0a\n{B} end\nx0\n");
        let reply = format!(
            "{}{}{}",
            frames(0, fake.as_bytes(), fake.as_bytes(), 7),
            frames(1, b"no newline x12", b"\xff\xfe\0", 0),
            end()
        );
        let got = parse(reply.as_bytes(), B, 2).expect("parses");
        assert_eq!(got.results[0], Some(raw(&fake, &fake, 7)));
        assert_eq!(
            got.results[1],
            Some(raw("no newline x12", "\u{fffd}\u{fffd}\0", 0))
        );
    }

    #[test]
    fn a_reply_cut_short_keeps_the_whole_results() {
        let whole = format!(
            "{}{}",
            frames(2, b"two", b"", 0),
            frames(0, b"zero", b"", 0)
        );
        let got = parse(whole.as_bytes(), B, 3).expect("parses");
        assert!(!got.ended);
        assert_eq!(got.results[2], Some(raw("two", "", 0)));
        assert_eq!(got.results[0], Some(raw("zero", "", 0)));
        assert_eq!(got.missing(), vec![1]);
        assert_eq!(got.answered(), 2);
        // A call counts once its `done` line is whole.
        let cut = &whole.as_bytes()[..whole.len() - 1];
        let got = parse(cut, B, 3).expect("parses");
        assert_eq!(got.missing(), vec![0, 1]);
        let got = parse(b"", B, 3).expect("empty");
        assert_eq!((got.answered(), got.ended), (0, false));
    }

    #[test]
    fn bytes_that_cannot_be_frames_are_refused() {
        let bad = |reply: String| parse(reply.as_bytes(), B, 2).expect_err("refused");
        assert!(bad(format!("{B} 0 o\nnot hex\n{}", end())).contains("not hex"));
        assert!(bad(format!("{B} 5 o\n{}", end())).contains("bad call index"));
        assert!(bad(format!("{B} 0 done\n{}", end())).contains("not whole"));
        assert!(bad(format!("{B} 0 x\n{}", end())).contains("bad frame header"));
        assert!(bad(format!("{B} 0 o\n 61\n{}", end())).contains("no exit status"));
        assert!(
            bad(format!(
                "{}{}{}",
                frames(0, b"", b"", 0),
                frames(0, b"", b"", 0),
                end()
            ))
            .contains("came twice")
        );
        assert!(bad(format!("{}{}", frames(0, b"", b"", 0), end())).contains("without result 1"));
        // Another batch's boundary is noise, not a frame.
        let other = "ZFLEET-ffffffffffffffffffffffffffffffff";
        let got = parse(format!("{other} 0 o\n 78 30 0a\n").as_bytes(), B, 1).expect("noise");
        assert_eq!(got.answered(), 0);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_replies_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512), n in 0usize..4) {
            let mut reply = format!("{B} 0 o\n").into_bytes();
            reply.extend(bytes);
            let _ = parse(&reply, B, n);
        }

        #[test]
        fn framed_outputs_round_trip(outs in proptest::collection::vec((proptest::collection::vec(proptest::num::u8::ANY, 0..200), proptest::collection::vec(proptest::num::u8::ANY, 0..50), -1i32..300), 0..6)) {
            let mut reply = "noise\n".to_string();
            for (i, (o, e, x)) in outs.iter().enumerate().rev() {
                reply.push_str(&frames(i, o, e, *x));
            }
            reply.push_str(&end());
            let got = parse(reply.as_bytes(), B, outs.len()).expect("parses");
            for ((o, e, x), r) in outs.iter().zip(&got.results) {
                let r = r.as_ref().expect("whole");
                proptest::prop_assert_eq!(&r.stdout, &String::from_utf8_lossy(o).into_owned());
                proptest::prop_assert_eq!(&r.stderr, &String::from_utf8_lossy(e).into_owned());
                proptest::prop_assert_eq!(r.exit, *x);
            }
        }
    }

    #[test]
    fn the_script_quotes_every_argument_and_runs_in_waves() {
        let calls: Vec<MidcltCall> = (0..REMOTE_PARALLEL + 1)
            .map(|i| {
                MidcltCall::new(
                    "pool.dataset.query",
                    vec![json!([["id", "=", format!("it's {i}")]])],
                )
            })
            .collect();
        let script = build(&calls, true, B, Duration::from_millis(1500)).expect("builds");
        assert!(script.starts_with(&format!("{{\nB={B}\nT=1.500\n{PROLOGUE}")));
        assert!(script.contains(
            "\nz 0 sudo -n midclt call 'pool.dataset.query' '[[\"id\",\"=\",\"it'\\''s 0\"]]' </dev/null |\n"
        ));
        assert!(script.contains("\"it'\\''s 15\"]]' &\nwait $!\nz 16 sudo -n midclt call "));
        assert!(script.ends_with(&format!(
            "\"it'\\''s 16\"]]' </dev/null &\nwait $!\n{EPILOGUE}}}\n"
        )));
        assert_eq!(script.matches("\nwait $!\n").count(), 2);
        assert!(!script.contains(" -j"));
        let plain = build(&calls[..1], false, B, Duration::from_secs(90)).expect("builds");
        assert!(plain.contains("\nT=90\n"));
        assert!(plain.contains("\nz 0 midclt call 'pool.dataset.query' "));
    }

    /// A directory holding a fake `midclt` and a `sh -s` running `script` with it on PATH.
    struct Remote {
        dir: tempfile::TempDir,
    }

    impl Remote {
        fn new(midclt: &str) -> Remote {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("midclt");
            std::fs::write(&path, midclt).expect("write");
            std::process::Command::new("chmod")
                .arg("+x")
                .arg(&path)
                .status()
                .expect("chmod");
            Remote { dir }
        }

        /// Starts `sh -s` with the script on stdin, which stays open until the child is
        /// dropped or `close_stdin` is called, as over SSH.
        fn start(&self, script: &str) -> std::process::Child {
            self.start_with("sh", script)
        }

        fn start_with(&self, shell: &str, script: &str) -> std::process::Child {
            use std::io::Write;
            let mut child = std::process::Command::new(shell)
                .arg("-s")
                .env(
                    "PATH",
                    format!("{}:/usr/bin:/bin", self.dir.path().display()),
                )
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("sh");
            child
                .stdin
                .as_mut()
                .expect("stdin")
                .write_all(script.as_bytes())
                .expect("write");
            child
        }

        /// Processes still running from this directory's `midclt`.
        fn running(&self) -> usize {
            let out = std::process::Command::new("pgrep")
                .arg("-f")
                .arg(self.dir.path())
                .output()
                .expect("pgrep");
            String::from_utf8_lossy(&out.stdout).lines().count()
        }
    }

    fn read_all(child: &mut std::process::Child) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        child
            .stdout
            .take()
            .expect("stdout")
            .read_to_end(&mut out)
            .expect("read");
        out
    }

    #[test]
    fn the_script_runs_under_a_real_sh() {
        // A `midclt` that prints its JSON argument back (NUL and all), one that fails, and
        // one that outlives the time limit.
        let remote = Remote::new(
            "#!/bin/sh\nshift 2\ncase \"$1\" in\n'\"fail\"') echo oops >&2; exit 3 ;;\n\
             '\"hang\"') sleep 30 ;;\n*) printf '%s\\0' \"$1\" ;;\nesac\n",
        );
        let calls = vec![
            MidcltCall::new("a", vec![json!("x'y $z")]),
            MidcltCall::new("b", vec![json!("fail")]),
            MidcltCall::new("c", vec![json!("hang")]),
        ];
        let script = build(&calls, false, B, Duration::from_millis(700)).expect("builds");
        // Debian's sh is dash; bash is another shell a system may have as sh.
        for shell in ["sh", "bash"] {
            if shell == "bash" && !Path::new("/bin/bash").exists() {
                continue;
            }
            let started = std::time::Instant::now();
            let mut child = remote.start_with(shell, &script);
            let out = read_all(&mut child);
            let status = child.wait().expect("exit");
            assert!(started.elapsed() < Duration::from_secs(10), "{shell}");
            assert_eq!(status.code(), Some(0), "{shell}");
            let got = parse(&out, B, 3).expect("parses");
            assert!(got.ended, "{shell}");
            assert_eq!(got.results[0], Some(raw("\"x'y $z\"\0", "", 0)));
            assert_eq!(got.results[1], Some(raw("", "oops\n", 3)));
            assert_eq!(got.results[2], Some(raw("", "", 124)));
            assert_eq!(remote.running(), 0, "{shell}: the hung call was ended");
        }
    }

    #[test]
    fn an_abandoned_script_ends_every_process_it_started() {
        let remote = Remote::new("#!/bin/sh\nsleep 30\n");
        let calls = vec![MidcltCall::new("a", vec![]), MidcltCall::new("b", vec![])];
        let script = build(&calls, false, B, Duration::from_secs(60)).expect("builds");
        let mut child = remote.start(&script);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while remote.running() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(remote.running(), 2, "both calls started");
        // The channel closes: stdin reaches EOF.
        drop(child.stdin.take());
        let out = read_all(&mut child);
        let status = child.wait().expect("exit");
        assert_eq!(status.code(), Some(143));
        assert_eq!(parse(&out, B, 2).expect("parses").answered(), 0);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while remote.running() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(remote.running(), 0, "no call left running");
    }
}
