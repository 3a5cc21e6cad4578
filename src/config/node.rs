//! A YAML document as a tree of nodes that remember where they are in the source.
//!
//! Built straight from the events of serde-saphyr's parser (granit-parser): every key and value
//! keeps its byte span, so later stages can point at the exact key or value they complain
//! about. (Going through serde-saphyr's `Spanned<T>` for every node costs four times as much
//! on large fleets.) Plain scalars are typed by the YAML 1.2 core schema.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle};

/// Deepest nesting accepted, and most nodes (aliases expanded) in one file.
pub const MAX_DEPTH: usize = 64;
pub const MAX_NODES: usize = 8_000_000;

/// Byte offset and length of a node in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.offset, s.len).into()
    }
}

/// A node's value; strings borrow from the source text where they are written plainly.
#[derive(Debug, Clone)]
pub enum Kind<'t> {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(Cow<'t, str>),
    Seq(Vec<Node<'t>>),
    Map(Vec<(Node<'t>, Node<'t>)>),
}

#[derive(Debug, Clone)]
pub struct Node<'t> {
    pub kind: Kind<'t>,
    pub span: Span,
}

impl Node<'_> {
    /// What the node is, as a user would say it ("a string", "a mapping").
    pub fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The key text of a mapping key node.
    pub fn key_text<'s>(&'s self, source: &'s str) -> &'s str {
        match &self.kind {
            Kind::Str(s) => s,
            _ => self.raw(source).unwrap_or_default(),
        }
    }

    /// The node's text in the source, for plain scalars (`25.10` stays `25.10`).
    pub fn raw<'s>(&self, source: &'s str) -> Option<&'s str> {
        source.get(self.span.offset..self.span.offset + self.span.len)
    }
}

/// Why a text is not a YAML document zfleet can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    Syntax,
    DuplicateKey(String),
    Limits,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub message: String,
    pub span: Span,
}

/// Parses the first YAML document of `text` (an empty text is `Null`). Large files are parsed
/// in pieces on every core when their layout allows it (see [`super::pieces`]); the result is
/// the same tree either way, and any error comes from the one-piece parse.
pub fn parse(text: &str) -> Result<Node<'_>, ParseError> {
    if let Some(node) = super::pieces::parse(text, crate::parallel::threads()) {
        return Ok(node);
    }
    parse_in_one_piece(text)
}

/// Parses `text` as one piece on the calling thread.
pub fn parse_in_one_piece(text: &str) -> Result<Node<'_>, ParseError> {
    parse_part(text, 0, 0).map(|part| part.root)
}

/// A part of a file, parsed on its own.
pub(super) struct Part<'t> {
    pub root: Node<'t>,
    /// Nodes in it, aliases expanded.
    pub nodes: usize,
    /// Whether a merge key (`<<`) was resolved in the root mapping: its meaning depends on
    /// the whole mapping, not only this part of it.
    pub root_merge: bool,
}

/// Parses `text`, which starts at byte `base` of the file and whose root sits `depth` levels
/// deep in it.
pub(super) fn parse_part(text: &str, base: usize, depth: usize) -> Result<Part<'_>, ParseError> {
    let mut b = Builder {
        parser: Parser::new_from_str_with_options(text, parser_options()),
        anchors: HashMap::new(),
        nodes: 0,
        base,
        root_depth: depth,
        root_merge: false,
    };
    let mut root = None;
    while let Some((event, span)) = b.next()? {
        match event {
            Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart(..) if root.is_some() => {
                return Err(ParseError {
                    kind: ParseErrorKind::Syntax,
                    message: "the file holds more than one YAML document (`---`)".into(),
                    span,
                });
            }
            Event::DocumentStart(..) => root = Some(b.node(depth)?),
            Event::StreamEnd => break,
            _ => {}
        }
    }
    let root = root.unwrap_or(Node {
        kind: Kind::Null,
        span: Span {
            offset: base,
            len: 0,
        },
    });
    Ok(Part {
        root,
        nodes: b.nodes,
        root_merge: b.root_merge,
    })
}

fn parser_options() -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    options
}

struct Builder<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node<'a>>,
    nodes: usize,
    /// Where the parsed text starts in the file.
    base: usize,
    root_depth: usize,
    root_merge: bool,
}

