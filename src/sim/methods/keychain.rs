//! `keychaincredential.*`: SSH key pairs and SSH connections (api doc §11.1).

use russh::keys::ssh_key::{self, LineEnding, PrivateKey, PublicKey};
use serde_json::{Map, Value, json};

use super::schema::{F, Spec, Ty, int, str_, str_ne, validate_id, validate_obj};
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
            F::new("private_key", str_()).null().def(Value::Null),
            F::new("public_key", str_()).null().def(Value::Null),
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
                    (_, None) => "attribute required".into(),
                    (_, Some(_)) => "Invalid type".into(),
                };
                return Err(SimError::one(format!("{prefix}.type"), msg));
            }
        },
    };
    let attrs_fields = attr_fields(ctx.p, kind);
    let fields = vec![
        F::new("name", str_ne()).req(),
        F::new("type", Ty::Enum(&["SSH_KEY_PAIR", "SSH_CREDENTIALS"])).req(),
        F::new("attributes", Ty::Dict(attrs_fields)).req(),
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
    let clean = validate_obj(&spec, Some(&Value::Object(obj2)))?;
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

/// The plugin's checks; fills a missing public key from the private one.
fn check_attrs(
    st: &SimState,
    prefix: &str,
    id: Option<u64>,
    name: &str,
    kind: CredentialType,
    attrs: &mut Map<String, Value>,
) -> Vec<VErr> {
    let mut errs = Vec::new();
    if st
        .keychain
        .iter()
        .any(|k| k.name == name && Some(k.id) != id)
    {
        errs.push(VErr::new(
            format!("{prefix}.name"),
            "Object with this name already exists",
        ));
    }
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
                    "You must specify a key",
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
        CredentialType::SshCredentials => {
            let kp = attrs.get("private_key").and_then(Value::as_u64);
            let ok = kp.is_some_and(|i| {
                st.keychain
                    .iter()
                    .any(|k| k.id == i && k.kind == CredentialType::SshKeyPair)
            });
            if !ok {
                errs.push(VErr::new(
                    format!("{prefix}.attributes.private_key"),
                    "SSH Key Pair not found",
                ));
            }
        }
    }
    errs
}

fn first_two(key: &str) -> String {
    key.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

pub fn create(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 1)?;
    let prefix = "keychain_credential_create";
    let (name, kind, mut attrs) = validate_entry(ctx, prefix, args.first(), None)?;
    let errs = check_attrs(ctx.state, prefix, None, &name, kind, &mut attrs);
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
    let (name, kind, mut attrs) = validate_entry(ctx, prefix, args.get(1), Some(&existing))?;
    let errs = check_attrs(ctx.state, prefix, Some(id), &name, kind, &mut attrs);
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

/// A new key pair (ed25519; the middleware makes RSA keys, both are OpenSSH format).
pub fn generate_ssh_key_pair(ctx: &mut Ctx<'_>, args: Vec<Value>) -> MResult {
    check_arg_count(ctx.p, &args, 0)?;
    let mut seed = [0u8; 32];
    random_bytes(&mut seed).map_err(|e| SimError::efault(format!("ssh-keygen failed: {e}")))?;
    let pair = ssh_key::private::Ed25519Keypair::from_seed(&seed);
    let mut key = PrivateKey::from(pair);
    key.set_comment(format!("root@{}", ctx.state.system.hostname));
    let private = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| SimError::efault(format!("ssh-keygen failed: {e}")))?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(|e| SimError::efault(format!("ssh-keygen failed: {e}")))?;
    Ok(json!({"private_key": private.as_str(), "public_key": format!("{public}\n")}))
}

fn random_bytes(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
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
