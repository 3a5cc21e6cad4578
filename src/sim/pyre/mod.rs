//! Python's `re`, as far as name regexes need it. Replication tasks' `name_regex` is a
//! Python pattern: the middleware compiles it (`replication.py` `_validate`,
//! `zettarepl.py` `count_eligible_manual_snapshots`) and zettarepl matches snapshot names
//! with it (`name_pattern.py` `compile_name_regex`, `snapshots_to_send.py`). So the
//! simulator accepts what CPython accepts, fails with CPython's message and position, and
//! matches with Python's meaning (lookaround, backreferences, atomic groups and possessive
//! repeats through `fancy-regex`).

mod emit;
mod parse;

use std::fmt;

/// A `re.error` (or the `OverflowError` / `ValueError` the parser raises in a few places):
/// its message and, where Python gives one, its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyReError {
    msg: String,
    pos: Option<usize>,
    /// `(line, column)`, given only when the pattern has a newline.
    line_col: Option<(usize, usize)>,
}

impl PyReError {
    fn at(msg: &str, pattern: &str, pos: usize) -> Self {
        let line_col = pattern.contains('\n').then(|| {
            let before: Vec<char> = pattern.chars().take(pos).collect();
            let line = before.iter().filter(|c| **c == '\n').count() + 1;
            let col = match before.iter().rposition(|c| *c == '\n') {
                Some(i) => pos - i,
                None => pos + 1,
            };
            (line, col)
        });
        PyReError {
            msg: msg.to_string(),
            pos: Some(pos),
            line_col,
        }
    }

    fn plain(msg: &str) -> Self {
        PyReError {
            msg: msg.to_string(),
            pos: None,
            line_col: None,
        }
    }
}

impl fmt::Display for PyReError {
    /// `str(e)` of the exception.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)?;
        if let Some(p) = self.pos {
            write!(f, " at position {p}")?;
        }
        if let Some((l, c)) = self.line_col {
            write!(f, " (line {l}, column {c})")?;
        }
        Ok(())
    }
}

/// A compiled pattern. `None` inside when Python accepts the pattern but `fancy-regex`
/// cannot build it (e.g. repeat counts beyond its size limit): such a pattern matches
/// nothing here.
#[derive(Debug, Clone)]
pub struct PyRegex {
    re: Option<fancy_regex::Regex>,
}

impl PyRegex {
    /// `pattern.match(s)`: a match starting at the beginning of `s`.
    pub fn is_match(&self, s: &str) -> bool {
        self.re
            .as_ref()
            .is_some_and(|r| r.is_match(s).unwrap_or(false))
    }
}

/// `re.compile(pattern)`.
pub fn compile(pattern: &str) -> Result<PyRegex, PyReError> {
    let parsed = parse::parse_pattern(pattern)?;
    let re = fancy_regex::RegexBuilder::new(&emit::to_fancy(&parsed))
        .backtrack_limit(1_000_000)
        .build()
        .ok();
    Ok(PyRegex { re })
}

/// zettarepl's `compile_name_regex`: `re.compile(f"({name_regex})$")`.
pub fn compile_name_regex(name_regex: &str) -> Result<PyRegex, PyReError> {
    compile(&format!("({name_regex})$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: &str) -> String {
        compile_name_regex(p)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    fn m(p: &str, s: &str) -> bool {
        compile_name_regex(p)
            .map(|r| r.is_match(s))
            .unwrap_or(false)
    }

    #[test]
    fn python_messages_and_positions() {
        assert_eq!(err("("), "missing ), unterminated subpattern at position 0");
        assert_eq!(err(")"), "unbalanced parenthesis at position 2");
        assert_eq!(err("(a)\\1"), "cannot refer to an open group at position 4");
        assert_eq!(
            err("a(?i)b"),
            "global flags not at the start of the expression at position 2"
        );
        assert_eq!(err("*"), "nothing to repeat at position 1");
        assert_eq!(err("a**"), "multiple repeat at position 3");
        assert_eq!(err("\\q"), "bad escape \\q at position 1");
        assert_eq!(err("a\\z"), "bad escape \\z at position 2");
        assert_eq!(err("[z-a]"), "bad character range z-a at position 2");
        assert_eq!(err("(?<=a+)b"), "look-behind requires fixed-width pattern");
        assert_eq!(
            err("(?<=a+)b("),
            "missing ), unterminated subpattern at position 0"
        );
        assert_eq!(
            err("a\n("),
            "missing ), unterminated subpattern at position 0 (line 1, column 1)"
        );
        assert_eq!(
            err("\\N{NOPE}"),
            "undefined character name 'NOPE' at position 1"
        );
        assert_eq!(err(""), "");
    }

    #[test]
    fn python_meaning() {
        assert!(m("auto-.*", "auto-2024"));
        assert!(!m("auto", "auto-2024"), "anchored at both ends");
        assert!(m("x{,3}", "xxx"));
        assert!(!m("x{,3}", "xxxx"));
        assert!(m("(?<!manual-)\\d+", "123"));
        assert!(m("(?P<n>a)(?P=n)", "aa"));
        assert!(!m("(?P<n>a)(?P=n)", "ab"));
        assert!(m("(?>a+)b", "aab"));
        assert!(!m("a++a", "aaa"), "possessive gives nothing back");
        assert!(m("[[]", "["));
        assert!(m("a|b", "b"));
        assert!(m("\\N{DIGIT ZERO}", "0"));
        assert!(
            m("a)|(b", "a-anything"),
            "Python's reading of the wrapped pattern"
        );
    }
}
