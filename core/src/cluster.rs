//! Clusters: which servers a [`Database`](crate::Database) writes to and
//! reads from, and what it remembers of each.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::dialect::{Dialect, ReplicaState};
use crate::health::moment;
use crate::pool::DbPool;
use crate::url::DatabaseUrl;

/// The servers of one database: where writes go and where reads may go.
///
/// One URL in `writers` and none in `replicas` is a single server, what
/// [`Database::open`](crate::Database::open) opens. PostgreSQL takes one
/// writer (the primary) and any number of streaming replicas; a MariaDB
/// Galera cluster takes every node as a writer (writes go to one node at a
/// time and move to the next when it fails; reads go to each in turn) and
/// no replicas. [`Capabilities::replication`](crate::Capabilities::replication)
/// says which form a backend has.
///
/// # Example
///
/// ```
/// use triglot_core::Topology;
///
/// let cluster = Topology::primary("postgres://app@db1/shop").with_replica("postgres://app@db2/shop");
/// assert_eq!((cluster.writers.len(), cluster.replicas.len()), (1, 1));
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Topology {
    /// The URLs writes go to, in the order they are tried.
    pub writers: Vec<String>,
    /// The URLs of read replicas.
    pub replicas: Vec<String>,
}

impl Topology {
    /// One server (or a primary, before replicas are added).
    pub fn primary(url: &str) -> Self {
        Self { writers: vec![url.to_owned()], replicas: Vec::new() }
    }

    /// Adds a read replica.
    #[must_use]
    pub fn with_replica(mut self, url: &str) -> Self {
        self.replicas.push(url.to_owned());
        self
    }

    /// Adds a node that takes writes too (a Galera node).
    #[must_use]
    pub fn with_node(mut self, url: &str) -> Self {
        self.writers.push(url.to_owned());
        self
    }
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URLs may hold passwords.
        let shown = |urls: &[String]| -> Vec<String> {
            urls.iter().map(|u| crate::url::redact(u)).collect()
        };
        f.debug_struct("Topology")
            .field("writers", &shown(&self.writers))
            .field("replicas", &shown(&self.replicas))
            .finish()
    }
}

/// Where [`Database::read`](crate::Database::read) sends a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadRoute {
    /// To a replica that has every write committed before the read began
    /// (waiting up to [`ReadPolicy::catch_up_wait`] for one to replay that
    /// far), else to the primary; on Galera, to the next node with causal
    /// reads. The default.
    ReadYourWrites,
    /// To a replica no further behind than [`ReadPolicy::max_lag`], without
    /// waiting; it may miss the latest writes.
    BoundedStaleness,
    /// To the primary (the node written to, on Galera).
    Primary,
}

/// How reads choose a replica, and how long a failed server is left alone.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use triglot_core::ReadPolicy;
///
/// let policy = ReadPolicy { max_lag: Duration::from_millis(500), ..ReadPolicy::default() };
/// assert!(policy.catch_up_wait <= Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPolicy {
    /// Replicas further behind than this are skipped.
    pub max_lag: Duration,
    /// How long a read-your-writes read waits for a replica to replay up to
    /// the primary's position before it goes to the primary.
    pub catch_up_wait: Duration,
    /// A replica's lag is asked again when the last answer is older than
    /// this (one round trip); a read-your-writes read asks whenever the
    /// last answer is short of the position it needs.
    pub lag_check_every: Duration,
    /// How long a checkout from a replica (or, on Galera, from a node
    /// before the next is tried) may wait.
    pub replica_checkout: Duration,
    /// A server whose connection failed is passed over for this long.
    pub down_for: Duration,
}

impl Default for ReadPolicy {
    fn default() -> Self {
        Self {
            max_lag: Duration::from_secs(5),
            catch_up_wait: Duration::from_millis(500),
            lag_check_every: Duration::from_millis(200),
            replica_checkout: Duration::from_secs(2),
            down_for: Duration::from_secs(5),
        }
    }
}

/// One server of a database: its pool and what the routing remembers of it.
pub(crate) struct Node<D: Dialect> {
    pub(crate) pool: DbPool<D>,
    pub(crate) url: DatabaseUrl,
    pub(crate) location: String,
    /// The [`moment`] until which it is passed over; 0 when never failed.
    down_until: AtomicU64,
    /// Its last reported replica state, and when it was asked.
    standing: Mutex<Option<(Instant, ReplicaState)>>,
}

impl<D: Dialect> Node<D> {
    pub(crate) fn new(pool: DbPool<D>, url: DatabaseUrl, location: String) -> Self {
        Self { pool, url, location, down_until: AtomicU64::new(0), standing: Mutex::new(None) }
    }

    /// Whether a recent failure says to pass it over.
    pub(crate) fn is_down(&self) -> bool {
        moment() < self.down_until.load(Ordering::Relaxed)
    }

    /// Passes it over for `down_for`.
    pub(crate) fn mark_down(&self, down_for: Duration) {
        let until = moment().saturating_add(u64::try_from(down_for.as_nanos()).unwrap_or(u64::MAX));
        self.down_until.store(until, Ordering::Relaxed);
        tracing::warn!(backend = D::NAME, db = %self.location, ?down_for, "passing over a server whose connection failed");
    }

    /// Its replica state, asked on `conn` unless the last answer is younger
    /// than `every` and (for a read that needs `position`) far enough.
    pub(crate) fn standing(
        &self,
        conn: &mut D::Connection,
        every: Duration,
        position: Option<u64>,
    ) -> diesel::QueryResult<ReplicaState> {
        let cached = *self.standing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((asked, state)) = cached {
            // Replay only moves forward: a replica once past the position still is.
            let past = position.is_some_and(|p| state.replayed >= p);
            if past || (position.is_none() && asked.elapsed() < every) {
                return Ok(state);
            }
        }
        let state = D::replica_state(conn)?;
        *self.standing.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), state));
        Ok(state)
    }
}
