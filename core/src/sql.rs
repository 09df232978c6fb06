//! SQL expressions the model needs that diesel does not type the way triglot wants.

use diesel::backend::Backend;
use diesel::expression::{
    AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;

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
