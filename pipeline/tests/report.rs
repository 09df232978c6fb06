//! The quality report `triglot report` gives on the order schema (the order
//! flow contract and the order schema's quality checks) on every backend:
//! each check's value equals a recount done in Rust from the input file
//! (plus defects put in on purpose), over the whole data and over each day,
//! and the JSON reports of all backends are identical but for backend and
//! timings.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_JSONL_FLOW, ORDERS_QUALITY};
use triglot_pipeline::flow::{
    Flow, FlowBackend, FlowOptions, FlowSummary, QUALITY_SCHEMA, QualityConfig, QualityOptions,
    QualityReport, quality_report, run_flow,
};
use triglot_pipeline::ingest::generate::Expected;
use triglot_pipeline::report::{Status, Tally};

use crate::harness::{at, generated};

/// What the report must find, counted from the CSV file and the generator's expectations.
#[derive(Debug, Default)]
struct Recount {
    /// In the order of the file.
    accepted_orders: Vec<String>,
    lines: i64,
    /// Orders and lines by the day the orders were placed.
    per_day: BTreeMap<String, (i64, i64)>,
    /// Whether each customer has no e-mail and no country, as its last order says.
    customers: BTreeMap<String, (bool, bool)>,
    customer_of: BTreeMap<String, String>,
    day_of: BTreeMap<String, String>,
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
        let entry = out.per_day.entry(day.clone()).or_default();
        entry.0 += 1;
        entry.1 += rows.len() as i64;
        out.newest = out.newest.max(Some(placed));
        out.customers
            .insert(text(first, 1), (text(first, 3).is_empty(), text(first, 4).is_empty()));
        out.customer_of.insert(key.clone(), text(first, 1));
        out.day_of.insert(key.clone(), day);
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

/// `n / of` as the report divides, 0 when there is nothing to divide.
fn ratio(n: i64, of: i64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

fn value(report: &QualityReport, name: &str) -> f64 {
    report.check(name).and_then(|c| c.value).unwrap_or_else(|| panic!("no value for {name}"))
}

fn status(report: &QualityReport, name: &str) -> Status {
    report.check(name).unwrap_or_else(|| panic!("no check {name}")).status
}

/// The checks of `report` with `status`.
fn with_status(report: &QualityReport, status: Status) -> BTreeSet<&str> {
    report.checks.iter().filter(|c| c.status == status).map(|c| c.name.as_str()).collect()
}

/// Tallies as a map.
fn tallies(tallies: &[Tally]) -> BTreeMap<String, u64> {
    tallies.iter().map(|t| (t.key.clone(), t.count as u64)).collect()
}

/// The order flow contract, bound to `db`'s schema.
fn order_flow<D: FlowBackend>(db: &triglot::Database<D>) -> Flow {
    Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect().unwrap()).unwrap()
}

/// Loads `file` into `db` as source `source` of the flow contract `text`.
fn load<D: FlowBackend>(
    db: &triglot::Database<D>,
    text: &str,
    source: &str,
    file: &Path,
) -> FlowSummary {
    let flow = Flow::bind(text, "flow.toml", &db.introspect().unwrap()).unwrap();
    let files = BTreeMap::from([(source.to_owned(), file.to_path_buf())]);
    run_flow(db, &flow, &files, &FlowOptions::default()).unwrap()
}

/// Loads the `orders.csv` that `generated` wrote into `dir` with the order
/// flow contract; returns its path and the run.
fn load_csv<D: FlowBackend>(db: &triglot::Database<D>, dir: &Path) -> (PathBuf, FlowSummary) {
    let csv = dir.join("orders.csv");
    let run = load(db, ORDERS_FLOW, "rows", &csv);
    (csv, run)
}

/// Loads the `orders.jsonl` that `generated` wrote into `dir` with the
/// order JSONL flow contract; returns its path and the run.
fn load_jsonl<D: FlowBackend>(db: &triglot::Database<D>, dir: &Path) -> (PathBuf, FlowSummary) {
    let jsonl = dir.join("orders.jsonl");
    let run = load(db, ORDERS_JSONL_FLOW, "orders", &jsonl);
    (jsonl, run)
}

/// The order schema's quality checks, as `triglot report` reads them.
fn order_checks() -> QualityConfig {
    QualityConfig::from_toml(ORDERS_QUALITY, "orders-quality.toml").unwrap()
}

/// What `triglot report` is given on the order schema, over a window around
/// the generated orders (placed before 2026-11-25) and today's flow runs.
fn options(flow: &Flow, now: NaiveDateTime) -> QualityOptions {
    // Whole days, so reports built a moment apart cover the same window.
    let tomorrow = Utc::now().date_naive() + TimeDelta::days(1);
    QualityOptions {
        since: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        until: tomorrow,
        now,
        config: order_checks(),
        flow: Some(flow.clone()),
    }
}

/// The order report of `db` over [`options`]' window.
fn order_report<D: FlowBackend>(db: &triglot::Database<D>, now: NaiveDateTime) -> QualityReport {
    quality_report(db, &options(&order_flow(db), now)).unwrap()
}

triglot::backend_test!(every_check_equals_a_recount_of_the_input, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 400, 0.1);
    let (csv, run) = load_csv(db, dir.path());
    let count = recount(&csv, &g.csv);
    assert_eq!(count.accepted_orders.len() as u64, g.csv.orders);
    assert_eq!((run.counts.read, run.counts.rejected), (g.csv.records, g.csv.rejected), "{run:?}");

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
    // Changed totals and changed quantities both break the sum of the lines.
    let (mismatched, quantities, currencies, emptied) =
        (&ids[0..5], &ids[3..5], &ids[5..6], &ids[6]);

    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let flow = order_flow(db);
    let report = quality_report(db, &options(&flow, now)).unwrap();
    let lines = count.lines - count.lines_of[emptied];

