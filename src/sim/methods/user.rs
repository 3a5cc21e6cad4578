//! `user.query/get_instance/update` (api doc §11.2).

use serde_json::{Value, json};

use super::schema::{F, Spec, Ty, bool_, list, str_, validate_id, validate_obj};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::SimError;
use crate::sim::filter;
use crate::sim::state::{SimState, User};
use crate::sim::version::{Family, Personality};

fn render(p: Personality, u: &User) -> Value {
    let group_name = if u.uid == 0 {
        "root".to_string()
    } else {
        u.username.clone()
    };
    let mut v = json!({
        "id": u.id,
        "uid": u.uid,
        "username": u.username,
        "unixhash": "*",
        "smbhash": "*",
        "home": u.home,
        "shell": u.shell,
        "full_name": u.full_name,
        "builtin": u.builtin,
        "smb": u.uid >= 1000,
        "password_disabled": u.password_disabled,
        "ssh_password_enabled": false,
        "locked": u.locked,
        "sudo_commands": u.sudo_commands,
        "sudo_commands_nopasswd": u.sudo_commands_nopasswd,
        "email": null,
        "group": {"id": u.group + 1, "bsdgrp_gid": u.group, "bsdgrp_group": group_name},
        "groups": [],
        "sshpubkey": u.sshpubkey,
        "immutable": u.builtin,
        "local": true,
        "id_type_both": false,
        "roles": if u.uid == 0 || u.uid == 950 { json!(["FULL_ADMIN"]) } else { json!([]) },
    });
    if p.is_core()
        && let Some(m) = v.as_object_mut()
    {
        for k in ["sudo_commands_nopasswd", "roles", "id_type_both"] {
            m.shift_remove(k);
        }
        m.insert("sudo".into(), json!(!u.sudo_commands.is_empty()));
    }
    v
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let rows = ctx.state.users.iter().map(|u| render(ctx.p, u)).collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(ctx.p.layer(Family::User), "id", args.first())?;
    find(ctx.state, id).map(|u| render(ctx.p, u))
}

fn find(st: &SimState, id: u64) -> Result<&User, SimError> {
    st.users
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| SimError::not_found("User", id))
}

/// Whether the middleware lets `sshpubkey` be written for this user (api doc §11.2).
fn home_writable(p: Personality, u: &User) -> bool {
    if u.home.starts_with("/mnt/") {
        return true;
    }
    if p == Personality::V2404 || p.is_core() {
        u.home == "/root" || u.home == "/home/admin"
    } else {
        u.uid == 0 || u.uid == 950
    }
}

/// `user.update(id, data)`: the fields replication setup touches.
pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let layer = ctx.p.layer(Family::User);
    let id = validate_id(layer, "id", args.first())?;
    let f = vec![
        F::new("full_name", str_()),
        F::new("shell", str_()),
        F::new("home", str_()),
        F::new("password_disabled", bool_()),
        F::new("locked", bool_()),
        F::new("sshpubkey", str_()).null(),
        F::new("sudo_commands", list(str_())),
        F::new("sudo_commands_nopasswd", list(str_())),
        F::new("smb", bool_()),
        F::new("email", Ty::Any),
    ];
    let spec = Spec {
        layer,
        prefix: "user_update",
        model: "UserUpdate",
        fields: &f,
        update: true,
    };
    let data = validate_obj(&spec, args.get(1))?;
    let user = find(ctx.state, id)?.clone();
    if let Some(Value::String(k)) = data.get("sshpubkey")
        && !k.trim().is_empty()
        && !home_writable(ctx.p, &user)
    {
        return Err(SimError::one(
            "user_update.sshpubkey",
            "Home directory is not writable, leave this blank\"",
        ));
    }
    let p = ctx.p;
    let Some(u) = ctx.state.users.iter_mut().find(|u| u.id == id) else {
        return Err(SimError::not_found("User", id));
    };
    for (k, v) in &data {
        let s = || v.as_str().unwrap_or_default().to_string();
        let strs = || -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        match k.as_str() {
            "full_name" => u.full_name = s(),
            "shell" => u.shell = s(),
            "home" => u.home = s(),
            "password_disabled" => u.password_disabled = v.as_bool().unwrap_or(false),
            "locked" => u.locked = v.as_bool().unwrap_or(false),
            "sshpubkey" => {
                // The whole authorized_keys file: stripped; empty deletes it.
                let t = v.as_str().unwrap_or("").trim().to_string();
                u.sshpubkey = (!t.is_empty()).then_some(t);
            }
            "sudo_commands" => u.sudo_commands = strs(),
            "sudo_commands_nopasswd" => u.sudo_commands_nopasswd = strs(),
            _ => {}
        }
    }
    let u = u.clone();
    if p <= Personality::V2404 {
        Ok(json!(u.id))
    } else {
        Ok(render(p, &u))
    }
}
