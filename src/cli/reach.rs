//! The options of every command that reaches systems: trust and timeouts.

use std::time::Duration;

use crate::transport::{ConnectOptions, SetBy};

#[derive(Debug, Clone, clap::Args)]
pub struct ReachArgs {
    /// Trust host keys seen for the first time and record them in known_hosts.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Time allowed to connect, for the SSH handshake and for logging in, each: seconds or
    /// with a unit (`30s`, `2m`). Overrides `connect_timeout:` of every system and
    /// `ConnectTimeout` of ~/.ssh/config [default: 15s].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for each round of up to 16 concurrent midclt calls on a system: seconds
    /// or with a unit. Overrides `timeout:` of every system [default: 90s].
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    crate::model::duration::parse_timeout(text)
}

impl ReachArgs {
    /// Connection options from the environment with these flags applied.
    pub fn connect_options(&self) -> ConnectOptions {
        let mut opts = ConnectOptions {
            accept_new_host_keys: self.accept_new_host_keys,
            ..ConnectOptions::default()
        };
        if let Some(t) = self.connect_timeout {
            opts.set_connect_timeout(t, SetBy::CommandLine);
        }
        if let Some(t) = self.timeout {
            opts.set_call_timeout(t, SetBy::CommandLine);
        }
        opts
    }
}
