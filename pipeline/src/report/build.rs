//! Building a report: the checks' SQL run on a database, their values judged
//! against the limits.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{NaiveDateTime, TimeDelta};
use triglot::Database;

use super::checks::{Sql, contract_fields};
use super::config::{Status, Threshold};
use super::outcome::{Check, DayVolume, Report, ReportOptions, RunReport, SCHEMA, Tally, Window};
use super::rows::{ReportQueries, RunRow};
use crate::backend::OrderBackend;
use crate::error::Result;
use crate::schema::{FOREIGN_KEYS, UNIQUE_KEYS};

/// The default threshold of each check, by name.
fn default_threshold(name: &str) -> Threshold {
    match name {
        "volume.orders" => Threshold::warn_below(1.0),
        // NULL is a normal value here: no discount, no note, a run still
        // going, a run without error, a reject of a whole record.
        "null_rate.order_lines.discount_bp" | "null_rate.order_lines.note" => Threshold::default(),
        n if n.starts_with("null_rate.ingest_runs.") || n.starts_with("null_rate.rejects.") => {
            Threshold::default()
        }
        "freshness.hours_since_newest_order" => Threshold::above(26.0, 50.0),
        "rejects.rate" => Threshold::above(0.01, 0.05),
        "runs.failed" => Threshold { warn_above: Some(0.0), ..Threshold::default() },
        n if n.starts_with("null_rate.") => Threshold::above(0.5, 0.95),
        n if n.starts_with("rows.") || n == "volume.lines" => Threshold::default(),
        _ => Threshold::fail_above(0.0),
    }
}

