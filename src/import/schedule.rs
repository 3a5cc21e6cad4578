//! A live schedule written the most readable way the config reads back as the same
//! schedule: a preset, a cron string, or a mapping with a window.

use crate::model::TnSchedule;
use crate::model::schedule::{ScheduleInput, canonical, resolve_map, resolve_text};

/// YAML text of `live` (already quoted where YAML needs it), or `None` when no form the
/// config accepts means the same schedule.
pub fn text(live: &TnSchedule) -> Option<String> {
    let want = canonical(live).ok()?;
    let same = |s: &TnSchedule| canonical(s).is_ok_and(|c| c == want);
    for preset in ["hourly", "daily", "weekly", "monthly"] {
        if resolve_text(preset).is_ok_and(|s| same(&s)) {
            return Some(preset.to_string());
        }
    }
    let cron = format!(
        "{} {} {} {} {}",
        field(&live.minute),
        field(&live.hour),
        field(&live.dom),
        field(&live.month),
        field(&live.dow)
    );
    if resolve_text(&cron).is_ok_and(|s| same(&s)) {
        return Some(super::yaml::scalar(&cron));
    }
    let windowed = ScheduleInput {
        cron: Some(&cron),
        begin: Some(&live.begin),
        end: Some(&live.end),
        ..ScheduleInput::default()
    };
    if resolve_map(&windowed).is_ok_and(|s| same(&s)) {
        return Some(format!(
            "{{ cron: {}, begin: {}, end: {} }}",
            super::yaml::scalar(&cron),
            super::yaml::scalar(&live.begin),
            super::yaml::scalar(&live.end)
        ));
    }
    // TrueNAS's own form, which the config takes as it is.
    let own = ScheduleInput {
        minute: Some(&live.minute),
        hour: Some(&live.hour),
        dom: Some(&live.dom),
        month: Some(&live.month),
        dow: Some(&live.dow),
        begin: Some(&live.begin),
        end: Some(&live.end),
        ..ScheduleInput::default()
    };
    if resolve_map(&own).is_ok_and(|s| same(&s)) {
        let q = super::yaml::scalar;
        return Some(format!(
            "{{ minute: {}, hour: {}, dom: {}, month: {}, dow: {}, begin: {}, end: {} }}",
            q(&live.minute),
            q(&live.hour),
            q(&live.dom),
            q(&live.month),
            q(&live.dow),
            q(&live.begin),
            q(&live.end)
        ));
    }
    None
}

/// TrueNAS may store an empty field for `*`.
fn field(f: &str) -> &str {
    if f.trim().is_empty() { "*" } else { f.trim() }
}

/// The preset a schedule is, for readable names.
pub fn preset(live: &TnSchedule) -> Option<&'static str> {
    let want = canonical(live).ok()?;
    ["hourly", "daily", "weekly", "monthly"]
        .into_iter()
        .find(|p| resolve_text(p).is_ok_and(|s| canonical(&s).is_ok_and(|c| c == want)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tn(minute: &str, hour: &str, dow: &str, begin: &str, end: &str) -> TnSchedule {
        TnSchedule {
            minute: minute.into(),
            hour: hour.into(),
            dom: "*".into(),
            month: "*".into(),
            dow: dow.into(),
            begin: begin.into(),
            end: end.into(),
        }
    }

    #[test]
    fn presets_cron_and_windows() {
        assert_eq!(
            text(&tn("00", "*", "*", "00:00", "23:59")).as_deref(),
            Some("hourly")
        );
        assert_eq!(
            text(&tn("0", "0", "sun", "00:00", "23:59")).as_deref(),
            Some("weekly")
        );
        assert_eq!(
            text(&tn("30", "2", "1-5", "00:00", "23:59")).as_deref(),
            Some("\"30 2 * * 1-5\"")
        );
        assert_eq!(
            text(&tn("0", "*", "*", "08:00", "18:00")).as_deref(),
            Some("{ cron: \"0 * * * *\", begin: \"08:00\", end: \"18:00\" }")
        );
        assert_eq!(preset(&tn("0", "0", "*", "00:00", "23:59")), Some("daily"));
        assert_eq!(preset(&tn("15", "0", "*", "00:00", "23:59")), None);
    }
}
