//! [`PgConnection`]: triglot's own diesel connection for PostgreSQL, on
//! libpq.
//!
//! diesel's `PgConnection` reads each field through its result wrapper: a
//! row index and a column index converted and checked per call, the
//! column's type asked of libpq per field, a shared result counted per
//! row. That was 1.08–1.15 times a hand-written libpq loop on the same
//! page. This connection sends the same statements through the same
//! library (named prepared statements with binary parameters and results,
//! unnamed ones for what diesel does not cache), takes the same binds and
//! `FromSql` impls, and reads each field with the three libpq calls the
//! hand-written loop makes, the column types read once per result.
//! Everything else (statement cache, transactions and their recovery from
//! libpq's transaction status, custom-type lookups, instrumentation, error
//! kinds) follows diesel's connection. It adds `COPY … FROM STDIN`
//! ([`PgConnection::copy_in`]), which diesel offers only through a trait it
//! keeps private.

mod raw;
mod row;
mod stmt;

use diesel::connection::statement_cache::{MaybeCached, StatementCache};
use diesel::connection::{
    AnsiTransactionManager, CacheSize, ConnectionSealed, DefaultLoadingMode, DynInstrumentation,
    Instrumentation, InstrumentationEvent, LoadConnection, SimpleConnection, StrQueryHelper,
    TransactionManager, TransactionManagerStatus, ValidTransactionManagerStatus,
};
use diesel::expression::QueryMetadata;
use diesel::pg::{GetPgMetadataCache, Pg, PgMetadataCache};
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{Query, QueryFragment, QueryId};
use diesel::result::{ConnectionResult, QueryResult};

use self::raw::{RawConnection, TransactionStatus};
pub use self::row::{Cursor, Row, RowField};
use self::stmt::Statement;

/// A PostgreSQL connection that reads fields as a libpq loop does
/// (triglot's, in place of diesel's connection of the same name).
///
/// It takes libpq's URLs and keyword strings, and sets the UTC time zone
/// and UTF-8 client encoding, like diesel's `PgConnection`.
///
/// # Example
///
/// ```no_run
/// use diesel::prelude::*;
/// use triglot_postgres::PgConnection;
///
/// let mut conn = PgConnection::establish("postgres://postgres@127.0.0.1/test")?;
/// let n: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("1 + 1"))
///     .get_result(&mut conn)?;
/// assert_eq!(n, 2);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[allow(missing_debug_implementations)]
pub struct PgConnection {
    cache: StatementCache<Pg, Statement>,
    metadata: PgMetadataCache,
    raw: RawConnection,
    transaction: AnsiTransactionManager,
    instrumentation: DynInstrumentation,
}

// SAFETY: libpq lets a connection move between threads when one thread at
// a time uses it; `&mut self` on every call ensures that.
#[allow(unsafe_code)]
unsafe impl Send for PgConnection {}

impl SimpleConnection for PgConnection {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        let shown = StrQueryHelper::new(query);
        self.instrumentation.on_connection_event(InstrumentationEvent::start_query(&shown));
        let result = self.raw.exec(query).map(drop);
        self.settle(result.is_err());
        self.instrumentation
            .on_connection_event(InstrumentationEvent::finish_query(&shown, result.as_ref().err()));
        result
    }
}

impl ConnectionSealed for PgConnection {}

impl diesel::Connection for PgConnection {
    type Backend = Pg;
    type TransactionManager = AnsiTransactionManager;

    fn establish(database_url: &str) -> ConnectionResult<Self> {
        let (mut conn, instrumentation) =
            triglot_core::establish_reported(database_url, Self::connect)?;
        conn.instrumentation = instrumentation;
        Ok(conn)
    }

    fn execute_returning_count<T>(&mut self, source: &T) -> QueryResult<usize>
    where
        T: QueryFragment<Pg> + QueryId,
    {
        let result = self.run(source).and_then(|res| res.rows_affected());
        self.finished(source, result)
    }

    fn transaction_state(&mut self) -> &mut AnsiTransactionManager {
        &mut self.transaction
    }

    fn instrumentation(&mut self) -> &mut dyn Instrumentation {
        &mut *self.instrumentation
    }

    fn set_instrumentation(&mut self, instrumentation: impl Instrumentation) {
        self.instrumentation = instrumentation.into();
    }

    fn set_prepared_statement_cache_size(&mut self, size: CacheSize) {
        self.cache.set_cache_size(size);
    }
}

impl LoadConnection<DefaultLoadingMode> for PgConnection {
    type Cursor<'conn, 'query> = Cursor;
    type Row<'conn, 'query> = Row;

    fn load<'conn, 'query, T>(&'conn mut self, source: T) -> QueryResult<Cursor>
    where
        T: Query + QueryFragment<Pg> + QueryId + 'query,
        Pg: QueryMetadata<T::SqlType>,
    {
        let result = self.run(&source).and_then(Cursor::new);
        self.finished(&source, result)
    }
}

impl GetPgMetadataCache for PgConnection {
    fn get_metadata_cache(&mut self) -> &mut PgMetadataCache {
        &mut self.metadata
    }
}

impl diesel::r2d2::R2D2Connection for PgConnection {
    fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }

