//! triglot: write a diesel data layer once and run it on SQLite, MySQL/MariaDB
//! and PostgreSQL.
//!
//! This crate is the facade: it re-exports [`triglot_core`] and the backends
//! enabled by Cargo features, and adds what must name every backend:
//! [`AnyDatabase`] (the backend picked from a URL at run time) with
//! [`dispatch!`], [`migrations!`] (a project's per-backend migration
//! folders), [`check_parity`], [`for_each_backend!`], and the test and bench
//! macros.
//!
//! ```no_run
//! use diesel::connection::SimpleConnection;
//! use triglot::{AnyDatabase, Database, Dialect, Migrations, WithDatabase};
//!
//! struct Visit;
//!
//! impl WithDatabase for Visit {
//!     type Output = triglot::Result<()>;
//!     fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output {
//!         db.migrate(&Migrations::from_dir("migrations"))?;
//!         db.write("counting a visit", |conn| conn.batch_execute("UPDATE visits SET n = n + 1"))
//!     }
//! }
//!
//! # fn main() -> triglot::Result<()> {
//! let db = AnyDatabase::open("sqlite://app.db")?;
//! db.with(Visit)?;
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
//! - `testing`: the cross-backend test macro `backend_test!`.
//! - `bench`: cross-backend criterion benches (`bench`, `backend_bench!`);
//!   implies `testing`.
//!
//! Any feature not listed here is not part of the public API.

#[cfg(not(any(feature = "sqlite", feature = "mysql", feature = "postgres")))]
compile_error!("triglot needs at least one backend feature: sqlite, mysql or postgres");

pub use triglot_core::*;

pub use crate::any::{AnyDatabase, BACKENDS, WithDatabase};
pub use crate::check::{ParityReport, check_parity};
#[doc(hidden)]
pub use triglot_macros::__embed_migrations;

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
mod check;
mod each_backend;
mod migrations;
