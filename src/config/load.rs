//! Reading a config file: bytes → YAML node tree → raw entries, every problem collected.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::NamedSource;

use super::codes;
use super::de::{Ctx, DeError, DeErrorKind, Field, Sp, suggest};
use super::node::{Kind, Node, ParseErrorKind, Span};
use super::raw::{RawReplication, RawSnapshot, RawSnapshotTask, RawSystem};
use crate::diag::{Problem, Source};

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The config file zfleet looks for in a directory.
pub const DEFAULT_FILE: &str = "zfleet.yaml";

/// What `-f -` reads, and how diagnostics name it.
pub const STDIN: &str = "-";
pub const STDIN_NAME: &str = "<stdin>";

const SECTIONS: &[&str] = &[
    "project",
    "systems",
    "snapshot_tasks",
    "snapshots",
    "replications",
];

/// A named entry of a section, with the span of its name. `raw` is `None` when the entry is
/// not a mapping at all: it still exists for references, but has nothing to check.
pub struct Named<T> {
    pub name: String,
    pub span: Span,
    pub raw: Option<T>,
}

/// The config file as written. Problems found while reading it are in
/// [`Document::problems`]; what they concern is marked invalid, not left out, so that
/// references to it are not reported again.
pub struct Document {
    pub source: Source,
    pub text: Arc<str>,
    /// The directory relative paths in the config are read from: the config file's, or the
    /// current one for a config read from stdin.
    pub base: PathBuf,
    pub project: Option<Field<Sp<String>>>,
    pub systems: Vec<Named<RawSystem>>,
    pub snapshot_tasks: Vec<Named<RawSnapshotTask>>,
    pub snapshots: Vec<(Span, RawSnapshot)>,
    pub replications: Vec<Named<RawReplication>>,
    /// Whether the `systems` section is unusable (not a mapping): references to systems
    /// cannot be checked.
    pub systems_invalid: bool,
    /// Whether the `snapshot_tasks` section is unusable.
    pub snapshot_tasks_invalid: bool,
    pub problems: Vec<Problem>,
}

impl Document {
    /// A problem in this file, pointing at `span`.
    pub fn problem(
        &self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        Problem::error(code, message)
            .at(span, label)
            .with_source(self.source.clone())
    }
}

/// How diagnostics name the config `-f` names, before it is read.
pub fn display_name(path: &Path) -> String {
    if path == Path::new(STDIN) {
        STDIN_NAME.to_string()
    } else {
        config_file(path).display().to_string()
    }
}

/// The file `-f PATH` means: PATH, or its zfleet.yaml for a directory.
fn config_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(DEFAULT_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Reads the config `-f` names: a file, `DIR/zfleet.yaml` for a directory, or stdin for `-`.
/// A problem that stops everything (unreadable, not YAML) comes back as `Err`.
pub fn read(path: &Path) -> Result<Document, Problem> {
    if path == Path::new(STDIN) {
        let mut bytes = Vec::new();
        // One byte more than the limit is enough to refuse an oversized config.
        let limit = MAX_FILE_BYTES as u64 + 1;
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Problem::error(codes::IO, format!("cannot read the config from stdin: {e}"))
                    .help("pipe the config into `zfleet -f -`, or pass a file with -f FILE")
            })?;
        return parse(STDIN_NAME, bytes);
    }
    let file = config_file(path);
    let name = file.display().to_string();
    let bytes = std::fs::read(&file).map_err(|e| {
        if path.is_dir() && e.kind() == std::io::ErrorKind::NotFound {
            Problem::error(
                codes::IO,
                format!("{} has no {DEFAULT_FILE}", path.display()),
            )
            .help("pass the config file itself with -f FILE")
        } else {
            Problem::error(codes::IO, format!("cannot read {name}: {e}"))
                .help("pass the config file with -f FILE, or run zfleet where zfleet.yaml is")
        }
    })?;
    let mut doc = parse(&name, bytes)?;
    doc.base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(doc)
}

