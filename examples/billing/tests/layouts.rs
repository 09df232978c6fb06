//! The same tables filled from other layouts: JSON lines with the items
//! nested in their invoice, and one CSV row per item with the invoice's
//! fields repeated (or left empty) on each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use billing::{CONTRACT, MIGRATIONS};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use triglot::values::Statement;
use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

const NESTED: &str = r#"
name = "billing-jsonl"

[sources.invoices]
format = "jsonl"

[tables.invoices]
source = "invoices"
key = ["id"]
columns.id = { field = "no" }
columns.site_id = { field = "site.no" }
columns.issued_on = { field = "issued" }
columns.paid = { field = "paid" }
columns.currency = { value = "EUR" }
columns.total = { expr = "sum(invoice_items.amount)" }

[tables.invoice_items]
nested = "items"
parent = "invoices"
key = ["invoice_id", "item_no"]
columns.invoice_id = { parent = "id" }
columns.item_no = { field = "no" }
columns.kwh = { field = "kwh" }
columns.rate = { field = "rate" }
columns.amount = { expr = "kwh * rate" }
"#;

const ROWS: &str = r#"
name = "billing-rows"

[sources.items]
format = "csv"
delimiter = ";"

[tables.invoices]
source = "items"
key = ["id"]
columns.id = { field = "invoice" }
columns.site_id = { field = "site" }
columns.issued_on = { field = "issued" }
columns.paid = { field = "paid", null = ["", "?"] }
columns.currency = { value = "EUR" }
columns.total = { expr = "sum(invoice_items.amount)" }

[tables.invoice_items]
source = "items"
parent = "invoices"
key = ["invoice_id", "item_no"]
columns.invoice_id = { field = "invoice" }
columns.item_no = { field = "item" }
columns.kwh = { field = "kwh" }
columns.rate = { field = "rate" }
columns.amount = { expr = "kwh * rate" }
"#;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Nullable<Text>)]
    k: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Writes `text` to `name` in `dir`; the source map entry for it.
fn file(
    dir: &tempfile::TempDir,
    source: &str,
    name: &str,
    text: &str,
) -> BTreeMap<String, PathBuf> {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    BTreeMap::from([(source.to_string(), path)])
}

/// Loads the example's own files (regions and sites among them); the
/// database's schema.
fn load_reference<D: triglot_pipeline::flow::FlowBackend>(
    db: &triglot::Database<D>,
) -> Result<triglot::introspect::SchemaSnapshot, Box<dyn std::error::Error>> {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = db.introspect()?;
    let reference = Flow::bind(CONTRACT, "billing.toml", &schema)?;
    let data = |s: &str| example.join(format!("data/{s}.tbl"));
    let files = ["regions", "sites", "invoices", "items"].map(|s| (s.to_string(), data(s)));
    run_flow(db, &reference, &BTreeMap::from(files), &FlowOptions::default())?;
    Ok(schema)
}

