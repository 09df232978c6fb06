//! [`MysqlConnection`]: triglot's own diesel connection for MySQL and MariaDB,
//! on libmysqlclient.
//!
//! diesel's `MysqlConnection` reads a whole result into client memory
//! (`mysql_stmt_store_result`) before the first row, and reads each field
//! through a shared, borrowed row that re-reads the result's metadata; that
//! is most of the distance between its row decoding and the raw driver's.
//! This connection speaks the same binary protocol through the same C
//! library, takes the same queries, binds and `FromSql` impls, but reads
//! rows as they arrive, into buffers bound once per statement, and hands
//! each field to `FromSql` as a slice of them. Everything else (URL
//! options, statement cache, transactions, instrumentation, error kinds)
//! follows diesel's connection.

mod raw;
mod row;
mod stmt;

use diesel::connection::statement_cache::{MaybeCached, StatementCache};
use diesel::connection::{
    AnsiTransactionManager, CacheSize, ConnectionSealed, DefaultLoadingMode, DynInstrumentation,
    Instrumentation, InstrumentationEvent, LoadConnection, SimpleConnection, StrQueryHelper,
    TransactionManager,
};
use diesel::expression::QueryMetadata;
use diesel::mysql::Mysql;
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{Query, QueryFragment, QueryId};
use diesel::result::{ConnectionResult, DatabaseErrorKind, Error, QueryResult};

use self::raw::RawConnection;
pub use self::row::{Cursor, Row, RowField};
use self::stmt::Statement;

/// A MySQL or MariaDB connection that streams its rows (triglot's, in place
/// of diesel's connection of the same name).
///
/// It takes diesel's `mysql://` URLs (with `unix_socket`, `ssl_mode`,
/// `ssl_ca`, `ssl_cert`, `ssl_key`), sets `CLIENT_FOUND_ROWS`, utf8mb4 and
/// the UTC time zone, like diesel's `MysqlConnection`.
///
/// # Example
///
/// ```no_run
/// use diesel::prelude::*;
/// use triglot_mysql::MysqlConnection;
///
/// let mut conn = MysqlConnection::establish("mysql://root@127.0.0.1/test")?;
/// let n: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("1 + 1"))
///     .get_result(&mut conn)?;
/// assert_eq!(n, 2);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[allow(missing_debug_implementations)]
pub struct MysqlConnection {
    // Declared before the handle: statements close before their connection.
    cache: StatementCache<Mysql, Statement>,
    raw: RawConnection,
    transaction: AnsiTransactionManager,
    /// A statement failed to serialize (a deadlock); the transaction manager
    /// learns it when it next asks for its state (see `transaction_state`).
    serialization_failed: bool,
    instrumentation: DynInstrumentation,
}

// SAFETY: libmysqlclient lets a connection move between threads when one
// thread at a time uses it; `&mut self` on every call ensures that.
#[allow(unsafe_code)]
unsafe impl Send for MysqlConnection {}

impl SimpleConnection for MysqlConnection {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        let shown = StrQueryHelper::new(query);
        self.instrumentation.on_connection_event(InstrumentationEvent::start_query(&shown));
        let result = self.raw.batch_execute(query);
        self.instrumentation
            .on_connection_event(InstrumentationEvent::finish_query(&shown, result.as_ref().err()));
        result
    }
}

impl ConnectionSealed for MysqlConnection {}

impl diesel::Connection for MysqlConnection {
    type Backend = Mysql;
    type TransactionManager = AnsiTransactionManager;

    fn establish(database_url: &str) -> ConnectionResult<Self> {
        let (mut conn, instrumentation) =
            triglot_core::establish_reported(database_url, Self::connect)?;
        conn.instrumentation = instrumentation;
        Ok(conn)
    }

    fn execute_returning_count<T>(&mut self, source: &T) -> QueryResult<usize>
    where
        T: QueryFragment<Mysql> + QueryId,
    {
        let result = prepared(source, &mut self.cache, &self.raw, &mut *self.instrumentation)
            .and_then(|mut stmt| {
                stmt.execute()?;
                stmt.affected_rows()
            });
        self.finished(source, result)
    }

