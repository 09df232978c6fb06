//! Connection pooling: r2d2 with the dialect's session setup on every new connection.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::r2d2::{HandleError, ManageConnection, Pool, R2D2Connection};

use crate::dialect::{Dialect, ServerSession, SessionIdentity};
use crate::health::{Counters, StatementTimer, moment};
use crate::url::DatabaseUrl;

/// How a [`Database`](crate::Database) pools its connections.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use triglot_core::PoolConfig;
///
/// let config = PoolConfig { max_size: 4, checkout_timeout: Duration::from_secs(2), ..PoolConfig::default() };
/// assert_eq!(config.max_size, 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open at once.
    pub max_size: u32,
    /// Connections kept open while idle; `None` keeps up to `max_size`.
    pub min_idle: Option<u32>,
    /// How long a checkout waits for a free connection before
    /// [`Error::PoolTimeout`](crate::Error::PoolTimeout).
    pub checkout_timeout: Duration,
    /// How long opening one connection, session setup included, may take
    /// before it counts as failed, however silent the network.
    pub connect_timeout: Duration,
    /// Idle connections older than this are closed.
    pub idle_timeout: Option<Duration>,
    /// Connections older than this are closed when returned.
    pub max_lifetime: Option<Duration>,
    /// Whether a connection is pinged before it is handed out, so one whose
    /// server went away is replaced instead of failing the caller.
    pub test_on_checkout: bool,
    /// Connections back in the pool for less than this are handed out
    /// without a ping (a round trip each); older ones are pinged first.
    pub ping_after_idle: Duration,
    /// Statements that take at least this long are logged at `warn` (their
    /// SQL, never their bind values) and counted in
    /// [`Health::slow_statements`](crate::Health::slow_statements); `None`
    /// logs none.
    pub slow_statement: Option<Duration>,
    /// A statement still waiting for its answer after this long has its
    /// connection cut, and fails as a lost connection (which a retry runs
    /// again on a fresh one), where the driver would wait for ever on a
    /// server that stays connected and never answers (libmysqlclient,
    /// libpq; see [`socket`](crate::socket) for how the connection is
    /// found, by [`Dialect::server_session`]). Far beyond any statement
    /// triglot sends; a longer one of a user's needs a pool with `None`.
    pub stuck_statement: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 8,
            min_idle: Some(1),
            checkout_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(15),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            test_on_checkout: true,
            ping_after_idle: Duration::from_secs(1),
            slow_statement: Some(Duration::from_secs(1)),
            stuck_statement: Some(Duration::from_secs(300)),
        }
    }
}

/// A snapshot of a pool's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolState {
    /// The most connections the pool opens.
    pub max_size: u32,
    /// Connections open now.
    pub connections: u32,
    /// Open connections waiting to be checked out.
    pub idle: u32,
    /// Open connections checked out now.
    pub in_use: u32,
}

/// The r2d2 pool type a [`Database`](crate::Database) holds for dialect `D`.
pub type DbPool<D> = Pool<Manager<D>>;

/// A pooled diesel connection with the times it was opened and last given
/// back to the pool; derefs to the connection.
#[derive(Debug)]
pub struct Tracked<C> {
    conn: C,
    opened: u64,
    returned: Instant,
    /// Whether its session was made to read causally
    /// ([`Dialect::causal_reads`]), once for its life.
    pub(crate) causal: bool,
    /// Its session on the server, ended from another connection if this
    /// one is lost.
    identity: Option<SessionIdentity>,
}

impl<C> Deref for Tracked<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.conn
    }
}

impl<C> DerefMut for Tracked<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.conn
    }
}

