//! Version personalities: what differs between CORE 13 (13.0 and 13.3), 24.04, 24.10, 25.04
//! and 25.10 in what the middleware and `midclt` say.

use crate::diag::Problem;

/// The release lines the simulator impersonates, as users write them.
pub const RELEASES: &[&str] = &["13.0", "13.3", "24.04", "24.10", "25.04", "25.10"];

/// Parses a version given by the user (`--truenas-version`, a fixture's `version`), or says
/// which ones exist.
pub fn parse(given: &str) -> Result<Personality, Problem> {
    Personality::from_version(given).ok_or_else(|| {
        Problem::error(
            "zfleet::sim::version_unknown",
            format!("the simulator has no TrueNAS version `{given}`"),
        )
        .help(format!(
            "use one of {} (optionally with a patch level, like 25.10.1 or 13.3-U1.1)",
            RELEASES.join(", ")
        ))
    })
}

/// The full release a bare `13.3` stands for.
const CORE_13_3: &str = "13.3-U1.1";

/// One TrueNAS release line the simulator can impersonate (CORE 13.0 and 13.3 are one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Personality {
    Core13,
    V2404,
    V2410,
    V2504,
    V2510,
}

/// Which validation layer checks a method's arguments (texts and attribute names differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// CORE 13 `@accepts`: only the first error, raised as a plain error with a traceback.
    Core,
    /// 24.x `@accepts` schema: `<schema>.<field>: attribute required`, input order first.
    Old,
    /// Pydantic models: `<arg>.<field>: Field required`, model field order.
    Pydantic,
}

/// Method families whose validation layer moved at different releases (api doc §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    SnapshotTask,
    Replication,
    Keychain,
    ZfsSnapshot,
    PoolSnapshot,
    /// `pool.dataset.*`, `service.*`, `ssh.*`, `system.*`.
    Plain,
    Core,
    User,
}

impl Personality {
    /// Parses `13.0-U6.2`, `24.04`, `24.04.2`, `25.10.1`, `TrueNAS-SCALE-24.10.2`, ...
    pub fn from_version(v: &str) -> Option<Personality> {
        let v = v
            .trim()
            .trim_start_matches("TrueNAS-")
            .trim_start_matches("SCALE-");
        let mut parts = v.split(['.', '-']);
        let major = parts.next()?;
        let minor = parts.next().unwrap_or("");
        Some(match (major, minor) {
            // CORE 13.0 and 13.3 answer alike in everything simulated.
            ("13", "0" | "3") => Personality::Core13,
            ("24", "04") => Personality::V2404,
            ("24", "10") => Personality::V2410,
            ("25", "04") => Personality::V2504,
            ("25", "10") => Personality::V2510,
            _ => return None,
        })
    }

