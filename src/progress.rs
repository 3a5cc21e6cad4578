//! Per-system progress on a terminal while systems are reached: one line per system,
//! `connecting`, `reading`, then `done` or `failed`. Nothing at all when stderr is not a
//! terminal, so logs and pipes stay clean.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::shown::printable;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where one system is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opening the connection (`target` is `host:port`, or the simulator).
    Connecting { target: String },
    /// Connected; reading its state.
    Reading,
    /// Working on something else (apply's stages).
    Working(String),
    /// Finished; a short summary.
    Done(String),
    /// Finished with an error; its diagnostic code.
    Failed(String),
}

/// The display currently on screen, so that a passphrase prompt can clear it first.
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// A handle shared by the tasks that reach systems; cheap to clone. `hidden()` does nothing.
#[derive(Clone)]
pub struct Progress {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Progress {
    pub fn hidden() -> Progress {
        Progress { inner: None }
    }

    /// One line per system on stderr if it is a terminal; hidden otherwise.
    pub fn for_systems(names: &[String]) -> Progress {
        use std::io::IsTerminal;
        if names.is_empty() || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        Progress::drawn_to(names, ProgressDrawTarget::stderr())
    }

    fn drawn_to(names: &[String], target: ProgressDrawTarget) -> Progress {
        let multi = MultiProgress::with_draw_target(target);
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let style = ProgressStyle::with_template("{spinner} {prefix}  {wide_msg} {elapsed:>4}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ");
        let bars = names
            .iter()
            .map(|name| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(format!("{:<width$}", printable(name)));
                bar.set_message("waiting");
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .collect();
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(multi.clone());
        }
        Progress {
            inner: Some(Arc::new(Inner { multi, bars })),
        }
    }

    /// System number `index` (in the order given) moved to `phase`.
    pub fn update(&self, index: usize, phase: Phase) {
        let Some(bar) = self.inner.as_ref().and_then(|i| i.bars.get(index)) else {
            return;
        };
        match phase {
            Phase::Connecting { target } => {
                bar.set_message(format!("connecting to {}", printable(&target)))
            }
            Phase::Reading => bar.set_message("reading"),
            Phase::Working(what) => bar.set_message(printable(&what)),
            Phase::Done(summary) => {
                bar.set_style(finished_style("✔"));
                bar.finish_with_message(format!("done: {}", printable(&summary)));
            }
            Phase::Failed(code) => {
                bar.set_style(finished_style("✘"));
                bar.finish_with_message(format!("failed: {}", printable(&code)));
            }
        }
    }

    /// Whether lines are drawn (stderr is a terminal).
    pub fn is_drawn(&self) -> bool {
        self.inner.is_some()
    }

    /// Takes the lines off the screen: what follows (the report) replaces them.
    pub fn finish(&self) {
        if let Some(inner) = &self.inner {
            for bar in &inner.bars {
                bar.finish();
            }
            let _ = inner.multi.clear();
        }
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
    }
}

fn finished_style(mark: &str) -> ProgressStyle {
    ProgressStyle::with_template(&format!("{mark} {{prefix}}  {{wide_msg}} {{elapsed:>4}}"))
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Runs `f` (a prompt on the terminal) with the progress lines taken off the screen.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let active = ACTIVE.lock().ok().and_then(|a| a.clone());
    match active {
        Some(multi) => multi.suspend(f),
        None => f(),
    }
}
