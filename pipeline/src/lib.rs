//! triglot's order pipeline, built on triglot's public API as any user's
//! crate is: the order schema and its migrations, input contracts, the
//! ingest engine, the data-quality report, the demo, and the `triglot`
//! program.
//!
//! Modules, from the bottom up: [`schema`] (the `table!`s) → [`model`] (row
//! types and queries) → [`contract`] (input contracts) → [`Error`] → the
//! order writer → [`backend`](OrderBackend) (per-backend SQL and fast paths)
//! → [`report`], [`ingest`] and the demo.

pub use crate::backend::OrderBackend;
pub use crate::demo::DemoData;
pub use crate::error::{Error, Result};
pub use crate::writer::{LineRecord, OrderRecord, OrderWriter, WriteSummary};

pub mod contract;
pub mod flow;
pub mod ingest;
pub mod model;
pub mod report;
pub mod schema;
pub mod transform;

mod backend;
mod demo;
mod error;
mod writer;

/// The order schema's migrations, one folder per backend (`migrations/`
/// of this crate), embedded for the backends triglot is built with.
pub static MIGRATIONS: triglot::Migrations = triglot::migrations!();

/// The tables of the order schema, in the order they are created.
pub const TABLES: [&str; 5] = model::TABLES;

pub use crate::schema::model_schema;
