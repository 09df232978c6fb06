//! The quality report on every backend: each check's value equals a recount
//! done in Rust from the input file (plus defects put in on purpose), and the
//! JSON reports of all backends are identical but for backend and timings.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use triglot_pipeline::contract::Contract;
use triglot_pipeline::ingest::generate::Expected;
use triglot_pipeline::ingest::{IngestOptions, ingest};
use triglot_pipeline::report::{Report, ReportOptions, Status, Thresholds, build};

use crate::harness::{at, generated};

/// What the report must find, counted from the CSV file and the generator's expectations.
#[derive(Debug, Default)]
struct Recount {
    accepted_orders: Vec<String>,
    lines: i64,
    per_day: BTreeMap<String, (i64, i64)>,
    customers: BTreeMap<String, (bool, bool)>,
    lines_of: BTreeMap<String, i64>,
    /// Lines without a discount and lines without a note, by order.
    nulls_of: BTreeMap<String, (i64, i64)>,
    discount_nulls: i64,
    note_nulls: i64,
    newest: Option<NaiveDateTime>,
}

fn recount(csv: &Path, expected: &Expected) -> Recount {
    let rejected: HashSet<u64> = expected.rejects.iter().map(|(line, _)| *line).collect();
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).from_path(csv).unwrap();
    let mut groups: Vec<(String, Vec<(u64, csv::ByteRecord)>)> = Vec::new();
    for record in reader.byte_records() {
        let record = record.unwrap();
        let line = record.position().unwrap().line();
        let key = String::from_utf8_lossy(&record[0]).into_owned();
        match groups.last_mut() {
            Some((k, rows)) if *k == key => rows.push((line, record)),
            _ => groups.push((key, vec![(line, record)])),
        }
    }
    let text = |r: &csv::ByteRecord, i: usize| String::from_utf8(r[i].to_vec()).unwrap();
    let mut out = Recount::default();
    for (key, rows) in groups {
        if rows.iter().any(|(line, _)| rejected.contains(line)) {
            continue;
        }
        let first = &rows[0].1;
        let placed = DateTime::parse_from_rfc3339(&text(first, 7)).unwrap().naive_utc();
        let day = placed.format("%Y-%m-%d").to_string();
        let entry = out.per_day.entry(day).or_default();
        entry.0 += 1;
        entry.1 += rows.len() as i64;
        out.newest = out.newest.max(Some(placed));
        out.customers
            .insert(text(first, 1), (text(first, 3).is_empty(), text(first, 4).is_empty()));
        let mut nulls = (0, 0);
        for (_, row) in &rows {
            nulls.0 += i64::from(row[13].is_empty());
            nulls.1 += i64::from(row[14].is_empty());
        }
        out.discount_nulls += nulls.0;
        out.note_nulls += nulls.1;
        out.nulls_of.insert(key.clone(), nulls);
        out.lines += rows.len() as i64;
        out.lines_of.insert(key.clone(), rows.len() as i64);
        out.accepted_orders.push(key);
    }
    out
}

fn value(report: &Report, name: &str) -> f64 {
    report.check(name).and_then(|c| c.value).unwrap_or_else(|| panic!("no value for {name}"))
}

/// A window around the generated orders (placed before 2026-11-25) and
/// today's ingest runs.
fn options(now: NaiveDateTime) -> ReportOptions {
    // Whole days, so reports built a moment apart cover the same window.
    let tomorrow = Utc::now().date_naive() + TimeDelta::days(1);
    ReportOptions {
        since: at(2026, 10, 1, 0, 0, 0, 0),
        until: tomorrow.and_hms_opt(0, 0, 0).unwrap(),
        now,
        contract: Contract::builtin_csv(),
        thresholds: Thresholds::default(),
    }
}

