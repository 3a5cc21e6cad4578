//! Schedules: presets, 5-field cron strings and TrueNAS objects, validated by TrueNAS's
//! rules and normalised to the TrueNAS `{minute,hour,dom,month,dow,begin,end}` form.
//!
//! A schedule is written either as a string ([`resolve_text`]) or as a mapping
//! ([`resolve_map`]). Strings are a preset (`hourly`, `daily`, `weekly`, `monthly`,
//! case-insensitive, `@daily` also accepted) or five cron fields (`"30 2 * * 1-5"`).
//! Mappings come in three forms, never mixed; `begin`/`end` (an inclusive `HH:MM` window,
//! default `00:00`–`23:59`) fit all three:
//!
//! 1. `{every: hourly|daily|weekly|monthly, at, minute, day}`: `at` is `HH:MM` for daily,
//!    weekly and monthly (default `00:00`); `minute` is 0-59 for hourly only (default 0);
//!    `day` is a weekday for weekly (`monday`…`sunday`, `mon`…`sun` or 1…7 with 1 = Monday,
//!    default Sunday) and a day of the month 1…31 for monthly (default 1).
//! 2. `{cron: "<5 fields>"}`.
//! 3. The TrueNAS object `{minute, hour, dom, month, dow}`; a missing key takes TrueNAS's
//!    default (minute `0`, the others `*`).
//!
//! Validation follows the middleware: each field is checked by croniter's rules plus
//! TrueNAS's own (`/` only after `*` or a range, `utils/cron.py`), times are 24-hour
//! `HH:MM`, and, as 24.x's `Cron(begin_end=True)` does, begin ≤ end and at least one run
//! inside the window. Every problem is reported at once.
//!
//! Semantics follow croniter (what TrueNAS and zettarepl run): day-of-month and day-of-week
//! are ORed when both are restricted; a field counts as unrestricted when it is `*`, or when
//! it covers its whole range and the other day field's text contains a `*` (croniter 6;
//! older croniter, on older TrueNAS, always treats a full field as `*`, so zfleet refuses a
//! full non-`*` day field next to a restricted one rather than guess). The run window
//! follows zettarepl's `CronSchedule.should_run`: `begin < end` is an ordinary inclusive
//! window, otherwise it wraps past midnight (so `begin == end` admits every minute).

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use serde::Serialize;

use crate::diag::CodeInfo;

/// A schedule as TrueNAS stores it; every field a string, dow 1 = Monday … 7 = Sunday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TnSchedule {
    pub minute: String,
    pub hour: String,
    pub dom: String,
    pub month: String,
    pub dow: String,
    pub begin: String,
    pub end: String,
}

/// The user's schedule mapping, key by key (values already turned into text).
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput<'a> {
    pub every: Option<&'a str>,
    pub at: Option<&'a str>,
    pub day: Option<&'a str>,
    pub cron: Option<&'a str>,
    pub minute: Option<&'a str>,
    pub hour: Option<&'a str>,
    pub dom: Option<&'a str>,
    pub month: Option<&'a str>,
    pub dow: Option<&'a str>,
    pub begin: Option<&'a str>,
    pub end: Option<&'a str>,
}

/// Which key of the user's schedule a problem is about (`Whole` for a plain string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedField {
    Whole,
    Every,
    At,
    Day,
    Cron,
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
    Begin,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: SchedField,
    /// A stable diagnostic code from [`CODES`].
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

impl ScheduleError {
    fn new(
        field: SchedField,
        code: &'static str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        ScheduleError {
            field,
            code,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The error as a diagnostic; the caller adds system, object and span.
    pub fn to_problem(&self) -> crate::diag::Problem {
        crate::diag::Problem::error(self.code, self.message.clone()).help(self.help.clone())
    }
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub const UNKNOWN_PRESET: &str = "zfleet::schedule::unknown_preset";
pub const INVALID_CRON: &str = "zfleet::schedule::invalid_cron";
pub const INVALID_TIME: &str = "zfleet::schedule::invalid_time";
pub const WINDOW_ORDER: &str = "zfleet::schedule::window_order";
pub const EMPTY_WINDOW: &str = "zfleet::schedule::empty_window";
pub const MIXED_FORMS: &str = "zfleet::schedule::mixed_forms";
pub const INVALID_DAY: &str = "zfleet::schedule::invalid_day";

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: UNKNOWN_PRESET,
        summary: "a schedule string or `every:` value is not a known preset or a cron string",
    },
    CodeInfo {
        code: INVALID_CRON,
        summary: "a cron field breaks TrueNAS's cron syntax, or the schedule never runs",
    },
    CodeInfo {
        code: INVALID_TIME,
        summary: "a time (`begin`, `end`, `at`) is not 24-hour HH:MM, or a minute is not 0-59",
    },
    CodeInfo {
        code: WINDOW_ORDER,
        summary: "the schedule window's begin time is after its end time",
    },
    CodeInfo {
        code: EMPTY_WINDOW,
        summary: "the schedule never runs inside its begin/end window",
    },
    CodeInfo {
        code: MIXED_FORMS,
        summary: "a schedule mapping mixes keys of the every:, cron: and TrueNAS forms",
    },
    CodeInfo {
        code: INVALID_DAY,
        summary: "the `day` of a weekly or monthly schedule is not a weekday or day of month",
    },
];

const CRON_PREFIX: &str = "Please ensure fields match cron syntax - ";
const TIME_MESSAGE: &str = "Time should be in 24 hour format like \"18:00\"";
const CRON_HELP: &str = "cron fields are: minute 0-59, hour 0-23, day of month 1-31, month 1-12 or jan-dec, \
day of week 0-7 or sun-sat (0 and 7 are Sunday); each a value, a list `a,b`, a range `a-b`, \
or a step `*/n` or `a-b/n`";
const FORMS_HELP: &str = "a schedule is a preset (hourly, daily, weekly, monthly), a 5-field cron string \
such as \"30 2 * * 1-5\", or a mapping of one form: {every, at, minute, day}, {cron} or \
{minute, hour, dom, month, dow}; begin and end fit every form";
const TIME_HELP: &str = "write 24-hour times as HH:MM, from 00:00 to 23:59";

// ---------------------------------------------------------------------------------------
// Cron fields

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
}

