//! triglot: write a diesel data layer once and run it on SQLite, MySQL/MariaDB
//! and PostgreSQL.
//!
//! This crate is the facade: it re-exports [`triglot_core`] and the backends
//! enabled by Cargo features, and adds [`AnyDatabase`], which picks the
//! backend from a URL at run time.
//!
//! ```no_run
//! use triglot::{AnyDatabase, Database, Dialect, WithDatabase};
//! use triglot::model::OrderQueries;
//!
//! struct CountOrders;
//!
//! impl WithDatabase for CountOrders {
//!     type Output = triglot::Result<i64>;
//!     fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output {
//!         db.migrate()?;
//!         db.run("counting orders", |conn| conn.count_orders())
//!     }
//! }
//!
//! # fn main() -> triglot::Result<()> {
//! let db = AnyDatabase::open("sqlite://orders.db")?;
//! println!("{} orders", db.with(CountOrders)?);
//! # Ok(()) }
//! ```
//!
//! # Crate feature flags
//!
//! - `sqlite` (default): the SQLite backend, [`sqlite`], with a bundled
//!   libsqlite3 (no system library needed).
//! - `mysql`: the MySQL/MariaDB backend, [`mysql`], linking libmysqlclient
//!   (Debian: `default-libmysqlclient-dev`).
//! - `postgres`: the PostgreSQL backend, [`postgres`], linking libpq
//!   (Debian: `libpq-dev`).
//! - `bundled`: build libmysqlclient and libpq from source for the enabled
//!   server backends instead of linking the system libraries.
//! - `cli` (default): the `triglot` program and what only it needs (clap,
//!   tracing-subscriber, indicatif).
//! - `testing`: the cross-backend test harness ([`testing`], `backend_test!`).
//! - `bench`: cross-backend criterion benches (`bench`, `backend_bench!`);
//!   implies `testing`.
//!
//! Any feature not listed here is not part of the public API.

#[cfg(not(any(feature = "sqlite", feature = "mysql", feature = "postgres")))]
compile_error!("triglot needs at least one backend feature: sqlite, mysql or postgres");

pub use triglot_core::*;

pub use crate::any::{AnyDatabase, BACKENDS, WithDatabase};

#[cfg(feature = "mysql")]
pub use triglot_mysql as mysql;
#[cfg(feature = "postgres")]
pub use triglot_postgres as postgres;
#[cfg(feature = "sqlite")]
pub use triglot_sqlite as sqlite;

mod any;
#[cfg(feature = "testing")]
mod backend_test;
#[cfg(feature = "bench")]
pub mod bench;
#[cfg(feature = "testing")]
mod each_backend;
