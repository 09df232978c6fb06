//! `triglot load`: input files into a database's own tables through a flow
//! contract; every record written or rejected.

use std::collections::BTreeMap;
use std::path::PathBuf;

use triglot::Database;
use triglot_pipeline::flow::{Flow, FlowBackend};
use triglot_pipeline::{Error, Result};

use super::Out;
use super::flow_run::{self, RunArgs};

/// Options of `triglot load`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The flow contract (TOML): sources, target tables, rules.
    #[arg(long)]
    contract: PathBuf,
    /// One file per source of the contract: NAME=PATH (repeat the option).
    #[arg(long = "source", value_name = "NAME=PATH", required = true)]
    sources: Vec<String>,
    #[command(flatten)]
    run: RunArgs,
}

pub(crate) fn run(servers: &super::Servers, args: Args) -> Result<Out> {
    let mut files = BTreeMap::new();
    for source in &args.sources {
        let Some((name, path)) = source.split_once('=') else {
            return Err(Error::Input {
                path: PathBuf::from("--source"),
                line: None,
                message: format!("{source:?} is not NAME=PATH"),
            });
        };
        files.insert(name.to_owned(), PathBuf::from(path));
    }
    let (text, origin) = flow_run::read_contract(&args.contract)?;
    // What needs no database is checked before one is opened (or created).
    Flow::check(&text, &origin)?;
    let contract = (text.as_str(), origin.as_str());
    triglot::dispatch!(servers.open()?, |db| load(db, &args, contract, &files))
}

fn load<D: FlowBackend>(
    db: &Database<D>,
    args: &Args,
    (text, origin): (&str, &str),
    files: &BTreeMap<String, PathBuf>,
) -> Result<Out> {
    let flow = Flow::bind(text, origin, &db.introspect()?)?;
    flow_run::run(db, "load", &flow, files, &args.run)
}
