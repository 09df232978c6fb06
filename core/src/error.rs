//! The one error type of triglot, and the classification of database failures.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A `Result` whose error is triglot's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of database failure a driver error is, as a dialect classifies it.
///
/// diesel 2.3 classifies only some failures (`UniqueViolation`, `SerializationFailure`
/// for PostgreSQL 40001 and MySQL 1213, …) and leaves SQLite's BUSY/LOCKED,
/// PostgreSQL deadlocks and MySQL lock wait timeouts as `Unknown`. Each dialect's
/// `classify` fills those gaps from what diesel exposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A UNIQUE or PRIMARY KEY constraint rejected the write.
    UniqueViolation,
    /// A FOREIGN KEY constraint rejected the write.
    ForeignKeyViolation,
    /// A NOT NULL column was given NULL.
    NotNullViolation,
    /// A CHECK constraint rejected the value.
    CheckViolation,
    /// The statement may succeed if the transaction is run again: busy or
    /// locked database, serialization failure, deadlock, lock wait timeout.
    Retryable,
    /// The connection to the server is gone or could not be made.
    ConnectionLost,
    /// Any other failure.
    Other,
}

impl ErrorKind {
    /// The kind diesel already knows from the driver, or `None` for
    /// `Unknown` (and kinds triglot has no class for), which each dialect then
    /// recognises from the driver's message.
    pub fn from_diesel(kind: &diesel::result::DatabaseErrorKind) -> Option<Self> {
        use diesel::result::DatabaseErrorKind as K;
        Some(match kind {
            K::UniqueViolation => ErrorKind::UniqueViolation,
            K::ForeignKeyViolation | K::RestrictViolation => ErrorKind::ForeignKeyViolation,
            K::NotNullViolation => ErrorKind::NotNullViolation,
            K::CheckViolation => ErrorKind::CheckViolation,
            K::SerializationFailure => ErrorKind::Retryable,
            K::ClosedConnection | K::UnableToSendCommand => ErrorKind::ConnectionLost,
            _ => return None,
        })
    }

    /// A stable short name: `unique_violation`, `retryable`, `connection_lost`, …
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::UniqueViolation => "unique_violation",
            ErrorKind::ForeignKeyViolation => "foreign_key_violation",
            ErrorKind::NotNullViolation => "not_null_violation",
            ErrorKind::CheckViolation => "check_violation",
            ErrorKind::Retryable => "retryable",
            ErrorKind::ConnectionLost => "connection_lost",
            ErrorKind::Other => "other",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::UniqueViolation => "unique constraint violated",
            ErrorKind::ForeignKeyViolation => "foreign key constraint violated",
            ErrorKind::NotNullViolation => "NULL in a NOT NULL column",
            ErrorKind::CheckViolation => "check constraint violated",
            ErrorKind::Retryable => "transient conflict (retryable)",
            ErrorKind::ConnectionLost => "connection lost",
            ErrorKind::Other => "query failed",
        }
    }
}

/// A database failure with the context it happened in.
///
/// Built by [`Error::database`]; its message names the backend and the
/// database (file path or redacted URL), what was being done and the
/// driver's own words.
#[derive(Debug)]
pub struct DbError(Box<DbErrorParts>);

// Boxed so that `Error`, which every fallible call returns, stays small.
#[derive(Debug)]
struct DbErrorParts {
    kind: ErrorKind,
    backend: &'static str,
    location: String,
    context: Cow<'static, str>,
    message: String,
    source: diesel::result::Error,
}

impl DbError {
    /// The classified kind.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The display name of the backend that failed (`"SQLite"`, `"MySQL"`, `"PostgreSQL"`).
    pub fn backend(&self) -> &'static str {
        self.0.backend
    }

    /// The database that failed: its file path (SQLite) or redacted URL.
    pub fn location(&self) -> &str {
        &self.0.location
    }

    /// What triglot was doing when it failed, e.g. `"inserting items"`.
    pub fn context(&self) -> &str {
        &self.0.context
    }

    /// The driver's message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The underlying diesel error.
    pub fn diesel_error(&self) -> &diesel::result::Error {
        &self.0.source
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} while {}: {}",
            self.0.backend,
            self.0.location,
            self.0.kind.describe(),
            self.0.context,
            self.0.message
        )
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.source)
    }
}

