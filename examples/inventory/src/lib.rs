//! An inventory kept with triglot: warehouses, items, the stock level of each
//! item in each warehouse, and every stock movement. Its schema is its own
//! (`migrations/{sqlite,mysql,postgres}`); triglot knows none of it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use triglot::sql::{NullableUtcValue, UtcValue};

/// The inventory's migrations, one folder per backend.
pub static MIGRATIONS: triglot::Migrations = triglot::migrations!();

/// The diesel tables, as `diesel print-schema` would write them.
pub mod schema {
    diesel::table! {
        warehouses (id) {
            id -> BigInt,
            code -> Text,
            city -> Text,
        }
    }

    diesel::table! {
        items (id) {
            id -> BigInt,
            sku -> Text,
            name -> Text,
            unit_grams -> Integer,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use triglot::sql::UtcDateTime;

        stock_levels (id) {
            id -> BigInt,
            warehouse_id -> BigInt,
            item_id -> BigInt,
            quantity -> BigInt,
            updated_at -> UtcDateTime,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use triglot::sql::UtcDateTime;

        stock_movements (id) {
            id -> BigInt,
            warehouse_id -> BigInt,
            item_id -> BigInt,
            delta -> BigInt,
            moved_at -> UtcDateTime,
            confirmed_at -> Nullable<UtcDateTime>,
        }
    }

    diesel::joinable!(stock_levels -> items (item_id));
    diesel::joinable!(stock_levels -> warehouses (warehouse_id));
    diesel::joinable!(stock_movements -> items (item_id));
    diesel::joinable!(stock_movements -> warehouses (warehouse_id));
    diesel::allow_tables_to_appear_in_same_query!(warehouses, items, stock_levels, stock_movements);
}

use schema::{items, stock_levels, stock_movements};

/// An item to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = items, treat_none_as_default_value = false)]
pub struct NewItem {
    /// Stock keeping unit, unique.
    pub sku: String,
    /// What it is.
    pub name: String,
    /// Weight of one unit in grams; more than zero.
    pub unit_grams: i32,
}

/// The quantity of an item in a warehouse, upserted by (warehouse, item).
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = stock_levels, treat_none_as_default_value = false)]
pub struct StockLevel {
    /// Where.
    pub warehouse_id: i64,
    /// What.
    pub item_id: i64,
    /// How many, never below zero.
    pub quantity: i64,
    /// When it was last counted (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub updated_at: NaiveDateTime,
}

/// One movement of stock in or out of a warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = stock_movements, treat_none_as_default_value = false)]
pub struct Movement {
    /// Where.
    pub warehouse_id: i64,
    /// What.
    pub item_id: i64,
    /// Units in (positive) or out (negative).
    pub delta: i64,
    /// When it happened (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub moved_at: NaiveDateTime,
    /// When it was confirmed, if it was.
    #[diesel(serialize_as = NullableUtcValue)]
    pub confirmed_at: Option<NaiveDateTime>,
}
