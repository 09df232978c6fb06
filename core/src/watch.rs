//! Statements that never get an answer: their connection is cut.
//!
//! A Galera node once aborted a session for a conflicting write set and
//! never answered it ("Killed" in its process list for minutes), and a
//! PostgreSQL connection once waited for ever for the answer to a statement
//! sent just before a silent network came back, while each connection
//! stayed open and acknowledged. Both C drivers then wait in `poll` with no
//! time limit: libmysqlclient when no read timeout was set before
//! connecting, which diesel gives no way to do; libpq always, for a result
//! (keepalive and the TCP user timeout do not end it, since nothing is
//! unacknowledged), and `SO_RCVTIMEO` does not reach that `poll`. So one
//! thread of this process checks every second the statements that have
//! waited past their connection's limit
//! ([`PoolConfig::stuck_statement`](crate::PoolConfig::stuck_statement)),
//! and shuts their socket down: the waiting call fails as a lost
//! connection, which the caller's retry runs again on a fresh connection.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use socket2::SockRef;

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

fn watched() -> MutexGuard<'static, HashMap<u64, Watched>> {
    WATCHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The watch on one connection's statements, held by its instrumentation
/// and dropped with the connection.
pub(crate) struct StatementWatch {
    id: u64,
}

impl StatementWatch {
    /// Watches the statements of the connection whose socket is `fd`.
    pub(crate) fn new(fd: RawFd, limit: Duration) -> Self {
        WATCHMAN.call_once(|| {
            let started =
                std::thread::Builder::new().name("triglot-statement-watch".to_owned()).spawn(
                    || loop {
                        std::thread::sleep(Duration::from_secs(1));
                        cut_stuck();
                    },
                );
            if let Err(e) = started {
                tracing::warn!("cannot start the thread that cuts stuck statements: {e}");
            }
        });
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        watched().insert(id, Watched { fd, limit, since: None });
        Self { id }
    }

    /// A statement was sent.
    pub(crate) fn started(&mut self) {
        if let Some(w) = watched().get_mut(&self.id) {
            w.since = Some(Instant::now());
        }
    }

    /// Its answer arrived (or it failed).
    pub(crate) fn finished(&mut self) {
        if let Some(w) = watched().get_mut(&self.id) {
            w.since = None;
        }
    }
}

impl Drop for StatementWatch {
    fn drop(&mut self) {
        watched().remove(&self.id);
    }
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
            tracing::warn!(waited = ?w.limit, "cut the connection of a statement with no answer");
            w.since = None;
        }
    }
}
