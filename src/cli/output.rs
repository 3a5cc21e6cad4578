//! Writing to stdout and stderr the Unix way.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe (`zfleet schema | head -1`) returns
//! `EPIPE`, and `println!` turns that into a panic. Every line zfleet prints goes through
//! [`write_out`] / [`write_err`] instead: on a broken pipe the process ends at once and
//! quietly, killed by SIGPIPE exactly as `cat` or `ls` would be, so shells and `pipefail` see
//! the usual status. Other write errors (a full disk) are reported once on stderr if possible.

use std::io::{self, Write};

/// Writes `text` to stdout (flushed), ending the process quietly if the reader has gone.
pub fn write_out(text: &str) {
    let mut out = io::stdout().lock();
    handle(out.write_all(text.as_bytes()).and_then(|()| out.flush()));
}

/// Writes raw bytes to stdout (flushed), as [`write_out`].
pub fn write_out_bytes(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    handle(out.write_all(bytes).and_then(|()| out.flush()));
}

/// Writes `text` to stderr, ending the process quietly if the reader has gone.
pub fn write_err(text: &str) {
    let mut err = io::stderr().lock();
    handle(err.write_all(text.as_bytes()).and_then(|()| err.flush()));
}

fn handle(result: io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => die_of_sigpipe(),
        Err(e) => {
            // stdout on a full disk or a revoked terminal: say so once, if stderr still works,
            // and stop, since the output is incomplete.
            let _ = writeln!(io::stderr(), "zfleet: cannot write output: {e}");
            std::process::exit(74); // EX_IOERR
        }
    }
}

/// Restores the default SIGPIPE action and raises it, so the process ends as any Unix tool
/// whose reader went away. Exits with 141 (128 + SIGPIPE) should the signal not end it.
fn die_of_sigpipe() -> ! {
    // SAFETY: resetting a signal disposition and raising it in our own process; no other
    // state is touched, and the process ends here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

/// `print!` that handles a closed stdout.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write_out(&format!($($arg)*)) };
}

/// `println!` that handles a closed stdout.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::output::write_out("\n") };
    ($($arg:tt)*) => { $crate::cli::output::write_out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that handles a closed stderr.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::write_err(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that handles a closed stderr.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::write_err(&format!($($arg)*)) };
}
