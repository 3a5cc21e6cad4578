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

// Placeholder until the full rules land.
pub fn parse(text: &str) -> Result<Lifetime, String> {
    let (n, unit) = text
        .trim()
        .split_once(' ')
        .ok_or("expected `<number> <unit>`")?;
    let value: u32 = n.parse().map_err(|_| format!("`{n}` is not a number"))?;
    let unit = match unit.trim_end_matches('s') {
        "hour" => LifetimeUnit::Hour,
        "day" => LifetimeUnit::Day,
        "week" => LifetimeUnit::Week,
        "month" => LifetimeUnit::Month,
        "year" => LifetimeUnit::Year,
        _ => return Err(format!("unknown unit `{unit}`")),
    };
    Ok(Lifetime { value, unit })
}
