//! Classification of SQLite failures.

use diesel::result::{DatabaseErrorKind, Error};
use triglot_core::ErrorKind;

/// Maps a diesel error to triglot's [`ErrorKind`].
///
/// diesel maps SQLite's extended constraint codes itself; BUSY and LOCKED come
/// through as `Unknown` with SQLite's message and no code, so they are
/// recognised by `sqlite3_errmsg`'s fixed texts.
pub(crate) fn classify(err: &Error) -> ErrorKind {
    match err {
        Error::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::UniqueViolation => ErrorKind::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation => ErrorKind::ForeignKeyViolation,
            DatabaseErrorKind::NotNullViolation => ErrorKind::NotNullViolation,
            DatabaseErrorKind::CheckViolation => ErrorKind::CheckViolation,
            DatabaseErrorKind::SerializationFailure => ErrorKind::Retryable,
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                ErrorKind::ConnectionLost
            }
            _ if is_busy_or_locked(info.message()) => ErrorKind::Retryable,
            _ => ErrorKind::Other,
        },
        _ => ErrorKind::Other,
    }
}

/// SQLITE_BUSY ("database is locked"), SQLITE_LOCKED ("database table is
/// locked") and SQLITE_LOCKED_SHAREDCACHE/SCHEMA ("database schema is locked").
fn is_busy_or_locked(message: &str) -> bool {
    message.starts_with("database is locked")
        || message.starts_with("database table is locked")
        || message.starts_with("database schema is locked")
}
