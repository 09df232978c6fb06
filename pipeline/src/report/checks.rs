//! The quality checks as SQL, written once: the few spellings that differ
//! between backends come from the dialect (`int_div`, `char_length`,
//! `day_text`, `BIGINT_CAST`).

use chrono::NaiveDateTime;

use crate::backend::OrderBackend;
use crate::contract::{Contract, FieldSpec, FieldType, Target};

/// A timestamp as an SQL literal every backend compares correctly with its
/// timestamp columns (SQLite's are text in this same format).
pub(crate) fn literal(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.f"))
}

/// The SQL of the report, for one dialect and window.
pub(crate) struct Sql<D> {
    since: String,
    until: String,
    dialect: std::marker::PhantomData<D>,
}

impl<D: OrderBackend> Sql<D> {
    pub(crate) fn new(since: NaiveDateTime, until: NaiveDateTime) -> Self {
        Self { since: literal(since), until: literal(until), dialect: std::marker::PhantomData }
    }

    /// `o.placed_at` within the window.
    fn window(&self, column: &str) -> String {
        format!("{column} >= {} AND {column} < {}", self.since, self.until)
    }

    pub(crate) fn orders_in_window(&self) -> String {
        format!("SELECT COUNT(*) AS n FROM orders o WHERE {}", self.window("o.placed_at"))
    }

    pub(crate) fn lines_in_window(&self) -> String {
        format!(
            "SELECT COUNT(*) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE {}",
            self.window("o.placed_at")
        )
    }

    pub(crate) fn orders_per_day(&self) -> String {
        let day = D::day_text("o.placed_at");
        format!(
            "SELECT {day} AS k, COUNT(*) AS n FROM orders o WHERE {} GROUP BY {day} ORDER BY 1",
            self.window("o.placed_at")
        )
    }

    pub(crate) fn lines_per_day(&self) -> String {
        let day = D::day_text("o.placed_at");
        format!(
            "SELECT {day} AS k, COUNT(*) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id \
             WHERE {} GROUP BY {day} ORDER BY 1",
            self.window("o.placed_at")
        )
    }

    /// `(rows, non-NULL)` of a nullable column of the window's customers,
    /// lines, runs or rejects.
    pub(crate) fn null_ratio(&self, table: &str, column: &str) -> Option<String> {
        let window = self.window("o.placed_at");
        Some(match table {
            "customers" => format!(
                "SELECT COUNT(*) AS total, COUNT(c.{column}) AS present FROM customers c \
                 WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE {window})"
            ),
            "order_lines" => format!(
                "SELECT COUNT(*) AS total, COUNT(l.{column}) AS present FROM order_lines l \
                 JOIN orders o ON o.id = l.order_id WHERE {window}"
            ),
            "ingest_runs" => format!(
                "SELECT COUNT(*) AS total, COUNT(r.{column}) AS present FROM ingest_runs r WHERE {}",
                self.window("r.started_at")
            ),
            "rejects" => format!(
                "SELECT COUNT(*) AS total, COUNT(r.{column}) AS present FROM rejects r WHERE {}",
                self.window("r.created_at")
            ),
            _ => return None,
        })
    }

    /// Keys of `table` held by more than one row.
    pub(crate) fn duplicate_keys(table: &str, columns: &[&str]) -> String {
        let key = columns.join(", ");
        format!(
            "SELECT COUNT(*) AS n FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING COUNT(*) > 1) d"
        )
    }

    /// Rows of `table` whose `column` points at no row of `target`.
    pub(crate) fn dangling(table: &str, column: &str, target: &str, target_column: &str) -> String {
        format!(
            "SELECT COUNT(*) AS n FROM {table} t LEFT JOIN {target} r ON r.{target_column} = t.{column} \
             WHERE r.{target_column} IS NULL"
        )
    }

    /// Orders of the window with lines whose total is not the sum of their
    /// lines' amounts (`quantity × price × (1 − discount)`, half up to the cent).
    pub(crate) fn totals_not_matching(&self) -> String {
        // q × p × (10000 − d) / 10000, half up, without its 64-bit overflow:
        // with p = 10000·p1 + p0 it is q·p1·(10000 − d) (about the amount
        // itself) plus the rounded q·p0·(10000 − d) / 10000 (below 2^58).
        // Exact for what the contract accepts (q ≥ 1, p ≥ 0, 0 ≤ d ≤ 10000).
        let kept = "(10000 - COALESCE(l.discount_bp, 0))";
        let high = format!("({})", D::int_div("l.unit_price_cents", "10000"));
        let low = format!("(l.unit_price_cents - 10000 * {high})");
        let amount = format!(
            "l.quantity * ({kept} * {high}) + ({})",
            D::int_div(&format!("l.quantity * {low} * {kept} + 5000"), "10000")
        );
        let window = self.window("o.placed_at");
        format!(
            "SELECT COUNT(*) AS n FROM orders o JOIN (SELECT l.order_id, \
             CAST(SUM({amount}) AS {cast}) AS amount FROM order_lines l \
             WHERE l.order_id IN (SELECT o.id FROM orders o WHERE {window}) GROUP BY l.order_id) s \
             ON s.order_id = o.id WHERE {window} AND s.amount <> o.total_cents",
            cast = D::BIGINT_CAST,
        )
    }