fn span_of(s: &granit_parser::Span, base: usize) -> Span {
    let start = s.start.byte_offset().unwrap_or(0);
    let end = s.end.byte_offset().unwrap_or(start);
    Span {
        offset: base + start,
        len: end.saturating_sub(start),
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, ParseError> {
        match self.parser.next_event() {
            None => Ok(None),
            Some(Ok((event, span))) => Ok(Some((event, span_of(&span, self.base)))),
            Some(Err(e)) => {
                let at = e.marker().byte_offset().unwrap_or(0);
                let info = e.info();
                Err(ParseError {
                    // The parser's own nesting and size guards.
                    kind: if info.contains("limit") {
                        ParseErrorKind::Limits
                    } else {
                        ParseErrorKind::Syntax
                    },
                    message: info,
                    span: Span {
                        offset: self.base + at,
                        len: 1,
                    },
                })
            }
        }
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), ParseError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(ParseError {
                kind: ParseErrorKind::Limits,
                message: format!("the YAML has more than {MAX_NODES} nodes (aliases expanded)"),
                span,
            });
        }
        Ok(())
    }

    /// Reads one node; the next event must start it.
    fn node(&mut self, depth: usize) -> Result<Node<'a>, ParseError> {
        let Some((event, span)) = self.next()? else {
            return Err(ParseError {
                kind: ParseErrorKind::Syntax,
                message: "the YAML ends in the middle of a value".into(),
                span: Span::default(),
            });
        };
        self.node_from(event, span, depth)
    }

    /// Reads the node that `event` starts.
    fn node_from(
        &mut self,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<Node<'a>, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError {
                kind: ParseErrorKind::Limits,
                message: format!("the YAML is nested more than {MAX_DEPTH} levels deep"),
                span,
            });
        }
        let node = match event {
            Event::Anchor(..) => return self.node(depth),
            Event::Scalar(value, style, anchor, tag) => {
                self.count(1, span)?;
                let is_str_tag = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema_tag("str"));
                let kind = if style == ScalarStyle::Plain && !is_str_tag {
                    plain_scalar(value)
                } else {
                    Kind::Str(value)
                };
                self.anchor(anchor, Node { kind, span })
            }
            Event::SequenceStart(_, anchor, _) => {
                self.count(1, span)?;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Some((Event::SequenceEnd, _)) => break,
                        Some((event, espan)) => {
                            items.push(self.node_from(event, espan, depth + 1)?);
                        }
                        None => return Err(eof(span)),
                    }
                }
                self.anchor(
                    anchor,
                    Node {
                        kind: Kind::Seq(items),
                        span,
                    },
                )
            }
            Event::MappingStart(_, anchor, _) => {
                self.count(1, span)?;
                let map = self.mapping(depth, span)?;
                self.anchor(
                    anchor,
                    Node {
                        kind: Kind::Map(map),
                        span,
                    },
                )
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(ParseError {
                        kind: ParseErrorKind::Syntax,
                        message: "alias to an unknown anchor".into(),
                        span,
                    });
                };
                self.count(target.size(), span)?;
                Node {
                    kind: target.kind,
                    span,
                }
            }
            Event::UnresolvedAlias(name) => {
                return Err(ParseError {
                    kind: ParseErrorKind::Syntax,
                    message: format!("unknown anchor `{name}`"),
                    span,
                });
            }
            _ => {
                return Err(ParseError {
                    kind: ParseErrorKind::Syntax,
                    message: "unexpected YAML structure".into(),
                    span,
                });
            }
        };
        Ok(node)
    }

    fn mapping(
        &mut self,
        depth: usize,
        span: Span,
    ) -> Result<Vec<(Node<'a>, Node<'a>)>, ParseError> {
        let mut entries: Vec<(Node<'a>, Node<'a>)> = Vec::new();
        let mut merged: Vec<(Node<'a>, Node<'a>)> = Vec::new();
        // Duplicate keys: a linear scan for the small mappings of entries, a set for the large
        // sections (thousands of named tasks).
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            match self.next()? {
                Some((Event::MappingEnd, _)) => break,
                Some((event, espan)) => {
                    let key = self.node_from(event, espan, depth + 1)?;
                    let value = self.node(depth + 1)?;
                    if matches!(&key.kind, Kind::Str(k) if k == "<<") {
                        self.root_merge |= depth == self.root_depth;
                        // YAML merge key: entries of the merged mapping(s) that are not set here.
                        match value.kind {
                            Kind::Map(m) => merged.extend(m),
                            Kind::Seq(items) => {
                                for item in items {
                                    if let Kind::Map(m) = item.kind {
                                        merged.extend(m);
                                    }
                                }
                            }
                            _ => {
                                return Err(ParseError {
                                    kind: ParseErrorKind::Syntax,
                                    message: "`<<` merges a mapping or a list of mappings".into(),
                                    span: key.span,
                                });
                            }
                        }
                        continue;
                    }
                    if let Some(text) = key.scalar_text() {
                        let duplicate = if entries.len() < 32 {
                            entries
                                .iter()
                                .any(|(k, _)| k.scalar_text().as_deref() == Some(text.as_ref()))
                        } else {
                            if seen.is_empty() {
                                seen.extend(
                                    entries
                                        .iter()
                                        .filter_map(|(k, _)| k.scalar_text().map(Cow::into_owned)),
                                );
                            }
                            !seen.insert(text.clone().into_owned())
                        };
                        if duplicate {
                            return Err(ParseError {
                                kind: ParseErrorKind::DuplicateKey(text.into_owned()),
                                message: String::new(),
                                span: key.span,
                            });
                        }
                    }
                    entries.push((key, value));
                }
                None => return Err(eof(span)),
            }
        }
        for (k, v) in merged {
            let present = k.scalar_text().is_some_and(|t| {
                entries
                    .iter()
                    .any(|(e, _)| e.scalar_text().as_deref() == Some(t.as_ref()))
            });
            if !present {
                entries.push((k, v));
            }
        }
        Ok(entries)
    }

    fn anchor(&mut self, id: usize, node: Node<'a>) -> Node<'a> {
        if id != 0 {
            self.anchors.insert(id, node.clone());
        }
        node
    }
}

