//! A flow on a schema whose foreign keys hold generated ids (the inventory
//! example's): each natural key in the files is looked up for the id.

use std::collections::BTreeMap;
use std::path::PathBuf;

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use triglot::values::Statement;
use triglot_pipeline::MIGRATIONS;
use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

const CONTRACT: &str = r#"
name = "inventory"

[sources.warehouses]
format = "csv"

[sources.items]
format = "csv"

[sources.counts]
format = "csv"

[tables.warehouses]
source = "warehouses"
key = ["code"]
columns.code = { field = "code", case = "upper" }
columns.city = { field = "city" }

[tables.items]
source = "items"
key = ["sku"]
columns.sku = { field = "sku" }
columns.name = { field = "name" }
columns.unit_grams = { field = "grams", min = 1 }

# Counted stock: warehouse codes and SKUs, stored as the rows' ids.
[tables.stock_levels]
source = "counts"
key = ["warehouse_id", "item_id"]
columns.warehouse_id = { field = "warehouse", case = "upper", lookup = "warehouses.code" }
columns.item_id = { field = "sku", lookup = "items.sku" }
columns.quantity = { field = "quantity", min = 0 }
columns.updated_at = { field = "counted_at" }
"#;

#[derive(QueryableByName, Debug, PartialEq)]
struct Level {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
}

fn inventory() -> triglot::Migrations {
    triglot::Migrations::from_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/inventory/migrations"
    ))
}

triglot::backend_test!(
    natural_keys_in_the_files_are_looked_up_for_the_ids_the_foreign_keys_hold,
    migrations = inventory(),
    |db| -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut files = BTreeMap::new();
        for (source, text) in [
            ("warehouses", "code,city\nber,Berlin\nLIS,Lisbon\n"),
            ("items", "sku,name,grams\nBOLT-M6,Bolt M6,4\nNUT-M6,Nut M6,2\n"),
            (
                "counts",
                "warehouse,sku,quantity,counted_at\n\
                 BER,BOLT-M6,120,2026-11-30T18:00:00+02:00\n\
                 lis,BOLT-M6,7,2026-11-30T09:30:00Z\n\
                 BER,NUT-M6,300,2026-11-30T18:00:00+02:00\n\
                 BER,WASHER,5,2026-11-30T18:00:00+02:00\n\
                 OPO,NUT-M6,1,2026-11-30T18:00:00+02:00\n",
            ),
        ] {
            let path: PathBuf = dir.path().join(format!("{source}.csv"));
            std::fs::write(&path, text)?;
            files.insert(source.to_string(), path);
        }
        let flow = Flow::bind(CONTRACT, "inventory.toml", &db.introspect()?)?;
        // As the contract declares them, for files given in that order.
        assert_eq!(flow.source_names(), ["warehouses", "items", "counts"]);
        let in_order: Vec<PathBuf> =
            ["warehouses", "items", "counts"].iter().map(|s| files[*s].clone()).collect();
        assert_eq!(flow.files_in_order(&in_order)?, files);
        let err = flow.files_in_order(&in_order[..2]).unwrap_err();
        assert!(
            err.contains("reads 3 files (warehouses, items, counts, in that order), not 2"),
            "{err}"
        );
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!((summary.counts.read, summary.counts.rejected), (9, 2), "{summary:?}");
        assert_eq!(summary.rejects_by_reason.get("missing_reference"), Some(&2), "{summary:?}");

        let levels: Vec<Level> = db.run("reading levels", |conn| {
            diesel::RunQueryDsl::load(
                Statement::new(
                    "SELECT w.code AS code, i.sku AS sku, s.quantity AS quantity \
                     FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id \
                     JOIN items i ON i.id = s.item_id ORDER BY w.code, i.sku",
                ),
                conn,
            )
        })?;
        let level = |code: &str, sku: &str, quantity| Level {
            code: code.into(),
            sku: sku.into(),
            quantity,
        };
        assert_eq!(
            levels,
            [level("BER", "BOLT-M6", 120), level("BER", "NUT-M6", 300), level("LIS", "BOLT-M6", 7)],
            "on {}",
            D::NAME
        );
        let again = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(again.counts.unchanged, 7, "{again:?}");
        Ok(())
    }
);

