//! The part of `~/.ssh/config` zfleet honours: for a host alias, `HostName`, `Port`, `User`,
//! `IdentityFile`, `IdentityAgent`, `IdentitiesOnly`, `UserKnownHostsFile`, `ConnectTimeout` and `ProxyJump` (`ProxyCommand` is recognised only to
//! be refused), with OpenSSH's rules (first value wins, `Host`
//! patterns with `*`, `?` and `!`, `%` tokens, `~`, `Include` with wildcards in the file
//! name). `Match` blocks are skipped: they never apply.

use std::path::{Path, PathBuf};

use super::known_hosts::wildcard_match;

/// What the config says about one alias; `None`/empty where it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub host_name: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_files: Vec<String>,
    pub user_known_hosts_files: Vec<String>,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    pub identity_agent: Option<String>,
    pub identities_only: Option<bool>,
    pub connect_timeout: Option<std::time::Duration>,
}

/// How deep `Include`s may nest (OpenSSH's limit too).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Settings for `alias` from the config text, not following `Include`.
pub fn lookup(text: &str, alias: &str) -> HostConfig {
    let mut cfg = HostConfig::default();
    apply(text, alias, None, &mut cfg, 0);
    cfg
}

/// Settings for `alias` from the config text, following `Include` (relative paths are under
/// `home/.ssh`).
pub fn lookup_with_includes(text: &str, alias: &str, home: &Path) -> HostConfig {
    let mut cfg = HostConfig::default();
    apply(text, alias, Some(home), &mut cfg, 0);
    cfg
}

