//! Host key verification: a pinned `SHA256:` fingerprint, or OpenSSH known_hosts files
//! (plain, wildcard and hashed host patterns, `[host]:port`, `@revoked`). Never trusts a key
//! silently: an unknown key is learned only when asked to.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};
use sha1::Sha1;

/// `SHA256:<base64>` of a key, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// A pinned fingerprint in canonical form: `SHA256:` prefix, no base64 padding.
pub fn normalize_pin(pin: &str) -> String {
    let pin = pin.trim();
    let body = pin.strip_prefix("SHA256:").unwrap_or(pin);
    format!("SHA256:{}", body.trim_end_matches('='))
}

/// What known_hosts says about one host.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: PublicKey,
    pub revoked: bool,
    pub file: PathBuf,
    pub line: usize,
}

/// The name known_hosts records for `host:port`.
pub fn host_port(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_ascii_lowercase()
    } else {
        format!("[{}]:{port}", host.to_ascii_lowercase())
    }
}

/// Every key recorded for `host:port` in `files` (missing files are empty; lines that do not
/// parse, `@cert-authority` lines and keys of unknown types are ignored, like OpenSSH does).
pub fn entries(files: &[PathBuf], host: &str, port: u16) -> Vec<Entry> {
    let name = host_port(host, port);
    let mut found = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read(file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&text);
        for (n, line) in text.lines().enumerate() {
            if let Some((revoked, key)) = parse_line(line, &name) {
                found.push(Entry {
                    key,
                    revoked,
                    file: file.clone(),
                    line: n + 1,
                });
            }
        }
    }
    found
}

/// `(revoked, key)` when `line` is about host `name`.
fn parse_line(line: &str, name: &str) -> Option<(bool, PublicKey)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_ascii_whitespace();
    let mut first = fields.next()?;
    let mut revoked = false;
    if let Some(marker) = first.strip_prefix('@') {
        match marker {
            "revoked" => revoked = true,
            _ => return None,
        }
        first = fields.next()?;
    }
    let key_type = fields.next()?;
    let key_b64 = fields.next()?;
    if !hosts_match(first, name) {
        return None;
    }
    let key = PublicKey::from_openssh(&format!("{key_type} {key_b64}")).ok()?;
    Some((revoked, key))
}

/// OpenSSH host pattern list semantics: any negated match vetoes, else any positive match.
fn hosts_match(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(hashed) = pattern.strip_prefix("|1|") {
            if hashed_match(hashed, name) {
                matched = true;
            }
        } else if let Some(neg) = pattern.strip_prefix('!') {
            if wildcard_match(&neg.to_ascii_lowercase(), name) {
                return false;
            }
        } else if wildcard_match(&pattern.to_ascii_lowercase(), name) {
            matched = true;
        }
    }
    matched
}

/// `|1|salt|hash`: HMAC-SHA1 of the name keyed by the salt, both base64.
fn hashed_match(salt_and_hash: &str, name: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else {
        return false;
    };
    let b64 = data_encoding::BASE64;
    let (Ok(salt), Ok(hash)) = (b64.decode(salt.as_bytes()), b64.decode(hash.as_bytes())) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// `*` and `?` glob match over bytes.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// What to trust for one connection.
#[derive(Debug, Clone)]
pub struct HostKeyPolicy {
    pub host: String,
    pub port: u16,
    /// A pinned `SHA256:` fingerprint; when set, known_hosts is not consulted.
    pub pinned: Option<String>,
    /// known_hosts files to read, the user's (writable) one first.
    pub files: Vec<PathBuf>,
    /// Record an unknown key in `files[0]` and trust it.
    pub accept_new: bool,
}

/// The outcome of checking the key a server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    /// Unknown before, now recorded in this file.
    Learned(PathBuf),
    Unknown {
        fingerprint: String,
        algorithm: String,
        /// Key types known_hosts does hold for this host (the server offered another).
        other_types: Vec<String>,
    },
    Changed {
        expected: String,
        found: String,
        /// Where the expected key came from: "the pinned host_key" or `FILE:LINE`.
        source: String,
    },
    Revoked {
        fingerprint: String,
        source: String,
    },
    /// The key was unknown and could not be recorded.
    NotRecorded {
        fingerprint: String,
        error: String,
    },
}

