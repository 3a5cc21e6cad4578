//! `keychaincredential.*`: SSH key pairs and SSH connections (api doc §11.1).

use russh::keys::ssh_key::{self, LineEnding, PrivateKey, PublicKey};
use serde_json::{Map, Value, json};

use super::schema::{F, Spec, Ty, int, long_str, str_, str_ne, validate_id, validate_obj};
use super::{Ctx, MResult, check_arg_count};
use crate::sim::errors::{SimError, VErr};
use crate::sim::filter;
use crate::sim::state::{Credential, CredentialType, SimState};
use crate::sim::version::{Family, Layer, Personality};

/// A credential as query returns it (root sessions see secrets).
pub fn render(k: &Credential) -> Value {
    json!({"id": k.id, "name": k.name, "type": k.kind.as_str(), "attributes": k.attributes})
}

pub fn query(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let rows = ctx.state.keychain.iter().map(render).collect();
    filter::query(rows, args.first(), args.get(1))
}

pub fn get_instance(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let id = validate_id(ctx.p.layer(Family::Keychain), "id", args.first())?;
    find(ctx.state, id).map(render)
}

fn find(st: &SimState, id: u64) -> Result<&Credential, SimError> {
    st.keychain
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| SimError::not_found("KeychainCredential", id))
}

fn attr_fields(p: Personality, kind: CredentialType) -> Vec<F> {
    match kind {
        CredentialType::SshKeyPair => vec![
            F::new("private_key", long_str()).null().def(Value::Null),
            F::new("public_key", long_str()).null().def(Value::Null),
        ],
        CredentialType::SshCredentials => {
            let mut v = vec![
                F::new("host", str_()).req(),
                F::new("port", super::schema::int_range(Some(1), Some(65535))).def(json!(22)),
                F::new("username", str_()).def(json!("root")),
                F::new("private_key", int()).req(),
                F::new("remote_host_key", str_()).req(),
                F::new("connect_timeout", int()).def(json!(10)),
            ];
            if p.is_core() {
                v.push(
                    F::new("cipher", Ty::Enum(&["STANDARD", "FAST", "DISABLED"]))
                        .def(json!("STANDARD")),
                );
            }
            v
        }
    }
}

fn parse_kind(v: Option<&Value>) -> Option<CredentialType> {
    match v.and_then(Value::as_str) {
        Some("SSH_KEY_PAIR") => Some(CredentialType::SshKeyPair),
        Some("SSH_CREDENTIALS") => Some(CredentialType::SshCredentials),
        _ => None,
    }
}

