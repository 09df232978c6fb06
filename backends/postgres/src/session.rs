//! URLs, driver timeouts and the per-connection session setup of PostgreSQL.

use crate::connection::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use triglot_core::socket::{KEEPALIVE, SessionPorts, USER_TIMEOUT};
use triglot_core::{
    ConnectTarget, DatabaseUrl, Error, ServerSession, ServerVersion, SessionIdentity,
};

/// libpq parameters added when the URL does not set them, besides the
/// socket bounds.
const DEFAULT_PARAMS: [(&str, &str); 3] =
    [("connect_timeout", "10"), ("keepalives", "1"), ("application_name", "triglot")];

/// The bounds both ends of a session's socket get, as libpq's parameter,
/// the server's setting and their value: the ones triglot gives MySQL
/// sockets too.
fn socket_bounds() -> [(&'static str, &'static str, String); 4] {
    let (idle, interval, count) = KEEPALIVE;
    [
        ("keepalives_idle", "tcp_keepalives_idle", idle.as_secs().to_string()),
        ("keepalives_interval", "tcp_keepalives_interval", interval.as_secs().to_string()),
        ("keepalives_count", "tcp_keepalives_count", count.to_string()),
        ("tcp_user_timeout", "tcp_user_timeout", USER_TIMEOUT.as_millis().to_string()),
    ]
}

pub(crate) fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
    // Every connection of a `Database` is opened after its target is known.
    crate::openssl::keep_through_exit();
    let mut parsed = url::Url::parse(url.expose())
        .map_err(|e| Error::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
    let given: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let bounds = socket_bounds();
    let defaults = DEFAULT_PARAMS
        .into_iter()
        .chain(bounds.iter().map(|(param, _, value)| (*param, value.as_str())));
    {
        let mut query = parsed.query_pairs_mut();
        for (key, value) in defaults {
            if !given.iter().any(|k| k == key) {
                query.append_pair(key, value);
            }
        }
    }
    Ok(ConnectTarget {
        connection_string: parsed.to_string(),
        display: url.to_string(),
        private_per_connection: false,
    })
}

/// Gives the server's end of the session's socket the keepalive and TCP
/// user timeout of the client's end, where the server has none (the
/// connection itself sets UTC and UTF-8).
///
/// A client that gives up on a silent network closes its socket, but the
/// server hears nothing of it; without keepalive of its own, the server's
/// session waits for the client for hours, inside its transaction and
/// holding its locks, and the client's next attempt at the same rows waits
/// behind them (the silent-network scenario of `scripts/faults.sh`). The
/// settings a URL's `options` or the server's configuration give are kept:
/// only those whose source is still the built-in default are set, and only
/// those the server has (`tcp_user_timeout` from PostgreSQL 12).
pub(crate) fn on_acquire(conn: &mut PgConnection) -> QueryResult<()> {
    let values: Vec<String> =
        socket_bounds().iter().map(|(_, name, value)| format!("('{name}', '{value}')")).collect();
    conn.batch_execute(&format!(
        "SELECT set_config(name, d.value, false) FROM (VALUES {}) AS d (name, value) \
         JOIN pg_settings USING (name) WHERE source = 'default'",
        values.join(", ")
    ))
}

/// The session's backend pid with its `backend_start` as its identity,
/// and its client and server ports (`None` over a Unix socket).
pub(crate) fn server_session(conn: &mut PgConnection) -> QueryResult<ServerSession> {
    let (pid, start, client, server): (i32, Option<String>, Option<i32>, Option<i32>) =
        diesel::select((
            diesel::dsl::sql::<Integer>("pg_backend_pid()"),
            diesel::dsl::sql::<Nullable<Text>>(
                "(SELECT CAST(backend_start AS TEXT) FROM pg_stat_activity \
                 WHERE pid = pg_backend_pid())",
            ),
            diesel::dsl::sql::<Nullable<Integer>>("inet_client_port()"),
            diesel::dsl::sql::<Nullable<Integer>>("inet_server_port()"),
        ))
        .get_result(conn)?;
    let port = |p: Option<i32>| p.and_then(|p| u16::try_from(p).ok());
    Ok(ServerSession {
        identity: start.map(|mark| SessionIdentity { id: i64::from(pid), mark }),
        ports: port(client)
            .zip(port(server))
            .map(|(client, server)| SessionPorts { client, server }),
    })
}

/// Terminates the backend of `who` if the server still runs it, started
/// at the same moment.
pub(crate) fn end_session(conn: &mut PgConnection, who: &SessionIdentity) -> QueryResult<bool> {
    let ended: Vec<bool> = diesel::select(
        diesel::dsl::sql::<diesel::sql_types::Array<diesel::sql_types::Bool>>(
            "ARRAY(SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ",
        )
        .bind::<BigInt, _>(who.id)
        .sql(" AND CAST(backend_start AS TEXT) = ")
        .bind::<Text, _>(&who.mark)
        .sql(")"),
    )
    .get_result(conn)?;
    Ok(ended.contains(&true))
}

pub(crate) fn server_version(conn: &mut PgConnection) -> QueryResult<ServerVersion> {
    let text: String =
        diesel::select(diesel::dsl::sql::<Text>("current_setting('server_version')"))
            .get_result(conn)?;
    Ok(ServerVersion::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_timeouts_are_added_but_never_override_the_url() -> triglot_core::Result<()> {
        let url =
            DatabaseUrl::parse("postgres://u:pw@h/db?connect_timeout=3&application_name=etl")?;
        let target = connect_target(&url)?;
        let s = &target.connection_string;
        // Messages show the string redacted: the driver's holds the password.
        let shown = triglot_core::redact(s);
        assert!(s.contains("connect_timeout=3") && !s.contains("connect_timeout=10"), "{shown}");
        assert!(
            s.contains("application_name=etl") && !s.contains("application_name=triglot"),
            "{shown}"
        );
        assert!(
            s.contains("tcp_user_timeout=30000") && s.contains("keepalives_idle=30"),
            "{shown}"
        );
        assert!(!target.display.contains("pw"), "the display shows the password");
        Ok(())
    }
}
