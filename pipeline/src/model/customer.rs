//! Customers: who placed an order, keyed by the source system's id.

use chrono::NaiveDateTime;
use diesel::connection::LoadConnection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::LoadQuery;

use crate::schema::customers;
use triglot::sql::{Unprepared, UtcValue};

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = customers)]
pub struct Customer {
    /// Surrogate key.
    pub id: i64,
    /// The source system's id, unique.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// ISO 3166-1 alpha-2 country code, if known.
    pub country: Option<String>,
    /// When the customer was first seen (UTC).
    pub created_at: NaiveDateTime,
}

/// A customer to insert or update by `external_id`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = customers, treat_none_as_default_value = false)]
pub struct NewCustomer {
    /// The source system's id, unique.
    pub external_id: String,
    /// Display name.
    pub name: String,
    /// Email address, if known.
    pub email: Option<String>,
    /// ISO 3166-1 alpha-2 country code, if known.
    pub country: Option<String>,
    /// When the customer was first seen (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub created_at: NaiveDateTime,
}

#[dsl::auto_type]
fn ids_by_external_id(keys: Vec<String>) -> _ {
    customers::table
        // `Unprepared`: planned with the keys at hand each time (see `sql::Unprepared`).
        .filter(customers::external_id.eq_any(keys).and(Unprepared))
        .select((customers::external_id, customers::id))
}

#[dsl::auto_type]
fn by_external_id(key: String) -> _ {
    customers::table.filter(customers::external_id.eq(key))
}

/// The customer queries that are the same on every backend.
pub trait CustomerQueries: Sized {
    /// `(external_id, id)` of the customers whose external id is in `keys`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn customer_ids(&mut self, keys: &[String]) -> QueryResult<Vec<(String, i64)>>;

    /// The customer with this external id, if any.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn find_customer(&mut self, external_id: &str) -> QueryResult<Option<Customer>>;

    /// Number of customers.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_customers(&mut self) -> QueryResult<i64>;

    /// Every customer, by external id.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn all_customers(&mut self) -> QueryResult<Vec<Customer>>;
}

impl<C> CustomerQueries for C
where
    C: LoadConnection,
    for<'q> ids_by_external_id: LoadQuery<'q, C, (String, i64)>,
    for<'q> dsl::Limit<dsl::Select<by_external_id, dsl::AsSelect<Customer, C::Backend>>>:
        LoadQuery<'q, C, Customer>,
    for<'q> dsl::Count<customers::table>: LoadQuery<'q, C, i64>,
    for<'q> dsl::Select<
        dsl::Order<customers::table, customers::external_id>,
        dsl::AsSelect<Customer, C::Backend>,
    >: LoadQuery<'q, C, Customer>,
{
    fn customer_ids(&mut self, keys: &[String]) -> QueryResult<Vec<(String, i64)>> {
        ids_by_external_id(keys.to_vec()).load(self)
    }

    fn find_customer(&mut self, external_id: &str) -> QueryResult<Option<Customer>> {
        by_external_id(external_id.to_owned()).select(Customer::as_select()).first(self).optional()
    }

    fn count_customers(&mut self) -> QueryResult<i64> {
        customers::table.count().get_result(self)
    }

    fn all_customers(&mut self) -> QueryResult<Vec<Customer>> {
        customers::table.order(customers::external_id).select(Customer::as_select()).load(self)
    }
}
