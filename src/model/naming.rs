//! Snapshot naming schemas, checked exactly as zettarepl and the middleware check them.

pub const CODES: &[crate::diag::CodeInfo] = &[];

// Placeholder until the full rules land.
pub fn validate(schema: &str) -> Result<(), String> {
    for p in ["%Y", "%m", "%d", "%H", "%M"] {
        if !schema.contains(p) {
            return Err(format!("{p} must be present in snapshot naming schema"));
        }
    }
    Ok(())
}
