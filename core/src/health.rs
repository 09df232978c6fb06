//! Health counters of a [`Database`](crate::Database), and the per-statement
//! timer that feeds them and logs slow statements.
//!
//! The counters are the numbers a health dashboard shows: statements run,
//! slow statements, failures, retries, connections lost and pool timeouts.
//! Each pooled connection carries a [`StatementTimer`] as its diesel
//! instrumentation, so every statement is counted and timed whoever runs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::error::ErrorKind;

/// A snapshot of a database's counters since it was opened.
///
/// # Example
///
/// ```
/// # fn show<D: triglot_core::Dialect>(db: &triglot_core::Database<D>) {
/// let health = db.health();
/// println!("{} statements, {} slow, {} retries", health.statements, health.slow_statements, health.retries);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    /// Statements the pooled connections finished, successful or not.
    pub statements: u64,
    /// Statements that took at least [`PoolConfig::slow_statement`](crate::PoolConfig::slow_statement).
    pub slow_statements: u64,
    /// Calls that failed with a classified database error.
    pub failures: u64,
    /// Attempts the retry helper made after a retryable failure.
    pub retries: u64,
    /// Failures classified as a lost connection.
    pub connections_lost: u64,
    /// Checkouts that found no free connection in time.
    pub pool_timeouts: u64,
    /// [`Database::read`](crate::Database::read)s served by a replica (on
    /// Galera: by the next node in turn).
    pub replica_reads: u64,
    /// Reads routed to replicas that the primary served, none being up,
    /// near enough or caught up in time.
    pub primary_reads: u64,
    /// Replicas passed over by a read: down, too far behind, or not caught up in time.
    pub replicas_skipped: u64,
    /// The largest replica lag a read saw, in milliseconds.
    pub replica_lag_max_ms: u64,
}

/// The live counters behind [`Health`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) statements: AtomicU64,
    pub(crate) slow_statements: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) connections_lost: AtomicU64,
    pub(crate) pool_timeouts: AtomicU64,
    pub(crate) replica_reads: AtomicU64,
    pub(crate) primary_reads: AtomicU64,
    pub(crate) replicas_skipped: AtomicU64,
    pub(crate) replica_lag_max_ms: AtomicU64,
    /// The [`moment`] of the latest lost connection; 0 for none.
    pub(crate) lost_at: AtomicU64,
}

/// Nanoseconds since the first call in this process, plus one (never 0): a
/// clock that fits an atomic, for comparing when things happened.
pub(crate) fn moment() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self, kind: ErrorKind) {
        Self::bump(&self.failures);
        if kind == ErrorKind::ConnectionLost {
            Self::bump(&self.connections_lost);
            self.lost_at.fetch_max(moment(), Ordering::Relaxed);
        }
    }

    pub(crate) fn saw_lag(&self, lag: Duration) {
        let ms = u64::try_from(lag.as_millis()).unwrap_or(u64::MAX);
        self.replica_lag_max_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// Whether a connection opened at `opened` (a [`moment`]) was open when a
    /// connection was lost: the server may have gone away under it too.
    pub(crate) fn opened_before_a_loss(&self, opened: u64) -> bool {
        opened <= self.lost_at.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> Health {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Health {
            statements: read(&self.statements),
            slow_statements: read(&self.slow_statements),
            failures: read(&self.failures),
            retries: read(&self.retries),
            connections_lost: read(&self.connections_lost),
            pool_timeouts: read(&self.pool_timeouts),
            replica_reads: read(&self.replica_reads),
            primary_reads: read(&self.primary_reads),
            replicas_skipped: read(&self.replicas_skipped),
            replica_lag_max_ms: read(&self.replica_lag_max_ms),
        }
    }
}

/// diesel instrumentation of one pooled connection: counts every statement
/// and logs those slower than the threshold at `warn`, with their SQL but
/// never their bind values.
///
/// Connection events are ignored: diesel passes them the connection URL,
/// password included.
pub(crate) struct StatementTimer {
    pub(crate) backend: &'static str,
    pub(crate) location: String,
    pub(crate) slow: Option<Duration>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) started: Option<Instant>,
    /// The watch on stuck statements, where the connection's socket was found.
    pub(crate) watch: Option<crate::watch::StatementWatch>,
}

impl Instrumentation for StatementTimer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.started = Some(Instant::now());
                if let Some(watch) = &mut self.watch {
                    watch.started();
                }
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                if let Some(watch) = &mut self.watch {
                    watch.finished();
                }
                Counters::bump(&self.counters.statements);
                let Some(started) = self.started.take() else { return };
                let elapsed = started.elapsed();
                if self.slow.is_some_and(|slow| elapsed >= slow) {
                    Counters::bump(&self.counters.slow_statements);
                    tracing::warn!(
                        backend = self.backend,
                        db = %self.location,
                        elapsed_ms = elapsed.as_millis() as u64,
                        failed = error.is_some(),
                        statement = %statement_text(&query.to_string()),
                        "slow statement"
                    );
                }
            }
            _ => {}
        }
    }
}

/// The SQL of a statement as diesel displays it, without the bind values
/// diesel appends (`… -- binds: [...]`): values can be personal data.
pub(crate) fn statement_text(displayed: &str) -> &str {
    match displayed.find(" -- binds: ") {
        Some(at) => &displayed[..at],
        None => displayed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_values_are_cut_from_a_logged_statement() {
        assert_eq!(
            statement_text("SELECT * FROM t WHERE pw = $1 -- binds: [\"s3cret\"]"),
            "SELECT * FROM t WHERE pw = $1"
        );
        assert_eq!(statement_text("COMMIT"), "COMMIT");
    }

    #[test]
    fn lost_connections_count_as_failures_too() {
        let counters = Counters::default();
        counters.failed(ErrorKind::ConnectionLost);
        counters.failed(ErrorKind::UniqueViolation);
        let health = counters.snapshot();
        assert_eq!((health.failures, health.connections_lost), (2, 1));
    }

    #[test]
    fn connections_opened_before_a_loss_are_suspect_and_later_ones_are_not() {
        let counters = Counters::default();
        let before = moment();
        assert!(!counters.opened_before_a_loss(before), "no loss yet");
        counters.failed(ErrorKind::ConnectionLost);
        let after = moment();
        assert!(counters.opened_before_a_loss(before));
        assert!(!counters.opened_before_a_loss(after));
    }
}
