//! The TCP socket under a server connection: found by its ports, and bounded.
//!
//! Neither diesel nor the C drivers hand out a connection's socket, and
//! libmysqlclient has no option, reachable through diesel, for keepalive or
//! a TCP user timeout. The server tells the session's ports
//! ([`Dialect::server_session`](crate::Dialect::server_session)); this module
//! finds the one socket of this process with that local and peer port, so
//! the pool can set those bounds itself and watch its statements
//! ([`PoolConfig::stuck_statement`](crate::PoolConfig::stuck_statement)).
//! Through a proxy or NAT the ports do not match, no socket is found, and
//! the connection keeps the kernel's defaults, with a debug line saying so.
#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

/// Unacknowledged data or keepalive probes for this long close the
/// connection. The same bound as the `tcp_user_timeout` triglot gives
/// libpq.
pub const USER_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle time before the first keepalive probe, the time between probes, and
/// the probes left unanswered before the kernel gives up: libpq's
/// `keepalives_idle`, `keepalives_interval` and `keepalives_count`.
pub const KEEPALIVE: (Duration, Duration, u32) =
    (Duration::from_secs(30), Duration::from_secs(10), 3);

/// A session's TCP ports as its server sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPorts {
    /// The client's port: the local port of this process's socket.
    pub client: u16,
    /// The port the server listens on: the socket's peer port.
    pub server: u16,
}

/// The descriptor of this process's one TCP socket with these local and
/// peer ports; `None` when there is none, or more than one (connections to
/// servers on several hosts may share both ports), since acting on the
/// wrong socket would cut another connection.
///
/// # Example
///
/// ```
/// use triglot_core::socket::{SessionPorts, socket_of};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let server = listener.local_addr().unwrap().port();
/// let client = std::net::TcpStream::connect(("127.0.0.1", server)).unwrap();
/// let ports = SessionPorts { client: client.local_addr().unwrap().port(), server };
/// assert!(socket_of(ports).is_some());
/// ```
#[must_use]
pub fn socket_of(ports: SessionPorts) -> Option<RawFd> {
    let mut found = std::fs::read_dir("/proc/self/fd").ok()?.flatten().filter_map(|entry| {
        let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
        (port_of(fd, libc::getsockname) == Some(ports.client)
            && port_of(fd, libc::getpeername) == Some(ports.server))
        .then_some(fd)
    });
    let fd = found.next()?;
    found.next().is_none().then_some(fd)
}

/// Sets keepalive ([`KEEPALIVE`]) and the user timeout ([`USER_TIMEOUT`])
/// on `fd`, a connection's socket; a refusal is logged, and the connection
/// keeps the kernel's defaults.
pub(crate) fn bound(fd: RawFd) {
    // SAFETY: `fd` is the socket of a connection being set up by the caller,
    // open while this runs.
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
}

type NameFn =
    unsafe extern "C" fn(libc::c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;

/// The port of `fd`'s local (`getsockname`) or peer (`getpeername`)
/// address, if it is an IP socket.
fn port_of(fd: RawFd, name: NameFn) -> Option<u16> {
    // SAFETY: the call only writes up to `len` bytes into `addr`; a
    // descriptor closed or reused meanwhile makes it fail (EBADF, ENOTSOCK)
    // or answer for another of this process's sockets, which the port match
    // then rejects.
    let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    if unsafe { name(fd, (&raw mut addr).cast(), &mut len) } != 0 {
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
    fn a_socket_is_found_by_its_local_and_peer_port_and_bounded() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", server)).unwrap();
        let ports = SessionPorts { client: client.local_addr().unwrap().port(), server };
        let fd = socket_of(ports).expect("the client's descriptor");
        assert_eq!(port_of(fd, libc::getsockname), Some(ports.client));
        // The accepted end has the same two ports the other way round.
        let (accepted, _) = listener.accept().unwrap();
        let reversed = SessionPorts { client: server, server: ports.client };
        assert_eq!(socket_of(reversed), Some(std::os::fd::AsRawFd::as_raw_fd(&accepted)));
        assert_eq!(socket_of(SessionPorts { client: ports.client, server: 1 }), None);
        bound(fd);
        let socket = SockRef::from(&client);
        assert_eq!(socket.tcp_user_timeout().unwrap(), Some(USER_TIMEOUT));
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), KEEPALIVE.0);
        assert_eq!(socket.tcp_keepalive_interval().unwrap(), KEEPALIVE.1);
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), KEEPALIVE.2);
    }
}
