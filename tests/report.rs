//! The quality report on every backend: each check's value equals a recount
//! done in Rust from the input file (plus defects put in on purpose), and the
//! JSON reports of all backends are identical but for backend and timings.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use triglot::contract::Contract;
use triglot::ingest::generate::Expected;
use triglot::ingest::{IngestOptions, ingest};
use triglot::report::{Report, ReportOptions, Status, Thresholds, build};

use crate::harness::{at, generated};

/// What the report must find, counted from the CSV file and the generator's expectations.
#[derive(Debug, Default)]
struct Recount {
    accepted_orders: Vec<String>,
    lines: i64,
    per_day: BTreeMap<String, (i64, i64)>,
    customers: BTreeMap<String, (bool, bool)>,
    lines_of: BTreeMap<String, i64>,
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
        for (_, row) in &rows {
            out.discount_nulls += i64::from(row[13].is_empty());
            out.note_nulls += i64::from(row[14].is_empty());
        }
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

triglot::backend_test!(every_check_equals_a_recount_of_the_input, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 400, 0.1);
    let csv = dir.path().join("orders.csv");
    ingest(
        db,
        &Contract::builtin_csv(),
        std::slice::from_ref(&csv),
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
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
    }

    let customers = count.customers.len() as f64;
    let no_email = count.customers.values().filter(|(e, _)| *e).count() as f64;
    let no_country = count.customers.values().filter(|(_, c)| *c).count() as f64;
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(value(&report, "null_rate.customers.email"), no_email / customers));
    assert!(close(value(&report, "null_rate.customers.country"), no_country / customers));
    let newest = count.newest.unwrap();
    let hours = ((now - newest).num_seconds() as f64 / 3600.0 * 100.0).round() / 100.0;
    assert_eq!(value(&report, "freshness.hours_since_newest_order"), hours);
    assert!(close(value(&report, "rejects.rate"), g.csv.rejected as f64 / g.csv.records as f64));

    let by_reason: BTreeMap<String, u64> =
        report.rejects_by_reason.iter().map(|t| (t.key.clone(), t.count as u64)).collect();
    assert_eq!(by_reason, g.csv.by_reason);
    assert_eq!(report.rejects_by_source.len(), 1);
    assert_eq!(report.rejects_by_source[0].count as u64, g.csv.rejected);
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
fn json_of<D: triglot::testing::TestBackend>(dir: &Path, now: NaiveDateTime) -> serde_json::Value {
    let db = triglot::testing::TestDb::<D>::new(&format!("report::json_of::{}", D::NAME));
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
