//! `triglot ingest`: load order files through a contract; every record written or rejected.

use std::path::PathBuf;

use triglot::{AnyDatabase, Database};
use triglot_pipeline::contract::Contract;
use triglot_pipeline::ingest::{IngestOptions, IngestSummary, Progress as IngestProgress, ingest};
use triglot_pipeline::{OrderBackend, Result};

use super::{Out, Progress, rejects_by_reason, thousands};

/// Options of `triglot ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Input files; with an orders-and-lines contract, in pairs (orders file, lines file).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The contract (TOML); without it, the built-in contract of `--format`.
    #[arg(long)]
    contract: Option<PathBuf>,
    /// The built-in format when no contract is given; guessed from the first
    /// file's extension (.jsonl, .ndjson → jsonl; otherwise csv).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Orders per transaction.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Also write every rejected record to this CSV file.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

pub(crate) fn run(url: &str, args: Args) -> Result<Out> {
    let contract = match (&args.contract, args.format) {
        (Some(path), _) => Contract::load(path)?,
        (None, Some(Format::Jsonl)) => Contract::builtin_jsonl(),
        (None, Some(Format::Csv)) => Contract::builtin_csv(),
        (None, None) => {
            let jsonl = args.files[0].extension().is_some_and(|e| {
                e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson")
            });
            if jsonl { Contract::builtin_jsonl() } else { Contract::builtin_csv() }
        }
    };
    triglot::dispatch!(AnyDatabase::open(url)?, |db| Ingest { args, contract }.run(db))
}

struct Ingest {
    args: Args,
    contract: Contract,
}

impl Ingest {
    fn run<D: OrderBackend>(self, db: &Database<D>) -> Result<Out> {
        let Ingest { args, contract } = self;
        db.migrate(&triglot_pipeline::MIGRATIONS)?;
        let options = IngestOptions {
            batch_size: args.batch_size as usize,
            rejects_csv: args.rejects.clone(),
            ..IngestOptions::default()
        };
        let progress = Progress::start(args.quiet);
        let summary = ingest(db, &contract, &args.files, &options, &mut |p: IngestProgress| {
            progress.show(p.bytes, p.total_bytes, p.records);
        });
        progress.finish();
        let summary = summary?;
        let mut out = Out::default();
        if args.json {
            // A plain struct of numbers and strings: serializing cannot fail.
            outln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
        } else {
            print_summary(&mut out, db, &summary);
        }
        Ok(out)
    }
}

fn print_summary<D: triglot::Dialect>(out: &mut Out, db: &Database<D>, s: &IngestSummary) {
    let w = &s.written;
    outln!(
        out,
        "ingest into {} at {} with contract {} (run {})",
        D::NAME,
        db.location(),
        s.contract,
        s.run_id
    );
    outln!(out, "  records read   {:>12}", thousands(s.records_read as i64));
    outln!(out, "  accepted       {:>12}", thousands(s.records_accepted as i64));
    outln!(out, "  rejected       {:>12}", thousands(s.records_rejected as i64));
    outln!(
        out,
        "  orders         {:>12}  ({} new, {} changed, {} unchanged; {} lines written)",
        thousands(w.orders() as i64),
        thousands(w.orders_inserted as i64),
        thousands(w.orders_updated as i64),
        thousands(w.orders_unchanged as i64),
        thousands(w.lines_written as i64)
    );
    outln!(
        out,
        "  elapsed        {:>12.2} s ({} records/s)",
        s.elapsed.as_secs_f64(),
        thousands(s.records_per_second() as i64)
    );
    rejects_by_reason(out, &s.rejects_by_reason);
}
