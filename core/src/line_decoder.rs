//! The decode hot path for order lines: fields read by position from the row.
//!
//! diesel decodes a `Selectable` struct through one nested partial row per
//! field, and on MySQL each of those re-reads the column count through two
//! libmysqlclient calls. The decoder here reads the eight fields of a line
//! straight from the row. A `FromSqlRow` impl for a concrete backend must
//! live beside a type of the crate that writes it, so this is a macro that
//! each dialect crate expands for its own backend.

/// Expands to `lines_after` and `for_each_line_after` for `$conn`, whose
/// backend is `$backend`, decoding each row by position.
#[doc(hidden)]
#[macro_export]
macro_rules! positional_line_decoder {
    ($backend:ty, $conn:ty) => {
        use $crate::diesel::deserialize::{self, FromSql, FromSqlRow};
        use $crate::diesel::prelude::*;
        use $crate::diesel::row::{Field, Row};
        use $crate::diesel::sql_types::{BigInt, Integer, Nullable, Text};
        use $crate::model::OrderLine;
        use $crate::schema::order_lines;

        /// The SQL types of the selected columns, in order.
        type LineSql =
            (BigInt, BigInt, Integer, Text, Integer, BigInt, Nullable<Integer>, Nullable<Text>);

        /// An [`OrderLine`] as this module decodes it.
        struct LineRow(OrderLine);

        fn field<'a, T, ST>(row: &impl Row<'a, $backend>, idx: usize) -> deserialize::Result<T>
        where
            T: FromSql<ST, $backend>,
        {
            let field = row.get(idx).ok_or("fewer columns than an order line has")?;
            T::from_nullable_sql(field.value())
        }

        impl FromSqlRow<LineSql, $backend> for LineRow {
            fn build_from_row<'a>(row: &impl Row<'a, $backend>) -> deserialize::Result<Self> {
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

        #[$crate::diesel::dsl::auto_type]
        fn page(after_id: i64, limit: i64) -> _ {
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
        pub(crate) fn lines_after(
            conn: &mut $conn,
            after_id: i64,
            limit: i64,
        ) -> $crate::diesel::QueryResult<Vec<OrderLine>> {
            let rows: Vec<LineRow> = page(after_id, limit).load(conn)?;
            Ok(rows.into_iter().map(|LineRow(line)| line).collect())
        }

        /// Like [`lines_after`], handing each line to `each` as it is decoded.
        pub(crate) fn for_each_line_after(
            conn: &mut $conn,
            after_id: i64,
            limit: i64,
            each: &mut dyn FnMut(OrderLine),
        ) -> $crate::diesel::QueryResult<()> {
            let rows = page(after_id, limit)
                .load_iter::<LineRow, $crate::diesel::connection::DefaultLoadingMode>(conn)?;
            for row in rows {
                each(row?.0);
            }
            Ok(())
        }
    };
}
