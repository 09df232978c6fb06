//! Upserts on PostgreSQL: multi-row `INSERT … ON CONFLICT (key) DO UPDATE SET
//! col = excluded.col`, sized by the bind limit.

use crate::connection::PgConnection;
use diesel::dsl;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::QueryResult;
use diesel::{Insertable, Table};
use triglot_core::Capabilities;
use triglot_core::write::{Arity, UpsertRows, UpsertStatement, upsert_batched};

use crate::dialect::PostgresDialect;

impl<T, R, K, U> UpsertRows<T, R, K, U> for PostgresDialect
where
    T: Table + Copy,
    T::AllColumns: Arity,
    Vec<R>: Insertable<T>,
    UpsertStatement<dsl::Values<dsl::insert_into<T>, Vec<R>>, K, U>: ExecuteDsl<PgConnection>,
{
    fn upsert_rows(
        conn: &mut PgConnection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize> {
        upsert_batched::<_, _, _, K, U>(conn, caps, table, rows)
    }
}