    assert_eq!(value(&report, "volume.orders.placed_at"), g.csv.orders as f64);
    assert_eq!(value(&report, "volume.order_lines"), lines as f64);
    assert_eq!(value(&report, "volume.customers"), count.customers.len() as f64);
    assert_eq!(value(&report, "rows.orders"), g.csv.orders as f64);
    assert_eq!(value(&report, "rows.order_lines"), lines as f64);
    assert_eq!(value(&report, "rows.customers"), count.customers.len() as f64);
    assert_eq!(
        value(&report, "custom.order_total_matches_lines"),
        5.0,
        "3 totals changed, 2 quantities changed"
    );
    assert_eq!(value(&report, "custom.orders_without_lines"), 1.0);
    assert_eq!(value(&report, "contract.order_lines.quantity.max"), 2.0);
    assert_eq!(value(&report, "contract.order_lines.quantity.min"), 0.0);
    assert_eq!(value(&report, "contract.orders.currency.allowed"), 1.0);
    assert_eq!(value(&report, "contract.order_lines.sku.max_length"), 0.0);
    // Uniqueness is 0 by construction here: every natural key is a UNIQUE
    // constraint of the migrated schema, so no backend stores a duplicate
    // (`duplicated_natural_keys_fail_the_uniqueness_checks` shows the checks
    // count them once the constraints are gone). Integrity is 0 because the
    // foreign keys are enforced (`dangling_rows_fail_the_integrity_checks`
    // plants some behind their back), and the one run reconciles
    // (`runs_that_do_not_reconcile_or_did_not_complete_are_counted`).
    for name in [
        "uniqueness.orders.external_id",
        "uniqueness.customers.external_id",
        "uniqueness.order_lines.order_id+line_no",
        "integrity.order_lines.order_id",
        "integrity.orders.customer_id",
        "runs.unreconciled",
        "runs.failed",
    ] {
        assert_eq!(value(&report, name), 0.0, "{name}");
        assert_eq!(status(&report, name), Status::Pass, "{name}");
    }

    // The same divisions as the report's: the customers of the window's
    // orders, and its lines but those of the order whose lines were deleted.
    let customers = count.customers.len() as i64;
    let no_email = count.customers.values().filter(|(e, _)| *e).count() as i64;
    let no_country = count.customers.values().filter(|(_, c)| *c).count() as i64;
    assert_eq!(value(&report, "null_rate.customers.email"), ratio(no_email, customers));
    assert_eq!(value(&report, "null_rate.customers.country"), ratio(no_country, customers));
    let (gone_discounts, gone_notes) = count.nulls_of[emptied];
    assert!(count.discount_nulls - gone_discounts > 0 && count.note_nulls - gone_notes > 0);
    assert_eq!(
        value(&report, "null_rate.order_lines.discount_bp"),
        ratio(count.discount_nulls - gone_discounts, lines)
    );
    assert_eq!(
        value(&report, "null_rate.order_lines.note"),
        ratio(count.note_nulls - gone_notes, lines)
    );
    let newest = count.newest.unwrap();
    let hours = ((now - newest).num_seconds() as f64 / 3600.0 * 100.0).round() / 100.0;
    assert_eq!(value(&report, "freshness.orders.placed_at"), hours);
    assert_eq!(value(&report, "rejects.rate"), ratio(g.csv.rejected as i64, g.csv.records as i64));