/// Everything that can go wrong in triglot, as one enum a caller can match.
///
/// Database failures come classified (`UniqueViolation`, `Retryable`, …) whatever
/// the backend. Every URL inside a message is redacted.
///
/// # Example
///
/// ```
/// use triglot_core::Error;
///
/// fn should_retry(err: &Error) -> bool {
///     matches!(err, Error::Retryable(_) | Error::PoolTimeout { .. })
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A UNIQUE or PRIMARY KEY constraint rejected a write.
    #[error(transparent)]
    UniqueViolation(DbError),
    /// A FOREIGN KEY constraint rejected a write.
    #[error(transparent)]
    ForeignKeyViolation(DbError),
    /// A NOT NULL column was given NULL.
    #[error(transparent)]
    NotNullViolation(DbError),
    /// A CHECK constraint rejected a value.
    #[error(transparent)]
    CheckViolation(DbError),
    /// A transient conflict: busy/locked, serialization failure, deadlock, lock
    /// wait timeout. Running the whole transaction again may succeed.
    #[error(transparent)]
    Retryable(DbError),
    /// The server connection is gone.
    #[error(transparent)]
    ConnectionLost(DbError),
    /// Any other database failure.
    #[error(transparent)]
    Query(DbError),
    /// No pooled connection became free within the checkout timeout.
    #[error("{backend}: no connection from the pool for {url} within {waited:?}{}", cause.as_deref().map(|c| format!(" (last error: {c})")).unwrap_or_default())]
    PoolTimeout {
        /// Backend display name.
        backend: &'static str,
        /// The redacted URL.
        url: String,
        /// How long the checkout waited.
        waited: Duration,
        /// The last connection error r2d2 saw, if any.
        cause: Option<String>,
    },
    /// The database could not be opened or its session could not be set up.
    #[error("cannot open {backend} database at {url}: {reason}")]
    Open {
        /// Backend display name.
        backend: &'static str,
        /// The redacted URL (or file path for SQLite).
        url: String,
        /// What went wrong, in the driver's words with a hint.
        reason: String,
    },
    /// A migration failed to apply or revert.
    #[error("{backend}: migration failed on {url}: {message}")]
    Migration {
        /// Backend display name.
        backend: &'static str,
        /// The redacted URL.
        url: String,
        /// diesel_migrations' message.
        message: String,
    },
    /// The URL cannot be used.
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The redacted URL.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The URL names a backend this build of triglot does not include.
    #[error(
        "database URL {url} needs triglot's `{feature}` feature, which this build does not include (rebuild with `--features {feature}`)"
    )]
    BackendNotCompiled {
        /// The redacted URL.
        url: String,
        /// The Cargo feature that would enable it.
        feature: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps a diesel error with the backend's classification, the database
    /// it happened on (`location`: a file path or a redacted URL) and a
    /// context.
    ///
    /// `scrub` removes the connection's password from the driver's message.
    pub fn database(
        kind: ErrorKind,
        backend: &'static str,
        location: &str,
        context: impl Into<Cow<'static, str>>,
        source: diesel::result::Error,
        scrub: impl Fn(&str) -> String,
    ) -> Self {
        let message = scrub(&diesel_message(&source));
        let location = scrub(location);
        let parts =
            DbErrorParts { kind, backend, location, context: context.into(), message, source };
        let db = DbError(Box::new(parts));
        match kind {
            ErrorKind::UniqueViolation => Error::UniqueViolation(db),
            ErrorKind::ForeignKeyViolation => Error::ForeignKeyViolation(db),
            ErrorKind::NotNullViolation => Error::NotNullViolation(db),
            ErrorKind::CheckViolation => Error::CheckViolation(db),
            ErrorKind::Retryable => Error::Retryable(db),
            ErrorKind::ConnectionLost => Error::ConnectionLost(db),
            ErrorKind::Other => Error::Query(db),
        }
    }

    /// The classified kind of a database failure; `None` for errors that did
    /// not come from a statement (pool, URL, migration, I/O, contract).
    pub fn kind(&self) -> Option<ErrorKind> {
        self.db_error().map(DbError::kind)
    }

    /// The database failure inside, if this is one.
    pub fn db_error(&self) -> Option<&DbError> {
        match self {
            Error::UniqueViolation(e)
            | Error::ForeignKeyViolation(e)
            | Error::NotNullViolation(e)
            | Error::CheckViolation(e)
            | Error::Retryable(e)
            | Error::ConnectionLost(e)
            | Error::Query(e) => Some(e),
            _ => None,
        }
    }

    /// Whether running the same transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Retryable(_))
    }

    /// Whether the server could not be reached: a connection lost in the
    /// middle of a call, or no connection from the pool in time (the server
    /// refusing or not answering new ones).
    ///
    /// Running an idempotent transaction again once the server is back may
    /// succeed; see [`RetryPolicy::reconnect_for`](crate::RetryPolicy::reconnect_for).
    pub fn is_connection_failure(&self) -> bool {
        matches!(self, Error::ConnectionLost(_) | Error::PoolTimeout { .. })
    }
}

/// The text of a diesel error, with the detail of database errors included.
fn diesel_message(err: &diesel::result::Error) -> String {
    match err {
        diesel::result::Error::DatabaseError(_, info) => {
            let mut text = info.message().to_owned();
            if let Some(details) = info.details() {
                text.push_str(" (");
                text.push_str(details);
                text.push(')');
            }
            text
        }
        other => other.to_string(),
    }
}
