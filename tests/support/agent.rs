//! A real `ssh-agent` for tests, listening on a socket in a test's directory, killed on drop.
#![allow(dead_code)]

// The test crate declares `mod openssh` (support/openssh.rs) beside this module.
use crate::openssh;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Agent {
    child: Child,
    pub socket: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ssh-agent -D -a DIR/agent.sock` and waits for its socket; `None` when ssh-agent
/// or ssh-add is missing and the user opted out of such tests.
pub fn start_agent(dir: &Path) -> Option<Agent> {
    if !openssh::require(&["ssh-agent", "ssh-add"]) {
        return None;
    }
    let socket = dir.join("agent.sock");
    let child = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-agent");
    let agent = Agent { child, socket };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !agent.socket.exists() {
        assert!(Instant::now() < deadline, "ssh-agent did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(agent)
}
