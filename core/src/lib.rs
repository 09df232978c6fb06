//! The backend-neutral core of triglot: the [`Dialect`] trait, the [`Database`]
//! handle, the shared order model, the writer and the one [`Error`] type.
//!
//! diesel already makes one query compile for several backends. What it leaves
//! to applications is the policy around queries: how to connect and set up a
//! session, which migrations to run, how big a batch may be, how an upsert is
//! spelled, which errors are worth a retry. A [`Dialect`] holds that policy for
//! one backend, so code written against `D: Dialect` runs unchanged on each.
//!
//! This crate never names a concrete backend; `triglot-sqlite`,
//! `triglot-mysql` and `triglot-postgres` implement [`Dialect`], and the
//! `triglot` facade picks one by Cargo feature or URL.

pub use crate::database::{Database, PooledConn};
pub use crate::demo::{DemoData, DemoSummary, StatusSummary, run_demo};
pub use crate::dialect::{
    BulkPath, Capabilities, ConnectTarget, Dialect, ServerVersion, UpsertForm,
};
pub use crate::error::{DbError, Error, ErrorKind, Result};
pub use crate::migrate::MigrationStatus;
pub use crate::pool::{DbPool, Manager, PoolConfig, PoolState, Tracked};
pub use crate::url::{DatabaseUrl, redact};
pub use crate::writer::{LineRecord, OrderRecord, OrderWriter, RetryPolicy, WriteSummary};

pub mod contract;
pub mod ingest;
pub mod introspect;
pub mod model;
pub mod parity;
pub mod report;
pub mod schema;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;

mod database;
mod demo;
mod dialect;
mod error;
mod line_decoder;
mod migrate;
mod pool;
mod upsert;
mod url;
mod writer;

/// Re-exported so dialect crates and users name the same versions.
pub use diesel;
/// Re-exported so dialect crates embed migrations with the same version.
pub use diesel_migrations;
