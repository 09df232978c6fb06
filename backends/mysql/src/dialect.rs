//! `MysqlDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::mysql::{Mysql, MysqlConnection};
use diesel::result::QueryResult;
use triglot_core::introspect::SchemaSnapshot;
use triglot_core::values::SqlValue;
use triglot_core::{
    Capabilities, ConnectTarget, DatabaseUrl, Dialect, ErrorKind, Replication, ServerVersion,
    StatementWatch, UpsertForm,
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
        // MySQL has none. MariaDB 10.5+ has INSERT … RETURNING, but diesel's
        // MySQL connection finds no result metadata for it ("No metadata
        // exists"), so new ids come from LAST_INSERT_ID() on both.
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
    };
    const BIGINT_CAST: &'static str = "SIGNED";
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
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn causal_reads(conn: &mut MysqlConnection) -> QueryResult<()> {
        crate::galera::causal_reads(conn)
    }

    fn watch_statements(
        conn: &mut MysqlConnection,
        limit: std::time::Duration,
    ) -> QueryResult<Option<Box<dyn StatementWatch>>> {
        crate::watch::watch(conn, limit)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_connection_gets_keepalive_and_the_user_timeout() {
        use crate::socket;
        use diesel::prelude::*;
        use socket2::SockRef;
        use std::os::fd::BorrowedFd;
        let url = std::env::var("TRIGLOT_TEST_MYSQL_URL")
            .unwrap_or_else(|_| MysqlDialect::TEST_URL_DEFAULT.to_owned());
        let target =
            crate::session::connect_target(&triglot_core::DatabaseUrl::parse(&url).unwrap())
                .unwrap();
        let mut conn = MysqlConnection::establish(&target.connection_string).unwrap_or_else(|e| {
            panic!("the test server answers: {}", triglot_core::redact(&e.to_string()))
        });
        crate::socket::bound_waits(&mut conn).unwrap();
        let port = socket::session_client_port(&mut conn).unwrap().expect("a TCP connection");
        let fd = socket::socket_with_local_port(port).unwrap();
        #[allow(unsafe_code)]
        // SAFETY: the socket of `conn`, open for this whole test.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&fd);
        assert_eq!(socket.tcp_user_timeout().unwrap(), Some(socket::USER_TIMEOUT));
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), socket::KEEPALIVE.0);
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), socket::KEEPALIVE.2);
    }
    #[test]
    fn a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection() {
        use std::time::{Duration, Instant};
        let url = std::env::var("TRIGLOT_TEST_MYSQL_URL")
            .unwrap_or_else(|_| MysqlDialect::TEST_URL_DEFAULT.to_owned());
        let config = triglot_core::PoolConfig {
            stuck_statement: Some(Duration::from_secs(2)),
            ..triglot_core::PoolConfig::default()
        };
        let db = triglot_core::Database::<MysqlDialect>::open_with(&url, config).unwrap();
        let started = Instant::now();
        // The server answers nothing for 30 s: to the client, a stuck server.
        let err = db
            .run("waiting for an answer", |conn| {
                diesel::connection::SimpleConnection::batch_execute(conn, "DO SLEEP(30)")
            })
            .unwrap_err();
        let waited = started.elapsed();
        assert_eq!(err.kind(), Some(ErrorKind::ConnectionLost), "{err}");
        assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(10), "{waited:?}");
        // The pool goes on with a fresh connection.
        db.run("answering at once", |conn| {
            diesel::connection::SimpleConnection::batch_execute(conn, "DO 1")
        })
        .unwrap();
    }
}