    pub(crate) fn orders_without_lines(&self) -> String {
        format!(
            "SELECT COUNT(*) AS n FROM orders o WHERE {} \
             AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)",
            self.window("o.placed_at")
        )
    }

    /// Rows of the window that break `spec`'s range, allowed values or
    /// length; `None` when the spec has no such rule or field.
    pub(crate) fn outside_contract(&self, spec: &FieldSpec) -> Option<String> {
        let (from, column) = match spec.target {
            Target::Quantity => ("lines", "l.quantity"),
            Target::LineNo => ("lines", "l.line_no"),
            Target::UnitPrice => ("lines", "l.unit_price_cents"),
            Target::Discount => ("lines", "l.discount_bp"),
            Target::Sku => ("lines", "l.sku"),
            Target::Note => ("lines", "l.note"),
            Target::Total => ("orders", "o.total_cents"),
            Target::Status => ("orders", "o.status"),
            Target::Currency => ("orders", "o.currency"),
            Target::OrderId => ("orders", "o.external_id"),
            Target::CustomerName => ("customers", "c.name"),
            Target::CustomerEmail => ("customers", "c.email"),
            Target::CustomerCountry => ("customers", "c.country"),
            Target::CustomerId => ("customers", "c.external_id"),
            _ => return None,
        };
        let mut broken = Vec::new();
        let numeric = !matches!(spec.kind, FieldType::Text | FieldType::Timestamp);
        if numeric {
            if let Some(min) = spec.min {
                broken.push(format!("{column} < {min}"));
            }
            if let Some(max) = spec.max {
                broken.push(format!("{column} > {max}"));
            }
        } else {
            if let Some(max) = spec.max_length {
                broken.push(format!("{} > {max}", D::char_length(column)));
            }
            if let Some(allowed) = &spec.allowed {
                let list: Vec<String> = allowed.iter().map(|a| D::text_literal(a)).collect();
                broken.push(format!("{column} NOT IN ({})", list.join(", ")));
            }
        }
        if broken.is_empty() {
            return None;
        }
        let window = self.window("o.placed_at");
        let condition = broken.join(" OR ");
        Some(match from {
            "lines" => format!(
                "SELECT COUNT(*) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id \
                 WHERE {window} AND ({condition})"
            ),
            "orders" => {
                format!("SELECT COUNT(*) AS n FROM orders o WHERE {window} AND ({condition})")
            }
            _ => format!(
                "SELECT COUNT(*) AS n FROM customers c \
                 WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE {window}) AND ({condition})"
            ),
        })
    }

    pub(crate) fn newest_order() -> String {
        "SELECT MAX(placed_at) AS newest FROM orders".to_owned()
    }

    /// Rejects created in the window, by `column` (`reason` or `source`).
    pub(crate) fn rejects_by(&self, column: &str) -> String {
        format!(
            "SELECT {column} AS k, COUNT(*) AS n FROM rejects WHERE {} GROUP BY {column} ORDER BY 1",
            self.window("created_at")
        )
    }

    pub(crate) fn runs(&self) -> String {
        format!(
            "SELECT r.id, r.started_at, r.finished_at, r.status, r.source, r.contract, r.records_read, \
             r.records_accepted, r.records_rejected, \
             (SELECT COUNT(*) FROM rejects j WHERE j.run_id = r.id) AS rejects_stored \
             FROM ingest_runs r WHERE {} ORDER BY r.id",
            self.window("r.started_at")
        )
    }
}

/// The contract fields the report checks, with a rule worth checking.
pub(crate) fn contract_fields(contract: &Contract) -> impl Iterator<Item = (String, &FieldSpec)> {
    let order = contract.order.iter().map(|s| (format!("order.{}", s.target.name()), s));
    let line = contract.line.iter().map(|s| (format!("line.{}", s.target.name()), s));
    order.chain(line)
}
