//! Diagnostics: every problem zfleet reports is a [`Problem`] with a stable code, a message,
//! the system and object it concerns, a hint, and (for config problems) the exact YAML span.
//!
//! Codes are registered per module in a `CODES` table (code, one-line description); the
//! tables are collected by [`all_codes`] so a test can prove codes unique and documented.

pub mod json;

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

/// One registered diagnostic code and what it means.
pub struct CodeInfo {
    pub code: &'static str,
    pub summary: &'static str,
}

/// Every diagnostic code zfleet can emit, from every module's table.
pub fn all_codes() -> Vec<&'static CodeInfo> {
    [
        crate::config::CODES,
        crate::model::CODES,
        crate::model::schedule::CODES,
        crate::model::lifetime::CODES,
        crate::model::naming::CODES,
        crate::transport::CODES,
        crate::client::CODES,
        crate::sim::CODES,
        crate::sim::faults::CODES,
        crate::sim::server::CODES,
        crate::sim::clock::CODES,
        crate::sim::fleetgen::CODES,
        crate::sim::fleet::CODES,
        crate::sim::seed::CODES,
        crate::cli::CODES,
        crate::cli::status::CODES,
        crate::cli::graph::CODES,
        crate::cli::man::CODES,
        crate::plan::CODES,
        crate::runnow::CODES,
        crate::import::CODES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `1 system`, `2 systems`: a count and the word that agrees with it.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A source file shown under a diagnostic.
pub type Source = NamedSource<Arc<str>>;

/// A reportable problem. Built with the small builder methods below.
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub system: Option<String>,
    pub object: Option<String>,
    pub help: Option<String>,
    pub span: Option<(SourceSpan, String)>,
    pub source: Option<Source>,
}

impl Problem {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            code,
            severity: Severity::Error,
            message: message.into(),
            system: None,
            object: None,
            help: None,
            span: None,
            source: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, message)
        }
    }

    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.system = Some(system.into());
        self
    }

    pub fn object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Points at `span` (byte offset, length) with a label.
    pub fn at(mut self, span: impl Into<SourceSpan>, label: impl Into<String>) -> Self {
        self.span = Some((span.into(), label.into()));
        self
    }

    pub fn with_source(mut self, source: Source) -> Self {
        self.source = Some(source);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.system, &self.object) {
            (Some(s), Some(o)) => write!(f, "{s}: {o}: {}", self.message),
            (Some(s), None) => write!(f, "{s}: {}", self.message),
            (None, Some(o)) => write!(f, "{o}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, label) = self.span.as_ref()?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label.clone()),
            *span,
        ))))
    }
}
