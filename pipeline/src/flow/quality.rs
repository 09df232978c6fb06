//! The data-quality report of any database: checks derived from its live
//! schema, the configuration's additions, and the flow runs recorded in it.
//!
//! From the catalog: the rows of every table, the NULL rate of every
//! nullable column, duplicates of every primary and unique key, and rows
//! whose foreign key points at nothing (every declared key, enforced or not,
//! and the configuration's logical keys). From the configuration: the
//! freshness and daily volume of declared date or timestamp columns, and
//! custom checks. From a contract, when given: stored values that break its
//! allowed values and ranges. From `triglot_runs`: failed and unreconciled
//! runs, and the reject rate. Every value is a count or a ratio of counts,
//! computed by the same SQL on every backend, so the JSON is the same.

use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use triglot::Database;
use triglot::introspect::{ForeignKey, SchemaSnapshot, TableSnapshot, TypeClass};
use triglot::values::{SqlValue, Statement};

use super::books::{BOOK_PREFIX, FlowBackend, FlowQueries, RunLine};
use super::plan::{Fill, Flow};
use super::quality_config::{Measure, QualityConfig};
use crate::error::{Error, Result};
use crate::report::{Check, Status, Tally, Threshold};
use crate::transform::{ColumnKind, Exact, Value};

/// The JSON schema name and version of [`QualityReport`].
pub const QUALITY_SCHEMA: &str = "triglot.quality/1";

/// What a quality report covers and how it judges.
#[derive(Debug, Clone)]
pub struct QualityOptions {
    /// First day of the window (inclusive).
    pub since: NaiveDate,
    /// Day after the window (exclusive).
    pub until: NaiveDate,
    /// "Now", for freshness.
    pub now: NaiveDateTime,
    /// Logical keys, watched columns, custom checks, thresholds.
    pub config: QualityConfig,
    /// A contract whose allowed values and ranges stored rows must respect.
    pub flow: Option<Flow>,
}

/// Rows per day of one watched column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnVolume {
    /// `table.column`.
    pub column: String,
    /// Rows per `YYYY-MM-DD` day of the window.
    pub days: Vec<Tally>,
}

/// One flow run of the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowRun {
    /// `triglot_runs.run_id`.
    pub run_id: i64,
    /// Its contract.
    pub contract: String,
    /// Its input files, as `source=path` separated by spaces.
    pub files: String,
    /// When it started (UTC, as recorded).
    pub started_at: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// Records read.
    pub records_read: i64,
    /// Records accepted.
    pub records_accepted: i64,
    /// Records rejected.
    pub records_rejected: i64,
    /// Accepted records found unchanged.
    pub records_unchanged: i64,
    /// Rows in `triglot_rejects` of the run.
    pub rejects_stored: i64,
    /// Attempts of its transactions beyond the first, after retryable failures.
    pub retries: i64,
    /// `read = accepted + rejected` and every reject stored.
    pub reconciles: bool,
}

/// A quality report; serializes as the `triglot.quality/1` JSON schema.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QualityReport {
    /// Always [`QUALITY_SCHEMA`].
    pub schema: &'static str,
    /// Backend display name.
    pub backend: &'static str,
    /// First day of the window.
    #[serde(serialize_with = "day")]
    pub since: NaiveDate,
    /// Day after the window.
    #[serde(serialize_with = "day")]
    pub until: NaiveDate,
    /// The worst status of its checks.
    pub status: Status,
    /// Every check, in a fixed order.
    pub checks: Vec<Check>,
    /// Rows per table.
    pub tables: Vec<Tally>,
    /// Rows per day of each watched column.
    pub daily_volume: Vec<ColumnVolume>,
    /// Rejects of the window's runs by reason.
    pub rejects_by_reason: Vec<Tally>,
    /// Rejects of the window's runs by input file.
    pub rejects_by_source: Vec<Tally>,
    /// Flow runs started in the window.
    pub runs: Vec<FlowRun>,
    /// How long the queries took.
    pub elapsed_ms: u64,
}

impl QualityReport {
    /// The check called `name`, if the report has it.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

fn day<S: serde::Serializer>(d: &NaiveDate, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&d.format("%Y-%m-%d").to_string())
}

