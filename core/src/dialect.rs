//! The `Dialect` trait: the policy a backend needs that diesel leaves to applications.

use std::fmt;

use diesel::backend::Backend;
use diesel::connection::LoadConnection;
use diesel::r2d2::R2D2Connection;
use diesel::result::QueryResult;
use diesel_migrations::MigrationHarness;

use crate::error::{ErrorKind, Result};
use crate::introspect::{ForeignKey, SchemaSnapshot};
use crate::migrations::Migrations;
use crate::sql_value::{KeyId, SqlValue, Upsert};
use crate::url::DatabaseUrl;

/// What a backend can do, as data that shared code reads instead of branching
/// on a backend's name.
///
/// Each dialect states every field in one `const` literal; there is no
/// `Default`, so a new field makes every backend decide. Fields that depend on
/// the server's version are corrected once by [`Dialect::refine`] when a
/// [`Database`](crate::Database) first meets the server. Every field is read
/// by the code it governs, named beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether `INSERT … RETURNING` is available. [`write::insert_returning_id`](crate::write::insert_returning_id)
    /// uses it to get a new id in the same statement; without it, it asks
    /// [`Dialect::last_insert_id`] on the same connection. An upsert
    /// ([`Dialect::upsert_values_returning`]) returns its rows' ids with it;
    /// without it, the caller reads them back.
    pub insert_returning: bool,
    /// The most bind parameters one statement may carry. The generic writes
    /// ([`write`](crate::write)) divide it by a row's column count to size
    /// multi-row statements.
    pub max_bind_params: usize,
    /// How an insert-or-update by a unique key is spelled; read by
    /// [`write::UpsertStatement`](crate::write::UpsertStatement) and
    /// [`values::ValuesInsert`](crate::values::ValuesInsert) when they write the statement.
    pub upsert: UpsertForm,
    /// Whether DDL runs inside a transaction, so a failed migration leaves no
    /// trace. Where it is false a failed migration can leave part of its DDL
    /// applied, and [`Database::migrate`](crate::Database::migrate) says so in
    /// the error.
    pub transactional_ddl: bool,
    /// Whether the server enforces CHECK constraints. Where false (MySQL before
    /// 8.0.16) the server drops them, so the [parity check](crate::parity)
    /// does not compare that backend's CHECK constraints, and
    /// `backend_test!(requires(check_constraints) …)` skips.
    pub check_constraints: bool,
    /// Whether a NULL may be bound as a parameter whatever its column's type
    /// (SQLite, MySQL). Rows known only at run time
    /// ([`values::ValuesInsert`](crate::values::ValuesInsert)) then bind
    /// their NULLs and go in statements of a few fixed sizes, so the
    /// driver's statement cache reuses them; PostgreSQL types every
    /// parameter, so there a NULL is the literal and the statement is
    /// prepared afresh.
    pub null_binds: bool,
    /// What ends a `SELECT` that must see the rows other transactions have
    /// committed since this transaction's first read: MySQL's REPEATABLE
    /// READ reads from that first read's snapshot, and a row another
    /// writer inserted meanwhile, which an upsert then left unchanged, is
    /// not in it; a locking read (`LOCK IN SHARE MODE`) reads the latest
    /// version. Empty where every statement reads the latest committed rows
    /// (PostgreSQL's READ COMMITTED, SQLite's single writer). Flows read
    /// back the ids of rows they upserted with it.
    pub current_read: &'static str,
    /// The statement that refreshes a table's planner statistics, followed
    /// by its quoted name, where a bulk load needs it: PostgreSQL's
    /// autovacuum analyzes a table a minute (its naptime) after it grew, so
    /// during a faster load its planner sees none and looks keys up by
    /// scanning the whole table (its manual's "Populating a Database":
    /// run `ANALYZE` after loading). `None` where the server keeps them
    /// itself (InnoDB recalculates after a tenth of a table changed) or
    /// plans by its indexes without them (SQLite). Read by
    /// [`Writes::refresh_statistics`](crate::write::Writes::refresh_statistics).
    pub refresh_statistics: Option<&'static str>,
    /// The SQL function that counts the characters of a text (not its
    /// bytes): `length` in SQLite and PostgreSQL, `CHAR_LENGTH` in MySQL,
    /// whose `LENGTH` counts bytes. The quality report's checks of a
    /// contract's `max_length` call it.
    pub char_length: &'static str,
    /// How many batches a bulk writer may commit in one transaction, each
    /// batch in a savepoint of its own. SQLite writes every page a
    /// transaction changed to its write-ahead log at commit, and copies it
    /// back at the next checkpoint: once an index is larger than a batch,
    /// keys in random order change a page per row, so a transaction over
    /// several batches writes a page once instead of once per batch. A
    /// server keeps 1: its connection can be lost in the middle of a
    /// transaction, and a retry would need every batch of it again, which
    /// the writer has freed. Read by flows (`triglot_pipeline::flow`).
    pub batches_per_commit: usize,
    /// How a cluster of this backend's servers lets a read see the writes
    /// committed before it. [`Database::open_cluster`](crate::Database::open_cluster)
    /// refuses a topology the form cannot serve, and
    /// [`Database::read`](crate::Database::read) routes by it.
    pub replication: Replication,
    /// Whether the driver bounds a silent network itself, from options
    /// triglot adds to the connection string (libpq's `keepalives*` and
    /// `tcp_user_timeout`), or there is no network (SQLite). Where false
    /// (libmysqlclient, whose timeouts diesel cannot set), the pool sets
    /// keepalive and a TCP user timeout on each new connection's socket
    /// ([`socket::USER_TIMEOUT`](crate::socket::USER_TIMEOUT)), found by
    /// [`Dialect::server_session`].
    pub socket_bounds_by_driver: bool,
}

