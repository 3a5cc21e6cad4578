//! A simulated TrueNAS: state, middleware methods, midclt-compatible output, jobs and time.

pub mod cli;
pub mod faults;
pub mod server;

use crate::diag::CodeInfo;

pub const CODES: &[CodeInfo] = &[];

/// What one midclt invocation printed and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MidcltOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit: i32,
}
