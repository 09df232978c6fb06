//! Order lines: what was bought, numbered from 1 within its order.

use diesel::connection::LoadConnection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};

use super::order::Order;
use crate::schema::{order_lines, orders};

/// A stored order line.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = order_lines, belongs_to(Order))]
pub struct OrderLine {
    /// Surrogate key.
    pub id: i64,
    /// The order it belongs to.
    pub order_id: i64,
    /// Position within the order, from 1; unique per order.
    pub line_no: i32,
    /// Stock keeping unit.
    pub sku: String,
    /// How many; greater than zero.
    pub quantity: i32,
    /// Price of one unit in integer cents; zero or more.
    pub unit_price_cents: i64,
    /// Discount in basis points (1/100 of a percent), 0 to 10,000, if any.
    pub discount_bp: Option<i32>,
    /// Free text, if any.
    pub note: Option<String>,
}

impl OrderLine {
    /// This line's amount in cents; see [`line_amount_cents`].
    pub fn amount_cents(&self) -> i64 {
        line_amount_cents(self.quantity, self.unit_price_cents, self.discount_bp)
    }
}

/// A line's amount in cents: `quantity × unit price × (1 − discount)`, rounded
/// half up to a whole cent.
///
/// An order's `total_cents` is the sum of its lines' amounts; the quality
/// report checks exactly this rule.
///
/// # Example
///
/// ```
/// // 3 × 3.33 with 10 % off = 8.991 → 8.99
/// assert_eq!(triglot_pipeline::model::line_amount_cents(3, 333, Some(1_000)), 899);
/// assert_eq!(triglot_pipeline::model::line_amount_cents(1, 5, Some(5_000)), 3); // 2.5 → 3
/// ```
pub fn line_amount_cents(quantity: i32, unit_price_cents: i64, discount_bp: Option<i32>) -> i64 {
    i64::try_from(line_amount(quantity, unit_price_cents, discount_bp)).unwrap_or(i64::MAX)
}

/// A line's amount in cents, exactly: no i32 and i64 operands overflow it.
fn line_amount(quantity: i32, unit_price_cents: i64, discount_bp: Option<i32>) -> i128 {
    let gross = i128::from(quantity) * i128::from(unit_price_cents);
    let kept = 10_000 - i128::from(discount_bp.unwrap_or(0));
    (gross * kept + 5_000).div_euclid(10_000)
}

/// A line to insert; `order_id` is filled in by the writer.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = order_lines, treat_none_as_default_value = false)]
pub struct NewOrderLine {
    /// The order it belongs to.
    pub order_id: i64,
    /// Position within the order, from 1.
    pub line_no: i32,
    /// Stock keeping unit.
    pub sku: String,
    /// How many; greater than zero.
    pub quantity: i32,
    /// Price of one unit in integer cents.
    pub unit_price_cents: i64,
    /// Discount in basis points, if any.
    pub discount_bp: Option<i32>,
    /// Free text, if any.
    pub note: Option<String>,
}

impl From<OrderLine> for NewOrderLine {
    /// The stored line as a row to insert again (its id is dropped).
    fn from(line: OrderLine) -> Self {
        Self {
            order_id: line.order_id,
            line_no: line.line_no,
            sku: line.sku,
            quantity: line.quantity,
            unit_price_cents: line.unit_price_cents,
            discount_bp: line.discount_bp,
            note: line.note,
        }
    }
}

#[dsl::auto_type]
fn lines_of(order_ids: Vec<i64>) -> _ {
    order_lines::table
        .filter(order_lines::order_id.eq_any(order_ids))
        .order_by((order_lines::order_id, order_lines::line_no))
}

#[dsl::auto_type]
fn lines_from_source(source: String) -> _ {
    order_lines::table.inner_join(orders::table).filter(orders::source.eq(source)).count()
}

#[dsl::auto_type]
fn page_after(after_id: i64, limit: i64) -> _ {
    order_lines::table.filter(order_lines::id.gt(after_id)).order_by(order_lines::id).limit(limit)
}

type DeleteLinesOf =
    dsl::delete<dsl::Filter<order_lines::table, dsl::EqAny<order_lines::order_id, Vec<i64>>>>;

