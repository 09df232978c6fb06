//! `triglot check`: build a migration set on every reachable backend and
//! compare the schemas with each other and with the model.

use std::path::PathBuf;

use triglot::Migrations;
use triglot_pipeline::Result;

use super::Out;

/// Options of `triglot check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A migrations directory with one folder per backend (`sqlite/`,
    /// `mysql/`, `postgres/`, diesel_cli's layout); default: the order
    /// schema built into this program, also compared with its `table!`s.
    #[arg(long, value_name = "DIR")]
    migrations: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Result<Out> {
    let owned = args.migrations.as_ref().map(Migrations::from_dir);
    let (set, model) = match &owned {
        Some(set) => (set, None),
        None => (&triglot_pipeline::MIGRATIONS, Some(triglot_pipeline::model_schema())),
    };
    let report = triglot::check_parity(set, model.as_ref())?;
    let mut out = Out::default();
    if args.json {
        // Plain strings and numbers: serializing cannot fail.
        outln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        let mut sides: Vec<&str> = Vec::new();
        if model.is_some() {
            sides.push("model");
        }
        sides.extend(&report.compared);
        for (backend, why) in &report.skipped {
            outln!(out, "{backend}: skipped, server not reachable: {why}");
        }
        if report.agrees() {
            outln!(out, "schemas agree ({}; {} tables)", sides.join(", "), report.tables);
        } else {
            outln!(out, "{} difference(s) between {}", report.differences.len(), sides.join(", "));
            for difference in &report.differences {
                outln!(out, "  {difference}");
            }
        }
    }
    out.code = u8::from(!report.agrees());
    Ok(out)
}