fn default_threshold(name: &str) -> Threshold {
    match name.split('.').next().unwrap_or_default() {
        "uniqueness" | "integrity" | "contract" => Threshold::fail_above(0.0),
        "runs" if name == "runs.failed" => {
            Threshold { warn_above: Some(0.0), ..Threshold::default() }
        }
        "runs" => Threshold::fail_above(0.0),
        "rejects" => Threshold::above(0.01, 0.05),
        _ => Threshold::default(),
    }
}

struct Builder<'a, D: FlowBackend> {
    db: &'a Database<D>,
    options: &'a QualityOptions,
    checks: Vec<Check>,
}

impl<D: FlowBackend> Builder<'_, D> {
    fn add(
        &mut self,
        name: String,
        category: &'static str,
        value: Option<f64>,
        unit: &'static str,
        detail: String,
    ) {
        let threshold = self.options.config.thresholds.get(&name, default_threshold(&name));
        self.push(Check { name, category, value, unit, threshold, status: Status::Pass, detail });
    }

    fn push(&mut self, mut check: Check) {
        check.status = match check.value {
            Some(v) => check.threshold.judge(v),
            None if check.threshold == Threshold::default() => Status::Pass,
            None => Status::Fail,
        };
        self.checks.push(check);
    }

    fn count(&self, statement: Statement) -> triglot::Result<i64> {
        self.db
            .read("running a quality check", |conn| conn.count(&statement))
            .map(|n| n.unwrap_or(0))
    }
}

/// `FROM table alias`.
fn from(s: &mut Statement, table: &str, alias: &str) {
    s.sql(" FROM ").ident(table).sql(" ").sql(alias);
}

/// `alias.column`.
fn col(s: &mut Statement, alias: &str, column: &str) {
    s.sql(alias).sql(".").ident(column);
}

/// A column's values as `YYYY-MM-DD…` text, the same on every backend.
fn as_text(s: &mut Statement, alias: &str, column: &str) {
    s.sql("CAST(");
    col(s, alias, column);
    s.sql(" AS CHAR(32))");
}

/// Parses a date or timestamp as `CAST(… AS CHAR(32))` spells it.
fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim().replace('T', " ");
    let text = text.trim_end_matches('Z');
    let text = text.split('+').next().unwrap_or(text);
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().or_else(|| {
        NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(Default::default()))
    })
}

/// The days of the report's window, as `YYYY-MM-DD` text.
struct Window {
    since: String,
    until: String,
}

/// Which rows of a table the report's window selects (see [`Watched::window`](super::Watched::window)).
enum Scope {
    /// Rows whose `column` falls in the window.
    Dated { column: String },
    /// Rows whose foreign key `columns` references a dated row of `table`
    /// (by its `referenced` columns).
    Referencing { columns: Vec<String>, table: String, referenced: Vec<String>, column: String },
    /// Rows that a dated row of `table` references: its `referencing`
    /// columns hold this row's `columns`.
    Referenced { columns: Vec<String>, table: String, referencing: Vec<String>, column: String },
}

/// The scope of each table the windowed watched columns reach: their own
/// tables first, then the tables referencing them, then those they reference.
fn scopes<'a>(
    config: &QualityConfig,
    keys: &'a [(String, ForeignKey, &'static str)],
) -> std::collections::BTreeMap<&'a str, Scope> {
    let mut scopes = std::collections::BTreeMap::new();
    let windowed: Vec<_> = config.timestamps.iter().filter(|w| w.window).collect();
    for w in &windowed {
        for (table, _, _) in keys.iter().filter(|(t, _, _)| *t == w.table) {
            scopes.entry(table.as_str()).or_insert(Scope::Dated { column: w.column.clone() });
        }
    }
    for w in &windowed {
        for (table, fk, _) in keys.iter().filter(|(_, fk, _)| fk.references == w.table) {
            scopes.entry(table.as_str()).or_insert(Scope::Referencing {
                columns: fk.columns.clone(),
                table: w.table.clone(),
                referenced: fk.referenced_columns.clone(),
                column: w.column.clone(),
            });
        }
        for (_, fk, _) in keys.iter().filter(|(t, _, _)| *t == w.table) {
            scopes.entry(fk.references.as_str()).or_insert(Scope::Referenced {
                columns: fk.referenced_columns.clone(),
                table: w.table.clone(),
                referencing: fk.columns.clone(),
                column: w.column.clone(),
            });
        }
    }
    scopes
}

