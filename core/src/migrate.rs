//! A caller's migrations, one set per backend, and running them on a [`Database`].
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
use diesel_migrations::{EmbeddedMigrations, FileBasedMigrations, MigrationHarness};

use crate::database::Database;
use crate::dialect::Dialect;
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

    /// A fingerprint of `D`'s migrations (the path and content of every
    /// file): equal sets give equal values on any machine. The test harness
    /// names PostgreSQL's migrated template after it.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for `D`.
    pub fn fingerprint<D: Dialect>(&self) -> Result<u64> {
        match &self.source {
            Source::Embedded(sets) => Ok(embedded::<D>(sets)?.fingerprint),
            Source::Dir(dir) => {
                let folder = folder::<D>(dir)?;
                let mut files = Vec::new();
                collect_files(&folder, &mut files)
                    .map_err(|e| missing::<D>(format!("{}: {e}", folder.display())))?;
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

    /// `D`'s migrations as diesel's source.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for `D`, or its
    /// directory is not a migrations directory.
    pub fn source<D: Dialect>(&self) -> Result<SetSource<'_>> {
        match &self.source {
            Source::Embedded(sets) => Ok(SetSource::Embedded(&embedded::<D>(sets)?.migrations)),
            Source::Dir(dir) => {
                let folder = folder::<D>(dir)?;
                FileBasedMigrations::from_path(&folder)
                    .map(SetSource::Dir)
                    .map_err(|e| missing::<D>(format!("{}: {e}", folder.display())))
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

fn embedded<D: Dialect>(sets: &'static [EmbeddedSet]) -> Result<&'static EmbeddedSet> {
    sets.iter().find(|s| s.key == D::KEY).ok_or_else(|| {
        missing::<D>(format!(
            "this set embeds no migrations for {} (embedded: {})",
            D::KEY,
            sets.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
        ))
    })
}

fn folder<D: Dialect>(dir: &Path) -> Result<PathBuf> {
    let folder = dir.join(D::KEY);
    if folder.is_dir() {
        Ok(folder)
    } else {
        Err(missing::<D>(format!("no migrations folder {} for {}", folder.display(), D::NAME)))
    }
}

fn missing<D: Dialect>(message: String) -> Error {
    Error::Migration { backend: D::NAME, url: String::new(), message }
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

/// The migrations of a database: which are applied and which are pending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationStatus {
    /// Versions applied, oldest first (e.g. `2026-11-25-000001`).
    pub applied: Vec<String>,
    /// Versions of the set that are not applied, oldest first.
    pub pending: Vec<String>,
}

impl<D: Dialect> Database<D> {
    /// Applies every pending migration of `migrations` and returns the
    /// versions it applied, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] naming the backend and the failing migration. On a
    /// backend without transactional DDL (MySQL) the failing migration may be
    /// partly applied; the message says so.
    pub fn migrate(&self, migrations: &Migrations) -> Result<Vec<String>> {
        let source = self.with_url(migrations.source::<D>())?;
        let mut conn = self.get()?;
        let ran = conn.run_pending_migrations(source).map_err(|e| self.migration_error(&*e))?;
        let ran: Vec<String> = ran.into_iter().map(|v| v.to_string()).collect();
        if !ran.is_empty() {
            tracing::info!(backend = D::NAME, url = %self.url(), migrations = ?ran, "applied migrations");
        }
        Ok(ran)
    }

    /// Reverts every applied migration of `migrations`, newest first, and
    /// returns their versions.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] if a `down.sql` fails.
    pub fn revert_all_migrations(&self, migrations: &Migrations) -> Result<Vec<String>> {
        let source = self.with_url(migrations.source::<D>())?;
        let mut conn = self.get()?;
        let reverted = conn.revert_all_migrations(source).map_err(|e| self.migration_error(&*e))?;
        Ok(reverted.into_iter().map(|v| v.to_string()).collect())
    }

    /// Which migrations of `migrations` are applied and which are pending.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] if the migrations table cannot be read.
    pub fn migration_status(&self, migrations: &Migrations) -> Result<MigrationStatus> {
        let source = self.with_url(migrations.source::<D>())?;
        let mut conn = self.get()?;
        let mut applied: Vec<String> = conn
            .applied_migrations()
            .map_err(|e| self.migration_error(&*e))?
            .into_iter()
            .map(|v| v.to_string())
            .collect();
        applied.sort();
        let pending = conn
            .pending_migrations(source)
            .map_err(|e| self.migration_error(&*e))?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        Ok(MigrationStatus { applied, pending })
    }

    /// Puts this database's redacted URL into a migration error of the set.
    fn with_url<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|err| match err {
            Error::Migration { backend, message, .. } => {
                Error::Migration { backend, url: self.url().to_string(), message }
            }
            other => other,
        })
    }

    fn migration_error(&self, err: &(dyn std::error::Error + Send + Sync)) -> Error {
        let mut message = self.url().scrub(&err.to_string());
        if !self.capabilities().transactional_ddl {
            message.push_str(
                " (this backend commits DDL statement by statement: the failing migration may be partly applied)",
            );
        }
        Error::Migration { backend: D::NAME, url: self.url().to_string(), message }
    }
}