/// How reads on a cluster see earlier writes; see [`Capabilities::replication`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replication {
    /// One server (SQLite's file): no cluster, every read sees every commit.
    Single,
    /// One primary streams its write-ahead log to read replicas
    /// (PostgreSQL): a read waits until a replica has replayed past the
    /// position the primary's log had when the read began
    /// ([`Dialect::log_position`], [`Dialect::replica_state`]).
    LogPosition,
    /// Every node takes writes and certifies them together (MariaDB
    /// Galera): a read asks its node to apply every write committed in the
    /// cluster before it first ([`Dialect::causal_reads`]).
    CausalReads,
}

/// Who a server knows a session as: recorded when a connection opens, so
/// that once the connection is lost another one can end its session
/// ([`Dialect::end_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIdentity {
    /// The server's number for the session: MySQL's `CONNECTION_ID()`,
    /// PostgreSQL's backend pid.
    pub id: i64,
    /// What tells it apart from a later session given the same number (a
    /// restarted server numbers from the start again): MySQL's `HOST`, the
    /// client's address and port; PostgreSQL's `backend_start`.
    pub mark: String,
}

/// What the server tells of a new connection's session, read in one round
/// trip when the pool opens it ([`Dialect::server_session`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerSession {
    /// Who the server knows it as; `None` where there is no server or the
    /// session cannot be told apart from a later one.
    pub identity: Option<SessionIdentity>,
    /// Its TCP ports, by which the pool finds the connection's socket
    /// ([`socket`](crate::socket)); `None` over a Unix socket.
    pub ports: Option<crate::socket::SessionPorts>,
}

/// An index of a table, as the statements that create and drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    /// Its name.
    pub name: String,
    /// The statement that creates it as it is now, and does nothing where
    /// it exists.
    pub create: String,
    /// The statement that drops it.
    pub drop: String,
}

/// A foreign key that a load into its empty table checks once at the end
/// instead of row by row, as the statements that do so.
///
/// A batch's transaction runs `suspend` first and `resume` last, so other
/// sessions always see the key (and it holds for their writes), while the
/// batch's own rows are not checked one by one; `validate` checks every row
/// once afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredKeyCheck {
    /// The constraint's name.
    pub name: String,
    /// Whether every row of the table has been checked against it (false
    /// after a load that stopped before `validate`).
    pub valid: bool,
    /// Drops the constraint.
    pub suspend: String,
    /// Adds it back as it was, without checking the rows already stored.
    pub resume: String,
    /// Checks every stored row and marks the constraint checked; fails with
    /// a foreign-key violation, changing nothing, if a row references
    /// nothing.
    pub validate: String,
}

/// Where a replica stands, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaState {
    /// The position in the primary's log it has replayed up to (comparable
    /// with [`Dialect::log_position`]).
    pub replayed: u64,
    /// How far its data is behind the primary's: zero when it has replayed
    /// all it received, else the age of the last transaction it replayed.
    pub lag: std::time::Duration,
}

/// The SQL form of insert-or-update by a unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpsertForm {
    /// `INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col` (SQLite, PostgreSQL).
    OnConflict,
    /// `INSERT … ON DUPLICATE KEY UPDATE col = VALUES(col)` (MySQL, MariaDB):
    /// the conflict is on whichever unique key the row hits.
    OnDuplicateKey,
}

/// The server's version, read once when a database is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
    /// The full version string the server reported (e.g. `10.11.6-MariaDB-0+deb12u1`).
    pub text: String,
}