/// Ingests the `orders.csv` that `generated` wrote into `dir`, with the
/// built-in contract; returns its path.
fn ingest_csv<D: triglot_pipeline::OrderBackend>(
    db: &triglot::Database<D>,
    dir: &Path,
) -> std::path::PathBuf {
    let csv = dir.join("orders.csv");
    ingest(
        db,
        &Contract::builtin_csv(),
        std::slice::from_ref(&csv),
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    csv
}

triglot::backend_test!(every_check_equals_a_recount_of_the_input, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 400, 0.1);
    let csv = ingest_csv(db, dir.path());
    let count = recount(&csv, &g.csv);
    assert_eq!(count.accepted_orders.len() as u64, g.csv.orders);

    // Defects put in behind the contract's back, each a known number.
    let ids = &count.accepted_orders;
    let mut conn = db.get().unwrap();
    for key in &ids[0..3] {
        conn.batch_execute(&format!(
            "UPDATE orders SET total_cents = total_cents + 1 WHERE external_id = '{key}'"
        ))
        .unwrap();
    }
    for key in &ids[3..5] {
        conn.batch_execute(&format!(
            "UPDATE order_lines SET quantity = 200000 WHERE line_no = 1 AND order_id = (SELECT id FROM orders WHERE external_id = '{key}')"
        ))
        .unwrap();
    }
    conn.batch_execute(&format!(
        "UPDATE orders SET currency = 'XAU' WHERE external_id = '{}'",
        ids[5]
    ))
    .unwrap();
    conn.batch_execute(&format!(
        "DELETE FROM order_lines WHERE order_id = (SELECT id FROM orders WHERE external_id = '{}')",
        ids[6]
    ))
    .unwrap();
    drop(conn);

    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let report = build(db, &options(now)).unwrap();
    let lines = count.lines - count.lines_of[&ids[6]];

    assert_eq!(value(&report, "volume.orders"), g.csv.orders as f64);
    assert_eq!(value(&report, "volume.lines"), lines as f64);
    assert_eq!(value(&report, "rows.orders"), g.csv.orders as f64);
    assert_eq!(value(&report, "rows.order_lines"), lines as f64);
    assert_eq!(value(&report, "rows.customers"), count.customers.len() as f64);
    assert_eq!(
        value(&report, "consistency.order_total_matches_lines"),
        5.0,
        "3 totals changed, 2 quantities changed"
    );
    assert_eq!(value(&report, "consistency.orders_without_lines"), 1.0);
    assert_eq!(value(&report, "contract.line.quantity"), 2.0);
    assert_eq!(value(&report, "contract.order.currency"), 1.0);
    assert_eq!(value(&report, "contract.line.sku"), 0.0);
    // Uniqueness is 0 by construction here: every natural key is a UNIQUE
    // constraint of the migrated schema, so no backend stores a duplicate
    // (`duplicated_natural_keys_fail_the_uniqueness_checks` shows the checks
    // count them once the constraints are gone). Integrity is 0 because the
    // foreign keys are enforced (`dangling_rows_fail_the_integrity_checks`
    // plants some behind their back), and the one run reconciles
    // (`runs_that_do_not_reconcile_or_did_not_complete_are_counted`).
    for name in [
        "uniqueness.orders(external_id)",
        "uniqueness.customers(external_id)",
        "uniqueness.order_lines(order_id, line_no)",
        "integrity.order_lines.order_id",
        "integrity.orders.customer_id",
        "integrity.rejects.run_id",
        "runs.not_reconciling",
        "runs.failed",
    ] {
        assert_eq!(value(&report, name), 0.0, "{name}");
        assert_eq!(report.check(name).unwrap().status, Status::Pass, "{name}");
    }

    let customers = count.customers.len() as f64;
    let no_email = count.customers.values().filter(|(e, _)| *e).count() as f64;
    let no_country = count.customers.values().filter(|(_, c)| *c).count() as f64;
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(value(&report, "null_rate.customers.email"), no_email / customers));
    assert!(close(value(&report, "null_rate.customers.country"), no_country / customers));
    // The lines of the window: all accepted lines but those of the order
    // whose lines were deleted; the same division as the report's.
    let (gone_discounts, gone_notes) = count.nulls_of[&ids[6]];
    assert!(count.discount_nulls - gone_discounts > 0 && count.note_nulls - gone_notes > 0);
    assert_eq!(
        value(&report, "null_rate.order_lines.discount_bp"),
        (count.discount_nulls - gone_discounts) as f64 / lines as f64
    );
    assert_eq!(
        value(&report, "null_rate.order_lines.note"),
        (count.note_nulls - gone_notes) as f64 / lines as f64
    );
    let newest = count.newest.unwrap();
    let hours = ((now - newest).num_seconds() as f64 / 3600.0 * 100.0).round() / 100.0;
    assert_eq!(value(&report, "freshness.hours_since_newest_order"), hours);
    assert!(close(value(&report, "rejects.rate"), g.csv.rejected as f64 / g.csv.records as f64));

    let by_reason: BTreeMap<String, u64> =
        report.rejects_by_reason.iter().map(|t| (t.key.clone(), t.count as u64)).collect();
    assert_eq!(by_reason, g.csv.by_reason);
    assert!(g.csv.rejected > 0, "the input has rejects to tally");
    let by_source: BTreeMap<String, u64> =
        report.rejects_by_source.iter().map(|t| (t.key.clone(), t.count as u64)).collect();
    assert_eq!(by_source, BTreeMap::from([(csv.display().to_string(), g.csv.rejected)]));
    assert_eq!(report.runs.len(), 1);
    assert!(report.runs[0].reconciles);

    // Per day, less the lines deleted from one order.
    let mut per_day = count.per_day.clone();
    let days = report.daily_volume.iter().map(|d| d.day.clone()).collect::<BTreeSet<_>>();
    assert_eq!(days, per_day.keys().cloned().collect::<BTreeSet<_>>());
    let total_days: i64 = report.daily_volume.iter().map(|d| d.lines).sum();
    assert_eq!(total_days, lines);
    for day in &report.daily_volume {
        let (orders, recounted_lines) = per_day.remove(&day.day).unwrap();
        assert_eq!(day.orders, orders, "{}", day.day);
        assert!(
            day.lines == recounted_lines || day.lines == recounted_lines - count.lines_of[&ids[6]],
            "{}",
            day.day
        );
    }

    assert_eq!(report.status, Status::Fail);
    let failing: BTreeSet<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        failing,
        BTreeSet::from([
            "consistency.order_total_matches_lines",
            "consistency.orders_without_lines",
            "contract.line.quantity",
            "contract.order.currency",
            "rejects.rate",
        ])
    );
});

/// The report of `D` on the shared input, as JSON without what may differ.
#[allow(dead_code)]
fn json_of<D: triglot_pipeline::OrderBackend>(dir: &Path, now: NaiveDateTime) -> serde_json::Value {
    let db =
        triglot::testing::TestDb::<D>::new(&format!("report::json_of::{}", D::NAME), &MIGRATIONS);
    let files = [dir.join("orders.csv"), dir.join("orders.jsonl")];
    for file in &files {
        let contract = if file.extension().unwrap() == "csv" {
            Contract::builtin_csv()
        } else {
            Contract::builtin_jsonl()
        };
        ingest(&db, &contract, std::slice::from_ref(file), &IngestOptions::default(), &mut |_| {})
            .unwrap();
    }
    let report = build(&db, &options(now)).unwrap();
    let mut json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["backend"], D::NAME);
    let object = json.as_object_mut().unwrap();
    object.remove("backend");
    object.remove("elapsed_ms");
    for run in object["runs"].as_array_mut().unwrap() {
        run.as_object_mut().unwrap().remove("started_at");
    }
    json
}

