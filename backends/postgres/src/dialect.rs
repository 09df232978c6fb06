//! `PostgresDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::pg::{Pg, PgConnection};
use diesel::result::QueryResult;
use triglot_core::diesel_migrations::EmbeddedMigrations;
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::model::{NewCustomer, NewIngestRun, NewOrder, NewOrderLine, OrderLine};
use triglot_core::{
    BulkPath, Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, ServerVersion,
    UpsertForm,
};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    type Backend = Pg;
    type Connection = PgConnection;

    const NAME: &'static str = "PostgreSQL";
    const URL_SCHEMES: &'static [&'static str] = &["postgres", "postgresql"];
    const CAPABILITIES: Capabilities = Capabilities {
        insert_returning: true,
        // The Bind message counts parameters in 16 bits.
        max_bind_params: 65_535,
        upsert: UpsertForm::OnConflict,
        bulk_path: BulkPath::Copy,
        transactional_ddl: true,
        streams_results: true,
        check_constraints: true,
        concurrent_writers: true,
    };
    const MIGRATIONS: EmbeddedMigrations = crate::migrate::MIGRATIONS;
    const BIGINT_CAST: &'static str = "BIGINT";

    fn day_text(expr: &str) -> String {
        format!("to_char({expr}, 'YYYY-MM-DD')")
    }

    fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
        crate::session::connect_target(url)
    }

    fn on_acquire(conn: &mut PgConnection) -> QueryResult<()> {
        crate::session::on_acquire(conn)
    }

    fn server_version(conn: &mut PgConnection) -> QueryResult<ServerVersion> {
        crate::session::server_version(conn)
    }

    fn refine(_caps: &mut Capabilities, _server: &ServerVersion) {
        // Every capability above holds from PostgreSQL 10 (identity columns) on.
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn introspect(conn: &mut PgConnection) -> QueryResult<SchemaSnapshot> {
        crate::introspect::snapshot(conn)
    }

    fn upsert_customers(conn: &mut PgConnection, rows: Vec<NewCustomer>) -> QueryResult<usize> {
        crate::write::upsert_customers(conn, rows)
    }

    fn upsert_orders(conn: &mut PgConnection, rows: Vec<NewOrder>) -> QueryResult<usize> {
        crate::write::upsert_orders(conn, rows)
    }

    fn lines_after(
        conn: &mut PgConnection,
        after_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<OrderLine>> {
        crate::decode::lines_after(conn, after_id, limit)
    }

    fn for_each_line_after(
        conn: &mut PgConnection,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()> {
        crate::decode::for_each_line_after(conn, after_id, limit, each)
    }

    fn insert_lines(
        conn: &mut PgConnection,
        _caps: &Capabilities,
        rows: &[NewOrderLine],
    ) -> QueryResult<usize> {
        crate::copy::insert_lines(conn, rows)
    }

    fn insert_run(conn: &mut PgConnection, run: NewIngestRun) -> QueryResult<i64> {
        crate::write::insert_run(conn, run)
    }
}
