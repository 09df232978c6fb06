//! Statements that never get an answer: their connection is cut.
//!
//! A Galera node once aborted a session for a conflicting write set and
//! never answered it ("Killed" in its process list for minutes), while the
//! connection stayed open and acknowledged. libmysqlclient (MariaDB's
//! Connector/C) waits for a result in `poll` with no time limit when no
//! read timeout was set before connecting, which diesel gives no way to
//! do; `SO_RCVTIMEO` on the socket does not reach that `poll`. So one
//! thread of this process checks every second the statements that have
//! been waiting past their connection's limit, and shuts their socket
//! down: the waiting call then fails as a lost connection, which the
//! caller's retry runs again on a fresh connection.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, Once};
use std::time::{Duration, Instant};

use diesel::mysql::MysqlConnection;
use diesel::result::QueryResult;
use socket2::SockRef;
use triglot_core::StatementWatch;

/// A watched connection: its socket, its limit and since when its
/// statement has waited.
struct Watched {
    fd: RawFd,
    limit: Duration,
    since: Option<Instant>,
}

static WATCHED: LazyLock<Mutex<HashMap<u64, Watched>>> = LazyLock::new(Default::default);
static NEXT: AtomicU64 = AtomicU64::new(0);
static WATCHMAN: Once = Once::new();

fn watched() -> std::sync::MutexGuard<'static, HashMap<u64, Watched>> {
    WATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Watches `conn`'s statements, when it is a TCP connection this process
/// can find (a Unix socket's server is on this machine, and is not watched).
pub(crate) fn watch(
    conn: &mut MysqlConnection,
    limit: Duration,
) -> QueryResult<Option<Box<dyn StatementWatch>>> {
    let Some(port) = crate::socket::session_client_port(conn)? else {
        return Ok(None);
    };
    let Some(fd) = crate::socket::socket_with_local_port(port) else {
        return Ok(None);
    };
    WATCHMAN.call_once(|| {
        let started =
            std::thread::Builder::new().name("triglot-mysql-watch".to_owned()).spawn(|| {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    cut_stuck();
                }
            });
        if let Err(e) = started {
            tracing::warn!("cannot start the thread that cuts stuck MySQL statements: {e}");
        }
    });
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    watched().insert(id, Watched { fd, limit, since: None });
    Ok(Some(Box::new(Watch { id })))
}

/// Shuts down the socket of every statement waiting past its limit.
fn cut_stuck() {
    for w in watched().values_mut() {
        if w.since.is_some_and(|since| since.elapsed() >= w.limit) {
            // SAFETY: the entry lives while its connection does (the watch
            // is dropped with the connection's instrumentation), and a
            // statement is waiting on the socket now, so it is open.
            let fd = unsafe { BorrowedFd::borrow_raw(w.fd) };
            let _ = SockRef::from(&fd).shutdown(std::net::Shutdown::Both);
            tracing::warn!(waited = ?w.limit, "cut the connection of a MySQL statement with no answer");
            w.since = None;
        }
    }
}

/// The handle a connection's instrumentation holds.
struct Watch {
    id: u64,
}

impl StatementWatch for Watch {
    fn started(&mut self) {
        if let Some(w) = watched().get_mut(&self.id) {
            w.since = Some(Instant::now());
        }
    }

    fn finished(&mut self) {
        if let Some(w) = watched().get_mut(&self.id) {
            w.since = None;
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        watched().remove(&self.id);
    }
}
