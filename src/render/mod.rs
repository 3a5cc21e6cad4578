//! Showing a plan: Terraform-like text for people, a versioned JSON document for CI.

pub mod json;
pub mod text;

/// Colour on stdout: only on a terminal and never with `NO_COLOR`.
pub fn stdout_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
