//! What every data-quality report is made of: named checks with values,
//! thresholds and pass / warn / fail, tallies, and the pieces they are
//! rendered with. The report itself, on any schema, is
//! [`flow::quality_report`](crate::flow::quality_report).

pub use self::config::{Status, Threshold, Thresholds};
pub use self::outcome::{Check, Tally, day_window};

pub(crate) mod config;
pub(crate) mod outcome;
pub(crate) mod render;
