//! `MysqlDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::mysql::Mysql;

use crate::connection::MysqlConnection;
use diesel::result::QueryResult;
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::values::SqlValue;
use triglot_core::{
    Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, Replication, ServerSession,
    ServerVersion, SessionIdentity, UpsertForm,
};

/// The MySQL and MariaDB dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlDialect;

impl Dialect for MysqlDialect {
    type Backend = Mysql;
    type Connection = MysqlConnection;

    const NAME: &'static str = "MySQL";
    const KEY: &'static str = "mysql";
    const URL_SCHEMES: &'static [&'static str] = &["mysql", "mariadb"];
    const CAPABILITIES: Capabilities = Capabilities {
        // MySQL has none; MariaDB 10.5+ has (see `refine`).
        insert_returning: false,
        // The prepared-statement protocol counts parameters in 16 bits.
        max_bind_params: 65_535,
        upsert: UpsertForm::OnDuplicateKey,
        transactional_ddl: false,
        check_constraints: true,
        null_binds: true,
        current_read: " LOCK IN SHARE MODE",
        refresh_statistics: None,
        char_length: "CHAR_LENGTH",
        batches_per_commit: 1,
        replication: Replication::CausalReads,
        socket_bounds_by_driver: false,
    };
    const BIGINT_CAST: &'static str = "SIGNED";
    const TEXT_CAST: &'static str = "CHAR";
    const TEST_URL_ENV: Option<&'static str> = Some("TRIGLOT_TEST_MYSQL_URL");
    const TEST_URL_DEFAULT: &'static str = "mysql://root@127.0.0.1:3306/test";
    const START_HINT: &'static str = "Start MariaDB with `bash scripts/services.sh` (or `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`).";

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
        caps.insert_returning = server.is_mariadb() && server.at_least(10, 5, 0);
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn causal_reads(conn: &mut MysqlConnection) -> QueryResult<()> {
        crate::galera::causal_reads(conn)
    }

    fn server_session(conn: &mut MysqlConnection) -> QueryResult<ServerSession> {
        crate::session::server_session(conn)
    }

    fn end_session(conn: &mut MysqlConnection, who: &SessionIdentity) -> QueryResult<bool> {
        crate::session::end_session(conn, who)
    }

    fn introspect(conn: &mut MysqlConnection) -> QueryResult<SchemaSnapshot> {
        crate::introspect::snapshot(conn)
    }

    fn bulk_insert_values(
        conn: &mut MysqlConnection,
        caps: &Capabilities,
        table: &str,
        columns: &[String],
        rows: &[Vec<SqlValue>],
    ) -> QueryResult<usize> {
        triglot_core::values::insert_rows(conn, caps, table, columns, rows)
    }

    fn upsert_values(
        conn: &mut MysqlConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
    ) -> QueryResult<usize> {
        upsert.execute(conn, caps)
    }

    fn upsert_values_returning(
        conn: &mut MysqlConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
        id: &str,
    ) -> QueryResult<Option<Vec<triglot_core::values::KeyId>>> {
        if caps.insert_returning {
            upsert.returning::<Self>(conn, caps, id).map(Some)
        } else {
            Self::upsert_values(conn, caps, upsert).map(|_| None)
        }
    }

    fn last_insert_id(conn: &mut MysqlConnection) -> QueryResult<i64> {
        crate::last_insert_id::last_insert_id(conn)
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
