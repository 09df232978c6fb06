//! What a quality report on any schema is told beyond the catalog, in one
//! TOML file with the thresholds: foreign keys the database does not
//! declare, the timestamp columns whose freshness and daily volume matter,
//! and custom checks.
//!
//! ```toml
//! [thresholds."rows.invoices"]
//! warn_below = 1
//!
//! [[foreign_keys]]                 # "logical": the database does not enforce it
//! table = "meter_readings"
//! columns = ["site_id"]
//! references = "sites"             # its primary key, unless `referenced_columns`
//!
//! [[unique_keys]]                  # "logical": no constraint says it
//! table = "meter_readings"
//! columns = ["site_id", "read_at"]
//!
//! [[timestamps]]
//! table = "invoices"
//! column = "issued_on"
//! window = true                    # the report's day window selects invoices,
//!                                  # their items and what they reference
//!
//! [[checks]]
//! name = "no_negative_totals"
//! table = "invoices"
//! condition = "total >= 0"         # rows where it is false are counted
//!
//! [[checks]]
//! name = "invoices_without_items"
//! sql = "SELECT COUNT(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM invoice_items t WHERE t.invoice_id = i.id)"
//! warn_above = 0                   # default: fail above 0
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::spec::line_of;
use crate::contract::ContractError;
use crate::report::{Threshold, Thresholds};

/// A quality report's configuration.
#[derive(Debug, Clone, Default)]
pub struct QualityConfig {
    /// Thresholds by check name, over the defaults.
    pub thresholds: Thresholds,
    /// Foreign keys to check beside those the catalog declares.
    pub foreign_keys: Vec<LogicalKey>,
    /// Keys whose values must be unique beside those the catalog declares.
    pub unique_keys: Vec<LogicalUnique>,
    /// Columns whose freshness and daily volume are reported.
    pub timestamps: Vec<Watched>,
    /// Declared checks.
    pub checks: Vec<CustomCheck>,
    pub(crate) origin: String,
}

/// A foreign key the configuration declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalKey {
    /// The referencing table.
    pub table: String,
    /// Its columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// Its columns (empty: its primary key).
    pub referenced_columns: Vec<String>,
    pub(crate) line: usize,
}

/// A unique key the configuration declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalUnique {
    /// The table.
    pub table: String,
    /// Its columns.
    pub columns: Vec<String>,
    pub(crate) line: usize,
}

/// A date or timestamp column whose freshness and daily volume are reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// Whether the report's window selects the rows its null-rate,
    /// contract and condition checks count: this table's rows dated in
    /// the window, the rows whose foreign keys reference them, and the rows
    /// they reference (orders placed on the day, their lines, their
    /// customers). Other checks, and tables related to none of these,
    /// count every row.
    pub window: bool,
    pub(crate) line: usize,
}

/// A declared check: a row condition on a table, or SQL that counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomCheck {
    /// Its name; the check is `custom.<name>`.
    pub name: String,
    /// What it measures.
    pub measure: Measure,
    /// Its limits (default: fail above 0).
    pub threshold: Threshold,
    pub(crate) line: usize,
}

/// What a custom check measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// Rows of `table` for which the SQL `condition` is false.
    Condition {
        /// The table.
        table: String,
        /// A SQL boolean over its columns.
        condition: String,
    },
    /// The one number a SQL query returns.
    Sql(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    thresholds: BTreeMap<Spanned<String>, Threshold>,
    #[serde(default)]
    foreign_keys: Vec<Spanned<RawKey>>,
    #[serde(default)]
    unique_keys: Vec<Spanned<RawUnique>>,
    #[serde(default)]
    timestamps: Vec<Spanned<RawColumn>>,
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    table: String,
    columns: Vec<String>,
    references: String,
    #[serde(default)]
    referenced_columns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnique {
    table: String,
    columns: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    table: String,
    column: String,
    #[serde(default)]
    window: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    name: String,
    table: Option<String>,
    condition: Option<String>,
    sql: Option<String>,
    warn_above: Option<f64>,
    fail_above: Option<f64>,
    warn_below: Option<f64>,
    fail_below: Option<f64>,
}

impl QualityConfig {
    /// Reads a configuration file.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] naming the file and the line at fault.
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let (text, origin) = ContractError::read(path)?;
        Self::from_toml(&text, &origin)
    }

    /// Parses configuration text; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] with the line of a syntax error, an unknown key,
    /// or a check that is neither a condition on a table nor SQL.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ContractError> {
        let error = |line: usize, message: String| ContractError {
            origin: origin.to_owned(),
            line,
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            error(e.span().map_or(0, |s| line_of(text, s.start)), e.message().trim().to_owned())
        })?;
        let mut lines = BTreeMap::new();
        let mut overrides = BTreeMap::new();
        for (name, threshold) in raw.thresholds {
            lines.insert(name.get_ref().clone(), line_of(text, name.span().start));
            overrides.insert(name.into_inner(), threshold);
        }
        let foreign_keys = raw
            .foreign_keys
            .into_iter()
            .map(|k| {
                let line = line_of(text, k.span().start);
                let k = k.into_inner();
                LogicalKey {
                    table: k.table,
                    columns: k.columns,
                    references: k.references,
                    referenced_columns: k.referenced_columns,
                    line,
                }
            })
            .collect();
        let unique_keys = raw
            .unique_keys
            .into_iter()
            .map(|k| {
                let line = line_of(text, k.span().start);
                let k = k.into_inner();
                LogicalUnique { table: k.table, columns: k.columns, line }
            })
            .collect();
        let timestamps = raw
            .timestamps
            .into_iter()
            .map(|c| {
                let line = line_of(text, c.span().start);
                let c = c.into_inner();
                Watched { table: c.table, column: c.column, window: c.window, line }
            })
            .collect();
        let mut checks = Vec::new();
        for check in raw.checks {
            let line = line_of(text, check.span().start);
            let c = check.into_inner();
            if c.name.is_empty() || !c.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(error(
                    line,
                    format!("check name {:?} is not letters, digits and _", c.name),
                ));
            }
            let measure = match (c.table, c.condition, c.sql) {
                (Some(table), Some(condition), None) => Measure::Condition { table, condition },
                (None, None, Some(sql)) => Measure::Sql(sql),
                _ => {
                    return Err(error(
                        line,
                        format!(
                            "check {:?} needs `table` and `condition`, or `sql`, not both",
                            c.name
                        ),
                    ));
                }
            };
            let declared = Threshold {
                warn_above: c.warn_above,
                fail_above: c.fail_above,
                warn_below: c.warn_below,
                fail_below: c.fail_below,
            };
            let threshold = if declared == Threshold::default() {
                Threshold::fail_above(0.0)
            } else {
                declared
            };
            checks.push(CustomCheck { name: c.name, measure, threshold, line });
        }
        Ok(Self {
            thresholds: Thresholds::from_overrides(overrides, lines, origin),
            foreign_keys,
            unique_keys,
            timestamps,
            checks,
            origin: origin.to_owned(),
        })
    }

    pub(crate) fn error(&self, line: usize, message: String) -> ContractError {
        ContractError { origin: self.origin.clone(), line, message }
    }
}
