//! Running a write transaction again after a retryable failure: bounded
//! attempts, exponential backoff with full jitter.
//!
//! Retryable means the server may accept the same transaction a moment later:
//! SQLite busy or locked, a serialization failure, a deadlock, a MySQL lock
//! wait timeout ([`Error::is_retryable`]). Each attempt is a whole
//! transaction: a failure rolls it back entirely (on MySQL a lock wait
//! timeout by itself rolls back only the statement; diesel's transaction
//! rolls back the rest before the next attempt).
//!
//! Full jitter (a wait drawn uniformly between zero and the exponential
//! bound) keeps writers that collided from colliding again on the same
//! schedule.
//!
//! A lost connection is retried too when the policy allows it
//! ([`RetryPolicy::reconnect_for`]): the server rolled the transaction back,
//! the pool drops every connection opened before the loss, and the call is
//! made again until the server answers or the time is up. That is safe only
//! for a transaction that can run twice (an idempotent write): a connection
//! lost during COMMIT leaves it unknown whether the commit happened.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::result::QueryResult;

use crate::database::Database;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::health::Counters;

/// How a failed transaction is attempted again.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use triglot_core::RetryPolicy;
///
/// let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
/// assert!(policy.delay_before(2) <= Duration::from_millis(20));
/// assert_eq!(policy.delay_before(1), Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; at least one is always made.
    pub max_attempts: u32,
    /// The bound of the wait before the second attempt; doubled for each
    /// further one.
    pub base_delay: Duration,
    /// The largest bound of a wait.
    pub max_delay: Duration,
    /// How long, from the first lost connection or failed checkout of a
    /// call, the call is made again while the server is unreachable
    /// ([`Error::is_connection_failure`](crate::Error::is_connection_failure));
    /// zero makes such a failure final. Each attempt also waits up to the
    /// pool's checkout timeout for a connection, so the last one may end
    /// that much later.
    pub reconnect_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(2),
            reconnect_for: Duration::ZERO,
        }
    }
}

impl RetryPolicy {
    /// A policy for transactions that can safely run twice: it also waits
    /// up to 60 s for a server that went away (a restart, a failover), and
    /// makes up to 12 attempts, since writers on different nodes of a
    /// multi-primary cluster (Galera) conflict at commit far more often
    /// than writers on one server, where 6 do (the scale-out suite's
    /// concurrent Galera ingests ran out of 6).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use triglot_core::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::through_restarts().reconnect_for, Duration::from_secs(60));
    /// assert_eq!(RetryPolicy::default().reconnect_for, Duration::ZERO);
    /// ```
    pub fn through_restarts() -> Self {
        Self { max_attempts: 12, reconnect_for: Duration::from_secs(60), ..Self::default() }
    }

    /// The bound of the wait before attempt `attempt` (from 1): zero for
    /// the first, then `base_delay × 2^(attempt − 2)`, at most `max_delay`.
    pub fn bound_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        self.base_delay.saturating_mul(1 << (attempt - 2).min(20)).min(self.max_delay)
    }

    /// A wait drawn uniformly from `0..=bound_before(attempt)` (full jitter).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        let bound = self.bound_before(attempt).as_nanos() as u64;
        if bound == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random() % (bound + 1))
    }
}

/// What a retried call returned, and how many attempts it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempted<T> {
    /// The value of the attempt that succeeded.
    pub value: T,
    /// Attempts made, the successful one included (1 when nothing was retried).
    pub attempts: u32,
}

/// Calls `attempt` (with its number, from 1) until it succeeds, fails with an
/// error that is not retryable, or `policy.max_attempts` are made; sleeps
/// [`RetryPolicy::delay_before`] between attempts. Connection failures are
/// retried for [`RetryPolicy::reconnect_for`] and do not count against
/// `max_attempts`.
///
/// # Errors
///
/// The last attempt's error.
///
/// # Example
///
/// ```
/// use triglot_core::{RetryPolicy, retry};
///
/// let done = retry(&RetryPolicy::default(), |attempt| Ok::<_, triglot_core::Error>(attempt * 10))?;
/// assert_eq!((done.value, done.attempts), (10, 1));
/// # Ok::<(), triglot_core::Error>(())
/// ```
pub fn retry<T>(
    policy: &RetryPolicy,
    mut attempt: impl FnMut(u32) -> Result<T>,
) -> Result<Attempted<T>> {
    retry_counted(policy, None, &mut attempt)
}

fn retry_counted<T>(
    policy: &RetryPolicy,
    counters: Option<&Counters>,
    attempt: &mut dyn FnMut(u32) -> Result<T>,
) -> Result<Attempted<T>> {
    let mut n = 1;
    let mut conflicts = 0;
    let mut reconnects = 0;
    let mut unreachable_since: Option<Instant> = None;
    loop {
        let err = match attempt(n) {
            Ok(value) => return Ok(Attempted { value, attempts: n }),
            Err(err) => err,
        };
        let delay = if err.is_retryable() && conflicts + 1 < policy.max_attempts.max(1) {
            conflicts += 1;
            policy.delay_before(conflicts + 1)
        } else if err.is_connection_failure()
            && unreachable_since.get_or_insert_with(Instant::now).elapsed() < policy.reconnect_for
        {
            reconnects += 1;
            policy.delay_before((reconnects + 1).min(12))
        } else {
            if n > 1 {
                tracing::warn!(attempts = n, "giving up: {err}");
            }
            return Err(err);
        };
        tracing::info!(attempt = n, next_in = ?delay, "retrying after a transient failure: {err}");
        if let Some(counters) = counters {
            Counters::bump(&counters.retries);
        }
        std::thread::sleep(delay);
        n += 1;
    }
}

