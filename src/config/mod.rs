//! The config file: YAML with byte spans, turned into the validated [`crate::model`].
//!
//! `node` parses YAML into a tree that keeps spans, `de` deserializes the [`raw`] types from
//! it (collecting unknown keys), `validate` turns them into the model. `codes` lists every
//! diagnostic code of this layer.

pub mod codes;
pub mod de;
pub mod load;
pub mod local;
pub mod node;
pub mod pieces;
pub mod raw;
pub mod schema;
pub mod validate;

use std::path::Path;

use crate::diag::Problem;
use crate::model::Config;

pub use codes::CODES;

/// Reads and validates a config (see [`load::read`] for what `path` may be); all problems at
/// once. The files it names on this machine are not checked here: a command that reaches
/// the systems reports a missing key or fixture for that system alone.
pub fn load(path: &Path) -> Result<Config, Vec<Problem>> {
    let doc = load::read(path).map_err(|p| vec![p])?;
    let (config, problems) = validate_doc(&doc);
    if problems.iter().any(Problem::is_error) {
        return Err(problems);
    }
    Ok(config)
}

/// What `zfleet validate` found.
pub struct Checked {
    /// The config's name in diagnostics: its path, or `<stdin>`.
    pub file: String,
    /// The model, if the config could be read at all (it is sound only without errors).
    pub config: Option<Config>,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

/// Reads and validates a config, and checks the files it names on this machine.
pub fn check(path: &Path) -> Checked {
    let doc = match load::read(path) {
        Ok(doc) => doc,
        Err(p) => {
            return Checked {
                file: load::display_name(path),
                config: None,
                problems: vec![p],
            };
        }
    };
    let (config, mut problems) = validate_doc(&doc);
    problems.extend(local::check(&doc));
    sort(&mut problems);
    Checked {
        file: doc.source.name().to_string(),
        config: Some(config),
        problems,
    }
}

fn validate_doc(doc: &load::Document) -> (Config, Vec<Problem>) {
    let (config, mut problems) = validate::validate(doc);
    problems.extend(doc.problems.iter().cloned());
    sort(&mut problems);
    (config, problems)
}

fn sort(problems: &mut [Problem]) {
    problems.sort_by_key(|p| p.span.as_ref().map_or(0, |(s, _)| s.offset()));
}