    assert_eq!(tallies(&report.rejects_by_reason), g.csv.by_reason);
    assert!(g.csv.rejected > 0, "the input has rejects to tally");
    assert_eq!(
        tallies(&report.rejects_by_source),
        BTreeMap::from([(csv.display().to_string(), g.csv.rejected)])
    );
    assert_eq!(report.runs.len(), 1);
    assert_eq!(report.runs[0].run_id, run.run_id);
    assert!(report.runs[0].reconciles, "{:?}", report.runs[0]);

    // Orders per day, none deleted.
    assert_eq!(report.daily_volume.len(), 1);
    assert_eq!(report.daily_volume[0].column, "orders.placed_at");
    let per_day: BTreeMap<String, u64> =
        count.per_day.iter().map(|(day, (orders, _))| (day.clone(), *orders as u64)).collect();
    assert_eq!(tallies(&report.daily_volume[0].days), per_day);

    assert_eq!(report.status, Status::Fail);
    assert_eq!(
        with_status(&report, Status::Fail),
        BTreeSet::from([
            "custom.order_total_matches_lines",
            "custom.orders_without_lines",
            "contract.order_lines.quantity.max",
            "contract.orders.currency.allowed",
            "rejects.rate",
        ])
    );
    assert_eq!(with_status(&report, Status::Warn), BTreeSet::new());

    // Each day on its own (`triglot report --day`): the day's orders, their
    // lines and their customers, and the defects of those orders only;
    // whole-database checks as over the whole window; no run started then.
    assert!(count.per_day.len() > 1, "{:?}", count.per_day);
    for (day, &(orders, day_lines)) in &count.per_day {
        let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        let window =
            QualityOptions { since: date, until: date.succ_opt().unwrap(), ..options(&flow, now) };
        let one = quality_report(db, &window).unwrap();
        let at = format!("on {day} on {}", D::NAME);
        let of_day: Vec<&String> = ids.iter().filter(|k| count.day_of[*k] == *day).collect();
        let planted =
            |keys: &[String]| keys.iter().filter(|k| count.day_of[*k] == *day).count() as f64;
        let day_lines =
            day_lines - if of_day.contains(&emptied) { count.lines_of[emptied] } else { 0 };
        let (mut discounts, mut notes) = (0, 0);
        for key in of_day.iter().filter(|k| **k != emptied) {
            discounts += count.nulls_of[*key].0;
            notes += count.nulls_of[*key].1;
        }
        let buyers: BTreeSet<&String> = of_day.iter().map(|k| &count.customer_of[*k]).collect();
        let buyers_without = |which: fn(&(bool, bool)) -> bool| {
            buyers.iter().filter(|c| which(&count.customers[**c])).count() as i64
        };
        let defects = [
            ("custom.order_total_matches_lines", planted(mismatched)),
            ("custom.orders_without_lines", planted(std::slice::from_ref(emptied))),
            ("contract.order_lines.quantity.max", planted(quantities)),
            ("contract.orders.currency.allowed", planted(currencies)),
        ];
        let expected = [
            ("volume.orders.placed_at", orders as f64),
            ("volume.order_lines", day_lines as f64),
            ("volume.customers", buyers.len() as f64),
            ("null_rate.order_lines.discount_bp", ratio(discounts, day_lines)),
            ("null_rate.order_lines.note", ratio(notes, day_lines)),
            ("null_rate.customers.email", ratio(buyers_without(|c| c.0), buyers.len() as i64)),
            ("null_rate.customers.country", ratio(buyers_without(|c| c.1), buyers.len() as i64)),
            ("rejects.rate", 0.0),
            ("runs.failed", 0.0),
            ("runs.unreconciled", 0.0),
        ];
        for (name, expected) in expected.into_iter().chain(defects) {
            assert_eq!(value(&one, name), expected, "{name} {at}");
        }
        for name in [
            "rows.orders",
            "rows.order_lines",
            "rows.customers",
            "freshness.orders.placed_at",
            "uniqueness.orders.external_id",
            "integrity.order_lines.order_id",
        ] {
            assert_eq!(value(&one, name), value(&report, name), "{name} {at}");
        }
        assert_eq!(
            tallies(&one.daily_volume[0].days),
            BTreeMap::from([(day.clone(), orders as u64)]),
            "{at}"
        );
        assert!(one.runs.is_empty() && one.rejects_by_reason.is_empty(), "{at}: {:?}", one.runs);
        let failing: BTreeSet<&str> =
            defects.iter().filter(|(_, n)| *n > 0.0).map(|(name, _)| *name).collect();
        assert_eq!(with_status(&one, Status::Fail), failing, "{at}");
        // A day's few customers may be mostly without an e-mail or a
        // country: the quality file's warning above half of them.
        let warning: BTreeSet<&str> = ["null_rate.customers.email", "null_rate.customers.country"]
            .into_iter()
            .filter(|name| value(&one, name) > 0.5)
            .collect();
        assert_eq!(with_status(&one, Status::Warn), warning, "{at}");
    }
});

