//! `core.*`: ping and jobs.

use serde_json::{Map, Value, json};

use super::schema::validate_id;
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::SimError;
use crate::sim::filter;
use crate::sim::render::date;
use crate::sim::state::{Job, JobState};
use crate::sim::version::{Family, Personality};

pub fn ping(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from("pong"))
}

/// A job as `core.get_jobs` shows it on version `p`.
pub fn render_job(p: Personality, job: &Job) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(job.id));
    if p.goldeye() {
        m.insert("message_ids".into(), json!([fake_uuid(job.id, 1)]));
    }
    m.insert("method".into(), json!(job.method));
    m.insert("arguments".into(), Value::Array(job.arguments.clone()));
    // truenas/13.3-stable job.py `__encode__` has none of SCALE's `transient`,
    // `description`, `abortable` and `credentials`, and keeps its logs under /tmp.
    let core = p.is_core();
    if !core {
        m.insert("transient".into(), json!(false));
        m.insert("description".into(), json!(job.description));
        m.insert("abortable".into(), json!(job.abortable));
    }
    let logs = job.method == "replication.run";
    m.insert(
        "logs_path".into(),
        match (logs, core) {
            (false, _) => Value::Null,
            (true, false) => json!(format!("/var/log/jobs/{}.log", job.id)),
            (true, true) => json!(format!("/tmp/middlewared/jobs/{}.log", job.id)),
        },
    );
    m.insert("logs_excerpt".into(), json!(job.logs_excerpt));
    m.insert("progress".into(), render_progress(p, job));
    m.insert("result".into(), job.result.clone());
    if p.job_encoding_fields() {
        m.insert("result_encoding_error".into(), Value::Null);
    }
    m.insert("error".into(), json!(job.error));
    m.insert("exception".into(), json!(job.exception));
    let exc_info = job.exc_info.clone().map(|mut e| {
        if !p.job_encoding_fields()
            && let Some(o) = e.as_object_mut()
        {
            o.shift_remove("errno");
        }
        if core && let Some(o) = e.as_object_mut() {
            o.shift_remove("repr");
        }
        e
    });
    m.insert("exc_info".into(), exc_info.unwrap_or(Value::Null));
    m.insert("state".into(), json!(job.state));
    m.insert("time_started".into(), date(job.time_started));
    m.insert(
        "time_finished".into(),
        job.time_finished.map(date).unwrap_or(Value::Null),
    );
    let credentials = if job.by_user {
        let mut data = Map::new();
        data.insert("username".into(), json!("root"));
        if p.goldeye() {
            data.insert("login_id".into(), json!(fake_uuid(job.id, 2)));
        }
        if p >= Personality::V2504 {
            data.insert("login_at".into(), date(job.time_started));
        }
        json!({"type": "UNIX_SOCKET", "data": data})
    } else {
        Value::Null
    };
    if !core {
        m.insert("credentials".into(), credentials);
    }
    Value::Object(m)
}

/// job.py `set_progress`: SCALE starts a job at `{0, ""}` and keeps `int(percent)`; CORE 13
/// starts at `{None, None}` and keeps the float. Neither ever stores an empty description.
fn render_progress(p: Personality, job: &Job) -> Value {
    let pr = &job.progress;
    if !p.is_core() {
        return json!({
            "percent": pr.percent.trunc() as u64,
            "description": pr.description,
            "extra": pr.extra,
        });
    }
    let untouched = pr.percent == 0.0 && pr.description.is_empty();
    let percent = if untouched {
        Value::Null
    } else if pr.percent == 100.0 {
        json!(100)
    } else {
        json!(pr.percent)
    };
    let description = if pr.description.is_empty() {
        Value::Null
    } else {
        json!(pr.description)
    };
    json!({"percent": percent, "description": description, "extra": pr.extra})
}

/// A stable UUID-shaped id for message/login ids.
fn fake_uuid(id: u64, salt: u64) -> String {
    let a = id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    let b = a.rotate_left(17).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        a as u16 & 0xfff,
        (b >> 48) as u16 & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

pub fn get_jobs(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let rows = ctx
        .state
        .jobs
        .iter()
        .map(|j| render_job(ctx.p, j))
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn job_abort(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let layer = ctx.p.layer(Family::Core);
    let id = validate_id(layer, "id", args.first())?;
    let now = ctx.state.now_secs();
    let Some(job) = ctx.state.job_mut(id) else {
        return Err(SimError::Exception {
            class: "KeyError",
            text: format!("{id}"),
        });
    };
    if !job.state.is_finished() {
        job.state = JobState::Aborted;
        job.time_finished = Some(now);
        job.error = Some("[EINTR] Job aborted".into());
    }
    Ok(Value::Null)
}
