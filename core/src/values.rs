//! Rows whose table and columns are known only at run time: a contract's
//! target table, a fixture, a copy between databases.
//!
//! [`SqlValue`] is one value; [`ValuesInsert`] writes rows of them as one
//! multi-row `INSERT` (optionally an upsert, spelled by the dialect's
//! [`UpsertForm`]), binding every value with the SQL type its variant names.
//! Any [`Dialect`](crate::Dialect)'s backend can run it, so code generic over
//! `D: Dialect` writes dynamic rows without further bounds.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Date, HasSqlType, Text};

use crate::dialect::UpsertForm;
use crate::sql::UtcDateTime;

/// One value of a dynamic row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    /// SQL `NULL`, written as the literal (it has no type to bind with).
    Null,
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer (any integer column).
    Int(i64),
    /// Text.
    Text(String),
    /// An exact decimal as its text (`-12.50`), cast to the column's type
    /// (`CAST(? AS <decimal type>)`) so it never passes through a float.
    Decimal {
        /// The digits, with a `.` and a sign where needed.
        text: String,
        /// The SQL type to cast to, as the catalog spells the column's
        /// (`numeric(12,2)`, `decimal(12,2)`).
        cast: String,
    },
    /// A calendar date.
    Date(NaiveDate),
    /// A UTC date and time, bound as [`UtcDateTime`] (MySQL `DATETIME`).
    Timestamp(NaiveDateTime),
}

/// A backend that can bind every [`SqlValue`]; every diesel backend triglot
/// supports is one, and [`Dialect::Backend`](crate::Dialect::Backend) must be.
pub trait DynamicValues: Backend {
    /// Writes `value` into `out`: a bind parameter of its SQL type, or the
    /// literal `NULL`.
    ///
    /// # Errors
    ///
    /// The serialization error of a value.
    fn push_value<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b SqlValue) -> QueryResult<()>;
}

impl<DB> DynamicValues for DB
where
    DB: Backend
        + HasSqlType<Bool>
        + HasSqlType<BigInt>
        + HasSqlType<Text>
        + HasSqlType<Date>
        + HasSqlType<UtcDateTime>,
    bool: ToSql<Bool, DB>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    NaiveDate: ToSql<Date, DB>,
    NaiveDateTime: ToSql<UtcDateTime, DB>,
{
    fn push_value<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b SqlValue) -> QueryResult<()> {
        match value {
            SqlValue::Null => {
                out.push_sql("NULL");
                Ok(())
            }
            SqlValue::Bool(b) => out.push_bind_param::<Bool, bool>(b),
            SqlValue::Int(i) => out.push_bind_param::<BigInt, i64>(i),
            SqlValue::Text(t) => out.push_bind_param::<Text, str>(t.as_str()),
            SqlValue::Decimal { text, cast } => {
                out.push_sql("CAST(");
                out.push_bind_param::<Text, str>(text.as_str())?;
                out.push_sql(" AS ");
                out.push_sql(cast);
                out.push_sql(")");
                Ok(())
            }
            SqlValue::Date(d) => out.push_bind_param::<Date, NaiveDate>(d),
            SqlValue::Timestamp(t) => out.push_bind_param::<UtcDateTime, NaiveDateTime>(t),
        }
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…)`, optionally followed by
/// the upsert clause of `form` on `key`, updating `update`.
#[derive(Debug, Clone, Copy)]
pub struct ValuesInsert<'a> {
    table: &'a str,
    columns: &'a [String],
    rows: &'a [Vec<SqlValue>],
    upsert: Option<(UpsertForm, &'a [String], &'a [String])>,
}

impl<'a> ValuesInsert<'a> {
    /// An insert of `rows` (each as long as `columns`) into `table`.
    pub fn new(table: &'a str, columns: &'a [String], rows: &'a [Vec<SqlValue>]) -> Self {
        Self { table, columns, rows, upsert: None }
    }

    /// The same rows inserted, or where `key` (MySQL: any unique key)
    /// exists, `update` columns set to the new values (none: left as they are).
    pub fn upsert(mut self, form: UpsertForm, key: &'a [String], update: &'a [String]) -> Self {
        self.upsert = Some((form, key, update));
        self
    }
}

impl<DB: DynamicValues> QueryFragment<DB> for ValuesInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // The statement's text depends on the row count and the NULLs.
        out.unsafe_to_cache_prepared();
        if self.rows.is_empty() || self.columns.is_empty() {
            return Err(diesel::result::Error::QueryBuilderError(
                "an insert of dynamic rows needs columns and at least one row".into(),
            ));
        }
        out.push_sql("INSERT INTO ");
        out.push_identifier(self.table)?;
        out.push_sql(" (");
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(column)?;
        }
        out.push_sql(") VALUES ");
        for (r, row) in self.rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!(
                        "row {} has {} values for {} columns",
                        r + 1,
                        row.len(),
                        self.columns.len()
                    )
                    .into(),
                ));
            }
            out.push_sql(if r == 0 { "(" } else { ", (" });
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                DB::push_value(&mut out, value)?;
            }
            out.push_sql(")");
        }
        let Some((form, key, update)) = self.upsert else { return Ok(()) };
        let list = |out: &mut AstPass<'_, 'b, DB>,
                    names: &[String],
                    each: &dyn Fn(&mut AstPass<'_, 'b, DB>, &str) -> QueryResult<()>|
         -> QueryResult<()> {
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                each(out, name)?;
            }
            Ok(())
        };
        match form {
            UpsertForm::OnConflict => {
                out.push_sql(" ON CONFLICT (");
                list(&mut out, key, &|out, c| out.push_identifier(c))?;
                if update.is_empty() {
                    out.push_sql(") DO NOTHING");
                } else {
                    out.push_sql(") DO UPDATE SET ");
                    list(&mut out, update, &|out, c| {
                        out.push_identifier(c)?;
                        out.push_sql(" = excluded.");
                        out.push_identifier(c)
                    })?;
                }
            }
            UpsertForm::OnDuplicateKey => {
                out.push_sql(" ON DUPLICATE KEY UPDATE ");
                let set = if update.is_empty() { &key[..1.min(key.len())] } else { update };
                list(&mut out, set, &|out, c| {
                    out.push_identifier(c)?;
                    out.push_sql(" = VALUES(");
                    out.push_identifier(c)?;
                    out.push_sql(")");
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}

impl QueryId for ValuesInsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for ValuesInsert<'_> {}
