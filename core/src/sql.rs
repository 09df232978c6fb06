//! SQL expressions the model needs that diesel does not type the way triglot wants.

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::expression::AsExpression;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
// `Bound` is what diesel's own `#[derive(AsExpression)]` expands to.
use diesel::internal::derives::as_expression::Bound;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable, Timestamp};

/// `CAST(COALESCE(SUM(expr), 0) AS <bigint>)`: a sum of integer cents read back as `i64`.
///
/// diesel types `SUM(BIGINT)` as `Numeric` (PostgreSQL and MySQL return a
/// decimal for it), which would force money through a decimal or float type.
/// The cast keeps it an exact 64-bit integer. Its spelling is the dialect's
/// [`Dialect::BIGINT_CAST`](crate::Dialect::BIGINT_CAST).
#[derive(Debug, Clone, Copy)]
pub struct SumBigInt<E> {
    expr: E,
    cast: &'static str,
}

/// Builds a [`SumBigInt`] over `expr` with the dialect's cast type.
pub fn sum_bigint<E>(expr: E, cast: &'static str) -> SumBigInt<E> {
    SumBigInt { expr, cast }
}

impl<E: Expression> Expression for SumBigInt<E> {
    type SqlType = BigInt;
}

impl<E, DB> QueryFragment<DB> for SumBigInt<E>
where
    DB: Backend,
    E: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("CAST(COALESCE(SUM(");
        self.expr.walk_ast(out.reborrow())?;
        out.push_sql("), 0) AS ");
        out.push_sql(self.cast);
        out.push_sql(")");
        Ok(())
    }
}

// The cast is part of the SQL text, so the statement cannot be cached by type alone.
impl<E> QueryId for SumBigInt<E> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<E, QS> SelectableExpression<QS> for SumBigInt<E> where E: SelectableExpression<QS> {}

impl<E, QS> AppearsOnTable<QS> for SumBigInt<E> where E: AppearsOnTable<QS> {}

impl<E, GB> ValidGrouping<GB> for SumBigInt<E> {
    type IsAggregate = is_aggregate::Yes;
}

/// A UTC date and time with microseconds: the SQL type of every timestamp
/// column of the model, read as [`chrono::NaiveDateTime`] and bound through
/// [`UtcValue`] and [`NullableUtcValue`].
///
/// It is diesel's `Timestamp` on SQLite (text) and PostgreSQL (`timestamp`),
/// and `DATETIME` on MySQL. diesel binds its `Timestamp` to MySQL as
/// `MYSQL_TYPE_TIMESTAMP`, and MariaDB turns such a parameter outside
/// TIMESTAMP's range (1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC) into
/// NULL without an error; bound as `DATETIME` the full range of a
/// `DATETIME(6)` column (years 1000 to 9999) round-trips.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, QueryId)]
#[diesel(postgres_type(oid = 1114, array_oid = 1115))]
#[diesel(mysql_type(name = "DateTime"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct UtcDateTime;

impl<DB> FromSql<UtcDateTime, DB> for NaiveDateTime
where
    DB: Backend,
    NaiveDateTime: FromSql<Timestamp, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        <Self as FromSql<Timestamp, DB>>::from_sql(bytes)
    }
}

/// A [`NaiveDateTime`] bound as [`UtcDateTime`].
///
/// Rust's coherence rules do not let triglot make chrono's type an expression
/// of its own SQL type, so binds go through this wrapper: insertable structs
/// use `#[diesel(serialize_as = UtcValue)]`, filters `col.ge(UtcValue(t))`.
///
/// # Example
///
/// ```
/// use diesel::prelude::*;
/// use triglot_core::sql::UtcValue;
///
/// diesel::table! {
///     use diesel::sql_types::*;
///     use triglot_core::sql::UtcDateTime;
///     events (id) { id -> BigInt, at -> UtcDateTime }
/// }
///
/// let since = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
/// let _recent = events::table.filter(events::at.ge(UtcValue(since)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression)]
#[diesel(sql_type = UtcDateTime)]
pub struct UtcValue(pub NaiveDateTime);

impl From<NaiveDateTime> for UtcValue {
    fn from(t: NaiveDateTime) -> Self {
        Self(t)
    }
}

impl<DB> ToSql<UtcDateTime, DB> for UtcValue
where
    DB: Backend,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, DB>>::to_sql(&self.0, out)
    }
}

/// A [`NaiveDateTime`] bound directly as [`UtcDateTime`] (what
/// [`SqlValue::Timestamp`](crate::values::SqlValue::Timestamp) binds).
impl<DB> ToSql<UtcDateTime, DB> for NaiveDateTime
where
    DB: Backend,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, DB>>::to_sql(self, out)
    }
}

/// An optional [`NaiveDateTime`] bound as `Nullable<UtcDateTime>`; `None` is NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NullableUtcValue(pub Option<NaiveDateTime>);

impl From<Option<NaiveDateTime>> for NullableUtcValue {
    fn from(t: Option<NaiveDateTime>) -> Self {
        Self(t)
    }
}

impl AsExpression<Nullable<UtcDateTime>> for NullableUtcValue {
    type Expression = Bound<Nullable<UtcDateTime>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl AsExpression<Nullable<UtcDateTime>> for &NullableUtcValue {
    type Expression = Bound<Nullable<UtcDateTime>, Self>;

    fn as_expression(self) -> Self::Expression {
        Bound::new(self)
    }
}

impl<DB> ToSql<Nullable<UtcDateTime>, DB> for NullableUtcValue
where
    DB: Backend,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        match &self.0 {
            Some(t) => <NaiveDateTime as ToSql<Timestamp, DB>>::to_sql(t, out),
            None => Ok(IsNull::Yes),
        }
    }
}

/// A condition that is always true and keeps its statement from being
/// prepared once and kept.
///
/// diesel keeps every statement whose shape is fixed. PostgreSQL switches a
/// kept statement to a generic plan after five runs, chosen without the
/// parameters' values; for a key lookup (`external_id = ANY($1)`) planned
/// while the table was small that is a sequential scan, kept as the table
/// grows. A lookup that adds `.and(Unprepared)` is prepared unnamed each
/// time, so PostgreSQL plans it with the keys at hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unprepared;

impl Expression for Unprepared {
    type SqlType = diesel::sql_types::Bool;
}

impl<DB: Backend> QueryFragment<DB> for Unprepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("1 = 1");
        Ok(())
    }
}

impl QueryId for Unprepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> SelectableExpression<QS> for Unprepared {}

impl<QS> AppearsOnTable<QS> for Unprepared {}

impl<GB> ValidGrouping<GB> for Unprepared {
    type IsAggregate = is_aggregate::Never;
}
