//! The `Dialect` trait: the policy a backend needs that diesel leaves to applications.

use std::fmt;

use diesel::backend::Backend;
use diesel::connection::LoadConnection;
use diesel::r2d2::R2D2Connection;
use diesel::result::QueryResult;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::error::ErrorKind;
use crate::introspect::SchemaSnapshot;
use crate::model::{
    ModelConnection, NewCustomer, NewIngestRun, NewOrder, NewOrderLine, OrderLine, OrderLineQueries,
};
use crate::url::DatabaseUrl;

/// What a backend can do, as data that shared code reads instead of branching
/// on a backend's name.
///
/// Each dialect states every field in one `const` literal; there is no
/// `Default`, so a new field makes every backend decide. Fields that depend on
/// the server's version are corrected once by [`Dialect::refine`] when a
/// [`Database`](crate::Database) first meets the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether `INSERT … RETURNING` is available; the dialect uses it to get
    /// new ids in the same statement instead of a second query.
    pub insert_returning: bool,
    /// The most bind parameters one statement may carry; writers divide it by
    /// a row's column count to size multi-row INSERT statements.
    pub max_bind_params: usize,
    /// How an insert-or-update by natural key is spelled.
    pub upsert: UpsertForm,
    /// How many rows are best loaded at once.
    pub bulk_path: BulkPath,
    /// Whether DDL runs inside a transaction, so a failed migration leaves no
    /// trace. Where it is false a failed migration can leave part of its DDL
    /// applied, and triglot says so in the error.
    pub transactional_ddl: bool,
    /// Whether rows reach the caller while the query runs. Where false the
    /// driver buffers the whole result on the client, so large reads must be
    /// paged by key instead of streamed.
    pub streams_results: bool,
    /// Whether the server enforces CHECK constraints. Where false (MySQL before
    /// 8.0.16) only the input contract guards ranges and enumerations.
    pub check_constraints: bool,
    /// Whether several connections can write at the same time. Where false
    /// (SQLite), writers serialize and concurrent writes wait on a lock.
    pub concurrent_writers: bool,
}

/// The SQL form of insert-or-update by a unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpsertForm {
    /// `INSERT … ON CONFLICT (key) DO UPDATE SET col = excluded.col` (SQLite, PostgreSQL).
    OnConflict,
    /// `INSERT … ON DUPLICATE KEY UPDATE col = VALUES(col)` (MySQL, MariaDB).
    OnDuplicateKey,
}

/// The fastest way a backend loads many rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BulkPath {
    /// Multi-row `INSERT` statements inside one transaction, sized by
    /// [`Capabilities::max_bind_params`] (the default of
    /// [`Dialect::insert_lines`]).
    MultiRowInsert,
    /// Multi-row `INSERT`s of fixed row counts, each prepared once per
    /// connection (SQLite, MySQL).
    PreparedBatches,
    /// PostgreSQL's `COPY … FROM STDIN`.
    Copy,
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
///     connection_string: "postgres://app:s3cret@db/orders".into(),
///     display: "postgres://app:***@db/orders".into(),
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

/// The policy of one backend: identity, session setup, migrations,
/// capabilities, error classification, introspection and the writes whose SQL
/// differs between backends.
///
/// diesel's `Backend` decides what a query may contain and how it is spelled;
/// a `Dialect` decides what to do around it. Shared code is generic over
/// `D: Dialect` and asks it, instead of naming a backend.
///
/// The model-level writes whose SQL form differs between backends (upsert,
/// insert-and-return-id, bulk load) are methods here; everything that is the
/// same everywhere is written once in [`crate::model`].
pub trait Dialect: Sized + Send + Sync + 'static {
    /// diesel's backend type.
    type Backend: Backend;
    /// diesel's connection type for this backend.
    type Connection: LoadConnection<Backend = Self::Backend>
        + R2D2Connection
        + MigrationHarness<Self::Backend>
        + ModelConnection
        + Send
        + 'static;

    /// The display name: `"SQLite"`, `"MySQL"`, `"PostgreSQL"`.
    const NAME: &'static str;
    /// The URL schemes this dialect accepts, lower case.
    const URL_SCHEMES: &'static [&'static str];
    /// What the backend can do before the server's version is known.
    const CAPABILITIES: Capabilities;
    /// The embedded migrations that create triglot's schema on this backend.
    const MIGRATIONS: EmbeddedMigrations;
    /// The SQL type name that `CAST(… AS …)` takes for a 64-bit integer.
    const BIGINT_CAST: &'static str;

    /// `a / b` on 64-bit integers, truncating (MySQL spells it `DIV`).
    fn int_div(a: &str, b: &str) -> String {
        format!("({a}) / ({b})")
    }

    /// The length of text in characters (not bytes).
    fn char_length(expr: &str) -> String {
        format!("CHAR_LENGTH({expr})")
    }

    /// The UTC day of a timestamp expression as `YYYY-MM-DD` text.
    fn day_text(expr: &str) -> String;

    /// Turns a user's URL into what the driver connects with.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidUrl`] when the URL cannot name a database of this backend.
    fn connect_target(url: &DatabaseUrl) -> crate::Result<ConnectTarget>;

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
    fn write_transaction<T, E, F>(conn: &mut Self::Connection, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self::Connection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        diesel::Connection::transaction(conn, f)
    }

    /// Inserts customers, or updates name, email and country of those whose
    /// `external_id` exists. Returns the rows the driver reports as affected,
    /// which is not a count of changes on every backend.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_customers(conn: &mut Self::Connection, rows: Vec<NewCustomer>) -> QueryResult<usize>;

    /// Inserts orders, or updates every column of those whose `external_id` exists.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_orders(conn: &mut Self::Connection, rows: Vec<NewOrder>) -> QueryResult<usize>;

    /// Loads any number of order lines through the backend's bulk path,
    /// which sizes its own statements; the caller holds the transaction.
    ///
    /// `caps` are the database's refined capabilities. The default is the
    /// portable multi-row INSERT of [`ModelConnection`], in statements that
    /// fit `caps.max_bind_params` (7 per line).
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn insert_lines(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        rows: &[NewOrderLine],
    ) -> QueryResult<usize> {
        let per_statement = (caps.max_bind_params / 7).max(1);
        let mut inserted = 0;
        for chunk in rows.chunks(per_statement) {
            inserted += conn.insert_order_lines(chunk.to_vec())?;
        }
        Ok(inserted)
    }

    /// A keyset page of order lines (see [`OrderLineQueries::lines_after`]):
    /// the decode hot path, which a backend may serve faster than diesel's
    /// generic row loop.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn lines_after(
        conn: &mut Self::Connection,
        after_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<OrderLine>> {
        conn.lines_after(after_id, limit)
    }

    /// Like [`Dialect::lines_after`], handing each line to `each` as it is
    /// decoded.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn for_each_line_after(
        conn: &mut Self::Connection,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()> {
        conn.for_each_line_after(after_id, limit, each)
    }

    /// Inserts an ingest run and returns its id.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn insert_run(conn: &mut Self::Connection, run: NewIngestRun) -> QueryResult<i64>;
}
