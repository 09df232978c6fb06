//! `triglot demo`: migrate, write deterministic sample orders, summarize them.

use std::io::IsTerminal;

use chrono::{TimeDelta, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use triglot::{AnyDatabase, Database};
use triglot_pipeline::contract::Contract;
use triglot_pipeline::report::{ReportOptions, Thresholds, build, text};
use triglot_pipeline::{DemoData, DemoSummary, OrderBackend, Result, run_demo};

use super::{Out, money, thousands};

/// Options of `triglot demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How many orders to generate.
    #[arg(long, default_value_t = 10_000)]
    orders: u64,
    /// Seed of the generator; the same seed gives the same orders.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Orders per transaction.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

pub(crate) fn run(url: &str, args: Args) -> Result<Out> {
    triglot::dispatch!(AnyDatabase::open(url)?, |db| Demo(args).run(db))
}

struct Demo(Args);

impl Demo {
    fn run<D: OrderBackend>(self, db: &Database<D>) -> Result<Out> {
        let args = self.0;
        let applied = db.migrate(&triglot_pipeline::MIGRATIONS)?;
        let data = DemoData::today(args.seed, args.orders);
        let bar = progress_bar(args.orders, args.quiet);
        let summary = run_demo(db, &data, args.batch_size as usize, |done| bar.set_position(done));
        bar.finish_and_clear();
        let summary = summary?;
        let mut out = Out::default();
        if args.json {
            // A plain struct of numbers and strings: serializing it cannot fail.
            outln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
            return Ok(out);
        }
        print_summary(&mut out, db, &data, applied.len(), &summary);
        // The quality report of what the demo wrote: its 30 days of orders and today's run.
        let options = ReportOptions {
            since: data.anchor() - TimeDelta::days(30),
            until: data.anchor() + TimeDelta::days(1),
            now: Utc::now().naive_utc(),
            contract: Contract::builtin_csv(),
            thresholds: Thresholds::default(),
        };
        let report = build(db, &options)?;
        outln!(out);
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        out.text(&text(&report, colour));
        Ok(out)
    }
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} orders  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn print_summary<D: triglot::Dialect>(
    out: &mut Out,
    db: &Database<D>,
    data: &DemoData,
    migrations: usize,
    s: &DemoSummary,
) {
    outln!(out, "triglot demo on {} at {}", D::NAME, db.location());
    outln!(out, "  migrations applied now: {migrations}");
    outln!(
        out,
        "  orders written:  {} new, {} changed, {} unchanged",
        thousands(s.written.orders_inserted as i64),
        thousands(s.written.orders_updated as i64),
        thousands(s.written.orders_unchanged as i64)
    );
    outln!(out, "  lines written:   {}", thousands(s.written.lines_written as i64));
    outln!(
        out,
        "  elapsed:         {:.2} s ({} rows/s)",
        s.elapsed.as_secs_f64(),
        thousands(s.rows_per_second() as i64)
    );
    outln!(out);
    outln!(
        out,
        "orders from {}: {} orders, {} lines",
        data.source(),
        thousands(s.orders),
        thousands(s.lines)
    );
    outln!(out, "  {:<10} {:<8} {:>8} {:>16}", "status", "currency", "orders", "revenue");
    for row in &s.by_status {
        outln!(
            out,
            "  {:<10} {:<8} {:>8} {:>16}",
            row.status,
            row.currency,
            thousands(row.orders),
            money(row.total_cents)
        );
    }
}
