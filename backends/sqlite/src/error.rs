//! Classification of SQLite failures.

use diesel::result::Error;
use triglot_core::ErrorKind;

/// Maps a diesel error to triglot's [`ErrorKind`].
///
/// diesel maps SQLite's extended constraint codes itself; BUSY and LOCKED come
/// through as `Unknown` with SQLite's message and no code, so they are
/// recognised by `sqlite3_errmsg`'s fixed texts.
pub(crate) fn classify(err: &Error) -> ErrorKind {
    match err {
        Error::DatabaseError(kind, info) => ErrorKind::from_diesel(kind).unwrap_or_else(|| {
            if is_busy_or_locked(info.message()) { ErrorKind::Retryable } else { ErrorKind::Other }
        }),
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
