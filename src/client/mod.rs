//! The TrueNAS middleware API over `midclt`, version-aware, on top of a transport.

use crate::diag::CodeInfo;

pub const CODES: &[CodeInfo] = &[];
