//! zfleet's SSH client settings for tests: a plain system and options isolated from the user
//! running the tests (their HOME, agent, passphrase and global known_hosts are never used).
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use zfleet::model::SshSystem;
use zfleet::transport::{ConnectOptions, SetBy};

/// The user running the tests: the sshd they start lets that user in.
pub fn current_user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `host[:port]` with nothing else set.
pub fn ssh_system(host: &str, port: Option<u16>) -> SshSystem {
    SshSystem {
        host: host.into(),
        port,
        user: None,
        identity_file: None,
        host_key: None,
        known_hosts: None,
        replication_address: None,
        sudo: false,
    }
}

/// Options isolated from the real user: `home` as HOME, no agent, no global known_hosts.
pub fn opts(home: &Path) -> ConnectOptions {
    ConnectOptions {
        connect_timeout: Duration::from_secs(20),
        connect_timeout_from: SetBy::Default,
        call_timeout: Duration::from_secs(30),
        call_timeout_from: SetBy::Default,
        keepalive_interval: Duration::from_secs(15),
        accept_new_host_keys: false,
        home: Some(home.to_path_buf()),
        ssh_config: None,
        known_hosts: None,
        global_known_hosts: Vec::new(),
        agent_socket: None,
        passphrase: None,
        prompt_passphrase: false,
        max_channels: 8,
    }
}