/// Appends ` AND` the condition that keeps the rows of alias `t` that
/// `scope` selects (nothing without a scope).
fn restrict(s: &mut Statement, scope: Option<&Scope>, window: &Window) {
    let dated = |s: &mut Statement, alias: &str, column: &str| {
        for (op, day) in [(">=", &window.since), ("<", &window.until)] {
            s.sql(" AND SUBSTR(");
            as_text(s, alias, column);
            s.sql(format!(", 1, 10) {op} ")).value(SqlValue::Text(day.clone()));
        }
    };
    let related = |s: &mut Statement, table: &str, pairs: &[(&String, &String)], column: &str| {
        s.sql(" AND EXISTS (SELECT 1");
        from(s, table, "w");
        s.sql(" WHERE 1 = 1");
        for (w, t) in pairs {
            s.sql(" AND ");
            col(s, "w", w);
            s.sql(" = ");
            col(s, "t", t);
        }
        dated(s, "w", column);
        s.sql(")");
    };
    match scope {
        None => {}
        Some(Scope::Dated { column }) => dated(s, "t", column),
        Some(Scope::Referencing { columns, table, referenced, column }) => {
            let pairs: Vec<_> = referenced.iter().zip(columns).collect();
            related(s, table, &pairs, column);
        }
        Some(Scope::Referenced { columns, table, referencing, column }) => {
            let pairs: Vec<_> = referencing.iter().zip(columns).collect();
            related(s, table, &pairs, column);
        }
    }
}

fn user_tables(schema: &SchemaSnapshot) -> impl Iterator<Item = (&String, &TableSnapshot)> {
    schema.tables.iter().filter(|(name, _)| !name.starts_with(BOOK_PREFIX))
}

