//! `triglot migrate`: apply pending migrations, or revert them all.

use triglot::{AnyDatabase, Database, Dialect, Result, WithDatabase};

use super::Out;

/// Options of `triglot migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Revert every applied migration instead (drops triglot's tables and their data).
    #[arg(long)]
    revert_all: bool,
}

pub(crate) fn run(url: &str, args: Args) -> Result<Out> {
    AnyDatabase::open(url)?.with(Migrate(args))
}

struct Migrate(Args);

impl WithDatabase for Migrate {
    type Output = Result<Out>;

    fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output {
        let mut out = Out::default();
        let (verb, versions) = if self.0.revert_all {
            ("reverted", db.revert_all_migrations()?)
        } else {
            ("applied", db.migrate()?)
        };
        if versions.is_empty() && !self.0.revert_all {
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