impl HostKeyPolicy {
    pub fn check(&self, key: &PublicKey) -> Verdict {
        let found = fingerprint(key);
        let known = entries(&self.files, &self.host, self.port);
        // A revocation wins over everything, a pin included (OpenSSH does the same).
        if let Some(e) = known
            .iter()
            .find(|e| e.revoked && e.key.key_data() == key.key_data())
        {
            return Verdict::Revoked {
                fingerprint: found,
                source: format!("{}:{}", e.file.display(), e.line),
            };
        }
        if let Some(pin) = &self.pinned {
            let pin = normalize_pin(pin);
            return if pin == found {
                Verdict::Trusted
            } else {
                Verdict::Changed {
                    expected: pin,
                    found,
                    source: "the pinned host_key".into(),
                }
            };
        }
        let live: Vec<&Entry> = known.iter().filter(|e| !e.revoked).collect();
        if live.iter().any(|e| e.key.key_data() == key.key_data()) {
            return Verdict::Trusted;
        }
        if let Some(e) = live.iter().find(|e| e.key.algorithm() == key.algorithm()) {
            return Verdict::Changed {
                expected: fingerprint(&e.key),
                found,
                source: format!("{}:{}", e.file.display(), e.line),
            };
        }
        if self.accept_new {
            let Some(file) = self.files.first() else {
                return Verdict::NotRecorded {
                    fingerprint: found,
                    error: "no known_hosts file to write".into(),
                };
            };
            return match learn(file, &self.host, self.port, key) {
                Ok(Learned::Recorded) => Verdict::Learned(file.clone()),
                // Another zfleet recorded this very key meanwhile.
                Ok(Learned::AlreadyKnown) => Verdict::Trusted,
                // ... or another key of the same type: check again against the file.
                Ok(Learned::Conflict) => HostKeyPolicy {
                    accept_new: false,
                    ..self.clone()
                }
                .check(key),
                Err(e) => Verdict::NotRecorded {
                    fingerprint: found,
                    error: format!("{}: {e}", file.display()),
                },
            };
        }
        let mut other_types: Vec<String> = live
            .iter()
            .map(|e| e.key.algorithm().as_str().to_string())
            .collect();
        other_types.dedup();
        Verdict::Unknown {
            fingerprint: found,
            algorithm: key.algorithm().as_str().to_string(),
            other_types,
        }
    }

    /// Host key algorithms known for this host, so they can be asked for first (as OpenSSH
    /// does) and a server with several keys shows the one already recorded.
    pub fn known_algorithms(&self) -> Vec<russh::keys::Algorithm> {
        if self.pinned.is_some() {
            return Vec::new();
        }
        entries(&self.files, &self.host, self.port)
            .into_iter()
            .filter(|e| !e.revoked)
            .map(|e| e.key.algorithm())
            .collect()
    }
}

/// What [`learn`] did.
enum Learned {
    Recorded,
    AlreadyKnown,
    /// The file gained another key of this type for the host meanwhile.
    Conflict,
}