fn eof(span: Span) -> ParseError {
    ParseError {
        kind: ParseErrorKind::Syntax,
        message: "the YAML ends before this collection is closed".into(),
        span,
    }
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn plain_scalar(value: Cow<'_, str>) -> Kind<'_> {
    let v = value.as_ref();
    // Most values are names and paths: a letter that starts no null, boolean or number.
    if v.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() && !b"nNtTfF".contains(b))
    {
        return Kind::Str(value);
    }
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Kind::Null,
        "true" | "True" | "TRUE" => return Kind::Bool(true),
        "false" | "False" | "FALSE" => return Kind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Kind::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Kind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Kind::Float(f64::NAN),
        _ => {}
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<i128>() {
            return Kind::Int(n);
        }
    } else if let Some(hex) = v.strip_prefix("0x") {
        if let Ok(n) = i128::from_str_radix(hex, 16) {
            return Kind::Int(n);
        }
    } else if let Some(oct) = v.strip_prefix("0o") {
        if let Ok(n) = i128::from_str_radix(oct, 8) {
            return Kind::Int(n);
        }
    } else if looks_like_float(digits)
        && let Ok(f) = v.parse::<f64>()
    {
        return Kind::Float(f);
    }
    Kind::Str(value)
}

/// `[0-9]*(.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit before the exponent.
fn looks_like_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits_ok(int) && digits_ok(frac) && !(int.is_empty() && frac.is_empty());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exp_ok && (mantissa.contains('.') || exp.is_some())
}

impl Node<'_> {
    fn size(&self) -> usize {
        1 + match &self.kind {
            Kind::Seq(items) => items.iter().map(Node::size).sum(),
            Kind::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The text of a scalar node (for keys).
    pub(super) fn scalar_text(&self) -> Option<Cow<'_, str>> {
        match &self.kind {
            Kind::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Kind::Int(n) => Some(Cow::Owned(n.to_string())),
            Kind::Bool(b) => Some(Cow::Owned(b.to_string())),
            Kind::Null => Some(Cow::Borrowed("~")),
            Kind::Float(f) => Some(Cow::Owned(f.to_string())),
            _ => None,
        }
    }
}