#[test]
fn json_reports_are_identical_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 300, 0.1);
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let reports: Vec<(&str, serde_json::Value)> = vec![
        #[cfg(feature = "sqlite")]
        ("sqlite", json_of::<triglot::sqlite::SqliteDialect>(dir.path(), now)),
        #[cfg(feature = "mysql")]
        ("mysql", json_of::<triglot::mysql::MysqlDialect>(dir.path(), now)),
        #[cfg(feature = "postgres")]
        ("postgres", json_of::<triglot::postgres::PostgresDialect>(dir.path(), now)),
    ];
    assert_eq!(reports[0].1["schema"], "triglot.report/1");
    assert!(reports[0].1["checks"].as_array().unwrap().len() > 25);
    for (backend, json) in &reports[1..] {
        assert_eq!(json, &reports[0].1, "{backend} differs from {}", reports[0].0);
    }
}

/// The checks of `report` with `status`.
fn with_status(report: &Report, status: Status) -> BTreeSet<&str> {
    report.checks.iter().filter(|c| c.status == status).map(|c| c.name.as_str()).collect()
}

/// The statements that turn foreign-key enforcement off and back on for one
/// session of backend `D` (on PostgreSQL only a superuser may, as the
/// harness's default server URL is).
fn foreign_key_checks<D: triglot_pipeline::OrderBackend>() -> (&'static str, &'static str) {
    match D::NAME {
        "SQLite" => ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
        "MySQL" => ("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1"),
        "PostgreSQL" => {
            ("SET session_replication_role = replica", "SET session_replication_role = DEFAULT")
        }
        other => panic!("no way to plant dangling rows on {other}"),
    }
}

const INTEGRITY: [&str; 3] =
    ["integrity.order_lines.order_id", "integrity.orders.customer_id", "integrity.rejects.run_id"];

triglot::backend_test!(dangling_rows_fail_the_integrity_checks, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 40, 0.0);
    ingest_csv(db, dir.path());
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let before = build(db, &options(now)).unwrap();
    for name in INTEGRITY {
        assert_eq!(value(&before, name), 0.0, "{name}");
    }
    assert_eq!(with_status(&before, Status::Fail), BTreeSet::new(), "clean input fails nothing");

    // Rows that point at nothing, written on one connection with its
    // foreign-key checks off: 2 lines of no order, 1 order of no customer,
    // 3 rejects of no run. The order and the rejects are dated outside the
    // window, so only the whole-database checks can see them.
    let lost_line = "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) \
                     VALUES (999999, {n}, 'SKU-LOST', 1, 100)";
    let (off, on) = foreign_key_checks::<D>();
    let mut conn = db.get().unwrap();
    conn.batch_execute(off).unwrap();
    for n in 1..=2 {
        conn.batch_execute(&lost_line.replace("{n}", &n.to_string())).unwrap();
    }
    conn.batch_execute(
        "INSERT INTO orders (external_id, customer_id, status, currency, total_cents, placed_at, \
         updated_at, source, content_hash) VALUES ('ORPHAN-1', 999998, 'paid', 'EUR', 100, \
         '2026-01-15 12:00:00', '2026-01-15 12:00:00', 'tests', 0)",
    )
    .unwrap();
    for line in 2..=4 {
        conn.batch_execute(&format!(
            "INSERT INTO rejects (run_id, source, line, field, reason, detail, raw, created_at) \
             VALUES (999997, 'lost.csv', {line}, NULL, 'planted', 'a reject of no run', 'x', \
             '2026-01-15 12:00:00')"
        ))
        .unwrap();
    }
    conn.batch_execute(on).unwrap();
    // With the checks back on, the same session refuses such a row: the
    // planted ones exist only because the checks were off (and the
    // connection goes back to the pool enforcing them). A prepared
    // statement, as MySQL numbers its errors only there.
    let err = diesel::sql_query(lost_line.replace("{n}", "3")).execute(&mut **conn).unwrap_err();
    assert!(
        matches!(
            err,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            )
        ),
        "{err:?}"
    );
    drop(conn);

    let report = build(db, &options(now)).unwrap();
    assert_eq!(value(&report, "integrity.order_lines.order_id"), 2.0);
    assert_eq!(value(&report, "integrity.orders.customer_id"), 1.0);
    assert_eq!(value(&report, "integrity.rejects.run_id"), 3.0);
    assert_eq!(with_status(&report, Status::Fail), BTreeSet::from(INTEGRITY));
    assert_eq!(report.status, Status::Fail);
    assert_eq!(value(&report, "rows.order_lines"), value(&before, "rows.order_lines") + 2.0);
    assert_eq!(value(&report, "rows.orders"), value(&before, "rows.orders") + 1.0);
    assert_eq!(value(&report, "rows.rejects"), 3.0);
    assert_eq!(value(&report, "volume.orders"), value(&before, "volume.orders"));
    assert_eq!(value(&report, "volume.lines"), value(&before, "volume.lines"));
});

