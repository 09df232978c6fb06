//! Isolated SQLite databases for tests: a directory per test under the
//! system's temporary directory, holding the database file.

use std::path::PathBuf;

use triglot_core::testing::TestBackend;
use triglot_core::{Error, Result};

use crate::SqliteDialect;

fn dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(name)
}

impl TestBackend for SqliteDialect {
    const FEATURE: &'static str = "sqlite";
    const TEST_URL_ENV: Option<&'static str> = None;
    const TEST_URL_DEFAULT: &'static str = "sqlite://";
    const START_HINT: &'static str =
        "SQLite needs no server; check that the temporary directory is writable.";

    fn create_database(_server_url: &str, name: &str) -> Result<String> {
        let dir = dir(name);
        std::fs::create_dir(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        Ok(format!("sqlite://{}", dir.join("test.db").display()))
    }

    fn list_databases(_server_url: &str, prefix: &str) -> Result<Vec<String>> {
        let tmp = std::env::temp_dir();
        let entries = std::fs::read_dir(&tmp).map_err(|source| Error::Io { path: tmp, source })?;
        Ok(entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(prefix))
            .collect())
    }

    fn drop_database(_server_url: &str, name: &str) -> Result<()> {
        let dir = dir(name);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::Io { path: dir, source: e })
            }
            _ => Ok(()),
        }
    }
}
