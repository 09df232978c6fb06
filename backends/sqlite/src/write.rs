//! The writes whose SQL is SQLite's own: upserts and insert-returning-id.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sqlite::SqliteConnection;
use diesel::upsert::excluded;
use triglot_core::model::{NewCustomer, NewIngestRun, NewOrder};
use triglot_core::schema::{customers, ingest_runs, orders};

pub(crate) fn upsert_customers(
    conn: &mut SqliteConnection,
    rows: &[NewCustomer],
) -> QueryResult<usize> {
    diesel::insert_into(customers::table)
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

pub(crate) fn upsert_orders(conn: &mut SqliteConnection, rows: &[NewOrder]) -> QueryResult<usize> {
    diesel::insert_into(orders::table)
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

pub(crate) fn insert_run(conn: &mut SqliteConnection, run: &NewIngestRun) -> QueryResult<i64> {
    diesel::insert_into(ingest_runs::table).values(run).returning(ingest_runs::id).get_result(conn)
}
