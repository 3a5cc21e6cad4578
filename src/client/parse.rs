//! Reading what `midclt call` printed (truenas-api.md §1.4–1.5).
//!
//! Exit 0: stdout is JSON, except that Python prints `bool` as `True`/`False` and `str` raw.
//! Otherwise stderr holds either validation lines `[ERRNO] attribute: message` (no
//! traceback) or a reason line followed by a traceback.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::{ApiError, ValidationItem};
#[cfg(test)]
use super::shown::MAX_REASON;
use super::shown::clip;
use crate::transport::RawOutput;

/// A successful call's result, still as the text midclt printed (decoded on demand, straight
/// into the caller's type: large query results never go through an intermediate tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    text: String,
}

impl Reply {
    /// The result as JSON; a raw string result becomes a JSON string.
    pub fn value(&self) -> Value {
        match serde_json::from_str::<Value>(&self.text) {
            Ok(v) => v,
            // Raw `str` results (system.version, host key scans) are printed unquoted.
            Err(_) => Value::String(self.text.clone()),
        }
    }

    /// The result read as `T`. Error messages never quote values (results may hold secrets).
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_str(&self.text).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Syntax | Category::Eof => {
                    ApiError::Unparsable(format!("not JSON ({} bytes)", self.text.len()))
                }
                _ => ApiError::Unparsable(format!(
                    "unexpected shape: {}",
                    super::shown::shape_error(&e)
                )),
            }
        })
    }
}

/// Turns one midclt invocation's output into its result or the error it reports.
pub fn parse_output(raw: &RawOutput) -> Result<Value, ApiError> {
    parse_reply(raw).map(|r| r.value())
}

/// Like [`parse_output`], keeping a success as text.
pub fn parse_reply(raw: &RawOutput) -> Result<Reply, ApiError> {
    if raw.exit == 0 {
        return parse_stdout(&raw.stdout);
    }
    Err(parse_failure(raw))
}

fn parse_stdout(stdout: &str) -> Result<Reply, ApiError> {
    // midclt prints login failures on stdout and still exits 0.
    if let Some(reason) = stdout.strip_prefix("Failed to login:") {
        return Err(ApiError::LoginFailed(clip(reason.trim())));
    }
    // An exception the middleware client printed instead of a result.
    if let Some(error) = traceback_error(stdout) {
        return Err(error);
    }
    // `print()` adds one newline; a raw string result keeps its own inner newlines.
    let text = stdout.strip_suffix('\n').unwrap_or(stdout);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let text = match text {
        // Python prints bools as `True`/`False`.
        "True" => "true",
        "False" => "false",
        "" => return Err(ApiError::Unparsable("empty output".into())),
        t => t,
    };
    Ok(Reply {
        text: text.to_string(),
    })
}

/// A Python traceback: the middleware failed, and its last unindented line names the
/// exception (`KeyError: 'x'`).
fn traceback_error(text: &str) -> Option<ApiError> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    lines
        .clone()
        .any(|l| l.starts_with("Traceback (most recent call last)"))
        .then(|| {
            let exception = lines
                .rfind(|l| {
                    !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with("Traceback")
                })
                .unwrap_or("Traceback (most recent call last)");
            ApiError::CallFailed {
                errname: None,
                message: format!("the middleware failed: {}", clip(exception.trim())),
            }
        })
}

/// The shell found no `sudo` (dash: `sh: 1: sudo: not found`, bash: `... command not
/// found`), or `timeout(1)`, which starts each call on the system, could not run it (GNU:
/// `timeout: failed to run command 'sudo': No such file or directory`).
fn no_sudo(line: &str) -> bool {
    not_found(line, "sudo")
}

/// Whether `line` says that `command` was not found, by any shell or by `timeout(1)`.
fn not_found(line: &str, command: &str) -> bool {
    line.ends_with(&format!("{command}: not found"))
        || line.ends_with(&format!("{command}: command not found"))
        || (line.starts_with("timeout: ")
            && (line.contains(&format!("'{command}'")) || line.contains(&format!("({command})")))
            && line.ends_with("No such file or directory"))
}