/// The migration that creates the order tables of backend `D`.
fn order_tables_migration<D: triglot_pipeline::OrderBackend>() -> String {
    let dir = match D::NAME {
        "SQLite" => "sqlite",
        "MySQL" => "mysql",
        "PostgreSQL" => "postgres",
        other => panic!("no migrations for {other}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir)
        .join("2026-11-25-000001_create_orders/up.sql");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `sql` without the UNIQUE constraint of each natural key (`<table>_<columns>_key`).
fn without_unique_keys(sql: &str) -> String {
    let mut sql = sql.to_owned();
    for (table, columns) in triglot_pipeline::schema::UNIQUE_KEYS {
        let constraint = format!("CONSTRAINT {table}_{}_key UNIQUE (", columns.join("_"));
        let at =
            sql.find(&constraint).unwrap_or_else(|| panic!("no {constraint} in the migration"));
        // From the comma before it to its closing parenthesis.
        let start = sql[..at].rfind(',').unwrap();
        let end = at + sql[at..].find(')').unwrap() + 1;
        sql.replace_range(start..end, "");
    }
    assert!(!sql.contains("UNIQUE"), "{sql}");
    sql
}

fn customer_row(id: i64, key: &str) -> String {
    format!(
        "INSERT INTO customers (id, external_id, name, email, country, created_at) \
         VALUES ({id}, '{key}', 'Customer {id}', 'c{id}@example.com', 'DE', '2026-01-02 03:04:05')"
    )
}

fn order_row(id: i64, key: &str, customer: i64, total: i64) -> String {
    format!(
        "INSERT INTO orders (id, external_id, customer_id, status, currency, total_cents, placed_at, \
         updated_at, source, content_hash) VALUES ({id}, '{key}', {customer}, 'paid', 'EUR', {total}, \
         '2026-11-20 10:30:00', '2026-11-20 10:30:00', 'tests', 0)"
    )
}

/// A line of `quantity` × 1.00 without discount or note.
fn line_row(id: i64, order: i64, line_no: i32, quantity: i32) -> String {
    format!(
        "INSERT INTO order_lines (id, order_id, line_no, sku, quantity, unit_price_cents, \
         discount_bp, note) VALUES ({id}, {order}, {line_no}, 'SKU-{line_no}', {quantity}, 100, NULL, NULL)"
    )
}

const UNIQUENESS: [&str; 3] = [
    "uniqueness.customers(external_id)",
    "uniqueness.orders(external_id)",
    "uniqueness.order_lines(order_id, line_no)",
];

triglot::backend_test!(duplicated_natural_keys_fail_the_uniqueness_checks, |db| {
    // Prepared statements: MySQL numbers its errors (and so triglot
    // classifies them) only there, not in `batch_execute`.
    let exec = |sql: &str| db.run("planting rows", |c| diesel::sql_query(sql).execute(c));
    let now = at(2026, 11, 20, 12, 0, 0, 0);

    // The uniqueness checks are 0 by construction in a database triglot
    // migrated: each natural key is a UNIQUE constraint, and every backend
    // refuses the second row of a key.
    exec(&customer_row(1, "C-1")).unwrap();
    exec(&order_row(1, "O-1", 1, 100)).unwrap();
    exec(&line_row(1, 1, 1, 1)).unwrap();
    for duplicate in [customer_row(2, "C-1"), order_row(2, "O-1", 1, 100), line_row(2, 1, 1, 1)] {
        let err = exec(&duplicate).unwrap_err();
        assert!(matches!(err, triglot::Error::UniqueViolation(_)), "{duplicate}: {err:?}");
    }
    let constrained = build(db, &options(now)).unwrap();
    for name in UNIQUENESS {
        assert_eq!(value(&constrained, name), 0.0, "{name}");
        assert_eq!(constrained.check(name).unwrap().status, Status::Pass, "{name}");
    }

    // So that the checks' SQL is seen counting, the order tables of this
    // throw-away database are made again from the backend's own migration
    // without those constraints, and duplicates go in.
    let migration = without_unique_keys(&order_tables_migration::<D>());
    db.run("making the order tables again", |c| {
        c.batch_execute("DROP TABLE order_lines; DROP TABLE orders; DROP TABLE customers")?;
        c.batch_execute(&migration)
    })
    .unwrap();
    let rows = [
        // C-1 twice and C-2 three times: 2 duplicated keys; C-3 once.
        customer_row(1, "C-1"),
        customer_row(2, "C-1"),
        customer_row(3, "C-2"),
        customer_row(4, "C-2"),
        customer_row(5, "C-2"),
        customer_row(6, "C-3"),
        // O-1 twice: 1 duplicated key. Totals are the sums of the lines.
        order_row(1, "O-1", 1, 300),
        order_row(2, "O-1", 3, 200),
        order_row(3, "O-2", 6, 300),
        order_row(4, "O-3", 6, 100),
        // (1, 1) twice and (3, 1) three times: 2 duplicated keys.
        line_row(1, 1, 1, 1),
        line_row(2, 1, 1, 1),
        line_row(3, 1, 2, 1),
        line_row(4, 2, 1, 2),
        line_row(5, 3, 1, 1),
        line_row(6, 3, 1, 1),
        line_row(7, 3, 1, 1),
        line_row(8, 4, 1, 1),
    ];
    for row in &rows {
        exec(row).unwrap();
    }

    let report = build(db, &options(now)).unwrap();
    assert_eq!(value(&report, "rows.customers"), 6.0);
    assert_eq!(value(&report, "rows.orders"), 4.0);
    assert_eq!(value(&report, "rows.order_lines"), 8.0);
    assert_eq!(value(&report, "uniqueness.customers(external_id)"), 2.0);
    assert_eq!(value(&report, "uniqueness.orders(external_id)"), 1.0);
    assert_eq!(value(&report, "uniqueness.order_lines(order_id, line_no)"), 2.0);
    // Nothing else is wrong with these rows.
    assert_eq!(with_status(&report, Status::Fail), BTreeSet::from(UNIQUENESS));
    assert_eq!(value(&report, "consistency.order_total_matches_lines"), 0.0);
    assert_eq!(report.status, Status::Fail);

    // The report on any schema counts them as keys its file declares,
    // where no constraint does any more.
    use triglot_pipeline::flow::{QualityConfig, QualityOptions, quality_report};
    let quality = |text: &str| {
        let options = QualityOptions {
            since: now.date(),
            until: now.date().succ_opt().unwrap(),
            now,
            config: QualityConfig::from_toml(text, "unique.toml").unwrap(),
            flow: None,
        };
        quality_report(db, &options).unwrap()
    };
    let keys = "[[unique_keys]]\ntable = \"customers\"\ncolumns = [\"external_id\"]\n\
                [[unique_keys]]\ntable = \"orders\"\ncolumns = [\"external_id\"]\n\
                [[unique_keys]]\ntable = \"order_lines\"\ncolumns = [\"order_id\", \"line_no\"]\n";
    let declared = quality(keys);
    let checked =
        |r: &triglot_pipeline::flow::QualityReport, name: &str| r.check(name).and_then(|c| c.value);
    assert_eq!(checked(&declared, "uniqueness.customers.external_id"), Some(2.0));
    assert_eq!(checked(&declared, "uniqueness.orders.external_id"), Some(1.0));
    assert_eq!(checked(&declared, "uniqueness.order_lines.order_id+line_no"), Some(2.0));
    assert_eq!(checked(&quality(""), "uniqueness.orders.external_id"), None, "no constraint");
});

triglot::backend_test!(runs_that_do_not_reconcile_or_did_not_complete_are_counted, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 60, 0.1);
    assert!(g.csv.rejected > 0 && g.jsonl.rejected > 0, "the input has rejects");
    let csv = dir.path().join("orders.csv");
    let jsonl = dir.path().join("orders.jsonl");
    let mut runs = Vec::new();
    for file in [&csv, &jsonl, &csv, &jsonl] {
        let contract =
            if file == &csv { Contract::builtin_csv() } else { Contract::builtin_jsonl() };
        let summary = ingest(
            db,
            &contract,
            std::slice::from_ref(file),
            &IngestOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        runs.push(summary);
    }
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let before = build(db, &options(now)).unwrap();
    assert_eq!(before.runs.len(), 4);
    assert!(before.runs.iter().all(|r| r.reconciles), "{:?}", before.runs);
    for name in ["runs.not_reconciling", "runs.failed"] {
        assert_eq!(value(&before, name), 0.0, "{name}");
        assert_eq!(before.check(name).unwrap().status, Status::Pass, "{name}");
    }

    // Run 1 lost an accepted record from its counts (read ≠ accepted +
    // rejected); run 2 failed; run 3 counts a reject it never stored (its
    // counts add up, the stored rejects do not); run 4 is left as it was.
    let ids: Vec<i64> = runs.iter().map(|r| r.run_id).collect();
    db.run("planting runs", |c| {
        c.batch_execute(&format!(
            "UPDATE ingest_runs SET records_accepted = records_accepted - 1 WHERE id = {};
             UPDATE ingest_runs SET status = 'failed', error = 'planted' WHERE id = {};
             UPDATE ingest_runs SET records_read = records_read + 1, \
             records_rejected = records_rejected + 1 WHERE id = {}",
            ids[0], ids[1], ids[2]
        ))
    })
    .unwrap();

    let report = build(db, &options(now)).unwrap();
    assert_eq!(value(&report, "runs.not_reconciling"), 3.0);
    assert_eq!(report.check("runs.not_reconciling").unwrap().status, Status::Fail);
    assert_eq!(value(&report, "runs.failed"), 1.0);
    assert_eq!(report.check("runs.failed").unwrap().status, Status::Warn);
    assert_eq!(report.status, Status::Fail);

    let n = |v: u64| v as i64;
    let seen: Vec<(i64, &str, i64, i64, i64, i64, bool)> = report
        .runs
        .iter()
        .map(|r| {
            let counts = (r.records_read, r.records_accepted, r.records_rejected, r.rejects_stored);
            (r.id, r.status.as_str(), counts.0, counts.1, counts.2, counts.3, r.reconciles)
        })
        .collect();
    let (r0, r1, r2, r3) = (&runs[0], &runs[1], &runs[2], &runs[3]);
    let rejected = |r: &triglot_pipeline::ingest::IngestSummary| n(r.records_rejected);
    assert_eq!(
        seen,
        vec![
            (
                ids[0],
                "completed",
                n(r0.records_read),
                n(r0.records_accepted) - 1,
                rejected(r0),
                rejected(r0),
                false
            ),
            (
                ids[1],
                "failed",
                n(r1.records_read),
                n(r1.records_accepted),
                rejected(r1),
                rejected(r1),
                false
            ),
            (
                ids[2],
                "completed",
                n(r2.records_read) + 1,
                n(r2.records_accepted),
                rejected(r2) + 1,
                rejected(r2),
                false
            ),
            (
                ids[3],
                "completed",
                n(r3.records_read),
                n(r3.records_accepted),
                rejected(r3),
                rejected(r3),
                true
            ),
        ]
    );

    // Rejects: twice each file's, by reason and by source file.
    assert_eq!((r0.records_rejected, r1.records_rejected), (g.csv.rejected, g.jsonl.rejected));
    let mut by_reason = BTreeMap::<String, u64>::new();
    for (reason, count) in g.csv.by_reason.iter().chain(&g.jsonl.by_reason) {
        *by_reason.entry(reason.clone()).or_default() += 2 * count;
    }
    let seen: BTreeMap<String, u64> =
        report.rejects_by_reason.iter().map(|t| (t.key.clone(), t.count as u64)).collect();
    assert_eq!(seen, by_reason);
    let seen: BTreeMap<String, u64> =
        report.rejects_by_source.iter().map(|t| (t.key.clone(), t.count as u64)).collect();
    assert_eq!(
        seen,
        BTreeMap::from([
            (csv.display().to_string(), 2 * g.csv.rejected),
            (jsonl.display().to_string(), 2 * g.jsonl.rejected),
        ])
    );
    // Stored rejects over the records the runs say they read.
    let stored: u64 = runs.iter().map(|r| r.records_rejected).sum();
    let read: u64 = runs.iter().map(|r| r.records_read).sum::<u64>() + 1;
    assert_eq!(value(&report, "rejects.rate"), stored as f64 / read as f64);
});

/// The key set of a JSON object.
fn keys(value: &serde_json::Value) -> BTreeSet<&str> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A non-empty JSON array.
fn items<'a>(json: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    let items = json[key].as_array().unwrap_or_else(|| panic!("{key} is not an array"));
    assert!(!items.is_empty(), "{key} is empty: its items' keys would go unchecked");
    items
}

/// An RFC 3339 UTC time.
fn assert_utc(value: &serde_json::Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(text.ends_with('Z') && DateTime::parse_from_rfc3339(text).is_ok(), "{text}");
}

// The JSON schema `triglot.report/1` as README.md documents it ("The
// data-quality report"): every object's key set and every check's name, so
// that none is added, renamed or removed without this test changing.
triglot::backend_test!(json_report_keys_are_the_documented_schema, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 50, 0.1);
    ingest_csv(db, dir.path());
    let report = build(db, &options(at(2026, 11, 25, 6, 0, 0, 0))).unwrap();
    let json = serde_json::to_value(&report).unwrap();

    assert_eq!(
        keys(&json),
        BTreeSet::from([
            "schema",
            "backend",
            "window",
            "generated_at",
            "status",
            "checks",
            "daily_volume",
            "rejects_by_reason",
            "rejects_by_source",
            "runs",
            "tables",
            "elapsed_ms",
        ])
    );
    assert_eq!(json["schema"], "triglot.report/1");
    assert_eq!(json["backend"], D::NAME);
    assert!(json["elapsed_ms"].is_u64());
    assert!(["pass", "warn", "fail"].contains(&json["status"].as_str().unwrap()));
    assert_eq!(keys(&json["window"]), BTreeSet::from(["since", "until"]));
    assert_utc(&json["window"]["since"]);
    assert_utc(&json["window"]["until"]);
    assert_utc(&json["generated_at"]);

    let categories = BTreeSet::from([
        "volume",
        "null_rate",
        "uniqueness",
        "integrity",
        "consistency",
        "contract",
        "freshness",
        "rejects",
        "runs",
    ]);
    for check in items(&json, "checks") {
        assert_eq!(
            keys(check),
            BTreeSet::from(["name", "category", "value", "unit", "threshold", "status", "detail"]),
            "{check}"
        );
        assert_eq!(
            keys(&check["threshold"]),
            BTreeSet::from(["warn_above", "fail_above", "warn_below", "fail_below"]),
            "{check}"
        );
        assert!(check["value"].is_number() || check["value"].is_null(), "{check}");
        assert!(categories.contains(check["category"].as_str().unwrap()), "{check}");
        assert!(["pass", "warn", "fail"].contains(&check["status"].as_str().unwrap()), "{check}");
        assert!(check["name"].is_string() && check["unit"].is_string(), "{check}");
        assert!(check["detail"].is_string(), "{check}");
    }
    let names: Vec<&str> =
        json["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, CHECK_NAMES, "the checks, in their fixed order");

    for day in items(&json, "daily_volume") {
        assert_eq!(keys(day), BTreeSet::from(["day", "orders", "lines"]), "{day}");
    }
    for list in ["rejects_by_reason", "rejects_by_source", "tables"] {
        for tally in items(&json, list) {
            assert_eq!(keys(tally), BTreeSet::from(["key", "count"]), "{list}: {tally}");
        }
    }
    for run in items(&json, "runs") {
        assert_eq!(
            keys(run),
            BTreeSet::from([
                "id",
                "started_at",
                "status",
                "source",
                "contract",
                "records_read",
                "records_accepted",
                "records_rejected",
                "rejects_stored",
                "reconciles",
            ]),
            "{run}"
        );
        assert_utc(&run["started_at"]);
    }
});