/// The order-line queries that are the same on every backend.
pub trait OrderLineQueries: Sized {
    /// Inserts lines with multi-row INSERT statements; the caller keeps each
    /// call under the backend's bind-parameter limit.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn insert_order_lines(&mut self, rows: Vec<NewOrderLine>) -> QueryResult<usize>;

    /// Deletes every line of the given orders.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn delete_lines_of(&mut self, order_ids: &[i64]) -> QueryResult<usize>;

    /// The lines of the given orders, by order then line number.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn lines_of_orders(&mut self, order_ids: &[i64]) -> QueryResult<Vec<OrderLine>>;

    /// Number of order lines.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_order_lines(&mut self) -> QueryResult<i64>;

    /// A page of at most `limit` lines whose id is greater than `after_id`,
    /// by id: keyset pagination, which reads a table of any size in pages
    /// of bounded memory on every backend (MySQL's client buffers each
    /// result whole, so one unbounded query cannot stream there).
    ///
    /// # Errors
    ///
    /// Any statement error.
    ///
    /// # Example
    ///
    /// ```
    /// # use triglot_pipeline::model::{OrderLine, OrderLineQueries};
    /// # fn all_lines<C: OrderLineQueries>(conn: &mut C) -> diesel::QueryResult<Vec<OrderLine>> {
    /// let mut all = Vec::new();
    /// let mut after = 0;
    /// loop {
    ///     let page = conn.lines_after(after, 10_000)?;
    ///     let Some(last) = page.last() else { break };
    ///     after = last.id;
    ///     all.extend(page);
    /// }
    /// # Ok(all) }
    /// ```
    fn lines_after(&mut self, after_id: i64, limit: i64) -> QueryResult<Vec<OrderLine>>;

    /// Like [`OrderLineQueries::lines_after`], handing each line to `each`
    /// as it is decoded instead of collecting them.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn for_each_line_after(
        &mut self,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()>;

    /// Number of lines of the orders from `source`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_lines_from_source(&mut self, source: &str) -> QueryResult<i64>;
}

impl<C> OrderLineQueries for C
where
    C: LoadConnection,
    dsl::Values<dsl::insert_into<order_lines::table>, Vec<NewOrderLine>>: ExecuteDsl<C>,
    DeleteLinesOf: ExecuteDsl<C>,
    for<'q> dsl::Select<lines_of, dsl::AsSelect<OrderLine, C::Backend>>:
        LoadQuery<'q, C, OrderLine>,
    for<'q> dsl::Count<order_lines::table>: LoadQuery<'q, C, i64>,
    for<'q> lines_from_source: LoadQuery<'q, C, i64>,
    for<'q> dsl::Select<page_after, dsl::AsSelect<OrderLine, C::Backend>>:
        LoadQuery<'q, C, OrderLine>,
{
    fn insert_order_lines(&mut self, rows: Vec<NewOrderLine>) -> QueryResult<usize> {
        diesel::insert_into(order_lines::table).values(rows).execute(self)
    }

    fn delete_lines_of(&mut self, order_ids: &[i64]) -> QueryResult<usize> {
        diesel::delete(order_lines::table.filter(order_lines::order_id.eq_any(order_ids.to_vec())))
            .execute(self)
    }

    fn lines_of_orders(&mut self, order_ids: &[i64]) -> QueryResult<Vec<OrderLine>> {
        lines_of(order_ids.to_vec()).select(OrderLine::as_select()).load(self)
    }

    fn count_order_lines(&mut self) -> QueryResult<i64> {
        order_lines::table.count().get_result(self)
    }

    fn lines_after(&mut self, after_id: i64, limit: i64) -> QueryResult<Vec<OrderLine>> {
        page_after(after_id, limit).select(OrderLine::as_select()).load(self)
    }

    fn for_each_line_after(
        &mut self,
        after_id: i64,
        limit: i64,
        each: &mut dyn FnMut(OrderLine),
    ) -> QueryResult<()> {
        let rows = page_after(after_id, limit)
            .select(OrderLine::as_select())
            .load_iter::<OrderLine, diesel::connection::DefaultLoadingMode>(self)?;
        for row in rows {
            each(row?);
        }
        Ok(())
    }

    fn count_lines_from_source(&mut self, source: &str) -> QueryResult<i64> {
        lines_from_source(source.to_owned()).get_result(self)
    }
}
