//! Classification of MySQL and MariaDB failures.

use diesel::result::Error;
use triglot_core::ErrorKind;

/// Maps a diesel error to triglot's [`ErrorKind`].
///
/// diesel classifies 1062 (duplicate key), 1451/1452 (foreign key), 1048
/// (NULL), 3819 (MySQL CHECK) and 1213 (deadlock) by number. Its error
/// information carries no number, so the rest is recognised by the server's
/// fixed message texts: 1205 lock wait timeout, MariaDB's 4025 CHECK failure,
/// the client's lost-connection errors (2006, 2013) and the server's
/// shutdown (1053) and killed-connection (1927) errors, and Galera's 1047
/// from a node outside the cluster's primary component (it serves no
/// statement until it rejoins: the work belongs on another node).
pub(crate) fn classify(err: &Error) -> ErrorKind {
    match err {
        Error::DatabaseError(kind, info) => {
            ErrorKind::from_diesel(kind).unwrap_or_else(|| classify_message(info.message()))
        }
        _ => ErrorKind::Other,
    }
}

fn classify_message(message: &str) -> ErrorKind {
    if message.starts_with("Lock wait timeout exceeded") || message.starts_with("Deadlock found") {
        ErrorKind::Retryable
    } else if message.starts_with("Duplicate entry ") {
        // 1062 from a connection that gives no kind (the crate's own gives
        // kinds by error number; these texts remain the fallback).
        ErrorKind::UniqueViolation
    } else if message.starts_with("Cannot add or update a child row")
        || message.starts_with("Cannot delete or update a parent row")
    {
        // 1452 and 1451, likewise.
        ErrorKind::ForeignKeyViolation
    } else if message.starts_with("Column '") && message.ends_with("' cannot be null") {
        // 1048.
        ErrorKind::NotNullViolation
    } else if message.starts_with("CONSTRAINT ") && message.contains(" failed for ") {
        // MariaDB 4025: CONSTRAINT `boxes_weight_check` failed for `db`.`boxes`
        ErrorKind::CheckViolation
    } else if message.contains("erver has gone away")
        || message.starts_with("Lost connection to")
        || message.starts_with("Can't connect to")
        || message.contains("Server shutdown in progress")
        || message.starts_with("Connection was killed")
        || message.starts_with("WSREP has not yet prepared node")
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
    fn constraint_texts_from_unclassified_paths_are_classified() {
        assert_eq!(
            classify_message("Duplicate entry 'B1' for key 'boxes_code_key'"),
            ErrorKind::UniqueViolation
        );
        assert_eq!(
            classify_message(
                "Cannot add or update a child row: a foreign key constraint fails (`t`.`items`)"
            ),
            ErrorKind::ForeignKeyViolation
        );
        assert_eq!(
            classify_message(
                "Cannot delete or update a parent row: a foreign key constraint fails"
            ),
            ErrorKind::ForeignKeyViolation
        );
        assert_eq!(classify_message("Column 'name' cannot be null"), ErrorKind::NotNullViolation);
        assert_eq!(classify_message("Table 'x' doesn't exist"), ErrorKind::Other);
    }

    #[test]
    fn server_texts_are_classified() {
        assert_eq!(
            classify_message("Lock wait timeout exceeded; try restarting transaction"),
            ErrorKind::Retryable
        );
        assert_eq!(
            classify_message("CONSTRAINT `items_quantity_check` failed for `test`.`items`"),
            ErrorKind::CheckViolation
        );
        assert_eq!(classify_message("MySQL server has gone away"), ErrorKind::ConnectionLost);
        // libmariadb's spelling.
        assert_eq!(classify_message("Server has gone away"), ErrorKind::ConnectionLost);
        assert_eq!(classify_message("Connection was killed"), ErrorKind::ConnectionLost);
        assert_eq!(
            classify_message("WSREP has not yet prepared node for application use"),
            ErrorKind::ConnectionLost
        );
        assert_eq!(classify_message("Unknown column 'x' in 'field list'"), ErrorKind::Other);
    }
}
