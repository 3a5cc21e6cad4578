//! `ZFLEET_API_TRACE=FILE`: one JSON line per call, `{"system","method","params","ok","ms"}`,
//! with secrets replaced before anything is written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// What secrets are replaced with (a string, so redacted params still fit the schemas).
pub const REDACTED: &str = "********";

/// Keys whose string values are secrets wherever they appear in params.
const SECRET_KEYS: &[&str] = &[
    "private_key",
    "privatekey",
    "encryption_key",
    "password",
    "token",
    "otp_token",
    "api_key",
    "secret",
];

/// Serialises appends from concurrent systems so lines never interleave.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// Whether the one warning about an unwritable trace file was shown.
static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(Debug, Clone)]
pub struct Tracer {
    path: PathBuf,
}

impl Tracer {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Tracer { path: path.into() }
    }

    /// The tracer named by `ZFLEET_API_TRACE`, if set and non-empty.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os("ZFLEET_API_TRACE")?;
        if path.is_empty() {
            return None;
        }
        Some(Tracer::new(PathBuf::from(path)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. Tracing must never break a run: a write error is a warning, shown
    /// once.
    pub fn record(&self, system: &str, method: &str, params: &[Value], ok: bool, ms: u128) {
        let line = json!({
            "system": system,
            "method": method,
            "params": redact(&Value::Array(params.to_vec())),
            "ok": ok,
            "ms": ms as u64,
        });
        let mut text = line.to_string();
        text.push('\n');
        let _guard = WRITE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        // 0600 on creation: the trace shows what a fleet holds, even with secrets redacted.
        let written =
            crate::files::open_private(&self.path).and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written
            && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            let warning = crate::diag::Problem::warning(
                "zfleet::api::trace",
                format!("cannot write the API trace {}: {e}", self.path.display()),
            )
            .help("set ZFLEET_API_TRACE to a writable file, or unset it; the run goes on untraced");
            crate::progress::suspend(|| crate::cli::report(&[warning]));
        }
    }
}

/// A copy of `v` with every secret string replaced by [`REDACTED`].
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, val) in map {
                let secret = SECRET_KEYS.contains(&k.as_str()) && val.is_string();
                out.insert(
                    k.clone(),
                    if secret {
                        Value::String(REDACTED.into())
                    } else {
                        redact(val)
                    },
                );
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_nested_secrets_but_not_ids() {
        let params = json!([{"name": "k", "type": "SSH_KEY_PAIR",
            "attributes": {"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----x", "public_key": "ssh-ed25519 AAAA"}},
            {"attributes": {"private_key": 2}}, {"encryption_key": "deadbeef", "encryption_key_format": "HEX"}]);
        let r = redact(&params);
        assert_eq!(r[0]["attributes"]["private_key"], REDACTED);
        assert_eq!(r[0]["attributes"]["public_key"], "ssh-ed25519 AAAA");
        assert_eq!(r[1]["attributes"]["private_key"], 2);
        assert_eq!(r[2]["encryption_key"], REDACTED);
        assert_eq!(r[2]["encryption_key_format"], "HEX");
        assert!(!r.to_string().contains("BEGIN"));
    }

    #[test]
    fn writes_one_line_per_call() {
        let dir = tempfile::tempdir().expect("tmp");
        let t = Tracer::new(dir.path().join("trace.jsonl"));
        t.record("nas1", "replication.run", &[json!(5)], true, 12);
        t.record(
            "nas1",
            "user.update",
            &[json!(1), json!({"password": "hunter2"})],
            false,
            3,
        );
        let text = std::fs::read_to_string(t.path()).expect("read");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(
            lines[0],
            json!({"system": "nas1", "method": "replication.run", "params": [5], "ok": true, "ms": 12})
        );
        assert_eq!(lines[1]["params"][1]["password"], REDACTED);
        assert!(!text.contains("hunter2"));
    }
}
