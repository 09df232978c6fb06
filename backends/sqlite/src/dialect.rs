//! `SqliteDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::result::QueryResult;
use diesel::sqlite::{Sqlite, SqliteConnection};
use triglot_core::diesel_migrations::EmbeddedMigrations;
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::model::{NewCustomer, NewIngestRun, NewOrder, NewOrderLine, OrderLine};
use triglot_core::{
    BulkPath, Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, ServerVersion,
    UpsertForm,
};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    type Backend = Sqlite;
    type Connection = SqliteConnection;

    const NAME: &'static str = "SQLite";
    const URL_SCHEMES: &'static [&'static str] = &["sqlite"];
    const CAPABILITIES: Capabilities = Capabilities {
        insert_returning: true,
        // SQLITE_MAX_VARIABLE_NUMBER since 3.32.
        max_bind_params: 32_766,
        upsert: UpsertForm::OnConflict,
        bulk_path: BulkPath::PreparedBatches,
        transactional_ddl: true,
        streams_results: true,
        check_constraints: true,
        concurrent_writers: false,
    };
    const MIGRATIONS: EmbeddedMigrations = crate::migrate::MIGRATIONS;
    const BIGINT_CAST: &'static str = "BIGINT";

    fn char_length(expr: &str) -> String {
        format!("length({expr})")
    }

    fn day_text(expr: &str) -> String {
        // Timestamps are stored as `YYYY-MM-DD HH:MM:SS…` text.
        format!("substr({expr}, 1, 10)")
    }

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

    fn write_transaction<T, E, F>(conn: &mut SqliteConnection, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        conn.immediate_transaction(f)
    }

    fn upsert_customers(conn: &mut SqliteConnection, rows: Vec<NewCustomer>) -> QueryResult<usize> {
        crate::write::upsert_customers(conn, rows)
    }

    fn upsert_orders(conn: &mut SqliteConnection, rows: Vec<NewOrder>) -> QueryResult<usize> {
        crate::write::upsert_orders(conn, rows)
    }

    fn lines_after(
        conn: &mut SqliteConnection,
        after_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<OrderLine>> {
        crate::decode::lines_after(conn, after_id, limit)
    }

    fn for_each_line_after(
        conn: &mut SqliteConnection,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()> {
        crate::decode::for_each_line_after(conn, after_id, limit, each)
    }

    fn insert_lines(
        conn: &mut SqliteConnection,
        _caps: &Capabilities,
        rows: &[NewOrderLine],
    ) -> QueryResult<usize> {
        crate::bulk::insert_lines(conn, rows)
    }

    fn insert_run(conn: &mut SqliteConnection, run: NewIngestRun) -> QueryResult<i64> {
        crate::write::insert_run(conn, run)
    }
}
