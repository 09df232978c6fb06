//! `MysqlDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::mysql::{Mysql, MysqlConnection};
use diesel::result::QueryResult;
use triglot_core::diesel_migrations::EmbeddedMigrations;
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::model::{NewCustomer, NewIngestRun, NewOrder, NewOrderLine, OrderLine};
use triglot_core::{
    BulkPath, Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, ServerVersion,
    UpsertForm,
};

/// The MySQL and MariaDB dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlDialect;

impl Dialect for MysqlDialect {
    type Backend = Mysql;
    type Connection = MysqlConnection;

    const NAME: &'static str = "MySQL";
    const URL_SCHEMES: &'static [&'static str] = &["mysql", "mariadb"];
    const CAPABILITIES: Capabilities = Capabilities {
        // diesel's Mysql backend cannot emit RETURNING, even where MariaDB has it.
        insert_returning: false,
        // The prepared-statement protocol counts parameters in 16 bits.
        max_bind_params: 65_535,
        upsert: UpsertForm::OnDuplicateKey,
        bulk_path: BulkPath::PreparedBatches,
        transactional_ddl: false,
        streams_results: false,
        check_constraints: true,
        concurrent_writers: true,
    };
    const MIGRATIONS: EmbeddedMigrations = crate::migrate::MIGRATIONS;
    const BIGINT_CAST: &'static str = "SIGNED";

    fn int_div(a: &str, b: &str) -> String {
        format!("({a}) DIV ({b})")
    }

    fn day_text(expr: &str) -> String {
        format!("DATE_FORMAT({expr}, '%Y-%m-%d')")
    }

    fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
        crate::session::connect_target(url)
    }

    fn on_acquire(conn: &mut MysqlConnection) -> QueryResult<()> {
        crate::session::on_acquire(conn)
    }

    fn server_version(conn: &mut MysqlConnection) -> QueryResult<ServerVersion> {
        crate::session::server_version(conn)
    }

    fn refine(caps: &mut Capabilities, server: &ServerVersion) {
        // CHECK is parsed but ignored before MariaDB 10.2.1 and MySQL 8.0.16.
        caps.check_constraints =
            if server.is_mariadb() { server.at_least(10, 2, 1) } else { server.at_least(8, 0, 16) };
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn introspect(conn: &mut MysqlConnection) -> QueryResult<SchemaSnapshot> {
        crate::introspect::snapshot(conn)
    }

    fn upsert_customers(conn: &mut MysqlConnection, rows: Vec<NewCustomer>) -> QueryResult<usize> {
        crate::write::upsert_customers(conn, rows)
    }

    fn upsert_orders(conn: &mut MysqlConnection, rows: Vec<NewOrder>) -> QueryResult<usize> {
        crate::write::upsert_orders(conn, rows)
    }

    fn lines_after(
        conn: &mut MysqlConnection,
        after_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<OrderLine>> {
        crate::decode::lines_after(conn, after_id, limit)
    }

    fn for_each_line_after(
        conn: &mut MysqlConnection,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()> {
        crate::decode::for_each_line_after(conn, after_id, limit, each)
    }

    fn insert_lines(
        conn: &mut MysqlConnection,
        _caps: &Capabilities,
        rows: &[NewOrderLine],
    ) -> QueryResult<usize> {
        crate::bulk::insert_lines(conn, rows)
    }

    fn insert_run(conn: &mut MysqlConnection, run: NewIngestRun) -> QueryResult<i64> {
        crate::write::insert_run(conn, run)
    }
}
