//! Who may log in to `zfleet sim serve`, and what their `midclt` may do, decided as TrueNAS
//! decides it.
//!
//! A login names a user of the simulated system (unknown and locked users are refused, as
//! sshd refuses them). The middleware authenticates `midclt` by the caller's uid: root and
//! the uid-950 admin hold FULL_ADMIN; any other user is not authenticated, so every call
//! fails. `sudo -n midclt` runs as root when the user's `sudo_commands_nopasswd` allow it
//! (`ALL` or midclt's path), and otherwise fails as sudo does without a terminal.

use std::path::Path;

use super::MidcltOutput;
use super::errors::SimError;

/// The uid of TrueNAS SCALE's local administrator account.
pub const ADMIN_UID: u32 = 950;

/// Where `midclt` lives on SCALE and on CORE, as `sudo_commands_nopasswd` would name it.
const MIDCLT_PATHS: &[&str] = &["/usr/bin/midclt", "/usr/local/bin/midclt"];

/// A user allowed to log in, as the state had it at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub uid: u32,
    /// The user's own `authorized_keys` text (`sshpubkey`), if any.
    pub sshpubkey: Option<String>,
    sudo_nopasswd: Vec<String>,
    no_login: bool,
}

impl Account {
    /// Holds FULL_ADMIN over the middleware's unix socket.
    pub fn is_admin(&self) -> bool {
        self.uid == 0 || self.uid == ADMIN_UID
    }

    fn may_sudo_midclt(&self) -> bool {
        self.uid == 0
            || self
                .sudo_nopasswd
                .iter()
                .any(|c| c == "ALL" || MIDCLT_PATHS.contains(&c.as_str()))
    }
}

/// The account `user` logs in to on the system whose state is `state_file`; `None` for a
/// user the system does not have, a locked one, or an unreadable state.
pub fn lookup(state_file: &Path, user: &str) -> Option<Account> {
    let state = super::load(state_file).ok()?;
    let u = state
        .users
        .iter()
        .find(|u| u.username == user && !u.locked)?;
    Some(Account {
        username: u.username.clone(),
        uid: u.uid,
        sshpubkey: u.sshpubkey.clone(),
        sudo_nopasswd: u.sudo_commands_nopasswd.clone(),
        no_login: u.shell.ends_with("nologin"),
    })
}

/// Runs one `midclt` invocation (`argv` after `midclt`) for `account`, with `sudo -n` in
/// front when `sudo` is set.
pub fn midclt(state_file: &Path, account: &Account, sudo: bool, argv: &[String]) -> MidcltOutput {
    if account.no_login {
        // sshd runs commands through the login shell, and nologin refuses them all.
        return failed("This account is currently not available.\n");
    }
    if sudo && !account.may_sudo_midclt() {
        return failed("sudo: a password is required\n");
    }
    if sudo || account.is_admin() {
        return super::midclt(state_file, argv);
    }
    match super::load(state_file) {
        Ok(state) => {
            let p = state.personality();
            if p.jsonrpc() {
                let (stderr, exit) =
                    SimError::call("ENOTAUTHENTICATED", "Not authenticated").render(p);
                MidcltOutput {
                    stdout: String::new(),
                    stderr,
                    exit,
                }
            } else {
                failed("Not authenticated\n")
            }
        }
        // No state: the middleware is not there, which midclt reports first.
        Err(_) => super::midclt(state_file, argv),
    }
}

fn failed(stderr: &str) -> MidcltOutput {
    MidcltOutput {
        stdout: String::new(),
        stderr: stderr.into(),
        exit: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(version: &str, users: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let fixture = dir.path().join("f.yaml");
        std::fs::write(&fixture, format!("version: \"{version}\"\nusers:\n{users}")).unwrap();
        let state = dir.path().join("nas1.json");
        super::super::seed(&state, Some(&fixture), None).unwrap();
        (dir, state)
    }

    const USERS: &str = "  - { username: ops, uid: 3000, home: /home/ops }\n  \
        - { username: backup, uid: 3001, home: /home/backup, sudo_commands_nopasswd: [/usr/bin/midclt] }\n  \
        - { username: gone, uid: 3002, home: /nonexistent, locked: true }\n  \
        - { username: svc, uid: 3003, home: /nonexistent, shell: /usr/sbin/nologin }\n";

    fn call(state: &Path, user: &str, sudo: bool) -> MidcltOutput {
        let account = lookup(state, user).unwrap();
        midclt(state, &account, sudo, &["call".into(), "core.ping".into()])
    }

    #[test]
    fn admins_run_midclt_and_others_are_not_authenticated() {
        let (_d, state) = fleet("25.10", USERS);
        assert_eq!(call(&state, "root", false).exit, 0);
        assert_eq!(call(&state, "truenas_admin", false).exit, 0);
        let ops = call(&state, "ops", false);
        assert_eq!(ops.exit, 1);
        assert!(
            ops.stderr
                .starts_with("[ENOTAUTHENTICATED] Not authenticated\nTraceback"),
            "{}",
            ops.stderr
        );
        assert_eq!(ops.stdout, "");
    }

    #[test]
    fn legacy_versions_say_it_plainly() {
        let (_d, state) = fleet("24.10", USERS);
        assert_eq!(call(&state, "ops", false), failed("Not authenticated\n"));
    }

    #[test]
    fn sudo_needs_nopasswd_for_midclt() {
        let (_d, state) = fleet("25.10", USERS);
        assert_eq!(call(&state, "backup", true).exit, 0);
        assert_eq!(call(&state, "root", true).exit, 0);
        // The admin account is created with a password for sudo.
        assert_eq!(
            call(&state, "truenas_admin", true),
            failed("sudo: a password is required\n")
        );
        assert_eq!(
            call(&state, "ops", true),
            failed("sudo: a password is required\n")
        );
    }

    #[test]
    fn unknown_locked_and_nologin_users() {
        let (_d, state) = fleet("25.10", USERS);
        assert_eq!(lookup(&state, "nobody"), None);
        assert_eq!(lookup(&state, "gone"), None);
        assert_eq!(
            call(&state, "svc", false),
            failed("This account is currently not available.\n")
        );
        assert_eq!(lookup(&state.with_file_name("none.json"), "root"), None);
    }
}
