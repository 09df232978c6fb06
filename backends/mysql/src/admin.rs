//! Scratch MySQL databases (tests, the parity check): `CREATE DATABASE`
//! utf8mb4 with the binary collation, dropped afterwards.

use crate::connection::MysqlConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use triglot_core::testing::checked_name;
use triglot_core::{DatabaseUrl, Error, Result};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// A connection to the server database of `server_url`, and that URL parsed.
fn admin(server_url: &str) -> Result<(MysqlConnection, url::Url, DatabaseUrl)> {
    let server = DatabaseUrl::parse(server_url)?;
    let target = crate::session::connect_target(&server)?.connection_string;
    let conn = MysqlConnection::establish(&target).map_err(|e| failure(&server, e.to_string()))?;
    let url = url::Url::parse(&target).map_err(|e| failure(&server, e.to_string()))?;
    Ok((conn, url, server))
}

fn failure(server: &DatabaseUrl, reason: String) -> Error {
    Error::Open { backend: "MySQL", url: server.to_string(), reason: server.scrub(&reason) }
}

pub(crate) fn create_database(server_url: &str, name: &str) -> Result<String> {
    let (mut conn, mut url, server) = admin(server_url)?;
    conn.batch_execute(&format!(
        "CREATE DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        checked_name(name)?
    ))
    .map_err(|e| failure(&server, e.to_string()))?;
    url.set_path(name);
    Ok(url.to_string())
}

pub(crate) fn list_databases(server_url: &str, prefix: &str) -> Result<Vec<String>> {
    let (mut conn, _, server) = admin(server_url)?;
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let names: Vec<Name> = diesel::sql_query(
        "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata WHERE schema_name LIKE ?",
    )
    .bind::<Text, _>(pattern)
    .load(&mut conn)
    .map_err(|e| failure(&server, e.to_string()))?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

pub(crate) fn drop_database(server_url: &str, name: &str) -> Result<()> {
    let (mut conn, _, server) = admin(server_url)?;
    conn.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", checked_name(name)?))
        .map_err(|e| failure(&server, e.to_string()))
}
