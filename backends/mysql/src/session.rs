//! URLs and the per-connection session setup of MySQL.

use crate::connection::MysqlConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use triglot_core::socket::SessionPorts;
use triglot_core::{
    ConnectTarget, DatabaseUrl, Error, ServerSession, ServerVersion, SessionIdentity,
};

/// The `sql_mode` every pooled connection runs with.
pub(crate) const SQL_MODE: &str = "STRICT_ALL_TABLES,STRICT_TRANS_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,\
ERROR_FOR_DIVISION_BY_ZERO,ONLY_FULL_GROUP_BY,NO_ENGINE_SUBSTITUTION";

pub(crate) fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
    // diesel only knows mysql://; mariadb:// is the same protocol.
    let connection_string = format!("mysql://{}", url.rest());
    let parsed = url::Url::parse(&connection_string)
        .map_err(|e| Error::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
    if parsed.path().trim_start_matches('/').is_empty() {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: "no database name: use mysql://USER@HOST/DATABASE".into(),
        });
    }
    Ok(ConnectTarget { connection_string, display: url.to_string(), private_per_connection: false })
}

pub(crate) fn on_acquire(conn: &mut MysqlConnection) -> QueryResult<()> {
    // The connection itself sets the UTC time zone and the utf8mb4
    // character sets when it connects (`connection/mod.rs`).
    conn.batch_execute(&format!("SET SESSION sql_mode = '{SQL_MODE}'"))
}

/// The session's `CONNECTION_ID()` with its `HOST` (the client's address
/// and port: `127.0.0.1:53122`) as its identity, and the client's and the
/// server's ports. Both `None` over a Unix socket, whose host
/// (`localhost`) neither names a socket nor tells one session from a
/// later one with the same number.
pub(crate) fn server_session(conn: &mut MysqlConnection) -> QueryResult<ServerSession> {
    let (id, host, server): (i64, Option<String>, i32) = diesel::select((
        diesel::dsl::sql::<BigInt>("CAST(CONNECTION_ID() AS SIGNED)"),
        diesel::dsl::sql::<Nullable<Text>>(
            "(SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID())",
        ),
        diesel::dsl::sql::<Integer>("@@port"),
    ))
    .get_result(conn)?;
    let Some((host, client)) = host.and_then(|h| client_port(&h).map(|port| (h, port))) else {
        return Ok(ServerSession::default());
    };
    Ok(ServerSession {
        identity: Some(SessionIdentity { id, mark: host }),
        ports: u16::try_from(server).ok().map(|server| SessionPorts { client, server }),
    })
}

/// `KILL`s the session `who` if the server still has it from the same
/// client address and port.
pub(crate) fn end_session(conn: &mut MysqlConnection, who: &SessionIdentity) -> QueryResult<bool> {
    let there: i64 = diesel::select(
        diesel::dsl::sql::<BigInt>(&format!(
            "(SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {} AND HOST = ",
            who.id
        ))
        .bind::<Text, _>(&who.mark)
        .sql(")"),
    )
    .get_result(conn)?;
    if there == 0 {
        return Ok(false);
    }
    match conn.batch_execute(&format!("KILL CONNECTION {}", who.id)) {
        // It ended between the look and the KILL (1094).
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().starts_with("Unknown thread id") =>
        {
            Ok(false)
        }
        other => other.map(|()| true),
    }
}

/// The port of `HOST` as `PROCESSLIST` shows it (`127.0.0.1:53122`,
/// `[::1]:53122`), or `None` for a Unix socket (`localhost`).
fn client_port(host: &str) -> Option<u16> {
    let (_, port) = host.rsplit_once(':')?;
    port.parse().ok()
}

pub(crate) fn server_version(conn: &mut MysqlConnection) -> QueryResult<ServerVersion> {
    let text: String = diesel::select(diesel::dsl::sql::<Text>("VERSION()")).get_result(conn)?;
    Ok(ServerVersion::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_scheme_becomes_mysql_for_the_driver() -> triglot_core::Result<()> {
        let target = connect_target(&DatabaseUrl::parse("mariadb://root:pw@127.0.0.1/test")?)?;
        // Compared without printing: the driver's string holds the password.
        assert!(
            target.connection_string == "mysql://root:pw@127.0.0.1/test",
            "{}",
            triglot_core::redact(&target.connection_string)
        );
        assert!(!target.display.contains(":pw@"), "the display shows the password");
        assert_eq!(target.display, "mariadb://root:***@127.0.0.1/test");
        Ok(())
    }

    #[test]
    fn the_client_port_is_read_from_the_processlist_host() {
        assert_eq!(client_port("127.0.0.1:53122"), Some(53122));
        assert_eq!(client_port("[::1]:40000"), Some(40000));
        assert_eq!(client_port("localhost"), None);
    }

    #[test]
    fn url_without_database_is_refused() {
        let err =
            connect_target(&DatabaseUrl::parse("mysql://root@127.0.0.1").unwrap()).unwrap_err();
        assert!(err.to_string().contains("no database name"), "{err}");
    }
}