/// Validates `{name, type, attributes}`; `update` takes an existing type.
fn validate_entry(
    ctx: &Ctx<'_>,
    prefix: &str,
    data: Option<&Value>,
    existing: Option<&Credential>,
) -> Result<(String, CredentialType, Map<String, Value>), SimError> {
    let layer = ctx.p.layer(Family::Keychain);
    let obj = match data {
        Some(Value::Object(m)) => m.clone(),
        None if layer != Layer::Pydantic => Map::new(),
        None => return Err(SimError::one(prefix, "Field required")),
        Some(_) => {
            return Err(SimError::one(
                prefix,
                if layer == Layer::Pydantic {
                    "Input should be a valid dictionary"
                } else {
                    "Not a dictionary"
                },
            ));
        }
    };
    if layer == Layer::Pydantic && existing.is_none() {
        return create_union(ctx.p, prefix, &obj);
    }
    let kind = match existing {
        Some(e) => {
            if obj.contains_key("type") {
                let f = vec![F::new("name", str_ne()), F::new("attributes", Ty::Any)];
                let spec = Spec {
                    layer,
                    prefix,
                    model: "KeychainCredentialUpdate",
                    fields: &f,
                    update: true,
                };
                validate_obj(&spec, Some(&Value::Object(obj.clone())))?;
            }
            e.kind
        }
        None => match parse_kind(obj.get("type")) {
            Some(k) => k,
            None => {
                let msg = match (layer, obj.get("type")) {
                    (Layer::Pydantic, None) => "Field required".to_string(),
                    (Layer::Pydantic, _) => "Input tag '{}' found using 'type' does not match any of the expected tags: 'SSH_KEY_PAIR', 'SSH_CREDENTIALS'".replace("{}", obj.get("type").and_then(Value::as_str).unwrap_or("")),
                    // CORE's `@accepts` raises its first error as a schema error.
                    (Layer::Core, None) => {
                        return Err(SimError::CoreSchema {
                            attr: "type".into(),
                            msg: "attribute required".into(),
                        });
                    }
                    (_, None) => "attribute required".into(),
                    (_, Some(_)) => "Invalid type".into(),
                };
                return Err(SimError::one(format!("{prefix}.type"), msg));
            }
        },
    };
    let attrs_fields = attr_fields(ctx.p, kind);
    // CORE's `@accepts` declares `attributes` a free dict; `_validate` checks its fields
    // (validators.py `validate_attributes`) and reports them as validation errors.
    let attrs_ty = if layer == Layer::Core {
        Ty::Any
    } else {
        Ty::Dict(attrs_fields.clone())
    };
    let fields = vec![
        F::new("name", str_ne()).req(),
        F::new("type", Ty::Enum(&["SSH_KEY_PAIR", "SSH_CREDENTIALS"])).req(),
        F::new("attributes", attrs_ty).req(),
    ];
    let mut obj2 = obj.clone();
    if let Some(e) = existing {
        obj2.entry("name").or_insert(json!(e.name));
        obj2.insert("type".into(), json!(e.kind.as_str()));
        obj2.entry("attributes")
            .or_insert(Value::Object(e.attributes.clone()));
    }
    let model = match kind {
        CredentialType::SshKeyPair => "KeychainCredentialCreateSSHKeyPairEntry",
        CredentialType::SshCredentials => "KeychainCredentialCreateSSHCredentialsEntry",
    };
    let spec = Spec {
        layer,
        prefix,
        model,
        fields: &fields,
        update: false,
    };
    let mut clean = validate_obj(&spec, Some(&Value::Object(obj2)))?;
    if layer == Layer::Core {
        let at = format!("{prefix}.attributes");
        let attrs_spec = Spec {
            layer: Layer::Old,
            prefix: &at,
            model,
            fields: &attrs_fields,
            update: false,
        };
        let attrs = validate_obj(&attrs_spec, clean.get("attributes"))?;
        clean.insert("attributes".into(), Value::Object(attrs));
    }
    let name = clean
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let attrs = clean
        .get("attributes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok((name, kind, attrs))
}

/// `_ensure_unique`'s error when another credential has this name.
fn name_taken(st: &SimState, prefix: &str, id: Option<u64>, name: &str) -> Option<VErr> {
    st.keychain
        .iter()
        .any(|k| k.name == name && Some(k.id) != id)
        .then(|| {
            VErr::new(
                format!("{prefix}.name"),
                "Object with this name already exists",
            )
        })
}

/// Up to 24.10 the type and attribute checks run in plugins/keychain.py `_validate`, after
/// the name's uniqueness and reported with it; the `@accepts` errors before them come
/// alone. From 25.04 pydantic checks everything first.
fn with_name_error(
    ctx: &Ctx<'_>,
    prefix: &str,
    data: Option<&Value>,
    id: Option<u64>,
    e: SimError,
) -> SimError {
    let SimError::Validation(errs) = e else {
        return e;
    };
    let in_validate = |v: &VErr| {
        let attr = v.attr.as_deref().unwrap_or("");
        attr.starts_with(&format!("{prefix}.attributes."))
            || (attr == format!("{prefix}.type") && v.msg == "Invalid type")
    };
    let name = data.and_then(|d| d.get("name")).and_then(Value::as_str);
    match name.and_then(|n| name_taken(ctx.state, prefix, id, n)) {
        Some(taken)
            if ctx.p.layer(Family::Keychain) != Layer::Pydantic && errs.iter().all(in_validate) =>
        {
            SimError::Validation(std::iter::once(taken).chain(errs).collect())
        }
        _ => SimError::Validation(errs),
    }
}

/// The plugin's checks; fills a missing public key from the private one. A taken name
/// stops them on every version (`verrors.check()` before the type's own checks).
/// 25.x's create argument is a plain (undiscriminated) union of the two entry models: the
/// first that validates wins, and when none does pydantic lists every member's errors, each
/// under the member's name, members in declaration order (api/v25_10_0/keychain.py
/// `KeychainCredentialCreate`).
fn create_union(
    p: Personality,
    prefix: &str,
    obj: &Map<String, Value>,
) -> Result<(String, CredentialType, Map<String, Value>), SimError> {
    const MEMBERS: [(&str, CredentialType, &[&str]); 2] = [
        (
            "KeychainCredentialCreateSSHKeyPairEntry",
            CredentialType::SshKeyPair,
            &["SSH_KEY_PAIR"],
        ),
        (
            "KeychainCredentialCreateSSHCredentialsEntry",
            CredentialType::SshCredentials,
            &["SSH_CREDENTIALS"],
        ),
    ];
    let mut all = Vec::new();
    for (model, kind, tag) in MEMBERS {
        let fields = vec![
            F::new("name", str_ne()).req(),
            F::new("type", Ty::Enum(tag)).req(),
            F::new("attributes", Ty::Dict(attr_fields(p, kind))).req(),
        ];
        let member_prefix = format!("{prefix}.{model}");
        let spec = Spec {
            layer: Layer::Pydantic,
            prefix: &member_prefix,
            model,
            fields: &fields,
            update: false,
        };
        match validate_obj(&spec, Some(&Value::Object(obj.clone()))) {
            Ok(clean) => {
                let name = clean.get("name").and_then(Value::as_str).unwrap_or("");
                let attrs = clean.get("attributes").and_then(Value::as_object);
                return Ok((name.to_string(), kind, attrs.cloned().unwrap_or_default()));
            }
            Err(SimError::Validation(errs)) => all.extend(errs),
            Err(e) => return Err(e),
        }
    }
    Err(SimError::Validation(all))
}

/// The plugin's checks; fills a missing public key from the private one.
fn check_attrs(
    st: &SimState,
    p: Personality,
    prefix: &str,
    id: Option<u64>,
    name: &str,
    kind: CredentialType,
    attrs: &mut Map<String, Value>,
) -> Vec<VErr> {
    if let Some(taken) = name_taken(st, prefix, id, name) {
        return vec![taken];
    }
    let mut errs = Vec::new();
    match kind {
        CredentialType::SshKeyPair => {
            let private = attrs
                .get("private_key")
                .and_then(Value::as_str)
                .map(String::from);
            let public = attrs
                .get("public_key")
                .and_then(Value::as_str)
                .map(String::from);
            let mut derived = None;
            if let Some(pk) = &private {
                if pk.contains("ENCRYPTED") {
                    errs.push(VErr::new(
                        format!("{prefix}.attributes.private_key"),
                        "Encrypted private keys are not allowed",
                    ));
                } else {
                    match PrivateKey::from_openssh(pk.trim()) {
                        Ok(k) if k.is_encrypted() => errs.push(VErr::new(
                            format!("{prefix}.attributes.private_key"),
                            "Encrypted private keys are not allowed",
                        )),
                        Ok(k) => derived = k.public_key().to_openssh().ok(),
                        Err(_) => errs.push(VErr::new(
                            format!("{prefix}.attributes.private_key"),
                            "Load key \"/tmp/keychain\": invalid format",
                        )),
                    }
                    attrs.insert("private_key".into(), json!(format!("{}\n", pk.trim())));
                }
            }
            match (&public, &derived) {
                (None, None) if private.is_none() => errs.push(VErr::new(
                    format!("{prefix}.attributes.public_key"),
                    if p >= Personality::V2504 {
                        "You must specify a key"
                    } else {
                        "You must specify at least public key"
                    },
                )),
                (None, Some(d)) => {
                    attrs.insert("public_key".into(), json!(format!("{d}\n")));
                }
                (Some(p), d) => {
                    if PublicKey::from_openssh(p.trim()).is_err() {
                        errs.push(VErr::new(
                            format!("{prefix}.attributes.public_key"),
                            "Invalid public key",
                        ));
                    } else if let Some(d) = d
                        && first_two(p) != first_two(d)
                    {
                        errs.push(VErr::new(
                            format!("{prefix}.attributes.public_key"),
                            "Private key and public key do not match",
                        ));
                    }
                }
                _ => {}
            }
        }
        // `SSHCredentials` has no checks of its own on any version: a `private_key` id that
        // names no key pair is stored as given.
        CredentialType::SshCredentials => {}
    }
    errs
}

/// `type base64` of an OpenSSH key line, without its comment.
pub fn first_two(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

pub fn create(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let prefix = "keychain_credential_create";
    let (name, kind, mut attrs) = validate_entry(ctx, prefix, args.first(), None)
        .map_err(|e| with_name_error(ctx, prefix, args.first(), None, e))?;
    let errs = check_attrs(ctx.state, ctx.p, prefix, None, &name, kind, &mut attrs);
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let id = SimState::take_id(&mut ctx.state.next_ids.credential);
    let c = Credential {
        id,
        name,
        kind,
        attributes: attrs,
    };
    let out = render(&c);
    ctx.state.keychain.push(c);
    Ok(out)
}

pub fn update(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let prefix = "keychain_credentials_update";
    let id = validate_id(ctx.p.layer(Family::Keychain), "id", args.first())?;
    let existing = find(ctx.state, id)?.clone();
    let (name, kind, mut attrs) = validate_entry(ctx, prefix, args.get(1), Some(&existing))
        .map_err(|e| with_name_error(ctx, prefix, args.get(1), Some(id), e))?;
    let errs = check_attrs(ctx.state, ctx.p, prefix, Some(id), &name, kind, &mut attrs);
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    let c = Credential {
        id,
        name,
        kind,
        attributes: attrs,
    };
    let out = render(&c);
    if let Some(k) = ctx.state.keychain.iter_mut().find(|k| k.id == id) {
        *k = c;
    }
    Ok(out)
}

/// Credentials that depend on `id` (SSH connections built on a key pair) and replications
/// that use it.
fn users_of(st: &SimState, id: u64) -> (Vec<u64>, Vec<u64>) {
    let creds: Vec<u64> = st
        .keychain
        .iter()
        .filter(|k| {
            k.kind == CredentialType::SshCredentials
                && k.attributes.get("private_key").and_then(Value::as_u64) == Some(id)
        })
        .map(|k| k.id)
        .collect();
    let repls = st
        .replications
        .iter()
        .filter(|r| r.ssh_credentials == Some(id))
        .map(|r| r.id)
        .collect();
    (creds, repls)
}

pub fn delete(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 2)?;
    let layer = ctx.p.layer(Family::Keychain);
    let id = validate_id(layer, "id", args.first())?;
    let cascade = match args.get(1) {
        None => false,
        Some(o) => {
            let f = vec![F::new("cascade", super::schema::bool_()).def(json!(false))];
            let spec = Spec {
                layer,
                prefix: "options",
                model: "KeychainCredentialDeleteOptions",
                fields: &f,
                update: false,
            };
            validate_obj(&spec, Some(o))?
                .get("cascade")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        }
    };
    find(ctx.state, id)?;
    let (creds, repls) = users_of(ctx.state, id);
    if (!creds.is_empty() || !repls.is_empty()) && !cascade {
        let msg = "This credential is used and no cascade option is specified";
        return Err(if ctx.p >= Personality::V2410 {
            SimError::one("options.cascade", msg)
        } else {
            SimError::efault(msg)
        });
    }
    let mut doomed = vec![id];
    doomed.extend(creds);
    for d in &doomed {
        for r in &mut ctx.state.replications {
            if r.ssh_credentials == Some(*d) {
                r.ssh_credentials = None;
                r.enabled = false;
            }
        }
    }
    ctx.state.keychain.retain(|k| !doomed.contains(&k.id));
    Ok(Value::Null)
}

/// The errors of a failed validation, to report several parts' errors together.
fn verrs(r: Result<Map<String, Value>, SimError>, errs: &mut Vec<VErr>) -> Map<String, Value> {
    match r {
        Ok(m) => m,
        Err(SimError::Validation(v)) => {
            errs.extend(v);
            Map::new()
        }
        Err(_) => Map::new(),
    }
}

/// What `setup_ssh_connection` was asked for, once its schema accepted it.
struct SetupRequest {
    /// `Some(name)`: generate a key pair of that name; `None`: use `existing_key_id`.
    generate: Option<String>,
    existing_key_id: Option<u64>,
    connection_name: String,
    manual: bool,
    manual_setup: Map<String, Value>,
}

/// The 25.04+ models (api/v25_x/keychain.py `KeychainCredentialSetupSshConnectionArgs`):
/// tagged unions on `setup_type` and `private_key.generate_key` — a missing tag is
/// `Field required` at the tag, the tag is part of the location (`options.MANUAL...`).
fn setup_request_pydantic(p: Personality, v: Option<&Value>) -> Result<SetupRequest, SimError> {
    let layer = Layer::Pydantic;
    let obj = match v {
        None => return Err(SimError::one("options", "Field required")),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(SimError::one(
                "options",
                "Input should be a valid dictionary or object to extract fields from",
            ));
        }
    };
    let tag = match obj.get("setup_type") {
        None => return Err(SimError::one("options.setup_type", "Field required")),
        Some(Value::String(t)) if t == "MANUAL" || t == "SEMI-AUTOMATIC" => t.clone(),
        Some(t) => {
            let shown = t
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| t.to_string());
            return Err(SimError::one(
                "options",
                format!(
                    "Input tag '{shown}' found using 'setup_type' does not match any of the expected tags: 'MANUAL', 'SEMI-AUTOMATIC'"
                ),
            ));
        }
    };
    let prefix = format!("options.{tag}");
    let manual = tag == "MANUAL";
    let setup_key = if manual {
        "manual_setup"
    } else {
        "semi_automatic_setup"
    };
    let top = vec![
        F::new("private_key", Ty::Any).req(),
        F::new("connection_name", str_ne()).req(),
        F::new("setup_type", Ty::Any),
        F::new(setup_key, Ty::Any).req(),
    ];
    let mut errs = Vec::new();
    let d = verrs(
        validate_obj(
            &Spec {
                layer,
                prefix: &prefix,
                model: "SetupSSHConnectionManual",
                fields: &top,
                update: false,
            },
            Some(&Value::Object(obj.clone())),
        ),
        &mut errs,
    );
    // The key: a union tagged by `generate_key` (True / False in the location).
    let mut generate = None;
    let mut existing_key_id = None;
    if let Some(pk) = obj.get("private_key") {
        let kp = format!("{prefix}.private_key");
        match pk.as_object().map(|m| m.get("generate_key")) {
            None => errs.push(VErr::new(
                kp,
                "Input should be a valid dictionary or object to extract fields from",
            )),
            Some(None) => errs.push(VErr::new(format!("{kp}.generate_key"), "Field required")),
            Some(Some(Value::Bool(g))) => {
                let (fields, model) = if *g {
                    (
                        vec![
                            F::new("generate_key", Ty::Any),
                            F::new("name", str_ne()).req(),
                        ],
                        "KeychainCredentialSetupSSHConnectionKeyNew",
                    )
                } else {
                    (
                        vec![
                            F::new("generate_key", Ty::Any),
                            F::new("existing_key_id", int()).req(),
                        ],
                        "KeychainCredentialSetupSSHConnectionKeyExisting",
                    )
                };
                let kp = format!("{kp}.{}", if *g { "True" } else { "False" });
                let k = verrs(
                    validate_obj(
                        &Spec {
                            layer,
                            prefix: &kp,
                            model,
                            fields: &fields,
                            update: false,
                        },
                        Some(pk),
                    ),
                    &mut errs,
                );
                if *g {
                    generate = k.get("name").and_then(Value::as_str).map(String::from);
                } else {
                    existing_key_id = k.get("existing_key_id").and_then(Value::as_u64);
                }
            }
            Some(Some(t)) => errs.push(VErr::new(
                kp,
                format!("Input tag '{t}' found using 'generate_key' does not match any of the expected tags: True, False"),
            )),
        }
    }
    let mut manual_setup = Map::new();
    if manual && let Some(ms) = obj.get("manual_setup") {
        let fields: Vec<F> = attr_fields(p, CredentialType::SshCredentials)
            .into_iter()
            .filter(|f| f.name != "private_key")
            .collect();
        let mp = format!("{prefix}.manual_setup");
        manual_setup = verrs(
            validate_obj(
                &Spec {
                    layer,
                    prefix: &mp,
                    model: "SetupSSHConnectionManualSetup",
                    fields: &fields,
                    update: false,
                },
                Some(ms),
            ),
            &mut errs,
        );
    }
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    Ok(SetupRequest {
        generate,
        existing_key_id,
        connection_name: d
            .get("connection_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        manual,
        manual_setup,
    })
}