triglot::backend_test!(
    nested_json_items_and_repeated_csv_rows_fill_the_same_tables,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let schema = load_reference(db)?;

        let jsonl = [
            r#"{"no": 101, "site": {"no": 1}, "issued": "2026-11-20", "paid": true, "items": [{"no": 1, "kwh": "10.5", "rate": "0.2"}, {"no": 2, "kwh": 2, "rate": "0.25"}]}"#,
            r#"{"no": 102, "site": {"no": 2}, "issued": "2026-11-21", "paid": false, "items": []}"#,
            r#"{"no": 103, "site": {"no": 2}, "issued": "2026-11-22", "paid": false, "items": [{"no": 1, "kwh": "x", "rate": "0.2"}]}"#,
            r#"{"no": 104, "site": {"no": 3}, "issued": "2026-11-23", "paid": false, "items": "none"}"#,
            r#"not json"#,
        ]
        .join("\n");
        let flow = Flow::bind(NESTED, "nested.toml", &schema)?;
        let summary = run_flow(
            db,
            &flow,
            &file(&dir, "invoices", "invoices.jsonl", &jsonl),
            &FlowOptions::default(),
        )?;
        // One record per line: items are part of their invoice's record.
        assert_eq!((summary.counts.read, summary.counts.rejected), (5, 3), "{summary:?}");
        let reasons: BTreeMap<String, u64> = summary.rejects_by_reason.clone();
        assert_eq!(
            reasons,
            BTreeMap::from([("invalid_decimal".to_string(), 1), ("invalid_json".to_string(), 2),]),
            "on {}",
            D::NAME
        );

        let csv = "invoice;site;issued;paid;total;item;kwh;rate\n\
                   201;1;2026-11-24;Y;;1;100;0.2\n\
                   201;;;;;2;50;0.3\n\
                   202;2;2026-11-25;N;;1;10;0.1\n\
                   202;3;;;;2;10;0.1\n\
                   203;3;2026-11-26;?;;1;1;1\n";
        let flow = Flow::bind(ROWS, "rows.toml", &schema)?;
        let summary =
            run_flow(db, &flow, &file(&dir, "items", "items.csv", csv), &FlowOptions::default())?;
        assert_eq!((summary.counts.read, summary.counts.rejected), (5, 3), "{summary:?}");

        // Declared grouped, the file is read as it comes: the same outcome,
        // and rows of an invoice that come back after others are refused.
        let grouped = ROWS.replace("delimiter = \";\"", "delimiter = \";\"\ngrouped = true");
        let flow = Flow::bind(&grouped, "rows.toml", &schema)?;
        let split = format!("{csv}201;;;;;3;1;1\n");
        let again = run_flow(
            db,
            &flow,
            &file(&dir, "items", "split.csv", &split),
            &FlowOptions::default(),
        )?;
        assert_eq!((again.counts.read, again.counts.rejected), (6, 4), "{again:?}");
        assert_eq!(again.rejects_by_reason.get("split_key"), Some(&1), "{again:?}");
        let reasons: BTreeMap<String, u64> = summary.rejects_by_reason.clone();
        assert_eq!(
            reasons,
            BTreeMap::from([
                ("conflicting_parent_fields".to_string(), 1),
                ("missing_required".to_string(), 1),
                ("rejected_with_parent".to_string(), 1),
            ]),
            "on {}",
            D::NAME
        );

        let rows: Vec<Row> = db.run("reading totals", |conn| {
            diesel::RunQueryDsl::load(
                Statement::new(format!(
                    "SELECT CAST(i.id AS CHAR(10)) AS k, CAST(ROUND(i.total * 100) AS {}) AS n \
                     FROM invoices i WHERE i.id > 100 ORDER BY i.id",
                    D::BIGINT_CAST
                )),
                conn,
            )
        })?;
        let totals: Vec<(String, i64)> =
            rows.into_iter().map(|r| (r.k.unwrap_or_default().trim().to_string(), r.n)).collect();
        // 10.5 × 0.2 + 2 × 0.25 = 2.60; no items, no total; 100 × 0.2 + 50 × 0.3 = 35.
        assert_eq!(
            totals,
            [("101".to_string(), 260), ("102".to_string(), 0), ("201".to_string(), 3_500)],
            "on {}",
            D::NAME
        );
        Ok(())
    }
);

triglot::backend_test!(
    a_value_that_is_no_boolean_and_a_division_by_zero_are_refused_with_their_reasons,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let schema = load_reference(db)?;

        // The amount as energy per unit of rate: a rate of 0 divides by zero.
        let divided = NESTED.replace(r#"expr = "kwh * rate""#, r#"expr = "kwh / rate""#);
        assert_ne!(divided, NESTED);
        let jsonl = [
            r#"{"no": 301, "site": {"no": 1}, "issued": "2026-11-20", "paid": "maybe", "items": [{"no": 1, "kwh": 1, "rate": 1}]}"#,
            r#"{"no": 302, "site": {"no": 1}, "issued": "2026-11-20", "paid": true, "items": [{"no": 1, "kwh": 1, "rate": "0.00"}]}"#,
            r#"{"no": 303, "site": {"no": 1}, "issued": "2026-11-20", "paid": "yes", "items": [{"no": 1, "kwh": 3, "rate": 2}]}"#,
        ]
        .join("\n");
        let flow = Flow::bind(&divided, "divided.toml", &schema)?;
        let summary = run_flow(
            db,
            &flow,
            &file(&dir, "invoices", "odd.jsonl", &jsonl),
            &FlowOptions::default(),
        )?;
        assert_eq!((summary.counts.accepted, summary.counts.rejected), (1, 2), "{summary:?}");
        assert_eq!(
            summary.rejects_by_reason,
            BTreeMap::from([
                ("division_by_zero".to_string(), 1),
                ("invalid_boolean".to_string(), 1)
            ]),
            "on {}",
            D::NAME
        );
        Ok(())
    }
);
