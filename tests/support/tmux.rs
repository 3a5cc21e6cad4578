//! A command on a real terminal: a private tmux server, its screen read as text, and
//! screens (or any output) compared with golden files under `tests/golden/`
//! (`ZFLEET_BLESS=1` rewrites them). Needs tmux (`apt-get install tmux`).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server running one command, killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` (a shell line) on a `width` × `height` terminal.
    pub fn start(name: &str, command: &str, width: u16, height: u16) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "this test drives zfleet on a terminal with tmux: install it (apt-get install tmux)"
        );
        let socket = format!("zfleet-{name}-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string(), command])
            .status()
            .expect("tmux new-session");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours, as SGR escapes.
    pub fn screen_escaped(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` (tmux key names) into the terminal.
    pub fn keys(&self, keys: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", keys])
            .status()
            .expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys failed");
    }

    /// Waits for a screen that satisfies `ready`; panics with the last screen otherwise.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "no {what} on screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Spinner frames and elapsed seconds vary from run to run; the rest must not.
pub fn normalise(screen: &str) -> String {
    let spinners = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut out = String::new();
    for line in screen.lines() {
        let mut line: String = line
            .chars()
            .map(|c| if spinners.contains(&c) { '*' } else { c })
            .collect();
        if let Some((head, tail)) = line.rsplit_once(' ')
            && let Some(digits) = tail.strip_suffix('s')
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            line = format!("{head} Ns");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// Compares `actual` (a screen or a command's output) with `tests/golden/NAME`.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("ZFLEET_BLESS").is_some() {
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (ZFLEET_BLESS=1 writes it)", path.display()));
    assert_eq!(actual, expected, "differs from {}", path.display());
}