/// The report of `D` on the shared input, as JSON without what may differ.
fn json_of<D: FlowBackend>(dir: &Path, now: NaiveDateTime) -> serde_json::Value {
    let db =
        triglot::testing::TestDb::<D>::new(&format!("report::json_of::{}", D::NAME), &MIGRATIONS);
    load_csv(&db, dir);
    load_jsonl(&db, dir);
    let report = order_report(&db, now);
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
    let mut reports: Vec<(&str, serde_json::Value)> = Vec::new();
    macro_rules! report {
        ($key:ident, $dialect:ty) => {
            reports.push((stringify!($key), json_of::<$dialect>(dir.path(), now)));
        };
    }
    // Every backend triglot is built with (its features, not this crate's).
    triglot::for_each_backend!(report);
    assert!(
        reports.len() >= 2,
        "comparing backends needs at least two: build with --features triglot/mysql,triglot/postgres"
    );
    assert_eq!(reports[0].1["schema"], QUALITY_SCHEMA);
    assert!(reports[0].1["checks"].as_array().unwrap().len() > 25);
    assert_eq!(reports[0].1["runs"].as_array().unwrap().len(), 2, "the CSV's run and the JSONL's");
    for (backend, json) in &reports[1..] {
        assert_eq!(json, &reports[0].1, "{backend} differs from {}", reports[0].0);
    }
}

/// The statements that turn foreign-key enforcement off and back on for one
/// session of backend `D` (on PostgreSQL only a superuser may, as the
/// harness's default server URL is).
fn foreign_key_checks<D: FlowBackend>() -> (&'static str, &'static str) {
    match D::NAME {
        "SQLite" => ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"),
        "MySQL" => ("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1"),
        "PostgreSQL" => {
            ("SET session_replication_role = replica", "SET session_replication_role = DEFAULT")
        }
        other => panic!("no way to plant dangling rows on {other}"),
    }
}

const INTEGRITY: [&str; 2] = ["integrity.order_lines.order_id", "integrity.orders.customer_id"];

triglot::backend_test!(dangling_rows_fail_the_integrity_checks, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 40, 0.0);
    load_csv(db, dir.path());
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let before = order_report(db, now);
    for name in INTEGRITY {
        assert_eq!(value(&before, name), 0.0, "{name}");
    }
    assert_eq!(with_status(&before, Status::Fail), BTreeSet::new(), "clean input fails nothing");
    assert_eq!(with_status(&before, Status::Warn), BTreeSet::new(), "clean input warns of nothing");

    // Rows that point at nothing, written on one connection with its
    // foreign-key checks off: 2 lines of no order, 1 order of no customer.
    // The order is dated outside the window, so only the whole-database
    // checks can see it. And 3 rejects of no run, which no key declares.
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
    for line in 2..=4 {
        conn.batch_execute(&format!(
            "INSERT INTO triglot_rejects (run_id, source, line, field, reason, detail, raw) \
             VALUES (999997, 'lost.csv', {line}, NULL, 'planted', 'a reject of no run', 'x')"
        ))
        .unwrap();
    }
    drop(conn);

    let report = order_report(db, now);
    assert_eq!(value(&report, "integrity.order_lines.order_id"), 2.0);
    assert_eq!(value(&report, "integrity.orders.customer_id"), 1.0);
    assert_eq!(with_status(&report, Status::Fail), BTreeSet::from(INTEGRITY));
    assert_eq!(report.status, Status::Fail);
    assert_eq!(value(&report, "rows.order_lines"), value(&before, "rows.order_lines") + 2.0);
    assert_eq!(value(&report, "rows.orders"), value(&before, "rows.orders") + 1.0);
    for name in ["volume.orders.placed_at", "volume.order_lines", "volume.customers"] {
        assert_eq!(value(&report, name), value(&before, name), "{name}");
    }
    // The flow's own tables are not the schema's: the report neither counts
    // their rows nor checks their keys, and rejects of no run belong to no
    // run of the window, so neither the tallies nor the rate take them in.
    let books: Vec<&str> =
        report.checks.iter().map(|c| c.name.as_str()).filter(|n| n.contains("triglot_")).collect();
    assert_eq!(books, Vec::<&str>::new());
    assert!(report.rejects_by_reason.is_empty() && report.rejects_by_source.is_empty());
    assert_eq!(value(&report, "rejects.rate"), 0.0);
    // A logical key in the quality file is what counts them.
    let with_key = format!(
        "{ORDERS_QUALITY}\n[[foreign_keys]]\ntable = \"triglot_rejects\"\ncolumns = [\"run_id\"]\n\
         references = \"triglot_runs\"\n"
    );
    let keyed = QualityOptions {
        config: QualityConfig::from_toml(&with_key, "with-key.toml").unwrap(),
        ..options(&order_flow(db), now)
    };
    let keyed = quality_report(db, &keyed).unwrap();
    assert_eq!(value(&keyed, "integrity.triglot_rejects.run_id"), 3.0);
    assert_eq!(
        with_status(&keyed, Status::Fail),
        BTreeSet::from([INTEGRITY[0], INTEGRITY[1], "integrity.triglot_rejects.run_id"])
    );
});