fn apply(text: &str, alias: &str, home: Option<&Path>, cfg: &mut HostConfig, depth: usize) {
    let mut active = true; // lines before the first Host apply to every host
    for raw in text.lines() {
        let Some((key, value)) = split_line(raw) else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "host" => active = host_matches(value, alias),
            "match" => active = false,
            _ if !active => {}
            "hostname" if cfg.host_name.is_none() => cfg.host_name = Some(unquote(value)),
            "port" if cfg.port.is_none() => cfg.port = unquote(value).parse().ok(),
            "user" if cfg.user.is_none() => cfg.user = Some(unquote(value)),
            "identityfile" => cfg.identity_files.push(unquote(value)),
            "identityagent" if cfg.identity_agent.is_none() => {
                cfg.identity_agent = Some(unquote(value))
            }
            "identitiesonly" if cfg.identities_only.is_none() => {
                cfg.identities_only = Some(unquote(value).eq_ignore_ascii_case("yes"))
            }
            // OpenSSH takes seconds or a time with units (`30`, `1m`); `none` or 0 means
            // the system default, which for zfleet is its own default.
            "connecttimeout" if cfg.connect_timeout.is_none() => {
                cfg.connect_timeout = crate::model::duration::parse_timeout(&unquote(value)).ok()
            }
            "proxyjump" if cfg.proxy_jump.is_none() => cfg.proxy_jump = Some(unquote(value)),
            "proxycommand" if cfg.proxy_command.is_none() => {
                cfg.proxy_command = Some(value.trim().to_string())
            }
            "userknownhostsfile" if cfg.user_known_hosts_files.is_empty() => {
                cfg.user_known_hosts_files = words(value)
            }
            "include" => {
                let Some(home) = home else { continue };
                if depth >= MAX_INCLUDE_DEPTH {
                    continue;
                }
                for file in include_files(value, home) {
                    if let Ok(bytes) = std::fs::read(&file) {
                        apply(
                            &String::from_utf8_lossy(&bytes),
                            alias,
                            Some(home),
                            cfg,
                            depth + 1,
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// The files one `Include` line names, wildcards in the file name expanded, sorted.
fn include_files(value: &str, home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for word in words(value) {
        let path = expand_tilde(&word, home);
        let path = if path.is_relative() {
            home.join(".ssh").join(path)
        } else {
            path
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.contains(['*', '?']) {
            out.push(path);
            continue;
        }
        let Some(dir) = path.parent() else { continue };
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut matched: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| wildcard_match(&name, &e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        matched.sort();
        out.extend(matched);
    }
    out
}

/// `Keyword value` or `Keyword=value`, comments and blank lines skipped.
fn split_line(raw: &str) -> Option<(&str, &str)> {
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_ascii_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((key, rest))
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.to_string(),
        None => v.split_ascii_whitespace().next().unwrap_or("").to_string(),
    }
}

/// Whitespace-separated words, double quotes grouping.
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_ascii_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `Host` pattern list: a negated match vetoes, else any positive match.
fn host_matches(patterns: &str, alias: &str) -> bool {
    let alias = alias.to_ascii_lowercase();
    let mut matched = false;
    for p in words(patterns) {
        let p = p.to_ascii_lowercase();
        if let Some(neg) = p.strip_prefix('!') {
            if wildcard_match(neg, &alias) {
                return false;
            }
        } else if wildcard_match(&p, &alias) {
            matched = true;
        }
    }
    matched
}

/// Values for `%` tokens in paths and `HostName`.
pub struct Tokens<'a> {
    pub home: &'a Path,
    pub alias: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
}

/// Expands `%%`, `%d`, `%h`, `%n`, `%p`, `%r` and a leading `~`.
pub fn expand(value: &str, t: &Tokens<'_>) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('d') => out.push_str(&t.home.to_string_lossy()),
            Some('h') => out.push_str(t.host),
            Some('n') => out.push_str(t.alias),
            Some('p') => out.push_str(&t.port.to_string()),
            Some('r') => out.push_str(t.user),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    expand_tilde(&out, t.home).to_string_lossy().into_owned()
}

/// `~` or `~/...` against `home`; other paths unchanged.
pub fn expand_tilde(path: &str, home: &Path) -> PathBuf {
    if path == "~" {
        home.to_path_buf()
    } else if let Some(rest) = path.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
# global defaults
User fallback

Host nas1 nas1.lan
    HostName 10.0.0.5
    Port=2222
    IdentityFile ~/.ssh/nas_%n
    IdentityFile "/keys/with space"
    UserKnownHostsFile ~/.ssh/kh_fleet /etc/ssh/other

Match host nas1
    Port 9999

Host *.lan !nas3.lan
    Port 2200
    User admin
    HostName %h.example

Host *
    Port 22
    IdentityFile ~/.ssh/id_ed25519
"#;

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let c = lookup(CONFIG, "nas1");
        assert_eq!(c.host_name.as_deref(), Some("10.0.0.5"));
        assert_eq!(c.port, Some(2222));
        assert_eq!(c.user.as_deref(), Some("fallback"));
        assert_eq!(
            c.identity_files,
            vec!["~/.ssh/nas_%n", "/keys/with space", "~/.ssh/id_ed25519"]
        );
        assert_eq!(
            c.user_known_hosts_files,
            vec!["~/.ssh/kh_fleet", "/etc/ssh/other"]
        );
    }

    #[test]
    fn connect_timeout_in_seconds_or_with_a_unit() {
        let c = lookup(
            "Host a\n  ConnectTimeout 40\nHost *\n  ConnectTimeout 5\n",
            "a",
        );
        assert_eq!(c.connect_timeout, Some(std::time::Duration::from_secs(40)));
        let c = lookup("Host *\n  connecttimeout=2m\n", "b");
        assert_eq!(c.connect_timeout, Some(std::time::Duration::from_secs(120)));
        let c = lookup("Host *\n  ConnectTimeout none\n", "b");
        assert_eq!(c.connect_timeout, None);
    }

    #[test]
    fn wildcards_negation_and_case() {
        let c = lookup(CONFIG, "NAS2.lan");
        assert_eq!(c.port, Some(2200));
        assert_eq!(c.host_name.as_deref(), Some("%h.example"));
        let c = lookup(CONFIG, "nas3.lan");
        assert_eq!(c.port, Some(22));
        assert_eq!(c.host_name, None);
    }

    #[test]
    fn includes_with_wildcards_relative_to_dot_ssh() {
        let home = tempfile::tempdir().expect("home");
        let d = home.path().join(".ssh/config.d");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("10-fleet.conf"), "Host nas*\n  Port 2201\n").expect("write");
        std::fs::write(
            d.join("20-more.conf"),
            "Host nas1\n  Port 2202\n  User ops\n",
        )
        .expect("write");
        std::fs::write(d.join("ignored.txt"), "Host *\n  Port 1\n").expect("write");
        let text = "Include config.d/*.conf\nHost *\n  Port 22\n  User root\n";
        let c = lookup_with_includes(text, "nas1", home.path());
        assert_eq!((c.port, c.user.as_deref()), (Some(2201), Some("ops")));
        // A self-including file stops at the depth limit.
        std::fs::write(d.join("30-loop.conf"), "Include config.d/30-loop.conf\n").expect("write");
        let c = lookup_with_includes(text, "other", home.path());
        assert_eq!(c.port, Some(22));
        assert_eq!(lookup(text, "nas1").port, Some(22));
    }

    #[test]
    fn tokens_and_tilde() {
        let home = Path::new("/home/u");
        let t = Tokens {
            home,
            alias: "nas1",
            host: "10.0.0.5",
            port: 2222,
            user: "root",
        };
        assert_eq!(expand("~/.ssh/nas_%n", &t), "/home/u/.ssh/nas_nas1");
        assert_eq!(
            expand("%d/%r@%h:%p %% %x", &t),
            "/home/u/root@10.0.0.5:2222 % %x"
        );
    }
}
