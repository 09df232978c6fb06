//! One value of a row whose columns are known only at run time, and how
//! every backend binds it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Date, HasSqlType, Nullable, Text};

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

    /// Writes a NULL bind parameter into `out` (typed as text; only for
    /// backends that take an untyped NULL, see
    /// [`Capabilities::null_binds`](crate::Capabilities::null_binds)).
    ///
    /// # Errors
    ///
    /// The serialization error of the bind.
    fn push_null(out: &mut AstPass<'_, '_, Self>) -> QueryResult<()>;
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
    fn push_null(out: &mut AstPass<'_, '_, Self>) -> QueryResult<()> {
        out.push_bind_param::<Nullable<Text>, Option<&str>>(&None)
    }

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

/// A row's key as text and its id, as an upsert returns them
/// ([`Dialect::upsert_values_returning`](crate::Dialect::upsert_values_returning)).
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct KeyId {
    /// The key, cast to text.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub k: String,
    /// The id.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub n: i64,
}

/// An upsert of rows known only at run time: `rows` (each as long as
/// `columns`) into `table`, by `key`, setting the `update` columns of rows
/// whose key exists (none: leaving them as they are).
#[derive(Debug, Clone, Copy)]
pub struct Upsert<'a> {
    /// The table written.
    pub table: &'a str,
    /// The columns each row fills, in order.
    pub columns: &'a [String],
    /// The rows.
    pub rows: &'a [Vec<SqlValue>],
    /// The unique key that finds an existing row (MySQL: any unique key).
    pub key: &'a [String],
    /// The columns an existing row takes from the new one.
    pub update: &'a [String],
}
