//! The config file: YAML with byte spans, turned into the validated [`crate::model`].
//!
//! `node` parses YAML into a tree that keeps spans, `de` deserializes the [`raw`] types from
//! it (collecting unknown keys), `validate` turns them into the model. `codes` lists every
//! diagnostic code of this layer.

pub mod codes;
pub mod de;
pub mod load;
pub mod node;
pub mod pieces;
pub mod raw;
pub mod schema;
pub mod validate;

use std::path::Path;

use crate::diag::Problem;
use crate::model::Config;

pub use codes::CODES;

/// Reads and validates a config file; all problems at once.
pub fn load(path: &Path) -> Result<Config, Vec<Problem>> {
    let (config, problems) = check(path);
    match config {
        Some(c) if !problems.iter().any(Problem::is_error) => Ok(c),
        _ => Err(problems),
    }
}

/// Reads and validates a config file, returning the model (if it could be built) and every
/// problem found, in file order.
pub fn check(path: &Path) -> (Option<Config>, Vec<Problem>) {
    let doc = match load::read(path) {
        Ok(doc) => doc,
        Err(p) => return (None, vec![p]),
    };
    let (config, mut problems) = validate::validate(&doc, path);
    problems.extend(doc.problems.iter().cloned());
    problems.sort_by_key(|p| p.span.as_ref().map_or(0, |(s, _)| s.offset()));
    (Some(config), problems)
}
