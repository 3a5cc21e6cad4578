//! Parsing a large config in pieces, on every core.
//!
//! A fleet's config is a mapping of a few sections, two of which (snapshot tasks,
//! replications) hold thousands of entries written one after another at one indentation. Such
//! a file is cut only at lines that can do nothing but start a top-level key or a section's
//! entry: a line at that exact indentation whose first character starts a plain or quoted key.
//! A multi-line construct cut in two (a quoted string, a flow collection) leaves the piece
//! before the cut unterminated, which the parser rejects; a block scalar or a plain scalar
//! cannot run on into a line at its parent's indentation. So when every piece parses, the
//! joined tree is the one-piece tree. Anything unusual (document markers, directives, lines
//! indented less than the entries, a piece that does not parse or is not a mapping, an alias
//! to another piece, a merge key or a duplicate key across pieces, a block scalar without
//! content right before a cut, a lone CR line break) gives `None`, and the caller parses the
//! whole file in one piece, which also reports the exact error.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use super::node::{Kind, MAX_NODES, Node, parse_part};
use crate::parallel;

/// Below this size one piece is as fast as several.
const MIN_BYTES: usize = 256 * 1024;
/// Pieces per thread, so that one slow piece does not hold the others up.
const PIECES_PER_THREAD: usize = 16;

/// The tree of `text` parsed in pieces on `threads` threads, or `None` where the file is too
/// small or its layout does not allow cutting it.
pub fn parse(text: &str, threads: usize) -> Option<Node<'_>> {
    if threads < 2 || text.len() < MIN_BYTES {
        return None;
    }
    parse_with(text, threads, text.len() / (threads * PIECES_PER_THREAD))
}

/// [`parse`] with pieces of about `piece_bytes` (at least one entry each), for any size.
pub fn parse_with(text: &str, threads: usize, piece_bytes: usize) -> Option<Node<'_>> {
    let sections = sections(text)?;
    let mut jobs: Vec<Job> = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for section in &sections {
        match &section.entries {
            Some((indent, starts)) if !starts.is_empty() => {
                let header = jobs.len();
                jobs.push(Job {
                    range: section.range.start..starts[0],
                    depth: 0,
                });
                let first_body = jobs.len();
                for mut chunk in chunks(starts, section.range.end, piece_bytes) {
                    // Up to the next entry's key, where the one-piece scanner would stop:
                    // a block scalar's span runs to there.
                    if chunk.end < section.range.end {
                        chunk.end += indent;
                    }
                    jobs.push(Job {
                        range: chunk,
                        depth: 1,
                    });
                }
                plan.push(Planned::Split {
                    header,
                    body: first_body..jobs.len(),
                });
            }
            _ => {
                plan.push(Planned::Whole(jobs.len()));
                jobs.push(Job {
                    range: section.range.clone(),
                    depth: 0,
                });
            }
        }
    }
    if jobs.len() < 2 {
        return None;
    }
    let parsed = parallel::map(&jobs, threads, |job| {
        let piece = text.get(job.range.clone())?;
        let part = parse_part(piece, job.range.start, job.depth).ok()?;
        // Parts whose meaning depends on what follows the cut are left to the one-piece parse.
        let cut_after = job.range.end < text.len();
        let depends_on_rest =
            part.root_merge || cut_after && has_empty_block_scalar_at(&part.root, job.range.end);
        (!depends_on_rest).then_some(part)
    });
    let mut trees: Vec<Option<Node<'_>>> = Vec::with_capacity(parsed.len());
    let mut nodes = 0usize;
    for part in parsed {
        let part = part?;
        nodes = nodes.saturating_add(part.nodes);
        trees.push(Some(part.root));
    }
    if nodes > MAX_NODES {
        return None;
    }
    join(&mut trees, &plan)
}

/// A block scalar without a content line (`key: |`, `? |+`, in any place of the tree) that
/// runs to the end of the piece: the parser gives it a span, and with `+` chomping a text, up
/// to the end of the piece, where the one-piece parse stops at the next key.
fn has_empty_block_scalar_at(tree: &Node<'_>, end: usize) -> bool {
    match &tree.kind {
        Kind::Map(entries) => entries
            .iter()
            .any(|(k, v)| has_empty_block_scalar_at(k, end) || has_empty_block_scalar_at(v, end)),
        Kind::Seq(items) => items.iter().any(|n| has_empty_block_scalar_at(n, end)),
        Kind::Str(s) => s.bytes().all(|b| b == b'\n') && tree.span.offset + tree.span.len >= end,
        _ => false,
    }
}

/// One top-level key and its value, and where its entries start if it can be cut further.
struct Section {
    range: Range<usize>,
    /// The indentation of the entries of a block mapping value and where their lines start,
    /// when the section is written `name:` then entries at one indentation.
    entries: Option<(usize, Vec<usize>)>,
}

/// A text to parse, with the depth of its root in the whole file.
struct Job {
    range: Range<usize>,
    depth: usize,
}

enum Planned {
    /// A section parsed as one piece.
    Whole(usize),
    /// A section whose header line and entry chunks were parsed apart.
    Split { header: usize, body: Range<usize> },
}

/// A line of the file: where it starts and ends, its indentation (in spaces) and its first
/// other byte (`None` for a blank line).
struct Line<'t> {
    start: usize,
    text: &'t str,
    indent: usize,
    first: Option<u8>,
}

fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let line = raw.trim_end_matches(['\n', '\r']);
        let indent = line.bytes().take_while(|&b| b == b' ').count();
        let first = line.as_bytes().get(indent).copied();
        let l = Line {
            start,
            text: line,
            indent,
            first,
        };
        start += raw.len();
        l
    })
}

