//! SQLite implementation of triglot's [`Dialect`](triglot_core::Dialect), on a
//! bundled libsqlite3 (no system library needed).
//!
//! Each heading below is one way SQLite differs from the servers, and what
//! triglot does about it.
//!
//! # URLs
//!
//! `sqlite://PATH` opens (and creates) the file at `PATH`, relative to the
//! working directory; `sqlite:///abs/path.db` is absolute. `sqlite::memory:`
//! (or `sqlite://:memory:`) is an in-memory database: every SQLite connection
//! to `:memory:` has its own private database, so the pool holds exactly one
//! connection for its whole life and every checkout sees the same data.
//!
//! # Locking and busy timeout
//!
//! SQLite allows one writer at a time. Every connection sets
//! `PRAGMA busy_timeout` first, so a writer waits for the lock instead of
//! failing at once, and write transactions start with `BEGIN IMMEDIATE`, so
//! two writers queue on the lock instead of deadlocking when both try to
//! upgrade a read lock. A lock that is still held after the timeout surfaces
//! as [`Error::Retryable`](triglot_core::Error::Retryable) (diesel reports
//! SQLITE_BUSY and SQLITE_LOCKED as `Unknown`; triglot classifies them by the
//! driver's message).
//!
//! # Journal and durability
//!
//! `journal_mode = WAL` lets readers run beside the writer; `synchronous =
//! NORMAL` is the setting SQLite recommends with WAL (durable across
//! application crashes, may lose the last commits on power loss).
//!
//! # Threading mode
//!
//! The bundled library is built serialized (a mutex taken on every API
//! call). Before its first connection triglot switches the process to
//! multi-thread mode, as rusqlite's `SQLITE_OPEN_NOMUTEX` does per
//! connection: a diesel connection is only ever used by one thread at a
//! time, so the mutex guarded nothing and cost about 10 % of row decoding.
//! Connections other code opens with `SQLITE_OPEN_FULLMUTEX` keep theirs;
//! if SQLite was initialized before triglot's first connection, nothing
//! changes.
//!
//! # Foreign keys
//!
//! SQLite enforces foreign keys only when `PRAGMA foreign_keys = ON`, per
//! connection; every pooled connection turns it on.
//!
//! # Types
//!
//! SQLite stores timestamps as text (`YYYY-MM-DD HH:MM:SS.ffffff`) and
//! ignores `VARCHAR(n)`: migrations enforce text lengths with `CHECK
//! (length(col) <= n)`, which counts characters like the servers do (the
//! parity check treats such a CHECK as part of the type, not as a CHECK to
//! compare). Keep money in integer cents and exact decimals as integers of
//! their scale or as text: diesel reads SQLite decimals through `f64`.
//!
//! # Bulk path
//!
//! [`BulkInsert`](triglot_core::write::BulkInsert) for any table: multi-row
//! INSERTs of 100 rows (then 10 and 1 for the rest), passed to diesel as
//! fixed-size arrays so each statement is prepared once per connection and
//! stepped again and again inside the caller's transaction. A `Vec` would be
//! prepared anew for every chunk.
//!
//! # Upsert
//!
//! [`UpsertRows`](triglot_core::write::UpsertRows): one prepared single-row
//! `INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col` per row;
//! new ids come back with `RETURNING` (SQLite 3.35+, always true for the
//! bundled library).
//!
//! # Indexes built after a load
//!
//! [`Dialect::indexes_built_after_load`](triglot_core::Dialect::indexes_built_after_load)
//! names a table's non-unique indexes: inserting into one whose keys
//! arrive in random order costs more per row as it grows, and building it
//! once after a load into an empty table costs less. PostgreSQL does the
//! same (its DDL is transactional too); MySQL returns none, since its DDL
//! commits the transaction it runs in.

pub use crate::dialect::SqliteDialect;

mod admin;
mod bulk;
mod dialect;
mod error;
mod index_build;
mod introspect;
mod session;
mod threading;
mod write;