const KINDS: [Kind; 5] = [Kind::Minute, Kind::Hour, Kind::Dom, Kind::Month, Kind::Dow];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
/// croniter's weekday abbreviations, Sunday = 0.
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Kind {
    /// Inclusive bounds of the values a user may write (dow 7 is Sunday again).
    fn bounds(self) -> (u32, u32) {
        match self {
            Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::Dom => (1, 31),
            Kind::Month => (1, 12),
            Kind::Dow => (0, 7),
        }
    }

    /// Bit mask of every value the field can take (dow as 0..=6).
    fn full(self) -> u64 {
        match self {
            Kind::Dow => mask_range(0, 6),
            _ => {
                let (lo, hi) = self.bounds();
                mask_range(lo, hi)
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Minute => "minute",
            Kind::Hour => "hour",
            Kind::Dom => "day of month",
            Kind::Month => "month",
            Kind::Dow => "day of week",
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            Kind::Minute => "0-59",
            Kind::Hour => "0-23",
            Kind::Dom => "1-31",
            Kind::Month => "1-12 or jan-dec",
            Kind::Dow => "0-7 or sun-sat",
        }
    }

    fn field(self) -> SchedField {
        match self {
            Kind::Minute => SchedField::Minute,
            Kind::Hour => SchedField::Hour,
            Kind::Dom => SchedField::Dom,
            Kind::Month => SchedField::Month,
            Kind::Dow => SchedField::Dow,
        }
    }
}

fn mask_range(lo: u32, hi: u32) -> u64 {
    (lo..=hi.min(63)).fold(0, |m, v| m | (1u64 << v))
}

fn has_bit(mask: u64, v: u32) -> bool {
    v < 64 && mask & (1u64 << v) != 0
}

/// Strict parsing checks user input; lenient parsing reads whatever TrueNAS stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Lenient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Star,
    One(u32),
    Range(u32, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    base: Base,
    step: Option<u32>,
}

const STAR: Item = Item {
    base: Base::Star,
    step: None,
};

/// One parsed cron field: its items and the text croniter sees (for the `*` rule).
#[derive(Debug, Clone)]
struct Field {
    items: Vec<Item>,
    text: String,
    mask: u64,
}

impl Field {
    fn literal_star(&self) -> bool {
        self.items.contains(&STAR)
    }
}

fn parse_value(kind: Kind, tok: &str, range_end: bool) -> Result<u32, String> {
    let lower = tok.to_ascii_lowercase();
    let value = if !tok.is_empty() && tok.bytes().all(|b| b.is_ascii_digit()) {
        let digits = tok.trim_start_matches('0');
        if digits.len() > 3 {
            return Err(format!(
                "{} {tok} is out of range ({})",
                kind.label(),
                kind.allowed()
            ));
        }
        digits.parse::<u32>().unwrap_or(0)
    } else if let (Kind::Month, Some(i)) = (kind, MONTHS.iter().position(|m| *m == lower)) {
        i as u32 + 1
    } else if let (Kind::Dow, Some(i)) = (kind, WEEKDAYS.iter().position(|d| *d == lower)) {
        // `fri-sun` means Friday to Sunday: Sunday closes a range as 7.
        if i == 0 && range_end { 7 } else { i as u32 }
    } else if tok.is_empty() {
        return Err(format!(
            "a range in the {} field is missing a bound (negative numbers are not allowed)",
            kind.label()
        ));
    } else {
        return Err(format!(
            "\"{tok}\" is not a valid {} value (use {})",
            kind.label(),
            kind.allowed()
        ));
    };
    let (lo, hi) = kind.bounds();
    if value < lo || value > hi {
        return Err(format!(
            "{} {value} is out of range ({})",
            kind.label(),
            kind.allowed()
        ));
    }
    Ok(value)
}

fn parse_step(kind: Kind, s: &str) -> Result<u32, String> {
    let digits = s.trim_start_matches('0');
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() {
        return Err(format!(
            "step \"{s}\" in the {} field must be a whole number of at least 1",
            kind.label()
        ));
    }
    if digits.len() > 4 {
        return Err(format!(
            "step \"{s}\" in the {} field is too large",
            kind.label()
        ));
    }
    Ok(digits.parse::<u32>().unwrap_or(1))
}

fn parse_field(kind: Kind, raw: &str, mode: Mode) -> Result<Field, String> {
    let text = if mode == Mode::Lenient {
        raw.trim()
    } else {
        raw
    };
    // TrueNAS treats an empty field as `*` (but stores "").
    if text.is_empty() {
        if mode == Mode::Strict {
            return Err(format!("the {} field is empty", kind.label()));
        }
        return Ok(Field {
            items: vec![STAR],
            text: "*".into(),
            mask: kind.full(),
        });
    }
    if text.chars().any(char::is_whitespace) {
        return Err(format!(
            "the {} field \"{text}\" contains whitespace",
            kind.label()
        ));
    }
    if text == "?" && matches!(kind, Kind::Dom | Kind::Dow) {
        if mode == Mode::Strict {
            return Err(format!(
                "\"?\" is not supported; write \"*\" for any {}",
                kind.label()
            ));
        }
        return Ok(Field {
            items: vec![STAR],
            text: "*".into(),
            mask: kind.full(),
        });
    }
    let mut items = Vec::new();
    for part in text.split(',') {
        if part.is_empty() {
            return Err(format!(
                "the {} list \"{text}\" has an empty item",
                kind.label()
            ));
        }
        let (base_text, step) = match part.split_once('/') {
            Some((b, s)) => (b, Some(parse_step(kind, s)?)),
            None => (part, None),
        };
        let base = if base_text == "*" {
            Base::Star
        } else if let Some((a, b)) = base_text.split_once('-') {
            let mut lo = parse_value(kind, a, false)?;
            let mut hi = parse_value(kind, b, true)?;
            if kind == Kind::Dow && hi == 0 && lo > 0 {
                hi = 7;
            }
            // Sunday as 7 opening a range is Sunday as 0 (croniter folds 7 onto 0).
            if kind == Kind::Dow && lo == 7 && hi < 7 {
                lo = 0;
            }
            if lo > hi && mode == Mode::Strict {
                let (min, max) = kind.bounds();
                return Err(format!(
                    "the {} range {a}-{b} runs backwards; write {a}-{max},{min}-{b}",
                    kind.label()
                ));
            }
            Base::Range(lo, hi)
        } else {
            Base::One(parse_value(kind, base_text, false)?)
        };
        let base = match (base, step) {
            (Base::One(v), Some(_)) => {
                if mode == Mode::Strict {
                    // TrueNAS's own rule (middleware utils/cron.py), in its words.
                    return Err("Only range or `*` are allowed before `/`".into());
                }
                Base::Range(v, kind.bounds().1)
            }
            (b, _) => b,
        };
        items.push(Item { base, step });
    }
    if mode == Mode::Strict && items.len() > 1 && items.contains(&STAR) {
        return Err(format!(
            "\"*\" cannot be combined with other values in the {} field \"{text}\"",
            kind.label()
        ));
    }
    let mask = items.iter().fold(0, |m, it| m | expand(kind, *it));
    Ok(Field {
        items,
        text: text.to_ascii_lowercase(),
        mask,
    })
}

/// The values an item selects, as a bit mask (dow 7 folded onto 0).
fn expand(kind: Kind, item: Item) -> u64 {
    let (min, max) = kind.bounds();
    let (lo, hi) = match item.base {
        Base::Star => (min, if kind == Kind::Dow { 6 } else { max }),
        Base::One(v) => (v, v),
        Base::Range(a, b) => (a, b),
    };
    let step = item.step.unwrap_or(1).max(1);
    let mut mask = 0u64;
    let mut add = |v: u32| {
        let v = if kind == Kind::Dow && v == 7 { 0 } else { v };
        if v < 64 {
            mask |= 1u64 << v;
        }
    };
    if lo <= hi {
        let mut v = lo;
        while v <= hi {
            add(v);
            v += step;
        }
    } else {
        // croniter wraps a backwards range (`22-2`) past the field's end.
        let top = if kind == Kind::Dow { 6 } else { max };
        let span = top - min + 1;
        let mut offset = 0;
        let len = (top - lo + 1) + (hi.saturating_sub(min) + 1);
        while offset < len {
            add(min + (lo - min + offset) % span);
            offset += step;
        }
    }
    mask
}

/// The normalised TrueNAS text of a strictly parsed field.
fn emit(kind: Kind, items: &[Item]) -> String {
    let num = |v: u32| -> u32 { if kind == Kind::Dow && v == 0 { 7 } else { v } };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let text = match (item.base, item.step) {
            (Base::Star, None) => "*".to_string(),
            (Base::Star, Some(s)) => format!("*/{s}"),
            (Base::One(v), _) => num(v).to_string(),
            (Base::Range(a, b), _) if a == b => num(a).to_string(),
            (Base::Range(0, _), _) if kind == Kind::Dow => {
                // Sunday as 0 opens the range: spell out the days as 1..7.
                compress(&mask_to_dow_values(expand(kind, *item)))
            }
            (Base::Range(a, b), None) => format!("{a}-{b}"),
            (Base::Range(a, b), Some(s)) => format!("{a}-{b}/{s}"),
        };
        out.push(text);
    }
    out.join(",")
}

/// Day-of-week mask (0 = Sunday) as TrueNAS numbers 1..=7.
fn mask_to_dow_values(mask: u64) -> Vec<u32> {
    (1..=7)
        .filter(|v| has_bit(mask, if *v == 7 { 0 } else { *v }))
        .collect()
}

/// `1,2,3,5` → `1-3,5`.
fn compress(values: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let start = values[i];
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        let end = values[j];
        if j >= i + 2 {
            parts.push(format!("{start}-{end}"));
        } else {
            for v in &values[i..=j] {
                parts.push(v.to_string());
            }
        }
        i = j + 1;
    }
    parts.join(",")
}

// ---------------------------------------------------------------------------------------
// Times

/// `HH:MM` (or `H:MM`) to minutes since midnight; lenient also takes a `:SS` suffix.
fn parse_time(text: &str, mode: Mode) -> Option<u16> {
    let text = if mode == Mode::Lenient {
        text.trim()
    } else {
        text
    };
    let mut parts = text.split(':');
    let h = parts.next()?;
    let m = parts.next()?;
    if let Some(s) = parts.next()
        && (mode == Mode::Strict || s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if parts.next().is_some()
        || h.is_empty()
        || h.len() > 2
        || m.len() != 2
        || !h.bytes().all(|b| b.is_ascii_digit())
        || !m.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h <= 23 && m <= 59).then_some(h * 60 + m)
}

fn fmt_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

// ---------------------------------------------------------------------------------------
// The compiled schedule: what runs when.

#[derive(Debug, Clone)]
struct Compiled {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    /// Bits 0..=6, 0 = Sunday.
    dow: u64,
    dom_star: bool,
    dow_star: bool,
    begin: u16,
    end: u16,
}