impl ServerVersion {
    /// Parses the leading `major.minor.patch` of a version string.
    ///
    /// Missing parts are zero.
    ///
    /// # Example
    ///
    /// ```
    /// let v = triglot_core::ServerVersion::parse("10.11.6-MariaDB-0+deb12u1");
    /// assert_eq!((v.major, v.minor, v.patch), (10, 11, 6));
    /// assert!(v.is_mariadb() && v.at_least(10, 5, 0));
    /// ```
    pub fn parse(text: &str) -> Self {
        let mut parts = text
            .split(|c: char| !c.is_ascii_digit())
            .take_while(|p| !p.is_empty())
            .map(|p| p.parse::<u32>().unwrap_or(0));
        Self {
            major: parts.next().unwrap_or(0),
            minor: parts.next().unwrap_or(0),
            patch: parts.next().unwrap_or(0),
            text: text.to_owned(),
        }
    }

    /// Whether this version is `major.minor.patch` or newer.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// Whether the server says it is MariaDB.
    pub fn is_mariadb(&self) -> bool {
        self.text.to_ascii_lowercase().contains("mariadb")
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a URL turns into connections.
///
/// Its `Debug` output shows the connection string with any password replaced.
///
/// # Example
///
/// ```
/// let target = triglot_core::ConnectTarget {
///     connection_string: "postgres://app:s3cret@db/shop".into(),
///     display: "postgres://app:***@db/shop".into(),
///     private_per_connection: false,
/// };
/// assert!(!format!("{target:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectTarget {
    /// What diesel's `establish` receives. It may hold a password: never log it.
    pub connection_string: String,
    /// A human name of the target for messages: the file path for SQLite, the
    /// redacted URL for servers.
    pub display: String,
    /// Whether every pooled connection would see its own private database
    /// (an in-memory SQLite database); the pool then keeps exactly one
    /// connection for its whole life.
    pub private_per_connection: bool,
}

impl fmt::Debug for ConnectTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectTarget")
            .field("connection_string", &crate::url::redact(&self.connection_string))
            .field("display", &self.display)
            .field("private_per_connection", &self.private_per_connection)
            .finish()
    }
}