/// The migration that creates the order tables of backend `D`.
fn order_tables_migration<D: FlowBackend>() -> String {
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
    "uniqueness.customers.external_id",
    "uniqueness.orders.external_id",
    "uniqueness.order_lines.order_id+line_no",
];

triglot::backend_test!(duplicated_natural_keys_fail_the_uniqueness_checks, |db| {
    // Prepared statements: MySQL numbers its errors (and so triglot
    // classifies them) only there, not in `batch_execute`.
    let exec = |sql: &str| db.run("planting rows", |c| diesel::sql_query(sql).execute(c));
    let now = at(2026, 11, 20, 12, 0, 0, 0);
    // Bound while the schema has its keys: the contract loads by them.
    let flow = order_flow(db);

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
    let constrained = quality_report(db, &options(&flow, now)).unwrap();
    for name in UNIQUENESS {
        assert_eq!(value(&constrained, name), 0.0, "{name}");
        assert_eq!(status(&constrained, name), Status::Pass, "{name}");
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

    // The report derives its keys from the catalog, which states none of
    // these any more; the quality file declares them as logical keys.
    let unconstrained = quality_report(db, &options(&flow, now)).unwrap();
    for name in UNIQUENESS {
        assert!(unconstrained.check(name).is_none(), "{name}: no constraint, no check");
    }
    let keys = format!(
        "{ORDERS_QUALITY}\n\
         [[unique_keys]]\ntable = \"customers\"\ncolumns = [\"external_id\"]\n\
         [[unique_keys]]\ntable = \"orders\"\ncolumns = [\"external_id\"]\n\
         [[unique_keys]]\ntable = \"order_lines\"\ncolumns = [\"order_id\", \"line_no\"]\n"
    );
    let declared = QualityOptions {
        config: QualityConfig::from_toml(&keys, "unique.toml").unwrap(),
        ..options(&flow, now)
    };
    let report = quality_report(db, &declared).unwrap();
    assert_eq!(value(&report, "rows.customers"), 6.0);
    assert_eq!(value(&report, "rows.orders"), 4.0);
    assert_eq!(value(&report, "rows.order_lines"), 8.0);
    assert_eq!(value(&report, "uniqueness.customers.external_id"), 2.0);
    assert_eq!(value(&report, "uniqueness.orders.external_id"), 1.0);
    assert_eq!(value(&report, "uniqueness.order_lines.order_id+line_no"), 2.0);
    // Nothing else is wrong with these rows.
    assert_eq!(with_status(&report, Status::Fail), BTreeSet::from(UNIQUENESS));
    assert_eq!(value(&report, "custom.order_total_matches_lines"), 0.0);
    assert_eq!(value(&report, "custom.orders_without_lines"), 0.0);
    assert_eq!(report.status, Status::Fail);
});

triglot::backend_test!(runs_that_do_not_reconcile_or_did_not_complete_are_counted, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 60, 0.1);
    assert!(g.csv.rejected > 0 && g.jsonl.rejected > 0, "the input has rejects");
    let (csv, jsonl) = (dir.path().join("orders.csv"), dir.path().join("orders.jsonl"));
    let runs: Vec<FlowSummary> =
        [&csv, &jsonl, &csv, &jsonl, &csv]
            .into_iter()
            .map(|file| {
                if *file == csv { load_csv(db, dir.path()).1 } else { load_jsonl(db, dir.path()).1 }
            })
            .collect();
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let before = order_report(db, now);
    assert_eq!(before.runs.len(), 5);
    assert!(before.runs.iter().all(|r| r.reconciles), "{:?}", before.runs);
    for name in ["runs.unreconciled", "runs.failed"] {
        assert_eq!(value(&before, name), 0.0, "{name}");
        assert_eq!(status(&before, name), Status::Pass, "{name}");
    }

    // Run 1 lost an accepted record from its counts (read ≠ accepted +
    // rejected); run 2 failed; run 3 counts a reject it never stored (its
    // counts add up, the stored rejects do not); run 4 is left as it was;
    // run 5 lost one of the rejects it stored.
    let ids: Vec<i64> = runs.iter().map(|r| r.run_id).collect();
    let (lost_line, lost_reason) = g.csv.rejects[0].clone();
    let deleted = db
        .run("planting runs", |c| {
            c.batch_execute(&format!(
                "UPDATE triglot_runs SET records_accepted = records_accepted - 1 WHERE run_id = {};
                 UPDATE triglot_runs SET status = 'failed' WHERE run_id = {};
                 UPDATE triglot_runs SET records_read = records_read + 1, \
                 records_rejected = records_rejected + 1 WHERE run_id = {}",
                ids[0], ids[1], ids[2]
            ))?;
            diesel::sql_query(format!(
                "DELETE FROM triglot_rejects WHERE run_id = {} AND line = {lost_line}",
                ids[4]
            ))
            .execute(c)
        })
        .unwrap();
    assert_eq!(deleted, 1, "one reject at line {lost_line}");

    let report = order_report(db, now);
    // A failed run whose counts add up is failed, not unreconciled.
    assert_eq!(value(&report, "runs.unreconciled"), 3.0);
    assert_eq!(status(&report, "runs.unreconciled"), Status::Fail);
    assert_eq!(value(&report, "runs.failed"), 1.0);
    assert_eq!(status(&report, "runs.failed"), Status::Warn);
    assert_eq!(report.status, Status::Fail);

    let n = |v: u64| v as i64;
    let seen: Vec<(i64, &str, i64, i64, i64, i64, bool)> = report
        .runs
        .iter()
        .map(|r| {
            let counts = (r.records_read, r.records_accepted, r.records_rejected, r.rejects_stored);
            (r.run_id, r.status.as_str(), counts.0, counts.1, counts.2, counts.3, r.reconciles)
        })
        .collect();
    let c: Vec<_> = runs.iter().map(|r| r.counts).collect();
    assert_eq!(
        seen,
        vec![
            (
                ids[0],
                "succeeded",
                n(c[0].read),
                n(c[0].accepted) - 1,
                n(c[0].rejected),
                n(c[0].rejected),
                false
            ),
            (
                ids[1],
                "failed",
                n(c[1].read),
                n(c[1].accepted),
                n(c[1].rejected),
                n(c[1].rejected),
                true
            ),
            (
                ids[2],
                "succeeded",
                n(c[2].read) + 1,
                n(c[2].accepted),
                n(c[2].rejected) + 1,
                n(c[2].rejected),
                false
            ),
            (
                ids[3],
                "succeeded",
                n(c[3].read),
                n(c[3].accepted),
                n(c[3].rejected),
                n(c[3].rejected),
                true
            ),
            (
                ids[4],
                "succeeded",
                n(c[4].read),
                n(c[4].accepted),
                n(c[4].rejected),
                n(c[4].rejected) - 1,
                false
            ),
        ]
    );
    let described: Vec<(String, String)> =
        report.runs.iter().map(|r| (r.contract.clone(), r.files.clone())).collect();
    let csv_run = ("orders-flow".to_owned(), format!("rows={}", csv.display()));
    let jsonl_run = ("orders-jsonl-flow".to_owned(), format!("orders={}", jsonl.display()));
    assert_eq!(described, [&csv_run, &jsonl_run, &csv_run, &jsonl_run, &csv_run].map(Clone::clone));

    // Rejects: three times the CSV's and twice the JSONL's but the one
    // deleted, by reason and by source file.
    assert_eq!((c[0].rejected, c[1].rejected), (g.csv.rejected, g.jsonl.rejected));
    let mut by_reason = BTreeMap::<String, u64>::new();
    for (reason, count) in &g.csv.by_reason {
        *by_reason.entry(reason.clone()).or_default() += 3 * count;
    }
    for (reason, count) in &g.jsonl.by_reason {
        *by_reason.entry(reason.clone()).or_default() += 2 * count;
    }
    *by_reason.get_mut(&lost_reason).unwrap() -= 1;
    by_reason.retain(|_, count| *count > 0);
    assert_eq!(tallies(&report.rejects_by_reason), by_reason);
    assert_eq!(
        tallies(&report.rejects_by_source),
        BTreeMap::from([
            (csv.display().to_string(), 3 * g.csv.rejected - 1),
            (jsonl.display().to_string(), 2 * g.jsonl.rejected),
        ])
    );
    // The rejects the runs counted (not those stored) over the records
    // they say they read.
    let rejected: u64 = c.iter().map(|c| c.rejected).sum::<u64>() + 1;
    let read: u64 = c.iter().map(|c| c.read).sum::<u64>() + 1;
    assert_eq!(value(&report, "rejects.rate"), ratio(rejected as i64, read as i64));
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

/// A `YYYY-MM-DD` day.
fn day_of(value: &serde_json::Value) -> NaiveDate {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The tables of the order schema.
const ORDER_TABLES: [&str; 3] = ["customers", "orders", "order_lines"];

/// Whether check `name` is one of the order schema's, rather than one the
/// catalog gives for another table the database holds.
fn of_the_order_schema(name: &str) -> bool {
    let (category, rest) = name.split_once('.').unwrap();
    let table = rest.split('.').next().unwrap();
    match category {
        "rows" | "null_rate" | "uniqueness" | "integrity" | "volume" | "contract" | "freshness" => {
            ORDER_TABLES.contains(&table)
        }
        _ => true,
    }
}

// The JSON schema `triglot.quality/1` as `QualityReport` and the types it
// holds define it: every object's key set and every check's name, so that
// none is added, renamed or removed without this test changing.
triglot::backend_test!(json_report_keys_are_the_documented_schema, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 50, 0.1);
    load_csv(db, dir.path());
    let flow = order_flow(db);
    let window = options(&flow, at(2026, 11, 25, 6, 0, 0, 0));
    let report = quality_report(db, &window).unwrap();
    let json = serde_json::to_value(&report).unwrap();

    assert_eq!(
        keys(&json),
        BTreeSet::from([
            "schema",
            "backend",
            "since",
            "until",
            "status",
            "checks",
            "tables",
            "daily_volume",
            "rejects_by_reason",
            "rejects_by_source",
            "runs",
            "elapsed_ms",
        ])
    );
    assert_eq!(json["schema"], QUALITY_SCHEMA);
    assert_eq!(QUALITY_SCHEMA, "triglot.quality/1");
    assert_eq!(json["backend"], D::NAME);
    assert!(json["elapsed_ms"].is_u64());
    assert!(["pass", "warn", "fail"].contains(&json["status"].as_str().unwrap()));
    assert_eq!((day_of(&json["since"]), day_of(&json["until"])), (window.since, window.until));

    let categories = BTreeSet::from([
        "volume",
        "null_rate",
        "uniqueness",
        "integrity",
        "contract",
        "freshness",
        "custom",
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
    let (order, other): (Vec<&str>, Vec<&str>) =
        names.iter().copied().partition(|n| of_the_order_schema(n));
    assert_eq!(order, CHECK_NAMES, "the checks, in their fixed order");
    // Other tables of the database get the catalog's checks only.
    for name in other {
        let category = name.split('.').next().unwrap();
        assert!(["rows", "null_rate", "uniqueness", "integrity"].contains(&category), "{name}");
    }

    for volume in items(&json, "daily_volume") {
        assert_eq!(keys(volume), BTreeSet::from(["column", "days"]), "{volume}");
        for day in items(volume, "days") {
            assert_eq!(keys(day), BTreeSet::from(["key", "count"]), "{day}");
            day_of(&day["key"]);
        }
    }
    for list in ["rejects_by_reason", "rejects_by_source", "tables"] {
        for tally in items(&json, list) {
            assert_eq!(keys(tally), BTreeSet::from(["key", "count"]), "{list}: {tally}");
        }
    }
    let tables: BTreeSet<&str> = items(&json, "tables")
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .filter(|t| ORDER_TABLES.contains(t))
        .collect();
    assert_eq!(tables, BTreeSet::from(ORDER_TABLES));
    for run in items(&json, "runs") {
        assert_eq!(
            keys(run),
            BTreeSet::from([
                "run_id",
                "contract",
                "files",
                "started_at",
                "status",
                "records_read",
                "records_accepted",
                "records_rejected",
                "records_unchanged",
                "rejects_stored",
                "retries",
                "reconciles",
            ]),
            "{run}"
        );
        assert_utc(&run["started_at"]);
    }
});

/// Every check of the order schema's report, in order: per table (by name)
/// its rows, the rows that go with the window, NULL rates and keys; the
/// foreign keys; the watched column; the flow contract's rules; the custom
/// checks; the runs.
const CHECK_NAMES: &[&str] = &[
    "rows.customers",
    "volume.customers",
    "null_rate.customers.email",
    "null_rate.customers.country",
    "uniqueness.customers.id",
    "uniqueness.customers.external_id",
    "rows.order_lines",
    "volume.order_lines",
    "null_rate.order_lines.discount_bp",
    "null_rate.order_lines.note",
    "uniqueness.order_lines.id",
    "uniqueness.order_lines.order_id+line_no",
    "rows.orders",
    "uniqueness.orders.id",
    "uniqueness.orders.external_id",
    "integrity.order_lines.order_id",
    "integrity.orders.customer_id",
    "freshness.orders.placed_at",
    "volume.orders.placed_at",
    "contract.orders.currency.allowed",
    "contract.orders.external_id.max_length",
    "contract.orders.status.allowed",
    "contract.orders.total_cents.min",
    "contract.order_lines.discount_bp.min",
    "contract.order_lines.discount_bp.max",
    "contract.order_lines.line_no.min",
    "contract.order_lines.line_no.max",
    "contract.order_lines.note.max_length",
    "contract.order_lines.quantity.min",
    "contract.order_lines.quantity.max",
    "contract.order_lines.sku.max_length",
    "contract.order_lines.unit_price_cents.min",
    "contract.customers.external_id.max_length",
    "custom.order_total_matches_lines",
    "custom.orders_without_lines",
    "runs.failed",
    "runs.unreconciled",
    "rejects.rate",
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
    let s = load(db, ORDERS_FLOW, "rows", &csv);
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (3, 3, 0), "{s:?}");
    assert_eq!(s.tables["orders"].rows, 2, "{s:?}");
    let now = at(2026, 11, 25, 6, 0, 0, 0);
    let report = order_report(db, now);
    assert_eq!(value(&report, "volume.orders.placed_at"), 2.0);
    assert_eq!(value(&report, "volume.order_lines"), 3.0);
    assert_eq!(value(&report, "custom.orders_without_lines"), 0.0);
    assert_eq!(value(&report, "custom.order_total_matches_lines"), 0.0);
    assert_eq!(status(&report, "custom.order_total_matches_lines"), Status::Pass);

    // A cent off the largest total is seen: the sums are exact, not merely
    // equal after a wrap.
    db.get()
        .unwrap()
        .batch_execute(
            "UPDATE orders SET total_cents = total_cents - 1 WHERE external_id = 'LARGE-2'",
        )
        .unwrap();
    let report = order_report(db, now);
    assert_eq!(value(&report, "custom.order_total_matches_lines"), 1.0);
    assert_eq!(status(&report, "custom.order_total_matches_lines"), Status::Fail);
});

