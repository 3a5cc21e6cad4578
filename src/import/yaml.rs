//! Writing the imported config as YAML: plain scalars where YAML reads them back as the
//! same string, JSON-quoted ones elsewhere (a JSON string is a YAML double-quoted one).

use std::ops::Range;

/// Words YAML 1.2 (or a reader still on 1.1) would take for something else than a string.
const RESERVED: &[&str] = &[
    "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
];

/// `s` as a YAML scalar that reads back as exactly `s`, in block and flow context alike.
pub fn scalar(s: &str) -> String {
    let mut chars = s.chars();
    let plain = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_./%- ".contains(c))
        && !s.ends_with(' ')
        && !s.contains("  ")
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
    }
}

/// `[a, b]`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|i| scalar(i.as_ref())).collect();
    format!("[{}]", inner.join(", "))
}

/// Which entry of the output a range of bytes is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    SnapshotTask(String),
    Replication(String),
}

/// The output being written, with the byte range of every entry.
#[derive(Default)]
pub struct Writer {
    pub text: String,
    pub entries: Vec<(Range<usize>, Entry)>,
    open: Option<(usize, Entry)>,
}

impl Writer {
    pub fn line(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// `  key: value` at `indent` spaces.
    pub fn key(&mut self, indent: usize, key: &str, value: &str) {
        self.line(&format!("{:indent$}{key}: {value}", ""));
    }

    pub fn begin(&mut self, entry: Entry) {
        self.end();
        self.open = Some((self.text.len(), entry));
    }

    pub fn end(&mut self) {
        if let Some((start, entry)) = self.open.take() {
            self.entries.push((start..self.text.len(), entry));
        }
    }

    /// The entry a byte offset of the text falls in.
    pub fn entry_at(&self, offset: usize) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|(r, _)| r.contains(&offset))
            .map(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_strings() {
        assert_eq!(scalar("tank/data"), "tank/data");
        assert_eq!(scalar("auto-%Y-%m-%d_%H-%M"), "auto-%Y-%m-%d_%H-%M");
        assert_eq!(scalar("two weeks"), "two weeks");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("25.10"), "\"25.10\"");
        assert_eq!(scalar("0 * * * *"), "\"0 * * * *\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("%Y"), "\"%Y\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(list(&["a", "b c"]), "[a, b c]");
    }

    #[test]
    fn every_scalar_parses_back_to_its_text() {
        use crate::config::node::{Kind, parse};
        let texts = [
            "tank/data",
            "yes",
            "No",
            "null",
            "~",
            "25.10",
            "1e3",
            "0x1f",
            "-x",
            "a #b",
            "a: b",
            "[x]",
            "{y}",
            "*",
            "&a",
            "!t",
            "'q'",
            "\"d\"",
            "%Y",
            "@x",
            "`x`",
            "x ",
            " x",
            "multi\nline",
            "tab\there",
            "ümlaut",
            "nas1-tank-data-hourly",
        ];
        for t in texts {
            let doc = format!("k: {}\nl: {}\n", scalar(t), list(&[t, t]));
            let root = parse(&doc).unwrap_or_else(|e| panic!("{t:?}: {}", e.message));
            let Kind::Map(entries) = root.kind else {
                panic!("{t:?}: not a mapping")
            };
            match &entries[0].1.kind {
                Kind::Str(s) => assert_eq!(s, t),
                other => panic!("{t:?} read back as {other:?}"),
            }
            match &entries[1].1.kind {
                Kind::Seq(items) => {
                    for i in items {
                        assert!(matches!(&i.kind, Kind::Str(s) if s == t), "{t:?} in a list");
                    }
                }
                other => panic!("{t:?} list read back as {other:?}"),
            }
        }
    }
}
