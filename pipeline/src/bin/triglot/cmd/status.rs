//! `triglot status`: applied migrations, row counts and the pool.

use triglot::Database;
use triglot::values::Statement;
use triglot_pipeline::Result;
use triglot_pipeline::flow::{FlowBackend, FlowQueries};

use super::{Out, thousands};

/// Options of `triglot status`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(servers: &super::Servers, _args: Args) -> Result<Out> {
    triglot::dispatch!(servers.open()?, |db| Status.run(db))
}

struct Status;

impl Status {
    fn run<D: FlowBackend>(self, db: &Database<D>) -> Result<Out> {
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
        // Every table the catalog shows, the run tables of flows among them.
        let schema = db.introspect()?;
        if schema.tables.is_empty() {
            outln!(out, "tables:     none yet (run `triglot migrate`)");
        } else {
            outln!(out, "tables:");
            for table in schema.tables.keys() {
                let mut count = Statement::new("SELECT COUNT(*) AS n FROM ");
                count.ident(table.as_str());
                let rows = db.run("counting rows", |conn| conn.count(&count))?.unwrap_or(0);
                outln!(out, "  {table:<20} {:>12} rows", thousands(rows));
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