impl<D: Dialect> Database<D> {
    /// Runs `f` in the dialect's write transaction, again and again under
    /// `policy` while it fails with a retryable error; retries are counted in
    /// [`Database::health`].
    ///
    /// `f` runs once per attempt, each time in a fresh transaction, so it
    /// must compute everything it writes inside (or from data it only reads).
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`](crate::Error::PoolTimeout), or the last attempt's classified failure.
    ///
    /// # Example
    ///
    /// ```
    /// use diesel::connection::SimpleConnection;
    /// use triglot_core::{Database, Dialect, RetryPolicy};
    ///
    /// fn bump<D: Dialect>(db: &Database<D>) -> triglot_core::Result<u32> {
    ///     let done = db.write_with_retry("bumping a counter", &RetryPolicy::default(), |conn| {
    ///         conn.batch_execute("UPDATE counters SET n = n + 1")
    ///     })?;
    ///     Ok(done.attempts)
    /// }
    /// ```
    pub fn write_with_retry<T>(
        &self,
        context: impl Into<Cow<'static, str>>,
        policy: &RetryPolicy,
        mut f: impl FnMut(&mut D::Connection) -> QueryResult<T>,
    ) -> Result<Attempted<T>> {
        let context = context.into();
        self.retry(policy, |_| self.write(context.clone(), &mut f))
    }

    /// Like [`retry`], counting the retries in [`Database::health`]: for a
    /// transaction that a caller runs itself (several statements, its own
    /// error context).
    ///
    /// # Errors
    ///
    /// The last attempt's error.
    pub fn retry<T>(
        &self,
        policy: &RetryPolicy,
        mut attempt: impl FnMut(u32) -> Result<T>,
    ) -> Result<Attempted<T>> {
        retry_counted(policy, Some(self.counters()), &mut attempt)
    }
}

/// 64 random bits, from the standard library's per-process random hash keys
/// and a counter (good enough for jitter, no dependency).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};

    fn lost() -> Error {
        Error::database(
            ErrorKind::ConnectionLost,
            "PostgreSQL",
            "postgres://127.0.0.1/db",
            "writing",
            diesel::result::Error::NotFound,
            str::to_owned,
        )
    }

    fn busy() -> Error {
        Error::database(
            ErrorKind::Retryable,
            "SQLite",
            "t.db",
            "writing",
            diesel::result::Error::NotFound,
            str::to_owned,
        )
    }

    #[test]
    fn retryable_errors_are_retried_until_success_and_attempts_reported() -> Result<()> {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_micros(10),
            ..RetryPolicy::default()
        };
        let done = retry(&policy, |n| if n < 3 { Err(busy()) } else { Ok("written") })?;
        assert_eq!((done.value, done.attempts), ("written", 3));
        let mut calls = 0;
        let err = retry(&policy, |_| -> Result<()> {
            calls += 1;
            Err(busy())
        });
        assert!(err.is_err_and(|e| e.is_retryable()));
        assert_eq!(calls, 5, "attempts are bounded");
        Ok(())
    }

    #[test]
    fn bounds_double_up_to_the_maximum() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        };
        let bounds: Vec<u64> = (1..=6).map(|n| policy.bound_before(n).as_millis() as u64).collect();
        assert_eq!(bounds, [0, 10, 20, 40, 50, 50]);
    }

    #[test]
    fn jittered_delays_stay_within_the_bound_and_spread() {
        let policy = RetryPolicy::default();
        let delays: Vec<Duration> = (0..200).map(|_| policy.delay_before(4)).collect();
        assert!(delays.iter().all(|d| *d <= policy.bound_before(4)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "full jitter spreads the waits: {}", distinct.len());
    }

    #[test]
    fn only_retryable_errors_are_retried_and_attempts_are_bounded() {
        let policy =
            RetryPolicy { max_attempts: 3, base_delay: Duration::ZERO, ..RetryPolicy::default() };
        let not_retryable = || Error::InvalidUrl { url: String::new(), reason: String::new() };
        let mut calls = 0;
        let err = retry(&policy, |_| -> Result<()> {
            calls += 1;
            Err(not_retryable())
        });
        assert!(err.is_err());
        assert_eq!(calls, 1);
    }

    #[test]
    fn lost_connections_are_final_unless_the_policy_waits_for_the_server() {
        let policy = RetryPolicy { base_delay: Duration::ZERO, ..RetryPolicy::default() };
        let mut calls = 0;
        let err = retry(&policy, |_| -> Result<()> {
            calls += 1;
            Err(lost())
        });
        assert!(err.is_err_and(|e| e.is_connection_failure()));
        assert_eq!(calls, 1, "the default policy does not run a transaction twice after a loss");

        let waiting = RetryPolicy {
            base_delay: Duration::from_micros(10),
            max_delay: Duration::from_millis(1),
            max_attempts: 2,
            reconnect_for: Duration::from_secs(30),
        };
        // More losses than max_attempts: they are bounded by time, not count.
        let done = retry(&waiting, |n| if n < 8 { Err(lost()) } else { Ok(n) }).map(|d| d.attempts);
        assert_eq!(done.ok(), Some(8));
    }

    #[test]
    fn the_wait_for_a_lost_server_ends_when_its_time_is_up() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            reconnect_for: Duration::from_millis(60),
            ..RetryPolicy::default()
        };
        let started = Instant::now();
        let mut calls = 0;
        let err = retry(&policy, |_| -> Result<()> {
            calls += 1;
            Err(lost())
        });
        assert!(err.is_err_and(|e| e.is_connection_failure()));
        assert!(calls > 1, "retried while the time lasted");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(60), "gave up early: {took:?}");
        assert!(took < Duration::from_secs(5), "the wait is bounded: {took:?}");
    }
}
