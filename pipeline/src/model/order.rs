//! Orders: the unit a writer stores atomically with its lines.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::connection::LoadConnection;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::dsl;
use diesel::expression::AsExpression;
use diesel::prelude::*;
use diesel::query_dsl::methods::LoadQuery;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

use crate::schema::orders;
use triglot::sql::{SumBigInt, Unprepared, UtcValue, sum_bigint};

/// The fixed set of order states; stored as lower-case text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum OrderStatus {
    /// Placed, not yet paid.
    Pending,
    /// Paid, not yet shipped.
    Paid,
    /// Handed to the carrier.
    Shipped,
    /// Received by the customer.
    Delivered,
    /// Cancelled before shipping.
    Cancelled,
    /// Money returned.
    Refunded,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Pending,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrderStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown order status {s:?}"))
    }
}

impl<DB> ToSql<Text, DB> for OrderStatus
where
    DB: Backend,
    str: ToSql<Text, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.as_str().to_sql(out)
    }
}

impl<DB> FromSql<Text, DB> for OrderStatus
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(String::from_sql(bytes)?.parse()?)
    }
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = orders)]
pub struct Order {
    /// Surrogate key.
    pub id: i64,
    /// The source system's id, unique.
    pub external_id: String,
    /// The customer who placed it.
    pub customer_id: i64,
    /// Where it is in its lifecycle.
    pub status: OrderStatus,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Total in integer cents of `currency`.
    pub total_cents: i64,
    /// When it was placed (UTC).
    pub placed_at: NaiveDateTime,
    /// When the source last changed it (UTC).
    pub updated_at: NaiveDateTime,
    /// Where it came from (a file name, `demo:seed=42`, …).
    pub source: String,
    /// Fingerprint of the order with its lines; a writer compares it to skip
    /// unchanged orders.
    pub content_hash: i64,
}

/// An order to insert or update by `external_id`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = orders, treat_none_as_default_value = false)]
pub struct NewOrder {
    /// The source system's id, unique.
    pub external_id: String,
    /// The customer who placed it.
    pub customer_id: i64,
    /// Where it is in its lifecycle.
    pub status: OrderStatus,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Total in integer cents of `currency`.
    pub total_cents: i64,
    /// When it was placed (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub placed_at: NaiveDateTime,
    /// When the source last changed it (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub updated_at: NaiveDateTime,
    /// Where it came from.
    pub source: String,
    /// Fingerprint of the order with its lines.
    pub content_hash: i64,
}

/// Orders and revenue of one status and currency.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct StatusTotal {
    /// The status.
    pub status: OrderStatus,
    /// The currency.
    pub currency: String,
    /// How many orders.
    pub orders: i64,
    /// Sum of their totals, in cents.
    pub total_cents: i64,
}

#[dsl::auto_type]
fn fingerprints(keys: Vec<String>) -> _ {
    // `Unprepared`: planned with the keys at hand each time (see `sql::Unprepared`).
    orders::table.filter(orders::external_id.eq_any(keys).and(Unprepared)).select((
        orders::external_id,
        orders::id,
        orders::content_hash,
    ))
}

#[dsl::auto_type]
fn by_external_id(key: String) -> _ {
    orders::table.filter(orders::external_id.eq(key))
}

#[dsl::auto_type]
fn placed_between(from: UtcValue, until: UtcValue) -> _ {
    orders::table
        .filter(orders::placed_at.ge(from).and(orders::placed_at.lt(until)))
        .order_by((orders::placed_at, orders::id))
}

type TotalsBySource = dsl::Order<
    dsl::Select<
        dsl::GroupBy<
            dsl::Filter<orders::table, dsl::Eq<orders::source, String>>,
            (orders::status, orders::currency),
        >,
        (orders::status, orders::currency, dsl::CountStar, SumBigInt<orders::total_cents>),
    >,
    (orders::status, orders::currency),
>;

/// The order queries that are the same on every backend.
pub trait OrderQueries: Sized {
    /// `(external_id, id, content_hash)` of the orders whose external id is in `keys`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn order_fingerprints(&mut self, keys: &[String]) -> QueryResult<Vec<(String, i64, i64)>>;

    /// The order with this external id, if any.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn find_order(&mut self, external_id: &str) -> QueryResult<Option<Order>>;

    /// Orders placed in `[from, until)`, oldest first.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn orders_placed_between(
        &mut self,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<Order>>;

    /// Number of orders.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_orders(&mut self) -> QueryResult<i64>;

    /// Orders and revenue by status and currency of the orders from `source`.
    ///
    /// `bigint_cast` is the dialect's [`Dialect::BIGINT_CAST`](crate::Dialect::BIGINT_CAST).
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn status_totals(
        &mut self,
        source: &str,
        bigint_cast: &'static str,
    ) -> QueryResult<Vec<StatusTotal>>;
}

impl<C> OrderQueries for C
where
    C: LoadConnection,
    for<'q> fingerprints: LoadQuery<'q, C, (String, i64, i64)>,
    for<'q> dsl::Limit<dsl::Select<by_external_id, dsl::AsSelect<Order, C::Backend>>>:
        LoadQuery<'q, C, Order>,
    for<'q> dsl::Select<placed_between, dsl::AsSelect<Order, C::Backend>>: LoadQuery<'q, C, Order>,
    for<'q> dsl::Count<orders::table>: LoadQuery<'q, C, i64>,
    for<'q> TotalsBySource: LoadQuery<'q, C, StatusTotal>,
{
    fn order_fingerprints(&mut self, keys: &[String]) -> QueryResult<Vec<(String, i64, i64)>> {
        fingerprints(keys.to_vec()).load(self)
    }

    fn find_order(&mut self, external_id: &str) -> QueryResult<Option<Order>> {
        by_external_id(external_id.to_owned()).select(Order::as_select()).first(self).optional()
    }

    fn orders_placed_between(
        &mut self,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<Order>> {
        placed_between(UtcValue(from), UtcValue(until)).select(Order::as_select()).load(self)
    }

    fn count_orders(&mut self) -> QueryResult<i64> {
        orders::table.count().get_result(self)
    }

    fn status_totals(
        &mut self,
        source: &str,
        bigint_cast: &'static str,
    ) -> QueryResult<Vec<StatusTotal>> {
        orders::table
            .filter(orders::source.eq(source.to_owned()))
            .group_by((orders::status, orders::currency))
            .select((
                orders::status,
                orders::currency,
                dsl::count_star(),
                sum_bigint(orders::total_cents, bigint_cast),
            ))
            .order_by((orders::status, orders::currency))
            .load(self)
    }
}
