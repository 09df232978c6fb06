//! The backend-neutral core of triglot: the [`Dialect`] trait, the
//! [`Database`] handle, pools, migrations of a caller's set, one [`Error`]
//! type, retries, generic writes, introspection and the parity check.
//!
//! diesel already makes one query compile for several backends. What it
//! leaves to applications is the policy around queries: how to connect and
//! set up a session, how big a batch may be, how an upsert is spelled, which
//! errors are worth a retry. A [`Dialect`] holds that policy for one backend,
//! so code written against `D: Dialect` runs unchanged on each.
//!
//! This crate never names a concrete backend and never a table: the
//! `triglot-sqlite`, `triglot-mysql` and `triglot-postgres` crates implement
//! [`Dialect`], the caller brings the schema and its [`Migrations`], and the
//! `triglot` facade picks a backend by Cargo feature or URL.

pub use crate::cluster::{ReadPolicy, ReadRoute, Topology};
pub use crate::database::{Database, PooledConn};
pub use crate::dialect::{
    Capabilities, ConnectTarget, DeferredKeyCheck, Dialect, IndexDefinition, ReplicaState,
    Replication, ServerSession, ServerVersion, SessionIdentity, UpsertForm,
};
pub use crate::error::{DbError, Error, ErrorKind, Result};
pub use crate::establish::establish_reported;
pub use crate::health::Health;
pub use crate::migrate::MigrationStatus;
pub use crate::migrations::{EmbeddedSet, Migrations, SetSource};
pub use crate::pool::{DbPool, Manager, PoolConfig, PoolState, Tracked};
pub use crate::retry::{Attempted, RetryPolicy, retry};
pub use crate::url::{DatabaseUrl, redact};

pub mod introspect;
pub mod parity;
pub mod socket;
pub mod sql;
pub mod testing;
pub mod values;
pub mod write;

mod cluster;
mod database;
mod dialect;
mod error;
mod establish;
mod health;
mod migrate;
mod migrations;
mod pool;
mod retry;
mod sql_value;
mod url;
mod watch;

/// Re-exported so dialect crates and users name the same versions.
pub use diesel;
/// Re-exported so dialect crates and users embed migrations with the same version.
pub use diesel_migrations;