/// diesel's r2d2 manager, with the check-out ping skipped for connections
/// that were in use moments ago.
///
/// r2d2 pings on every check-out (a round trip, ~77 µs on loopback) or never.
/// Like mature pools, triglot pings only connections idle for longer than
/// [`PoolConfig::ping_after_idle`]: a connection used within that time is
/// handed out as is, and one whose server went away while it sat idle is
/// found dead and replaced before anyone gets it.
///
/// After any of its connections is lost, every connection opened before the
/// loss is dropped, as it comes back or before it is handed out
/// (SQLAlchemy's pool invalidation): a server restart kills them all, and a
/// connection used moments ago would otherwise be handed out unpinged.
///
/// The server may not know that a connection is lost (a silent network, a
/// statement cut for getting no answer) and keep its session, transaction
/// and locks, which the retry of the same rows then waits on. The next
/// connection the manager opens ends such sessions ([`Dialect::end_session`]).
#[derive(Debug)]
pub struct Manager<D: Dialect> {
    session: Session,
    ping_after_idle: Duration,
    dialect: PhantomData<D>,
}

/// What every new connection gets: where it goes, how long opening it may
/// take, and the statement timer it carries.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) connection_string: String,
    pub(crate) location: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) slow: Option<Duration>,
    pub(crate) stuck: Option<Duration>,
    pub(crate) counters: Arc<Counters>,
    /// The server sessions of this server's lost connections, not ended yet.
    pub(crate) abandoned: Arc<Abandoned>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The connection string may hold the password.
        f.debug_struct("Session").field("location", &self.location).finish_non_exhaustive()
    }
}

impl Session {
    /// Opens a connection, sets its session up ([`Dialect::on_acquire`]),
    /// reads who the server knows it as, and ends the sessions lost
    /// connections left on the server, all within `connect_timeout`.
    pub(crate) fn open<D: Dialect>(
        &self,
    ) -> Result<(D::Connection, Option<SessionIdentity>), diesel::r2d2::Error> {
        let session = self.clone();
        crate::establish::within(self.connect_timeout, move || {
            let mut conn = D::Connection::establish(&session.connection_string)
                .map_err(diesel::r2d2::Error::ConnectionError)?;
            let timer = |watch| StatementTimer {
                backend: D::NAME,
                location: session.location.clone(),
                slow: session.slow,
                counters: Arc::clone(&session.counters),
                started: None,
                watch,
            };
            conn.set_instrumentation(timer(None));
            D::on_acquire(&mut conn).map_err(diesel::r2d2::Error::QueryError)?;
            let ServerSession { identity, ports } =
                D::server_session(&mut conn).map_err(diesel::r2d2::Error::QueryError)?;
            session.abandoned.end_all::<D>(&mut conn, &session.location);
            let bound_here = !D::CAPABILITIES.socket_bounds_by_driver;
            if bound_here || session.stuck.is_some() {
                let fd = ports.and_then(crate::socket::socket_of);
                if ports.is_some() && fd.is_none() {
                    tracing::debug!(
                        ?ports,
                        "no single socket of this process has the session's ports"
                    );
                }
                if let Some(fd) = fd {
                    if bound_here {
                        crate::socket::bound(fd);
                    }
                    if let Some(limit) = session.stuck {
                        let watch = crate::watch::StatementWatch::new(fd, limit);
                        conn.set_instrumentation(timer(Some(watch)));
                    }
                }
            }
            Ok((conn, identity))
        })
    }
}

/// The sessions a server kept for connections lost on the way to it.
#[derive(Debug, Default)]
pub(crate) struct Abandoned(Mutex<Vec<SessionIdentity>>);

impl Abandoned {
    /// The most sessions kept: beyond them the oldest are forgotten (a
    /// server that lost that many is ending them itself, or is gone).
    const MOST: usize = 64;

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<SessionIdentity>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the session of a connection dropped as lost.
    fn push(&self, who: Option<SessionIdentity>) {
        if let Some(who) = who {
            let mut list = self.list();
            if list.len() >= Self::MOST {
                list.remove(0);
            }
            list.push(who);
        }
    }

