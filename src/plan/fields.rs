//! Objects as lists of named fields in canonical form, so that desired and live state
//! compare by meaning: TrueNAS's rewrites (`0`/`00`, path cleaning, list order, defaults
//! filled in, references returned expanded) never show as changes.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::client::Schedule;
use crate::model::TnSchedule;
use crate::model::schedule::canonical;

/// One field: `key` is what is compared, `shown` what a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub key: String,
    pub shown: String,
}

impl Field {
    pub fn new(name: &'static str, key: impl Into<String>, shown: impl Into<String>) -> Self {
        Field {
            name,
            key: key.into(),
            shown: shown.into(),
        }
    }

    /// A field whose text is its own canonical form.
    pub fn plain(name: &'static str, value: impl ToString) -> Self {
        let v = value.to_string();
        Field::new(name, v.clone(), v)
    }
}

/// A field-level difference, as plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Change {
    pub field: String,
    /// `None` when the object is being created.
    pub old: Option<String>,
    /// `None` when the object is being deleted.
    pub new: Option<String>,
}

/// The fields of `desired` that differ from `live` (both in the same order of names).
pub fn diff(live: &[Field], desired: &[Field]) -> Vec<Change> {
    desired
        .iter()
        .filter_map(|d| {
            let l = live.iter().find(|l| l.name == d.name);
            match l {
                Some(l) if l.key == d.key => None,
                l => Some(Change {
                    field: d.name.to_string(),
                    old: l.map(|l| l.shown.clone()),
                    new: Some(d.shown.clone()),
                }),
            }
        })
        .collect()
}

/// Every field of an object being created.
pub fn all_new(desired: &[Field]) -> Vec<Change> {
    desired
        .iter()
        .map(|d| Change {
            field: d.name.to_string(),
            old: None,
            new: Some(d.shown.clone()),
        })
        .collect()
}

/// A stable fingerprint of fields (FNV-1a, 64 bits, hex): the same canonical fields give
/// the same text on every machine and every run.
pub fn fingerprint(fields: &[Field]) -> String {
    let mut h = Fnv::new();
    for f in fields {
        h.write(f.name.as_bytes());
        h.write(&[0]);
        h.write(f.key.as_bytes());
        h.write(&[1]);
    }
    format!("{:016x}", h.finish())
}

/// FNV-1a: tiny, stable across Rust releases (unlike `DefaultHasher`).
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// A dataset path as TrueNAS's old schema layer cleans it: trimmed, no `/` at either
/// end, no empty components.
pub fn clean_path(p: &str) -> String {
    p.trim()
        .split('/')
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// A list whose order means nothing, as a sorted set.
pub fn set_field<'a>(
    name: &'static str,
    items: impl IntoIterator<Item = &'a String>,
    clean: bool,
) -> Field {
    let set: BTreeSet<String> = items
        .into_iter()
        .map(|s| if clean { clean_path(s) } else { s.clone() })
        .collect();
    let text = set.iter().cloned().collect::<Vec<_>>().join(", ");
    Field::new(name, text.clone(), format!("[{text}]"))
}

/// A schedule: compared by meaning, shown as cron text plus the window when it is not
/// the whole day.
pub fn schedule_field(name: &'static str, s: &TnSchedule) -> Field {
    let key = match canonical(s) {
        Ok(c) => serde_json::to_string(&c).unwrap_or_default(),
        // An unreadable live schedule compares by its text.
        Err(_) => format!(
            "raw:{} {} {} {} {} {} {}",
            s.minute, s.hour, s.dom, s.month, s.dow, s.begin, s.end
        ),
    };
    Field::new(name, key, show_schedule(s))
}

pub fn show_schedule(s: &TnSchedule) -> String {
    let star = |f: &str| {
        if f.trim().is_empty() {
            "*".to_string()
        } else {
            f.to_string()
        }
    };
    let mut text = format!(
        "{} {} {} {} {}",
        star(&s.minute),
        star(&s.hour),
        star(&s.dom),
        star(&s.month),
        star(&s.dow)
    );
    if !(s.begin == "00:00" && s.end == "23:59") {
        text.push_str(&format!(" ({}–{})", s.begin, s.end));
    }
    text
}

/// A schedule as stored by TrueNAS, completed with its defaults, as the model's type.
pub fn live_schedule(s: &Schedule) -> TnSchedule {
    TnSchedule {
        minute: s.minute.clone(),
        hour: s.hour.clone(),
        dom: s.dom.clone(),
        month: s.month.clone(),
        dow: s.dow.clone(),
        begin: s.begin.clone().unwrap_or_else(|| "00:00".into()),
        end: s.end.clone().unwrap_or_else(|| "23:59".into()),
    }
}

pub fn opt_text(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_clean_like_the_old_schema() {
        assert_eq!(clean_path(" /tank//data/ "), "tank/data");
    }

    #[test]
    fn zero_and_double_zero_are_one_schedule() {
        let mut a = TnSchedule::truenas_default();
        let b = a.clone();
        a.minute = "0".into();
        a.dow = "*".into();
        assert_eq!(
            schedule_field("schedule", &a).key,
            schedule_field("schedule", &b).key
        );
        let mut c = b.clone();
        c.minute = "5".into();
        assert_ne!(
            schedule_field("schedule", &c).key,
            schedule_field("schedule", &b).key
        );
    }

    #[test]
    fn sets_ignore_order() {
        let a = vec!["b".to_string(), "a".to_string()];
        let b = vec!["a".to_string(), "b/".to_string()];
        assert_eq!(set_field("x", &a, true), set_field("x", &b, true));
    }
}
