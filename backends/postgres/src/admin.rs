//! Scratch PostgreSQL databases (tests, the parity check): each a copy of a
//! template database migrated with the caller's set, dropped afterwards.
//!
//! Copying the template (`CREATE DATABASE … TEMPLATE`) replaces running the
//! migrations in every test. A template is named after the fingerprint of
//! the set's files (`tg_template_<16 hex digits>`), so two sets never share
//! one and a changed set gets a new one; it is built once under an advisory
//! lock (several test processes may start together). Templates of other sets
//! are left alone: another process may be copying them.

use crate::connection::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use triglot_core::diesel_migrations::MigrationHarness;
use triglot_core::testing::{checked_name, database_name};
use triglot_core::{DatabaseUrl, Error, Result, SetSource};

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

/// Builds the template `template` from `migrations` if it is missing.
fn ensure_template(
    conn: &mut PgConnection,
    url: &url::Url,
    server: &DatabaseUrl,
    template: &str,
    migrations: SetSource<'_>,
) -> Result<()> {
    let fail = |e: diesel::result::Error| failure(server, e.to_string());
    if names(conn, template).map_err(fail)?.len() == 1 {
        return Ok(());
    }
    conn.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).map_err(fail)?;
    let built = (|| {
        if names(conn, template).map_err(fail)?.len() == 1 {
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
            crate::session::on_acquire(&mut target).map_err(fail)?;
            target
                .run_pending_migrations(migrations)
                .map_err(|e| failure(server, format!("migrating the test template: {e}")))?;
        }
        conn.batch_execute(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""))
            .map_err(fail)
    })();
    let unlocked =
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).map_err(fail);
    built.and(unlocked)
}

pub(crate) fn create_database(server_url: &str, name: &str) -> Result<String> {
    let (mut conn, url, server) = admin(server_url)?;
    conn.batch_execute(&format!(
        "CREATE DATABASE \"{}\" ENCODING 'UTF8' TEMPLATE template0",
        checked_name(name)?
    ))
    .map_err(|e| failure(&server, e.to_string()))?;
    Ok(url_of(url, name))
}

/// Creates `name` as a copy of the template of the set with `fingerprint`,
/// built from `migrations` first if it is missing.
pub(crate) fn create_migrated(
    server_url: &str,
    name: &str,
    fingerprint: u64,
    migrations: SetSource<'_>,
) -> Result<Option<String>> {
    let template = format!("tg_template_{fingerprint:016x}");
    let (mut conn, url, server) = admin(server_url)?;
    ensure_template(&mut conn, &url, &server, &template, migrations)?;
    conn.batch_execute(&format!(
        "CREATE DATABASE \"{}\" TEMPLATE \"{template}\"",
        checked_name(name)?
    ))
    .map_err(|e| failure(&server, e.to_string()))?;
    Ok(Some(url_of(url, name)))
}

pub(crate) fn list_databases(server_url: &str, prefix: &str) -> Result<Vec<String>> {
    let (mut conn, _, server) = admin(server_url)?;
    names(&mut conn, &format!("{}%", prefix.replace('_', "\\_")))
        .map_err(|e| failure(&server, e.to_string()))
}

pub(crate) fn drop_database(server_url: &str, name: &str) -> Result<()> {
    let (mut conn, _, server) = admin(server_url)?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", checked_name(name)?))
        .map_err(|e| failure(&server, e.to_string()))
}
