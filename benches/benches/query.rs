//! Representative query paths beside the raw drivers: a day's orders with
//! their lines (`model::orders_with_lines`: 2,500 orders, 10,000 lines), and
//! the order report's heaviest check (`custom.order_total_matches_lines`,
//! the condition of `pipeline/contracts/orders-quality.toml`).
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench query`
//! Names: `query/<backend>/{triglot,raw}/{day_orders_with_lines,order_totals_check}`.

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use chrono::TimeDelta;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use triglot::values::Statement;
use triglot_benches::raw::Raw;
use triglot_benches::{Compared, epoch};
use triglot_pipeline::contract::ORDERS_QUALITY;
use triglot_pipeline::flow::{FlowBackend, FlowQueries, Measure, QualityConfig};
use triglot_pipeline::model::orders_with_lines;

const LINES: usize = 10_000;

/// The count the order report's total check makes: orders whose total is
/// not the sum of their lines.
fn totals_check_sql() -> String {
    let config = QualityConfig::from_toml(ORDERS_QUALITY, "orders-quality.toml").expect("built in");
    let check = config.checks.iter().find(|c| c.name == "order_total_matches_lines");
    let Some(Measure::Condition { table, condition }) = check.map(|c| &c.measure) else {
        panic!("orders-quality.toml has no condition order_total_matches_lines")
    };
    format!("SELECT COUNT(*) AS n FROM {table} t WHERE NOT ({condition})")
}

fn query<D: triglot_pipeline::OrderBackend + FlowBackend, R: Raw>(c: &mut Criterion) {
    let Some(mut compared) = Compared::<D, R>::new("query", LINES) else { return };
    let Compared { fixture, raw, .. } = &mut compared;
    let db = &fixture.db;
    let day = (epoch(), epoch() + TimeDelta::days(1));
    let ours_day = || db.run("loading the day", |c| orders_with_lines(c, day.0, day.1));
    let totals = totals_check_sql();
    let statement = Statement::new(totals.clone());
    let ours_totals =
        || db.run("checking totals", |c| c.count(&statement)).map(|n| n.unwrap_or_default());

    // Both sides must produce the same result before either is timed.
    let day_orders = ours_day().expect("day");
    assert_eq!(day_orders.iter().map(|(_, l)| l.len()).sum::<usize>(), LINES);
    assert!(day_orders == raw.orders_with_lines(day), "{}: orders differ", D::NAME);
    assert_eq!(ours_totals().expect("totals"), raw.count(&totals));

    let mut group = c.benchmark_group(format!("query/{}", D::URL_SCHEMES[0]));
    group.bench_function(BenchmarkId::new("triglot", "day_orders_with_lines"), |b| {
        b.iter(|| ours_day().expect("day"))
    });
    group.bench_function(BenchmarkId::new("raw", "day_orders_with_lines"), |b| {
        b.iter(|| raw.orders_with_lines(day))
    });
    group.bench_function(BenchmarkId::new("triglot", "order_totals_check"), |b| {
        b.iter(|| ours_totals().expect("totals"))
    });
    group.bench_function(BenchmarkId::new("raw", "order_totals_check"), |b| {
        b.iter(|| raw.count(&totals))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    triglot_benches::each_compared!(query(c));
}

criterion_group!(query_benches, benches);
criterion_main!(query_benches);
