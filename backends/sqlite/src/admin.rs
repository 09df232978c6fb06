//! Scratch SQLite databases (tests, the parity check): a directory per
//! database under the system's temporary directory, holding the file.

use std::path::PathBuf;

use triglot_core::{Error, Result};

fn dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(name)
}

pub(crate) fn create_database(_server_url: &str, name: &str) -> Result<String> {
    let dir = dir(triglot_core::testing::checked_name(name)?);
    std::fs::create_dir(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
    Ok(format!("sqlite://{}", dir.join("test.db").display()))
}

pub(crate) fn list_databases(_server_url: &str, prefix: &str) -> Result<Vec<String>> {
    let tmp = std::env::temp_dir();
    let entries = std::fs::read_dir(&tmp).map_err(|source| Error::Io { path: tmp, source })?;
    Ok(entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(prefix))
        .collect())
}

pub(crate) fn drop_database(_server_url: &str, name: &str) -> Result<()> {
    let dir = dir(triglot_core::testing::checked_name(name)?);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::Io { path: dir, source: e })
        }
        _ => Ok(()),
    }
}
