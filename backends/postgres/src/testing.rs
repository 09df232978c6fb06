//! Isolated PostgreSQL databases for tests: each a copy of a migrated
//! template database, dropped afterwards.
//!
//! Copying the template (`CREATE DATABASE … TEMPLATE`) replaces running the
//! migrations in every test. The template is named after a hash of the
//! migration files, built once under an advisory lock (several test
//! processes may start together), and replaced when the migrations change.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use triglot_core::diesel_migrations::MigrationHarness;
use triglot_core::testing::{TestBackend, checked_name, database_name};
use triglot_core::{DatabaseUrl, Dialect, Error, Result};

use crate::PostgresDialect;

/// The migrated template for this build's migrations.
const TEMPLATE: &str = concat!("tg_template_", env!("TRIGLOT_MIGRATIONS_HASH"));
/// Serializes template builders across processes.
const TEMPLATE_LOCK: i64 = 0x0074_7269_676c_6f74;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A connection to the server database of `server_url`, and that URL parsed.
fn admin(server_url: &str) -> Result<(PgConnection, url::Url, DatabaseUrl)> {
    let server = DatabaseUrl::parse(server_url)?;
    let target = crate::session::connect_target(&server)?.connection_string;
    let conn = PgConnection::establish(&target).map_err(|e| failure(&server, e.to_string()))?;
    let url = url::Url::parse(&target).map_err(|e| failure(&server, e.to_string()))?;
    Ok((conn, url, server))
}

fn failure(server: &DatabaseUrl, reason: String) -> Error {
    Error::Open { backend: "PostgreSQL", url: server.to_string(), reason: server.scrub(&reason) }
}

fn names(conn: &mut PgConnection, pattern: &str) -> QueryResult<Vec<String>> {
    let rows: Vec<Name> =
        diesel::sql_query("SELECT datname::text AS name FROM pg_database WHERE datname LIKE $1")
            .bind::<Text, _>(pattern)
            .load(conn)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn url_of(mut url: url::Url, name: &str) -> String {
    url.set_path(name);
    url.to_string()
}

/// Builds the template if it is missing; drops templates of other migrations.
fn ensure_template(conn: &mut PgConnection, url: &url::Url, server: &DatabaseUrl) -> Result<()> {
    let fail = |e: diesel::result::Error| failure(server, e.to_string());
    if names(conn, TEMPLATE).map_err(fail)?.len() == 1 {
        return Ok(());
    }
    conn.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).map_err(fail)?;
    let built = (|| {
        if names(conn, TEMPLATE).map_err(fail)?.len() == 1 {
            return Ok(());
        }
        // A sweepable name while building: a killed build leaves nothing for good.
        let building = database_name("template_build");
        conn.batch_execute(&format!(
            "CREATE DATABASE \"{building}\" ENCODING 'UTF8' TEMPLATE template0"
        ))
        .map_err(fail)?;
        {
            let mut target = PgConnection::establish(&url_of(url.clone(), &building))
                .map_err(|e| failure(server, e.to_string()))?;
            PostgresDialect::on_acquire(&mut target).map_err(fail)?;
            target
                .run_pending_migrations(PostgresDialect::MIGRATIONS)
                .map_err(|e| failure(server, format!("migrating the test template: {e}")))?;
        }
        conn.batch_execute(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{TEMPLATE}\""))
            .map_err(fail)?;
        for stale in names(conn, "tg\\_template\\_%").map_err(fail)? {
            if stale != TEMPLATE {
                conn.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    checked_name(&stale)?
                ))
                .map_err(fail)?;
            }
        }
        Ok(())
    })();
    let unlocked =
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).map_err(fail);
    built.and(unlocked)
}

impl TestBackend for PostgresDialect {
    const FEATURE: &'static str = "postgres";
    const TEST_URL_ENV: Option<&'static str> = Some("TRIGLOT_TEST_POSTGRES_URL");
    const TEST_URL_DEFAULT: &'static str = "postgres://postgres@127.0.0.1:5432/test";
    const START_HINT: &'static str = "Start PostgreSQL with `bash scripts/services.sh` (or `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).";

    fn create_database(server_url: &str, name: &str) -> Result<String> {
        let (mut conn, url, server) = admin(server_url)?;
        conn.batch_execute(&format!(
            "CREATE DATABASE \"{}\" ENCODING 'UTF8' TEMPLATE template0",
            checked_name(name)?
        ))
        .map_err(|e| failure(&server, e.to_string()))?;
        Ok(url_of(url, name))
    }

    fn create_migrated(server_url: &str, name: &str) -> Result<Option<String>> {
        let (mut conn, url, server) = admin(server_url)?;
        ensure_template(&mut conn, &url, &server)?;
        conn.batch_execute(&format!(
            "CREATE DATABASE \"{}\" TEMPLATE \"{TEMPLATE}\"",
            checked_name(name)?
        ))
        .map_err(|e| failure(&server, e.to_string()))?;
        Ok(Some(url_of(url, name)))
    }

    fn list_databases(server_url: &str, prefix: &str) -> Result<Vec<String>> {
        let (mut conn, _, server) = admin(server_url)?;
        names(&mut conn, &format!("{}%", prefix.replace('_', "\\_")))
            .map_err(|e| failure(&server, e.to_string()))
    }

    fn drop_database(server_url: &str, name: &str) -> Result<()> {
        let (mut conn, _, server) = admin(server_url)?;
        conn.batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            checked_name(name)?
        ))
        .map_err(|e| failure(&server, e.to_string()))
    }
}
