//! triglot's pipeline, built on triglot's public API as any user's crate
//! is: flows that load files into the tables of any schema by a declared
//! contract, and the data-quality report on any database, neither of which
//! knows a schema; and their first client, the order schema with its
//! migrations, contract files, typed model and writer, the sample orders
//! and the `triglot` program.
//!
//! Modules, from the bottom up: [`schema`] and [`model`] (the order tables,
//! their row types and queries) → [`contract`] (what contracts share:
//! errors, input values, reject reasons, the order contract files) →
//! [`transform`] (values, exact decimals, expressions) → [`Error`] →
//! [`backend`](OrderBackend) and the order writer (fast paths on the order
//! tables) → [`report`] (checks, thresholds, rendering) → [`ingest`] (input
//! files, sorting, sample files) → [`flow`] (the engine and the quality
//! report).

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
pub const TABLES: [&str; 3] = model::TABLES;

pub use crate::schema::model_schema;
