//! MySQL and MariaDB implementation of triglot's [`Dialect`](triglot_core::Dialect),
//! on libmysqlclient (Debian: `default-libmysqlclient-dev`; the `bundled`
//! feature builds it from source instead).
//!
//! Each heading below is one way MySQL differs from the other backends, and
//! what triglot does about it.
//!
//! # URLs
//!
//! `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` and the same with
//! `mariadb://`. diesel's options (`unix_socket`, `ssl_mode`, `ssl_ca`,
//! `ssl_cert`, `ssl_key`) pass through to the connection, which reads them
//! as diesel's does (see below for `ssl_mode` on libmariadb).
//!
//! # Session
//!
//! Every pooled connection sets a strict `sql_mode` (`STRICT_ALL_TABLES`,
//! `NO_ZERO_DATE`, `NO_ZERO_IN_DATE`, `ERROR_FOR_DIVISION_BY_ZERO`,
//! `ONLY_FULL_GROUP_BY`, `NO_ENGINE_SUBSTITUTION`), so bad data is refused
//! instead of truncated; `time_zone = '+00:00'`; and utf8mb4 for the client,
//! the connection and the results.
//!
//! # Text and collation
//!
//! Tables are utf8mb4 with the binary collation `utf8mb4_bin`, so `'abc'` and
//! `'ABC'` are different external ids and text sorts as on SQLite and
//! PostgreSQL. 4-byte characters (emoji, musical symbols) round-trip.
//!
//! # Dates and time zones
//!
//! Timestamps are `DATETIME(6)` holding UTC: no conversion by the session
//! time zone (unlike `TIMESTAMP`), microseconds kept, range year 1000 to 9999.
//!
//! # Upsert
//!
//! `INSERT … ON DUPLICATE KEY UPDATE col = VALUES(col)`, multi-row, sized by
//! the bind limit. There is no conflict target: the update fires on whichever
//! unique key a row hits. `VALUES()` is what
//! both MariaDB and MySQL 8 accept (MySQL 8.0.20 prefers a row alias, which
//! MariaDB lacks). The connection sets `CLIENT_FOUND_ROWS` (as diesel's does), so an unchanged upsert
//! reports one affected row like an insert: triglot never infers
//! inserted/updated/unchanged counts from affected rows; the writer compares
//! content fingerprints instead.
//!
//! # Bulk path
//!
//! [`BulkInsert`](triglot_core::write::BulkInsert) for any table: multi-row
//! INSERTs of 1,000 rows (then 100, 10, 1 for the rest, each size skipped
//! when it would pass the bind limit), passed to diesel as fixed-size arrays
//! so each statement is prepared once per connection; a `Vec` would be
//! prepared again per chunk.
//!
//! # RETURNING
//!
//! MySQL has no `INSERT … RETURNING`:
//! [`insert_returning_id`](triglot_core::write::insert_returning_id) reads
//! new ids with `LAST_INSERT_ID()` on the same connection, and an upsert's
//! ids are read back after it. MariaDB 10.5+ has one
//! ([`Capabilities::insert_returning`](triglot_core::Capabilities::insert_returning)
//! is set when the server is met), and both use it. A prepared
//! `INSERT … RETURNING` has no result metadata before it runs (diesel's own
//! connection fails on it with "No metadata exists"), so this crate's
//! connection executes a statement before it reads its columns. An upsert
//! returns the rows it inserted and the rows whose key it found, even where
//! nothing is to be updated (the clause then sets the key to itself).
//!
//! # Transactions and DDL
//!
//! DDL commits implicitly: a migration that fails half-way leaves its first
//! statements applied, and the error says so. A lock wait timeout (1205) rolls
//! back only the statement; triglot rolls back the whole transaction before
//! any retry. Deadlocks (1213) and lock wait timeouts are
//! [`Error::Retryable`](triglot_core::Error::Retryable).
//!
//! # CHECK constraints
//!
//! Enforced by MariaDB 10.2+ and MySQL 8.0.16+; MariaDB reports a violation as
//! error 4025, which diesel's connection does not classify; triglot's does.
//!
//! # Error numbers
//!
//! The crate's connection gives each error diesel's kind by MySQL's error
//! number: unique (1062, 1586, 1859), foreign key (1216, 1217, 1451, 1452,
//! 1830, 1834), NOT NULL (1048, 1364), CHECK (3819, and MariaDB's 4025,
//! which diesel's own connection leaves `Unknown`), deadlock (1213, a
//! serialization failure) and a lost connection (2006, 2013, 2055), on
//! every path, `batch_execute` included. A lock wait timeout (1205) has no
//! diesel kind (it ends the statement, not the transaction), so it and the
//! other lost-connection texts (`Can't connect`, a server shutting down, a
//! killed connection, a Galera node not ready) are still recognised by the
//! message's wording, which is English unless the server's `lc_messages` is
//! changed; on a server with translated messages those errors are
//! [`Error::Query`](triglot_core::Error::Query) instead.
//!
//! # The connection, and rows as they arrive
//!
//! [`MysqlDialect`]'s connection is this crate's own [`MysqlConnection`], a
//! diesel connection on libmysqlclient (the same C library and binary
//! protocol as diesel's connection of that name, which it replaces). diesel's
//! reads a whole result into client memory (`mysql_stmt_store_result`)
//! before returning the first row and reads each field through a shared,
//! borrowed row; this one fetches rows from the socket as the caller asks
//! for them, into buffers bound once per statement, and hands `FromSql` a
//! slice of them, which brought decoding to the `mysql` crate's speed
//! (README, Benchmarks). While a cursor is open its connection is borrowed,
//! so no other statement can interleave; a cursor dropped half-way reads
//! and drops the rest. The server waits for a cursor's reader at most
//! `net_write_timeout` (60 s by default) between packets: a `load_iter`
//! left unread longer than that loses its connection (`load`, which reads
//! everything at once, never does). Long reads are still best paged by key.
//!
//! `ssl_mode=required`, `verify_ca` and `verify_identity` need a build that
//! links MySQL's libmysqlclient: libmariadb has no such option, and this
//! connection refuses them there rather than connect without TLS.

pub use crate::connection::MysqlConnection;
pub use crate::dialect::MysqlDialect;

mod admin;
mod bulk;
pub mod connection;
mod dialect;
mod error;
mod galera;
mod introspect;
mod last_insert_id;
mod session;
mod write;