/// A reject as both engines store it: line, reason, field.
#[derive(QueryableByName, Debug, PartialEq)]
struct Refused {
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = Text)]
    field: String,
}

/// The rejects of `table` as (line, reason, field).
fn refused<D: triglot_pipeline::OrderBackend>(
    db: &triglot::Database<D>,
    table: &str,
) -> Result<Vec<Refused>, triglot::Error>
where
    for<'q> Statement: diesel::query_dsl::LoadQuery<'q, D::Connection, Refused>,
{
    let sql = format!(
        "SELECT line, reason, COALESCE(field, '') AS field FROM {table} ORDER BY line, reason"
    );
    db.run("reading rejects", |conn| diesel::RunQueryDsl::load(Statement::new(&sql), conn))
}

/// The flow's stored rejects as (line, reason), sorted.
fn refused_as_generated<D: triglot_pipeline::OrderBackend>(
    db: &triglot::Database<D>,
) -> Result<Vec<(u64, String)>, triglot::Error>
where
    for<'q> Statement: diesel::query_dsl::LoadQuery<'q, D::Connection, Refused>,
{
    let rows = refused(db, "triglot_rejects")?;
    Ok(sorted(&rows.into_iter().map(|r| (r.line as u64, r.reason)).collect::<Vec<_>>()))
}

fn sorted(rejects: &[(u64, String)]) -> Vec<(u64, String)> {
    let mut rejects = rejects.to_vec();
    rejects.sort();
    rejects
}

/// Asserts that `db` holds exactly the generated orders (seed 7, as
/// `harness::generated` makes them) but those in `refused`: their
/// customers, orders (but for the fingerprint) and lines, as the order
/// model's own writer stores the generator's records in a database of
/// their own (in a CSV file an empty note is no note: `csv`). Returns how
/// many orders that is.
fn holds_the_generated_orders<D: triglot_pipeline::OrderBackend>(
    db: &triglot::Database<D>,
    orders: u64,
    refused: &std::collections::BTreeSet<String>,
    csv: bool,
) -> Result<u64, Box<dyn std::error::Error>> {
    let reference = triglot::testing::TestDb::<D>::new("flow::generated_reference", &MIGRATIONS);
    let data =
        triglot_pipeline::DemoData::new(7, orders, crate::harness::at(2026, 11, 25, 0, 0, 0, 0));
    let mut records: Vec<_> =
        data.records().filter(|r| !refused.contains(&r.external_id)).collect();
    for line in records.iter_mut().flat_map(|r| &mut r.lines).filter(|_| csv) {
        line.note = line.note.take().filter(|note| !note.is_empty());
    }
    triglot_pipeline::OrderWriter::new(&*reference).write_batch(&records)?;
    let (flowed, written) = (crate::harness::snapshot(db), crate::harness::snapshot(&*reference));
    let strip = |s: &crate::harness::Snapshot| {
        s.orders
            .iter()
            .map(|o| (o.0.clone(), o.1.clone(), o.2.clone(), o.3.clone(), o.4, o.5, o.6))
            .collect::<Vec<_>>()
    };
    assert_eq!(flowed.customers, written.customers, "on {}", D::NAME);
    assert_eq!(strip(&flowed), strip(&written), "on {}", D::NAME);
    assert_eq!(flowed.lines, written.lines, "on {}", D::NAME);
    Ok(records.len() as u64)
}

