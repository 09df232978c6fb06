//! The decode hot path for order lines: fields read by position from the row.
//!
//! diesel decodes a `Selectable` struct through one nested partial row per
//! field, and on MySQL each of those re-reads the column count through two
//! libmysqlclient calls. The decoder here reads the eight fields of a line
//! straight from the row, on any backend whose values the fields accept.

use diesel::backend::Backend;
use diesel::connection::{DefaultLoadingMode, LoadConnection};
use diesel::deserialize::{self, FromSql};
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::LoadQuery;
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::model::OrderLine;
use crate::schema::order_lines;

/// The SQL types of the selected columns, in order.
pub(crate) type LineSql =
    (BigInt, BigInt, Integer, Text, Integer, BigInt, Nullable<Integer>, Nullable<Text>);

/// An [`OrderLine`] as this module decodes it.
pub(crate) struct LineRow(OrderLine);

// Inlined into `build`: as a call per field it saved and restored six
// registers around a body of about forty instructions (callgrind,
// `decode_profile postgres triglot`: 124.2 M without, 117.7 M with).
#[inline(always)]
fn field<'a, T, ST, DB>(row: &impl Row<'a, DB>, idx: usize) -> deserialize::Result<T>
where
    DB: Backend,
    T: FromSql<ST, DB>,
{
    let field = row.get(idx).ok_or("fewer columns than an order line has")?;
    T::from_nullable_sql(field.value())
}

/// Implements the positional decoding of [`LineRow`] for one diesel backend
/// (a generic impl would overlap diesel's blanket impl for `Queryable` types).
macro_rules! line_row_for {
    ($backend:ty) => {
        impl diesel::deserialize::FromSqlRow<$crate::backend::decode::LineSql, $backend>
            for $crate::backend::decode::LineRow
        {
            fn build_from_row<'a>(
                row: &impl diesel::row::Row<'a, $backend>,
            ) -> diesel::deserialize::Result<Self> {
                $crate::backend::decode::build(row)
            }
        }
    };
}

/// Reads an [`OrderLine`] from a row by position.
pub(crate) fn build<'a, DB, R>(row: &R) -> deserialize::Result<LineRow>
where
    DB: Backend,
    R: Row<'a, DB>,
    i64: FromSql<BigInt, DB>,
    i32: FromSql<Integer, DB>,
    String: FromSql<Text, DB>,
{
    Ok(LineRow(OrderLine {
        id: field::<_, BigInt, DB>(row, 0)?,
        order_id: field::<_, BigInt, DB>(row, 1)?,
        line_no: field::<_, Integer, DB>(row, 2)?,
        sku: field::<_, Text, DB>(row, 3)?,
        quantity: field::<_, Integer, DB>(row, 4)?,
        unit_price_cents: field::<_, BigInt, DB>(row, 5)?,
        discount_bp: field::<_, Nullable<Integer>, DB>(row, 6)?,
        note: field::<_, Nullable<Text>, DB>(row, 7)?,
    }))
}

/// The keyset page of lines after `after_id`, by id, every column by position.
#[dsl::auto_type]
pub(crate) fn page(after_id: i64, limit: i64) -> _ {
    order_lines::table
        .filter(order_lines::id.gt(after_id))
        .order_by(order_lines::id)
        .limit(limit)
        .select((
            order_lines::id,
            order_lines::order_id,
            order_lines::line_no,
            order_lines::sku,
            order_lines::quantity,
            order_lines::unit_price_cents,
            order_lines::discount_bp,
            order_lines::note,
        ))
}

/// A keyset page of order lines (see `OrderLineQueries::lines_after`).
pub(crate) fn lines_after<C>(conn: &mut C, after_id: i64, limit: i64) -> QueryResult<Vec<OrderLine>>
where
    C: LoadConnection<DefaultLoadingMode>,
    for<'q> page: LoadQuery<'q, C, LineRow>,
{
    let rows = page(after_id, limit).load_iter::<LineRow, DefaultLoadingMode>(conn)?;
    // The cursor's length where it knows it (PostgreSQL); else the page is
    // taken to be full, up to 65,536 lines (MySQL streams its rows).
    let expected = usize::try_from(limit).unwrap_or(0).min(1 << 16);
    let mut lines = Vec::with_capacity(rows.size_hint().0.max(expected));
    for row in rows {
        lines.push(row?.0);
    }
    Ok(lines)
}

/// Like [`lines_after`], handing each line to `each` as it is decoded.
pub(crate) fn for_each_line_after<C>(
    conn: &mut C,
    after_id: i64,
    limit: i64,
    each: &mut dyn FnMut(OrderLine),
) -> QueryResult<()>
where
    C: LoadConnection<DefaultLoadingMode>,
    for<'q> page: LoadQuery<'q, C, LineRow>,
{
    let rows = page(after_id, limit).load_iter::<LineRow, DefaultLoadingMode>(conn)?;
    for row in rows {
        each(row?.0);
    }
    Ok(())
}
