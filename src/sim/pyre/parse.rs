//! A parser that accepts exactly what CPython 3.11's `re` parser accepts and fails with its
//! message at its position (`re/_parser.py`: `Tokenizer`, `_parse_sub`, `_parse`, `_escape`,
//! `_class_escape`, `_parse_flags`), plus the one check its compiler adds (fixed-width
//! look-behind). Positions count characters, as Python's do.

use crate::sim::render::py_repr_str as py_repr;
use std::collections::{BTreeMap, HashMap};

use super::PyReError;

/// `sre_constants.MAXREPEAT` on 64-bit CPython: repeats up to it are "unbounded".
pub const MAXREPEAT: u64 = 1_073_741_823;
const MAXGROUPS: usize = 1_073_741_823 / 2;

pub const FLAG_I: u32 = 2;
pub const FLAG_L: u32 = 4;
pub const FLAG_M: u32 = 8;
pub const FLAG_S: u32 = 16;
pub const FLAG_U: u32 = 32;
pub const FLAG_X: u32 = 64;
pub const FLAG_A: u32 = 256;
const FLAG_T: u32 = 1;
const TYPE_FLAGS: u32 = FLAG_A | FLAG_L | FLAG_U;
const GLOBAL_FLAGS: u32 = FLAG_T;

fn flag(c: char) -> Option<u32> {
    Some(match c {
        'i' => FLAG_I,
        'L' => FLAG_L,
        'm' => FLAG_M,
        's' => FLAG_S,
        'x' => FLAG_X,
        'a' => FLAG_A,
        't' => FLAG_T,
        'u' => FLAG_U,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Beginning,
    End,
    BeginningString,
    EndString,
    Boundary,
    NonBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatKind {
    Greedy,
    Lazy,
    Possessive,
}

/// One member of a character set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetItem {
    Lit(u32),
    Range(u32, u32),
    /// `\d \D \s \S \w \W`, by letter.
    Cat(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Lit(u32),
    Any,
    In {
        negate: bool,
        items: Vec<SetItem>,
    },
    At(At),
    Branch(Vec<Vec<Node>>),
    Group {
        index: Option<usize>,
        name: Option<String>,
        add: u32,
        del: u32,
        body: Vec<Node>,
    },
    Atomic(Vec<Node>),
    Assert {
        behind: bool,
        negate: bool,
        body: Vec<Node>,
    },
    Repeat {
        min: u64,
        max: u64,
        kind: RepeatKind,
        body: Vec<Node>,
    },
    GroupRef(usize),
    Cond {
        group: usize,
        yes: Vec<Node>,
        no: Option<Vec<Node>>,
    },
}

/// The parsed pattern: its top-level sequence and the flags set globally.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub nodes: Vec<Node>,
    pub flags: u32,
}

/// Python's `Tokenizer`: a token is one character or a backslash and the next one.
struct Source<'a> {
    pattern: &'a str,
    s: Vec<char>,
    index: usize,
    next: Option<String>,
}

impl<'a> Source<'a> {
    fn new(pattern: &'a str) -> Result<Self, PyReError> {
        let mut src = Source {
            pattern,
            s: pattern.chars().collect(),
            index: 0,
            next: None,
        };
        src.advance()?;
        Ok(src)
    }

    fn advance(&mut self) -> Result<(), PyReError> {
        let mut index = self.index;
        let Some(&c) = self.s.get(index) else {
            self.next = None;
            return Ok(());
        };
        let mut tok = c.to_string();
        if c == '\\' {
            index += 1;
            match self.s.get(index) {
                Some(&d) => tok.push(d),
                None => {
                    return Err(PyReError::at(
                        "bad escape (end of pattern)",
                        self.pattern,
                        self.s.len() - 1,
                    ));
                }
            }
        }
        self.index = index + 1;
        self.next = Some(tok);
        Ok(())
    }

    fn next_is(&self, c: &str) -> bool {
        self.next.as_deref() == Some(c)
    }

    fn next_in(&self, set: &str) -> bool {
        self.next
            .as_deref()
            .is_some_and(|t| t.chars().count() == 1 && set.contains(t))
    }

    fn matches(&mut self, c: &str) -> Result<bool, PyReError> {
        if self.next_is(c) {
            self.advance()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn get(&mut self) -> Result<Option<String>, PyReError> {
        // `index` already points past `this`.
        let this = self.next.clone();
        self.advance()?;
        Ok(this)
    }

    fn getwhile(&mut self, n: usize, set: &str) -> Result<String, PyReError> {
        let mut out = String::new();
        for _ in 0..n {
            if !self.next_in(set) {
                break;
            }
            if let Some(c) = self.get()? {
                out.push_str(&c);
            }
        }
        Ok(out)
    }

    fn getuntil(&mut self, terminator: &str, name: &str) -> Result<String, PyReError> {
        let mut out = String::new();
        loop {
            let c = self.get()?;
            match c {
                None => {
                    if out.is_empty() {
                        return Err(self.error(&format!("missing {name}"), 0));
                    }
                    return Err(self.error(
                        &format!("missing {terminator}, unterminated name"),
                        out.chars().count(),
                    ));
                }
                Some(c) if c == terminator => {
                    if out.is_empty() {
                        return Err(self.error(&format!("missing {name}"), 1));
                    }
                    return Ok(out);
                }
                Some(c) => out.push_str(&c),
            }
        }
    }

    fn tell(&self) -> usize {
        self.index - self.next.as_ref().map_or(0, |t| t.chars().count())
    }

    fn seek(&mut self, index: usize) -> Result<(), PyReError> {
        self.index = index;
        self.advance()
    }

    fn error(&self, msg: &str, offset: usize) -> PyReError {
        PyReError::at(msg, self.pattern, self.tell().saturating_sub(offset))
    }

    fn check_group_name(&self, name: &str, offset: usize) -> Result<(), PyReError> {
        if !is_identifier(name) {
            return Err(self.error(
                &format!("bad character in group name {}", py_repr(name)),
                name.chars().count() + offset,
            ));
        }
        Ok(())
    }
}

/// `str.isidentifier` for the names people write (XID rules).
fn is_identifier(s: &str) -> bool {
    let mut it = s.chars();
    match it.next() {
        Some(c) if c == '_' || unicode_ident::is_xid_start(c) => {}
        _ => return false,
    }
    it.all(unicode_ident::is_xid_continue)
}

struct State {
    flags: u32,
    groupdict: HashMap<String, usize>,
    groupwidths: Vec<Option<(u64, u64)>>,
    lookbehindgroups: Option<usize>,
    grouprefpos: BTreeMap<usize, usize>,
    variable_lookbehind: bool,
}

impl State {
    fn groups(&self) -> usize {
        self.groupwidths.len()
    }

    fn opengroup(&mut self, name: Option<&str>) -> Result<usize, String> {
        let gid = self.groups();
        self.groupwidths.push(None);
        if self.groups() > MAXGROUPS {
            return Err("too many groups".into());
        }
        if let Some(name) = name {
            if let Some(ogid) = self.groupdict.get(name) {
                return Err(format!(
                    "redefinition of group name {} as group {gid}; was group {ogid}",
                    py_repr(name)
                ));
            }
            self.groupdict.insert(name.to_string(), gid);
        }
        Ok(gid)
    }

    fn checkgroup(&self, gid: usize) -> bool {
        self.groupwidths.get(gid).is_some_and(Option::is_some)
    }

    fn checklookbehindgroup(&self, gid: usize, src: &Source<'_>) -> Result<(), PyReError> {
        if let Some(lb) = self.lookbehindgroups {
            if !self.checkgroup(gid) {
                return Err(src.error("cannot refer to an open group", 0));
            }
            if gid >= lb {
                return Err(src.error(
                    "cannot refer to group defined in the same lookbehind subpattern",
                    0,
                ));
            }
        }
        Ok(())
    }

    fn width(&self, nodes: &[Node]) -> (u64, u64) {
        let (mut lo, mut hi) = (0u64, 0u64);
        for n in nodes {
            let (i, j) = match n {
                Node::Branch(items) => {
                    let mut i = MAXREPEAT - 1;
                    let mut j = 0;
                    for item in items {
                        let (l, h) = self.width(item);
                        i = i.min(l);
                        j = j.max(h);
                    }
                    (i, j)
                }
                Node::Atomic(p) | Node::Group { body: p, .. } => self.width(p),
                Node::Repeat { min, max, body, .. } => {
                    let (i, j) = self.width(body);
                    (i.saturating_mul(*min), j.saturating_mul(*max))
                }
                Node::Lit(_) | Node::Any | Node::In { .. } => (1, 1),
                Node::GroupRef(g) => self
                    .groupwidths
                    .get(*g)
                    .copied()
                    .flatten()
                    .unwrap_or((0, 0)),
                Node::Cond { yes, no, .. } => {
                    let (i, j) = self.width(yes);
                    match no {
                        Some(no) => {
                            let (l, h) = self.width(no);
                            (i.min(l), j.max(h))
                        }
                        None => (0, j),
                    }
                }
                Node::At(_) | Node::Assert { .. } => (0, 0),
            };
            lo = lo.saturating_add(i);
            hi = hi.saturating_add(j);
        }
        (lo.min(MAXREPEAT - 1), hi.min(MAXREPEAT))
    }
}

const SPECIAL_CHARS: &str = ".\\[{()*+?^$|";
const REPEAT_CHARS: &str = "*+?{";
const DIGITS: &str = "0123456789";
const OCTDIGITS: &str = "01234567";
const HEXDIGITS: &str = "0123456789abcdefABCDEF";
const WHITESPACE: &str = " \t\n\r\x0b\x0c";

fn simple_escape(esc: &str) -> Option<u32> {
    Some(match esc {
        "\\a" => 7,
        "\\b" => 8,
        "\\f" => 12,
        "\\n" => 10,
        "\\r" => 13,
        "\\t" => 9,
        "\\v" => 11,
        "\\\\" => 92,
        _ => return None,
    })
}

fn category(esc: &str) -> Option<Node> {
    let c = esc.strip_prefix('\\')?;
    Some(match c {
        "A" => Node::At(At::BeginningString),
        "b" => Node::At(At::Boundary),
        "B" => Node::At(At::NonBoundary),
        "Z" => Node::At(At::EndString),
        "d" | "D" | "s" | "S" | "w" | "W" => Node::In {
            negate: false,
            items: vec![SetItem::Cat(c.chars().next().unwrap_or('d'))],
        },
        _ => return None,
    })
}

/// What an escape inside a set stands for: a literal or a category.
enum ClassCode {
    Lit(u32),
    Cat(char),
}

fn hex(s: &str) -> u32 {
    u32::from_str_radix(s, 16).unwrap_or(0)
}

fn oct(s: &str) -> u32 {
    u32::from_str_radix(s, 8).unwrap_or(0)
}

/// `\x`, `\u`, `\U` and `\N{...}`, shared by both escape functions; `None` when `esc` is
/// none of them.
fn unicode_escape(src: &mut Source<'_>, esc: &str) -> Result<Option<u32>, PyReError> {
    let (n, total) = match esc {
        "\\x" => (2, 4),
        "\\u" => (4, 6),
        "\\U" => (8, 10),
        "\\N" => {
            if !src.matches("{")? {
                return Err(src.error("missing {", 0));
            }
            let name = src.getuntil("}", "character name")?;
            return match unicode_names2::character(&name) {
                Some(c) => Ok(Some(c as u32)),
                None => Err(src.error(
                    &format!("undefined character name {}", py_repr(&name)),
                    name.chars().count() + 4,
                )),
            };
        }
        _ => return Ok(None),
    };
    let full = format!("{esc}{}", src.getwhile(n, HEXDIGITS)?);
    let len = full.chars().count();
    if len != total {
        return Err(src.error(&format!("incomplete escape {full}"), len));
    }
    let c = hex(&full[2..]);
    if esc == "\\U" && c > 0x10FFFF {
        return Err(src.error(&format!("bad escape {full}"), len));
    }
    Ok(Some(c))
}

fn class_escape(src: &mut Source<'_>, esc: &str) -> Result<ClassCode, PyReError> {
    if let Some(c) = simple_escape(esc) {
        return Ok(ClassCode::Lit(c));
    }
    if let Some(Node::In { items, .. }) = category(esc)
        && let Some(SetItem::Cat(c)) = items.first()
    {
        return Ok(ClassCode::Cat(*c));
    }
    if let Some(c) = unicode_escape(src, esc)? {
        return Ok(ClassCode::Lit(c));
    }
    let c = esc.chars().nth(1).unwrap_or('\\');
    if OCTDIGITS.contains(c) {
        let full = format!("{esc}{}", src.getwhile(2, OCTDIGITS)?);
        let v = oct(&full[1..]);
        if v > 0o377 {
            return Err(src.error(
                &format!("octal escape value {full} outside of range 0-0o377"),
                full.chars().count(),
            ));
        }
        return Ok(ClassCode::Lit(v));
    }
    if DIGITS.contains(c) || c.is_ascii_alphabetic() {
        return Err(src.error(&format!("bad escape {esc}"), esc.chars().count()));
    }
    Ok(ClassCode::Lit(c as u32))
}

fn escape(src: &mut Source<'_>, esc: &str, state: &State) -> Result<Node, PyReError> {
    if let Some(n) = category(esc) {
        return Ok(n);
    }
    if let Some(c) = simple_escape(esc) {
        return Ok(Node::Lit(c));
    }
    if let Some(c) = unicode_escape(src, esc)? {
        return Ok(Node::Lit(c));
    }
    let c = esc.chars().nth(1).unwrap_or('\\');
    if c == '0' {
        let full = format!("{esc}{}", src.getwhile(2, OCTDIGITS)?);
        return Ok(Node::Lit(oct(&full[1..])));
    }
    if DIGITS.contains(c) {
        let mut full = esc.to_string();
        if src.next_in(DIGITS) {
            if let Some(d) = src.get()? {
                full.push_str(&d);
            }
            let b: Vec<char> = full.chars().collect();
            if OCTDIGITS.contains(b[1]) && OCTDIGITS.contains(b[2]) && src.next_in(OCTDIGITS) {
                if let Some(d) = src.get()? {
                    full.push_str(&d);
                }
                let v = oct(&full[1..]);
                if v > 0o377 {
                    return Err(src.error(
                        &format!("octal escape value {full} outside of range 0-0o377"),
                        full.chars().count(),
                    ));
                }
                return Ok(Node::Lit(v));
            }
        }
        let group: usize = full[1..].parse().unwrap_or(0);
        let len = full.chars().count();
        if group < state.groups() {
            if !state.checkgroup(group) {
                return Err(src.error("cannot refer to an open group", len));
            }
            state.checklookbehindgroup(group, src)?;
            return Ok(Node::GroupRef(group));
        }
        return Err(src.error(&format!("invalid group reference {group}"), len - 1));
    }
    if c.is_ascii_alphabetic() {
        return Err(src.error(&format!("bad escape {esc}"), esc.chars().count()));
    }
    Ok(Node::Lit(c as u32))
}

fn parse_sub(
    src: &mut Source<'_>,
    state: &mut State,
    mut verbose: bool,
    nested: usize,
) -> Result<Vec<Node>, PyReError> {
    let mut items = Vec::new();
    loop {
        let first = nested == 0 && items.is_empty();
        items.push(parse(src, state, verbose, nested + 1, first)?);
        if !src.matches("|")? {
            break;
        }
        if nested == 0 {
            verbose = state.flags & FLAG_X != 0;
        }
    }
    if items.len() == 1 {
        return Ok(items.pop().unwrap_or_default());
    }
    Ok(vec![Node::Branch(items)])
}

fn parse_set(src: &mut Source<'_>) -> Result<Node, PyReError> {
    let here = src.tell() - 1;
    let negate = src.matches("^")?;
    let mut items: Vec<SetItem> = Vec::new();
    let unterminated = |src: &Source<'_>| {
        let t = src.tell();
        src.error("unterminated character set", t - here)
    };
    loop {
        let Some(this) = src.get()? else {
            return Err(unterminated(src));
        };
        if this == "]" && !items.is_empty() {
            break;
        }
        let code1 = if this.starts_with('\\') {
            class_escape(src, &this)?
        } else {
            ClassCode::Lit(this.chars().next().map_or(0, |c| c as u32))
        };
        if src.matches("-")? {
            let Some(that) = src.get()? else {
                return Err(unterminated(src));
            };
            if that == "]" {
                items.push(set_item(code1));
                items.push(SetItem::Lit('-' as u32));
                break;
            }
            let code2 = if that.starts_with('\\') {
                class_escape(src, &that)?
            } else {
                ClassCode::Lit(that.chars().next().map_or(0, |c| c as u32))
            };
            let bad = || {
                src.error(
                    &format!("bad character range {this}-{that}"),
                    this.chars().count() + 1 + that.chars().count(),
                )
            };
            let (ClassCode::Lit(lo), ClassCode::Lit(hi)) = (code1, code2) else {
                return Err(bad());
            };
            if hi < lo {
                return Err(bad());
            }
            items.push(SetItem::Range(lo, hi));
        } else {
            items.push(set_item(code1));
        }
    }
    Ok(Node::In { negate, items })
}

fn set_item(c: ClassCode) -> SetItem {
    match c {
        ClassCode::Lit(c) => SetItem::Lit(c),
        ClassCode::Cat(c) => SetItem::Cat(c),
    }
}

fn parse_repeat(src: &mut Source<'_>, this: &str, seq: &mut Vec<Node>) -> Result<(), PyReError> {
    let here = src.tell();
    let (mut min, mut max) = (0, MAXREPEAT);
    match this {
        "?" => max = 1,
        "*" => {}
        "+" => min = 1,
        _ => {
            if src.next_is("}") {
                seq.push(Node::Lit('{' as u32));
                return Ok(());
            }
            let mut lo = String::new();
            let mut hi = String::new();
            while src.next_in(DIGITS) {
                lo.push_str(&src.get()?.unwrap_or_default());
            }
            if src.matches(",")? {
                while src.next_in(DIGITS) {
                    hi.push_str(&src.get()?.unwrap_or_default());
                }
            } else {
                hi.clone_from(&lo);
            }
            if !src.matches("}")? {
                seq.push(Node::Lit('{' as u32));
                src.seek(here)?;
                return Ok(());
            }
            let too_large = || PyReError::plain("the repetition number is too large");
            if !lo.is_empty() {
                min = lo.parse().unwrap_or(u64::MAX);
                if min >= MAXREPEAT {
                    return Err(too_large());
                }
            }
            if !hi.is_empty() {
                max = hi.parse().unwrap_or(u64::MAX);
                if max >= MAXREPEAT {
                    return Err(too_large());
                }
                if max < min {
                    let t = src.tell();
                    return Err(src.error("min repeat greater than max repeat", t - here));
                }
            }
        }
    }
    let offset = src.tell() - here + 1;
    let item = match seq.pop() {
        None | Some(Node::At(_)) => return Err(src.error("nothing to repeat", offset)),
        Some(Node::Repeat { .. }) => return Err(src.error("multiple repeat", offset)),
        Some(Node::Group {
            index: None,
            add: 0,
            del: 0,
            body,
            ..
        }) => body,
        Some(n) => vec![n],
    };
    let kind = if src.matches("?")? {
        RepeatKind::Lazy
    } else if src.matches("+")? {
        RepeatKind::Possessive
    } else {
        RepeatKind::Greedy
    };
    seq.push(Node::Repeat {
        min,
        max,
        kind,
        body: item,
    });
    Ok(())
}

/// A token as `_parse_flags` sees it: its character (a backslash for an escape, which is
/// no flag and not alphabetic) and its length.
fn flag_token(t: Option<String>) -> (Option<char>, usize) {
    match t {
        None => (None, 0),
        Some(t) => (t.chars().next(), t.chars().count()),
    }
}

/// `_parse_flags`: `Ok(None)` for global flags (`(?i)`), else the scoped ones.
fn parse_flags(
    src: &mut Source<'_>,
    state: &mut State,
    first: char,
) -> Result<Option<(u32, u32)>, PyReError> {
    let mut add = 0;
    let mut del = 0;
    let mut ch = Some(first);
    let mut tok_len;
    if first != '-' {
        loop {
            let c = ch.unwrap_or(')');
            let f = flag(c).unwrap_or(0);
            if c == 'L' {
                return Err(src.error(
                    "bad inline flags: cannot use 'L' flag with a str pattern",
                    0,
                ));
            }
            add |= f;
            if f & TYPE_FLAGS != 0 && add & TYPE_FLAGS != f {
                return Err(src.error(
                    "bad inline flags: flags 'a', 'u' and 'L' are incompatible",
                    0,
                ));
            }
            (ch, tok_len) = flag_token(src.get()?);
            let Some(c) = ch else {
                return Err(src.error("missing -, : or )", 0));
            };
            if ")-:".contains(c) {
                break;
            }
            if flag(c).is_none() {
                let msg = if c.is_alphabetic() {
                    "unknown flag"
                } else {
                    "missing -, : or )"
                };
                return Err(src.error(msg, tok_len));
            }
        }
    }
    if ch == Some(')') {
        state.flags |= add;
        return Ok(None);
    }
    if add & GLOBAL_FLAGS != 0 {
        return Err(src.error("bad inline flags: cannot turn on global flag", 1));
    }
    if ch == Some('-') {
        (ch, tok_len) = flag_token(src.get()?);
        let Some(c) = ch else {
            return Err(src.error("missing flag", 0));
        };
        if flag(c).is_none() {
            let msg = if c.is_alphabetic() {
                "unknown flag"
            } else {
                "missing flag"
            };
            return Err(src.error(msg, tok_len));
        }
        loop {
            let f = ch.and_then(flag).unwrap_or(0);
            if f & TYPE_FLAGS != 0 {
                return Err(src.error(
                    "bad inline flags: cannot turn off flags 'a', 'u' and 'L'",
                    0,
                ));
            }
            del |= f;
            (ch, tok_len) = flag_token(src.get()?);
            let Some(c) = ch else {
                return Err(src.error("missing :", 0));
            };
            if c == ':' {
                break;
            }
            if flag(c).is_none() {
                let msg = if c.is_alphabetic() {
                    "unknown flag"
                } else {
                    "missing :"
                };
                return Err(src.error(msg, tok_len));
            }
        }
    }
    if del & GLOBAL_FLAGS != 0 {
        return Err(src.error("bad inline flags: cannot turn off global flag", 1));
    }
    if add & del != 0 {
        return Err(src.error("bad inline flags: flag turned on and off", 1));
    }
    Ok(Some((add, del)))
}

fn missing_paren(src: &Source<'_>, start: usize) -> PyReError {
    let t = src.tell();
    src.error("missing ), unterminated subpattern", t - start)
}

/// One `(`...`)` construct; `Ok(None)` when it adds nothing (comments, global flags).
fn parse_group(
    src: &mut Source<'_>,
    state: &mut State,
    verbose: &mut bool,
    nested: usize,
    first: bool,
    seq_empty: bool,
) -> Result<Option<Node>, PyReError> {
    let start = src.tell() - 1;
    let mut capture = true;
    let mut atomic = false;
    let mut name: Option<String> = None;
    let (mut add, mut del) = (0, 0);
    if src.matches("?")? {
        let Some(ch) = src.get()? else {
            return Err(src.error("unexpected end of pattern", 0));
        };
        match ch.as_str() {
            "P" => {
                if src.matches("<")? {
                    let n = src.getuntil(">", "group name")?;
                    src.check_group_name(&n, 1)?;
                    name = Some(n);
                } else if src.matches("=")? {
                    let n = src.getuntil(")", "group name")?;
                    src.check_group_name(&n, 1)?;
                    let off = n.chars().count() + 1;
                    let Some(&gid) = state.groupdict.get(&n) else {
                        return Err(src.error(&format!("unknown group name {}", py_repr(&n)), off));
                    };
                    if !state.checkgroup(gid) {
                        return Err(src.error("cannot refer to an open group", off));
                    }
                    state.checklookbehindgroup(gid, src)?;
                    return Ok(Some(Node::GroupRef(gid)));
                } else {
                    let Some(c) = src.get()? else {
                        return Err(src.error("unexpected end of pattern", 0));
                    };
                    return Err(
                        src.error(&format!("unknown extension ?P{c}"), c.chars().count() + 2)
                    );
                }
            }
            ":" => capture = false,
            "#" => loop {
                if src.next.is_none() {
                    let t = src.tell();
                    return Err(src.error("missing ), unterminated comment", t - start));
                }
                if src.get()?.as_deref() == Some(")") {
                    return Ok(None);
                }
            },
            "=" | "!" | "<" => {
                let mut kind = ch.clone();
                let mut behind = false;
                let mut outer_lookbehind = None;
                if kind == "<" {
                    let Some(c) = src.get()? else {
                        return Err(src.error("unexpected end of pattern", 0));
                    };
                    if c != "=" && c != "!" {
                        return Err(
                            src.error(&format!("unknown extension ?<{c}"), c.chars().count() + 2)
                        );
                    }
                    kind = c;
                    behind = true;
                    outer_lookbehind = Some(state.lookbehindgroups);
                    if state.lookbehindgroups.is_none() {
                        state.lookbehindgroups = Some(state.groups());
                    }
                }
                let body = parse_sub(src, state, *verbose, nested + 1)?;
                if let Some(None) = outer_lookbehind {
                    state.lookbehindgroups = None;
                }
                if !src.matches(")")? {
                    return Err(missing_paren(src, start));
                }
                // The compiler's check (`_compiler._compile`): raised only once the whole
                // pattern has parsed, and without a position.
                if behind {
                    let (lo, hi) = state.width(&body);
                    state.variable_lookbehind |= lo != hi;
                }
                return Ok(Some(Node::Assert {
                    behind,
                    negate: kind == "!",
                    body,
                }));
            }
            "(" => return parse_conditional(src, state, *verbose, nested, start).map(Some),
            ">" => {
                capture = false;
                atomic = true;
            }
            c if c == "-" || c.chars().next().and_then(flag).is_some() => {
                let first_flag = c.chars().next().unwrap_or('-');
                match parse_flags(src, state, first_flag)? {
                    None => {
                        if !first || !seq_empty {
                            let t = src.tell();
                            return Err(src.error(
                                "global flags not at the start of the expression",
                                t - start,
                            ));
                        }
                        *verbose = state.flags & FLAG_X != 0;
                        return Ok(None);
                    }
                    Some((a, d)) => {
                        add = a;
                        del = d;
                        capture = false;
                    }
                }
            }
            c => {
                return Err(src.error(&format!("unknown extension ?{c}"), c.chars().count() + 1));
            }
        }
    }
    let index = if capture {
        match state.opengroup(name.as_deref()) {
            Ok(g) => Some(g),
            Err(msg) => {
                let n = name.as_deref().map_or(0, |n| n.chars().count());
                return Err(src.error(&msg, n + 1));
            }
        }
    } else {
        None
    };
    let sub_verbose = (*verbose || add & FLAG_X != 0) && del & FLAG_X == 0;
    let body = parse_sub(src, state, sub_verbose, nested + 1)?;
    if !src.matches(")")? {
        return Err(missing_paren(src, start));
    }
    if let Some(g) = index {
        let w = state.width(&body);
        if let Some(slot) = state.groupwidths.get_mut(g) {
            *slot = Some(w);
        }
    }
    Ok(Some(if atomic {
        Node::Atomic(body)
    } else {
        Node::Group {
            index,
            name,
            add,
            del,
            body,
        }
    }))
}

fn parse_conditional(
    src: &mut Source<'_>,
    state: &mut State,
    verbose: bool,
    nested: usize,
    start: usize,
) -> Result<Node, PyReError> {
    let condname = src.getuntil(")", "group name")?;
    let off = condname.chars().count() + 1;
    let group = if is_identifier(&condname) {
        let Some(&g) = state.groupdict.get(&condname) else {
            return Err(src.error(&format!("unknown group name {}", py_repr(&condname)), off));
        };
        g
    } else {
        // `int()` accepts surrounding blanks, a sign and underscores between digits.
        let cleaned = condname.trim().replace('_', "");
        let parsed = cleaned
            .strip_prefix('+')
            .unwrap_or(&cleaned)
            .parse::<u64>()
            .ok()
            .filter(|_| !condname.trim().starts_with('_') && !condname.trim().ends_with('_'));
        let Some(g) = parsed else {
            return Err(src.error(
                &format!("bad character in group name {}", py_repr(&condname)),
                off,
            ));
        };
        if g == 0 {
            return Err(src.error("bad group number", off));
        }
        if g >= MAXGROUPS as u64 {
            return Err(src.error(&format!("invalid group reference {g}"), off));
        }
        let g = g as usize;
        let pos = src.tell() - off;
        state.grouprefpos.entry(g).or_insert(pos);
        g
    };
    state.checklookbehindgroup(group, src)?;
    let yes = parse(src, state, verbose, nested + 1, false)?;
    let no = if src.matches("|")? {
        let no = parse(src, state, verbose, nested + 1, false)?;
        if src.next_is("|") {
            return Err(src.error("conditional backref with more than two branches", 0));
        }
        Some(no)
    } else {
        None
    };
    if !src.matches(")")? {
        return Err(missing_paren(src, start));
    }
    Ok(Node::Cond { group, yes, no })
}

fn parse(
    src: &mut Source<'_>,
    state: &mut State,
    mut verbose: bool,
    nested: usize,
    first: bool,
) -> Result<Vec<Node>, PyReError> {
    let mut seq: Vec<Node> = Vec::new();
    while let Some(this) = src.next.clone() {
        if this == "|" || this == ")" {
            break;
        }
        src.get()?;
        if verbose {
            if this.chars().count() == 1 && WHITESPACE.contains(this.as_str()) {
                continue;
            }
            if this == "#" {
                loop {
                    match src.get()? {
                        None => break,
                        Some(t) if t == "\n" => break,
                        Some(_) => {}
                    }
                }
                continue;
            }
        }
        if this.starts_with('\\') {
            let n = escape(src, &this, state)?;
            seq.push(n);
        } else if !SPECIAL_CHARS.contains(this.as_str()) {
            seq.push(Node::Lit(this.chars().next().map_or(0, |c| c as u32)));
        } else if this == "[" {
            seq.push(parse_set(src)?);
        } else if REPEAT_CHARS.contains(this.as_str()) {
            parse_repeat(src, &this, &mut seq)?;
        } else if this == "." {
            seq.push(Node::Any);
        } else if this == "(" {
            let empty = seq.is_empty();
            if let Some(n) = parse_group(src, state, &mut verbose, nested, first, empty)? {
                seq.push(n);
            }
        } else if this == "^" {
            seq.push(Node::At(At::Beginning));
        } else if this == "$" {
            seq.push(Node::At(At::End));
        }
    }
    Ok(seq)
}

/// Parses `pattern` as `re.compile(pattern)` would, with no flags given.
pub fn parse_pattern(pattern: &str) -> Result<Parsed, PyReError> {
    let mut src = Source::new(pattern)?;
    let mut state = State {
        flags: 0,
        groupdict: HashMap::new(),
        groupwidths: vec![None],
        lookbehindgroups: None,
        grouprefpos: BTreeMap::new(),
        variable_lookbehind: false,
    };
    let nodes = parse_sub(&mut src, &mut state, false, 0)?;
    if state.flags & FLAG_A != 0 && state.flags & FLAG_U != 0 {
        return Err(PyReError::plain("ASCII and UNICODE flags are incompatible"));
    }
    if src.next.is_some() {
        return Err(src.error("unbalanced parenthesis", 0));
    }
    for (g, pos) in &state.grouprefpos {
        if *g >= state.groups() {
            return Err(PyReError::at(
                &format!("invalid group reference {g}"),
                pattern,
                *pos,
            ));
        }
    }
    if state.variable_lookbehind {
        return Err(PyReError::plain("look-behind requires fixed-width pattern"));
    }
    Ok(Parsed {
        nodes,
        flags: state.flags,
    })
}
