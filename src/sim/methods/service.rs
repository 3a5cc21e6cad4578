//! `service.*` and `ssh.config` (api doc §10).

use serde_json::{Value, json};

use super::schema::{F, Spec, bool_, validate_id, validate_obj};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::SimError;
use crate::sim::filter;
use crate::sim::fixture::base64;
use crate::sim::state::{JobState, Service, ServiceState, SimState};
use crate::sim::version::{Family, Layer};

fn render(s: &Service) -> Value {
    let pids: Vec<u64> = if s.state == ServiceState::Running {
        vec![1000 + s.id * 37]
    } else {
        Vec::new()
    };
    json!({"id": s.id, "service": s.service, "enable": s.enable, "state": s.state, "pids": pids})
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    // plugins/service.py `service_extend_context` (SCALE): `extra.include_state: false`
    // skips asking each service, and `service_extend` fills `UNKNOWN` with no pids. CORE's
    // `query` always asks.
    let skip_state = !ctx.p.is_core()
        && args
            .get(1)
            .and_then(|o| o.get("extra"))
            .and_then(|e| e.get("include_state"))
            .is_some_and(|v| !py_truthy(v));
    let rows = ctx
        .state
        .services
        .iter()
        .map(|s| {
            let mut row = render(s);
            if skip_state && let Some(m) = row.as_object_mut() {
                m.insert("state".into(), json!("UNKNOWN"));
                m.insert("pids".into(), json!([]));
            }
            row
        })
        .collect();
    filter::query(rows, args.first(), args.get(1))
}

/// Python's truth of a JSON value (`not value`).
fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(ctx.p.layer(Family::Plain), "id", args.first())?;
    ctx.state
        .services
        .iter()
        .find(|s| s.id == id)
        .map(render)
        .ok_or_else(|| SimError::not_found("Service", id))
}

fn find_mut<'a>(st: &'a mut SimState, key: &Value) -> Option<&'a mut Service> {
    st.services.iter_mut().find(|s| match key {
        Value::String(n) => s.service == *n,
        Value::Number(n) => n.as_u64() == Some(s.id),
        _ => false,
    })
}

/// `service.update(id_or_name, {enable})` → the row id. 24.x–25.04 default `enable` to false.
pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let layer = ctx.p.layer(Family::Plain);
    let key = args.first().cloned().unwrap_or(Value::Null);
    let f = vec![if layer == Layer::Pydantic {
        F::new("enable", bool_()).req()
    } else {
        F::new("enable", bool_()).def(json!(false))
    }];
    let spec = Spec {
        layer,
        prefix: "service_update",
        model: "ServiceUpdate",
        fields: &f,
        update: false,
    };
    let data = validate_obj(&spec, args.get(1))?;
    let enable = data.get("enable").and_then(Value::as_bool).unwrap_or(false);
    let name = match &key {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let Some(s) = find_mut(ctx.state, &key) else {
        return Err(SimError::call(
            "ENOENT",
            format!("Service {name} not found."),
        ));
    };
    s.enable = enable;
    Ok(json!(s.id))
}

fn options_silent(ctx: &Ctx<'_>, v: Option<&Value>) -> Result<bool, SimError> {
    let layer = ctx.p.layer(Family::Plain);
    let f = vec![
        F::new("ha_propagate", bool_()).def(json!(true)),
        F::new("silent", bool_()).def(json!(true)),
        F::new("timeout", super::schema::int()).def(json!(120)),
    ];
    let spec = Spec {
        layer,
        prefix: "options",
        model: "ServiceOptions",
        fields: &f,
        update: false,
    };
    match v {
        None => Ok(true),
        Some(o) => Ok(validate_obj(&spec, Some(o))?
            .get("silent")
            .and_then(Value::as_bool)
            .unwrap_or(true)),
    }
}

