//! Writes a parsed Python pattern in `fancy-regex` syntax with the same meaning: every
//! literal escaped (so `[`, `&&` or `{,3}` keep Python's sense), Python's `$` and `\Z`
//! spelled out, named groups and references by number.

use std::fmt::Write;

use super::parse::{
    At, FLAG_A, FLAG_I, FLAG_M, FLAG_S, MAXREPEAT, Node, Parsed, RepeatKind, SetItem,
};

/// A class that matches nothing (a lone surrogate cannot occur in a Rust string).
const NOTHING: &str = "[^\\s\\S]";

fn is_surrogate(c: u32) -> bool {
    (0xD800..=0xDFFF).contains(&c)
}

fn lit(out: &mut String, c: u32) {
    match char::from_u32(c) {
        Some(ch) if ch.is_ascii_alphanumeric() => out.push(ch),
        Some(_) => {
            let _ = write!(out, "\\x{{{c:X}}}");
        }
        None => out.push_str(NOTHING),
    }
}

/// Flags the emitter itself carries out: `m` for anchors, `a` for classes.
#[derive(Clone, Copy)]
struct Ctx {
    multiline: bool,
    ascii: bool,
}

impl Ctx {
    fn with(self, add: u32, del: u32) -> Ctx {
        Ctx {
            multiline: (self.multiline || add & FLAG_M != 0) && del & FLAG_M == 0,
            ascii: self.ascii || add & FLAG_A != 0,
        }
    }
}

/// A category escape; under `(?a:...)` Python's ASCII-only sets, spelled out.
fn category(out: &mut String, c: char, ascii: bool) {
    if !ascii {
        out.push('\\');
        out.push(c);
        return;
    }
    let set = match c.to_ascii_lowercase() {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        _ => " \\t\\n\\r\\x0B\\x0C",
    };
    let neg = if c.is_ascii_uppercase() { "^" } else { "" };
    let _ = write!(out, "[{neg}{set}]");
}

fn set_items(out: &mut String, items: &[SetItem], ascii: bool) -> bool {
    let mut any = false;
    for it in items {
        match it {
            SetItem::Lit(c) if !is_surrogate(*c) => {
                lit(out, *c);
                any = true;
            }
            SetItem::Lit(_) => {}
            SetItem::Range(lo, hi) => {
                let lo = if is_surrogate(*lo) { 0xE000 } else { *lo };
                let hi = if is_surrogate(*hi) { 0xD7FF } else { *hi };
                if lo <= hi {
                    lit(out, lo);
                    out.push('-');
                    lit(out, hi);
                    any = true;
                }
            }
            SetItem::Cat(c) => {
                category(out, *c, ascii);
                any = true;
            }
        }
    }
    any
}

fn flag_letters(f: u32) -> String {
    let mut s = String::new();
    if f & FLAG_I != 0 {
        s.push('i');
    }
    if f & FLAG_S != 0 {
        s.push('s');
    }
    s
}

fn seq(out: &mut String, nodes: &[Node], cx: Ctx) {
    for n in nodes {
        node(out, n, cx);
    }
}

/// Whether a sequence can only match the empty string (assertions and anchors).
fn zero_width(nodes: &[Node]) -> bool {
    nodes.iter().all(|n| match n {
        Node::At(_) | Node::Assert { .. } => true,
        Node::Group { body, .. } | Node::Atomic(body) | Node::Repeat { body, .. } => {
            zero_width(body)
        }
        Node::Branch(items) => items.iter().all(|i| zero_width(i)),
        Node::Cond { yes, no, .. } => zero_width(yes) && no.as_deref().is_none_or(zero_width),
        _ => false,
    })
}

