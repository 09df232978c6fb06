//! What a report is made of: checks with values, limits and status, and
//! the tallies beside them.

use chrono::{NaiveDateTime, TimeDelta};

use super::config::{Status, Threshold};

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    /// Stable name, e.g. `custom.order_total_matches_lines`.
    pub name: String,
    /// `volume`, `null_rate`, `uniqueness`, `integrity`, `contract`,
    /// `freshness`, `custom`, `rejects` or `runs`.
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

/// A count by key (rejects by reason or by source).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// The reason code or source file.
    pub key: String,
    /// How many.
    pub count: i64,
}

/// The window of one UTC day (the last day chrono knows ends at its last
/// instant).
pub fn day_window(day: chrono::NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let since = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (since, since.checked_add_signed(TimeDelta::days(1)).unwrap_or(NaiveDateTime::MAX))
}

/// Integers as JSON integers, other values rounded to six decimals.
fn number<S: serde::Serializer>(v: &Option<f64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => s.serialize_i64(*v as i64),
        Some(v) => s.serialize_f64((v * 1e6).round() / 1e6),
    }
}
