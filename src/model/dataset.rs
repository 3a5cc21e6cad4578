//! ZFS dataset names: what OpenZFS accepts, and how names relate.

/// Checks a dataset name (`pool/a/b`) the way OpenZFS's `zfs_namecheck` does.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a dataset name cannot be empty".into());
    }
    if name.len() > 255 {
        return Err(format!(
            "a dataset name is at most 255 bytes; this one has {}",
            name.len()
        ));
    }
    if name.starts_with('/') || name.ends_with('/') {
        return Err("a dataset name has no leading or trailing `/` (write `tank/data`, not `/mnt/tank/data/`)".into());
    }
    if name.contains('@') {
        return Err("`@` separates a snapshot name; name the dataset only".into());
    }
    if name.contains('#') {
        return Err("`#` separates a bookmark name; name the dataset only".into());
    }
    for component in name.split('/') {
        if component.is_empty() {
            return Err("a dataset name cannot contain `//` (an empty component)".into());
        }
        if component == "." || component == ".." {
            return Err(format!(
                "`{component}` is not allowed as a component of a dataset name"
            ));
        }
        if let Some(c) = component
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | ' ')))
        {
            return Err(format!(
                "{c:?} is not allowed in a dataset name (letters, digits, `_`, `-`, `:`, `.` and space are)"
            ));
        }
    }
    let pool = name.split('/').next().unwrap_or_default();
    if !pool.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("the pool name `{pool}` must begin with a letter"));
    }
    Ok(())
}

/// `child` is `parent` itself or lies below it.
pub fn is_same_or_below(child: &str, parent: &str) -> bool {
    child == parent || is_below(child, parent)
}

/// `child` lies strictly below `parent`.
pub fn is_below(child: &str, parent: &str) -> bool {
    child.len() > parent.len()
        && child.starts_with(parent)
        && child.as_bytes()[parent.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("tank/data set:1.a-b_c").is_ok());
        assert!(validate_name("tank//a").is_err());
        assert!(validate_name("/tank").is_err());
        assert!(validate_name("1tank").is_err());
        assert!(validate_name("tank/a@snap").is_err());
        assert!(validate_name("tank/$x").is_err());
        assert!(validate_name("tank/..").is_err());
    }

    #[test]
    fn below() {
        assert!(is_below("tank/a/b", "tank/a"));
        assert!(!is_below("tank/ab", "tank/a"));
        assert!(!is_below("tank/a", "tank/a"));
        assert!(is_same_or_below("tank/a", "tank/a"));
    }
}
