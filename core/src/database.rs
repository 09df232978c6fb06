//! `Database<D>`: the handle users hold, a pool plus what the dialect learned about the server.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::r2d2::PooledConnection;
use diesel::result::QueryResult;

use crate::cluster::{Node, ReadPolicy, ReadRoute, Topology};
use crate::dialect::{Capabilities, Dialect, Replication, ServerVersion};
use crate::error::{Error, ErrorKind, Result};
use crate::health::{Counters, Health};
use crate::introspect::SchemaSnapshot;
use crate::pool::{self, DbPool, PoolConfig, PoolState};
use crate::url::DatabaseUrl;

/// A connection checked out of a [`Database`]'s pool; it derefs (twice) to
/// the diesel connection, and goes back to the pool when dropped.
pub type PooledConn<D> = PooledConnection<crate::pool::Manager<D>>;

/// An open database of dialect `D`: a pool of set-up connections and the
/// capabilities refined for the server it met.
///
/// # Example
///
/// ```
/// use diesel::connection::SimpleConnection;
/// use triglot_core::{Database, Dialect};
///
/// fn count_visit<D: Dialect>(db: &Database<D>) -> triglot_core::Result<()> {
///     db.write("counting a visit", |conn| conn.batch_execute("UPDATE visits SET n = n + 1"))
/// }
/// ```
pub struct Database<D: Dialect> {
    servers: Arc<Servers<D>>,
    reads: ReadRoute,
    capabilities: Capabilities,
    server: ServerVersion,
    config: PoolConfig,
    counters: Arc<Counters>,
    dialect: PhantomData<D>,
}

/// The servers behind a [`Database`] and its views.
struct Servers<D: Dialect> {
    writers: Vec<Node<D>>,
    /// The writer in use; the next one takes over when it fails.
    active: AtomicUsize,
    replicas: Vec<Node<D>>,
    /// Where the next read starts looking, so reads spread over the servers.
    next_read: AtomicUsize,
    policy: ReadPolicy,
}

