//! URLs and the per-connection session setup of SQLite.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use triglot_core::{ConnectTarget, DatabaseUrl, Error, ServerVersion};

/// How long a statement waits for another connection's lock, in milliseconds.
pub(crate) const BUSY_TIMEOUT_MS: u32 = 5_000;

/// The page cache each connection may fill, in KiB (SQLite's default is
/// 2 MiB). A writer that commits several batches together
/// (`Capabilities::batches_per_commit`) changes pages all over an index
/// whose keys come in random order; past its cache SQLite writes them to
/// the log before the commit ("spills"), and writes them again when they
/// change again. A connection takes the memory only as it reads pages.
const CACHE_KIB: u32 = 32 * 1024;

/// Pages in the write-ahead log before a commit copies them back to the
/// database (SQLite's default is 1,000). A page that changes in several
/// transactions between two checkpoints is copied back once; the log grows
/// to about this size (80 MiB at 4 KiB pages) and is reused.
const AUTOCHECKPOINT_PAGES: u32 = 20_000;

pub(crate) fn connect_target(url: &DatabaseUrl) -> triglot_core::Result<ConnectTarget> {
    // Every connection of a `Database` is opened after its target is known.
    crate::threading::prefer_multithread();
    let path = url.rest();
    if path == ":memory:" {
        return Ok(ConnectTarget {
            connection_string: ":memory:".into(),
            display: ":memory:".into(),
            private_per_connection: true,
        });
    }
    if path.is_empty() {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: "no file path: use sqlite://PATH, sqlite:///ABSOLUTE/PATH or sqlite::memory:"
                .into(),
        });
    }
    if path.contains('?') {
        return Err(Error::InvalidUrl {
            url: url.to_string(),
            reason: "query parameters are not supported in sqlite:// URLs".into(),
        });
    }
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(Error::Open {
            backend: "SQLite",
            url: path.to_owned(),
            reason: format!("the directory {} does not exist", dir.display()),
        });
    }
    Ok(ConnectTarget {
        connection_string: path.to_owned(),
        display: path.to_owned(),
        private_per_connection: false,
    })
}

pub(crate) fn on_acquire(conn: &mut SqliteConnection) -> QueryResult<()> {
    // busy_timeout first: the journal_mode change below may itself wait for a lock.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -{CACHE_KIB};
         PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES};"
    ))
}

pub(crate) fn server_version(conn: &mut SqliteConnection) -> QueryResult<ServerVersion> {
    let text: String =
        diesel::select(diesel::dsl::sql::<Text>("sqlite_version()")).get_result(conn)?;
    Ok(ServerVersion::parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_url_is_private_per_connection() -> triglot_core::Result<()> {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let target = connect_target(&DatabaseUrl::parse(url)?)?;
            assert!(target.private_per_connection, "{url}");
        }
        Ok(())
    }

    #[test]
    fn file_url_keeps_relative_and_absolute_paths() -> triglot_core::Result<()> {
        let target = connect_target(&DatabaseUrl::parse("sqlite://triglot.db")?)?;
        assert_eq!(target.connection_string, "triglot.db");
        let target = connect_target(&DatabaseUrl::parse("sqlite:///tmp/triglot.db")?)?;
        assert_eq!(target.connection_string, "/tmp/triglot.db");
        Ok(())
    }

    #[test]
    fn missing_directory_is_named() {
        let err =
            connect_target(&DatabaseUrl::parse("sqlite:///no/such/dir/x.db").unwrap()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/no/such/dir/x.db") && text.contains("does not exist"), "{text}");
    }
}