triglot::backend_test!(
    allowed_values_with_quotes_and_backslashes_are_literals_on_every_backend,
    |db| {
        let dir = tempfile::tempdir().unwrap();
        generated(dir.path(), 30, 0.0);
        load_csv(db, dir.path());
        let currencies = r#"allowed = ["EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "BRL", "CNY", "INR"]"#;
        let report_with = |text: &str| {
            assert_ne!(text, ORDERS_FLOW, "the currency rule was edited");
            let flow = Flow::bind(text, "odd.toml", &db.introspect().unwrap()).unwrap();
            quality_report(db, &options(&flow, at(2026, 11, 25, 6, 0, 0, 0))).unwrap()
        };
        // Values no stored row holds, spelled to break a naive literal: a lone
        // backslash (MySQL's escape), a quote, both.
        let odd = r#"allowed = ["EUR", "USD", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "BRL", "CNY", "INR", "A\\", "it's", "\\'", "\\\\"]"#;
        let report = report_with(&ORDERS_FLOW.replacen(currencies, odd, 1));
        assert_eq!(value(&report, "contract.orders.currency.allowed"), 0.0);

        // And one value that is not in the list is counted.
        let without_eur =
            currencies.replacen("\"EUR\", ", "", 1).replacen("\"INR\"]", "\"INR\", \"\\\\'\"]", 1);
        let report = report_with(&ORDERS_FLOW.replacen(currencies, &without_eur, 1));
        let eur = crate::harness::snapshot(db).orders.iter().filter(|o| o.3 == "EUR").count();
        assert!(eur > 0);
        assert_eq!(value(&report, "contract.orders.currency.allowed"), eur as f64);
    }
);
