//! Classification of PostgreSQL failures.

use diesel::result::Error;
use triglot_core::ErrorKind;

/// Maps a diesel error to triglot's [`ErrorKind`].
///
/// diesel classifies by SQLSTATE but does not expose it; a deadlock (40P01)
/// and `lock_not_available` (55P03) arrive as `Unknown`, recognised here by
/// the server's fixed message texts.
pub(crate) fn classify(err: &Error) -> ErrorKind {
    match err {
        Error::DatabaseError(kind, info) => {
            ErrorKind::from_diesel(kind).unwrap_or_else(|| classify_message(info.message()))
        }
        _ => ErrorKind::Other,
    }
}

fn classify_message(message: &str) -> ErrorKind {
    if message.starts_with("deadlock detected")
        || message.starts_with("could not obtain lock")
        || message.starts_with("could not serialize access")
    {
        ErrorKind::Retryable
    } else if message.starts_with("terminating connection")
        || message.contains("server closed the connection unexpectedly")
        || message.starts_with("no connection to the server")
        // The socket died under libpq: tcp_user_timeout or keepalive gave up
        // on a silent network, or the peer reset it.
        || message.starts_with("could not receive data from server")
        || message.starts_with("could not send data to server")
        || message.starts_with("SSL SYSCALL error")
        || message.starts_with("SSL connection has been closed unexpectedly")
    {
        ErrorKind::ConnectionLost
    } else {
        ErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_texts_are_classified() {
        assert_eq!(classify_message("deadlock detected"), ErrorKind::Retryable);
        assert_eq!(
            classify_message("could not obtain lock on row in relation \"items\""),
            ErrorKind::Retryable
        );
        assert_eq!(
            classify_message("terminating connection due to administrator command"),
            ErrorKind::ConnectionLost
        );
        assert_eq!(
            classify_message("could not receive data from server: Connection timed out"),
            ErrorKind::ConnectionLost
        );
        assert_eq!(classify_message("syntax error at or near \"x\""), ErrorKind::Other);
    }
}