/// Every check of the report with the built-in CSV contract, in order.
const CHECK_NAMES: &[&str] = &[
    "rows.customers",
    "rows.orders",
    "rows.order_lines",
    "rows.ingest_runs",
    "rows.rejects",
    "volume.orders",
    "volume.lines",
    "null_rate.customers.email",
    "null_rate.customers.country",
    "null_rate.order_lines.discount_bp",
    "null_rate.order_lines.note",
    "null_rate.ingest_runs.finished_at",
    "null_rate.ingest_runs.error",
    "null_rate.rejects.field",
    "uniqueness.customers(external_id)",
    "uniqueness.orders(external_id)",
    "uniqueness.order_lines(order_id, line_no)",
    "integrity.orders.customer_id",
    "integrity.order_lines.order_id",
    "integrity.rejects.run_id",
    "consistency.order_total_matches_lines",
    "consistency.orders_without_lines",
    "contract.order.order_id",
    "contract.order.status",
    "contract.order.currency",
    "contract.line.line_no",
    "contract.line.sku",
    "contract.line.quantity",
    "contract.line.unit_price",
    "contract.line.discount",
    "contract.line.note",
    "freshness.hours_since_newest_order",
    "rejects.rate",
    "runs.not_reconciling",
    "runs.failed",
];

