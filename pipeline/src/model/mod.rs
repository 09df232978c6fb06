//! The order model, written once: tables' row types and the queries that are
//! the same on every backend.
//!
//! Each file holds one table's structs and a `…Queries` trait with its
//! queries, implemented for every diesel connection whose backend can run
//! them. [`ModelConnection`] gathers them; every dialect's connection has it.

mod customer;
mod order;
mod order_line;

pub use customer::{Customer, CustomerQueries, NewCustomer};
pub use order::{NewOrder, Order, OrderQueries, OrderStatus, StatusTotal};
pub use order_line::{NewOrderLine, OrderLine, OrderLineQueries, line_amount_cents};

/// Every query of the order model; implemented for any connection that can run them.
///
/// A dialect's connection type must have it, so shared code can call the
/// model's queries on `D::Connection` for any `D: Dialect`.
pub trait ModelConnection: CustomerQueries + OrderQueries + OrderLineQueries {}

impl<C> ModelConnection for C where C: CustomerQueries + OrderQueries + OrderLineQueries {}

/// Orders placed in `[from, until)` with their lines, oldest first; lines by number.
///
/// Two queries whatever the number of orders: the orders, then the lines of
/// all of them, grouped in Rust.
///
/// # Errors
///
/// Any statement error.
///
/// # Example
///
/// ```
/// use triglot::Database;
/// use triglot_pipeline::OrderBackend;
///
/// fn day<D: OrderBackend>(db: &Database<D>, date: chrono::NaiveDate) -> triglot::Result<usize> {
///     let from = date.and_hms_opt(0, 0, 0).unwrap();
///     let orders = db.run("loading a day's orders", |conn| {
///         triglot_pipeline::model::orders_with_lines(conn, from, from + chrono::TimeDelta::days(1))
///     })?;
///     Ok(orders.len())
/// }
/// ```
pub fn orders_with_lines<C: ModelConnection>(
    conn: &mut C,
    from: chrono::NaiveDateTime,
    until: chrono::NaiveDateTime,
) -> diesel::QueryResult<Vec<(Order, Vec<OrderLine>)>> {
    use diesel::GroupedBy;

    let orders = conn.orders_placed_between(from, until)?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut lines = Vec::new();
    // Keep each IN list well under every backend's bind limit.
    for chunk in ids.chunks(10_000) {
        lines.extend(conn.lines_of_orders(chunk)?);
    }
    let grouped = lines.grouped_by(&orders);
    Ok(orders.into_iter().zip(grouped).collect())
}

/// Table names of the model, in the order they are created.
pub const TABLES: [&str; 3] = ["customers", "orders", "order_lines"];