/// Parses config text that claims to come from `name`.
pub fn parse(name: &str, bytes: Vec<u8>) -> Result<Document, Problem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Problem::error(
            codes::TOO_LARGE,
            format!(
                "{name} is {} bytes; zfleet reads config files up to {MAX_FILE_BYTES} bytes",
                bytes.len()
            ),
        )
        .help("split the fleet into several config files"));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        Problem::error(
            codes::NOT_UTF8,
            format!(
                "{name} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .help("a config file is YAML text; is this the right file?")
    })?;
    let text: Arc<str> = Arc::from(text);
    let source = NamedSource::new(name, text.clone());
    let mut doc = Document {
        source,
        text: text.clone(),
        base: PathBuf::new(),
        project: None,
        systems: Vec::new(),
        snapshot_tasks: Vec::new(),
        snapshots: Vec::new(),
        replications: Vec::new(),
        systems_invalid: false,
        snapshot_tasks_invalid: false,
        problems: Vec::new(),
    };
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(Problem::error(codes::EMPTY, format!("{name} is empty"))
            .help("start from examples/homelab/zfleet.yaml, or see `zfleet schema`"));
    }
    let root = parse_yaml(&text)
        .map_err(|p| p.object(name.to_string()).with_source(doc.source.clone()))?;
    let ctx = Ctx::new(&text);
    let (root_span, found) = (root.span, root.describe());
    let Kind::Map(entries) = root.kind else {
        return Err(doc
            .problem(
                codes::TYPE,
                root_span,
                format!("expected a mapping of sections at the top of {name}, found {found}"),
                "here",
            )
            .help(
                "a config has the keys project, systems, snapshot_tasks, snapshots, replications",
            ));
    };
    let mut problems = Vec::new();
    for (key, value) in entries {
        let section = key.key_text(&text);
        match section {
            "project" => {
                doc.project = ctx
                    .parse::<Option<Field<Sp<String>>>>(&value, Some(key.span))
                    .unwrap_or(Some(Field::Invalid))
            }
            "systems" => {
                let entries = named_entries(&doc, &ctx, &key, value, &mut problems);
                doc.systems_invalid = entries.is_none();
                doc.systems = entries.unwrap_or_default();
            }
            "snapshot_tasks" => {
                let entries = named_entries(&doc, &ctx, &key, value, &mut problems);
                doc.snapshot_tasks_invalid = entries.is_none();
                doc.snapshot_tasks = entries.unwrap_or_default();
            }
            "replications" => {
                doc.replications =
                    named_entries(&doc, &ctx, &key, value, &mut problems).unwrap_or_default()
            }
            "snapshots" => match &value.kind {
                Kind::Seq(items) => {
                    for item in items {
                        match ctx.parse::<RawSnapshot>(item, None) {
                            Ok(raw) => doc.snapshots.push((item.span, raw)),
                            Err(e) => doc.problems.push(de_problem(&doc, e)),
                        }
                    }
                }
                Kind::Null => {}
                _ => doc.problems.push(
                    doc.problem(
                        codes::TYPE,
                        key.span,
                        format!("expected a list of snapshots, found {}", value.describe()),
                        "this section",
                    )
                    .help("snapshots:\n  - { system: nas1, dataset: tank/data }"),
                ),
            },
            _ => {
                let mut p = doc.problem(
                    codes::UNKNOWN_KEY,
                    key.span,
                    format!("unknown key `{section}`"),
                    "not a section of the config",
                );
                p = match suggest(section, SECTIONS) {
                    Some(s) => p.help(format!("did you mean `{s}`?")),
                    None => p.help(format!("the sections are {}", SECTIONS.join(", "))),
                };
                doc.problems.push(p);
            }
        }
    }
    doc.problems.append(&mut problems);
    for e in ctx.errors.into_inner() {
        let p = de_problem(&doc, e);
        doc.problems.push(p);
    }
    Ok(doc)
}

fn parse_yaml(text: &str) -> Result<Node<'_>, Problem> {
    super::node::parse(text).map_err(|e| {
        let (code, message, help) = match e.kind {
            ParseErrorKind::DuplicateKey(key) => (
                codes::DUPLICATE_KEY,
                format!("duplicate key `{key}`"),
                format!("keys and entry names must be unique in a mapping; rename or remove this second `{key}`"),
            ),
            ParseErrorKind::Limits => (
                codes::LIMITS,
                e.message,
                "the file is nested too deeply or has too many nodes to be a config".to_string(),
            ),
            ParseErrorKind::Syntax => (
                codes::SYNTAX,
                e.message,
                "fix the YAML syntax here (indentation, quotes, `:` after keys)".to_string(),
            ),
        };
        let span = clamp(e.span, text.len());
        Problem::error(code, message).help(help).at(span, "here")
    })
}

