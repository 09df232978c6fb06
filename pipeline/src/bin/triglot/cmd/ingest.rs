//! `triglot ingest`: order files into the order schema through a flow
//! contract (the built-in one of their format, or `--contract`); every
//! record written or rejected.

use std::path::PathBuf;

use triglot::Database;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_JSONL_FLOW};
use triglot_pipeline::flow::{Flow, FlowBackend};
use triglot_pipeline::{Error, Result};

use super::Out;
use super::flow_run::{self, RunArgs};

/// Options of `triglot ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Input files, one per source of the contract in the order it declares
    /// them (the built-in contracts read one file).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// A flow contract (TOML) over the order schema; without it, the
    /// built-in contract of `--format`.
    #[arg(long)]
    contract: Option<PathBuf>,
    /// The built-in format when no contract is given; guessed from the first
    /// file's extension (.jsonl, .ndjson → jsonl; otherwise csv).
    #[arg(long, value_enum, conflicts_with = "contract")]
    format: Option<Format>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

pub(crate) fn run(servers: &super::Servers, args: Args) -> Result<Out> {
    let (text, origin) = match (&args.contract, args.format) {
        (Some(path), _) => flow_run::read_contract(path)?,
        (None, format) => {
            let jsonl = format.map_or_else(
                || {
                    args.files[0].extension().is_some_and(|e| {
                        e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson")
                    })
                },
                |f| f == Format::Jsonl,
            );
            if jsonl {
                (ORDERS_JSONL_FLOW.to_owned(), "builtin:orders-jsonl-flow.toml".to_owned())
            } else {
                (ORDERS_FLOW.to_owned(), "builtin:orders-flow.toml".to_owned())
            }
        }
    };
    // What needs no database is checked before one is opened (or created).
    Flow::check(&text, &origin)?;
    triglot::dispatch!(servers.open()?, |db| ingest(db, &args, (&text, &origin)))
}

fn ingest<D: FlowBackend>(
    db: &Database<D>,
    args: &Args,
    (text, origin): (&str, &str),
) -> Result<Out> {
    db.migrate(&triglot_pipeline::MIGRATIONS)?;
    let flow = Flow::bind(text, origin, &db.introspect()?)?;
    let files = flow.files_in_order(&args.files).map_err(|message| Error::Input {
        path: args.files[0].clone(),
        line: None,
        message,
    })?;
    flow_run::run(db, "ingest", &flow, &files, &args.run)
}
