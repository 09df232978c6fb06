//! `triglot generate`: sample input with a known number of defects of each kind.

use std::path::PathBuf;

use triglot_pipeline::Result;
use triglot_pipeline::ingest::generate::{Expected, GenerateOptions, generate};

use super::{Out, thousands};

/// Options of `triglot generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How many orders (about three lines each).
    #[arg(long, default_value_t = 1_000, conflicts_with = "lines")]
    orders: u64,
    /// Exactly this many order lines (CSV rows) instead.
    #[arg(long)]
    lines: Option<u64>,
    /// Fraction of orders that carry one defect, 0 to 1.
    #[arg(long, default_value_t = 0.01)]
    dirty_rate: f64,
    /// Seed; the same seed gives the same files.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Directory to write orders.csv, orders.jsonl and expected.json into.
    #[arg(long, default_value = "sample")]
    out: PathBuf,
}

pub(crate) fn run(args: Args) -> Result<Out> {
    let anchor = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
    let options = GenerateOptions {
        seed: args.seed,
        orders: args.orders,
        lines: args.lines,
        dirty_rate: args.dirty_rate,
        anchor,
    };
    let generated = generate(&args.out, &options)?;
    let mut out = Out::default();
    for expected in [&generated.csv, &generated.jsonl] {
        describe(&mut out, expected);
    }
    outln!(out, "expected outcomes: {}", args.out.join("expected.json").display());
    Ok(out)
}

fn describe(out: &mut Out, e: &Expected) {
    outln!(
        out,
        "{}: {} records; ingest must accept {} ({} orders, {} lines) and reject {}",
        e.file,
        thousands(e.records as i64),
        thousands(e.accepted as i64),
        thousands(e.orders as i64),
        thousands(e.lines as i64),
        thousands(e.rejected as i64)
    );
    for (reason, count) in &e.by_reason {
        outln!(out, "  {reason:<26} {:>10}", thousands(*count as i64));
    }
}
