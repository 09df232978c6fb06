//! Isolated SQLite databases for tests: a file in a temporary directory.

use triglot_core::testing::{Isolated, TestBackend};
use triglot_core::{Error, Result};

use crate::SqliteDialect;

impl TestBackend for SqliteDialect {
    const FEATURE: &'static str = "sqlite";
    const TEST_URL_ENV: Option<&'static str> = None;
    const TEST_URL_DEFAULT: &'static str = "sqlite://";
    const START_HINT: &'static str =
        "SQLite needs no server; check that the temporary directory is writable.";

    fn create_isolated(_server_url: &str, name: &str) -> Result<Isolated> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir()
            .map_err(|source| Error::Io { path: std::env::temp_dir(), source })?;
        let path = dir.path().join("test.db");
        Ok(Isolated { url: format!("sqlite://{}", path.display()), guard: Box::new(dir) })
    }
}
