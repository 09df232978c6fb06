//! TCP keepalive and a TCP user timeout on a MySQL connection's socket.
//!
//! libpq takes `keepalives*` and `tcp_user_timeout` as connection
//! parameters; libmysqlclient has read and write timeouts instead, but diesel
//! gives no way to set them. Without either, a query waits for ever when the
//! network silently drops packets. So the socket gets the same bounds as a
//! PostgreSQL connection: data, or a keepalive probe, unacknowledged for
//! [`USER_TIMEOUT`] closes the connection, and the call waiting on it fails
//! as a lost connection, which the caller may retry.
//!
//! The socket is found by its local port, which the server reports for the
//! session in `information_schema.PROCESSLIST`. A connection over a Unix
//! socket has no port and needs no bound; one whose port the server sees
//! differently (through a proxy or NAT) keeps the kernel's defaults, with a
//! debug line saying so.
#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{Nullable, Text};
use socket2::{SockRef, TcpKeepalive};

/// Unacknowledged data or keepalive probes for this long close the
/// connection: libpq's `tcp_user_timeout` on PostgreSQL connections.
pub(crate) const USER_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle time before the first keepalive probe, the time between probes, and
/// the probes left unanswered before the kernel gives up: libpq's
/// `keepalives_idle`, `keepalives_interval` and `keepalives_count`.
pub(crate) const KEEPALIVE: (Duration, Duration, u32) =
    (Duration::from_secs(30), Duration::from_secs(10), 3);

/// Sets keepalive and the user timeout on the socket of `conn`, when it is
/// a TCP connection this process can find.
///
/// # Errors
///
/// The statement that asks the server for the session's client port.
pub(crate) fn bound_waits(conn: &mut MysqlConnection) -> QueryResult<()> {
    let Some(port) = session_client_port(conn)? else {
        return Ok(());
    };
    let Some(fd) = socket_with_local_port(port) else {
        tracing::debug!(port, "no socket of this process has the session's client port");
        return Ok(());
    };
    // SAFETY: `fd` is the socket of `conn`, which stays open while `conn` is
    // borrowed here.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let socket = SockRef::from(&fd);
    let (idle, interval, retries) = KEEPALIVE;
    let keepalive =
        TcpKeepalive::new().with_time(idle).with_interval(interval).with_retries(retries);
    if let Err(e) = socket
        .set_tcp_keepalive(&keepalive)
        .and_then(|()| socket.set_tcp_user_timeout(Some(USER_TIMEOUT)))
    {
        tracing::warn!("cannot set keepalive and the TCP user timeout: {e}");
    }
    Ok(())
}

/// The client port the server sees for `conn`'s session, `None` over a Unix
/// socket.
///
/// # Errors
///
/// The statement that asks the server.
pub(crate) fn session_client_port(conn: &mut MysqlConnection) -> QueryResult<Option<u16>> {
    let host: Option<String> = diesel::select(diesel::dsl::sql::<Nullable<Text>>(
        "(SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID())",
    ))
    .get_result(conn)?;
    Ok(host.as_deref().and_then(client_port))
}

/// The port of `HOST` as `PROCESSLIST` shows it (`127.0.0.1:53122`,
/// `[::1]:53122`), or `None` for a Unix socket (`localhost`).
fn client_port(host: &str) -> Option<u16> {
    let (_, port) = host.rsplit_once(':')?;
    port.parse().ok()
}

/// The descriptor of this process's TCP socket bound to local port `port`.
pub(crate) fn socket_with_local_port(port: u16) -> Option<RawFd> {
    std::fs::read_dir("/proc/self/fd").ok()?.flatten().find_map(|entry| {
        let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
        (local_port(fd) == Some(port)).then_some(fd)
    })
}

fn local_port(fd: RawFd) -> Option<u16> {
    // SAFETY: getsockname only writes up to `len` bytes into `addr`; a
    // descriptor closed or reused meanwhile makes it fail (EBADF, ENOTSOCK)
    // or answer for another of this process's sockets, which the port match
    // then rejects.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ok = unsafe { libc::getsockname(fd, (&raw mut addr).cast(), &mut len) } == 0;
    if !ok {
        return None;
    }
    let port = match libc::c_int::from(addr.ss_family) {
        // SAFETY: the family says which sockaddr the storage holds.
        libc::AF_INET => unsafe { (*(&raw const addr).cast::<libc::sockaddr_in>()).sin_port },
        libc::AF_INET6 => unsafe { (*(&raw const addr).cast::<libc::sockaddr_in6>()).sin6_port },
        _ => return None,
    };
    Some(u16::from_be(port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_port_is_read_from_the_processlist_host() {
        assert_eq!(client_port("127.0.0.1:53122"), Some(53122));
        assert_eq!(client_port("[::1]:40000"), Some(40000));
        assert_eq!(client_port("localhost"), None);
    }

    #[test]
    fn a_listening_socket_is_found_by_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let fd = socket_with_local_port(port).expect("the listener's descriptor");
        assert_eq!(local_port(fd), Some(port));
    }
}
