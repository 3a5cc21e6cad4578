//! `system.*`: identity, version and the read-only facts other TrueNAS clients gather.

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::SimError;
use crate::sim::render::date;
use crate::sim::version::Personality;

pub fn version(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from(ctx.p.system_version(&ctx.state.system.version)))
}

pub fn version_short(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from(ctx.state.system.version.clone()))
}

pub fn product_type(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from(ctx.p.product_type(ctx.state.system.enterprise)))
}

pub fn hostname(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from(ctx.state.system.hostname.clone()))
}

pub fn ready(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::Bool(true))
}

pub fn sys_state(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from("READY"))
}

/// `system.info` (field set of 25.10; CORE lacks `physical_cores` and has `birthday`).
pub fn info(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let st = &ctx.state;
    let now = st.now_secs();
    let boot = st.system.boottime;
    let up = (now - boot).max(0);
    let uptime = format!(
        "{} days, {}:{:02}:{:02}",
        up / 86400,
        (up % 86400) / 3600,
        (up % 3600) / 60,
        up % 60
    );
    let info = json!({
        "version": ctx.p.info_version(&st.system.version),
        "buildtime": date(boot - 86400 * 30),
        "hostname": st.system.hostname,
        "physmem": 68719476736u64,
        "model": "Simulated CPU",
        "cores": 8,
        "physical_cores": 4,
        "loadavg": [0.12, 0.1, 0.05],
        "uptime": uptime,
        "uptime_seconds": up as f64 + 0.5,
        "system_serial": "SIM0001",
        "system_product": "zfleet simulator",
        "system_product_version": null,
        "license": null,
        "boottime": date(boot),
        "datetime": date(now),
        "timezone": st.system.timezone,
        "system_manufacturer": "zfleet",
        "ecc_memory": true,
    });
    // plugins/system.py (13.3) `info`: no `physical_cores`; `birthday` between `datetime`
    // and `timezone`.
    if ctx.p.is_core()
        && let Value::Object(m) = info
    {
        let mut core = serde_json::Map::new();
        for (k, v) in m {
            if k == "timezone" {
                core.insert("birthday".into(), date(boot - 86400 * 365));
            }
            if k != "physical_cores" {
                core.insert(k, v);
            }
        }
        return Ok(Value::Object(core));
    }
    Ok(info)
}

/// When the simulated release was built: 30 days before the boot (also `info.buildtime`).
pub fn build_time(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(date(ctx.state.system.boottime - 86400 * 30))
}

/// `SYSTEM_BOOT_ID`, a `uuid4()` string: stable for one boot of one system.
pub fn boot_id(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let seed = format!(
        "boot {} {}",
        ctx.state.system.hostname, ctx.state.system.boottime
    );
    let h = hex(&Sha1::digest(seed.as_bytes()));
    Ok(Value::from(format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )))
}

/// The SHA-256 hex digest of `/etc/hostid`: 64 hex digits, stable for the system.
pub fn host_id(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let first = hex(&Sha1::digest(format!(
        "hostid {}",
        ctx.state.system.hostname
    )));
    let second = hex(&Sha1::digest(first.as_bytes()));
    Ok(Value::from(format!("{first}{}", &second[..24])))
}

/// `system.environment` (13.3 and 24.04): `EC2` only when `/.ec2` exists.
pub fn environment(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from("DEFAULT"))
}

/// `system.product_name` (13.3 and 24.04).
pub fn product_name(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    Ok(Value::from("TrueNAS"))
}

/// `system.feature_enabled(feature)`. CORE's own product (`CORE`) has every feature but
/// Fibre Channel; everything else asks the license, and simulated systems have none.
pub fn feature_enabled(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let features: &[&str] = if ctx.p.is_core() {
        &["DEDUP", "FIBRECHANNEL", "JAILS", "VM"]
    } else {
        &["DEDUP", "FIBRECHANNEL", "VM"]
    };
    let name = args.first().and_then(Value::as_str);
    let Some(name) = name.filter(|n| features.contains(n)) else {
        return Err(feature_error(ctx.p, features, args.first()));
    };
    let core_product = ctx.p.is_core() && !ctx.state.system.enterprise;
    Ok(Value::Bool(core_product && name != "FIBRECHANNEL"))
}

/// A feature outside the enum: `Str('feature', enum=...)` up to 25.04 (CORE raises its
/// first schema error), `Literal[...]` on 25.10.
fn feature_error(p: Personality, features: &[&str], given: Option<&Value>) -> SimError {
    let shown = match given {
        None => return SimError::one("feature", missing(p)),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    match p {
        Personality::Core13 => SimError::CoreSchema {
            attr: "feature".into(),
            msg: format!("Invalid choice: {shown}"),
        },
        Personality::V2404 | Personality::V2410 | Personality::V2504 => {
            SimError::one("feature", format!("Invalid choice: {shown}"))
        }
        _ => {
            let quoted: Vec<String> = features.iter().map(|f| format!("'{f}'")).collect();
            let (last, rest) = quoted
                .split_last()
                .map_or((String::new(), &[][..]), |(l, r)| (l.clone(), r));
            SimError::one(
                "feature",
                format!("Input should be {} or {last}", rest.join(", ")),
            )
        }
    }
}

fn missing(p: Personality) -> &'static str {
    if p >= Personality::V2510 {
        "Field required"
    } else {
        "attribute required"
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