triglot::backend_test!(
    the_order_csv_loads_the_generated_orders_and_refuses_each_planted_defect,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        let dir = tempfile::tempdir()?;
        let g = crate::harness::generated(dir.path(), 400, 0.05);
        assert!(g.csv.by_reason.len() > 5, "{:?}", g.csv.by_reason);
        let csv = dir.path().join("orders.csv");
        let files = BTreeMap::from([("rows".to_string(), csv.clone())]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        let counts = (summary.counts.read, summary.counts.accepted, summary.counts.rejected);
        assert_eq!(counts, (g.csv.records, g.csv.accepted, g.csv.rejected), "{summary:?}");
        assert_eq!(summary.rejects_by_reason, g.csv.by_reason, "on {}", D::NAME);
        // Each planted defect, refused at its line for its reason (under the
        // order pipeline's names, the contract's `[reasons]`), as the
        // generator wrote them down.
        assert_eq!(refused_as_generated(db)?, sorted(&g.csv.rejects), "on {}", D::NAME);
        // Every other order written as the generator made it: the orders of
        // the refused lines, read off the file, are the ones left out.
        let refused_lines: std::collections::BTreeSet<u64> =
            g.csv.rejects.iter().map(|r| r.0).collect();
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&csv)?;
        let mut refused = std::collections::BTreeSet::new();
        for record in reader.byte_records() {
            let record = record?;
            let line = record.position().map_or(0, |p| p.line());
            if refused_lines.contains(&line) {
                refused.insert(String::from_utf8_lossy(&record[0]).into_owned());
            }
        }
        let written = holds_the_generated_orders(db, 400, &refused, true)?;
        assert_eq!(written, g.csv.orders, "on {}", D::NAME);
        let flowed = crate::harness::snapshot(db);
        let again = run_flow(db, &flow, &files, &FlowOptions::default())?;
        // A second run writes nothing and refuses the same records again.
        assert_eq!(again.counts.unchanged, again.counts.accepted, "{again:?}");
        assert_eq!(again.counts.rejected, summary.counts.rejected, "{again:?}");
        assert_eq!(crate::harness::snapshot(db), flowed, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    small_batches_sharing_transactions_load_the_same_orders_as_one_batch,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        // Batches of three orders, which SQLite commits sixteen to a
        // transaction (`Capabilities::batches_per_commit`), each in a
        // savepoint: they refuse the same records and store the same rows
        // as one batch of every order.
        let dir = tempfile::tempdir()?;
        let g = crate::harness::generated(dir.path(), 400, 0.05);
        let csv = dir.path().join("orders.csv");
        let files = BTreeMap::from([("rows".to_string(), csv.clone())]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let options = FlowOptions { batch_size: 3, ..FlowOptions::default() };
        let summary = run_flow(db, &flow, &files, &options)?;
        let counts = (summary.counts.read, summary.counts.accepted, summary.counts.rejected);
        assert_eq!(counts, (g.csv.records, g.csv.accepted, g.csv.rejected), "{summary:?}");
        assert_eq!(refused_as_generated(db)?, sorted(&g.csv.rejects), "on {}", D::NAME);
        let clean = triglot::testing::TestDb::<D>::new("flow::one_batch_reference", &MIGRATIONS);
        let one = FlowOptions { batch_size: 100_000, ..FlowOptions::default() };
        run_flow(&*clean, &flow, &files, &one)?;
        assert_eq!(
            crate::harness::snapshot(db),
            crate::harness::snapshot(&*clean),
            "on {}",
            D::NAME
        );
        Ok(())
    }
);

triglot::backend_test!(
    reason_codes_a_contract_renames_must_be_triglots_and_well_formed,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        let schema = db.introspect()?;
        let line_of =
            |needle: &str| ORDERS_FLOW.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
        let cases = [
            (
                "missing_parent = ",
                "missing_parnet = ",
                "\"missing_parnet\" is not a reason code of triglot's",
            ),
            (
                "split_key = \"split_order\"",
                "split_key = \"Split order\"",
                "reason \"Split order\" is not a code",
            ),
        ];
        for (from, to, expected) in cases {
            let line = line_of(from);
            let text = ORDERS_FLOW.replacen(from, to, 1);
            let err = Flow::bind(&text, "orders-flow.toml", &schema).expect_err(to);
            assert!(err.message.contains(expected), "{err}");
            assert_eq!(err.line, line, "{err}");
        }
        Ok(())
    }
);

#[derive(QueryableByName, Debug, PartialEq)]
struct StoredLine {
    #[diesel(sql_type = Text)]
    order_id: String,
    #[diesel(sql_type = BigInt)]
    line_no: i64,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
}

