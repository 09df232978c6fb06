//! The decode hot path: order lines read straight from the row, field by field.
//!
//! diesel decodes a `Selectable` struct through nested partial rows, one per
//! field, each re-checking the column count with two libmysqlclient calls.
//! Here the eight fields are read by position from the row itself.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use triglot_core::model::OrderLine;
use triglot_core::schema::order_lines;

/// The SQL types of the selected columns, in order.
type LineSql = (BigInt, BigInt, Integer, Text, Integer, BigInt, Nullable<Integer>, Nullable<Text>);

/// An [`OrderLine`] as this module decodes it.
struct LineRow(OrderLine);

fn field<'a, T, ST>(row: &impl Row<'a, Mysql>, idx: usize) -> deserialize::Result<T>
where
    T: FromSql<ST, Mysql>,
{
    let field = row.get(idx).ok_or("fewer columns than an order line has")?;
    T::from_nullable_sql(field.value())
}

impl FromSqlRow<LineSql, Mysql> for LineRow {
    fn build_from_row<'a>(row: &impl Row<'a, Mysql>) -> deserialize::Result<Self> {
        Ok(Self(OrderLine {
            id: field::<_, BigInt>(row, 0)?,
            order_id: field::<_, BigInt>(row, 1)?,
            line_no: field::<_, Integer>(row, 2)?,
            sku: field::<_, Text>(row, 3)?,
            quantity: field::<_, Integer>(row, 4)?,
            unit_price_cents: field::<_, BigInt>(row, 5)?,
            discount_bp: field::<_, Nullable<Integer>>(row, 6)?,
            note: field::<_, Nullable<Text>>(row, 7)?,
        }))
    }
}

/// A keyset page of order lines (see `OrderLineQueries::lines_after`).
pub(crate) fn lines_after(
    conn: &mut MysqlConnection,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<OrderLine>> {
    use order_lines::{
        discount_bp, id, line_no, note, order_id, quantity, sku, table, unit_price_cents,
    };

    let rows: Vec<LineRow> = table
        .filter(id.gt(after_id))
        .order_by(id)
        .limit(limit)
        .select((id, order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note))
        .load(conn)?;
    Ok(rows.into_iter().map(|LineRow(line)| line).collect())
}
