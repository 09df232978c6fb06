//! The writes whose SQL is MySQL's own: `ON DUPLICATE KEY UPDATE` and `LAST_INSERT_ID()`.

use diesel::dsl::DuplicatedKeys;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;
use triglot_core::model::{NewCustomer, NewIngestRun, NewOrder};
use triglot_core::schema::{customers, ingest_runs, orders};

/// `VALUES(col)`: inside `ON DUPLICATE KEY UPDATE`, the value the INSERT
/// tried to write (what `excluded.col` is on SQLite and PostgreSQL).
#[derive(Debug, Clone, Copy, QueryId)]
struct Inserted<C>(C);

impl<C: Expression> Expression for Inserted<C> {
    type SqlType = C::SqlType;
}

impl<C: Column> QueryFragment<Mysql> for Inserted<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        out.push_sql("VALUES(");
        out.push_identifier(C::NAME)?;
        out.push_sql(")");
        Ok(())
    }
}

impl<C: Column> AppearsOnTable<C::Table> for Inserted<C> where Inserted<C>: Expression {}

impl<C> ValidGrouping<()> for Inserted<C> {
    type IsAggregate = is_aggregate::Never;
}

pub(crate) fn upsert_customers(
    conn: &mut MysqlConnection,
    rows: Vec<NewCustomer>,
) -> QueryResult<usize> {
    diesel::insert_into(customers::table)
        .values(rows)
        .on_conflict(DuplicatedKeys)
        .do_update()
        .set((
            customers::name.eq(Inserted(customers::name)),
            customers::email.eq(Inserted(customers::email)),
            customers::country.eq(Inserted(customers::country)),
        ))
        .execute(conn)
}

pub(crate) fn upsert_orders(conn: &mut MysqlConnection, rows: Vec<NewOrder>) -> QueryResult<usize> {
    diesel::insert_into(orders::table)
        .values(rows)
        .on_conflict(DuplicatedKeys)
        .do_update()
        .set((
            orders::customer_id.eq(Inserted(orders::customer_id)),
            orders::status.eq(Inserted(orders::status)),
            orders::currency.eq(Inserted(orders::currency)),
            orders::total_cents.eq(Inserted(orders::total_cents)),
            orders::placed_at.eq(Inserted(orders::placed_at)),
            orders::updated_at.eq(Inserted(orders::updated_at)),
            orders::source.eq(Inserted(orders::source)),
            orders::content_hash.eq(Inserted(orders::content_hash)),
        ))
        .execute(conn)
}

pub(crate) fn insert_run(conn: &mut MysqlConnection, run: NewIngestRun) -> QueryResult<i64> {
    diesel::insert_into(ingest_runs::table).values(run).execute(conn)?;
    // Per connection, so a concurrent insert elsewhere cannot interfere.
    diesel::select(diesel::dsl::sql::<BigInt>("CAST(LAST_INSERT_ID() AS SIGNED)")).get_result(conn)
}
