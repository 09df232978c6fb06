//! The MySQL migrations, embedded at compile time.

use triglot_core::diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// `migrations/mysql` of the workspace.
pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");