triglot::backend_test!(
    a_changed_order_replaces_its_lines_and_a_new_one_gets_its_own,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        const HEADER: &str = "order_id,customer_id,customer_name,customer_email,customer_country,\
                              status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note\n";
        let order =
            |id: &str| format!("{id},C-1,Ann,ann@example.com,DE,paid,EUR,2026-11-30T10:00:00Z,,");
        let line = |id: &str, n: u32, qty: u32| format!("{id},,,,,,,,,{n},SKU-{n},{qty},2.50,,\n");
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let files = BTreeMap::from([("rows".to_string(), csv.clone())]);
        let stored = || -> Result<Vec<(String, i64, i64)>, triglot::Error> {
            let sql = "SELECT o.external_id AS order_id, CAST(l.line_no AS BIGINT) AS line_no, \
                       CAST(l.quantity AS BIGINT) AS quantity FROM order_lines l \
                       JOIN orders o ON o.id = l.order_id ORDER BY o.external_id, l.line_no";
            let sql = sql.replace("BIGINT", <D as triglot::Dialect>::BIGINT_CAST);
            let rows: Vec<StoredLine> = db.run("reading lines", |conn| {
                diesel::RunQueryDsl::load(Statement::new(&sql), conn)
            })?;
            Ok(rows.into_iter().map(|l| (l.order_id, l.line_no, l.quantity)).collect())
        };

        // A with three lines, B with one.
        let first = format!(
            "{HEADER}{}1,SKU-1,1,2.50,,\n{}{}{}1,SKU-1,4,2.50,,\n",
            order("A"),
            line("A", 2, 2),
            line("A", 3, 3),
            order("B"),
        );
        std::fs::write(&csv, first)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(summary.counts.accepted, 4, "{summary:?}");
        let a = |n, q| ("A".to_string(), n, q);
        let b = |n, q| ("B".to_string(), n, q);
        let c = |n, q| ("C".to_string(), n, q);
        assert_eq!(stored()?, [a(1, 1), a(2, 2), a(3, 3), b(1, 4)], "on {}", D::NAME);

        // A changed (a quantity, its third line gone), B as it was, C new.
        let second = format!(
            "{HEADER}{}1,SKU-1,9,2.50,,\n{}{}1,SKU-1,4,2.50,,\n{}1,SKU-1,5,2.50,,\n{}",
            order("A"),
            line("A", 2, 2),
            order("B"),
            order("C"),
            line("C", 2, 6),
        );
        std::fs::write(&csv, second)?;
        let again = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!((again.counts.accepted, again.counts.unchanged), (5, 1), "{again:?}");
        assert_eq!(stored()?, [a(1, 9), a(2, 2), b(1, 4), c(1, 5), c(2, 6)], "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    the_order_jsonl_loads_the_generated_orders_and_refuses_each_planted_defect,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_JSONL_FLOW;

        let dir = tempfile::tempdir()?;
        let g = crate::harness::generated(dir.path(), 400, 0.05);
        assert!(g.jsonl.by_reason.len() > 5, "{:?}", g.jsonl.by_reason);
        let jsonl = dir.path().join("orders.jsonl");
        let files = BTreeMap::from([("orders".to_string(), jsonl)]);
        let flow = Flow::bind(ORDERS_JSONL_FLOW, "orders-jsonl-flow.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        let counts = (summary.counts.read, summary.counts.accepted, summary.counts.rejected);
        assert_eq!(counts, (g.jsonl.records, g.jsonl.accepted, g.jsonl.rejected), "{summary:?}");
        assert_eq!(summary.rejects_by_reason, g.jsonl.by_reason, "on {}", D::NAME);
        assert_eq!(refused_as_generated(db)?, sorted(&g.jsonl.rejects), "on {}", D::NAME);
        // One order per line: line n holds the generator's n-th order.
        let refused = g.jsonl.rejects.iter().map(|r| format!("DEMO-7-{:07}", r.0 - 1)).collect();
        let written = holds_the_generated_orders(db, 400, &refused, false)?;
        assert_eq!(written, g.jsonl.orders, "on {}", D::NAME);
        let again = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(again.counts.unchanged, again.counts.accepted, "{again:?}");
        Ok(())
    }
);

/// Three orders in the order CSV: A (two lines), B (one line, a broken
/// quantity), C (one line); `note` is A's first line's note.
fn three_orders(note: &str) -> String {
    let head = "order_id,customer_id,customer_name,customer_email,customer_country,status,\
                currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";
    let order =
        |id: &str| format!("{id},CUST-1,Ann,ann@example.com,DE,paid,EUR,2026-11-20T10:00:00Z,,");
    format!(
        "{head}\n{a}1,SKU-1,2,10.00,,{note}\n{blank}2,SKU-2,1,5.50,,\n\
         {b}1,SKU-3,many,1.00,,\n{c}1,SKU-4,3,2.00,,\n",
        a = order("A"),
        b = order("B"),
        c = order("C"),
        blank = "A,,,,,,,,,",
    )
}

triglot::backend_test!(
    a_flows_summary_says_what_it_wrote_to_each_table_and_its_rejects_file_holds_what_it_stored,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;
        use triglot_pipeline::flow::TableWrites;

        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        std::fs::write(&csv, three_orders("first"))?;
        let files = BTreeMap::from([("rows".to_string(), csv.clone())]);
        let rejects_csv = dir.path().join("rejects.csv");
        let options =
            FlowOptions { rejects_csv: Some(rejects_csv.clone()), ..FlowOptions::default() };
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let rows = |rows| TableWrites { rows, ..TableWrites::default() };

        let first = run_flow(db, &flow, &files, &options)?;
        assert_eq!((first.counts.read, first.counts.rejected), (4, 1), "{first:?}");
        let orders = TableWrites { rows: 2, new: 2, changed: 0, unchanged: 0 };
        assert_eq!(first.tables.get("orders"), Some(&orders), "{first:?}");
        assert_eq!(first.tables.get("order_lines"), Some(&rows(3)), "{first:?}");
        assert_eq!(first.tables.get("customers"), Some(&rows(1)), "{first:?}");
        // The file holds the stored rejects, field for field.
        let mut file = csv::Reader::from_path(&rejects_csv)?;
        let in_file: Vec<Refused> = file
            .records()
            .map(|r| {
                let r = r.expect("a row of the rejects file");
                Refused { line: r[1].parse().unwrap(), reason: r[3].into(), field: r[2].into() }
            })
            .collect();
        assert_eq!(in_file, refused(db, "triglot_rejects")?, "on {}", D::NAME);
        assert_eq!(in_file.len(), 1, "{in_file:?}");
        assert_eq!(in_file[0].line, 4, "{in_file:?}");

        // Again: nothing written; then A's note changed: A alone rewritten.
        let again = run_flow(db, &flow, &files, &options)?;
        let unchanged = TableWrites { unchanged: 2, ..TableWrites::default() };
        assert_eq!(again.tables.get("orders"), Some(&unchanged), "{again:?}");
        assert_eq!(again.tables.get("order_lines"), None, "{again:?}");
        std::fs::write(&csv, three_orders("second"))?;
        let changed = run_flow(db, &flow, &files, &options)?;
        let orders = TableWrites { rows: 1, new: 0, changed: 1, unchanged: 1 };
        assert_eq!(changed.tables.get("orders"), Some(&orders), "{changed:?}");
        assert_eq!(changed.tables.get("order_lines"), Some(&rows(2)), "{changed:?}");
        assert_eq!(changed.counts.retries, 0, "{changed:?}");
        Ok(())
    }
);