    /// The full release a bare `24.04` stands for.
    pub fn default_full_version(self) -> &'static str {
        match self {
            Personality::Core13 => "13.0-U6.2",
            Personality::V2404 => "24.04.2",
            Personality::V2410 => "24.10.2",
            Personality::V2504 => "25.04.2",
            Personality::V2510 => "25.10.1",
        }
    }

    /// The release line (`13.3`, `25.10`) of a full version of this personality.
    pub fn release(self, full: &str) -> &'static str {
        match self {
            Personality::Core13 if full.trim_start_matches("TrueNAS-").starts_with("13.3") => {
                "13.3"
            }
            Personality::Core13 => "13.0",
            Personality::V2404 => "24.04",
            Personality::V2410 => "24.10",
            Personality::V2504 => "25.04",
            Personality::V2510 => "25.10",
        }
    }

    pub const ALL: [Personality; 5] = [
        Personality::Core13,
        Personality::V2404,
        Personality::V2410,
        Personality::V2504,
        Personality::V2510,
    ];

    /// Completes `24.04` to `24.04.2` and `13.3` to `13.3-U1.1`; keeps a version that already
    /// has a patch level.
    pub fn full_version(self, given: &str) -> String {
        let g = given.trim();
        let dots = g.matches('.').count();
        if self == Personality::Core13 {
            if g.contains('-') || dots >= 2 {
                g.to_string()
            } else if g.trim_start_matches("TrueNAS-").starts_with("13.3") {
                CORE_13_3.to_string()
            } else {
                self.default_full_version().to_string()
            }
        } else if dots >= 2 {
            g.to_string()
        } else {
            self.default_full_version().to_string()
        }
    }

    pub fn is_core(self) -> bool {
        self == Personality::Core13
    }

    /// `system.version`.
    pub fn system_version(self, full: &str) -> String {
        match self {
            Personality::Core13 => format!("TrueNAS-{full}"),
            Personality::V2404 | Personality::V2410 => format!("TrueNAS-SCALE-{full}"),
            Personality::V2504 | Personality::V2510 => format!("TrueNAS-{full}"),
        }
    }

    /// `system.info.version`: the short form from 25.04 on.
    pub fn info_version(self, full: &str) -> String {
        match self {
            Personality::V2504 | Personality::V2510 => full.to_string(),
            _ => self.system_version(full),
        }
    }

    pub fn product_type(self, enterprise: bool) -> &'static str {
        match (self, enterprise) {
            (Personality::Core13, false) => "CORE",
            (Personality::Core13, true) => "ENTERPRISE",
            (Personality::V2404 | Personality::V2410, false) => "SCALE",
            (Personality::V2404 | Personality::V2410, true) => "SCALE_ENTERPRISE",
            (_, false) => "COMMUNITY_EDITION",
            (_, true) => "ENTERPRISE",
        }
    }

    /// The public snapshot namespace (`pool.snapshot` from 25.10 on).
    pub fn snapshot_namespace(self) -> &'static str {
        if self >= Personality::V2510 {
            "pool.snapshot"
        } else {
            "zfs.snapshot"
        }
    }

    pub fn layer(self, family: Family) -> Layer {
        use Personality::*;
        if self == Core13 {
            return Layer::Core;
        }
        let pydantic = match family {
            Family::SnapshotTask | Family::Keychain | Family::Core => self >= V2504,
            Family::Replication | Family::Plain | Family::PoolSnapshot => self >= V2510,
            Family::ZfsSnapshot => false,
            Family::User => self >= V2410,
        };
        if pydantic {
            Layer::Pydantic
        } else {
            Layer::Old
        }
    }

    /// `-j/--job` is a boolean option taking a value up to 24.10, a flag from 25.04.
    pub fn job_flag_takes_value(self) -> bool {
        self <= Personality::V2410
    }

    /// `-q` is a global option up to 25.04 and a `call` option on 25.10.
    pub fn quiet_is_call_option(self) -> bool {
        self >= Personality::V2510
    }

    /// `midclt ping` prints `pong` only on 25.10.
    pub fn ping_prints_pong(self) -> bool {
        self >= Personality::V2510
    }

    /// Method-not-found is the JSON-RPC `Method does not exist` from 25.04 on.
    pub fn jsonrpc(self) -> bool {
        self >= Personality::V2504
    }

    /// Snapshot task `state.last_snapshot`, replication rows' embedded `state` string,
    /// `has_encrypted_dataset_keys` always present, jobs' `message_ids`: 25.10.
    pub fn goldeye(self) -> bool {
        self >= Personality::V2510
    }

    /// Jobs' `result_encoding_error` and `exc_info.errno` (24.10+).
    pub fn job_encoding_fields(self) -> bool {
        self >= Personality::V2410
    }

    /// CORE lacks `sudo`, `name_regex`, `lifetimes`, `properties_override`, `encryption_inherit`.
    pub fn replication_has_scale_fields(self) -> bool {
        self != Personality::Core13
    }

    /// `service.control` (job) exists from 25.10.
    pub fn has_service_control(self) -> bool {
        self >= Personality::V2510
    }

    /// `system.version_short` is absent on CORE.
    pub fn has_version_short(self) -> bool {
        self != Personality::Core13
    }

    /// Too many positional arguments: validation error on 25.10, CallError before.
    pub fn too_many_args_is_validation(self) -> bool {
        self >= Personality::V2510
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            Personality::from_version("13.0-U6.2"),
            Some(Personality::Core13)
        );
        assert_eq!(Personality::from_version("24.04"), Some(Personality::V2404));
        assert_eq!(
            Personality::from_version("TrueNAS-SCALE-24.10.2"),
            Some(Personality::V2410)
        );
        assert_eq!(
            Personality::from_version("25.10.1"),
            Some(Personality::V2510)
        );
        assert_eq!(Personality::from_version("26.04"), None);
        assert_eq!(Personality::from_version("13.1"), None);
        for v in RELEASES {
            assert!(parse(v).is_ok(), "{v}");
        }
        let p = parse("13.3").unwrap();
        assert_eq!(p, Personality::Core13);
        assert_eq!(p.full_version("13.3"), "13.3-U1.1");
        assert_eq!(
            p.system_version(&p.full_version("13.3")),
            "TrueNAS-13.3-U1.1"
        );
        assert_eq!(p.release("13.3-U1.1"), "13.3");
        assert_eq!(p.full_version("13.0"), "13.0-U6.2");
        assert_eq!(p.release("13.0-U6.2"), "13.0");
        let e = parse("24.01").unwrap_err();
        assert_eq!(e.code, "zfleet::sim::version_unknown");
        assert_eq!(e.message, "the simulator has no TrueNAS version `24.01`");
        assert_eq!(Personality::V2404.full_version("24.04"), "24.04.2");
        assert_eq!(Personality::V2510.full_version("25.10.3"), "25.10.3");
        assert_eq!(
            Personality::V2404.system_version("24.04.2"),
            "TrueNAS-SCALE-24.04.2"
        );
        assert_eq!(Personality::V2510.info_version("25.10.1"), "25.10.1");
    }
}