/// 24.04 / 24.10 (plugins/keychain_/ssh_connections.py, old schema): `generate_key` defaults
/// to true, the setup dicts are free-form and checked by the plugin itself.
fn setup_request_old(st: &SimState, v: Option<&Value>) -> Result<SetupRequest, SimError> {
    let schema = "setup_ssh_connection";
    let fields = vec![
        F::new(
            "private_key",
            Ty::Dict(vec![
                F::new("generate_key", super::schema::bool_()).def(json!(true)),
                F::new("existing_key_id", int()),
                F::new("name", str_ne()),
            ]),
        )
        .def(json!({})),
        F::new("connection_name", str_()).req(),
        F::new("setup_type", Ty::Enum(&["SEMI-AUTOMATIC", "MANUAL"]))
            .req()
            .def(json!("MANUAL")),
        F::new("semi_automatic_setup", Ty::Any)
            .null()
            .def(Value::Null),
        F::new("manual_setup", Ty::Any).null().def(Value::Null),
    ];
    let d = validate_obj(
        &Spec {
            layer: Layer::Old,
            prefix: schema,
            model: "setup_ssh_connection",
            fields: &fields,
            update: false,
        },
        v,
    )?;
    let pk = d.get("private_key").cloned().unwrap_or_else(|| json!({}));
    let generate_key = pk
        .get("generate_key")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let existing = pk.get("existing_key_id").and_then(Value::as_u64);
    let name = pk.get("name").and_then(Value::as_str).map(String::from);
    let mut errs = Vec::new();
    let at = |k: &str| format!("{schema}.{k}");
    if generate_key {
        if existing.is_some_and(|i| i != 0) {
            errs.push(VErr::new(
                at("private_key.existing_key_id"),
                "Should not be specified when \"generate_key\" is set",
            ));
        }
        match &name {
            None => errs.push(VErr::new(
                at("private_key.name"),
                "Must be set when SSH Key pair is to be generated",
            )),
            Some(n) if st.keychain.iter().any(|k| &k.name == n) => errs.push(VErr::new(
                at("private_key.name"),
                "Is already in use by another SSH Key pair",
            )),
            Some(_) => {}
        }
    } else {
        match existing.filter(|i| *i != 0) {
            None => errs.push(VErr::new(
                at("private_key.existing_key_id"),
                "Must be specified when SSH Key pair is not to be generated",
            )),
            Some(i) if !st.keychain.iter().any(|k| k.id == i) => errs.push(VErr::new(
                at("private_key.existing_key_id"),
                "SSH Key Pair not found",
            )),
            Some(_) => {}
        }
    }
    let setup_type = d
        .get("setup_type")
        .and_then(Value::as_str)
        .unwrap_or("MANUAL")
        .to_string();
    let (own, opposite) = if setup_type == "MANUAL" {
        ("manual_setup", "semi_automatic_setup")
    } else {
        ("semi_automatic_setup", "manual_setup")
    };
    let truthy = |k: &str| match d.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::Object(m)) => !m.is_empty(),
        Some(_) => true,
    };
    if !truthy(own) {
        errs.push(VErr::new(
            at(own),
            format!("Must be specified for '{setup_type}' setup"),
        ));
    }
    if truthy(opposite) {
        errs.push(VErr::new(
            at(opposite),
            format!("Must not be specified for '{setup_type}' setup"),
        ));
    }
    let connection_name = d
        .get("connection_name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if st.keychain.iter().any(|k| k.name == connection_name) {
        errs.push(VErr::new(
            at("connection_name"),
            "Is already in use by another Keychain Credential",
        ));
    }
    if !errs.is_empty() {
        return Err(SimError::Validation(errs));
    }
    Ok(SetupRequest {
        generate: if generate_key { name } else { None },
        existing_key_id: existing,
        connection_name,
        manual: setup_type == "MANUAL",
        manual_setup: d
            .get("manual_setup")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// `keychaincredential.setup_ssh_connection(options)` (24.04 and later; CORE 13 has no such
/// method): plugins/keychain_/ssh_connections.py. Generates a key pair on the system (so its
/// private key never leaves it) or takes an existing one, then creates the SSH_CREDENTIALS
/// entry with `keychaincredential.create`; if that fails, a key pair generated here is
/// deleted again. Returns the new SSH_CREDENTIALS entry. SEMI-AUTOMATIC setup, which logs
/// into the remote middleware, is not simulated.
pub fn setup_ssh_connection(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let req = if ctx.p.layer(Family::Keychain) == Layer::Pydantic {
        let req = setup_request_pydantic(ctx.p, args.first())?;
        // `_validate_options`: every error at once, then nothing is created.
        let schema = "setup_ssh_connection";
        let mut errs = Vec::new();
        if let Some(name) = &req.generate {
            if ctx.state.keychain.iter().any(|k| &k.name == name) {
                errs.push(VErr::new(
                    format!("{schema}.private_key.name"),
                    "Is already in use by another SSH Key pair",
                ));
            }
        } else if !req
            .existing_key_id
            .is_some_and(|i| ctx.state.keychain.iter().any(|k| k.id == i))
        {
            errs.push(VErr::new(
                format!("{schema}.private_key.existing_key_id"),
                "SSH Key Pair not found",
            ));
        }
        if ctx
            .state
            .keychain
            .iter()
            .any(|k| k.name == req.connection_name)
        {
            errs.push(VErr::new(
                format!("{schema}.connection_name"),
                "Is already in use by another Keychain Credential",
            ));
        }
        if !errs.is_empty() {
            return Err(SimError::Validation(errs));
        }
        req
    } else {
        setup_request_old(ctx.state, args.first())?
    };
    if !req.manual {
        return Err(SimError::efault(
            "SEMI-AUTOMATIC setup is not simulated: it logs into the remote system's middleware",
        ));
    }
    let key_id = match &req.generate {
        Some(name) => {
            let (private, public) = new_rsa_key_pair(&ctx.state.system.hostname)
                .map_err(|e| SimError::efault(format!("ssh-keygen failed: {e}")))?;
            let created = create(
                ctx,
                vec![json!({
                    "name": name,
                    "type": "SSH_KEY_PAIR",
                    "attributes": {"private_key": private, "public_key": public},
                })],
            )?;
            created.get("id").and_then(Value::as_u64)
        }
        None => req.existing_key_id,
    };
    let mut attributes = req.manual_setup.clone();
    attributes.insert("private_key".into(), json!(key_id));
    let made = create(
        ctx,
        vec![json!({
            "type": "SSH_CREDENTIALS",
            "name": req.connection_name,
            "attributes": attributes,
        })],
    );
    if made.is_err()
        && req.generate.is_some()
        && let Some(id) = key_id
    {
        ctx.state.keychain.retain(|k| k.id != id);
    }
    made
}

/// RSA size `ssh-keygen -t rsa` picks without `-b` (OpenSSH 8.0 and later, SCALE and CORE 13).
const RSA_BITS: usize = 3072;

/// `keychaincredential.generate_ssh_key_pair` (plugins/keychain.py, `generate_ssh_key_pair`):
/// `ssh-keygen -t rsa -f key -N "" -q` run as root, both files read back verbatim — an
/// unencrypted OpenSSH private key and a `ssh-rsa AAAA... root@<hostname>` line, each ending
/// in a newline.
pub fn generate_ssh_key_pair(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let (private, public) = new_rsa_key_pair(&ctx.state.system.hostname)
        .map_err(|e| SimError::efault(format!("ssh-keygen failed: {e}")))?;
    Ok(json!({"private_key": private, "public_key": public}))
}

/// A fresh RSA key pair as ssh-keygen writes it: (private key file, public key file).
pub fn new_rsa_key_pair(hostname: &str) -> Result<(String, String), String> {
    use rand::SeedableRng;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    let mut rng = rand::rngs::StdRng::from_seed(seed);
    let pair =
        ssh_key::private::RsaKeypair::random(&mut rng, RSA_BITS).map_err(|e| e.to_string())?;
    let mut key = PrivateKey::from(pair);
    key.set_comment(format!("root@{hostname}"));
    let private = key.to_openssh(LineEnding::LF).map_err(|e| e.to_string())?;
    let public = key.public_key().to_openssh().map_err(|e| e.to_string())?;
    Ok((private.to_string(), format!("{public}\n")))
}

/// `ssh-keyscan` of another system of the fleet: one `type base64` line per host key.
pub fn remote_ssh_host_key_scan(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let layer = ctx.p.layer(Family::Keychain);
    let f = vec![
        F::new("host", str_()).req(),
        F::new("port", int()).def(json!(22)),
        F::new("connect_timeout", int()).def(json!(10)),
    ];
    let prefix = "keychain_remote_ssh_host_key_scan";
    let spec = Spec {
        layer,
        prefix,
        model: "KeychainCredentialRemoteSshHostKeyScanArgs",
        fields: &f,
        update: false,
    };
    let d = validate_obj(&spec, args.first())?;
    let host = d
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let port = d.get("port").and_then(Value::as_u64).unwrap_or(22);
    let Some(sys) = super::find_system(ctx, &host) else {
        return Err(SimError::efault(format!(
            "ssh-keyscan failed: getaddrinfo {host}: Name or service not known\n"
        )));
    };
    let running = sys
        .service("ssh")
        .is_some_and(|s| s.state == crate::sim::state::ServiceState::Running);
    if !running || u64::from(sys.ssh.tcpport) != port {
        return Err(SimError::efault("SSH timeout"));
    }
    let lines: Vec<String> = sys.ssh.host_keys.iter().map(|k| first_two(k)).collect();
    Ok(Value::from(lines.join("\n")))
}