triglot::backend_test!(
    books_made_before_runs_counted_their_retries_gain_the_column,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        // `triglot_runs` as flows created it before it had `retries`.
        db.run("old books", |conn| {
            diesel::connection::SimpleConnection::batch_execute(
                conn,
                "CREATE TABLE triglot_runs (run_id BIGINT NOT NULL PRIMARY KEY, \
                 contract VARCHAR(200) NOT NULL, files TEXT NOT NULL, \
                 started_at VARCHAR(40) NOT NULL, finished_at VARCHAR(40), \
                 status VARCHAR(16) NOT NULL, records_read BIGINT NOT NULL, \
                 records_accepted BIGINT NOT NULL, records_rejected BIGINT NOT NULL, \
                 records_unchanged BIGINT NOT NULL)",
            )
        })?;
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        std::fs::write(&csv, three_orders("first"))?;
        let files = BTreeMap::from([("rows".to_string(), csv)]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(summary.counts.read, 4, "{summary:?}");
        let again = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(again.run_id, summary.run_id + 1, "{again:?}");
        Ok(())
    }
);

triglot::backend_test!(
    the_report_holds_money_columns_to_the_contracts_bounds_in_minor_units,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;
        use triglot_pipeline::flow::{QualityOptions, quality_report};

        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        // A's second line: 99.5 % off, stored as 9950 hundredths of a percent.
        std::fs::write(
            &csv,
            three_orders("first").replace("2,SKU-2,1,5.50,,", "2,SKU-2,1,5.50,99.5,"),
        )?;
        let files = BTreeMap::from([("rows".to_string(), csv)]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(summary.counts.rejected, 1, "{summary:?}");
        let report = |flow: &Flow| {
            let today = chrono::Utc::now().date_naive();
            let options = QualityOptions {
                since: today,
                until: today.succ_opt().unwrap(),
                now: chrono::Utc::now().naive_utc(),
                config: Default::default(),
                flow: Some(flow.clone()),
            };
            quality_report(db, &options)
        };
        let name = "contract.order_lines.discount_bp.max";
        let value = |flow: &Flow| -> Result<f64, Box<dyn std::error::Error>> {
            let report = report(flow)?;
            Ok(report.check(name).and_then(|c| c.value).ok_or(format!("no {name}"))?)
        };
        assert_eq!(value(&flow)?, 0.0, "on {}", D::NAME);
        // A contract that allows at most 99 % counts the line.
        let line = ORDERS_FLOW.lines().find(|l| l.starts_with("columns.discount_bp")).unwrap();
        let tighter = ORDERS_FLOW.replace(line, &line.replace("max = 100", "max = 99"));
        assert_ne!(tighter, ORDERS_FLOW);
        let tighter = Flow::bind(&tighter, "tighter.toml", &db.introspect()?)?;
        assert_eq!(value(&tighter)?, 1.0, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    a_line_number_past_32_bits_is_out_of_range_on_every_backend,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        // C's line number is 2^32: SQLite's INTEGER holds it, MySQL's and
        // PostgreSQL's INT do not; the contract refuses it everywhere.
        let text = three_orders("first").replace(",1,SKU-4,", ",4294967296,SKU-4,");
        assert!(text.contains("4294967296"));
        std::fs::write(&csv, text)?;
        let files = BTreeMap::from([("rows".to_string(), csv)]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &files, &FlowOptions::default())?;
        assert_eq!(summary.counts.rejected, 2, "{summary:?}");
        assert_eq!(summary.rejects_by_reason.get("out_of_range"), Some(&1), "{summary:?}");
        Ok(())
    }
);

triglot::backend_test!(
    a_flow_reports_its_progress_in_bytes_and_records_up_to_the_whole_input,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;
        use triglot_pipeline::flow::{FlowProgress, run_flow_with_progress};

        let dir = tempfile::tempdir()?;
        let g = crate::harness::generated(dir.path(), 300, 0.05);
        let csv = dir.path().join("orders.csv");
        let size = std::fs::metadata(&csv)?.len();
        let files = BTreeMap::from([("rows".to_string(), csv)]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let options = FlowOptions { batch_size: 20, ..FlowOptions::default() };
        let mut seen: Vec<FlowProgress> = Vec::new();
        let summary = run_flow_with_progress(db, &flow, &files, &options, &mut |p| seen.push(p))?;
        assert!(seen.len() > 10, "one report per batch of 20 orders: {}", seen.len());
        assert!(seen.iter().all(|p| p.total_bytes == size), "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes && w[0].records <= w[1].records));
        assert!(seen[seen.len() / 2].bytes < size, "partway: {:?}", seen[seen.len() / 2]);
        let last = seen.last().unwrap();
        assert_eq!((last.bytes, last.records), (size, summary.counts.read), "{last:?}");
        assert_eq!(summary.counts.read, g.csv.records, "{summary:?}");
        Ok(())
    }
);

#[test]
#[cfg(feature = "sqlite")]
fn a_flow_waits_out_a_database_locked_by_another_writer_before_its_first_batch_sqlite() {
    use triglot_pipeline::contract::ORDERS_FLOW;

    let db = triglot::testing::TestDb::<triglot::sqlite::SqliteDialect>::new(
        "flow::busy_start",
        &MIGRATIONS,
    );
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, three_orders("first")).unwrap();
    let files = BTreeMap::from([("rows".to_string(), csv)]);
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    // Longer than two 5 s busy timeouts: creating the books fails as busy
    // twice, as a second try alone would.
    let holder = crate::harness::lock_sqlite(path, 10_600);
    let started = std::time::Instant::now();
    let summary = run_flow(&*db, &flow, &files, &FlowOptions::default()).unwrap();
    assert_eq!(summary.counts.read, 4, "{summary:?}");
    assert!(started.elapsed().as_millis() >= 10_500, "it waited: {:?}", started.elapsed());
    holder.join().unwrap();
}

triglot::backend_test!(
    a_batch_past_one_statements_bind_limit_is_written_in_several,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;

        // 2,000 orders (about 6,000 lines) in one transaction: more values
        // than one statement binds on SQLite (32,766) or MySQL (65,535).
        let dir = tempfile::tempdir()?;
        let g = crate::harness::generated(dir.path(), 2_000, 0.0);
        let files = BTreeMap::from([("rows".to_string(), dir.path().join("orders.csv"))]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let options = FlowOptions { batch_size: 2_000, ..FlowOptions::default() };
        let summary = run_flow(db, &flow, &files, &options)?;
        assert_eq!(summary.counts.rejected, 0, "{summary:?}");
        assert_eq!(summary.tables["orders"].new, g.csv.orders, "{summary:?}");
        assert_eq!(summary.tables["order_lines"].rows, g.csv.lines, "{summary:?}");
        let stored = crate::harness::snapshot(db);
        assert_eq!(stored.lines.len() as u64, g.csv.lines, "on {}", D::NAME);
        Ok(())
    }
);

/// A headerless `;` file read by position: its fields are named in order.
const HEADERLESS_FLOW: &str = r#"
name = "headerless-flow"

[sources.rows]
format = "csv"
delimiter = ";"
header = false
fields = ["order_id", "customer", "status", "currency", "placed_at", "line_no", "sku", "quantity", "price"]
grouped = true

[tables.customers]
source = "rows"
distinct = true
key = ["external_id"]
columns.external_id = { field = "customer" }
columns.name = { field = "customer" }
columns.created_at = { meta = "now", update = false }

[tables.orders]
source = "rows"
key = ["external_id"]
columns.external_id = { field = "order_id" }
columns.customer_id = { field = "customer", lookup = "customers.external_id" }
columns.status = { field = "status", case = "lower" }
columns.currency = { field = "currency" }
columns.placed_at = { field = "placed_at", formats = ["%Y-%m-%d %H:%M:%S"], assume_offset = "+00:00" }
columns.updated_at = { expr = "placed_at" }
columns.total_cents = { expr = "sum(order_lines.amount)", minor_units = 2 }
columns.source = { meta = "file" }
columns.content_hash = { meta = "fingerprint" }

# Prices in the file are already cents.
[tables.order_lines]
source = "rows"
parent = "orders"
key = ["order_id", "line_no"]
columns.order_id = { parent = "id" }
columns.line_no = { field = "line_no" }
columns.sku = { field = "sku" }
columns.quantity = { field = "quantity" }
columns.unit_price_cents = { field = "price" }
inputs.amount = { expr = "quantity * unit_price_cents / 100", type = "decimal" }
"#;

triglot::backend_test!(a_headerless_semicolon_file_is_read_by_position, |db| -> Result<
    (),
    Box<dyn std::error::Error>,
> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("export.txt");
    std::fs::write(
        &file,
        "A1;C1;PAID;EUR;2026-11-24 10:00:00;1;X;2;150\n\
             A1;C1;PAID;EUR;2026-11-24 10:00:00;2;Y;1;99\n\
             A2;C2;Shipped;USD;2026-11-24 11:00:00;1;Z;1\n",
    )?;
    let flow = Flow::bind(HEADERLESS_FLOW, "headerless-flow.toml", &db.introspect()?)?;
    let files = flow.files_in_order(&[file]).map_err(|e| e.to_string())?;
    let s = run_flow(db, &flow, &files, &FlowOptions::default())?;
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (3, 2, 1), "{s:?}");
    assert_eq!(s.rejects_by_reason.get("wrong_column_count"), Some(&1), "{s:?}");
    let orders = crate::harness::snapshot(db).orders;
    assert_eq!(orders.len(), 1, "{orders:?}");
    let (id, status, total, placed) = (&orders[0].0, &orders[0].2, orders[0].4, orders[0].5);
    assert_eq!((id.as_str(), status.as_str(), total), ("A1", "paid", 399), "on {}", D::NAME);
    assert_eq!(placed, crate::harness::at(2026, 11, 24, 10, 0, 0, 0), "on {}", D::NAME);
    Ok(())
});

