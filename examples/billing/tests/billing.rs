//! The billing exports through the contract on every backend: what loads
//! equals a recount done here, independently, in integer cents; every
//! planted defect is refused with its reason and line; a second run changes
//! nothing.

mod exports;

use std::path::Path;

use billing::{CONTRACT, MIGRATIONS};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use triglot::values::Statement;
use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

use self::exports::exports;

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

#[derive(QueryableByName, Debug)]
struct RejectRow {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Text)]
    reason: String,
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().unwrap().to_string_lossy().into_owned()
}

triglot::backend_test!(
    billing_exports_load_exactly_and_every_defect_is_refused_with_its_line,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        let exports = exports();
        let flow = Flow::bind(CONTRACT, "billing.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &exports.files, &FlowOptions::default())?;
        let counts = summary.counts;
        assert_eq!(counts.read, exports.lines, "on {}", D::NAME);
        assert_eq!(counts.read, counts.accepted + counts.rejected);
        assert_eq!(
            counts.rejected,
            exports.planted.len() as u64 + exports.with_parent,
            "{summary:?}"
        );

        let count = |sql: &str| -> triglot::Result<i64> {
            let rows: Vec<Count> =
                db.run("counting", |conn| diesel::RunQueryDsl::load(Statement::new(sql), conn))?;
            Ok(rows[0].n.unwrap_or(0))
        };
        assert_eq!(count("SELECT COUNT(*) AS n FROM regions")?, exports.regions);
        assert_eq!(count("SELECT COUNT(*) AS n FROM sites")?, exports.sites);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoices")?, exports.invoices);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoice_items")?, exports.items);
        let cents = |column: &str, table: &str| {
            count(&format!(
                "SELECT CAST(ROUND(SUM({column}) * 100) AS {}) AS n FROM {table}",
                D::BIGINT_CAST
            ))
        };
        assert_eq!(cents("amount", "invoice_items")?, exports.cents, "on {}", D::NAME);
        assert_eq!(cents("total", "invoices")?, exports.cents, "on {}", D::NAME);

        let rejects: Vec<RejectRow> = db.run("reading rejects", |conn| {
            diesel::RunQueryDsl::load(
                Statement::new(
                    "SELECT source, line, reason FROM triglot_rejects \
                     WHERE reason <> 'rejected_with_parent' ORDER BY source, line",
                ),
                conn,
            )
        })?;
        let mut found: Vec<(String, u64, String)> =
            rejects.into_iter().map(|r| (file_name(&r.source), r.line as u64, r.reason)).collect();
        found.sort();
        let mut planted: Vec<(String, u64, String)> =
            exports.planted.iter().map(|(f, l, r)| (f.to_string(), *l, r.to_string())).collect();
        planted.sort();
        assert_eq!(found, planted, "on {}", D::NAME);

        // Again: every family found unchanged, nothing written.
        let again = run_flow(db, &flow, &exports.files, &FlowOptions::default())?;
        assert_eq!(again.counts.read, exports.lines);
        assert_eq!(again.counts.unchanged, counts.accepted, "on {}", D::NAME);
        let rewritten = count(&format!(
            "SELECT COUNT(*) AS n FROM triglot_fingerprints WHERE run_id <> {}",
            summary.run_id
        ))?;
        assert_eq!(rewritten, 0, "on {}", D::NAME);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoice_items")?, exports.items);
        assert_eq!(cents("amount", "invoice_items")?, exports.cents);
        Ok(())
    }
);
