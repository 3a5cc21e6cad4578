//! POSIX shell quoting: the only way user data reaches the remote `sh`.

/// Quotes `word` as a single POSIX shell word: wrapped in single quotes, each `'` written as
/// `'\''`. Inside single quotes no byte is special (`$`, backticks, `\`, newlines included), so
/// the shell passes the word through byte-for-byte. Returns `None` for a word holding a NUL
/// byte, which no shell word or `argv` entry can carry.
pub fn quote(word: &str) -> Option<String> {
    if word.contains('\0') {
        return None;
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn wraps_plain_words() {
        assert_eq!(quote("tank/data").as_deref(), Some("'tank/data'"));
        assert_eq!(quote("").as_deref(), Some("''"));
    }

    #[test]
    fn escapes_single_quotes_only() {
        assert_eq!(quote("it's").as_deref(), Some("'it'\\''s'"));
        assert_eq!(
            quote("$HOME `id` \"x\" \\ ; | \n").as_deref(),
            Some("'$HOME `id` \"x\" \\ ; | \n'")
        );
    }

    #[test]
    fn refuses_nul() {
        assert_eq!(quote("a\0b"), None);
    }

    #[test]
    fn round_trips_through_a_real_shell() {
        let words = [
            "it's", "a'b''c'", "$(id)", "`x`", "\\n", "ü ✓", "\n;|&", "'",
        ];
        for w in words {
            let Some(q) = quote(w) else {
                panic!("{w:?} has no NUL");
            };
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s' {q}"))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), w, "{q}");
        }
    }
}
