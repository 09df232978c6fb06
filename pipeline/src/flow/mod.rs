//! Flows: input files into the tables of any migrated schema, by a contract
//! that is declared, not coded.
//!
//! A flow contract ([`Flow`]) names the database's own tables and, for each
//! column it fills, the source field, a constant or an expression, and the
//! rules the schema cannot state. It is bound to the live schema before any
//! row is read: the catalog gives every column its type, NULL, length,
//! precision and scale, and a contract that does not fit is refused with its
//! line.

pub use self::books::{BOOK_PREFIX, Counts, FlowBackend, FlowQueries};
pub use self::plan::Flow;
pub use self::quality::{
    ColumnVolume, FlowRun, QUALITY_SCHEMA, QualityOptions, QualityReport, quality_report,
};
pub use self::quality_config::{
    CustomCheck, LogicalKey, LogicalUnique, Measure, QualityConfig, Watched,
};
pub use self::quality_render::{quality_html, quality_text};
pub use self::run::{
    FlowOptions, FlowProgress, FlowSummary, REJECTS_PER_BATCH, TableWrites, run_flow,
    run_flow_with_progress,
};

mod books;
mod evaluate;
mod key_checks;
mod known_ids;
mod plan;
mod quality;
mod quality_config;
mod quality_render;
mod rules;
mod run;
mod spec;
