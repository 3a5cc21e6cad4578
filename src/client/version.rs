//! TrueNAS versions and what differs between them (truenas-api.md §12–§13).

use std::fmt;

use serde::Serialize;

use super::error::ApiError;

/// The API personalities zfleet knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Personality {
    /// TrueNAS CORE 13.x (FreeBSD).
    #[serde(rename = "13")]
    Core13,
    #[serde(rename = "24.04")]
    V24_04,
    #[serde(rename = "24.10")]
    V24_10,
    #[serde(rename = "25.04")]
    V25_04,
    /// 25.10 and newer.
    #[serde(rename = "25.10")]
    V25_10,
}

impl Personality {
    /// Every personality, oldest first.
    pub const ALL: [Personality; 5] = [
        Personality::Core13,
        Personality::V24_04,
        Personality::V24_10,
        Personality::V25_04,
        Personality::V25_10,
    ];

    /// The product and the release lines this personality drives, as TrueNAS names them.
    pub fn releases(self) -> (Product, &'static [&'static str]) {
        match self {
            Personality::Core13 => (Product::Core, &["13.0", "13.3"]),
            Personality::V24_04 => (Product::Scale, &["24.04"]),
            Personality::V24_10 => (Product::Scale, &["24.10"]),
            Personality::V25_04 => (Product::Truenas, &["25.04"]),
            Personality::V25_10 => (Product::Truenas, &["25.10"]),
        }
    }
}

/// The supported releases in one line, grouped by product:
/// `TrueNAS CORE 13.0, 13.3, TrueNAS SCALE 24.04, 24.10, TrueNAS 25.04, 25.10`.
pub fn supported_releases() -> String {
    let mut groups: Vec<(Product, Vec<&str>)> = Vec::new();
    for p in Personality::ALL {
        let (product, lines) = p.releases();
        match groups.last_mut() {
            Some((last, list)) if *last == product => list.extend_from_slice(lines),
            _ => groups.push((product, lines.to_vec())),
        }
    }
    groups
        .iter()
        .map(|(product, lines)| format!("{product} {}", lines.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which product line the system belongs to (`system.version` brand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    Core,
    Scale,
    /// 25.04+ ("TrueNAS" without a SCALE/CORE brand).
    Truenas,
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Product::Core => "TrueNAS CORE",
            Product::Scale => "TrueNAS SCALE",
            Product::Truenas => "TrueNAS",
        })
    }
}

/// A detected version: the raw `system.version` text and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Exactly what `system.version` returned, e.g. `TrueNAS-SCALE-24.04.2`.
    pub raw: String,
    /// The numeric part, e.g. `24.04.2`, `13.0-U6.2`, `25.10.1`.
    pub number: String,
    pub product: Product,
    pub personality: Personality,
}

/// Replication fields CORE 13 does not have (§6.1, §13 item 6).
const CORE_LACKS: &[&str] = &[
    "sudo",
    "name_regex",
    "lifetimes",
    "properties_override",
    "encryption_inherit",
];

/// Whether `system.version` printed something shaped like a version (one short word of
/// version characters with a digit, `FreeNAS-11.3-U5` included), as opposed to garbage from
/// a broken middleware.
pub fn looks_like_version(raw: &str) -> bool {
    let raw = raw.trim();
    raw.chars().any(|c| c.is_ascii_digit())
        && raw.len() <= 80
        && super::shown::clip(raw) == raw
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+'))
}

impl Version {
    /// Reads `system.version`. Anything zfleet cannot place is an error, never a guess.
    pub fn parse(raw: &str) -> Result<Version, ApiError> {
        let raw_trim = raw.trim();
        let unsupported = || {
            ApiError::UnsupportedVersion(super::shown::clip(raw_trim).chars().take(80).collect())
        };
        let (product_hint, number) = if let Some(rest) = raw_trim.strip_prefix("TrueNAS-SCALE-") {
            (Some(Product::Scale), rest)
        } else if let Some(rest) = raw_trim.strip_prefix("TrueNAS-") {
            (None, rest)
        } else {
            return Err(unsupported());
        };
        let (major, minor) = major_minor(number).ok_or_else(unsupported)?;
        let (product, personality) = match (product_hint, major, minor) {
            (None, 13, _) => (Product::Core, Personality::Core13),
            (Some(Product::Scale), 24, 4) => (Product::Scale, Personality::V24_04),
            (Some(Product::Scale), 24, 10) => (Product::Scale, Personality::V24_10),
            (None, 25, 4) => (Product::Truenas, Personality::V25_04),
            (None, 25, 10) => (Product::Truenas, Personality::V25_10),
            // Newer releases keep the 25.10 API (versioned JSON-RPC keeps old names).
            (None, m, _) if m >= 26 => (Product::Truenas, Personality::V25_10),
            _ => return Err(unsupported()),
        };
        Ok(Version {
            raw: raw_trim.to_string(),
            number: number.to_string(),
            product,
            personality,
        })
    }