impl Line<'_> {
    /// Blank or a comment: meaningless for where pieces can be cut.
    fn is_filler(&self) -> bool {
        matches!(self.first, None | Some(b'#'))
    }

    /// Starts with a character that can only begin a plain or quoted key.
    fn starts_key(&self) -> bool {
        self.first
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'"' | b'\''))
    }
}

/// The file's top-level sections, or `None` if its layout is not a plain block mapping.
fn sections(text: &str) -> Option<Vec<Section>> {
    // A lone CR breaks lines for YAML, not for the cutting here.
    if text.contains('\r')
        && text
            .bytes()
            .zip(text.bytes().skip(1).chain([b'\n']))
            .any(|(b, next)| b == b'\r' && next != b'\n')
    {
        return None;
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut layout = Layout::Whole;
    for line in lines(text) {
        if line.is_filler() {
            continue;
        }
        if line.indent > 0 {
            if sections.is_empty() {
                return None;
            }
            layout.see(&line);
            continue;
        }
        match line.first {
            // A document start before the first key; anything else at column 0 that is
            // not a key (a second document, a directive, a flow or sequence root) is left
            // to the one-piece parse.
            Some(b'-') if sections.is_empty() && line.text.trim_end() == "---" => {}
            _ if line.starts_key() => {
                if let Some(last) = sections.last_mut() {
                    last.range.end = line.start;
                    last.entries = std::mem::replace(&mut layout, Layout::Whole).entries();
                }
                sections.push(Section {
                    range: if sections.is_empty() { 0 } else { line.start }..text.len(),
                    entries: None,
                });
                layout = Layout::after_header(line.text);
            }
            _ => return None,
        }
    }
    if let Some(last) = sections.last_mut() {
        last.entries = layout.entries();
    }
    Some(sections)
}

/// What the lines of a section's value, seen so far, allow.
enum Layout {
    /// One piece only.
    Whole,
    /// `name:` and nothing under it yet.
    Header,
    /// A block mapping whose keys all sit at `indent`, nothing less indented in between.
    Entries { indent: usize, starts: Vec<usize> },
}

impl Layout {
    fn after_header(header: &str) -> Layout {
        let plain_name = header.trim_end().strip_suffix(':').is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        });
        if plain_name {
            Layout::Header
        } else {
            Layout::Whole
        }
    }

    /// Takes in the next indented line that is neither blank nor a comment.
    fn see(&mut self, line: &Line) {
        match self {
            Layout::Whole => {}
            Layout::Header if line.starts_key() => {
                *self = Layout::Entries {
                    indent: line.indent,
                    starts: vec![line.start],
                }
            }
            Layout::Header => *self = Layout::Whole,
            Layout::Entries { indent, .. } if line.indent < *indent => *self = Layout::Whole,
            Layout::Entries { indent, starts } => {
                if line.indent == *indent && line.starts_key() {
                    starts.push(line.start);
                }
            }
        }
    }

    fn entries(self) -> Option<(usize, Vec<usize>)> {
        match self {
            Layout::Entries { indent, starts } => Some((indent, starts)),
            _ => None,
        }
    }
}

/// Groups entries into chunks of at least `piece_bytes` each.
fn chunks(starts: &[usize], end: usize, piece_bytes: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut chunk_start = starts[0];
    for &start in &starts[1..] {
        if start - chunk_start >= piece_bytes.max(1) {
            out.push(chunk_start..start);
            chunk_start = start;
        }
    }
    out.push(chunk_start..end);
    out
}

/// Joins the pieces' trees into the file's tree.
fn join<'t>(trees: &mut [Option<Node<'t>>], plan: &[Planned]) -> Option<Node<'t>> {
    let mut root_span = None;
    let mut entries: Vec<(Node<'t>, Node<'t>)> = Vec::new();
    for planned in plan {
        match planned {
            Planned::Whole(i) => {
                let tree = trees.get_mut(*i)?.take()?;
                root_span.get_or_insert(tree.span);
                let Kind::Map(map) = tree.kind else {
                    return None;
                };
                entries.extend(map);
            }
            Planned::Split { header, body } => {
                let tree = trees.get_mut(*header)?.take()?;
                root_span.get_or_insert(tree.span);
                let Kind::Map(mut map) = tree.kind else {
                    return None;
                };
                let (key, value) = map.pop()?;
                if !map.is_empty() || !matches!(value.kind, Kind::Null) {
                    return None;
                }
                let mut value_span = None;
                let mut values: Vec<(Node<'t>, Node<'t>)> = Vec::new();
                for i in body.clone() {
                    let chunk = trees.get_mut(i)?.take()?;
                    value_span.get_or_insert(chunk.span);
                    let Kind::Map(map) = chunk.kind else {
                        return None;
                    };
                    values.extend(map);
                }
                if !unique_keys(&values) {
                    return None;
                }
                let value = Node {
                    kind: Kind::Map(values),
                    span: value_span?,
                };
                entries.push((key, value));
            }
        }
    }
    if !unique_keys(&entries) {
        return None;
    }
    Some(Node {
        kind: Kind::Map(entries),
        span: root_span?,
    })
}

/// No key twice and no merge key (`<<`), whose meaning spans pieces.
fn unique_keys(entries: &[(Node<'_>, Node<'_>)]) -> bool {
    let mut seen: HashSet<Cow<'_, str>> = HashSet::with_capacity(entries.len());
    entries.iter().all(|(k, _)| match k.scalar_text() {
        Some(text) => text != "<<" && seen.insert(text),
        None => false,
    })
}
