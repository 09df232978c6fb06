//! What the order model needs from a backend beyond triglot's
//! [`Dialect`]: its writes and reads on the order tables, each through the
//! toolkit's generic writes or a measured fast path.
//!
//! [`OrderBackend`] is implemented for exactly the backends triglot is built
//! with ([`triglot::for_each_backend!`]), the way any crate above triglot
//! adds per-backend code of its own.

#[macro_use]
mod copy_lines;
#[macro_use]
pub(crate) mod decode;

use diesel::result::QueryResult;
use triglot::write::UpsertRows;
use triglot::{Capabilities, Dialect};

use crate::model::{ModelConnection, NewCustomer, NewOrder, NewOrderLine, OrderLine};
use crate::schema::{customers, orders};

/// A backend the order model runs on: its connection has every query of
/// the model, and it writes and decodes the order tables its fastest way.
pub trait OrderBackend: Dialect<Connection: ModelConnection> {
    /// Inserts customers, or updates name, email and country of those whose
    /// `external_id` exists (the toolkit's generic upsert).
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_customers(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        rows: Vec<NewCustomer>,
    ) -> QueryResult<usize>;

    /// Inserts orders, or updates every column of those whose `external_id`
    /// exists (the toolkit's generic upsert).
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_orders(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        rows: Vec<NewOrder>,
    ) -> QueryResult<usize>;

    /// Loads order lines through the fastest path measured on the backend:
    /// the toolkit's generic bulk load on SQLite and MySQL, this crate's own
    /// binary COPY encoder on PostgreSQL. The caller holds the transaction.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn insert_lines(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        rows: Vec<NewOrderLine>,
    ) -> QueryResult<usize>;

    /// A keyset page of order lines (see
    /// [`OrderLineQueries::lines_after`](crate::model::OrderLineQueries::lines_after)),
    /// decoded by position: the decode hot path.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn lines_after(
        conn: &mut Self::Connection,
        after_id: i64,
        limit: i64,
    ) -> QueryResult<Vec<OrderLine>>;

    /// Like [`OrderBackend::lines_after`], handing each line to `each` as it
    /// is decoded.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn for_each_line_after(
        conn: &mut Self::Connection,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()>;
}

/// Implements [`OrderBackend`] for one backend: `(key, dialect type)`.
macro_rules! order_backend {
    (sqlite, $d:ty) => {
        line_row_for!(diesel::sqlite::Sqlite);
        order_backend!(@impl $d, generic_lines);
    };
    (mysql, $d:ty) => {
        line_row_for!(diesel::mysql::Mysql);
        order_backend!(@impl $d, generic_lines);
    };
    (postgres, $d:ty) => {
        line_row_for!(diesel::pg::Pg);
        order_backend!(@impl $d, copy_lines);
    };
    (@lines generic_lines, $d:ty, $conn:ident, $caps:ident, $rows:ident) => {
        <$d as triglot::write::BulkInsert<crate::schema::order_lines::table, NewOrderLine>>::bulk_insert(
            $conn,
            $caps,
            crate::schema::order_lines::table,
            $rows,
        )
    };
    (@lines copy_lines, $d:ty, $conn:ident, $caps:ident, $rows:ident) => {{
        copy_lines!();
        let _ = $caps;
        copy_lines($conn, &$rows)
    }};
    (@impl $d:ty, $lines:ident) => {
        impl OrderBackend for $d {
            fn upsert_customers(
                conn: &mut Self::Connection,
                caps: &Capabilities,
                rows: Vec<NewCustomer>,
            ) -> QueryResult<usize> {
                <$d as UpsertRows<
                    customers::table,
                    NewCustomer,
                    (customers::external_id,),
                    (customers::name, customers::email, customers::country),
                >>::upsert_rows(conn, caps, customers::table, rows)
            }

            fn upsert_orders(
                conn: &mut Self::Connection,
                caps: &Capabilities,
                rows: Vec<NewOrder>,
            ) -> QueryResult<usize> {
                <$d as UpsertRows<
                    orders::table,
                    NewOrder,
                    (orders::external_id,),
                    (
                        orders::customer_id,
                        orders::status,
                        orders::currency,
                        orders::total_cents,
                        orders::placed_at,
                        orders::updated_at,
                        orders::source,
                        orders::content_hash,
                    ),
                >>::upsert_rows(conn, caps, orders::table, rows)
            }

            fn insert_lines(
                conn: &mut Self::Connection,
                caps: &Capabilities,
                rows: Vec<NewOrderLine>,
            ) -> QueryResult<usize> {
                order_backend!(@lines $lines, $d, conn, caps, rows)
            }

            fn lines_after(
                conn: &mut Self::Connection,
                after_id: i64,
                limit: i64,
            ) -> QueryResult<Vec<OrderLine>> {
                decode::lines_after(conn, after_id, limit)
            }

            fn for_each_line_after(
                conn: &mut Self::Connection,
                after_id: i64,
                limit: i64,
                each: &mut dyn FnMut(OrderLine),
            ) -> QueryResult<()> {
                decode::for_each_line_after(conn, after_id, limit, each)
            }
        }
    };
}

triglot::for_each_backend!(order_backend);
