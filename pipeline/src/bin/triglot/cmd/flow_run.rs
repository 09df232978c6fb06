//! What `triglot ingest` and `triglot load` share: the options of a flow
//! run, the run with its progress bar, and its summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use triglot::Database;
use triglot_pipeline::flow::{
    Flow, FlowBackend, FlowOptions, FlowProgress, FlowSummary, run_flow_with_progress,
};
use triglot_pipeline::{Error, Result};

use super::{Out, Progress, rejects_by_reason, thousands};

/// The text of the contract file at `path`, and its name for errors.
pub(crate) fn read_contract(path: &Path) -> Result<(String, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::Io { path: path.to_owned(), source })?;
    Ok((text, path.display().to_string()))
}

/// Options of a flow run.
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Families (a parent with its children, such as an order with its
    /// lines) per transaction.
    #[arg(long, default_value_t = triglot_pipeline::flow::FlowOptions::default().batch_size as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// MiB of records each table's sort holds in memory before it spills
    /// sorted runs to temporary files.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    sort_memory_mib: u64,
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

/// Runs `flow` over `files` (source name → path) with a progress bar, and
/// prints its summary as text headed by `verb`, or as JSON.
pub(crate) fn run<D: FlowBackend>(
    db: &Database<D>,
    verb: &str,
    flow: &Flow,
    files: &BTreeMap<String, PathBuf>,
    args: &RunArgs,
) -> Result<Out> {
    let options = FlowOptions {
        batch_size: args.batch_size as usize,
        sort_memory: (args.sort_memory_mib as usize) << 20,
        rejects_csv: args.rejects.clone(),
        ..FlowOptions::default()
    };
    let progress = Progress::start(args.quiet);
    let summary = run_flow_with_progress(db, flow, files, &options, &mut |p: FlowProgress| {
        progress.show(p.bytes, p.total_bytes, p.records);
    });
    progress.finish();
    let summary = summary?;
    let mut out = Out::default();
    if args.json {
        // A plain struct of numbers and strings: serializing cannot fail.
        outln!(out, "{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
    } else {
        print_summary(&mut out, verb, db, &summary);
    }
    Ok(out)
}

fn print_summary<D: triglot::Dialect>(
    out: &mut Out,
    verb: &str,
    db: &Database<D>,
    s: &FlowSummary,
) {
    let c = &s.counts;
    outln!(
        out,
        "{verb} into {} at {} with contract {} (run {})",
        D::NAME,
        db.location(),
        s.contract,
        s.run_id
    );
    outln!(out, "  records read   {:>12}", thousands(c.read as i64));
    outln!(
        out,
        "  accepted       {:>12}  ({} unchanged)",
        thousands(c.accepted as i64),
        thousands(c.unchanged as i64)
    );
    outln!(out, "  rejected       {:>12}", thousands(c.rejected as i64));
    for (table, w) in &s.tables {
        let families = w.new + w.changed + w.unchanged;
        let detail = if families > 0 {
            format!(
                "  ({} new, {} changed, {} unchanged)",
                thousands(w.new as i64),
                thousands(w.changed as i64),
                thousands(w.unchanged as i64)
            )
        } else {
            String::new()
        };
        outln!(out, "  {:<14} {:>12} rows written{detail}", table, thousands(w.rows as i64));
    }
    if c.retries > 0 {
        outln!(out, "  retries        {:>12}", thousands(c.retries as i64));
    }
    outln!(
        out,
        "  elapsed        {:>12.2} s ({} records/s)",
        s.elapsed.as_secs_f64(),
        thousands((c.read as f64 / s.elapsed.as_secs_f64().max(1e-9)) as i64)
    );
    rejects_by_reason(out, &s.rejects_by_reason);
}
