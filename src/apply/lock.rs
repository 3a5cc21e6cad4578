//! The apply lock of a system, kept on the system itself so that applies from different
//! machines respect it: the ZFS user property `zfleet:lock` on the system's first pool
//! (by name), holding who took it and when. ZFS has no compare-and-swap for properties, so
//! taking it is read → write → wait → read back: of two applies that wrote, only the one
//! whose mark is still there after the wait goes on. A lock older than [`STALE_AFTER`] is
//! taken over with a note; `zfleet apply --break-lock` removes any lock first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Client;
use crate::transport::{MidcltCall, Runner};

pub const KEY: &str = "zfleet:lock";

/// A lock untouched this long belongs to an apply that died.
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// What the property holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub token: String,
    pub host: String,
    pub pid: u32,
    pub project: String,
    /// Unix seconds.
    pub since: u64,
}

impl Holder {
    pub fn new(project: &str) -> Holder {
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        Holder {
            token: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            host: local_host(),
            pid: std::process::id(),
            project: project.to_string(),
            since: now(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "an apply of project {} on {} (pid {}) since {}",
            self.project,
            self.host,
            self.pid,
            chrono::DateTime::from_timestamp(self.since as i64, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| self.since.to_string())
        )
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn local_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown host".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn read_call(ds: &str) -> MidcltCall {
    MidcltCall::new(
        "pool.dataset.query",
        vec![
            json!([["id", "=", ds]]),
            json!({"select": ["id", "user_properties"]}),
        ],
    )
}

fn write_call(ds: &str, value: Option<&Holder>) -> MidcltCall {
    let item = match value {
        Some(h) => json!({"key": KEY, "value": serde_json::to_string(h).unwrap_or_default()}),
        None => json!({"key": KEY, "remove": true}),
    };
    MidcltCall::new(
        "pool.dataset.update",
        vec![json!(ds), json!({"user_properties_update": [item]})],
    )
}

async fn current<R: Runner>(client: &Client<R>, ds: &str) -> Result<Option<Holder>, String> {
    let call = read_call(ds);
    let v = client
        .call(&call.method, call.args)
        .await
        .map_err(|e| e.to_string())?;
    let prop = v
        .get(0)
        .and_then(|d| d.get("user_properties"))
        .and_then(|p| p.get(KEY));
    let Some(prop) = prop else { return Ok(None) };
    let local = prop
        .get("source")
        .and_then(Value::as_str)
        .is_none_or(|s| s.eq_ignore_ascii_case("local"));
    let text = prop
        .get("rawvalue")
        .or(prop.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(if local {
        serde_json::from_str(text).ok()
    } else {
        None
    })
}

async fn write<R: Runner>(client: &Client<R>, ds: &str, h: Option<&Holder>) -> Result<(), String> {
    let call = write_call(ds, h);
    client
        .call(&call.method, call.args)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Takes the lock on `ds`, waiting up to `wait` for another apply to finish. Returns a
/// note when a stale lock was taken over.
pub async fn acquire<R: Runner>(
    client: &Client<R>,
    ds: &str,
    me: &Holder,
    wait: Duration,
    settle: Duration,
) -> Result<Option<String>, String> {
    let started = std::time::Instant::now();
    let mut note = None;
    loop {
        match current(client, ds).await? {
            Some(h)
                if h.token != me.token && now().saturating_sub(h.since) < STALE_AFTER.as_secs() =>
            {
                if started.elapsed() >= wait {
                    return Err(format!("locked by {}", h.describe()));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Some(h) if h.token != me.token => {
                note = Some(format!("took over a stale lock of {}", h.describe()));
            }
            _ => {}
        }
        write(client, ds, Some(me)).await?;
        // Another apply that read "free" at the same time writes within this window.
        tokio::time::sleep(settle).await;
        match current(client, ds).await? {
            Some(h) if h.token == me.token => return Ok(note),
            _ if started.elapsed() >= wait => {
                return Err("another apply took the lock at the same moment".into());
            }
            _ => continue,
        }
    }
}

/// Gives the lock back if it is still ours.
pub async fn release<R: Runner>(client: &Client<R>, ds: &str, me: &Holder) -> Result<(), String> {
    if current(client, ds)
        .await?
        .is_some_and(|h| h.token == me.token)
    {
        write(client, ds, None).await?;
    }
    Ok(())
}

/// Removes whatever lock is there (`--break-lock`).
pub async fn break_lock<R: Runner>(client: &Client<R>, ds: &str) -> Result<Option<String>, String> {
    let held = current(client, ds).await?;
    if held.is_some() {
        write(client, ds, None).await?;
    }
    Ok(held.map(|h| h.describe()))
}
