//! `system.*`: identity and version.

use serde_json::{Value, json};

use super::{Ctx, MResult, check_arg_count};
use crate::sim::render::date;

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
    let mut info = json!({
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
    if ctx.p.is_core()
        && let Some(m) = info.as_object_mut()
    {
        m.shift_remove("physical_cores");
        m.insert("birthday".into(), date(boot - 86400 * 365));
    }
    Ok(info)
}