impl Compiled {
    fn from_fields(f: &[Field; 5], begin: u16, end: u16) -> Self {
        let [minute, hour, dom, month, dow] = f;
        // croniter: a full field counts as `*` only when the other day field has a `*`.
        let dom_star =
            dom.literal_star() || (dom.mask == Kind::Dom.full() && dow.text.contains('*'));
        let dow_star =
            dow.literal_star() || (dow.mask == Kind::Dow.full() && dom.text.contains('*'));
        Compiled {
            minute: minute.mask,
            hour: hour.mask,
            dom: dom.mask,
            month: month.mask,
            dow: dow.mask,
            dom_star,
            dow_star,
            begin,
            end,
        }
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        if !has_bit(self.month, date.month()) {
            return false;
        }
        let dm = has_bit(self.dom, date.day());
        let wm = has_bit(self.dow, date.weekday().num_days_from_sunday());
        match (self.dom_star, self.dow_star) {
            (true, true) => true,
            (true, false) => wm,
            (false, true) => dm,
            (false, false) => dm || wm,
        }
    }

    /// zettarepl's window rule (`CronSchedule.should_run`).
    fn in_window(&self, minute_of_day: u16) -> bool {
        if self.begin < self.end {
            self.begin <= minute_of_day && minute_of_day <= self.end
        } else {
            minute_of_day >= self.begin || minute_of_day <= self.end
        }
    }

    /// Minutes of the day the cron fields fire at, ascending.
    fn times_of_day(&self) -> impl Iterator<Item = u16> + '_ {
        (0u16..1440).filter(|t| {
            has_bit(self.hour, u32::from(t / 60)) && has_bit(self.minute, u32::from(t % 60))
        })
    }

    /// Whether some calendar day ever matches (Feb 30 never does).
    fn ever_runs(&self) -> bool {
        if self.dom_star || !self.dow_star {
            return true;
        }
        const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        (1..=12u32).any(|m| {
            has_bit(self.month, m) && (1..=DAYS[(m - 1) as usize]).any(|d| has_bit(self.dom, d))
        })
    }
}

fn tn_fields(s: &TnSchedule) -> [(Kind, &str); 5] {
    [
        (Kind::Minute, s.minute.as_str()),
        (Kind::Hour, s.hour.as_str()),
        (Kind::Dom, s.dom.as_str()),
        (Kind::Month, s.month.as_str()),
        (Kind::Dow, s.dow.as_str()),
    ]
}

fn compile_lenient(s: &TnSchedule) -> Result<Compiled, ScheduleError> {
    let mut fields = Vec::with_capacity(5);
    for (kind, text) in tn_fields(s) {
        match parse_field(kind, text, Mode::Lenient) {
            Ok(f) => fields.push(f),
            Err(detail) => {
                return Err(ScheduleError::new(
                    kind.field(),
                    INVALID_CRON,
                    format!("{CRON_PREFIX}{detail}"),
                    CRON_HELP,
                ));
            }
        }
    }
    let time = |text: &str, field: SchedField, default: u16| -> Result<u16, ScheduleError> {
        if text.trim().is_empty() {
            return Ok(default);
        }
        parse_time(text, Mode::Lenient).ok_or_else(|| {
            ScheduleError::new(
                field,
                INVALID_TIME,
                format!("{TIME_MESSAGE}, not \"{text}\""),
                TIME_HELP,
            )
        })
    };
    let begin = time(&s.begin, SchedField::Begin, 0)?;
    let end = time(&s.end, SchedField::End, 1439)?;
    let fields: [Field; 5] = fields.try_into().map_err(|_| {
        ScheduleError::new(
            SchedField::Whole,
            INVALID_CRON,
            "incomplete schedule",
            CRON_HELP,
        )
    })?;
    Ok(Compiled::from_fields(&fields, begin, end))
}

impl TnSchedule {
    /// What TrueNAS stores for a snapshot task created without a schedule
    /// (minute `"00"`, the rest `*`, the whole day).
    pub fn truenas_default() -> Self {
        TnSchedule {
            minute: "00".into(),
            hour: "*".into(),
            dom: "*".into(),
            month: "*".into(),
            dow: "*".into(),
            begin: "00:00".into(),
            end: "23:59".into(),
        }
    }

    /// Whether the task fires at `t` (seconds ignored, as zettarepl does): cron fields with
    /// the dom/dow OR rule, inside the begin/end window. An unreadable schedule never fires.
    pub fn matches(&self, t: NaiveDateTime) -> bool {
        let Ok(c) = compile_lenient(self) else {
            return false;
        };
        let tod = (t.hour() * 60 + t.minute()) as u16;
        c.day_matches(t.date())
            && has_bit(c.hour, t.hour())
            && has_bit(c.minute, t.minute())
            && c.in_window(tod)
    }

    /// The first minute strictly after `t` at which the task fires, looking up to eleven
    /// years ahead (enough for a leap day); `None` if it never does.
    pub fn next_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let c = compile_lenient(self).ok()?;
        let start = t
            .with_second(0)?
            .with_nanosecond(0)?
            .checked_add_signed(Duration::minutes(1))?;
        let times: Vec<u16> = c.times_of_day().filter(|m| c.in_window(*m)).collect();
        if times.is_empty() {
            return None;
        }
        let first = (start.hour() * 60 + start.minute()) as u16;
        let mut date = start.date();
        for day in 0..(366 * 11) {
            if c.day_matches(date) {
                let from = if day == 0 { first } else { 0 };
                if let Some(m) = times.iter().find(|m| **m >= from) {
                    return date.and_hms_opt(u32::from(m / 60), u32::from(m % 60), 0);
                }
            }
            date = date.succ_opt()?;
        }
        None
    }
}

// ---------------------------------------------------------------------------------------
// Canonical comparison form

/// A day field for comparison: the selected values and whether it counts as `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DaySet {
    pub star: bool,
    pub values: BTreeSet<u8>,
}

/// A schedule reduced to its meaning, for comparing desired and live state
/// (pitfalls §1.1/§1.2): `0`/`00`, `*`/`*/1`/`0-59`, names/numbers, Sunday `0`/`7`/`sun`,
/// list order and `""`/`*` all compare equal. dow values are 1 = Monday … 7 = Sunday;
/// begin/end are minutes since midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanonicalSchedule {
    pub minute: BTreeSet<u8>,
    pub hour: BTreeSet<u8>,
    pub dom: DaySet,
    pub month: BTreeSet<u8>,
    pub dow: DaySet,
    pub begin: u16,
    pub end: u16,
}

fn mask_set(mask: u64) -> BTreeSet<u8> {
    (0u8..64).filter(|v| has_bit(mask, u32::from(*v))).collect()
}

/// The canonical form of a schedule as TrueNAS returns it (or as zfleet writes it).
pub fn canonical(s: &TnSchedule) -> Result<CanonicalSchedule, ScheduleError> {
    let c = compile_lenient(s)?;
    let (mut dom_star, mut dow_star) = (c.dom_star, c.dow_star);
    // Both restricted are ORed: a full side then selects every day, just like `* *`.
    if !dom_star && !dow_star && (c.dom == Kind::Dom.full() || c.dow == Kind::Dow.full()) {
        dom_star = true;
        dow_star = true;
    }
    let dom = if dom_star { Kind::Dom.full() } else { c.dom };
    let dow = if dow_star { Kind::Dow.full() } else { c.dow };
    Ok(CanonicalSchedule {
        minute: mask_set(c.minute),
        hour: mask_set(c.hour),
        dom: DaySet {
            star: dom_star,
            values: mask_set(dom),
        },
        month: mask_set(c.month),
        dow: DaySet {
            star: dow_star,
            values: mask_to_dow_values(dow)
                .into_iter()
                .map(|v| v as u8)
                .collect(),
        },
        begin: c.begin,
        end: c.end,
    })
}

// ---------------------------------------------------------------------------------------
// Resolving user input

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Every {
    Hourly,
    Daily,
    Weekly,
    Monthly,
}

const PRESETS: [(&str, Every); 4] = [
    ("hourly", Every::Hourly),
    ("daily", Every::Daily),
    ("weekly", Every::Weekly),
    ("monthly", Every::Monthly),
];