    /// Ends, from `conn`, every recorded session the server still has. One
    /// that cannot be ended is logged and forgotten: the connection
    /// asking is new, so the failure is the server's answer, not the
    /// network's.
    fn end_all<D: Dialect>(&self, conn: &mut D::Connection, location: &str) {
        let list = std::mem::take(&mut *self.list());
        for who in list {
            match D::end_session(conn, &who) {
                Ok(true) => tracing::info!(
                    backend = D::NAME,
                    db = location,
                    session = who.id,
                    "ended the server session of a lost connection"
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    backend = D::NAME,
                    db = location,
                    session = who.id,
                    "cannot end the server session of a lost connection: {e}"
                ),
            }
        }
    }
}

impl<D: Dialect> ManageConnection for Manager<D> {
    type Connection = Tracked<D::Connection>;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Self::Connection, Self::Error> {
        let (conn, identity) = self.session.open::<D>()?;
        Ok(Tracked { conn, opened: moment(), returned: Instant::now(), causal: false, identity })
    }

    fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error> {
        if self.session.counters.opened_before_a_loss(conn.opened) {
            self.session.abandoned.push(conn.identity.take());
            return Err(diesel::r2d2::Error::ConnectionError(
                diesel::ConnectionError::BadConnection(
                    "opened before a connection to the same server was lost".to_owned(),
                ),
            ));
        }
        if conn.returned.elapsed() < self.ping_after_idle {
            return Ok(());
        }
        conn.conn.ping().map_err(|e| {
            self.session.abandoned.push(conn.identity.take());
            diesel::r2d2::Error::QueryError(e)
        })
    }

    fn has_broken(&self, conn: &mut Self::Connection) -> bool {
        // r2d2 asks this as a connection comes back: the moment it goes idle.
        conn.returned = Instant::now();
        let dropped =
            self.session.counters.opened_before_a_loss(conn.opened) || conn.conn.is_broken();
        if dropped {
            // The lost one, or one of its peers on a network that may be
            // as silent: none of them is used again.
            self.session.abandoned.push(conn.identity.take());
        }
        dropped
    }
}

/// Builds the pool for `session`; the first connections are opened here.
pub(crate) fn build<D: Dialect>(
    session: Session,
    private_per_connection: bool,
    url: &DatabaseUrl,
    config: &PoolConfig,
) -> Result<DbPool<D>, r2d2::Error> {
    builder::<D>(private_per_connection, url, config).build(manager(session, config))
}

/// Builds the pool for `session` without waiting for a connection: for a
/// server that does not answer yet, whose connections the pool opens later.
pub(crate) fn build_unchecked<D: Dialect>(
    session: Session,
    private_per_connection: bool,
    url: &DatabaseUrl,
    config: &PoolConfig,
) -> DbPool<D> {
    builder::<D>(private_per_connection, url, config).build_unchecked(manager(session, config))
}

fn manager<D: Dialect>(session: Session, config: &PoolConfig) -> Manager<D> {
    Manager::<D> { session, ping_after_idle: config.ping_after_idle, dialect: PhantomData }
}

fn builder<D: Dialect>(
    private_per_connection: bool,
    url: &DatabaseUrl,
    config: &PoolConfig,
) -> r2d2::Builder<Manager<D>> {
    let builder = Pool::builder()
        .error_handler(Box::new(LogErrors { backend: D::NAME, url: url.clone() }))
        .connection_timeout(config.checkout_timeout)
        .test_on_check_out(config.test_on_checkout);
    if private_per_connection {
        // Each connection to an in-memory SQLite database has its own data, so
        // the pool holds exactly one connection and never recycles it.
        builder.max_size(1).min_idle(Some(1)).idle_timeout(None).max_lifetime(None)
    } else {
        builder
            .max_size(config.max_size)
            .min_idle(config.min_idle)
            .idle_timeout(config.idle_timeout)
            .max_lifetime(config.max_lifetime)
    }
}

/// Sends r2d2's connection errors to `tracing`, with the password scrubbed.
#[derive(Debug)]
struct LogErrors {
    backend: &'static str,
    url: DatabaseUrl,
}

impl HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(
            backend = self.backend,
            url = %self.url,
            "pool could not open or reuse a connection: {}",
            self.url.scrub(&error.to_string())
        );
    }
}