triglot::backend_test!(accepted_lines_of_large_amounts_are_summed_without_overflow, |db| {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("large.csv");
    // 3 × 10,000,000,000,000.00 with 10 % off and 7 × 0.13 with 33.33 % off:
    // q × p × (10000 − d) is past a BIGINT for the first line, the amounts are not.
    std::fs::write(
        &csv,
        "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note\n\
         LARGE-1,C-1,Cat,c@example.com,DE,paid,EUR,2026-11-20T10:00:00Z,,1,SKU-1,3,10000000000000.00,10,\n\
         LARGE-1,,,,,,,,,2,SKU-2,7,0.13,33.33,\n\
         LARGE-2,C-1,Cat,c@example.com,DE,paid,EUR,2026-11-21T10:00:00Z,,1,SKU-1,99999,92233720368547.75,99.99,\n",
    )
    .unwrap();
    let s = ingest(db, &Contract::builtin_csv(), &[csv], &IngestOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(s.records_rejected, 0, "{s:?}");
    let report = build(db, &options(at(2026, 11, 25, 6, 0, 0, 0))).unwrap();
    assert_eq!(value(&report, "consistency.order_total_matches_lines"), 0.0);
    assert_eq!(report.check("consistency.order_total_matches_lines").unwrap().status, Status::Pass);
});

triglot::backend_test!(
    allowed_values_with_quotes_and_backslashes_are_literals_on_every_backend,
    |db| {
        use triglot_pipeline::contract::BUILTIN_CSV;

        let dir = tempfile::tempdir().unwrap();
        generated(dir.path(), 30, 0.0);
        ingest_csv(db, dir.path());
        // Values no stored row holds, spelled to break a naive literal: a lone
        // backslash (MySQL's escape), a quote, both.
        let odd = r#"allowed = ["EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "BRL", "CNY", "INR", "A\\", "it's", "\\'", "\\\\"]"#;
        let toml = BUILTIN_CSV.replacen(
        r#"allowed = ["EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "BRL", "CNY", "INR"]"#,
        odd,
        1,
    );
        assert_ne!(toml, BUILTIN_CSV, "the currency rule was edited");
        let contract = Contract::from_toml(&toml, "odd.toml").unwrap();
        let report =
            build(db, &ReportOptions { contract, ..options(at(2026, 11, 25, 6, 0, 0, 0)) })
                .unwrap();
        assert_eq!(value(&report, "contract.order.currency"), 0.0);

        // And one value that is not in the list is counted.
        let toml =
            BUILTIN_CSV.replacen("\"EUR\", ", "", 1).replacen("\"INR\"]", "\"INR\", \"\\\\'\"]", 1);
        let contract = Contract::from_toml(&toml, "odd.toml").unwrap();
        let report =
            build(db, &ReportOptions { contract, ..options(at(2026, 11, 25, 6, 0, 0, 0)) })
                .unwrap();
        let eur = crate::harness::snapshot(db).orders.iter().filter(|o| o.3 == "EUR").count();
        assert!(eur > 0);
        assert_eq!(value(&report, "contract.order.currency"), eur as f64);
    }
);

/// Each check of the order report, and the checks of the report on any
/// schema (with `ORDERS_QUALITY` and the order flow contract) whose values
/// add up to it.
const AS_QUALITY_CHECKS: &[(&str, &[&str])] = &[
    ("rows.customers", &["rows.customers"]),
    ("rows.orders", &["rows.orders"]),
    ("rows.order_lines", &["rows.order_lines"]),
    ("volume.orders", &["volume.orders.placed_at"]),
    ("volume.lines", &["volume.order_lines"]),
    ("null_rate.customers.email", &["null_rate.customers.email"]),
    ("null_rate.customers.country", &["null_rate.customers.country"]),
    ("null_rate.order_lines.discount_bp", &["null_rate.order_lines.discount_bp"]),
    ("null_rate.order_lines.note", &["null_rate.order_lines.note"]),
    ("uniqueness.customers(external_id)", &["uniqueness.customers.external_id"]),
    ("uniqueness.orders(external_id)", &["uniqueness.orders.external_id"]),
    ("uniqueness.order_lines(order_id, line_no)", &["uniqueness.order_lines.order_id+line_no"]),
    ("integrity.orders.customer_id", &["integrity.orders.customer_id"]),
    ("integrity.order_lines.order_id", &["integrity.order_lines.order_id"]),
    ("consistency.order_total_matches_lines", &["custom.order_total_matches_lines"]),
    ("consistency.orders_without_lines", &["custom.orders_without_lines"]),
    ("contract.order.order_id", &["contract.orders.external_id.max_length"]),
    ("contract.order.status", &["contract.orders.status.allowed"]),
    ("contract.order.currency", &["contract.orders.currency.allowed"]),
    ("contract.line.line_no", &["contract.order_lines.line_no.min"]),
    ("contract.line.sku", &["contract.order_lines.sku.max_length"]),
    (
        "contract.line.quantity",
        &["contract.order_lines.quantity.min", "contract.order_lines.quantity.max"],
    ),
    ("contract.line.unit_price", &["contract.order_lines.unit_price_cents.min"]),
    (
        "contract.line.discount",
        &["contract.order_lines.discount_bp.min", "contract.order_lines.discount_bp.max"],
    ),
    ("contract.line.note", &["contract.order_lines.note.max_length"]),
    ("freshness.hours_since_newest_order", &["freshness.orders.placed_at"]),
    ("rejects.rate", &["rejects.rate"]),
    ("runs.not_reconciling", &["runs.unreconciled"]),
    ("runs.failed", &["runs.failed"]),
];

triglot::backend_test!(the_order_checks_as_a_quality_config_give_the_order_reports_values, |db| {
    use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_QUALITY};
    use triglot_pipeline::flow::{
        Flow, FlowOptions, QualityConfig, QualityOptions, quality_report, run_flow,
    };

    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 400, 0.1);
    let csv = ingest_csv(db, dir.path());
    let ids = recount(&csv, &g.csv).accepted_orders;
    let flowed = triglot::testing::TestDb::<D>::new("report_as_quality", &MIGRATIONS);
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &flowed.introspect().unwrap()).unwrap();
    let files = BTreeMap::from([("rows".to_string(), csv.clone())]);
    run_flow(&flowed, &flow, &files, &FlowOptions::default()).unwrap();

    // The same defects, behind both contracts' backs, in both databases.
    let order = |key: &str| format!("(SELECT id FROM orders WHERE external_id = '{key}')");
    let mut planted = vec![
        format!("UPDATE orders SET total_cents = total_cents + 1 WHERE external_id = '{}'", ids[0]),
        format!("UPDATE orders SET currency = 'XAU' WHERE external_id = '{}'", ids[1]),
        format!("DELETE FROM order_lines WHERE order_id = {}", order(&ids[3])),
        format!("UPDATE order_lines SET note = NULL WHERE order_id = {}", order(&ids[4])),
    ];
    for key in &ids[5..7] {
        planted.push(format!(
            "UPDATE order_lines SET quantity = 200000 WHERE line_no = 1 AND order_id = {}",
            order(key)
        ));
    }
    for sql in &planted {
        db.get().unwrap().batch_execute(sql).unwrap();
        flowed.get().unwrap().batch_execute(sql).unwrap();
    }

    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let config = QualityConfig::from_toml(ORDERS_QUALITY, "orders-quality.toml").unwrap();
    // The whole data, then the day with the most orders.
    let busiest = recount(&csv, &g.csv)
        .per_day
        .into_iter()
        .max_by_key(|(_, (orders, _))| *orders)
        .map(|(day, _)| chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap())
        .unwrap();
    let day = ReportOptions {
        since: busiest.and_hms_opt(0, 0, 0).unwrap(),
        until: busiest.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap(),
        ..options(now)
    };
    let mut whole: Option<Report> = None;
    for window in [options(now), day] {
        let report = build(db, &window).unwrap();
        let quality = quality_report(
            &flowed,
            &QualityOptions {
                since: window.since.date(),
                until: window.until.date(),
                now,
                config: config.clone(),
                flow: Some(flow.clone()),
            },
        )
        .unwrap();
        let of_quality =
            |name: &str| quality.check(name).unwrap_or_else(|| panic!("no {name} on {}", D::NAME));
        for (name, parts) in AS_QUALITY_CHECKS {
            let sum: f64 = parts.iter().map(|p| of_quality(p).value.unwrap_or(f64::NAN)).sum();
            let at = format!("{name} as {parts:?} from {} on {}", window.since, D::NAME);
            assert_eq!(value(&report, name), sum, "{at}");
            if let [one] = parts {
                assert_eq!(report.check(name).unwrap().status, of_quality(one).status, "{at}");
            }
        }
        if window.since.date() != busiest {
            let totals = value(&report, "consistency.order_total_matches_lines");
            assert_eq!(totals, 3.0, "1 total, 2 quantities");
            assert_eq!(value(&report, "contract.order.currency"), 1.0);
            assert_eq!(value(&report, "contract.line.quantity"), 2.0);
        } else {
            assert!(value(&report, "volume.orders") < g.csv.orders as f64, "one day of several");
            // The day's rates are the day's rows', not the whole data's.
            let whole = whole.as_ref().unwrap();
            let scoped = ["null_rate.order_lines.discount_bp", "null_rate.order_lines.note"];
            assert!(scoped.iter().any(|n| value(whole, n) != value(&report, n)), "{scoped:?}");
        }
        whole.get_or_insert(report);
    }
    // Every order check has its counterpart but the checks of the order
    // engine's own run tables (the report on any schema reads a flow's).
    let mapped: BTreeSet<&str> = AS_QUALITY_CHECKS.iter().map(|(n, _)| *n).collect();
    let unmapped: Vec<&str> = CHECK_NAMES.iter().copied().filter(|n| !mapped.contains(n)).collect();
    assert_eq!(
        unmapped,
        [
            "rows.ingest_runs",
            "rows.rejects",
            "null_rate.ingest_runs.finished_at",
            "null_rate.ingest_runs.error",
            "null_rate.rejects.field",
            "integrity.rejects.run_id",
        ]
    );
});
