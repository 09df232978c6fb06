//! A caller's migrations, one set per backend: embedded at compile time or
//! read from a directory at run time.
//!
//! triglot has no schema of its own: a project keeps one migrations folder
//! per backend (`migrations/sqlite`, `migrations/mysql`,
//! `migrations/postgres`, diesel_cli's layout) and hands the set to
//! [`Database::migrate`], the test harness and the parity check. A set is
//! embedded at compile time by `triglot::migrations!`, or read from a
//! directory at run time by [`Migrations::from_dir`].

use std::path::{Path, PathBuf};

use diesel::backend::Backend;
use diesel::migration::{Migration, MigrationSource};
use diesel_migrations::{EmbeddedMigrations, FileBasedMigrations};

use crate::error::{Error, Result};

/// One backend's migrations embedded in the binary, with a fingerprint of
/// their files. Built by `triglot::migrations!`.
pub struct EmbeddedSet {
    key: &'static str,
    fingerprint: u64,
    migrations: EmbeddedMigrations,
}

impl EmbeddedSet {
    /// The set of the backend `key`, as the `migrations!` macro builds it.
    #[doc(hidden)]
    pub const fn __new(
        key: &'static str,
        fingerprint: u64,
        migrations: EmbeddedMigrations,
    ) -> Self {
        Self { key, fingerprint, migrations }
    }
}

impl std::fmt::Debug for EmbeddedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedSet")
            .field("key", &self.key)
            .field("fingerprint", &format_args!("{:016x}", self.fingerprint))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SetSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetSource::Embedded(_) => f.write_str("SetSource::Embedded"),
            SetSource::Dir(m) => f.debug_tuple("SetSource::Dir").field(&m.path()).finish(),
        }
    }
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.source {
            Source::Embedded(sets) => f
                .debug_struct("Migrations")
                .field("embedded", &sets.iter().map(|s| s.key).collect::<Vec<_>>())
                .finish(),
            Source::Dir(dir) => f.debug_struct("Migrations").field("dir", dir).finish(),
        }
    }
}

/// A project's migrations for every backend: embedded per compiled-in
/// backend, or a directory read at run time.
///
/// # Example
///
/// ```
/// use triglot_core::{Database, Dialect, Migrations};
///
/// // `migrations/sqlite/<version>_<name>/up.sql`, … as diesel_cli lays them out.
/// fn migrate<D: Dialect>(db: &Database<D>) -> triglot_core::Result<Vec<String>> {
///     db.migrate(&Migrations::from_dir("migrations"))
/// }
/// ```
pub struct Migrations {
    source: Source,
}

enum Source {
    Embedded(&'static [EmbeddedSet]),
    Dir(PathBuf),
}

impl Migrations {
    /// The sets the `migrations!` macro embedded, one per compiled-in backend.
    #[doc(hidden)]
    pub const fn __embedded(sets: &'static [EmbeddedSet]) -> Self {
        Self { source: Source::Embedded(sets) }
    }

    /// The migrations in `dir/<backend key>` (`dir/sqlite`, `dir/mysql`,
    /// `dir/postgres`), read when they are run.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        Self { source: Source::Dir(dir.into()) }
    }

    /// The directory a run-time set reads, `None` for an embedded one.
    pub fn dir(&self) -> Option<&Path> {
        match &self.source {
            Source::Dir(dir) => Some(dir),
            Source::Embedded(_) => None,
        }
    }

    /// A fingerprint of the migrations of the backend `key` (display name
    /// `backend`, for errors) (the path and content of every
    /// file): equal sets give equal values on any machine. The test harness
    /// names PostgreSQL's migrated template after it.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for the backend.
    pub fn fingerprint_of(&self, key: &str, backend: &'static str) -> Result<u64> {
        match &self.source {
            Source::Embedded(sets) => Ok(embedded(sets, key, backend)?.fingerprint),
            Source::Dir(dir) => {
                let folder = folder(dir, key, backend)?;
                let mut files = Vec::new();
                collect_files(&folder, &mut files)
                    .map_err(|e| missing(backend, format!("{}: {e}", folder.display())))?;
                files.sort();
                let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
                for file in files {
                    let relative = file.strip_prefix(&folder).unwrap_or(&file);
                    let bytes = std::fs::read(&file)
                        .map_err(|source| Error::Io { path: file.clone(), source })?;
                    let name = relative.to_string_lossy().into_owned();
                    for b in name.bytes().chain([0]).chain(bytes).chain([0]) {
                        hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
                    }
                }
                Ok(hash)
            }
        }
    }

    /// The migrations of the backend `key` (display name `backend`) as
    /// diesel's source.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for the backend,
    /// or its directory is not a migrations directory.
    pub fn source_of(&self, key: &str, backend: &'static str) -> Result<SetSource<'_>> {
        match &self.source {
            Source::Embedded(sets) => {
                Ok(SetSource::Embedded(&embedded(sets, key, backend)?.migrations))
            }
            Source::Dir(dir) => {
                let folder = folder(dir, key, backend)?;
                FileBasedMigrations::from_path(&folder)
                    .map(SetSource::Dir)
                    .map_err(|e| missing(backend, format!("{}: {e}", folder.display())))
            }
        }
    }
}

/// One backend's migrations of a [`Migrations`] set, as diesel's
/// `MigrationSource`.
pub enum SetSource<'a> {
    /// Embedded at compile time.
    Embedded(&'a EmbeddedMigrations),
    /// Read from a directory.
    Dir(FileBasedMigrations),
}

impl<DB: Backend> MigrationSource<DB> for SetSource<'_> {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        match self {
            SetSource::Embedded(m) => <EmbeddedMigrations as MigrationSource<DB>>::migrations(m),
            SetSource::Dir(m) => <FileBasedMigrations as MigrationSource<DB>>::migrations(m),
        }
    }
}

fn embedded(
    sets: &'static [EmbeddedSet],
    key: &str,
    backend: &'static str,
) -> Result<&'static EmbeddedSet> {
    sets.iter().find(|s| s.key == key).ok_or_else(|| {
        missing(
            backend,
            format!(
                "this set embeds no migrations for {key} (embedded: {})",
                sets.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

fn folder(dir: &Path, key: &str, backend: &'static str) -> Result<PathBuf> {
    let folder = dir.join(key);
    if folder.is_dir() {
        Ok(folder)
    } else {
        Err(missing(backend, format!("no migrations folder {} for {backend}", folder.display())))
    }
}

fn missing(backend: &'static str, message: String) -> Error {
    Error::Migration { backend, url: String::new(), message }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
