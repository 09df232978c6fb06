//! `triglot check`: compare the live schema with the model layer.

use triglot::{AnyDatabase, Database, Dialect, Result, WithDatabase};

use super::Out;

/// Options of `triglot check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Print the differences as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(url: &str, args: Args) -> Result<Out> {
    AnyDatabase::open(url)?.with(Check(args))
}

struct Check(Args);

impl WithDatabase for Check {
    type Output = Result<Out>;

    fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output {
        let drifts = db.check_schema()?;
        let mut out = Out::default();
        if self.0.json {
            // Plain strings: serializing cannot fail.
            outln!(out, "{}", serde_json::to_string_pretty(&drifts).unwrap_or_default());
        } else if drifts.is_empty() {
            let model = triglot::parity::model_schema();
            let columns: usize = model.tables.values().map(|t| t.columns.len()).sum();
            outln!(
                out,
                "{} at {}: schema matches the model ({} tables, {columns} columns)",
                D::NAME,
                db.location(),
                model.tables.len()
            );
        } else {
            outln!(
                out,
                "{} at {}: {} difference(s) from the model",
                D::NAME,
                db.location(),
                drifts.len()
            );
            for drift in &drifts {
                outln!(out, "  {drift}");
            }
        }
        out.code = u8::from(!drifts.is_empty());
        Ok(out)
    }
}
