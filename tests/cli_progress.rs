//! `zfleet systems` on a real terminal (tmux): one progress line per system while it works
//! (connecting, reading, done, failed), and only the report once it is done. The screens
//! are compared with `tests/golden/systems_progress*.txt` (spinner frames and seconds
//! normalised). Needs tmux (`apt-get install tmux`).

#[path = "support/silent.rs"]
mod silent;
use silent::silent_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server, killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "this test drives zfleet on a terminal with tmux: install it (apt-get install tmux)"
        );
        let socket = format!("zfleet-progress-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "120", "-y", "16", command])
            .status()
            .expect("tmux new-session");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits for a screen that satisfies `ready`; panics with the last screen otherwise.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "no {what} on screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
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
fn normalise(screen: &str, port: u16) -> String {
    let spinners = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut out = String::new();
    for line in screen.lines() {
        let mut line: String = line
            .chars()
            .map(|c| if spinners.contains(&c) { '*' } else { c })
            .collect();
        line = line.replace(&port.to_string(), "PORT");
        // `… 3s` at the end of a progress line.
        if let Some((head, tail)) = line.rsplit_once(' ')
            && tail.ends_with('s')
            && tail[..tail.len() - 1].chars().all(|c| c.is_ascii_digit())
            && !tail[..tail.len() - 1].is_empty()
        {
            line = format!("{head} Ns");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("ZFLEET_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (ZFLEET_BLESS=1 writes it)", path.display()));
    assert_eq!(actual, expected, "screen differs from {}", path.display());
}

fn copy_example(to: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab");
    std::fs::create_dir_all(to.join("sim")).expect("mkdir");
    for entry in std::fs::read_dir(src.join("sim")).expect("sim/") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join("sim").join(entry.file_name())).expect("copy");
    }
    to.join("zfleet.yaml")
}

#[test]
fn systems_shows_progress_per_system_on_a_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let config = copy_example(dir.path());
    let port = silent_server();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/homelab/zfleet.yaml"),
    )
    .expect("example");
    // The example fleet, and a system whose SSH server accepts but never answers.
    let systems_at = example.find("systems:\n").expect("systems:") + "systems:\n".len();
    let config_text = format!(
        "{}  hung: {{ host: 127.0.0.1, port: {port}, connect_timeout: 8, host_key: \"SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8\" }}\n{}",
        &example[..systems_at],
        &example[systems_at..]
    )
    .replace("# yaml-language-server: $schema=../../schemas/zfleet.schema.json\n", "");
    std::fs::write(&config, config_text).expect("config");
    let state = dir.path().join("state");
    let zfleet = env!("CARGO_BIN_EXE_zfleet");
    let seeded = Command::new(zfleet)
        .args(["systems", "--connect-timeout", "1", "-f"])
        .arg(&config)
        .env("ZFLEET_SIM_STATE_DIR", &state)
        .env("HOME", &home)
        .output()
        .expect("seed");
    assert_eq!(seeded.status.code(), Some(1), "{seeded:?}");
    // nas1 answers slowly: each midclt call takes 2.5 s.
    let faults = Command::new(zfleet)
        .args(["sim", "faults", "--state"])
        .arg(&state)
        .args(["nas1", "--midclt-ms", "2500"])
        .output()
        .expect("faults");
    assert!(faults.status.success(), "{faults:?}");

    let command = format!(
        "cd '{}' && env -u NO_COLOR HOME='{}' ZFLEET_SIM_STATE_DIR='{}' '{zfleet}' systems; echo \"exit $?\"; sleep 120",
        dir.path().display(),
        home.display(),
        state.display()
    );
    let tmux = Tmux::start(&command);
    let working = tmux.wait_for("progress with nas1 reading and hung connecting", |s| {
        let line = |name: &str| {
            s.lines()
                .find(|l| l.contains(name))
                .unwrap_or("")
                .to_string()
        };
        ["backup", "nas2", "offsite"]
            .iter()
            .all(|n| line(n).contains("done:"))
            && line("nas1").contains("reading")
            && line("hung").contains("connecting to")
    });
    golden("systems_progress_working.txt", &normalise(&working, port));

    let done = tmux.wait_for("the end of the run", |s| s.contains("exit "));
    let done = normalise(&done, port);
    assert!(
        !done.contains("done:") && !done.contains("reading"),
        "{done}"
    );
    golden("systems_progress_done.txt", &done);
}