    /// `zfs.snapshot` up to 25.04, `pool.snapshot` from 25.10.
    pub fn snapshot_namespace(&self) -> &'static str {
        if self.personality >= Personality::V25_10 {
            "pool.snapshot"
        } else {
            "zfs.snapshot"
        }
    }

    /// 25.10 starts services with the `service.control` job; older versions with `service.start`.
    pub fn service_control_is_job(&self) -> bool {
        self.personality >= Personality::V25_10
    }

    /// Whether a replication field exists on this version.
    pub fn has_replication_field(&self, field: &str) -> bool {
        !(self.personality == Personality::Core13 && CORE_LACKS.contains(&field))
    }

    /// Folder of request schemas under `truenas-api/schemas/` for this version, if any.
    pub fn schema_set(&self) -> Option<&'static str> {
        match self.personality {
            Personality::V25_10 => Some("25.10"),
            Personality::V25_04 => Some("25.04"),
            _ => None,
        }
    }

    /// Short label for tables: `25.10.1`, `13.0-U6.2`.
    pub fn label(&self) -> String {
        format!("{} {}", self.product, self.number)
    }
}

fn major_minor(number: &str) -> Option<(u32, u32)> {
    let mut parts = number.splitn(3, ['.', '-']);
    let major: u32 = parts.next()?.parse().ok()?;
    let minor_text = parts.next()?;
    let digits: String = minor_text
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        return None;
    }
    Some((major, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_personality() {
        let cases = [
            (
                "TrueNAS-13.0-U6.2",
                Personality::Core13,
                Product::Core,
                "zfs.snapshot",
            ),
            (
                "TrueNAS-13.3-U1.1",
                Personality::Core13,
                Product::Core,
                "zfs.snapshot",
            ),
            (
                "TrueNAS-SCALE-24.04.2",
                Personality::V24_04,
                Product::Scale,
                "zfs.snapshot",
            ),
            (
                "TrueNAS-SCALE-24.10.2.1",
                Personality::V24_10,
                Product::Scale,
                "zfs.snapshot",
            ),
            (
                "TrueNAS-25.04.2.4",
                Personality::V25_04,
                Product::Truenas,
                "zfs.snapshot",
            ),
            (
                "TrueNAS-25.10.1",
                Personality::V25_10,
                Product::Truenas,
                "pool.snapshot",
            ),
            (
                "TrueNAS-25.10-MASTER-20250801-120000",
                Personality::V25_10,
                Product::Truenas,
                "pool.snapshot",
            ),
            (
                "TrueNAS-26.04.0",
                Personality::V25_10,
                Product::Truenas,
                "pool.snapshot",
            ),
        ];
        for (raw, p, prod, ns) in cases {
            let v = Version::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(
                (v.personality, v.product, v.snapshot_namespace()),
                (p, prod, ns),
                "{raw}"
            );
        }
    }

    #[test]
    fn every_listed_release_parses_to_its_personality() {
        for p in Personality::ALL {
            let (product, lines) = p.releases();
            for line in lines {
                let raw = match product {
                    Product::Scale => format!("TrueNAS-SCALE-{line}.1"),
                    _ => format!("TrueNAS-{line}.1"),
                };
                let v = Version::parse(&raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
                assert_eq!((v.personality, v.product), (p, product), "{raw}");
            }
        }
        assert_eq!(
            supported_releases(),
            "TrueNAS CORE 13.0, 13.3, TrueNAS SCALE 24.04, 24.10, TrueNAS 25.04, 25.10"
        );
    }

    #[test]
    fn unknown_versions_are_errors() {
        for raw in [
            "",
            "TrueNAS",
            "TrueNAS-",
            "FreeNAS-11.3-U5",
            "TrueNAS-SCALE-23.10.2",
            "TrueNAS-SCALE-25.10.1",
            "TrueNAS-12.0-U8",
            "TrueNAS-24.04.2",
            "TrueNAS-abc",
            "garbage\nlines",
        ] {
            assert!(
                matches!(Version::parse(raw), Err(ApiError::UnsupportedVersion(_))),
                "{raw:?} accepted"
            );
        }
    }

    #[test]
    fn gates() {
        let core = Version::parse("TrueNAS-13.0-U6.2").expect("core");
        let ge = Version::parse("TrueNAS-25.10.1").expect("25.10");
        let df = Version::parse("TrueNAS-SCALE-24.04.2").expect("24.04");
        for f in CORE_LACKS {
            assert!(!core.has_replication_field(f));
            assert!(ge.has_replication_field(f));
            assert!(df.has_replication_field(f));
        }
        assert!(core.has_replication_field("retries"));
        assert!(ge.service_control_is_job());
        assert!(!df.service_control_is_job());
        assert_eq!(ge.schema_set(), Some("25.10"));
        assert_eq!(core.schema_set(), None);
    }
}
