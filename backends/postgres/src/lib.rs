//! PostgreSQL implementation of triglot's [`Dialect`](triglot_core::Dialect), on
//! libpq (Debian: `libpq-dev`; the `bundled` feature builds it from source
//! instead).
//!
//! Each heading below is one way PostgreSQL differs from the other backends,
//! and what triglot does about it.
//!
//! # URLs and connection timeouts
//!
//! `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` or `postgresql://…`, with
//! any libpq parameter in the query string. Where the URL does not set them,
//! triglot adds `connect_timeout=10`, TCP keepalives (`keepalives_idle=30`,
//! `keepalives_interval=10`, `keepalives_count=3`) and `tcp_user_timeout=30000`,
//! so a connection to a server that vanished without closing its sockets fails
//! within seconds instead of hanging (r2d2's own health check has no time
//! limit), and `application_name=triglot`.
//!
//! # Connection
//!
//! [`PgConnection`] is triglot's own diesel connection on libpq, in place of
//! diesel's connection of the same name (see `connection/mod.rs`): the same
//! statements, binds, `FromSql` impls, statement cache and transactions,
//! with each value read by its length and bytes (and its NULL flag only
//! when empty), and `COPY … FROM STDIN` through [`PgConnection::copy_in`].
//!
//! # Session
//!
//! Every connection sets `TimeZone = 'UTC'`, as diesel's does;
//! `application_name` is `triglot` unless the URL names another. The
//! server's end of the socket gets the same keepalive and TCP user timeout
//! as the client's (`tcp_keepalives_*`, `tcp_user_timeout`), unless the
//! URL's `options` or the server's configuration set them: a client that
//! gave up on a silent network leaves no server session behind holding its
//! transaction's locks, which its next attempt would wait for.
//!
//! # Prepared statements and generic plans
//!
//! diesel keeps prepared statements per connection. After five executions
//! PostgreSQL may replace a statement's custom plans with a generic plan,
//! chosen without the parameters' values; for the writer's key lookups
//! (`external_id = ANY($1)`) that plan was a sequential scan picked while the
//! table was small, and loads slowed down as it grew (about 0.4 s per lookup
//! at 30,000 rows). Those lookups carry `triglot_core::sql::Unprepared`, so
//! diesel sends them as unnamed statements, each planned with its keys. (Setting `plan_cache_mode =
//! force_custom_plan` for the session fixed the lookups too, but made every
//! foreign-key check of a bulk insert plan its query again: twice as slow.)
//!
//! # Dates and time zones
//!
//! Timestamps are `TIMESTAMP` (without time zone) holding UTC, microseconds
//! kept.
//!
//! # Upsert
//!
//! [`UpsertRows`](triglot_core::write::UpsertRows): multi-row `INSERT … ON
//! CONFLICT (key) DO UPDATE SET col = excluded.col`, sized by the bind
//! limit, with `RETURNING` for new ids.
//!
//! # Bulk path
//!
//! [`BulkInsert`](triglot_core::write::BulkInsert) for any table: binary
//! `COPY … FROM STDIN` (one statement and no bind limit, whatever the number
//! of rows), with the values serialized by diesel's own `ToSql` impls
//! (see `copy.rs`). This reads the bind values of diesel's INSERT through
//! diesel's third-party-backend API, which this crate turns on (the
//! connection needs it too, for its rows); that API may change between
//! diesel minor versions.
//!
//! # Indexes built after a load
//!
//! [`Dialect::indexes_built_after_load`](triglot_core::Dialect::indexes_built_after_load)
//! names a table's plain indexes (not unique, no constraint's), as SQLite
//! does: a million-line load into an empty table is faster by about 2 s
//! when they are dropped first and built once afterwards
//! (`index_build.rs`).
//!
//! # A foreign key checked after a load
//!
//! [`Dialect::foreign_key_checked_after_load`](triglot_core::Dialect::foreign_key_checked_after_load)
//! names a foreign key with the statements that drop it at the start of a
//! batch's transaction, add it back unchecked at its end, and check every
//! row once after the load: the row-by-row check was half of the server's
//! time in a million-line ingest (`key_check.rs`).
//!
//! # TLS and process exit
//!
//! libpq's OpenSSL would free its global state at exit while one of r2d2's
//! threads may still be opening a TLS connection (a crash at exit, 8 runs in
//! 20 of `triglot migrate --revert-all`); triglot initializes OpenSSL without
//! that exit handler before its first connection (`openssl.rs`).
//!
//! # Errors
//!
//! diesel classifies SQLSTATE 23505/23503/23502/23514 and 40001; a deadlock
//! (40P01) and a lock that could not be obtained (55P03) arrive as `Unknown`
//! and are recognised by the server's message as
//! [`Error::Retryable`](triglot_core::Error::Retryable): diesel exposes no
//! SQLSTATE, and the wording is English unless the server's `lc_messages`
//! is changed.

pub use crate::connection::PgConnection;
pub use crate::dialect::PostgresDialect;

mod admin;
pub mod connection;
mod copy;
mod copy_values;
mod dialect;
mod error;
mod index_build;
mod introspect;
mod key_check;
mod openssl;
mod replication;
mod session;
mod stage;
mod write;