/// Records `key` for `host:port` unless the file, re-read under an exclusive lock, already
/// has a key of its type for the host: several zfleet processes learning the same new host
/// at once write one line.
fn learn(file: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<Learned> {
    let f = crate::files::create_private(file)?;
    let _lock = crate::files::lock_exclusive(&f)?;
    let on_file = entries(&[file.to_path_buf()], host, port);
    if on_file
        .iter()
        .any(|e| !e.revoked && e.key.key_data() == key.key_data())
    {
        return Ok(Learned::AlreadyKnown);
    }
    if on_file
        .iter()
        .any(|e| e.revoked || e.key.algorithm() == key.algorithm())
    {
        return Ok(Learned::Conflict);
    }
    append(file, host, port, key)?;
    Ok(Learned::Recorded)
}

/// Appends `host key` to a known_hosts file, creating it 0600 (and its folder 0700) whatever
/// the umask.
pub fn append(file: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
    let needs_newline = match std::fs::read(file) {
        Ok(bytes) => bytes.last().is_some_and(|&b| b != b'\n'),
        Err(_) => false,
    };
    let key_text = key
        .to_openssh()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // `to_openssh` includes the comment; known_hosts wants `type base64` only.
    let mut parts = key_text.split_ascii_whitespace();
    let (Some(kind), Some(b64)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other("cannot encode the host key"));
    };
    let mut f = crate::files::create_private(file)?;
    let prefix = if needs_newline { "\n" } else { "" };
    f.write_all(format!("{prefix}{} {kind} {b64}\n", host_port(host, port)).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIME215G+DzBlG3oia8ZTnWR5lQKOE18JQitvTZ1+stW8";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEgF3tNuM0iyGhbHGPfz5tU9a2RNxsr9L5KTZCegs4Wy";

    fn key(text: &str) -> PublicKey {
        PublicKey::from_openssh(text).expect("test key")
    }

    fn policy(dir: &Path, text: &str, host: &str, port: u16) -> HostKeyPolicy {
        let file = dir.join("known_hosts");
        std::fs::write(&file, text).expect("write");
        HostKeyPolicy {
            host: host.into(),
            port,
            pinned: None,
            files: vec![file],
            accept_new: false,
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.lan", "nas1.lan"));
        assert!(wildcard_match("nas?.lan", "nas1.lan"));
        assert!(!wildcard_match("nas?.lan", "nas12.lan"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("a*b", "acbd"));
        assert!(wildcard_match("a*b*", "acbd"));
    }

    #[test]
    fn plain_port_and_negated_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "# comment\n\nnas1.lan,10.0.0.1 {ED}\n[nas2.lan]:2222\t{ED}\n*.lan,!nas3.lan {ED}\n"
        );
        let p = policy(dir.path(), &text, "NAS1.lan", 22);
        assert_eq!(p.check(&key(ED)), Verdict::Trusted);
        let p = policy(dir.path(), &text, "nas2.lan", 2222);
        assert_eq!(p.check(&key(ED)), Verdict::Trusted);
        let p = policy(dir.path(), &text, "nas4.lan", 22);
        assert_eq!(p.check(&key(ED)), Verdict::Trusted);
        let p = policy(dir.path(), &text, "nas3.lan", 22);
        assert!(matches!(p.check(&key(ED)), Verdict::Unknown { .. }));
        // Port 22 entries do not vouch for another port.
        let p = policy(dir.path(), &text, "nas1.lan", 2222);
        assert!(matches!(p.check(&key(ED)), Verdict::Unknown { .. }));
    }

    #[test]
    fn hashed_entries() {
        // `ssh-keygen -H` form of "[nas1.lan]:2222": HMAC-SHA1 keyed by the salt.
        let salt = [7u8; 20];
        let mac = Hmac::<Sha1>::new_from_slice(&salt)
            .expect("hmac")
            .chain_update(b"[nas1.lan]:2222")
            .finalize()
            .into_bytes();
        let b64 = data_encoding::BASE64;
        let line = format!("|1|{}|{} {ED}\n", b64.encode(&salt), b64.encode(&mac));
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(dir.path(), &line, "nas1.lan", 2222);
        assert_eq!(p.check(&key(ED)), Verdict::Trusted);
        let p = policy(dir.path(), &line, "nas1.lan", 22);
        assert!(matches!(p.check(&key(ED)), Verdict::Unknown { .. }));
    }

    #[test]
    fn changed_and_revoked_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(
            dir.path(),
            &format!("garbage line\nnas1.lan {ED}\n"),
            "nas1.lan",
            22,
        );
        match p.check(&key(ED2)) {
            Verdict::Changed {
                expected,
                found,
                source,
            } => {
                assert_eq!(expected, fingerprint(&key(ED)));
                assert_eq!(found, fingerprint(&key(ED2)));
                assert!(source.ends_with("known_hosts:2"), "{source}");
            }
            other => panic!("{other:?}"),
        }
        let p = policy(
            dir.path(),
            &format!("@revoked * {ED}\nnas1.lan {ED}\n"),
            "nas1.lan",
            22,
        );
        assert!(matches!(p.check(&key(ED)), Verdict::Revoked { .. }));
    }

    #[test]
    fn pins_win_over_known_hosts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = policy(dir.path(), &format!("nas1.lan {ED}\n"), "nas1.lan", 22);
        p.pinned = Some(format!("{}=", fingerprint(&key(ED2))));
        assert_eq!(p.check(&key(ED2)), Verdict::Trusted);
        assert!(matches!(p.check(&key(ED)), Verdict::Changed { .. }));
        // ... but not over a revocation of the pinned key.
        std::fs::write(&p.files[0], format!("@revoked nas1.lan {ED2}\n")).expect("write");
        assert!(matches!(p.check(&key(ED2)), Verdict::Revoked { .. }));
    }

    #[test]
    fn concurrent_learners_write_one_line() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("tempdir");
            let file = dir.path().join("known_hosts");
            let p = HostKeyPolicy {
                host: "nas9.lan".into(),
                port: 22,
                pinned: None,
                files: vec![file.clone()],
                accept_new: true,
            };
            let start = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        start.wait();
                        let v = p.check(&key(ED));
                        assert!(matches!(v, Verdict::Learned(_) | Verdict::Trusted), "{v:?}");
                    });
                }
            });
            let text = std::fs::read_to_string(&file).expect("written");
            assert_eq!(text, format!("nas9.lan {ED}\n"), "round {round}");
        }
    }

    #[test]
    fn accept_new_records_then_trusts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("sub/known_hosts");
        let p = HostKeyPolicy {
            host: "nas9.lan".into(),
            port: 2200,
            pinned: None,
            files: vec![file.clone()],
            accept_new: true,
        };
        assert_eq!(p.check(&key(ED)), Verdict::Learned(file.clone()));
        let text = std::fs::read_to_string(&file).expect("written");
        assert_eq!(text, format!("[nas9.lan]:2200 {ED}\n"));
        let strict = HostKeyPolicy {
            accept_new: false,
            ..p
        };
        assert_eq!(strict.check(&key(ED)), Verdict::Trusted);
        assert!(matches!(strict.check(&key(ED2)), Verdict::Changed { .. }));
    }
}
