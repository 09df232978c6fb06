//! The `ON CONFLICT … DO UPDATE` writes, spelled the same on SQLite and PostgreSQL.
//!
//! diesel's upsert types are backend-specific and cannot be named in a
//! generic bound without spelling out private types, so the shared code is a
//! macro that each dialect with [`UpsertForm::OnConflict`](crate::UpsertForm::OnConflict)
//! expands for its own connection type.

/// Expands to `upsert_customers`, `upsert_orders` and `insert_run` for a
/// connection whose backend has `ON CONFLICT` and `RETURNING`.
#[doc(hidden)]
#[macro_export]
macro_rules! on_conflict_writes {
    ($conn:ty) => {
        use $crate::diesel::prelude::*;
        use $crate::diesel::upsert::excluded;
        use $crate::schema::{customers, ingest_runs, orders};

        pub(crate) fn upsert_customers(
            conn: &mut $conn,
            rows: Vec<$crate::model::NewCustomer>,
        ) -> $crate::diesel::QueryResult<usize> {
            $crate::diesel::insert_into(customers::table)
                .values(rows)
                .on_conflict(customers::external_id)
                .do_update()
                .set((
                    customers::name.eq(excluded(customers::name)),
                    customers::email.eq(excluded(customers::email)),
                    customers::country.eq(excluded(customers::country)),
                ))
                .execute(conn)
        }

        pub(crate) fn upsert_orders(
            conn: &mut $conn,
            rows: Vec<$crate::model::NewOrder>,
        ) -> $crate::diesel::QueryResult<usize> {
            $crate::diesel::insert_into(orders::table)
                .values(rows)
                .on_conflict(orders::external_id)
                .do_update()
                .set((
                    orders::customer_id.eq(excluded(orders::customer_id)),
                    orders::status.eq(excluded(orders::status)),
                    orders::currency.eq(excluded(orders::currency)),
                    orders::total_cents.eq(excluded(orders::total_cents)),
                    orders::placed_at.eq(excluded(orders::placed_at)),
                    orders::updated_at.eq(excluded(orders::updated_at)),
                    orders::source.eq(excluded(orders::source)),
                    orders::content_hash.eq(excluded(orders::content_hash)),
                ))
                .execute(conn)
        }

        pub(crate) fn insert_run(
            conn: &mut $conn,
            run: $crate::model::NewIngestRun,
        ) -> $crate::diesel::QueryResult<i64> {
            $crate::diesel::insert_into(ingest_runs::table)
                .values(run)
                .returning(ingest_runs::id)
                .get_result(conn)
        }
    };
}
