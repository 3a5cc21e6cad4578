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

// Placeholder until the full rules land: presets only.
pub fn resolve_text(text: &str) -> Result<TnSchedule, ScheduleError> {
    let (minute, hour, dom, dow) = match text {
        "hourly" => ("0", "*", "*", "*"),
        "daily" => ("0", "0", "*", "*"),
        "weekly" => ("0", "0", "*", "7"),
        "monthly" => ("0", "0", "1", "*"),
        _ => {
            return Err(ScheduleError {
                field: SchedField::Whole,
                code: "zfleet::schedule::unknown_preset",
                message: format!("unknown schedule `{text}`"),
                help: "use hourly, daily, weekly, monthly or a 5-field cron string".into(),
            });
        }
    };
    Ok(TnSchedule {
        minute: minute.into(),
        hour: hour.into(),
        dom: dom.into(),
        month: "*".into(),
        dow: dow.into(),
        begin: "00:00".into(),
        end: "23:59".into(),
    })
}

pub fn resolve_map(input: &ScheduleInput) -> Result<TnSchedule, Vec<ScheduleError>> {
    Ok(TnSchedule {
        minute: input.minute.unwrap_or("00").into(),
        hour: input.hour.unwrap_or("*").into(),
        dom: input.dom.unwrap_or("*").into(),
        month: input.month.unwrap_or("*").into(),
        dow: input.dow.unwrap_or("*").into(),
        begin: input.begin.unwrap_or("00:00").into(),
        end: input.end.unwrap_or("23:59").into(),
    })
}