    fn is_broken(&mut self) -> bool {
        self.raw.is_bad() || AnsiTransactionManager::is_broken_transaction_manager(self)
    }
}

impl diesel::migration::MigrationConnection for PgConnection {
    fn setup(&mut self) -> QueryResult<usize> {
        use diesel::RunQueryDsl;
        diesel::sql_query(diesel::migration::CREATE_MIGRATIONS_TABLE).execute(self)
    }
}

impl PgConnection {
    /// Runs `statement`, a `COPY … FROM STDIN`, with the data `write` writes
    /// to its sink (each write is one CopyData message); returns the rows
    /// the server copied.
    ///
    /// # Errors
    ///
    /// The server's error for the COPY or its data, a lost connection, or
    /// the error `write` returns, in which case the COPY is cancelled and
    /// nothing is copied.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use diesel::connection::SimpleConnection;
    /// use diesel::prelude::*;
    /// use triglot_postgres::PgConnection;
    ///
    /// let mut conn = PgConnection::establish("postgres://postgres@127.0.0.1/test")?;
    /// conn.batch_execute("CREATE TEMPORARY TABLE t (n int, s text)")?;
    /// let copied = conn.copy_in("COPY t (n, s) FROM STDIN", &mut |out| {
    ///     out.write_all(b"1\tone\n2\ttwo\n").map_err(|e| diesel::result::Error::SerializationError(e.into()))
    /// })?;
    /// assert_eq!(copied, 2);
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn copy_in(
        &mut self,
        statement: &str,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> QueryResult<()>,
    ) -> QueryResult<usize> {
        let shown = StrQueryHelper::new(statement);
        self.instrumentation.on_connection_event(InstrumentationEvent::start_query(&shown));
        let result = self.raw.copy_in(statement, write);
        self.settle(result.is_err());
        self.instrumentation
            .on_connection_event(InstrumentationEvent::finish_query(&shown, result.as_ref().err()));
        result
    }

    fn connect(database_url: &str) -> ConnectionResult<Self> {
        let raw = RawConnection::connect(database_url)?;
        raw.exec("SET TIME ZONE 'UTC'; SET CLIENT_ENCODING TO 'UTF8'")
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(Self {
            cache: StatementCache::new(),
            metadata: PgMetadataCache::new(),
            raw,
            transaction: AnsiTransactionManager::default(),
            instrumentation: DynInstrumentation::none(),
        })
    }

    /// Prepares (or finds in the cache) and executes `source` with its binds.
    fn run<T: QueryFragment<Pg> + QueryId>(&mut self, source: &T) -> QueryResult<raw::PgResult> {
        self.instrumentation.on_connection_event(InstrumentationEvent::start_query(
            &diesel::debug_query::<Pg, _>(source),
        ));
        let mut binds = RawBytesBindCollector::<Pg>::new();
        // The connection looks up custom types' OIDs (and caches them).
        source.collect_binds(&mut binds, self, &Pg)?;
        let stmt: MaybeCached<'_, Statement> = self.cache.cached_statement(
            source,
            &Pg,
            &binds.metadata,
            &self.raw,
            Statement::prepare,
            &mut *self.instrumentation,
        )?;
        stmt.execute(&self.raw, &binds.binds)
    }

    /// Reports the end of a statement and brings the transaction manager
    /// in line with libpq's transaction status.
    fn finished<T, Q: QueryFragment<Pg>>(
        &mut self,
        source: &Q,
        result: QueryResult<T>,
    ) -> QueryResult<T> {
        self.settle(result.is_err());
        self.instrumentation.on_connection_event(InstrumentationEvent::finish_query(
            &diesel::debug_query::<Pg, _>(source),
            result.as_ref().err(),
        ));
        result
    }

    /// What diesel's connection does after each statement: libpq knows
    /// whether the server's transaction failed, ended or is going on.
    fn settle(&mut self, failed: bool) {
        let server = self.raw.transaction_status();
        let status =
            <AnsiTransactionManager as TransactionManager<Self>>::transaction_manager_status_mut(
                self,
            );
        match server {
            TransactionStatus::InError => status.set_requires_rollback_maybe_up_to_top_level(true),
            TransactionStatus::Unknown => status.set_in_error(),
            // A COMMIT that failed still ended the transaction.
            TransactionStatus::Idle => {
                *status = TransactionManagerStatus::Valid(ValidTransactionManagerStatus::default());
            }
            TransactionStatus::InTransaction if failed => {
                let open = matches!(status, TransactionManagerStatus::Valid(valid)
                    if valid.transaction_depth().is_some());
                if !open {
                    status.set_in_error();
                }
            }
            TransactionStatus::InTransaction => {
                status.set_requires_rollback_maybe_up_to_top_level(false);
            }
            TransactionStatus::Active => {}
        }
    }
}
