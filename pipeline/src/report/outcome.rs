//! What a report is: its checks with values, limits and status, and the
//! tallies beside them; serialized as the JSON schema `triglot.report/1`.

use chrono::NaiveDateTime;

use super::config::{Status, Threshold, Thresholds};
use crate::contract::Contract;

/// The JSON schema name and version of [`Report`].
pub const SCHEMA: &str = "triglot.report/1";

/// What a report covers and how it judges.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Start of the window (UTC, inclusive).
    pub since: NaiveDateTime,
    /// End of the window (UTC, exclusive).
    pub until: NaiveDateTime,
    /// "Now", for freshness.
    pub now: NaiveDateTime,
    /// The contract whose ranges and allowed values the data must respect.
    pub contract: Contract,
    /// Thresholds, over the defaults.
    pub thresholds: Thresholds,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// Stable name, e.g. `consistency.order_total_matches_lines`.
    pub name: String,
    /// `volume`, `null_rate`, `uniqueness`, `integrity`, `consistency`,
    /// `contract`, `freshness`, `rejects` or `runs`.
    pub category: &'static str,
    /// The measured value (`null` when there is nothing to measure).
    #[serde(serialize_with = "number")]
    pub value: Option<f64>,
    /// What the value counts (`orders`, `ratio`, `hours`, …).
    pub unit: &'static str,
    /// The limits it was judged by.
    pub threshold: Threshold,
    /// Pass, warn or fail.
    pub status: Status,
    /// A sentence a person can act on.
    pub detail: String,
}

/// Orders and lines placed on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayVolume {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Orders placed.
    pub orders: i64,
    /// Their lines.
    pub lines: i64,
}

/// A count by key (rejects by reason or by source).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// The reason code or source file.
    pub key: String,
    /// How many.
    pub count: i64,
}

/// One ingest run of the window, and whether its counts reconcile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// `ingest_runs.id`.
    pub id: i64,
    /// When it started (UTC).
    #[serde(serialize_with = "utc")]
    pub started_at: NaiveDateTime,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// What it read.
    pub source: String,
    /// Its contract.
    pub contract: String,
    /// Records read.
    pub records_read: i64,
    /// Records accepted.
    pub records_accepted: i64,
    /// Records rejected (the run's counter).
    pub records_rejected: i64,
    /// Rows in `rejects` for the run.
    pub rejects_stored: i64,
    /// `read = accepted + rejected`, the rejects are all stored, and the run completed.
    pub reconciles: bool,
}

/// The window of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// Start (UTC, inclusive).
    #[serde(serialize_with = "utc")]
    pub since: NaiveDateTime,
    /// End (UTC, exclusive).
    #[serde(serialize_with = "utc")]
    pub until: NaiveDateTime,
}

/// A data-quality report; serializes as the `triglot.report/1` JSON schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Backend display name.
    pub backend: &'static str,
    /// What it covers.
    pub window: Window,
    /// "Now" as the report saw it.
    #[serde(serialize_with = "utc")]
    pub generated_at: NaiveDateTime,
    /// The worst status of its checks.
    pub status: Status,
    /// Every check, in a fixed order.
    pub checks: Vec<Check>,
    /// Orders and lines per day of the window.
    pub daily_volume: Vec<DayVolume>,
    /// Rejects recorded in the window, by reason.
    pub rejects_by_reason: Vec<Tally>,
    /// Rejects recorded in the window, by source file.
    pub rejects_by_source: Vec<Tally>,
    /// Ingest runs started in the window.
    pub runs: Vec<RunReport>,
    /// Rows per table of the model.
    pub tables: Vec<Tally>,
    /// How long the queries took.
    pub elapsed_ms: u64,
}

impl Report {
    /// The check called `name`, if the report has it.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Whether the report passes when `fail_on` is the least status that fails it.
    pub fn passes(&self, fail_on: Status) -> bool {
        self.status < fail_on
    }
}

fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string())
}

/// Integers as JSON integers, other values rounded to six decimals.
fn number<S: serde::Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => s.serialize_i64(*v as i64),
        Some(v) => s.serialize_f64((v * 1e6).round() / 1e6),
    }
}
