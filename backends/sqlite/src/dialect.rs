//! `SqliteDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::result::QueryResult;
use diesel::sqlite::{Sqlite, SqliteConnection};
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::values::SqlValue;
use triglot_core::{
    Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, IndexDefinition, Replication,
    ServerVersion, UpsertForm,
};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    type Backend = Sqlite;
    type Connection = SqliteConnection;

    const NAME: &'static str = "SQLite";
    const KEY: &'static str = "sqlite";
    const URL_SCHEMES: &'static [&'static str] = &["sqlite"];
    const CAPABILITIES: Capabilities = Capabilities {
        insert_returning: true,
        // SQLITE_MAX_VARIABLE_NUMBER since 3.32.
        max_bind_params: 32_766,
        upsert: UpsertForm::OnConflict,
        transactional_ddl: true,
        check_constraints: true,
        null_binds: true,
        current_read: "",
        refresh_statistics: None,
        char_length: "length",
        // Sixteen batches of a thousand families: about what fits the page
        // cache that session setup gives a connection (see `session`).
        batches_per_commit: 8,
        replication: Replication::Single,
        socket_bounds_by_driver: true,
    };
    const BIGINT_CAST: &'static str = "BIGINT";
    const TEXT_CAST: &'static str = "TEXT";
    const TEST_URL_ENV: Option<&'static str> = None;
    const TEST_URL_DEFAULT: &'static str = "sqlite://";
    const START_HINT: &'static str =
        "SQLite needs no server; check that the temporary directory is writable.";

    fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
        crate::session::connect_target(url)
    }

    fn on_acquire(conn: &mut SqliteConnection) -> QueryResult<()> {
        crate::session::on_acquire(conn)
    }

    fn server_version(conn: &mut SqliteConnection) -> QueryResult<ServerVersion> {
        crate::session::server_version(conn)
    }

    fn refine(caps: &mut Capabilities, server: &ServerVersion) {
        // RETURNING arrived in SQLite 3.35 (the bundled library is newer).
        caps.insert_returning = server.at_least(3, 35, 0);
        // The bind limit was 999 before 3.32.
        if !server.at_least(3, 32, 0) {
            caps.max_bind_params = 999;
        }
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn introspect(conn: &mut SqliteConnection) -> QueryResult<SchemaSnapshot> {
        crate::introspect::snapshot(conn)
    }

    fn indexes_built_after_load(
        conn: &mut SqliteConnection,
        table: &str,
    ) -> QueryResult<Vec<IndexDefinition>> {
        crate::index_build::indexes_built_after_load(conn, table)
    }

    fn bulk_insert_values(
        conn: &mut SqliteConnection,
        caps: &Capabilities,
        table: &str,
        columns: &[String],
        rows: &[Vec<SqlValue>],
    ) -> QueryResult<usize> {
        triglot_core::values::insert_rows(conn, caps, table, columns, rows)
    }

    fn upsert_values(
        conn: &mut SqliteConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
    ) -> QueryResult<usize> {
        upsert.execute(conn, caps)
    }

    fn upsert_values_returning(
        conn: &mut SqliteConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
        id: &str,
    ) -> QueryResult<Option<Vec<triglot_core::values::KeyId>>> {
        upsert.returning::<Self>(conn, caps, id).map(Some)
    }

    fn write_transaction<T, E, F>(conn: &mut SqliteConnection, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        conn.immediate_transaction(f)
    }

    fn begin_write(conn: &mut SqliteConnection) -> QueryResult<()> {
        diesel::connection::AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE")
    }

    fn create_database(server_url: &str, name: &str) -> triglot_core::Result<String> {
        crate::admin::create_database(server_url, name)
    }

    fn list_databases(server_url: &str, prefix: &str) -> triglot_core::Result<Vec<String>> {
        crate::admin::list_databases(server_url, prefix)
    }

    fn drop_database(server_url: &str, name: &str) -> triglot_core::Result<()> {
        crate::admin::drop_database(server_url, name)
    }
}
