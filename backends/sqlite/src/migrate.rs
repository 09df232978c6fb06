//! The SQLite migrations, embedded at compile time.

use triglot_core::diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// `migrations/sqlite` of the workspace.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
