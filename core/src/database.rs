//! `Database<D>`: the handle users hold, a pool plus what the dialect learned about the server.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use diesel::r2d2::PooledConnection;
use diesel::result::QueryResult;

use crate::dialect::{Capabilities, Dialect, ServerVersion};
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
    pool: DbPool<D>,
    url: DatabaseUrl,
    location: String,
    capabilities: Capabilities,
    server: ServerVersion,
    config: PoolConfig,
    counters: Arc<Counters>,
    dialect: PhantomData<D>,
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

        let counters = Arc::new(Counters::default());
        let session = pool::Session {
            connection_string: target.connection_string.clone(),
            location: target.display.clone(),
            connect_timeout: config.connect_timeout,
            slow: config.slow_statement,
            counters: Arc::clone(&counters),
        };
        let mut probe = session.open::<D>().map_err(|e| open_error(e.to_string()))?;
        let server = D::server_version(&mut probe)
            .map_err(|e| open_error(format!("cannot read the server version: {e}")))?;
        drop(probe);

        let mut capabilities = D::CAPABILITIES;
        D::refine(&mut capabilities, &server);

        let pool = pool::build::<D>(session, target.private_per_connection, &url, &config)
            .map_err(|e| open_error(e.to_string()))?;
        tracing::debug!(backend = D::NAME, url = %url, server = %server, "opened database");
        Ok(Self {
            pool,
            url,
            location: target.display,
            capabilities,
            server,
            config,
            counters,
            dialect: PhantomData,
        })
    }

    /// Checks a connection out of the pool.
    ///
    /// # Errors
    ///
    /// [`Error::PoolTimeout`] if none becomes free within the checkout timeout.
    pub fn get(&self) -> Result<PooledConn<D>> {
        self.pool.get().map_err(|e| {
            Counters::bump(&self.counters.pool_timeouts);
            tracing::warn!(backend = D::NAME, db = %self.location, waited = ?self.config.checkout_timeout, "pool checkout timed out");
            Error::PoolTimeout {
                backend: D::NAME,
                url: self.url.to_string(),
                waited: self.config.checkout_timeout,
                cause: Some(self.url.scrub(&e.to_string())).filter(|c| !c.is_empty()),
            }
        })
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
            db = %self.location,
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
    pub fn error(
        &self,
        context: impl Into<Cow<'static, str>>,
        err: diesel::result::Error,
    ) -> Error {
        let kind = classify::<D>(&err);
        self.counters.failed(kind);
        Error::database(kind, D::NAME, &self.location, context, err, |text| self.url.scrub(text))
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

    /// The URL it was opened with; displays redacted.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Where the data lives, for messages: a file path or the redacted URL.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The backend's display name.
    pub fn backend_name(&self) -> &'static str {
        D::NAME
    }

    /// The pool's connections right now.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            max_size: self.pool.max_size(),
            connections: state.connections,
            idle: state.idle_connections,
            in_use: state.connections - state.idle_connections,
        }
    }

    /// The underlying r2d2 pool.
    pub fn pool(&self) -> &DbPool<D> {
        &self.pool
    }

    /// Reads the live schema.
    ///
    /// # Errors
    ///
    /// Any statement error, classified.
    pub fn introspect(&self) -> Result<SchemaSnapshot> {
        self.run("reading the schema", D::introspect)
    }
}

impl<D: Dialect> fmt::Debug for Database<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &D::NAME)
            .field("url", &self.url)
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
