//! Energy billing kept with triglot's flows: sites (a reference file),
//! invoices and their items (two pipe-separated exports, keys in numeric
//! order), loaded by a declared contract ([`CONTRACT`]) into the project's
//! own schema (`migrations/{sqlite,mysql,postgres}`). No Rust of this
//! project says how a file becomes rows: the contract does.

/// The billing schema's migrations, one folder per backend.
pub static MIGRATIONS: triglot::Migrations = triglot::migrations!();

/// The contract that loads the four exports (`billing.toml`).
pub const CONTRACT: &str = include_str!("../billing.toml");

/// The quality report's configuration: a logical foreign key, the watched
/// date column, custom checks and thresholds (`quality.toml`).
pub const QUALITY: &str = include_str!("../quality.toml");
