//! `triglot migrate`: apply pending migrations, or revert them all.

use std::path::PathBuf;

use triglot::{Database, Dialect, Migrations, WithDatabase};
use triglot_pipeline::Result;

use super::Out;

/// Options of `triglot migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Revert every applied migration instead (drops the set's tables and their data).
    #[arg(long)]
    revert_all: bool,
    /// A migrations directory with one folder per backend (`sqlite/`,
    /// `mysql/`, `postgres/`, diesel_cli's layout); default: the order
    /// schema built into this program.
    #[arg(long, value_name = "DIR")]
    migrations: Option<PathBuf>,
}

pub(crate) fn run(servers: &super::Servers, args: Args) -> Result<Out> {
    let owned = args.migrations.as_ref().map(Migrations::from_dir);
    let set = owned.as_ref().unwrap_or(&triglot_pipeline::MIGRATIONS);
    Ok(servers.open()?.with(Migrate { revert_all: args.revert_all, set })?)
}

struct Migrate<'a> {
    revert_all: bool,
    set: &'a Migrations,
}

impl WithDatabase for Migrate<'_> {
    type Output = triglot::Result<Out>;

    fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output {
        let mut out = Out::default();
        let (verb, versions) = if self.revert_all {
            ("reverted", db.revert_all_migrations(self.set)?)
        } else {
            ("applied", db.migrate(self.set)?)
        };
        if versions.is_empty() && !self.revert_all {
            outln!(out, "{} at {}: schema is up to date", D::NAME, db.location());
        } else {
            outln!(out, "{} at {}: {verb} {} migration(s)", D::NAME, db.location(), versions.len());
        }
        for version in versions {
            outln!(out, "  {verb} {version}");
        }
        Ok(out)
    }
}