impl<D: Dialect> Database<D> {
    /// Opens `url` with the default [`PoolConfig`].
    ///
    /// # Errors
    ///
    /// See [`Database::open_with`].
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, PoolConfig::default())
    }

    /// Opens `url`: connects once to fail fast with the driver's own reason,
    /// reads the server version, refines the capabilities and builds the pool.
    ///
    /// Migrations are not run; call [`Database::migrate`].
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`] if the URL's scheme is not one of `D::URL_SCHEMES`
    ///   or the dialect cannot use it;
    /// - [`Error::Open`] if the database cannot be reached, created or set up,
    ///   naming the redacted URL (or the file path) and the driver's reason.
    pub fn open_with(url: &str, config: PoolConfig) -> Result<Self> {
        Self::open_cluster(&Topology::primary(url), config, ReadPolicy::default())
    }

    /// Opens the servers of `topology`: each as [`Database::open_with`]
    /// opens one, the first writer's version and capabilities for all.
    ///
    /// Writes ([`Database::get`], [`run`](Database::run),
    /// [`write`](Database::write)) go to the first writer, and to the next
    /// when it fails; [`Database::read`] goes where its
    /// [`ReadRoute`] says (by default read-your-writes), and to another
    /// server when one fails.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`] for a topology the backend cannot serve
    ///   ([`Capabilities::replication`]: SQLite has no cluster, PostgreSQL
    ///   one primary, Galera no replicas apart from its nodes), or a URL
    ///   that [`Database::open_with`] refuses;
    /// - [`Error::Open`] if any server cannot be reached or set up.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn open<D: triglot_core::Dialect>() -> triglot_core::Result<()> {
    /// use triglot_core::{Database, PoolConfig, ReadPolicy, Topology};
    ///
    /// let cluster = Topology::primary("postgres://app@db1/shop").with_replica("postgres://app@db2/shop");
    /// let db = Database::<D>::open_cluster(&cluster, PoolConfig::default(), ReadPolicy::default())?;
    /// // On a replica that has every write committed before the read began.
    /// let schema = db.read("reading the schema", D::introspect)?;
    /// # Ok(()) }
    /// ```
    pub fn open_cluster(
        topology: &Topology,
        config: PoolConfig,
        policy: ReadPolicy,
    ) -> Result<Self> {
        if topology.writers.is_empty() {
            return Err(Error::InvalidUrl {
                url: String::new(),
                reason: "a database needs a server to write to".to_owned(),
            });
        }
        let counters = Arc::new(Counters::default());
        // A cluster opens while one writer answers: the first that does
        // gives the version; the others are passed over until they answer.
        let mut writers = Vec::with_capacity(topology.writers.len());
        let mut server = None;
        let mut first_error = None;
        let several = topology.writers.len() > 1;
        for url in &topology.writers {
            let (node, answered) =
                open_node::<D>(url, &config, &counters, several.then_some(policy.down_for))?;
            match answered {
                Ok(version) => server = server.or(Some(version)),
                Err(e) => first_error = first_error.or(Some(e)),
            }
            writers.push(node);
        }
        let Some(server) = server else {
            return Err(first_error.expect("no writer answered, so one failed"));
        };
        let mut capabilities = D::CAPABILITIES;
        D::refine(&mut capabilities, &server);
        let refuse = |reason: String| Error::InvalidUrl { url: writers[0].url.to_string(), reason };
        match capabilities.replication {
            Replication::Single if topology.writers.len() + topology.replicas.len() > 1 => {
                return Err(refuse(format!(
                    "{} is one file: it has no replicas or nodes",
                    D::NAME
                )));
            }
            Replication::LogPosition if topology.writers.len() > 1 => {
                return Err(refuse(format!(
                    "{} has one primary: give the other servers as replicas",
                    D::NAME
                )));
            }
            Replication::CausalReads if !topology.replicas.is_empty() => {
                return Err(refuse(format!(
                    "{} clusters are opened as Galera nodes, each of which takes writes; \
                     asynchronous replicas are not supported",
                    D::NAME
                )));
            }
            _ => {}
        }
        let active = writers.iter().position(|w| !w.is_down()).unwrap_or(0);
        let mut replicas = Vec::new();
        for url in &topology.replicas {
            // A replica that does not answer yet is passed over until it does.
            replicas.push(open_node::<D>(url, &config, &counters, Some(policy.down_for))?.0);
        }
        Ok(Self {
            servers: Arc::new(Servers {
                writers,
                active: AtomicUsize::new(active),
                replicas,
                next_read: AtomicUsize::new(0),
                policy,
            }),
            reads: ReadRoute::ReadYourWrites,
            capabilities,
            server,
            config,
            counters,
            dialect: PhantomData,
        })
    }

    /// The same database, its [`Database::read`]s sent by `route`; it
    /// shares the pools.
    ///
    /// # Example
    ///
    /// ```
    /// # fn report<D: triglot_core::Dialect>(db: &triglot_core::Database<D>) {
    /// let on_primary = db.reads(triglot_core::ReadRoute::Primary);
    /// # }
    /// ```
    pub fn reads(&self, route: ReadRoute) -> Self {
        Self {
            servers: Arc::clone(&self.servers),
            reads: route,
            capabilities: self.capabilities,
            server: self.server.clone(),
            config: self.config.clone(),
            counters: Arc::clone(&self.counters),
            dialect: PhantomData,
        }
    }

    /// Checks a connection to the writer out of its pool; on a cluster of
    /// several writers, the next one's when the writer in use fails.
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`] if none becomes free within the checkout timeout.
    pub fn get(&self) -> Result<PooledConn<D>> {
        let writers = &self.servers.writers;
        let n = writers.len();
        let first = self.servers.active.load(Ordering::Relaxed) % n;
        // Several writers share the wait, so a dead one leaves time for the next.
        let wait = self.config.checkout_timeout / n as u32;
        let mut failed = None;
        for i in 0..n {
            let index = (first + i) % n;
            let node = &writers[index];
            if i + 1 < n && node.is_down() {
                continue;
            }
            match node.pool.get_timeout(wait).map_err(|e| e.to_string()).and_then(|mut conn| {
                self.causal(&mut conn).map_err(|e| e.to_string())?;
                Ok(conn)
            }) {
                Ok(conn) => {
                    if index != first {
                        self.servers.active.store(index, Ordering::Relaxed);
                        tracing::warn!(backend = D::NAME, db = %node.location, "writing to the next node");
                    }
                    return Ok(conn);
                }
                Err(e) => {
                    if n > 1 {
                        node.mark_down(self.servers.policy.down_for);
                    }
                    failed = Some((node, e));
                }
            }
        }
        let (node, e) = failed.expect("a database has a writer, and each failed");
        Err(self.timed_out(node, self.config.checkout_timeout, &e))
    }

    /// Makes `conn`'s session read causally, once, on a cluster whose nodes
    /// all take writes: a write that another node certified is applied here
    /// before a statement that could see it (an upsert meeting the row,
    /// the SELECT that reads its id back) runs.
    fn causal(&self, conn: &mut PooledConn<D>) -> QueryResult<()> {
        if self.capabilities.replication == Replication::CausalReads
            && self.servers.writers.len() > 1
            && !conn.causal
        {
            D::causal_reads(conn)?;
            conn.causal = true;
        }
        Ok(())
    }

    fn timed_out(&self, node: &Node<D>, waited: Duration, cause: &str) -> Error {
        Counters::bump(&self.counters.pool_timeouts);
        tracing::warn!(backend = D::NAME, db = %node.location, ?waited, "pool checkout timed out");
        Error::PoolTimeout {
            backend: D::NAME,
            url: node.url.to_string(),
            waited,
            cause: Some(node.url.scrub(cause)).filter(|c| !c.is_empty()),
        }
    }

    /// Runs the read `f` where this handle's [`ReadRoute`] sends reads: on a
    /// single server, the server; on a cluster, a replica (or Galera node)
    /// chosen by the [`ReadPolicy`], else the primary. When the server
    /// fails under it (a lost connection), `f` runs again on another, so a
    /// stopped replica costs no error; `f` must therefore only read.
    ///
    /// Read-your-writes (the default route) costs, on PostgreSQL, one round
    /// trip to the primary for its log position, and on Galera one `SET`
    /// per read.
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`] when no server gives a connection; the
    /// classified failure of `f` when it is not a lost connection, or when
    /// every server lost it.
    pub fn read<T>(
        &self,
        context: impl Into<Cow<'static, str>>,
        mut f: impl FnMut(&mut D::Connection) -> QueryResult<T>,
    ) -> Result<T> {
        let context = context.into();
        let servers = &self.servers;
        let mut tries = servers.writers.len() + servers.replicas.len();
        loop {
            tries -= 1;
            let (mut conn, node) = self.checkout_read()?;
            match f(&mut conn) {
                Ok(value) => return Ok(value),
                Err(e) => {
                    let kind = classify::<D>(&e);
                    let node = node.unwrap_or_else(|| self.writer());
                    if kind == ErrorKind::ConnectionLost && tries > 0 {
                        self.counters.failed(kind);
                        node.mark_down(servers.policy.down_for);
                        continue;
                    }
                    return Err(self.error_at(node, context, e));
                }
            }
        }
    }

    /// A connection for a read, and the server it is on when that is not
    /// the writer in use.
    fn checkout_read(&self) -> Result<(PooledConn<D>, Option<&Node<D>>)> {
        let servers = &self.servers;
        let policy = &servers.policy;
        match (self.capabilities.replication, self.reads) {
            (Replication::LogPosition, route)
                if !servers.replicas.is_empty() && route != ReadRoute::Primary =>
            {
                let position = match route {
                    ReadRoute::ReadYourWrites => {
                        Some(self.run("reading the primary's log position", D::log_position)?)
                    }
                    _ => None,
                };
                let n = servers.replicas.len();
                let start = servers.next_read.fetch_add(1, Ordering::Relaxed);
                for i in 0..n {
                    let node = &servers.replicas[(start + i) % n];
                    if node.is_down() {
                        Counters::bump(&self.counters.replicas_skipped);
                        continue;
                    }
                    let Ok(mut conn) = node.pool.get_timeout(policy.replica_checkout) else {
                        node.mark_down(policy.down_for);
                        Counters::bump(&self.counters.replicas_skipped);
                        continue;
                    };
                    match self.caught_up(node, &mut conn, position) {
                        Ok(true) => {
                            Counters::bump(&self.counters.replica_reads);
                            return Ok((conn, Some(node)));
                        }
                        Ok(false) => {}
                        Err(e) => {
                            if classify::<D>(&e) == ErrorKind::ConnectionLost {
                                node.mark_down(policy.down_for);
                            }
                        }
                    }
                    Counters::bump(&self.counters.replicas_skipped);
                }
                Counters::bump(&self.counters.primary_reads);
                Ok((self.get()?, None))
            }
            (Replication::CausalReads, route)
                if servers.writers.len() > 1 && route != ReadRoute::Primary =>
            {
                let n = servers.writers.len();
                let start = servers.next_read.fetch_add(1, Ordering::Relaxed);
                let mut failed = None;
                for i in 0..n {
                    let node = &servers.writers[(start + i) % n];
                    if i + 1 < n && node.is_down() {
                        continue;
                    }
                    let mut conn = match node.pool.get_timeout(policy.replica_checkout) {
                        Ok(conn) => conn,
                        Err(e) => {
                            node.mark_down(policy.down_for);
                            failed = Some((node, e.to_string()));
                            continue;
                        }
                    };
                    if let Err(e) = self.causal(&mut conn) {
                        node.mark_down(policy.down_for);
                        failed = Some((node, e.to_string()));
                        continue;
                    }
                    Counters::bump(&self.counters.replica_reads);
                    return Ok((conn, Some(node)));
                }
                let (node, cause) = failed.expect("a database has a writer, and each failed");
                Err(self.timed_out(node, policy.replica_checkout, &cause))
            }
            _ => Ok((self.get()?, None)),
        }
    }

    /// Whether the replica on `conn` may serve a read that needs `position`
    /// (or, without one, a read of bounded staleness), waiting up to
    /// [`ReadPolicy::catch_up_wait`] for it to replay that far.
    fn caught_up(
        &self,
        node: &Node<D>,
        conn: &mut D::Connection,
        position: Option<u64>,
    ) -> QueryResult<bool> {
        let policy = &self.servers.policy;
        let deadline = Instant::now() + policy.catch_up_wait;
        loop {
            let state = node.standing(conn, policy.lag_check_every, position)?;
            self.counters.saw_lag(state.lag);
            match position {
                Some(p) if state.replayed >= p => return Ok(true),
                None => return Ok(state.lag <= policy.max_lag),
                // Further behind than the bound: not worth waiting for.
                Some(_) if state.lag > policy.max_lag || Instant::now() >= deadline => {
                    return Ok(false);
                }
                Some(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Checks out a connection and runs `f` on it, classifying a failure with
    /// the dialect and tagging it with `context` ("what was being done").
    ///
    /// The call is a `tracing` span `db` at debug level with the backend, the
    /// database (redacted), the context, and on completion the elapsed time
    /// and the outcome.
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`], or the classified failure of `f`.
    pub fn run<T>(
        &self,
        context: impl Into<Cow<'static, str>>,
        f: impl FnOnce(&mut D::Connection) -> QueryResult<T>,
    ) -> Result<T> {
        self.traced(context.into(), |conn| f(conn))
    }

    /// Like [`Database::run`], inside the dialect's write transaction.
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`], or the classified failure of `f` (the
    /// transaction is then rolled back).
    pub fn write<T>(
        &self,
        context: impl Into<Cow<'static, str>>,
        f: impl FnOnce(&mut D::Connection) -> QueryResult<T>,
    ) -> Result<T> {
        self.traced(context.into(), |conn| D::write_transaction(conn, f))
    }

    fn traced<T>(
        &self,
        context: Cow<'static, str>,
        f: impl FnOnce(&mut D::Connection) -> QueryResult<T>,
    ) -> Result<T> {
        let span = tracing::debug_span!(
            "db",
            backend = D::NAME,
            db = %self.location(),
            context = %context,
            elapsed_us = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let _entered = span.enter();
        let started = Instant::now();
        let result =
            self.get().and_then(|mut conn| f(&mut conn).map_err(|e| self.error(context, e)));
        span.record("elapsed_us", started.elapsed().as_micros() as u64);
        match &result {
            Ok(_) => span.record("outcome", "ok"),
            Err(err) => span.record("outcome", tracing::field::display(outcome(err))),
        };
        result
    }

    /// Classifies a diesel error from this database into an [`Error`].
    ///
    /// A lost connection on a cluster of several writers also moves writes
    /// to the next one: the caller's retry then goes there.
    pub fn error(
        &self,
        context: impl Into<Cow<'static, str>>,
        err: diesel::result::Error,
    ) -> Error {
        let servers = &self.servers;
        let index = servers.active.load(Ordering::Relaxed) % servers.writers.len();
        let node = &servers.writers[index];

        if servers.writers.len() > 1 && classify::<D>(&err) == ErrorKind::ConnectionLost {
            node.mark_down(servers.policy.down_for);
            let next = (index + 1) % servers.writers.len();
            // Only the first to see the loss moves on; the others find it moved.
            let _ =
                servers.active.compare_exchange(index, next, Ordering::Relaxed, Ordering::Relaxed);
        }
        self.error_at(node, context, err)
    }

    fn error_at(
        &self,
        node: &Node<D>,
        context: impl Into<Cow<'static, str>>,
        err: diesel::result::Error,
    ) -> Error {
        let kind = classify::<D>(&err);
        self.counters.failed(kind);
        Error::database(kind, D::NAME, &node.location, context, err, |text| node.url.scrub(text))
    }

    /// The health counters since the database was opened: statements, slow
    /// statements, failures, retries, connections lost and pool timeouts.
    pub fn health(&self) -> Health {
        self.counters.snapshot()
    }

    /// The counters this database adds to (for the retry helper).
    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The capabilities, refined for this server.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The server's version as it reported it.
    pub fn server_version(&self) -> &ServerVersion {
        &self.server
    }

    /// The URL it was opened with (a cluster's first writer); displays redacted.
    pub fn url(&self) -> &DatabaseUrl {
        &self.servers.writers[0].url
    }

    /// Where the data lives, for messages: a file path or the redacted URL
    /// (a cluster's first writer).
    pub fn location(&self) -> &str {
        &self.servers.writers[0].location
    }

    /// The locations (redacted URLs) of the writers in the order they are
    /// tried, and of the replicas.
    pub fn servers(&self) -> (Vec<&str>, Vec<&str>) {
        fn names<D: Dialect>(nodes: &[Node<D>]) -> Vec<&str> {
            nodes.iter().map(|n| n.location.as_str()).collect()
        }
        (names(&self.servers.writers), names(&self.servers.replicas))
    }

    /// The writer writes go to now.
    fn writer(&self) -> &Node<D> {
        let servers = &self.servers;
        &servers.writers[servers.active.load(Ordering::Relaxed) % servers.writers.len()]
    }

    /// The backend's display name.
    pub fn backend_name(&self) -> &'static str {
        D::NAME
    }

    /// The connections of the writer's pool right now.
    pub fn pool_state(&self) -> PoolState {
        let pool = self.pool();
        let state = pool.state();
        PoolState {
            max_size: pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            in_use: state.connections - state.idle_connections,
        }
    }

    /// The writer's r2d2 pool.
    pub fn pool(&self) -> &DbPool<D> {
        &self.writer().pool
    }

    /// Reads the live schema.
    ///
    /// # Errors
    ///
    /// Any statement error, classified.
    pub fn introspect(&self) -> Result<SchemaSnapshot> {
        self.read("reading the schema", D::introspect)
    }
}

/// Opens one server of a database: connects once to fail fast with the
/// driver's own reason, reads the server's version and builds the pool.
///
/// With `pass_over`, a server that does not answer still gets a pool, which
/// opens its connections once it answers, and is passed over for that long;
/// the second value is then the error that [`Database::open_with`] would
/// return.
///
/// # Errors
///
/// [`Error::InvalidUrl`] (a URL no server can fix); without `pass_over`,
/// [`Error::Open`] when the server does not answer.
fn open_node<D: Dialect>(
    url: &str,
    config: &PoolConfig,
    counters: &Arc<Counters>,
    pass_over: Option<Duration>,
) -> Result<(Node<D>, Result<ServerVersion>)> {
    let url = DatabaseUrl::parse(url)?;
    let scheme = url.scheme();
    if !D::URL_SCHEMES.contains(&scheme.as_str()) {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: format!("{} accepts the schemes {}", D::NAME, D::URL_SCHEMES.join(", ")),
        });
    }
    let target = D::connect_target(&url)?;
    let open_error = |reason: String| Error::Open {
        backend: D::NAME,
        url: target.display.clone(),
        reason: url.scrub(&reason),
    };
    let session = pool::Session {
        connection_string: target.connection_string.clone(),
        location: target.display.clone(),
        connect_timeout: config.connect_timeout,
        slow: config.slow_statement,
        stuck: config.stuck_statement,
        counters: Arc::clone(counters),
        abandoned: Arc::default(),
    };
    let answered =
        session.open::<D>().map_err(|e| open_error(e.to_string())).and_then(|(mut probe, _)| {
            D::server_version(&mut probe)
                .map_err(|e| open_error(format!("cannot read the server version: {e}")))
        });
    let answered = match (answered, pass_over) {
        (Err(e), None) => return Err(e),
        (answered, _) => answered,
    };
    let pool = if answered.is_ok() {
        pool::build::<D>(session, target.private_per_connection, &url, config)
            .map_err(|e| open_error(e.to_string()))?
    } else {
        pool::build_unchecked::<D>(session, target.private_per_connection, &url, config)
    };
    tracing::debug!(backend = D::NAME, url = %url, answered = answered.is_ok(), "opened database");
    let node = Node::new(pool, url, target.display);
    if let (Err(e), Some(down_for)) = (&answered, pass_over) {
        tracing::warn!(backend = D::NAME, "a server of the database does not answer: {e}");
        node.mark_down(down_for);
    }
    Ok((node, answered))
}

impl<D: Dialect> fmt::Debug for Database<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &D::NAME)
            .field("url", self.url())
            .field("servers", &self.servers())
            .field("server", &self.server.text)
            .field("capabilities", &self.capabilities)
            .field("pool", &self.pool_state())
            .field("health", &self.health())
            .finish()
    }
}

/// The outcome of a call, for its span: `ok` or the error's kind.
fn outcome(err: &Error) -> &'static str {
    match err.kind() {
        Some(kind) => kind.name(),
        None => "error",
    }
}

/// The kind of `err`; a COMMIT that failed is judged by its own failure, not
/// by the rollback diesel tried after it.
///
/// A connection lost during COMMIT reaches diesel's transaction manager as
/// a failed commit whose rollback failed too
/// (`RollbackErrorOnCommit { commit_error: "Server has gone away", .. }`):
/// it is a lost connection, which a caller may retry, not an unknown error.
fn classify<D: Dialect>(err: &diesel::result::Error) -> ErrorKind {
    use diesel::result::Error as Diesel;
    match err {
        Diesel::RollbackErrorOnCommit { commit_error, .. } => classify::<D>(commit_error),
        other => D::classify(other),
    }
}
