//! Schedules: presets, 5-field cron strings and TrueNAS objects, validated by TrueNAS's
//! rules and normalised to the TrueNAS `{minute,hour,dom,month,dow,begin,end}` form.

use serde::Serialize;

/// A schedule as TrueNAS stores it; every field a string, dow 1 = Monday … 7 = Sunday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// A stable diagnostic code from [`super::CODES`].
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

pub const CODES: &[crate::diag::CodeInfo] = &[];
