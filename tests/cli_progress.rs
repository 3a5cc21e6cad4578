//! `zfleet systems` on a real terminal (tmux): one progress line per system while it works
//! (connecting, reading, done, failed), and only the report once it is done. The screens
//! are compared with `tests/golden/systems_progress*.txt` (spinner frames and seconds
//! normalised). Needs tmux (`apt-get install tmux`).

#[path = "support/silent.rs"]
mod silent;
#[path = "support/tmux.rs"]
mod tmux;
use silent::silent_server;
use tmux::{Tmux, golden};

use std::path::{Path, PathBuf};
use std::process::Command;

/// Spinner frames, seconds and the silent server's port vary from run to run.
fn normalise(screen: &str, port: u16) -> String {
    tmux::normalise(&screen.replace(&port.to_string(), "PORT"))
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
    let tmux = Tmux::start("progress", &command, 120, 16);
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