/// Applies a verb; returns whether the service runs afterwards (what `start` reports).
fn apply_verb(st: &mut SimState, verb: &str, name: &str) -> Result<bool, SimError> {
    let Some(s) = st.services.iter_mut().find(|s| s.service == name) else {
        return Err(SimError::call(
            "ENOENT",
            format!("Service {name} not found."),
        ));
    };
    match verb {
        "start" | "restart" | "reload" => s.state = ServiceState::Running,
        _ => s.state = ServiceState::Stopped,
    }
    Ok(s.state == ServiceState::Running)
}

/// `service.start/stop/restart/reload(service, options)` → bool.
pub fn start_stop(ctx: &mut Ctx<'_>, verb: &str, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let Some(name) = args.first().and_then(Value::as_str).map(String::from) else {
        return Err(SimError::one("service", "Not a string"));
    };
    options_silent(ctx, args.get(1))?;
    let running = apply_verb(ctx.state, verb, &name)?;
    Ok(Value::Bool(if verb == "stop" { !running } else { running }))
}

/// 25.10 `service.control(verb, service, options)`: a job whose result is the bool.
pub fn control(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 3)?;
    let verbs = ["START", "STOP", "RESTART", "RELOAD"];
    let verb = match args.first().and_then(Value::as_str) {
        Some(v) if verbs.contains(&v) => v.to_lowercase(),
        None => return Err(SimError::one("verb", "Field required")),
        Some(_) => {
            return Err(SimError::one(
                "verb",
                "Input should be 'START', 'STOP', 'RESTART' or 'RELOAD'",
            ));
        }
    };
    let Some(name) = args.get(1).and_then(Value::as_str).map(String::from) else {
        return Err(SimError::one("service", "Input should be a valid string"));
    };
    options_silent(ctx, args.get(2))?;
    let job = ctx
        .state
        .add_job("service.control", args.clone(), JobState::Running);
    match apply_verb(ctx.state, &verb, &name) {
        Ok(running) => ctx.state.finish_job(
            job,
            Value::Bool(if verb == "stop" { !running } else { running }),
        ),
        Err(_) => ctx
            .state
            .fail_job(job, &format!("Service {name} not found.")),
    }
    Ok(json!(job))
}

/// `ssh.config`: host keys as base64 of the key files.
pub fn ssh_config(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let ssh = &ctx.state.ssh;
    let key_of = |t: &str| {
        ssh.host_keys
            .iter()
            .find(|k| k.starts_with(t))
            .map(|k| base64(format!("{k} root@{}\n", ctx.state.system.hostname).as_bytes()))
    };
    let private = |t: &str| {
        key_of(t).map(|_| base64(b"-----BEGIN OPENSSH PRIVATE KEY-----\n(simulated)\n-----END OPENSSH PRIVATE KEY-----\n"))
    };
    Ok(json!({
        "id": 1,
        "bindiface": ssh.bindiface,
        "tcpport": ssh.tcpport,
        "password_login_groups": ssh.password_login_groups,
        "passwordauth": ssh.passwordauth,
        "kerberosauth": false,
        "tcpfwd": ssh.tcpfwd,
        "compression": ssh.compression,
        "sftp_log_level": "",
        "sftp_log_facility": "",
        "weak_ciphers": ssh.weak_ciphers,
        "options": ssh.options,
        "privatekey": "",
        "host_dsa_key": null,
        "host_dsa_key_pub": null,
        "host_dsa_key_cert_pub": null,
        "host_ecdsa_key": private("ecdsa"),
        "host_ecdsa_key_pub": key_of("ecdsa"),
        "host_ecdsa_key_cert_pub": null,
        "host_ed25519_key": private("ssh-ed25519"),
        "host_ed25519_key_pub": key_of("ssh-ed25519"),
        "host_ed25519_key_cert_pub": null,
        "host_key": null,
        "host_key_pub": null,
        "host_rsa_key": private("ssh-rsa"),
        "host_rsa_key_pub": key_of("ssh-rsa"),
        "host_rsa_key_cert_pub": null,
    }))
}
