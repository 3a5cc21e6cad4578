//! Snapshot naming schemas, checked exactly as zettarepl and the middleware check them.

pub const CODES: &[crate::diag::CodeInfo] = &[];