fn parse_failure(raw: &RawOutput) -> ApiError {
    let lines: Vec<&str> = raw
        .stderr
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(first) = lines.first().copied() else {
        if raw.exit == 127 {
            return ApiError::NoMidclt("command not found".into());
        }
        return ApiError::CallFailed {
            errname: None,
            message: format!(
                "midclt exited with status {} and printed no error",
                raw.exit
            ),
        };
    };
    let first_trim = first.trim();

    if first_trim == "Call timeout" {
        return ApiError::Timeout;
    }
    if first_trim.starts_with("Failed to run middleware call") {
        return ApiError::MiddlewareDown;
    }
    if no_sudo(first_trim) {
        return ApiError::NoSudo(clip(first_trim));
    }
    if raw.exit == 127 || not_found(first_trim, "midclt") {
        return ApiError::NoMidclt(clip(first_trim));
    }
    if first_trim.starts_with("sudo:") {
        return ApiError::NotAuthorized(clip(first_trim));
    }
    if first_trim == "Method does not exist" || first_trim.starts_with("[ENOMETHOD]") {
        return ApiError::NoMethod(clip(first_trim));
    }
    if first_trim.starts_with("MatchNotFound") {
        return ApiError::NotFound(clip(first_trim));
    }
    if matches!(
        first_trim,
        "Not authenticated"
            | "Not authorized"
            | "[ENOTAUTHENTICATED] Not authenticated"
            | "[EACCES] Not authorized"
    ) {
        return ApiError::NotAuthorized(clip(first_trim));
    }

    let has_traceback = lines.iter().any(|l| l.starts_with("Traceback"));
    if !has_traceback {
        let items: Vec<ValidationItem> = lines.iter().filter_map(|l| validation_line(l)).collect();
        if !items.is_empty() && items.len() == lines.len() {
            return ApiError::Validation(items);
        }
    }

    // argparse usage errors (exit 2) name the problem on the `error:` line.
    if raw.exit == 2
        && let Some(line) = lines.iter().find(|l| l.contains(": error: "))
    {
        return ApiError::CallFailed {
            errname: None,
            message: clip(line.trim()),
        };
    }

    match split_errname(first_trim) {
        Some((errname, message)) => ApiError::CallFailed {
            errname: Some(errname.to_string()),
            message: clip(message),
        },
        None => ApiError::CallFailed {
            errname: None,
            message: clip(first_trim),
        },
    }
}

/// `[EINVAL] periodic_snapshot_create.dataset: Dataset not found`
fn validation_line(line: &str) -> Option<ValidationItem> {
    let (errname, rest) = split_errname(line)?;
    let (attr, message) = rest.split_once(": ")?;
    if attr.is_empty() || attr.contains(char::is_whitespace) {
        return None;
    }
    Some(ValidationItem {
        errname: errname.to_string(),
        attribute: (attr != "ALL").then(|| clip(attr)),
        message: clip(message),
    })
}

/// `[EFAULT] Task is not enabled` → (`EFAULT`, `Task is not enabled`).
fn split_errname(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('[')?;
    let (name, rest) = rest.split_once("] ")?;
    let valid = name.starts_with('E')
        && name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    valid.then_some((name, rest))
}