fn preset(text: &str) -> Option<Every> {
    let lower = text.trim().to_ascii_lowercase();
    let name = lower.strip_prefix('@').unwrap_or(&lower);
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

fn preset_help(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    let name = lower.strip_prefix('@').unwrap_or(&lower);
    let best = PRESETS
        .iter()
        .map(|(n, _)| (strsim::levenshtein(n, name), *n))
        .min();
    match best {
        Some((d, n)) if d <= 3 => format!("did you mean `{n}`? {FORMS_HELP}"),
        _ => FORMS_HELP.to_string(),
    }
}

/// The five cron fields of a preset, before begin/end.
fn preset_fields(every: Every, minute: u32, at: u16, day: u32) -> [String; 5] {
    let (h, m) = ((at / 60).to_string(), (at % 60).to_string());
    let star = || "*".to_string();
    match every {
        Every::Hourly => [minute.to_string(), star(), star(), star(), star()],
        Every::Daily => [m, h, star(), star(), star()],
        Every::Weekly => [m, h, star(), star(), day.to_string()],
        Every::Monthly => [m, h, day.to_string(), star(), star()],
    }
}

fn build(fields: [String; 5], begin: u16, end: u16) -> TnSchedule {
    let [minute, hour, dom, month, dow] = fields;
    TnSchedule {
        minute,
        hour,
        dom,
        month,
        dow,
        begin: fmt_time(begin),
        end: fmt_time(end),
    }
}

/// Checks the five fields strictly; returns the normalised texts and the parsed fields.
fn check_fields(
    texts: [&str; 5],
    field_of: impl Fn(Kind) -> SchedField,
    errors: &mut Vec<ScheduleError>,
) -> Option<([String; 5], [Field; 5])> {
    let mut out = Vec::new();
    for (kind, text) in KINDS.into_iter().zip(texts) {
        match parse_field(kind, text, Mode::Strict) {
            Ok(f) => out.push(f),
            Err(detail) => errors.push(ScheduleError::new(
                field_of(kind),
                INVALID_CRON,
                format!("{CRON_PREFIX}{detail}"),
                CRON_HELP,
            )),
        }
    }
    let fields: [Field; 5] = out.try_into().ok()?;
    let [_, _, dom, _, dow] = &fields;
    let mut ambiguous = false;
    for (kind, full, other) in [(Kind::Dom, dom, dow), (Kind::Dow, dow, dom)] {
        // croniter before 6.0 reads a field covering its whole range as `*` (dom and dow
        // ANDed), 6.0 only when the other day field has a `*` (ORed): refuse the text
        // whose meaning depends on the TrueNAS version.
        let other_kind = if kind == Kind::Dom {
            Kind::Dow
        } else {
            Kind::Dom
        };
        if full.mask == kind.full()
            && !full.literal_star()
            && !other.text.contains('*')
            && other.mask != other_kind.full()
        {
            ambiguous = true;
            errors.push(ScheduleError::new(
                field_of(kind),
                INVALID_CRON,
                format!(
                    "{CRON_PREFIX}the {} field \"{}\" covers every {}, which TrueNAS versions read differently next to a restricted {}",
                    kind.label(),
                    full.text,
                    if kind == Kind::Dom { "day of the month" } else { "day of the week" },
                    other_kind.label(),
                ),
                if kind == Kind::Dom {
                    "write \"*\" as the day of month to run only on the chosen days of the week"
                } else {
                    "write \"*\" as the day of week to run only on the chosen days of the month"
                },
            ));
        }
    }
    if ambiguous {
        return None;
    }
    let texts = [0, 1, 2, 3, 4].map(|i| emit(KINDS[i], &fields[i].items));
    Some((texts, fields))
}

/// Checks order of the window and that the schedule runs inside it (24.x rules).
fn check_window(
    fields: &[Field; 5],
    begin: u16,
    end: u16,
    never_runs_field: SchedField,
    errors: &mut Vec<ScheduleError>,
) {
    let c = Compiled::from_fields(fields, begin, end);
    if !c.ever_runs() {
        errors.push(ScheduleError::new(
            never_runs_field,
            INVALID_CRON,
            format!(
                "{CRON_PREFIX}the schedule never runs: no selected month has the selected day of month"
            ),
            "February has 29 days at most, and April, June, September and November have 30",
        ));
        return;
    }
    if begin > end {
        errors.push(ScheduleError::new(
            SchedField::Begin,
            WINDOW_ORDER,
            "Begin time should be less or equal than end time",
            format!(
                "begin {} and end {} are an inclusive window within one day; the window cannot wrap past midnight",
                fmt_time(begin),
                fmt_time(end)
            ),
        ));
        return;
    }
    if !c.times_of_day().any(|t| begin <= t && t <= end) {
        let runs: Vec<String> = c.times_of_day().take(4).map(fmt_time).collect();
        let count = c.times_of_day().count();
        let more = if count > runs.len() { ", …" } else { "" };
        errors.push(ScheduleError::new(
            SchedField::Begin,
            EMPTY_WINDOW,
            "Specified schedule does not match specified time interval",
            format!(
                "the schedule runs at {}{more}, all outside the window {}-{}; widen begin/end or change the hour and minute",
                runs.join(", "),
                fmt_time(begin),
                fmt_time(end)
            ),
        ));
    }
}

fn time_error(field: SchedField, key: &str, text: &str) -> ScheduleError {
    ScheduleError::new(
        field,
        INVALID_TIME,
        format!("{TIME_MESSAGE}: {key} is \"{text}\""),
        TIME_HELP,
    )
}

/// Resolves a schedule string: a preset or a 5-field cron string.
pub fn resolve_text(text: &str) -> Result<TnSchedule, ScheduleError> {
    if let Some(every) = preset(text) {
        let day = if every == Every::Weekly { 7 } else { 1 };
        return Ok(build(preset_fields(every, 0, 0, day), 0, 1439));
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    // Words (`dialy`, `every day`) are a preset gone wrong, not a short cron string.
    let looks_like_word = parts.len() < 5
        && parts.iter().all(|p| {
            p.chars().any(|c| c.is_alphabetic())
                && !p.contains(['*', ',', '/'])
                && !p.contains(|c: char| c.is_ascii_digit())
        });
    if parts.is_empty() || looks_like_word {
        let message = if parts.is_empty() {
            "the schedule is empty".to_string()
        } else {
            format!("unknown schedule \"{}\"", text.trim())
        };
        return Err(ScheduleError::new(
            SchedField::Whole,
            UNKNOWN_PRESET,
            message,
            preset_help(text),
        ));
    }
    if parts.len() != 5 {
        let hint = if parts.len() == 6 {
            "; TrueNAS schedules have no seconds or year field"
        } else {
            ""
        };
        return Err(ScheduleError::new(
            SchedField::Whole,
            INVALID_CRON,
            format!(
                "{CRON_PREFIX}expected 5 fields (minute hour day-of-month month day-of-week), found {}{hint}",
                parts.len()
            ),
            FORMS_HELP,
        ));
    }
    let mut errors = Vec::new();
    let texts = [parts[0], parts[1], parts[2], parts[3], parts[4]];
    let checked = check_fields(texts, |_| SchedField::Whole, &mut errors);
    if let Some((texts, fields)) = checked {
        check_window(&fields, 0, 1439, SchedField::Whole, &mut errors);
        if errors.is_empty() {
            return Ok(build(texts, 0, 1439));
        }
    }
    // A plain string has one place to point at: join the field problems into one.
    let message = errors
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if i == 0 {
                e.message.clone()
            } else {
                e.message
                    .strip_prefix(CRON_PREFIX)
                    .unwrap_or(&e.message)
                    .to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let first = errors.into_iter().next();
    Err(match first {
        Some(e) => ScheduleError { message, ..e },
        None => ScheduleError::new(
            SchedField::Whole,
            INVALID_CRON,
            "invalid schedule",
            CRON_HELP,
        ),
    })
}

fn parse_weekday(text: &str) -> Option<u32> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = text.trim().to_ascii_lowercase();
    if let Some(i) = FULL.iter().position(|d| *d == lower) {
        return Some(i as u32 + 1);
    }
    if let Some(i) = FULL.iter().position(|d| d.get(..3) == Some(lower.as_str())) {
        return Some(i as u32 + 1);
    }
    match lower.parse::<u32>() {
        Ok(v @ 1..=7) if lower.len() == 1 => Some(v),
        _ => None,
    }
}

fn parse_small(text: &str, lo: u32, hi: u32) -> Option<u32> {
    let t = text.trim();
    if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u32>().ok().filter(|v| (lo..=hi).contains(v))
}

/// Resolves a schedule mapping (see the module documentation for its three forms).
pub fn resolve_map(input: &ScheduleInput) -> Result<TnSchedule, Vec<ScheduleError>> {
    let mut errors = Vec::new();
    let mut window = |text: Option<&str>, field, key, default| match text {
        None => Some(default),
        Some(t) => {
            let v = parse_time(t, Mode::Strict);
            if v.is_none() {
                errors.push(time_error(field, key, t));
            }
            v
        }
    };
    let begin = window(input.begin, SchedField::Begin, "begin", 0);
    let end = window(input.end, SchedField::End, "end", 1439);

    let mixed = |errors: &mut Vec<ScheduleError>, field, message: String| {
        errors.push(ScheduleError::new(field, MIXED_FORMS, message, FORMS_HELP));
    };
    let cron_keys = [
        (input.minute, SchedField::Minute, "minute"),
        (input.hour, SchedField::Hour, "hour"),
        (input.dom, SchedField::Dom, "dom"),
        (input.month, SchedField::Month, "month"),
        (input.dow, SchedField::Dow, "dow"),
    ];

    // (normalised texts, parsed fields, where a never-running schedule is reported)
    let mut checked: Option<([String; 5], [Field; 5], SchedField)> = None;
    if let Some(every_text) = input.every {
        if input.cron.is_some() {
            mixed(
                &mut errors,
                SchedField::Cron,
                "`cron` cannot be combined with `every`".into(),
            );
        }
        for (value, field, key) in cron_keys.iter().skip(1) {
            if value.is_some() {
                mixed(
                    &mut errors,
                    *field,
                    format!("`{key}` cannot be combined with `every`"),
                );
            }
        }
        match preset(every_text) {
            None => errors.push(ScheduleError::new(
                SchedField::Every,
                UNKNOWN_PRESET,
                format!("unknown `every` value \"{}\"", every_text.trim()),
                preset_help(every_text).replace(
                    FORMS_HELP,
                    "`every` is one of hourly, daily, weekly, monthly",
                ),
            )),
            Some(every) => {
                let name = PRESETS
                    .iter()
                    .find(|(_, e)| *e == every)
                    .map_or("", |(n, _)| *n);
                let mut minute = 0;
                let mut at = 0;
                let mut day = if every == Every::Weekly { 7 } else { 1 };
                let mut ok = true;
                if let Some(m) = input.minute {
                    if every == Every::Hourly {
                        match parse_small(m, 0, 59) {
                            Some(v) => minute = v,
                            None => {
                                ok = false;
                                errors.push(ScheduleError::new(
                                    SchedField::Minute,
                                    INVALID_TIME,
                                    format!("minute \"{m}\" is not a minute past the hour"),
                                    "`minute` is a whole number from 0 to 59",
                                ));
                            }
                        }
                    } else {
                        mixed(
                            &mut errors,
                            SchedField::Minute,
                            format!(
                                "`minute` applies to `every: hourly` only; use `at` with `every: {name}`"
                            ),
                        );
                    }
                }
                if let Some(a) = input.at {
                    if every == Every::Hourly {
                        mixed(
                            &mut errors,
                            SchedField::At,
                            "`at` does not apply to `every: hourly`; use `minute`".into(),
                        );
                    } else {
                        match parse_time(a, Mode::Strict) {
                            Some(v) => at = v,
                            None => {
                                ok = false;
                                errors.push(time_error(SchedField::At, "at", a));
                            }
                        }
                    }
                }
                if let Some(d) = input.day {
                    match every {
                        Every::Hourly | Every::Daily => mixed(
                            &mut errors,
                            SchedField::Day,
                            format!(
                                "`day` does not apply to `every: {name}`; only to weekly and monthly"
                            ),
                        ),
                        Every::Weekly => match parse_weekday(d) {
                            Some(v) => day = v,
                            None => {
                                ok = false;
                                errors.push(ScheduleError::new(
                                    SchedField::Day,
                                    INVALID_DAY,
                                    format!("\"{d}\" is not a day of the week"),
                                    "use monday … sunday, mon … sun, or 1 … 7 (1 = Monday, 7 = Sunday)",
                                ));
                            }
                        },
                        Every::Monthly => match parse_small(d, 1, 31) {
                            Some(v) => day = v,
                            None => {
                                ok = false;
                                errors.push(ScheduleError::new(
                                    SchedField::Day,
                                    INVALID_DAY,
                                    format!("\"{d}\" is not a day of the month"),
                                    "use a day of the month from 1 to 31",
                                ));
                            }
                        },
                    }
                }
                if ok {
                    let texts = preset_fields(every, minute, at, day);
                    let refs = [0, 1, 2, 3, 4].map(|i| texts[i].as_str());
                    let mut scratch = Vec::new();
                    if let Some((t, f)) = check_fields(refs, Kind::field, &mut scratch) {
                        checked = Some((t, f, SchedField::Day));
                    }
                    errors.extend(scratch);
                }
            }
        }
    } else if let Some(cron) = input.cron {
        let others = [
            (input.at, SchedField::At, "at"),
            (input.day, SchedField::Day, "day"),
        ];
        for (value, field, key) in others.iter().chain(cron_keys.iter()) {
            if value.is_some() {
                mixed(
                    &mut errors,
                    *field,
                    format!("`{key}` cannot be combined with `cron`"),
                );
            }
        }
        let parts: Vec<&str> = cron.split_whitespace().collect();
        if parts.len() == 5 {
            let texts = [parts[0], parts[1], parts[2], parts[3], parts[4]];
            if let Some((t, f)) = check_fields(texts, |_| SchedField::Cron, &mut errors) {
                checked = Some((t, f, SchedField::Cron));
            }
        } else {
            errors.push(ScheduleError::new(
                SchedField::Cron,
                INVALID_CRON,
                format!(
                    "{CRON_PREFIX}expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                    parts.len()
                ),
                CRON_HELP,
            ));
        }
    } else {
        if input.at.is_some() {
            mixed(
                &mut errors,
                SchedField::At,
                "`at` needs `every: daily`, `weekly` or `monthly`".into(),
            );
        }
        if input.day.is_some() {
            mixed(
                &mut errors,
                SchedField::Day,
                "`day` needs `every: weekly` or `every: monthly`".into(),
            );
        }
        // TrueNAS's defaults for a missing key.
        let texts = [
            input.minute.unwrap_or("0"),
            input.hour.unwrap_or("*"),
            input.dom.unwrap_or("*"),
            input.month.unwrap_or("*"),
            input.dow.unwrap_or("*"),
        ];
        if let Some((t, f)) = check_fields(texts, Kind::field, &mut errors) {
            checked = Some((t, f, SchedField::Dom));
        }
    }

    if let (Some((texts, fields, never_field)), Some(begin), Some(end)) = (checked, begin, end) {
        check_window(&fields, begin, end, never_field, &mut errors);
        if errors.is_empty() {
            return Ok(build(texts, begin, end));
        }
    }
    if errors.is_empty() {
        // Unreachable in practice: every path that fails records why.
        errors.push(ScheduleError::new(
            SchedField::Whole,
            INVALID_CRON,
            "invalid schedule",
            FORMS_HELP,
        ));
    }
    Err(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tn(fields: [&str; 7]) -> TnSchedule {
        let [minute, hour, dom, month, dow, begin, end] = fields.map(String::from);
        TnSchedule {
            minute,
            hour,
            dom,
            month,
            dow,
            begin,
            end,
        }
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .unwrap()
    }

    fn messages(errors: &[ScheduleError]) -> Vec<(SchedField, &'static str, &str)> {
        errors
            .iter()
            .map(|e| (e.field, e.code, e.message.as_str()))
            .collect()
    }

    #[test]
    fn presets_normalise_to_truenas_objects() {
        let cases = [
            ("hourly", ["0", "*", "*", "*", "*"]),
            ("Daily", ["0", "0", "*", "*", "*"]),
            ("WEEKLY", ["0", "0", "*", "*", "7"]),
            ("monthly", ["0", "0", "1", "*", "*"]),
            ("@daily", ["0", "0", "*", "*", "*"]),
        ];
        for (text, [m, h, dom, mon, dow]) in cases {
            assert_eq!(
                resolve_text(text),
                Ok(tn([m, h, dom, mon, dow, "00:00", "23:59"])),
                "{text}"
            );
        }
    }

    #[test]
    fn cron_strings_normalise_names_sunday_and_zero_padding() {
        let cases = [
            ("30 2 * * 1-5", ["30", "2", "*", "*", "1-5"]),
            ("30 2 * * mon-fri", ["30", "2", "*", "*", "1-5"]),
            ("00 05 * JAN,jul Sun", ["0", "5", "*", "1,7", "7"]),
            ("0 0 * * 0", ["0", "0", "*", "*", "7"]),
            ("0 0 * * 0-2", ["0", "0", "*", "*", "1,2,7"]),
            ("0 0 * * 0-4", ["0", "0", "*", "*", "1-4,7"]),
            ("0 0 * * fri-sun", ["0", "0", "*", "*", "5-7"]),
            ("*/15 8-18/2 1,15 * *", ["*/15", "8-18/2", "1,15", "*", "*"]),
            ("  5\t4 * mar-may 3-3 ", ["5", "4", "*", "3-5", "3"]),
        ];
        for (text, [m, h, dom, mon, dow]) in cases {
            assert_eq!(
                resolve_text(text),
                Ok(tn([m, h, dom, mon, dow, "00:00", "23:59"])),
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_words_suggest_the_closest_preset() {
        let e = resolve_text("dialy").unwrap_err();
        assert_eq!(e.code, UNKNOWN_PRESET);
        assert_eq!(e.field, SchedField::Whole);
        assert_eq!(e.message, "unknown schedule \"dialy\"");
        assert!(e.help.starts_with("did you mean `daily`? a schedule is a preset (hourly, daily, weekly, monthly), a 5-field cron string"), "{}", e.help);
        let e = resolve_text("fortnightly").unwrap_err();
        assert_eq!(e.code, UNKNOWN_PRESET);
        assert!(e.help.starts_with("a schedule is a preset"), "{}", e.help);
        assert_eq!(
            resolve_text("  ").unwrap_err().message,
            "the schedule is empty"
        );
        let e = resolve_text("every day").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (UNKNOWN_PRESET, "unknown schedule \"every day\"")
        );
    }

    #[test]
    fn cron_errors_use_truenas_wording() {
        let cases = [
            (
                "61 * * * *",
                "Please ensure fields match cron syntax - minute 61 is out of range (0-59)",
            ),
            (
                "0 24 * * *",
                "Please ensure fields match cron syntax - hour 24 is out of range (0-23)",
            ),
            (
                "0 0 0 * *",
                "Please ensure fields match cron syntax - day of month 0 is out of range (1-31)",
            ),
            (
                "0 0 * 13 *",
                "Please ensure fields match cron syntax - month 13 is out of range (1-12 or jan-dec)",
            ),
            (
                "0 0 * * 8",
                "Please ensure fields match cron syntax - day of week 8 is out of range (0-7 or sun-sat)",
            ),
            (
                "0 0 * * funday",
                "Please ensure fields match cron syntax - \"funday\" is not a valid day of week value (use 0-7 or sun-sat)",
            ),
            (
                "5/10 * * * *",
                "Please ensure fields match cron syntax - Only range or `*` are allowed before `/`",
            ),
            (
                "*/0 * * * *",
                "Please ensure fields match cron syntax - step \"0\" in the minute field must be a whole number of at least 1",
            ),
            (
                "0 22-2 * * *",
                "Please ensure fields match cron syntax - the hour range 22-2 runs backwards; write 22-23,0-2",
            ),
            (
                "0 *,3 * * *",
                "Please ensure fields match cron syntax - \"*\" cannot be combined with other values in the hour field \"*,3\"",
            ),
            (
                "0 1,,2 * * *",
                "Please ensure fields match cron syntax - the hour list \"1,,2\" has an empty item",
            ),
            (
                "0 0 1-31 * 1-5",
                "Please ensure fields match cron syntax - the day of month field \"1-31\" covers every day of the month, which TrueNAS versions read differently next to a restricted day of week",
            ),
            (
                "0 0 13 * sun-sat",
                "Please ensure fields match cron syntax - the day of week field \"sun-sat\" covers every day of the week, which TrueNAS versions read differently next to a restricted day of month",
            ),
            (
                "0 0 30 2 *",
                "Please ensure fields match cron syntax - the schedule never runs: no selected month has the selected day of month",
            ),
            (
                "0 0 * *",
                "Please ensure fields match cron syntax - expected 5 fields (minute hour day-of-month month day-of-week), found 4",
            ),
            (
                "0 0 0 * * *",
                "Please ensure fields match cron syntax - expected 5 fields (minute hour day-of-month month day-of-week), found 6; TrueNAS schedules have no seconds or year field",
            ),
            (
                "61 25 * * *",
                "Please ensure fields match cron syntax - minute 61 is out of range (0-59); hour 25 is out of range (0-23)",
            ),
        ];
        for (text, message) in cases {
            let e = resolve_text(text).unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (INVALID_CRON, message),
                "{text}"
            );
            assert_eq!(e.field, SchedField::Whole);
        }
        // Sunday as 0 or 7 inside a Feb-30 schedule still runs (the OR rule).
        assert!(resolve_text("0 0 30 2 0").is_ok());
        // A full day field is unambiguous next to a `*`.
        assert!(resolve_text("0 0 1-31 * *").is_ok());
        assert!(resolve_text("0 0 */1 * */2").is_ok());
        let e = resolve_text("0 0 */1 * 1-5").unwrap_err();
        assert_eq!(
            e.help,
            "write \"*\" as the day of month to run only on the chosen days of the week"
        );
    }

    #[test]
    fn every_form_resolves_with_defaults() {
        let cases = [
            (
                ScheduleInput {
                    every: Some("weekly"),
                    at: Some("9:30"),
                    day: Some("Friday"),
                    ..Default::default()
                },
                ["30", "9", "*", "*", "5", "00:00", "23:59"],
            ),
            (
                ScheduleInput {
                    every: Some("weekly"),
                    day: Some("mon"),
                    ..Default::default()
                },
                ["0", "0", "*", "*", "1", "00:00", "23:59"],
            ),
            (
                ScheduleInput {
                    every: Some("weekly"),
                    day: Some("7"),
                    ..Default::default()
                },
                ["0", "0", "*", "*", "7", "00:00", "23:59"],
            ),
            (
                ScheduleInput {
                    every: Some("Monthly"),
                    day: Some("15"),
                    at: Some("02:05"),
                    ..Default::default()
                },
                ["5", "2", "15", "*", "*", "00:00", "23:59"],
            ),
            (
                ScheduleInput {
                    every: Some("hourly"),
                    minute: Some("15"),
                    begin: Some("8:00"),
                    end: Some("18:00"),
                    ..Default::default()
                },
                ["15", "*", "*", "*", "*", "08:00", "18:00"],
            ),
            (
                ScheduleInput {
                    every: Some("daily"),
                    ..Default::default()
                },
                ["0", "0", "*", "*", "*", "00:00", "23:59"],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(resolve_map(&input), Ok(tn(want)), "{input:?}");
        }
    }

    #[test]
    fn cron_and_object_forms_resolve() {
        let input = ScheduleInput {
            cron: Some("0 */4 * * sat,sun"),
            begin: Some("00:00"),
            end: Some("23:59"),
            ..Default::default()
        };
        assert_eq!(
            resolve_map(&input),
            Ok(tn(["0", "*/4", "*", "*", "6,7", "00:00", "23:59"]))
        );
        // Missing keys take TrueNAS's defaults; a one-digit hour is zero-padded.
        let input = ScheduleInput {
            hour: Some("3"),
            dow: Some("sun"),
            begin: Some("3:00"),
            end: Some("4:00"),
            ..Default::default()
        };
        assert_eq!(
            resolve_map(&input),
            Ok(tn(["0", "3", "*", "*", "7", "03:00", "04:00"]))
        );
        let input = ScheduleInput::default();
        assert_eq!(
            resolve_map(&input),
            Ok(tn(["0", "*", "*", "*", "*", "00:00", "23:59"]))
        );
    }

    #[test]
    fn mixing_forms_is_reported_on_each_offending_key() {
        let input = ScheduleInput {
            every: Some("daily"),
            dow: Some("1"),
            day: Some("mon"),
            minute: Some("5"),
            ..Default::default()
        };
        let errors = resolve_map(&input).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![
                (
                    SchedField::Dow,
                    MIXED_FORMS,
                    "`dow` cannot be combined with `every`"
                ),
                (
                    SchedField::Minute,
                    MIXED_FORMS,
                    "`minute` applies to `every: hourly` only; use `at` with `every: daily`"
                ),
                (
                    SchedField::Day,
                    MIXED_FORMS,
                    "`day` does not apply to `every: daily`; only to weekly and monthly"
                ),
            ]
        );
        let input = ScheduleInput {
            cron: Some("0 0 * * *"),
            hour: Some("1"),
            at: Some("01:00"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![
                (
                    SchedField::At,
                    MIXED_FORMS,
                    "`at` cannot be combined with `cron`"
                ),
                (
                    SchedField::Hour,
                    MIXED_FORMS,
                    "`hour` cannot be combined with `cron`"
                ),
            ]
        );
        let input = ScheduleInput {
            at: Some("01:00"),
            hour: Some("1"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![(
                SchedField::At,
                MIXED_FORMS,
                "`at` needs `every: daily`, `weekly` or `monthly`"
            )]
        );
        let input = ScheduleInput {
            every: Some("hourly"),
            at: Some("01:00"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![(
                SchedField::At,
                MIXED_FORMS,
                "`at` does not apply to `every: hourly`; use `minute`"
            )]
        );
        let input = ScheduleInput {
            every: Some("daily"),
            cron: Some("0 0 * * *"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![(
                SchedField::Cron,
                MIXED_FORMS,
                "`cron` cannot be combined with `every`"
            )]
        );
    }

    #[test]
    fn bad_values_are_all_reported_at_once() {
        let input = ScheduleInput {
            minute: Some("61"),
            hour: Some("x"),
            dow: Some(""),
            begin: Some("9"),
            end: Some("24:00"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![
                (
                    SchedField::Begin,
                    INVALID_TIME,
                    "Time should be in 24 hour format like \"18:00\": begin is \"9\""
                ),
                (
                    SchedField::End,
                    INVALID_TIME,
                    "Time should be in 24 hour format like \"18:00\": end is \"24:00\""
                ),
                (
                    SchedField::Minute,
                    INVALID_CRON,
                    "Please ensure fields match cron syntax - minute 61 is out of range (0-59)"
                ),
                (
                    SchedField::Hour,
                    INVALID_CRON,
                    "Please ensure fields match cron syntax - \"x\" is not a valid hour value (use 0-23)"
                ),
                (
                    SchedField::Dow,
                    INVALID_CRON,
                    "Please ensure fields match cron syntax - the day of week field is empty"
                ),
            ]
        );
        let input = ScheduleInput {
            every: Some("weekly"),
            day: Some("someday"),
            at: Some("25:00"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![
                (
                    SchedField::At,
                    INVALID_TIME,
                    "Time should be in 24 hour format like \"18:00\": at is \"25:00\""
                ),
                (
                    SchedField::Day,
                    INVALID_DAY,
                    "\"someday\" is not a day of the week"
                ),
            ]
        );
        let input = ScheduleInput {
            every: Some("monthly"),
            day: Some("32"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![(
                SchedField::Day,
                INVALID_DAY,
                "\"32\" is not a day of the month"
            )]
        );
        let input = ScheduleInput {
            every: Some("dayly"),
            ..Default::default()
        };
        let errors = resolve_map(&input).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![(
                SchedField::Every,
                UNKNOWN_PRESET,
                "unknown `every` value \"dayly\""
            )]
        );
        assert_eq!(
            errors[0].help,
            "did you mean `daily`? `every` is one of hourly, daily, weekly, monthly"
        );
        for bad in [
            "9:0", "09:60", "0900", "9:00:00", " 9:00", "-1:00", "+9:00", "１:00",
        ] {
            let input = ScheduleInput {
                begin: Some(bad),
                ..Default::default()
            };
            assert_eq!(
                resolve_map(&input).unwrap_err()[0].code,
                INVALID_TIME,
                "{bad}"
            );
        }
    }

    #[test]
    fn window_rules_follow_truenas_24() {
        let input = ScheduleInput {
            cron: Some("0 2 * * *"),
            begin: Some("03:00"),
            end: Some("05:00"),
            ..Default::default()
        };
        let errors = resolve_map(&input).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![(
                SchedField::Begin,
                EMPTY_WINDOW,
                "Specified schedule does not match specified time interval"
            )]
        );
        assert_eq!(
            errors[0].help,
            "the schedule runs at 02:00, all outside the window 03:00-05:00; widen begin/end or change the hour and minute"
        );
        let input = ScheduleInput {
            every: Some("hourly"),
            minute: Some("30"),
            begin: Some("10:00"),
            end: Some("10:15"),
            ..Default::default()
        };
        let errors = resolve_map(&input).unwrap_err();
        assert_eq!(
            errors[0].help,
            "the schedule runs at 00:30, 01:30, 02:30, 03:30, …, all outside the window 10:00-10:15; widen begin/end or change the hour and minute"
        );
        let input = ScheduleInput {
            begin: Some("18:00"),
            end: Some("06:00"),
            ..Default::default()
        };
        assert_eq!(
            messages(&resolve_map(&input).unwrap_err()),
            vec![(
                SchedField::Begin,
                WINDOW_ORDER,
                "Begin time should be less or equal than end time"
            )]
        );
        // A one-minute window that the schedule hits is fine.
        let input = ScheduleInput {
            cron: Some("0 2 * * *"),
            begin: Some("02:00"),
            end: Some("02:00"),
            ..Default::default()
        };
        assert!(resolve_map(&input).is_ok());
    }

    #[test]
    fn canonical_form_ignores_spelling() {
        let same = [
            (
                ["00", "0", "*", "*", "*", "00:00", "23:59"],
                ["0", "00", "", "*", "*", "0:00", "23:59:00"],
            ),
            (
                ["*/1", "*", "*", "*", "*", "00:00", "23:59"],
                ["*", "0-23", "*", "1-12", "*", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "mon-fri", "00:00", "23:59"],
                ["0", "0", "*", "*", "1,2,3,4,5", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "5,1,3,2,4,4", "00:00", "23:59"],
                ["0", "0", "*", "*", "1-5", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "sun", "00:00", "23:59"],
                ["0", "0", "*", "*", "7", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "0", "00:00", "23:59"],
                ["0", "0", "*", "*", "SUN", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "jan-mar", "*", "00:00", "23:59"],
                ["0", "0", "*", "1,2,3", "*", "00:00", "23:59"],
            ),
            (
                ["*/15", "*", "*", "*", "*", "00:00", "23:59"],
                ["0,15,30,45", "*", "*", "*", "*", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "?", "00:00", "23:59"],
                ["0", "0", "*", "*", "*", "00:00", "23:59"],
            ),
            // Both restricted are ORed: a full side means every day.
            (
                ["0", "0", "1-31", "*", "1-5", "00:00", "23:59"],
                ["0", "0", "*", "*", "*", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "0-6", "00:00", "23:59"],
                ["0", "0", "*", "*", "*", "00:00", "23:59"],
            ),
        ];
        for (a, b) in same {
            assert_eq!(canonical(&tn(a)), canonical(&tn(b)), "{a:?} vs {b:?}");
            assert!(canonical(&tn(a)).is_ok());
        }
        let different = [
            // `1-31` with a restricted dow is not `*` (cron's OR rule).
            (
                ["0", "0", "1-31", "*", "1-5", "00:00", "23:59"],
                ["0", "0", "*", "*", "1-5", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "1-5", "00:00", "23:59"],
                ["0", "0", "*", "*", "1-6", "00:00", "23:59"],
            ),
            (
                ["0", "0", "*", "*", "*", "00:00", "23:59"],
                ["0", "0", "*", "*", "*", "00:00", "23:58"],
            ),
            (
                ["0", "0", "1", "*", "1", "00:00", "23:59"],
                ["0", "0", "1", "*", "*", "00:00", "23:59"],
            ),
        ];
        for (a, b) in different {
            assert_ne!(canonical(&tn(a)), canonical(&tn(b)), "{a:?} vs {b:?}");
        }
        let c = canonical(&tn(["0", "0", "*", "*", "sun,mon", "01:30", "23:59"])).unwrap();
        assert_eq!(
            c.dow,
            DaySet {
                star: false,
                values: [1, 7].into()
            }
        );
        assert_eq!(c.begin, 90);
        assert_eq!(c.minute, [0].into());
        let e = canonical(&tn(["0", "0", "*", "*", "L", "00:00", "23:59"])).unwrap_err();
        assert_eq!((e.field, e.code), (SchedField::Dow, INVALID_CRON));
        let e = canonical(&tn(["0", "0", "*", "*", "*", "25:00", "23:59"])).unwrap_err();
        assert_eq!((e.field, e.code), (SchedField::Begin, INVALID_TIME));
    }

    #[test]
    fn matches_and_next_after_follow_cron_and_zettarepl() {
        let weekly = resolve_text("weekly").unwrap();
        // 2024-05-01 is a Wednesday; the next Sunday is the 5th.
        assert_eq!(
            weekly.next_after(at(2024, 5, 1, 12, 0)),
            Some(at(2024, 5, 5, 0, 0))
        );
        assert_eq!(
            weekly.next_after(at(2024, 5, 5, 0, 0)),
            Some(at(2024, 5, 12, 0, 0))
        );
        assert!(weekly.matches(at(2024, 5, 5, 0, 0)));
        assert!(!weekly.matches(at(2024, 5, 6, 0, 0)));

        // dom and dow both restricted: the 13th OR any Friday.
        let s = tn(["0", "0", "13", "*", "5", "00:00", "23:59"]);
        assert!(s.matches(at(2024, 9, 13, 0, 0))); // Friday the 13th
        assert!(s.matches(at(2024, 5, 13, 0, 0))); // a Monday
        assert!(s.matches(at(2024, 5, 3, 0, 0))); // a Friday
        assert!(!s.matches(at(2024, 5, 4, 0, 0)));
        // dom `*/1` is not a literal star, so the OR rule applies: every day.
        let s = tn(["0", "0", "*/1", "*", "5", "00:00", "23:59"]);
        assert!(s.matches(at(2024, 5, 4, 0, 0)));

        // The window: inside begin..=end, and zettarepl wraps a reversed one.
        let s = tn(["*/30", "*", "*", "*", "*", "08:00", "09:00"]);
        assert_eq!(
            s.next_after(at(2024, 1, 1, 9, 0)),
            Some(at(2024, 1, 2, 8, 0))
        );
        assert!(s.matches(at(2024, 1, 1, 9, 0)));
        assert!(!s.matches(at(2024, 1, 1, 9, 30)));
        let s = tn(["0", "*", "*", "*", "*", "22:00", "02:00"]);
        assert!(s.matches(at(2024, 1, 1, 23, 0)));
        assert!(s.matches(at(2024, 1, 1, 1, 0)));
        assert!(!s.matches(at(2024, 1, 1, 12, 0)));
        let s = tn(["0", "*", "*", "*", "*", "02:00", "02:00"]);
        assert!(s.matches(at(2024, 1, 1, 12, 0)));

        // Sunday as 7 opening a range (`7-3`, `sun-wed`) is Sunday through Wednesday.
        for dow in ["7-3", "sun-wed", "0-3"] {
            let c = canonical(&tn(["0", "0", "*", "*", dow, "00:00", "23:59"])).unwrap();
            assert_eq!(c.dow.values, [1, 2, 3, 7].into(), "{dow}");
        }
        assert_eq!(resolve_text("0 0 * * 7-3").unwrap().dow, "1-3,7");
        assert_eq!(resolve_text("0 0 * * 7-7").unwrap().dow, "7");

        // Seconds are ignored; the next run is strictly after.
        let s = resolve_text("*/15 * * * *").unwrap();
        let t = at(2024, 1, 1, 10, 14).with_second(59).unwrap();
        assert!(!s.matches(t));
        assert_eq!(s.next_after(t), Some(at(2024, 1, 1, 10, 15)));
        assert!(s.matches(at(2024, 1, 1, 10, 15).with_second(30).unwrap()));

        // A leap day across the skipped 2100.
        let s = resolve_text("0 0 29 2 *").unwrap();
        assert_eq!(
            s.next_after(at(2096, 3, 1, 0, 0)),
            Some(at(2104, 2, 29, 0, 0))
        );
        // Never runs, unreadable, or the end of time: no next run, no panic.
        assert_eq!(
            tn(["0", "0", "31", "2", "*", "00:00", "23:59"]).next_after(at(2024, 1, 1, 0, 0)),
            None
        );
        assert_eq!(
            tn(["x", "0", "*", "*", "*", "00:00", "23:59"]).next_after(at(2024, 1, 1, 0, 0)),
            None
        );
        assert!(!tn(["x", "0", "*", "*", "*", "00:00", "23:59"]).matches(at(2024, 1, 1, 0, 0)));
        assert_eq!(weekly.next_after(NaiveDateTime::MAX), None);
    }

    #[test]
    fn schedules_as_truenas_returns_them_compare_equal_to_zfleets() {
        // Shapes from the recorded API examples (`tests/data/truenas-api/examples`).
        let live = [
            tn(["0", "*", "*", "*", "*", "00:00", "23:59"]),
            tn(["30", "8-18", "*", "*", "1,2,3,4,5", "08:00", "18:00"]),
            tn(["00", "2", "*", "*", "*", "00:00", "23:59"]),
        ];
        let desired = [
            resolve_text("hourly").unwrap(),
            resolve_map(&ScheduleInput {
                cron: Some("30 8-18 * * mon-fri"),
                begin: Some("8:00"),
                end: Some("18:00"),
                ..Default::default()
            })
            .unwrap(),
            resolve_map(&ScheduleInput {
                every: Some("daily"),
                at: Some("02:00"),
                ..Default::default()
            })
            .unwrap(),
        ];
        for (l, d) in live.iter().zip(desired.iter()) {
            assert_eq!(
                canonical(l).unwrap(),
                canonical(d).unwrap(),
                "{l:?} vs {d:?}"
            );
        }
        assert_ne!(canonical(&live[0]).unwrap(), canonical(&live[2]).unwrap());
        // An object with every key missing is TrueNAS's default: hourly on the hour.
        assert_eq!(
            canonical(&resolve_map(&ScheduleInput::default()).unwrap()),
            canonical(&TnSchedule::truenas_default())
        );
        assert_eq!(
            canonical(&TnSchedule::truenas_default()),
            canonical(&resolve_text("hourly").unwrap())
        );
    }

    #[test]
    fn codes_are_registered_with_summaries() {
        let codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
        assert_eq!(
            codes,
            vec![
                UNKNOWN_PRESET,
                INVALID_CRON,
                INVALID_TIME,
                WINDOW_ORDER,
                EMPTY_WINDOW,
                MIXED_FORMS,
                INVALID_DAY
            ]
        );
        assert!(
            CODES
                .iter()
                .all(|c| c.code.starts_with("zfleet::schedule::") && !c.summary.is_empty())
        );
    }

    // ---- property tests

    fn value(kind: Kind) -> BoxedStrategy<String> {
        let (lo, hi) = kind.bounds();
        let num = (lo..=hi).prop_map(|v| v.to_string());
        match kind {
            Kind::Month => {
                prop_oneof![num, (0usize..12).prop_map(|i| MONTHS[i].to_uppercase())].boxed()
            }
            Kind::Dow => {
                prop_oneof![num, (0usize..7).prop_map(|i| WEEKDAYS[i].to_string())].boxed()
            }
            _ => num.boxed(),
        }
    }

    fn item(kind: Kind) -> BoxedStrategy<String> {
        let (lo, hi) = kind.bounds();
        let range = (lo..=hi, lo..=hi).prop_map(|(a, b)| (a.min(b), a.max(b)));
        prop_oneof![
            value(kind),
            range.clone().prop_map(|(a, b)| format!("{a}-{b}")),
            (range, 1u32..8).prop_map(|((a, b), s)| format!("{a}-{b}/{s}")),
        ]
        .boxed()
    }

    fn field(kind: Kind) -> BoxedStrategy<String> {
        prop_oneof![
            Just("*".to_string()),
            (1u32..13).prop_map(|s| format!("*/{s}")),
            proptest::collection::vec(item(kind), 1..4).prop_map(|v| v.join(",")),
        ]
        .boxed()
    }

    fn cron() -> impl Strategy<Value = [String; 5]> {
        (
            field(Kind::Minute),
            field(Kind::Hour),
            field(Kind::Dom),
            field(Kind::Month),
            field(Kind::Dow),
        )
            .prop_map(|(a, b, c, d, e)| [a, b, c, d, e])
    }

    fn raw(f: &[String; 5]) -> TnSchedule {
        tn([&f[0], &f[1], &f[2], &f[3], &f[4], "00:00", "23:59"])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn resolved_cron_is_canonical_and_means_the_same(f in cron()) {
            let text = f.join(" ");
            match resolve_text(&text) {
                Ok(s) => {
                    let resolved = canonical(&s);
                    prop_assert!(resolved.is_ok(), "{text} -> {s:?}");
                    prop_assert_eq!(resolved, canonical(&raw(&f)), "{} -> {:?}", text, s);
                }
                // Only a schedule that can never run is refused.
                Err(e) => prop_assert!(
                    e.message.contains("never runs") || e.message.contains("TrueNAS versions read differently"),
                    "{text}: {e:?}"
                ),
            }
        }

        #[test]
        fn next_after_agrees_with_croner(f in cron(), minutes in 0i64..(60 * 24 * 365 * 20)) {
            let Ok(s) = resolve_text(&f.join(" ")) else { return Ok(()) };
            // croner counts only a literal `*` as unrestricted; croniter also counts a
            // full field when the other day field has a `*`. Skip where they differ.
            for (kind, text) in [(Kind::Dom, &s.dom), (Kind::Dow, &s.dow)] {
                let p = parse_field(kind, text, Mode::Lenient).unwrap();
                prop_assume!(p.literal_star() || p.mask != kind.full());
            }
            let pattern = [&s.minute, &s.hour, &s.dom, &s.month, &s.dow].map(|x| x.as_str()).join(" ");
            let c = croner::parser::CronParser::new().parse(&pattern).unwrap();
            let t = at(2000, 1, 1, 0, 0) + Duration::minutes(minutes);
            let theirs = c.find_next_occurrence(&t, false).ok();
            prop_assert_eq!(s.next_after(t), theirs, "{}", pattern);
            if let Some(n) = theirs {
                prop_assert!(s.matches(n));
            }
        }

        #[test]
        fn never_panics_on_cron_like_text(f in prop::array::uniform5("[0-9a-z*/,?-]{0,7}")) {
            let s = tn([&f[0], &f[1], &f[2], &f[3], &f[4], "00:00", "23:59"]);
            // Whatever zfleet accepts means the same once normalised.
            if let Ok(resolved) = resolve_text(&f.join(" ")) {
                prop_assert_eq!(canonical(&resolved), canonical(&s), "{:?}", f);
            }
            let _ = s.matches(at(2024, 2, 29, 23, 59));
            let _ = s.next_after(at(2024, 2, 29, 23, 59));
        }

        #[test]
        fn never_panics_on_any_text(text in ".{0,40}", a in ".{0,8}", b in ".{0,8}") {
            let _ = resolve_text(&text);
            let input = ScheduleInput { every: Some(&a), at: Some(&b), day: Some(&a), begin: Some(&b), ..Default::default() };
            let _ = resolve_map(&input);
            let input = ScheduleInput { minute: Some(&a), hour: Some(&b), dom: Some(&text), month: Some(&a), dow: Some(&b), end: Some(&a), ..Default::default() };
            let _ = resolve_map(&input);
            let s = tn([&a, &b, &text, &a, &b, &a, &b]);
            let _ = canonical(&s);
            let _ = s.matches(at(2024, 2, 29, 23, 59));
            let _ = s.next_after(at(2024, 2, 29, 23, 59));
        }
    }
}
