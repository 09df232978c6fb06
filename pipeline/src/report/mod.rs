//! The data-quality report: named checks with values, thresholds and
//! pass / warn / fail, computed by the same SQL on every backend.
//!
//! A report covers a window (a day, or `since..until`): orders placed in it,
//! their lines and customers, and the ingest runs and rejects recorded in it.
//! Whole-database checks (row counts, uniqueness of natural keys, referential
//! integrity, freshness) ignore the window. The JSON form
//! ([`Report`] serialized) is a stable, documented schema, `triglot.report/1`.

pub use self::build::{build, day_window, order_totals_sql};
pub use self::config::{Status, Threshold, Thresholds};
pub use self::outcome::{
    Check, DayVolume, Report, ReportOptions, RunReport, SCHEMA, Tally, Window,
};
pub use self::render::{html, text};
pub use self::rows::{CountRow, KeyedRow, NewestRow, RatioRow, ReportQueries, RunRow};

mod build;
mod checks;
pub(crate) mod config;
pub(crate) mod outcome;
pub(crate) mod render;
pub(crate) mod rows;