/// The policy of one backend: identity, session setup, capabilities, error
/// classification, introspection, write transactions and the administration
/// of scratch databases.
///
/// diesel's `Backend` decides what a query may contain and how it is spelled;
/// a `Dialect` decides what to do around it. Shared code is generic over
/// `D: Dialect` and asks it, instead of naming a backend. A dialect knows no
/// table and no migration: both belong to the caller
/// ([`Migrations`], [`Database::migrate`](crate::Database::migrate)).
pub trait Dialect: Sized + Send + Sync + 'static {
    /// diesel's backend type; it binds every dynamic value
    /// ([`DynamicValues`](crate::values::DynamicValues)).
    type Backend: Backend + crate::sql_value::DynamicValues;
    /// diesel's connection type for this backend.
    type Connection: LoadConnection<Backend = Self::Backend>
        + R2D2Connection
        + MigrationHarness<Self::Backend>
        + Send
        + 'static;

    /// The display name: `"SQLite"`, `"MySQL"`, `"PostgreSQL"`.
    const NAME: &'static str;
    /// The short key: `"sqlite"`, `"mysql"`, `"postgres"`. It names the
    /// backend's Cargo feature, its migrations folder and its tests.
    const KEY: &'static str;
    /// The URL schemes this dialect accepts, lower case.
    const URL_SCHEMES: &'static [&'static str];
    /// What the backend can do before the server's version is known.
    const CAPABILITIES: Capabilities;
    /// The SQL type name that `CAST(… AS …)` takes for a 64-bit integer
    /// (read by [`sql::sum_bigint`](crate::sql::sum_bigint)).
    const BIGINT_CAST: &'static str;
    /// The SQL type name that `CAST(… AS …)` takes for text of any length,
    /// unpadded: `TEXT`, or `CHAR` on MySQL (whose `CAST` takes no `TEXT`;
    /// PostgreSQL's `CHAR(n)` pads every value to `n` characters).
    const TEXT_CAST: &'static str;
    /// The environment variable naming the server that tests and scratch
    /// databases use, if the backend has a server.
    const TEST_URL_ENV: Option<&'static str>;
    /// The server URL used when that variable is unset.
    const TEST_URL_DEFAULT: &'static str;
    /// One sentence telling how to start the server, for failure messages.
    const START_HINT: &'static str;

    /// Turns a user's URL into what the driver connects with.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidUrl`] when the URL cannot name a database of this backend.
    fn connect_target(url: &DatabaseUrl) -> Result<ConnectTarget>;

    /// Runs the session setup on a fresh connection, before the pool hands it out.
    ///
    /// # Errors
    ///
    /// Any statement error; the pool then discards the connection.
    fn on_acquire(conn: &mut Self::Connection) -> QueryResult<()>;

    /// Reads the server's version.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn server_version(conn: &mut Self::Connection) -> QueryResult<ServerVersion>;

    /// Corrects version-dependent capabilities, one line per fact.
    fn refine(caps: &mut Capabilities, server: &ServerVersion);

    /// Classifies a diesel error.
    fn classify(err: &diesel::result::Error) -> ErrorKind;

    /// Reads the live schema of the connected database.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn introspect(conn: &mut Self::Connection) -> QueryResult<SchemaSnapshot>;

    /// Runs `f` in a transaction that is meant to write.
    ///
    /// The default is diesel's `transaction`. SQLite overrides it with
    /// `BEGIN IMMEDIATE` so two writers queue on the lock instead of
    /// deadlocking when both try to upgrade from reading.
    ///
    /// # Errors
    ///
    /// Whatever `f` returns, or the error of `BEGIN`/`COMMIT`.
    fn write_transaction<T, E, F>(conn: &mut Self::Connection, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut Self::Connection) -> std::result::Result<T, E>,
        E: From<diesel::result::Error>,
    {
        diesel::Connection::transaction(conn, f)
    }

    /// Begins the same transaction as [`Dialect::write_transaction`], for a
    /// caller that commits it later with the connection's transaction
    /// manager; inside it, `transaction` opens savepoints.
    ///
    /// # Errors
    ///
    /// The error of `BEGIN`.
    fn begin_write(conn: &mut Self::Connection) -> QueryResult<()> {
        use diesel::connection::TransactionManager;
        <Self::Connection as diesel::Connection>::TransactionManager::begin_transaction(conn)
    }

    /// Inserts rows known only at run time through the backend's bulk path:
    /// multi-row INSERTs sized by the bind limit
    /// ([`values::insert_rows`](crate::values::insert_rows)), or PostgreSQL's
    /// `COPY`. Every row is as long as `columns`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn bulk_insert_values(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        table: &str,
        columns: &[String],
        rows: &[Vec<SqlValue>],
    ) -> QueryResult<usize>;

    /// Runs `upsert` (rows known only at run time); returns the driver's
    /// affected-row count: multi-row statements sized by the bind limit
    /// ([`Upsert::execute`]), or, on PostgreSQL, large batches copied into
    /// a staging table first.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_values(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        upsert: &Upsert<'_>,
    ) -> QueryResult<usize>;

    /// Like [`Dialect::upsert_values`], returning the key (its first
    /// column, as text) and the `id` column of every row inserted or
    /// updated, read in the same statement (`RETURNING`); `None` where the
    /// backend cannot (the default, which only upserts; MySQL), and the
    /// caller reads them back. A row whose key exists and `update` is
    /// empty may be missing (SQLite and PostgreSQL leave it out; MariaDB's
    /// upsert sets its key to itself and returns it), so the caller reads
    /// back any key it needs and did not get.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_values_returning(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        upsert: &Upsert<'_>,
        id: &str,
    ) -> QueryResult<Option<Vec<KeyId>>> {
        let _ = id;
        Self::upsert_values(conn, caps, upsert).map(|_| None)
    }

    /// The id the connection's last INSERT generated, for backends without
    /// `RETURNING` ([`Capabilities::insert_returning`] false).
    ///
    /// # Errors
    ///
    /// The default refuses: a backend with `RETURNING` never needs it.
    fn last_insert_id(conn: &mut Self::Connection) -> QueryResult<i64> {
        let _ = conn;
        Err(diesel::result::Error::QueryBuilderError(
            format!("{} reads new ids with RETURNING", Self::NAME).into(),
        ))
    }

    /// Where the primary's log ends now: every transaction committed before
    /// the call is at or before it. Read where [`Capabilities::replication`]
    /// is [`Replication::LogPosition`].
    ///
    /// # Errors
    ///
    /// The default refuses: the backend has no such log.
    fn log_position(conn: &mut Self::Connection) -> QueryResult<u64> {
        let _ = conn;
        Err(unsupported::<Self>("read replicas that replay a log"))
    }

    /// How far the replica on `conn` has replayed the primary's log, and its lag.
    ///
    /// # Errors
    ///
    /// Any statement error; the default refuses, as [`Dialect::log_position`].
    fn replica_state(conn: &mut Self::Connection) -> QueryResult<ReplicaState> {
        let _ = conn;
        Err(unsupported::<Self>("read replicas that replay a log"))
    }

    /// Makes the session's reads wait until its node has applied every write
    /// the cluster committed before them ([`Replication::CausalReads`]).
    ///
    /// # Errors
    ///
    /// Any statement error; the default refuses.
    fn causal_reads(conn: &mut Self::Connection) -> QueryResult<()> {
        let _ = conn;
        Err(unsupported::<Self>("causal reads"))
    }

    /// Who the server knows `conn`'s session as, and its TCP ports, in
    /// one statement: the pool records the identity so that another
    /// connection can end the session once this one is lost
    /// ([`Dialect::end_session`]), and finds the socket by the ports to
    /// bound it ([`Capabilities::socket_bounds_by_driver`]) and to watch
    /// its statements ([`PoolConfig::stuck_statement`](crate::PoolConfig::stuck_statement)).
    /// Empty where there is no server (the default).
    ///
    /// # Errors
    ///
    /// The statement that asks the server.
    fn server_session(conn: &mut Self::Connection) -> QueryResult<ServerSession> {
        let _ = conn;
        Ok(ServerSession::default())
    }

    /// Ends the session `who` of another connection, from `conn`, if the
    /// server still has it; returns whether it ended one. A connection lost
    /// on a silent network, or cut for a statement that got no answer,
    /// leaves its session on a server that does not know it is gone, with
    /// its transaction and its locks, until the server's keepalive or idle
    /// limit ends it (MariaDB's `wait_timeout` is 8 h).
    ///
    /// # Errors
    ///
    /// The statements that look for the session and end it; the default
    /// ends nothing.
    fn end_session(conn: &mut Self::Connection, who: &SessionIdentity) -> QueryResult<bool> {
        let _ = (conn, who);
        Ok(false)
    }

    /// The indexes of `table` that a bulk load into it, while it is empty,
    /// builds faster once afterwards than key by key: those that enforce
    /// nothing (not UNIQUE, not a key), as the statements that create and
    /// drop each. Empty (the default) where loading through them costs
    /// about what building them afterwards does, so that changing the
    /// schema during a load is not worth it, and where dropping one cannot
    /// commit in the transaction that records it (MySQL's DDL commits).
    ///
    /// # Errors
    ///
    /// The statement that reads the catalog.
    fn indexes_built_after_load(
        conn: &mut Self::Connection,
        table: &str,
    ) -> QueryResult<Vec<IndexDefinition>> {
        let _ = (conn, table);
        Ok(Vec::new())
    }

    /// The foreign key `key` of `table`, where a load into `table` while it
    /// is empty checks it faster once afterwards than row by row: `None` (the
    /// default) where the check of a row costs little beside its insert,
    /// where no such key exists, or where dropping it cannot be undone with
    /// the transaction that dropped it (MySQL's DDL commits; SQLite cannot
    /// drop a table's foreign key).
    ///
    /// # Errors
    ///
    /// The statement that reads the catalog.
    fn foreign_key_checked_after_load(
        conn: &mut Self::Connection,
        table: &str,
        key: &ForeignKey,
    ) -> QueryResult<Option<DeferredKeyCheck>> {
        let _ = (conn, table, key);
        Ok(None)
    }

    /// Creates an empty database called `name` on the server at `server_url`
    /// and returns its URL (SQLite: a file in a new directory of that name
    /// under the temporary directory).
    ///
    /// # Errors
    ///
    /// The server is unreachable or refuses to create the database.
    fn create_database(server_url: &str, name: &str) -> Result<String>;

    /// Creates `name` with `migrations` already applied, if the backend has a
    /// faster way than running them (PostgreSQL copies a migrated template
    /// keyed by the set's content); `None` means "create it empty and migrate".
    ///
    /// # Errors
    ///
    /// The server is unreachable or refuses, or the template cannot be built.
    fn create_migrated(
        server_url: &str,
        name: &str,
        migrations: &Migrations,
    ) -> Result<Option<String>> {
        let _ = (server_url, name, migrations);
        Ok(None)
    }

    /// The names of the databases on the server that start with `prefix`.
    ///
    /// # Errors
    ///
    /// The server is unreachable.
    fn list_databases(server_url: &str, prefix: &str) -> Result<Vec<String>>;

    /// Drops the database `name` if it exists, closing its connections.
    ///
    /// # Errors
    ///
    /// The server is unreachable or refuses.
    fn drop_database(server_url: &str, name: &str) -> Result<()>;
}

/// The error of a cluster feature the backend does not have.
fn unsupported<D: Dialect>(what: &str) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("{} has no {what}", D::NAME).into())
}
