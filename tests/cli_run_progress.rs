//! `zfleet run` on a real terminal (tmux), as a person sees it: one progress line per
//! system with the job's percent and TrueNAS's progress text while the runs go on, then
//! one result line per run. Compared with `tests/golden/run_progress_*.txt`.

#[path = "support/fleet.rs"]
mod fleet;
#[path = "support/request_schemas.rs"]
mod request_schemas;
#[path = "support/tmux.rs"]
mod tmux;

use fleet::{Fleet, backup_fixture, nas1_fixture, small_with_connection};
use tmux::{Tmux, golden, normalise};

const SNAPSHOTS: &str = "snapshots:
  - { name: DS@auto-2025-10-30_11-00, creation: 2025-10-30T11:00:00Z }
  - { name: DS@auto-2025-10-30_12-00, creation: 2025-10-30T12:00:00Z }
  - { name: DS@auto-2025-10-30_13-00, creation: 2025-10-30T13:00:00Z }
";

const CONFIG: &str = "snapshot_tasks:
  media-daily: { system: nas1, dataset: tank/media, schedule: daily, lifetime: 4 weeks }
  home-daily: { system: v2410, dataset: pool/home, schedule: daily, lifetime: 1 week }
replications:
  offsite:
    sources:
      - { system: nas1, datasets: [tank/media], snapshot_tasks: [media-daily] }
      - { system: v2410, datasets: [pool/home], snapshot_tasks: [home-daily] }
    target: { system: backup, dataset: backup/nas1/media }
    retention: source
    allow_from_scratch: true
";

#[test]
fn run_shows_a_progress_line_per_system_then_the_results() {
    let mut f = Fleet::new();
    f.system(
        "nas1",
        "25.10",
        &format!(
            "{}{}",
            nas1_fixture(),
            SNAPSHOTS.replace("DS", "tank/media")
        ),
    )
    .system("backup", "25.04", &backup_fixture())
    .system(
        "v2410",
        "24.10",
        &format!(
            "{}{}",
            small_with_connection(),
            SNAPSHOTS.replace("DS", "pool/home")
        ),
    );
    f.config("e2e", CONFIG);
    f.zfleet(&["apply", "--yes"]).expect(0);
    // A slow job: its progress moves one snapshot per look, a second apart.
    zfleet::sim::clock::set_job_ms(&f.state_dir(), 60_000).expect("job_ms");

    let command = format!(
        "cd '{}' && env -u NO_COLOR -u ZFLEET_FILE -u ZFLEET_SIM_STATE_DIR HOME='{}' ZFLEET_API_TRACE='{}' '{}' run offsite; echo \"exit $?\"; sleep 120",
        f.path().display(),
        f.path().display(),
        f.trace_file().display(),
        env!("CARGO_BIN_EXE_zfleet"),
    );
    let tmux = Tmux::start("run", &command, 120, 12);
    let working = tmux.wait_for("both systems sending their second snapshot", |s| {
        let line = |name: &str| {
            s.lines()
                .find(|l| l.contains(name))
                .unwrap_or("")
                .to_string()
        };
        line("nas1").contains("Sending 2 of 3") && line("v2410").contains("Sending 2 of 3")
    });
    golden("run_progress_working.txt", &normalise(&working));
    let done = tmux.wait_for("the end of the run", |s| s.contains("exit "));
    golden("run_progress_done.txt", &normalise(&done));
    f.assert_trace_valid(5);
}
