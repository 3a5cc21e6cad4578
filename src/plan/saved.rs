//! A plan saved with `zfleet plan -o FILE`, applied later with `zfleet apply FILE` only if
//! the config and every system's live state are still those it was made from.

use serde::{Deserialize, Serialize};

use super::fields::Fnv;
use super::{Plan, SystemPlan};
use crate::model::Config;

pub const KIND: &str = "zfleet-plan";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    pub kind: String,
    pub format_version: u32,
    /// zfleet's version that made it.
    pub zfleet: String,
    pub project: String,
    /// Digest of the validated config (comments and formatting do not count).
    pub config: String,
    /// Errors the plan had: such a plan is never applied.
    pub errors: usize,
    pub systems: Vec<SystemPlan>,
}

/// Digest of a validated config.
pub fn config_digest(config: &Config) -> String {
    let mut h = Fnv::new();
    h.write(serde_json::to_string(config).unwrap_or_default().as_bytes());
    format!("{:016x}", h.finish())
}

impl SavedPlan {
    pub fn new(plan: &Plan, config: &Config) -> SavedPlan {
        SavedPlan {
            kind: KIND.into(),
            format_version: FORMAT_VERSION,
            zfleet: env!("CARGO_PKG_VERSION").into(),
            project: plan.project.clone(),
            config: config_digest(config),
            errors: plan.problems.iter().filter(|p| p.is_error()).count(),
            systems: plan.systems.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a saved plan; `Err` says why the text is not one.
    pub fn from_json(text: &str) -> Result<SavedPlan, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("it is not JSON: {e}"))?;
        if v.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            return Err("it is not a plan saved by `zfleet plan -o`".into());
        }
        let version = v.get("format_version").and_then(|f| f.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(format!(
                "it has plan format {}, and this zfleet reads format {FORMAT_VERSION}",
                version.map_or("unknown".into(), |v| v.to_string())
            ));
        }
        serde_json::from_value(v).map_err(|e| format!("it is damaged: {e}"))
    }
}