fn clamp(span: Span, len: usize) -> Span {
    let offset = span.offset.min(len);
    Span {
        offset,
        len: span.len.min(len - offset),
    }
}

/// The entries of a section; `None` when the section is not a mapping.
fn named_entries<T: for<'de> serde::Deserialize<'de> + Send>(
    doc: &Document,
    ctx: &Ctx,
    key: &Node<'_>,
    value: Node<'_>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Named<T>>> {
    let found = value.describe();
    match value.kind {
        // Many entries: deserialized, and their nodes freed, on every core.
        Kind::Map(entries) if entries.len() > crate::parallel::MIN_ITEMS => {
            let threads = crate::parallel::threads();
            let count = entries.len();
            let chunks = crate::parallel::split(entries, threads * 4);
            let parts = crate::parallel::map_owned(chunks, threads, |chunk| {
                let local = Ctx::new(ctx.source);
                let mut local_problems = Vec::new();
                let out = entries_of(doc, &local, &chunk, &mut local_problems);
                (out, local_problems, local.errors.into_inner())
            });
            let mut out = Vec::with_capacity(count);
            for (part, mut part_problems, errors) in parts {
                out.extend(part);
                problems.append(&mut part_problems);
                ctx.errors.borrow_mut().extend(errors);
            }
            Some(out)
        }
        Kind::Map(entries) => Some(entries_of(doc, ctx, &entries, problems)),
        Kind::Null => Some(Vec::new()),
        _ => {
            problems.push(
                doc.problem(
                    codes::TYPE,
                    key.span,
                    format!("expected a mapping of named entries, found {found}"),
                    "this section",
                )
                .help(format!(
                    "{}:\n  some-name: {{ ... }}",
                    key.key_text(ctx.source)
                )),
            );
            None
        }
    }
}

fn entries_of<T: for<'de> serde::Deserialize<'de>>(
    doc: &Document,
    ctx: &Ctx,
    entries: &[(Node<'_>, Node<'_>)],
    problems: &mut Vec<Problem>,
) -> Vec<Named<T>> {
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let name = k.key_text(ctx.source);
        let before = ctx.errors.borrow().len();
        let raw = match ctx.parse::<T>(v, Some(k.span)) {
            Ok(raw) => Some(raw),
            Err(e) => {
                problems.push(de_problem(doc, e).object(name));
                None
            }
        };
        // The entry's other problems (bad values, unknown and missing keys) name it too.
        let found = ctx.errors.borrow_mut().split_off(before);
        problems.extend(found.into_iter().map(|e| de_problem(doc, e).object(name)));
        out.push(Named {
            name: name.to_string(),
            span: k.span,
            raw,
        });
    }
    out
}

/// Turns a deserialization error into a problem with its code, span and help.
pub fn de_problem(doc: &Document, e: DeError) -> Problem {
    let span = e.span.map(|s| clamp(s, doc.text.len())).unwrap_or_default();
    let (code, label, mut help) = match &e.kind {
        DeErrorKind::UnknownKey {
            suggestion: Some(s),
            ..
        } => (
            codes::UNKNOWN_KEY,
            "unknown key",
            format!("did you mean `{s}`?"),
        ),
        DeErrorKind::UnknownKey { .. } => (
            codes::UNKNOWN_KEY,
            "unknown key",
            "remove it, or see `zfleet schema` for the keys this entry takes".to_string(),
        ),
        DeErrorKind::MissingKey(k) => (
            codes::MISSING_KEY,
            "in this entry",
            format!("add `{k}: ...` to this entry"),
        ),
        DeErrorKind::Type => (
            codes::TYPE,
            "wrong type",
            "see `zfleet schema` for the type of each key".to_string(),
        ),
        DeErrorKind::Value => (
            codes::INVALID_VALUE,
            "invalid value",
            "use one of the values listed".to_string(),
        ),
    };
    if let Some(hint) = e.hint {
        help = hint;
    }
    doc.problem(code, span, e.message, label).help(help)
}
