//! The rejects CSV file: every refused record, as its batch commits.

use std::path::{Path, PathBuf};

use crate::contract::Reject;
use crate::error::{Error, Result};

/// The `--rejects` CSV file: a header, then one row per reject.
pub(crate) struct RejectsFile {
    path: PathBuf,
    writer: csv::Writer<std::fs::File>,
}

impl RejectsFile {
    /// Creates (or empties) the file and writes its header.
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let mut writer = csv::Writer::from_path(path).map_err(|e| io_error(path, e))?;
        writer
            .write_record(["source", "line", "field", "reason", "detail", "raw"])
            .map_err(|e| io_error(path, e))?;
        Ok(Self { path: path.to_owned(), writer })
    }

    /// Appends `rejects` and flushes them to the file.
    pub(crate) fn write(&mut self, rejects: &[Reject]) -> Result<()> {
        for r in rejects {
            let line = r.line.to_string();
            let field = r.field.as_deref().unwrap_or("");
            self.writer
                .write_record([r.source.as_str(), &line, field, &r.reason, &r.detail, &r.raw])
                .map_err(|e| io_error(&self.path, e))?;
        }
        self.writer.flush().map_err(|source| Error::Io { path: self.path.clone(), source })
    }
}

fn io_error(path: &Path, e: csv::Error) -> Error {
    Error::Io { path: path.to_owned(), source: std::io::Error::other(e.to_string()) }
}
