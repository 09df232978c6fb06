//! `PostgresDialect`: identity, capabilities and the wiring of this crate's parts.

use diesel::pg::Pg;

use crate::connection::PgConnection;
use diesel::result::QueryResult;
use triglot_core::introspect::{ForeignKey, SchemaSnapshot};
use triglot_core::values::SqlValue;
use triglot_core::{
    Capabilities, ConnectTarget, DatabaseUrl, DeferredKeyCheck, Dialect, ErrorKind,
    IndexDefinition, Migrations, ReplicaState, Replication, ServerSession, ServerVersion,
    SessionIdentity, UpsertForm,
};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    type Backend = Pg;
    type Connection = PgConnection;

    const NAME: &'static str = "PostgreSQL";
    const KEY: &'static str = "postgres";
    const URL_SCHEMES: &'static [&'static str] = &["postgres", "postgresql"];
    const CAPABILITIES: Capabilities = Capabilities {
        insert_returning: true,
        // The Bind message counts parameters in 16 bits.
        max_bind_params: 65_535,
        upsert: UpsertForm::OnConflict,
        transactional_ddl: true,
        check_constraints: true,
        null_binds: false,
        current_read: "",
        refresh_statistics: Some("ANALYZE "),
        char_length: "length",
        batches_per_commit: 1,
        replication: Replication::LogPosition,
        socket_bounds_by_driver: true,
    };
    const BIGINT_CAST: &'static str = "BIGINT";
    const TEXT_CAST: &'static str = "TEXT";
    const TEST_URL_ENV: Option<&'static str> = Some("TRIGLOT_TEST_POSTGRES_URL");
    const TEST_URL_DEFAULT: &'static str = "postgres://postgres@127.0.0.1:5432/test";
    const START_HINT: &'static str = "Start PostgreSQL with `bash scripts/services.sh` (or `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).";

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

    fn server_session(conn: &mut PgConnection) -> QueryResult<ServerSession> {
        crate::session::server_session(conn)
    }

    fn end_session(conn: &mut PgConnection, who: &SessionIdentity) -> QueryResult<bool> {
        crate::session::end_session(conn, who)
    }

    fn classify(err: &diesel::result::Error) -> ErrorKind {
        crate::error::classify(err)
    }

    fn log_position(conn: &mut PgConnection) -> QueryResult<u64> {
        crate::replication::log_position(conn)
    }

    fn replica_state(conn: &mut PgConnection) -> QueryResult<ReplicaState> {
        crate::replication::replica_state(conn)
    }

    fn introspect(conn: &mut PgConnection) -> QueryResult<SchemaSnapshot> {
        crate::introspect::snapshot(conn)
    }

    fn indexes_built_after_load(
        conn: &mut PgConnection,
        table: &str,
    ) -> QueryResult<Vec<IndexDefinition>> {
        crate::index_build::indexes_built_after_load(conn, table)
    }

    fn foreign_key_checked_after_load(
        conn: &mut PgConnection,
        table: &str,
        key: &ForeignKey,
    ) -> QueryResult<Option<DeferredKeyCheck>> {
        crate::key_check::foreign_key_checked_after_load(conn, table, key)
    }

    fn bulk_insert_values(
        conn: &mut PgConnection,
        _caps: &Capabilities,
        table: &str,
        columns: &[String],
        rows: &[Vec<SqlValue>],
    ) -> QueryResult<usize> {
        crate::copy_values::copy_values(conn, table, columns, rows)
    }

    fn upsert_values(
        conn: &mut PgConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
    ) -> QueryResult<usize> {
        crate::stage::upsert_values(conn, caps, upsert)
    }

    fn upsert_values_returning(
        conn: &mut PgConnection,
        caps: &Capabilities,
        upsert: &triglot_core::values::Upsert<'_>,
        id: &str,
    ) -> QueryResult<Option<Vec<triglot_core::values::KeyId>>> {
        crate::stage::upsert_values_returning::<Self>(conn, caps, upsert, id).map(Some)
    }

    fn create_database(server_url: &str, name: &str) -> triglot_core::Result<String> {
        crate::admin::create_database(server_url, name)
    }

    fn create_migrated(
        server_url: &str,
        name: &str,
        migrations: &Migrations,
    ) -> triglot_core::Result<Option<String>> {
        crate::admin::create_migrated(
            server_url,
            name,
            migrations.fingerprint::<Self>()?,
            migrations.source::<Self>()?,
        )
    }

    fn list_databases(server_url: &str, prefix: &str) -> triglot_core::Result<Vec<String>> {
        crate::admin::list_databases(server_url, prefix)
    }

    fn drop_database(server_url: &str, name: &str) -> triglot_core::Result<()> {
        crate::admin::drop_database(server_url, name)
    }
}