triglot::backend_test!(
    a_looked_up_row_deleted_during_the_run_is_read_again_not_refused,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use triglot_pipeline::contract::ORDERS_FLOW;
        use triglot_pipeline::flow::run_flow_with_progress;

        #[derive(QueryableByName, Debug, PartialEq)]
        struct Placed {
            #[diesel(sql_type = Text)]
            order_id: String,
            #[diesel(sql_type = Text)]
            customer: String,
        }

        // Twenty orders of one line, two per batch; the first and the last
        // are CUST-X's, the others each of its own customer.
        let head = "order_id,customer_id,customer_name,customer_email,customer_country,status,\
                    currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";
        let mut csv_text = format!("{head}\n");
        for i in 0..20 {
            let customer =
                if i == 0 || i == 19 { "CUST-X".to_owned() } else { format!("CUST-{i}") };
            csv_text.push_str(&format!(
                "O-{i:02},{customer},Ann,ann@example.com,DE,paid,EUR,2026-11-20T10:00:00Z,,1,SKU-1,2,10.00,,\n"
            ));
        }
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join("orders.csv");
        std::fs::write(&csv, csv_text)?;
        let files = BTreeMap::from([("rows".to_string(), csv)]);
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
        let options = FlowOptions { batch_size: 2, ..FlowOptions::default() };
        // When the sixth batch is decided, the writer has finished the
        // third at least: CUST-X is stored, and its id known to the run.
        // Another writer then deletes it, with its order.
        let mut deleted = None;
        let summary = run_flow_with_progress(db, &flow, &files, &options, &mut |p| {
            if p.records >= 12 && deleted.is_none() {
                deleted = Some(db.write("deleting CUST-X", |conn| {
                    diesel::connection::SimpleConnection::batch_execute(
                        conn,
                        "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders \
                         WHERE external_id = 'O-00'); \
                         DELETE FROM orders WHERE external_id = 'O-00'; \
                         DELETE FROM customers WHERE external_id = 'CUST-X'",
                    )
                }));
            }
        })?;
        deleted.expect("the sixth batch was decided")?;
        // The last order is written with CUST-X stored again, not refused
        // for the id the run had kept.
        assert_eq!((summary.counts.accepted, summary.counts.rejected), (20, 0), "{summary:?}");
        let placed: Vec<Placed> = db.run("reading orders", |conn| {
            diesel::RunQueryDsl::load(
                diesel::sql_query(
                    "SELECT o.external_id AS order_id, c.external_id AS customer FROM orders o \
                     JOIN customers c ON c.id = o.customer_id \
                     WHERE o.external_id IN ('O-00', 'O-01', 'O-19') ORDER BY o.external_id",
                ),
                conn,
            )
        })?;
        // O-00 is gone: it was deleted after the run wrote it.
        let expected = [("O-01", "CUST-1"), ("O-19", "CUST-X")]
            .map(|(o, c)| Placed { order_id: o.to_owned(), customer: c.to_owned() });
        assert_eq!(placed, expected);
        Ok(())
    }
);
