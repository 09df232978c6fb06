//! `triglot demo`: migrate, write deterministic sample orders as order CSV,
//! load them through the order flow contract, summarize them and print
//! their quality report.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use chrono::{TimeDelta, Utc};
use triglot::Database;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_QUALITY};
use triglot_pipeline::flow::{
    Counts, Flow, FlowBackend, FlowOptions, FlowProgress, QualityConfig, QualityOptions,
    TableWrites, quality_report, quality_text, run_flow_with_progress,
};
use triglot_pipeline::ingest::generate::{GenerateOptions, generate};
use triglot_pipeline::model::{OrderLineQueries, OrderQueries};
use triglot_pipeline::{DemoData, Error, OrderBackend, Result};

use super::{Out, Progress, money, thousands};

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
    #[arg(long, default_value_t = triglot_pipeline::flow::FlowOptions::default().batch_size as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// What a demo run wrote, and what the database holds for its source.
#[derive(Debug, serde::Serialize)]
struct Summary {
    backend: &'static str,
    /// Orders stored from the demo's source.
    orders: i64,
    /// Their lines.
    lines: i64,
    /// Orders and revenue per status and currency.
    by_status: Vec<StatusRow>,
    /// Records read, accepted, rejected and unchanged.
    counts: Counts,
    /// What the run wrote to each table.
    written: BTreeMap<String, TableWrites>,
    run_id: i64,
    elapsed: f64,
}

#[derive(Debug, serde::Serialize)]
struct StatusRow {
    status: String,
    currency: String,
    orders: i64,
    total_cents: i64,
}

pub(crate) fn run(servers: &super::Servers, args: Args) -> Result<Out> {
    triglot::dispatch!(servers.open()?, |db| demo(db, &args))
}

fn demo<D: FlowBackend + OrderBackend>(db: &Database<D>, args: &Args) -> Result<Out> {
    let applied = db.migrate(&triglot_pipeline::MIGRATIONS)?;
    let data = DemoData::today(args.seed, args.orders);
    let dir =
        tempfile::tempdir().map_err(|source| Error::Io { path: std::env::temp_dir(), source })?;
    let options = GenerateOptions {
        seed: args.seed,
        orders: args.orders,
        lines: None,
        dirty_rate: 0.0,
        anchor: data.anchor(),
    };
    generate(dir.path(), &options)?;
    // The orders carry the demo's source instead of the temporary file's path,
    // so a second demo of the same seed finds them unchanged.
    let source = data.source();
    let contract = ORDERS_FLOW.replace(
        r#"columns.source = { meta = "file" }"#,
        &format!("columns.source = {{ value = {source:?} }}"),
    );
    let flow = Flow::bind(&contract, "builtin:orders-flow.toml", &db.introspect()?)?;
    let files = BTreeMap::from([("rows".to_owned(), dir.path().join("orders.csv"))]);
    let run_options =
        FlowOptions { batch_size: args.batch_size as usize, ..FlowOptions::default() };
    let progress = Progress::start(args.quiet);
    let run = run_flow_with_progress(db, &flow, &files, &run_options, &mut |p: FlowProgress| {
        progress.show(p.bytes, p.total_bytes, p.records);
    });
    progress.finish();
    let run = run?;
    let (by_status, lines) = db.run("summarizing the demo", |conn| {
        Ok((conn.status_totals(&source, D::BIGINT_CAST)?, conn.count_lines_from_source(&source)?))
    })?;
    let summary = Summary {
        backend: D::NAME,
        orders: by_status.iter().map(|t| t.orders).sum(),
        lines,
        by_status: by_status
            .into_iter()
            .map(|t| StatusRow {
                status: t.status.to_string(),
                currency: t.currency,
                orders: t.orders,
                total_cents: t.total_cents,
            })
            .collect(),
        counts: run.counts,
        written: run.tables,
        run_id: run.run_id,
        elapsed: run.elapsed.as_secs_f64(),
    };
    let mut out = Out::default();
    if args.json {
        // A plain struct of numbers and strings: serializing it cannot fail.
        outln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
        return Ok(out);
    }
    print_summary(&mut out, db, &source, applied.len(), &summary);
    // The quality report of what the demo wrote: its 30 days of orders and today's run.
    let day = data.anchor().date();
    let report = quality_report(
        db,
        &QualityOptions {
            since: day - TimeDelta::days(30),
            until: day + TimeDelta::days(1),
            now: Utc::now().naive_utc(),
            config: QualityConfig::from_toml(ORDERS_QUALITY, "builtin:orders-quality.toml")?,
            flow: Some(flow),
        },
    )?;
    outln!(out);
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    out.text(&quality_text(&report, colour));
    Ok(out)
}

fn print_summary<D: triglot::Dialect>(
    out: &mut Out,
    db: &Database<D>,
    source: &str,
    migrations: usize,
    s: &Summary,
) {
    let orders = s.written.get("orders").copied().unwrap_or_default();
    let lines = s.written.get("order_lines").copied().unwrap_or_default();
    outln!(out, "triglot demo on {} at {}", D::NAME, db.location());
    outln!(out, "  migrations applied now: {migrations}");
    outln!(
        out,
        "  orders written:  {} new, {} changed, {} unchanged",
        thousands(orders.new as i64),
        thousands(orders.changed as i64),
        thousands(orders.unchanged as i64)
    );
    outln!(out, "  lines written:   {}", thousands(lines.rows as i64));
    let rows: u64 = s.written.values().map(|w| w.rows).sum();
    outln!(
        out,
        "  elapsed:         {:.2} s ({} rows/s)",
        s.elapsed,
        thousands((rows as f64 / s.elapsed.max(1e-9)) as i64)
    );
    outln!(out);
    outln!(
        out,
        "orders from {source}: {} orders, {} lines",
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