fn node(out: &mut String, n: &Node, cx: Ctx) {
    match n {
        Node::Lit(c) => lit(out, *c),
        Node::Any => out.push('.'),
        Node::In { negate, items } => {
            let mut body = String::new();
            let any = set_items(&mut body, items, cx.ascii);
            match (any, negate) {
                (false, false) => out.push_str(NOTHING),
                (false, true) => out.push_str("[\\s\\S]"),
                (true, false) => {
                    let _ = write!(out, "[{body}]");
                }
                (true, true) => {
                    let _ = write!(out, "[^{body}]");
                }
            }
        }
        Node::At(At::Boundary) if cx.ascii => out.push_str("(?-u:\\b)"),
        Node::At(At::NonBoundary) if cx.ascii => out.push_str("(?-u:\\B)"),
        Node::At(a) => out.push_str(match (a, cx.multiline) {
            (At::Beginning, true) => "(?m:^)",
            (At::Beginning, false) | (At::BeginningString, _) => "\\A",
            // Python's `$`: the end, or just before a newline that ends the string.
            (At::End, true) => "(?m:$)",
            (At::End, false) => "(?=\\n?\\z)",
            (At::EndString, _) => "\\z",
            (At::Boundary, _) => "\\b",
            (At::NonBoundary, _) => "\\B",
        }),
        Node::Branch(items) => {
            out.push_str("(?:");
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                seq(out, it, cx);
            }
            out.push(')');
        }
        Node::Group {
            index,
            add,
            del,
            body,
            ..
        } => {
            let inner = cx.with(*add, *del);
            let (a, d) = (flag_letters(*add), flag_letters(*del));
            match (index, a.is_empty() && d.is_empty()) {
                (Some(_), _) => out.push('('),
                (None, true) => out.push_str("(?:"),
                (None, false) if d.is_empty() => {
                    let _ = write!(out, "(?{a}:");
                }
                (None, false) => {
                    let _ = write!(out, "(?{a}-{d}:");
                }
            }
            seq(out, body, inner);
            out.push(')');
        }
        Node::Atomic(body) => {
            out.push_str("(?>");
            seq(out, body, cx);
            out.push(')');
        }
        Node::Assert {
            behind,
            negate,
            body,
        } => {
            out.push_str(match (behind, negate) {
                (false, false) => "(?=",
                (false, true) => "(?!",
                (true, false) => "(?<=",
                (true, true) => "(?<!",
            });
            seq(out, body, cx);
            out.push(')');
        }
        Node::Repeat {
            min,
            max,
            kind,
            body,
        } => {
            let mut item = String::from("(?:");
            seq(&mut item, body, cx);
            item.push(')');
            // `fancy-regex` will not repeat an assertion; repeating one changes nothing
            // beyond whether it must hold at least once.
            if zero_width(body) {
                match (*min, kind) {
                    (0, RepeatKind::Lazy) => {
                        let _ = write!(out, "(?:|{item})");
                    }
                    (0, _) => {
                        let _ = write!(out, "(?:{item}|)");
                    }
                    _ => out.push_str(&item),
                }
                return;
            }
            let q = match (*min, *max) {
                (0, MAXREPEAT) => "*".to_string(),
                (1, MAXREPEAT) => "+".to_string(),
                (0, 1) => "?".to_string(),
                (m, MAXREPEAT) => format!("{{{m},}}"),
                (m, n) if m == n => format!("{{{m}}}"),
                (m, n) => format!("{{{m},{n}}}"),
            };
            match kind {
                RepeatKind::Greedy => {
                    let _ = write!(out, "{item}{q}");
                }
                RepeatKind::Lazy => {
                    let _ = write!(out, "{item}{q}?");
                }
                RepeatKind::Possessive => {
                    let _ = write!(out, "(?>{item}{q})");
                }
            }
        }
        Node::GroupRef(g) => {
            let _ = write!(out, "(?:\\{g})");
        }
        Node::Cond { group, yes, no } => {
            let _ = write!(out, "(?({group})");
            seq(out, yes, cx);
            if let Some(no) = no {
                out.push('|');
                seq(out, no, cx);
            }
            out.push(')');
        }
    }
}

/// The pattern in `fancy-regex` syntax, anchored at the start as Python's `match` is.
pub fn to_fancy(p: &Parsed) -> String {
    let mut out = String::from("\\A(?:");
    let f = flag_letters(p.flags);
    if !f.is_empty() {
        let _ = write!(out, "(?{f})");
    }
    let cx = Ctx {
        multiline: false,
        ascii: false,
    }
    .with(p.flags, 0);
    seq(&mut out, &p.nodes, cx);
    out.push(')');
    out
}