    fn transaction_state(&mut self) -> &mut AnsiTransactionManager {
        // After a deadlock the server has rolled the transaction back: a
        // rollback to a savepoint may then fail, and the manager must take
        // that as expected (diesel's connections mark it the same way, at
        // once; a cursor still borrowing the connection rules that out here).
        if std::mem::take(&mut self.serialization_failed) {
            <AnsiTransactionManager as TransactionManager<Self>>::transaction_manager_status_mut(
                self,
            )
            .set_requires_rollback_maybe_up_to_top_level(true);
        }
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

impl LoadConnection<DefaultLoadingMode> for MysqlConnection {
    type Cursor<'conn, 'query> = Cursor<'conn>;
    type Row<'conn, 'query> = Row;

    fn load<'conn, 'query, T>(&'conn mut self, source: T) -> QueryResult<Cursor<'conn>>
    where
        T: Query + QueryFragment<Mysql> + QueryId + 'query,
        Mysql: QueryMetadata<T::SqlType>,
    {
        let mut types = Vec::new();
        <Mysql as QueryMetadata<T::SqlType>>::row_metadata(&mut (), &mut types);
        let shown = diesel::debug_query::<Mysql, _>(&source);
        let result = prepared(&source, &mut self.cache, &self.raw, &mut *self.instrumentation)
            .and_then(|stmt| Cursor::new(stmt, &types));
        let failed = result.as_ref().err();
        note_failure(failed, &mut self.serialization_failed, &mut self.instrumentation, &shown);
        result
    }
}

impl diesel::r2d2::R2D2Connection for MysqlConnection {
    fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }

    fn is_broken(&mut self) -> bool {
        AnsiTransactionManager::is_broken_transaction_manager(self)
    }
}

impl diesel::migration::MigrationConnection for MysqlConnection {
    fn setup(&mut self) -> QueryResult<usize> {
        use diesel::RunQueryDsl;
        diesel::sql_query(diesel::migration::CREATE_MIGRATIONS_TABLE).execute(self)
    }
}

impl MysqlConnection {
    fn connect(database_url: &str) -> ConnectionResult<Self> {
        let raw = RawConnection::connect(database_url)?;
        let conn = Self {
            cache: StatementCache::new(),
            raw,
            transaction: AnsiTransactionManager::default(),
            serialization_failed: false,
            instrumentation: DynInstrumentation::none(),
        };
        conn.raw
            .batch_execute(
                "SET time_zone = '+00:00', character_set_client = 'utf8mb4', \
                 character_set_connection = 'utf8mb4', character_set_results = 'utf8mb4'",
            )
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }

    /// Reports the end of a statement, and marks the transaction for
    /// rollback after a serialization failure (as diesel's connections do).
    fn finished<T, Q: QueryFragment<Mysql>>(
        &mut self,
        source: &Q,
        result: QueryResult<T>,
    ) -> QueryResult<T> {
        let shown = diesel::debug_query::<Mysql, _>(source);
        note_failure(
            result.as_ref().err(),
            &mut self.serialization_failed,
            &mut self.instrumentation,
            &shown,
        );
        result
    }
}

fn note_failure(
    error: Option<&Error>,
    serialization_failed: &mut bool,
    instrumentation: &mut DynInstrumentation,
    shown: &dyn diesel::connection::DebugQuery,
) {
    if let Some(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) = error {
        *serialization_failed = true;
    }
    instrumentation.on_connection_event(InstrumentationEvent::finish_query(shown, error));
}

/// The statement of `source` from the cache (prepared on first use), with
/// its parameters bound.
fn prepared<'a, T: QueryFragment<Mysql> + QueryId>(
    source: &T,
    cache: &'a mut StatementCache<Mysql, Statement>,
    raw: &'a RawConnection,
    instrumentation: &mut dyn Instrumentation,
) -> QueryResult<MaybeCached<'a, Statement>> {
    instrumentation
        .on_connection_event(InstrumentationEvent::start_query(&diesel::debug_query::<Mysql, _>(
            source,
        )));
    let mut stmt = cache.cached_statement(source, &Mysql, &[], raw, prepare, instrumentation)?;
    let mut binds = RawBytesBindCollector::<Mysql>::new();
    source.collect_binds(&mut binds, &mut (), &Mysql)?;
    stmt.bind(binds.metadata.into_iter().zip(binds.binds))?;
    Ok(stmt)
}

/// Prepares `sql` on `conn` (the statement cache's callback).
fn prepare(
    conn: &RawConnection,
    sql: &str,
    _: diesel::connection::statement_cache::PrepareForCache,
    _: &[diesel::mysql::MysqlType],
) -> QueryResult<Statement> {
    Statement::prepare(conn, sql)
}
