//! `triglot status`: applied migrations, row counts and the pool.

use triglot::{AnyDatabase, Database};
use triglot_pipeline::{OrderBackend, Result};

use super::{Out, thousands};

/// Options of `triglot status`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(url: &str, _args: Args) -> Result<Out> {
    triglot::dispatch!(AnyDatabase::open(url)?, |db| Status.run(db))
}

struct Status;

impl Status {
    fn run<D: OrderBackend>(self, db: &Database<D>) -> Result<Out> {
        let mut out = Out::default();
        outln!(out, "database:   {} {} at {}", D::NAME, db.server_version(), db.location());
        let migrations = db.migration_status(&triglot_pipeline::MIGRATIONS)?;
        outln!(
            out,
            "migrations: {} applied, {} pending",
            migrations.applied.len(),
            migrations.pending.len()
        );
        for version in &migrations.applied {
            outln!(out, "  applied  {version}");
        }
        for version in &migrations.pending {
            outln!(out, "  pending  {version}");
        }
        if migrations.applied.is_empty() {
            outln!(out, "tables:     none yet (run `triglot migrate`)");
        } else {
            outln!(out, "tables:");
            for (table, rows) in db.run("counting rows", triglot_pipeline::model::table_counts)? {
                outln!(out, "  {table:<12} {:>12} rows", thousands(rows));
            }
        }
        let pool = db.pool_state();
        outln!(
            out,
            "pool:       {} of {} connections open, {} idle, {} in use",
            pool.connections,
            pool.max_size,
            pool.idle,
            pool.in_use
        );
        Ok(out)
    }
}
