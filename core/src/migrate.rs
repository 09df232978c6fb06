//! Running a caller's [`Migrations`] on a [`Database`].

use diesel_migrations::MigrationHarness;

use crate::database::Database;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::migrations::{Migrations, SetSource};

impl Migrations {
    /// A fingerprint of `D`'s migrations (the path and content of every
    /// file): equal sets give equal values on any machine. The test harness
    /// names PostgreSQL's migrated template after it.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for `D`.
    pub fn fingerprint<D: Dialect>(&self) -> Result<u64> {
        self.fingerprint_of(D::KEY, D::NAME)
    }

    /// `D`'s migrations as diesel's source.
    ///
    /// # Errors
    ///
    /// [`Error::Migration`] when the set has no migrations for `D`, or its
    /// directory is not a migrations directory.
    pub fn source<D: Dialect>(&self) -> Result<SetSource<'_>> {
        self.source_of(D::KEY, D::NAME)
    }
}

/// The migrations of a database: which are applied and which are pending.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationStatus {
    /// Versions applied, oldest first (e.g. `20261125000001`, diesel's spelling of `2026-11-25-000001_create_items`).
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
