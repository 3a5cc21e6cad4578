//! zfleet: ZFS snapshot and replication tasks across fleets of TrueNAS systems, as code.
//!
//! Data flows one way: `config` (YAML with spans) → `model` (validated) → `transport`
//! (SSH or the embedded simulator) → `client` (typed TrueNAS API over `midclt`) →
//! `inventory` (live state) → plan/render/apply. `sim` is a simulated TrueNAS beside it all.

// Errors are `diag::Problem`s: rich (spans, source, hints) and only on the error path.
#![allow(clippy::result_large_err)]

pub mod apply;
pub mod cli;
pub mod client;
pub mod config;
pub mod diag;
pub mod files;
pub mod graph;
pub mod import;
pub mod inventory;
pub mod model;
pub mod parallel;
pub mod plan;
pub mod progress;
pub mod render;
pub mod runnow;
pub mod sim;
pub mod status;
pub mod transport;