/// Builds the report of `db` for `options`.
///
/// # Errors
///
/// Any statement error, classified; [`crate::Error::Contract`] when the
/// thresholds name a check the report does not have.
pub fn build<D: OrderBackend>(db: &Database<D>, options: &ReportOptions) -> Result<Report> {
    let started = Instant::now();
    let sql = Sql::<D>::new(options.since, options.until);
    let mut checks = Vec::new();
    let mut add = |name: String,
                   category: &'static str,
                   value: Option<f64>,
                   unit: &'static str,
                   detail: String| {
        let threshold = options.thresholds.get(&name, default_threshold(&name));
        let status = match value {
            Some(v) => threshold.judge(v),
            None if threshold == Threshold::default() => Status::Pass,
            None => Status::Fail,
        };
        checks.push(Check { name, category, value, unit, threshold, status, detail });
    };

    let tables = db.run("counting rows", crate::model::table_counts)?;
    for (table, rows) in &tables {
        add(
            format!("rows.{table}"),
            "volume",
            Some(*rows as f64),
            "rows",
            format!("{rows} rows in {table}"),
        );
    }

    let report = db.run("building the quality report", |conn| {
        let orders = conn.report_count(&sql.orders_in_window())?;
        let lines = conn.report_count(&sql.lines_in_window())?;
        add("volume.orders".into(), "volume", Some(orders as f64), "orders", format!("{orders} orders placed in the window"));
        add("volume.lines".into(), "volume", Some(lines as f64), "lines", format!("{lines} lines of those orders"));

        let model = crate::schema::model_schema();
        for table in ["customers", "order_lines", "ingest_runs", "rejects"] {
            for column in model.tables[table].columns.iter().filter(|c| c.nullable) {
                let Some(query) = sql.null_ratio(table, &column.name) else { continue };
                let (total, present) = conn.report_ratio(&query)?;
                let nulls = total - present;
                let rate = (total > 0).then(|| nulls as f64 / total as f64);
                add(
                    format!("null_rate.{table}.{}", column.name),
                    "null_rate",
                    rate.or(Some(0.0)),
                    "ratio",
                    format!("{nulls} of {total} {table} rows of the window have no {}", column.name),
                );
            }
        }

        for (table, columns) in UNIQUE_KEYS {
            let n = conn.report_count(&Sql::<D>::duplicate_keys(table, columns))?;
            let key = columns.join(", ");
            add(
                format!("uniqueness.{table}({key})"),
                "uniqueness",
                Some(n as f64),
                "keys",
                format!("{n} values of {table}({key}) are held by more than one row"),
            );
        }
        for (table, column, target, target_column) in FOREIGN_KEYS {
            let n = conn.report_count(&Sql::<D>::dangling(table, column, target, target_column))?;
            add(
                format!("integrity.{table}.{column}"),
                "integrity",
                Some(n as f64),
                "rows",
                format!("{n} {table} rows point at no {target} row"),
            );
        }

        let mismatched = conn.report_count(&sql.totals_not_matching())?;
        add(
            "consistency.order_total_matches_lines".into(),
            "consistency",
            Some(mismatched as f64),
            "orders",
            format!("{mismatched} orders of the window have a total that is not the sum of their lines"),
        );
        let empty = conn.report_count(&sql.orders_without_lines())?;
        add(
            "consistency.orders_without_lines".into(),
            "consistency",
            Some(empty as f64),
            "orders",
            format!("{empty} orders of the window have no lines"),
        );

        for (name, spec) in contract_fields(&options.contract) {
            if let Some(query) = sql.outside_contract(spec) {
                let n = conn.report_count(&query)?;
                add(
                    format!("contract.{name}"),
                    "contract",
                    Some(n as f64),
                    "rows",
                    format!("{n} values of the window break the rules of {name} in contract {}", options.contract.name),
                );
            }
        }

        let newest = conn.report_newest(&Sql::<D>::newest_order())?;
        let hours = newest.map(|t| (options.now - t).num_seconds() as f64 / 3_600.0);
        add(
            "freshness.hours_since_newest_order".into(),
            "freshness",
            hours.map(|h| (h * 100.0).round() / 100.0),
            "hours",
            match newest {
                Some(t) => format!("the newest order was placed at {} UTC", t.format("%Y-%m-%d %H:%M:%S")),
                None => "there are no orders".into(),
            },
        );

        let by_reason = tallies(conn.report_keyed(&sql.rejects_by("reason"))?);
        let by_source = tallies(conn.report_keyed(&sql.rejects_by("source"))?);
        let runs: Vec<RunReport> = conn.report_runs(&sql.runs())?.into_iter().map(run_report).collect();
        let read: i64 = runs.iter().map(|r| r.records_read).sum();
        let rejected: i64 = by_reason.iter().map(|t| t.count).sum();
        add(
            "rejects.rate".into(),
            "rejects",
            Some(if read > 0 { rejected as f64 / read as f64 } else { 0.0 }),
            "ratio",
            format!("{rejected} records rejected of {read} read by the window's runs"),
        );
        let unreconciled = runs.iter().filter(|r| !r.reconciles).count();
        let failed = runs.iter().filter(|r| r.status != "completed").count();
        add(
            "runs.not_reconciling".into(),
            "runs",
            Some(unreconciled as f64),
            "runs",
            format!("{unreconciled} of {} runs do not reconcile (read = accepted + rejected, every reject stored)", runs.len()),
        );
        add(
            "runs.failed".into(),
            "runs",
            Some(failed as f64),
            "runs",
            format!("{failed} of {} runs did not complete", runs.len()),
        );

        let days = merge_days(
            conn.report_keyed(&sql.orders_per_day())?,
            conn.report_keyed(&sql.lines_per_day())?,
        );
        Ok((days, by_reason, by_source, runs))
    })?;
    let (daily_volume, rejects_by_reason, rejects_by_source, runs) = report;

    options.thresholds.check_names(checks.iter().map(|c| c.name.as_str()))?;
    let status = checks.iter().map(|c| c.status).max().unwrap_or(Status::Pass);
    Ok(Report {
        schema: SCHEMA,
        backend: D::NAME,
        window: Window { since: options.since, until: options.until },
        generated_at: options.now,
        status,
        checks,
        daily_volume,
        rejects_by_reason,
        rejects_by_source,
        runs,
        tables: tables.into_iter().map(|(t, n)| Tally { key: t.to_owned(), count: n }).collect(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn tallies(rows: Vec<(String, i64)>) -> Vec<Tally> {
    rows.into_iter().map(|(key, count)| Tally { key, count }).collect()
}

fn merge_days(orders: Vec<(String, i64)>, lines: Vec<(String, i64)>) -> Vec<DayVolume> {
    let mut days: BTreeMap<String, DayVolume> = BTreeMap::new();
    for (day, n) in orders {
        days.entry(day.clone()).or_insert(DayVolume { day, orders: 0, lines: 0 }).orders = n;
    }
    for (day, n) in lines {
        days.entry(day.clone()).or_insert(DayVolume { day, orders: 0, lines: 0 }).lines = n;
    }
    days.into_values().collect()
}

fn run_report(r: RunRow) -> RunReport {
    let reconciles = r.records_read == r.records_accepted + r.records_rejected
        && r.rejects_stored == r.records_rejected
        && r.status == "completed";
    RunReport {
        id: r.id,
        started_at: r.started_at,
        status: r.status,
        source: r.source,
        contract: r.contract,
        records_read: r.records_read,
        records_accepted: r.records_accepted,
        records_rejected: r.records_rejected,
        rejects_stored: r.rejects_stored,
        reconciles,
    }
}

/// The SQL of `consistency.order_total_matches_lines` for `[since, until)`
/// on dialect `D`: the report's heaviest query (it sums every line of the
/// window), for running it elsewhere, such as beside a raw driver in a
/// benchmark or in a database console. It selects one count, `n`.
///
/// # Example
///
/// ```
/// use triglot::Database;
/// use triglot_pipeline::OrderBackend;
/// use triglot_pipeline::report::{ReportQueries, day_window, order_totals_sql};
///
/// fn mismatched<D: OrderBackend>(db: &Database<D>, day: chrono::NaiveDate) -> triglot::Result<i64> {
///     let (since, until) = day_window(day);
///     let sql = order_totals_sql::<D>(since, until);
///     db.run("checking order totals", |conn| conn.report_count(&sql))
/// }
/// ```
pub fn order_totals_sql<D: OrderBackend>(since: NaiveDateTime, until: NaiveDateTime) -> String {
    Sql::<D>::new(since, until).totals_not_matching()
}

/// The window of one UTC day (the last day chrono knows ends at its last
/// instant).
pub fn day_window(day: chrono::NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let since = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (since, since.checked_add_signed(TimeDelta::days(1)).unwrap_or(NaiveDateTime::MAX))
}