/// `{"$date": ms}` → UTC time (midclt's encoding of Python datetimes).
pub fn ejson_date(v: &Value) -> Option<DateTime<Utc>> {
    let ms = v.get("$date")?;
    let ms = ms.as_i64().or_else(|| ms.as_f64().map(|f| f as i64))?;
    DateTime::<Utc>::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str, stderr: &str, exit: i32) -> RawOutput {
        RawOutput {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit,
        }
    }

    fn examples() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/truenas-api/examples/api-messages.json"
        );
        let text = std::fs::read_to_string(path).expect("api-messages.json");
        serde_json::from_str(&text).expect("json")
    }

    #[test]
    fn scalar_renderings() {
        assert_eq!(parse_output(&out("True\n", "", 0)), Ok(Value::Bool(true)));
        assert_eq!(parse_output(&out("False\n", "", 0)), Ok(Value::Bool(false)));
        assert_eq!(parse_output(&out("4711\n", "", 0)), Ok(Value::from(4711)));
        assert_eq!(parse_output(&out("null\n", "", 0)), Ok(Value::Null));
        assert_eq!(
            parse_output(&out("TrueNAS-25.10.1\n", "", 0)),
            Ok(Value::String("TrueNAS-25.10.1".into()))
        );
        let scan = "ssh-rsa AAAAB3\necdsa-sha2-nistp256 AAAAE2\nssh-ed25519 AAAAC3\n";
        assert_eq!(
            parse_output(&out(scan, "", 0)),
            Ok(Value::String(scan.trim_end().into()))
        );
        assert_eq!(
            parse_output(&out("[{\"id\": 1, \"enable\": true}]\n", "", 0)),
            Ok(serde_json::json!([{"id": 1, "enable": true}]))
        );
        assert!(matches!(
            parse_output(&out("", "", 0)),
            Err(ApiError::Unparsable(_))
        ));
    }

    #[test]
    fn example_renderings() {
        let ex = examples();
        let s = |k: &str| ex[k].as_str().expect(k).to_string();
        assert_eq!(
            parse_output(&out(&s("midclt_stdout_delete"), "", 0)),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            parse_output(&out(&s("midclt_stdout_job_method_without_j"), "", 0)),
            Ok(Value::from(4711))
        );
        assert_eq!(
            parse_output(&out("", &s("midclt_stderr_validation"), 1)),
            Err(ApiError::Validation(vec![ValidationItem {
                errname: "EINVAL".into(),
                attribute: Some("periodic_snapshot_create.dataset".into()),
                message: "Dataset not found".into(),
            }]))
        );
        assert_eq!(
            parse_output(&out("", &s("midclt_stderr_not_found"), 1)),
            Err(ApiError::Validation(vec![ValidationItem {
                errname: "ENOENT".into(),
                attribute: None,
                message: "Replication 9 does not exist".into(),
            }]))
        );
        assert_eq!(
            parse_output(&out("", &s("midclt_stderr_call_error"), 1)),
            Err(ApiError::CallFailed {
                errname: Some("EFAULT".into()),
                message: "Task is not enabled".into()
            })
        );
    }

    #[test]
    fn every_example_result_parses_to_its_json() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/truenas-api/examples"
        );
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("examples dir") {
            let path = entry.expect("entry").path();
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
            let Some(result) = v.get("result") else {
                continue;
            };
            // midclt prints one line of json.dumps output.
            let printed = format!("{}\n", serde_json::to_string(result).expect("dump"));
            assert_eq!(
                parse_output(&out(&printed, "", 0)).as_ref(),
                Ok(result),
                "{path:?}"
            );
            n += 1;
        }
        assert!(n >= 8, "only {n} examples");
    }

    #[test]
    fn error_renderings() {
        let cases: Vec<(&str, i32, ApiError)> = vec![
            ("Call timeout\n", 1, ApiError::Timeout),
            (
                "Failed to run middleware call. Daemon not running?\n",
                1,
                ApiError::MiddlewareDown,
            ),
            (
                "Method does not exist\n",
                1,
                ApiError::NoMethod("Method does not exist".into()),
            ),
            (
                "[ENOMETHOD] Method 'snapshot' not found in 'pool'\nTraceback (most recent call last):\n  File x\n",
                1,
                ApiError::NoMethod("[ENOMETHOD] Method 'snapshot' not found in 'pool'".into()),
            ),
            (
                "MatchNotFound()\nTraceback (most recent call last):\n  ...\n",
                1,
                ApiError::NotFound("MatchNotFound()".into()),
            ),
            (
                "[ENOTAUTHENTICATED] Not authenticated\nTraceback (most recent call last):\n",
                1,
                ApiError::NotAuthorized("[ENOTAUTHENTICATED] Not authenticated".into()),
            ),
            (
                "Not authorized\n",
                1,
                ApiError::NotAuthorized("Not authorized".into()),
            ),
            (
                "[EACCES] Not authorized\nTraceback (most recent call last):\n",
                1,
                ApiError::NotAuthorized("[EACCES] Not authorized".into()),
            ),
            (
                "sudo: a password is required\n",
                1,
                ApiError::NotAuthorized("sudo: a password is required".into()),
            ),
            (
                "sh: 1: midclt: not found\n",
                127,
                ApiError::NoMidclt("sh: 1: midclt: not found".into()),
            ),
            (
                "sh: 1: sudo: not found\n",
                127,
                ApiError::NoSudo("sh: 1: sudo: not found".into()),
            ),
            (
                "bash: line 1: sudo: command not found\n",
                127,
                ApiError::NoSudo("bash: line 1: sudo: command not found".into()),
            ),
            (
                "timeout: failed to run command 'sudo': No such file or directory\n",
                127,
                ApiError::NoSudo(
                    "timeout: failed to run command 'sudo': No such file or directory".into(),
                ),
            ),
            (
                "timeout: failed to run command 'midclt': No such file or directory\n",
                127,
                ApiError::NoMidclt(
                    "timeout: failed to run command 'midclt': No such file or directory".into(),
                ),
            ),
            (
                "usage: midclt call ...\nmidclt call: error: argument -j/--job: ignored explicit argument 'ob'\n",
                2,
                ApiError::CallFailed {
                    errname: None,
                    message:
                        "midclt call: error: argument -j/--job: ignored explicit argument 'ob'"
                            .into(),
                },
            ),
            (
                "[EFAULT] Too many arguments (expected 1, found 2)\nTraceback (most recent call last):\n",
                1,
                ApiError::CallFailed {
                    errname: Some("EFAULT".into()),
                    message: "Too many arguments (expected 1, found 2)".into(),
                },
            ),
            (
                "",
                1,
                ApiError::CallFailed {
                    errname: None,
                    message: "midclt exited with status 1 and printed no error".into(),
                },
            ),
        ];
        for (stderr, exit, want) in cases {
            assert_eq!(
                parse_output(&out("", stderr, exit)),
                Err(want),
                "{stderr:?}"
            );
        }
        assert_eq!(
            parse_output(&out("Failed to login:  Invalid credentials\n", "", 0)),
            Err(ApiError::LoginFailed("Invalid credentials".into()))
        );
    }

    #[test]
    fn several_validation_lines_in_order() {
        let stderr = "[EINVAL] replication_create.name: Object with this name already exists\n\
                      [EINVAL] replication_create.auto: Push replication that runs automatically must be either bound to a periodic snapshot task or have a schedule\n";
        let Err(ApiError::Validation(items)) = parse_output(&out("", stderr, 1)) else {
            panic!("not validation");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1].attribute.as_deref(),
            Some("replication_create.auto")
        );
    }

    #[test]
    fn a_call_error_with_colon_and_traceback_is_not_validation() {
        let stderr = "[EFAULT] Failed to snapshot tank/a@x: dataset already exists\nTraceback (most recent call last):\n  ...\n";
        assert_eq!(
            parse_output(&out("", stderr, 1)),
            Err(ApiError::CallFailed {
                errname: Some("EFAULT".into()),
                message: "Failed to snapshot tank/a@x: dataset already exists".into()
            })
        );
    }

    #[test]
    fn hostile_output_is_bounded_and_never_panics() {
        let long = "x".repeat(100_000);
        let Err(ApiError::CallFailed { message, .. }) = parse_output(&out("", &long, 1)) else {
            panic!()
        };
        assert!(message.chars().count() <= MAX_REASON + 1);
        for s in [
            "[",
            "[E",
            "[E] ",
            "[EINVAL]",
            "[EINVAL] :",
            "\u{0}\u{1b}[31m",
            "]]]]",
        ] {
            let _ = parse_output(&out(s, s, 0));
            let _ = parse_output(&out(s, s, 1));
        }
    }

    #[test]
    fn a_traceback_on_stdout_is_a_middleware_failure() {
        let stdout = "Traceback (most recent call last):\n  File \"/usr/bin/midclt\", line 8, in <module>\n    sys.exit(main())\nKeyError: 'version'\n";
        assert_eq!(
            parse_output(&out(stdout, "", 0)),
            Err(ApiError::CallFailed {
                errname: None,
                message: "the middleware failed: KeyError: 'version'".into()
            })
        );
    }

    #[test]
    fn dates() {
        let d = ejson_date(&serde_json::json!({"$date": 1761829204000_i64})).expect("date");
        assert_eq!(d.to_rfc3339(), "2025-10-30T13:00:04+00:00");
        assert_eq!(ejson_date(&serde_json::json!({"date": 1})), None);
    }
}
