//! A simulated TrueNAS: state, middleware methods, midclt-compatible output, jobs and time.

pub mod cli;

use crate::diag::CodeInfo;

pub const CODES: &[CodeInfo] = &[];
