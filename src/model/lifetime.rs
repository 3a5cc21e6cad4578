//! Lifetimes in human units (`2 weeks`, `36 hours`) mapped to TrueNAS value + unit.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LifetimeUnit {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A TrueNAS lifetime: the exact `(lifetime_value, lifetime_unit)` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifetime {
    pub value: u32,
    pub unit: LifetimeUnit,
}

pub const CODES: &[crate::diag::CodeInfo] = &[];
