//! diesel table definitions of triglot's order model, written once for every backend.
//!
//! Timestamps are [`UtcDateTime`](triglot::sql::UtcDateTime), not diesel's
//! `Timestamp`: see its documentation for the MySQL range trap it avoids.
#![allow(missing_docs)]

diesel::table! {
    use diesel::sql_types::*;
    use triglot::sql::UtcDateTime;

    /// People and companies that place orders, keyed by the id their source system gives them.
    customers (id) {
        id -> BigInt,
        external_id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        country -> Nullable<Text>,
        created_at -> UtcDateTime,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use triglot::sql::UtcDateTime;

    /// Orders, keyed by their source system's id; money in integer cents.
    orders (id) {
        id -> BigInt,
        external_id -> Text,
        customer_id -> BigInt,
        status -> Text,
        currency -> Text,
        total_cents -> BigInt,
        placed_at -> UtcDateTime,
        updated_at -> UtcDateTime,
        source -> Text,
        content_hash -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use triglot::sql::UtcDateTime;

    /// The lines of an order, numbered from 1 within it.
    order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        line_no -> Integer,
        sku -> Text,
        quantity -> Integer,
        unit_price_cents -> BigInt,
        discount_bp -> Nullable<Integer>,
        note -> Nullable<Text>,
    }
}

diesel::joinable!(orders -> customers (customer_id));
diesel::joinable!(order_lines -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(customers, orders, order_lines);

/// Unique keys of the model other than primary keys, as `(table, columns)`.
///
/// diesel's `table!` has no place for them; they are declared here, beside
/// the tables, and every backend's migrations must create them (the parity
/// check compares).
pub const UNIQUE_KEYS: &[(&str, &[&str])] = &[
    ("customers", &["external_id"]),
    ("orders", &["external_id"]),
    ("order_lines", &["order_id", "line_no"]),
];

/// Foreign keys of the model as `(table, column, referenced table, referenced
/// column)`; the same relations as the `joinable!` lines above.
pub const FOREIGN_KEYS: &[(&str, &str, &str, &str)] =
    &[("orders", "customer_id", "customers", "id"), ("order_lines", "order_id", "orders", "id")];

/// The order schema as these `table!`s declare it: the `model` side of
/// `triglot check`.
pub fn model_schema() -> triglot::introspect::SchemaSnapshot {
    triglot::schema_of!(customers, orders, order_lines)
}