/// Builds the quality report of `db`.
///
/// # Errors
///
/// A statement error, classified; [`Error::Contract`] when the
/// configuration names a table, column or check the database does not have.
pub fn quality_report<D: FlowBackend>(
    db: &Database<D>,
    options: &QualityOptions,
) -> Result<QualityReport> {
    let started = Instant::now();
    let schema = db.introspect()?;
    let config = &options.config;
    check_config(config, &schema)?;
    let mut b = Builder { db, options, checks: Vec::new() };
    let mut tables = Vec::new();
    // Foreign keys: the catalog's, then the configuration's.
    let mut keys: Vec<(String, ForeignKey, &'static str)> = Vec::new();
    for (name, table) in user_tables(&schema) {
        for fk in &table.foreign_keys {
            keys.push((name.clone(), fk.clone(), "declared"));
        }
    }
    for k in &config.foreign_keys {
        let referenced_columns = if k.referenced_columns.is_empty() {
            schema.tables[&k.references].primary_key.clone()
        } else {
            k.referenced_columns.clone()
        };
        let fk = ForeignKey {
            columns: k.columns.clone(),
            references: k.references.clone(),
            referenced_columns,
        };
        keys.push((k.table.clone(), fk, "logical"));
    }
    let scopes = scopes(config, &keys);
    let window = Window {
        since: options.since.format("%Y-%m-%d").to_string(),
        until: options.until.format("%Y-%m-%d").to_string(),
    };

    for (name, table) in user_tables(&schema) {
        let mut s = Statement::new("SELECT COUNT(*) AS n");
        from(&mut s, name, "t");
        let rows = b.count(s)?;
        tables.push(Tally { key: name.clone(), count: rows });
        b.add(
            format!("rows.{name}"),
            "volume",
            Some(rows as f64),
            "rows",
            format!("{rows} rows in {name}"),
        );
        let scope = scopes.get(name.as_str());
        let rows = match scope {
            Some(scope) => {
                let mut s = Statement::new("SELECT COUNT(*) AS n");
                from(&mut s, name, "t");
                s.sql(" WHERE 1 = 1");
                restrict(&mut s, Some(scope), &window);
                let selected = b.count(s)?;
                // A dated table's rows of the window are its volume check.
                if let Scope::Referencing { table, .. } | Scope::Referenced { table, .. } = scope {
                    b.add(
                        format!("volume.{name}"),
                        "volume",
                        Some(selected as f64),
                        "rows",
                        format!("{selected} rows of {name} go with the window's {table}"),
                    );
                }
                selected
            }
            None => rows,
        };
        for column in table.columns.iter().filter(|c| c.nullable) {
            let mut s = Statement::new("SELECT COUNT(*) - COUNT(");
            col(&mut s, "t", &column.name);
            s.sql(") AS n");
            from(&mut s, name, "t");
            s.sql(" WHERE 1 = 1");
            restrict(&mut s, scope, &window);
            let nulls = b.count(s)?;
            let rate = if rows == 0 { 0.0 } else { nulls as f64 / rows as f64 };
            b.add(
                format!("null_rate.{name}.{}", column.name),
                "null_rate",
                Some(rate),
                "ratio",
                format!("{nulls} of {rows} rows have no {}", column.name),
            );
        }
        let declared: Vec<&Vec<String>> = std::iter::once(&table.primary_key)
            .filter(|k| !k.is_empty())
            .chain(&table.unique)
            .collect();
        let logical = config
            .unique_keys
            .iter()
            .filter(|k| k.table == *name && !declared.contains(&&k.columns))
            .map(|k| &k.columns);
        for key in declared.iter().copied().chain(logical) {
            let mut s = Statement::new("SELECT COUNT(*) AS n FROM (SELECT 1 AS x");
            from(&mut s, name, "t");
            s.sql(" WHERE ");
            for (i, c) in key.iter().enumerate() {
                if i > 0 {
                    s.sql(" AND ");
                }
                col(&mut s, "t", c);
                s.sql(" IS NOT NULL");
            }
            s.sql(" GROUP BY ");
            for (i, c) in key.iter().enumerate() {
                if i > 0 {
                    s.sql(", ");
                }
                col(&mut s, "t", c);
            }
            s.sql(" HAVING COUNT(*) > 1) d");
            let groups = b.count(s)?;
            b.add(
                format!("uniqueness.{name}.{}", key.join("+")),
                "uniqueness",
                Some(groups as f64),
                "keys",
                format!("{groups} values of ({}) appear more than once", key.join(", ")),
            );
        }
    }

    // Foreign keys: the catalog's, then the configuration's.
    for (table, fk, kind) in keys.clone() {
        let ForeignKey { columns, references, referenced_columns: referenced } = fk;
        let mut s = Statement::new("SELECT COUNT(*) AS n");
        from(&mut s, &table, "c");
        s.sql(" WHERE ");
        for c in &columns {
            col(&mut s, "c", c);
            s.sql(" IS NOT NULL AND ");
        }
        s.sql("NOT EXISTS (SELECT 1");
        from(&mut s, &references, "p");
        s.sql(" WHERE ");
        for (i, (c, r)) in columns.iter().zip(&referenced).enumerate() {
            if i > 0 {
                s.sql(" AND ");
            }
            col(&mut s, "p", r);
            s.sql(" = ");
            col(&mut s, "c", c);
        }
        s.sql(")");
        let dangling = b.count(s)?;
        b.add(
            format!("integrity.{table}.{}", columns.join("+")),
            "integrity",
            Some(dangling as f64),
            "rows",
            format!(
                "{dangling} rows of {table} point at no {references} ({kind} key ({}) → ({}))",
                columns.join(", "),
                referenced.join(", ")
            ),
        );
    }

    // Watched columns: freshness, and rows per day of the window.
    let mut daily_volume = Vec::new();
    let since = options.since.format("%Y-%m-%d").to_string();
    let until = options.until.format("%Y-%m-%d").to_string();
    for watched in &config.timestamps {
        let (table, column) = (&watched.table, &watched.column);
        let mut s = Statement::new("SELECT CAST(MAX(");
        col(&mut s, "t", column);
        s.sql(") AS CHAR(32)) AS k, COUNT(*) AS n");
        from(&mut s, table, "t");
        let newest = db.read("reading the newest value", |conn| conn.pairs(&s))?;
        let newest = newest.first().and_then(|p| p.k.as_deref()).and_then(parse_time);
        let hours = newest.map(|t| (options.now - t).num_seconds() as f64 / 3600.0);
        b.add(
            format!("freshness.{table}.{column}"),
            "freshness",
            hours.map(|h| (h * 100.0).round() / 100.0),
            "hours",
            match newest {
                Some(t) => format!("the newest {table}.{column} is {t}"),
                None => format!("{table} has no {column}"),
            },
        );
        let day = |s: &mut Statement| {
            s.sql("SUBSTR(");
            as_text(s, "t", column);
            s.sql(", 1, 10)");
        };
        let mut s = Statement::new("SELECT ");
        day(&mut s);
        s.sql(" AS k, COUNT(*) AS n");
        from(&mut s, table, "t");
        s.sql(" WHERE ");
        day(&mut s);
        s.sql(" >= ").value(SqlValue::Text(since.clone())).sql(" AND ");
        day(&mut s);
        s.sql(" < ").value(SqlValue::Text(until.clone())).sql(" GROUP BY ");
        day(&mut s);
        s.sql(" ORDER BY 1");
        let days: Vec<Tally> = db
            .run("counting rows per day", |conn| conn.pairs(&s))?
            .into_iter()
            .map(|p| Tally { key: p.k.unwrap_or_default(), count: p.n })
            .collect();
        let in_window: i64 = days.iter().map(|d| d.count).sum();
        b.add(
            format!("volume.{table}.{column}"),
            "volume",
            Some(in_window as f64),
            "rows",
            format!("{in_window} rows of {table} dated {since} to before {until}"),
        );
        daily_volume.push(ColumnVolume { column: format!("{table}.{column}"), days });
    }

    // The contract's rules, on what is stored.
    if let Some(flow) = &options.flow {
        for family in &flow.families {
            for plan in family.tables() {
                for slot in &plan.slots[..plan.columns.len()] {
                    if !matches!(slot.fill, Fill::Field(_) | Fill::Expr(_)) {
                        continue;
                    }
                    if let (Some(allowed), ColumnKind::Text { .. }) =
                        (&slot.text.allowed, &slot.rule.kind)
                    {
                        let mut s = Statement::new("SELECT COUNT(*) AS n");
                        from(&mut s, &plan.name, "t");
                        s.sql(" WHERE ");
                        col(&mut s, "t", &slot.name);
                        s.sql(" NOT IN (")
                            .values(allowed.iter().map(|a| SqlValue::Text(a.clone())))
                            .sql(")");
                        restrict(&mut s, scopes.get(plan.name.as_str()), &window);
                        let n = b.count(s)?;
                        b.add(
                            format!("contract.{}.{}.allowed", plan.name, slot.name),
                            "contract",
                            Some(n as f64),
                            "rows",
                            format!(
                                "{n} rows of {} hold a {} outside {}",
                                plan.name,
                                slot.name,
                                allowed.join(", ")
                            ),
                        );
                    }
                    if let (Some(max), ColumnKind::Text { .. }) =
                        (slot.text.max_length, &slot.rule.kind)
                    {
                        let mut s = Statement::new("SELECT COUNT(*) AS n");
                        from(&mut s, &plan.name, "t");
                        s.sql(format!(" WHERE {}(", db.capabilities().char_length));
                        col(&mut s, "t", &slot.name);
                        s.sql(format!(") > {max}"));
                        restrict(&mut s, scopes.get(plan.name.as_str()), &window);
                        let n = b.count(s)?;
                        b.add(
                            format!("contract.{}.{}.max_length", plan.name, slot.name),
                            "contract",
                            Some(n as f64),
                            "rows",
                            format!(
                                "{n} rows of {} hold a {} longer than {max} characters",
                                plan.name, slot.name
                            ),
                        );
                    }
                    for (bound, op, what) in
                        [(slot.text.min, "<", "min"), (slot.text.max, ">", "max")]
                    {
                        let Some(bound) = bound else { continue };
                        // A contract states money in major units; the column
                        // holds minor ones.
                        let stored = match slot.rule.kind {
                            ColumnKind::MinorUnits { scale, .. } => {
                                crate::transform::exact::pow10(scale)
                                    .and_then(|f| bound.checked_mul(Exact::int(f)))
                            }
                            _ => Ok(bound),
                        };
                        let Ok(literal) =
                            stored.and_then(|b| b.to_text(12, crate::transform::Round::HalfEven))
                        else {
                            continue;
                        };
                        let mut s = Statement::new("SELECT COUNT(*) AS n");
                        from(&mut s, &plan.name, "t");
                        s.sql(" WHERE ");
                        col(&mut s, "t", &slot.name);
                        s.sql(format!(" {op} {literal}"));
                        restrict(&mut s, scopes.get(plan.name.as_str()), &window);
                        let n = b.count(s)?;
                        b.add(
                            format!("contract.{}.{}.{what}", plan.name, slot.name),
                            "contract",
                            Some(n as f64),
                            "rows",
                            format!(
                                "{n} rows of {} hold a {} {op} {}",
                                plan.name,
                                slot.name,
                                Value::Number(bound)
                            ),
                        );
                    }
                }
            }
        }
    }

    // Custom checks.
    for custom in &config.checks {
        let value = match &custom.measure {
            Measure::Condition { table, condition } => {
                let mut s = Statement::new("SELECT COUNT(*) AS n");
                from(&mut s, table, "t");
                s.sql(format!(" WHERE NOT ({condition})"));
                restrict(&mut s, scopes.get(table.as_str()), &window);
                b.count(s)?
            }
            Measure::Sql(sql) => b.count(Statement::new(format!("SELECT ({sql}) AS n")))?,
        };
        let name = format!("custom.{}", custom.name);
        let threshold = config.thresholds.get(&name, custom.threshold);
        let detail = match &custom.measure {
            Measure::Condition { table, condition } => {
                format!("{value} rows of {table} break {condition}")
            }
            Measure::Sql(_) => format!("the query counts {value}"),
        };
        b.push(Check {
            name,
            category: "custom",
            value: Some(value as f64),
            unit: "rows",
            threshold,
            status: Status::Pass,
            detail,
        });
    }

    // Flow runs of the window.
    let mut runs = Vec::new();
    let mut rejects_by_reason = Vec::new();
    let mut rejects_by_source = Vec::new();
    if schema.tables.contains_key("triglot_runs") {
        let mut s = Statement::new(
            "SELECT r.run_id, r.contract, r.files, r.retries, r.started_at, r.status, r.records_read, \
             r.records_accepted, r.records_rejected, r.records_unchanged, \
             (SELECT COUNT(*) FROM triglot_rejects j WHERE j.run_id = r.run_id) AS rejects_stored \
             FROM triglot_runs r WHERE SUBSTR(r.started_at, 1, 10) >= ",
        );
        s.value(SqlValue::Text(since.clone()))
            .sql(" AND SUBSTR(r.started_at, 1, 10) < ")
            .value(SqlValue::Text(until.clone()))
            .sql(" ORDER BY r.run_id");
        let lines: Vec<RunLine> = db.read("reading flow runs", |conn| conn.runs(&s))?;
        runs = lines
            .into_iter()
            .map(|r| FlowRun {
                reconciles: r.records_read == r.records_accepted + r.records_rejected
                    && r.rejects_stored == r.records_rejected,
                run_id: r.run_id,
                contract: r.contract,
                files: r.files,
                started_at: r.started_at,
                status: r.status,
                records_read: r.records_read,
                records_accepted: r.records_accepted,
                records_rejected: r.records_rejected,
                records_unchanged: r.records_unchanged,
                rejects_stored: r.rejects_stored,
                retries: r.retries,
            })
            .collect();
        let failed = runs.iter().filter(|r| r.status == "failed").count();
        b.add(
            "runs.failed".into(),
            "runs",
            Some(failed as f64),
            "runs",
            format!("{failed} of {} runs failed", runs.len()),
        );
        let off = runs.iter().filter(|r| !r.reconciles).count();
        b.add(
            "runs.unreconciled".into(),
            "runs",
            Some(off as f64),
            "runs",
            format!("{off} runs where read ≠ accepted + rejected, or rejects are missing"),
        );
        let read: i64 = runs.iter().map(|r| r.records_read).sum();
        let rejected: i64 = runs.iter().map(|r| r.records_rejected).sum();
        b.add(
            "rejects.rate".into(),
            "rejects",
            // Nothing read rejects nothing: a day without runs passes.
            Some(if read > 0 { rejected as f64 / read as f64 } else { 0.0 }),
            "ratio",
            format!("{rejected} of {read} records read in the window were rejected"),
        );
        let by = |column: &str| -> triglot::Result<Vec<Tally>> {
            let mut s = Statement::new(format!(
                "SELECT j.{column} AS k, COUNT(*) AS n FROM triglot_rejects j \
                 JOIN triglot_runs r ON r.run_id = j.run_id WHERE SUBSTR(r.started_at, 1, 10) >= "
            ));
            s.value(SqlValue::Text(since.clone()))
                .sql(" AND SUBSTR(r.started_at, 1, 10) < ")
                .value(SqlValue::Text(until.clone()))
                .sql(format!(" GROUP BY j.{column} ORDER BY j.{column}"));
            Ok(db
                .run("counting rejects", |conn| conn.pairs(&s))?
                .into_iter()
                .map(|p| Tally { key: p.k.unwrap_or_default(), count: p.n })
                .collect())
        };
        rejects_by_reason = by("reason")?;
        rejects_by_source = by("source")?;
    }

    let known: Vec<&str> = b.checks.iter().map(|c| c.name.as_str()).collect();
    config.thresholds.check_names(known)?;
    let status = b.checks.iter().map(|c| c.status).max().unwrap_or(Status::Pass);
    Ok(QualityReport {
        schema: QUALITY_SCHEMA,
        backend: D::NAME,
        since: options.since,
        until: options.until,
        status,
        checks: b.checks,
        tables,
        daily_volume,
        rejects_by_reason,
        rejects_by_source,
        runs,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Refuses a configuration that names what the schema does not have.
fn check_config(config: &QualityConfig, schema: &SchemaSnapshot) -> Result<()> {
    let column = |table: &str,
                  column: &str,
                  line: usize|
     -> Result<&triglot::introspect::ColumnSnapshot> {
        let t = schema.tables.get(table).ok_or_else(|| {
            Error::Contract(config.error(line, format!("the database has no table {table:?}")))
        })?;
        t.column(column).ok_or_else(|| {
            Error::Contract(config.error(line, format!("table {table} has no column {column:?}")))
        })
    };
    for k in &config.foreign_keys {
        for c in &k.columns {
            column(&k.table, c, k.line)?;
        }
        for c in &k.referenced_columns {
            column(&k.references, c, k.line)?;
        }
        if !schema.tables.contains_key(&k.references) {
            return Err(Error::Contract(
                config.error(k.line, format!("the database has no table {:?}", k.references)),
            ));
        }
        let width = if k.referenced_columns.is_empty() {
            schema.tables[&k.references].primary_key.len()
        } else {
            k.referenced_columns.len()
        };
        if width != k.columns.len() || width == 0 {
            return Err(Error::Contract(config.error(
                k.line,
                format!(
                    "({}) has {} columns, the key it references {width}",
                    k.columns.join(", "),
                    k.columns.len()
                ),
            )));
        }
    }
    for w in &config.timestamps {
        let c = column(&w.table, &w.column, w.line)?;
        if !matches!(c.class, TypeClass::Date | TypeClass::Timestamp | TypeClass::TimestampTz) {
            return Err(Error::Contract(config.error(
                w.line,
                format!("{}.{} is {}, not a date or timestamp", w.table, w.column, c.class.name()),
            )));
        }
    }
    for k in &config.unique_keys {
        if k.columns.is_empty() {
            return Err(Error::Contract(config.error(k.line, "a unique key needs columns".into())));
        }
        for c in &k.columns {
            column(&k.table, c, k.line)?;
        }
    }
    for c in &config.checks {
        if let Measure::Condition { table, .. } = &c.measure
            && !schema.tables.contains_key(table)
        {
            return Err(Error::Contract(
                config.error(c.line, format!("the database has no table {table:?}")),
            ));
        }
    }
    Ok(())
}
