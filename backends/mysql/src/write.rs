//! Upserts on MySQL: multi-row `INSERT … ON DUPLICATE KEY UPDATE col =
//! VALUES(col)`, sized by the bind limit.

use crate::connection::MysqlConnection;
use diesel::dsl;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::QueryResult;
use diesel::{Insertable, Table};
use triglot_core::Capabilities;
use triglot_core::write::{Arity, UpsertRows, UpsertStatement, upsert_batched};

use crate::dialect::MysqlDialect;

impl<T, R, K, U> UpsertRows<T, R, K, U> for MysqlDialect
where
    T: Table + Copy,
    T::AllColumns: Arity,
    Vec<R>: Insertable<T>,
    UpsertStatement<dsl::Values<dsl::insert_into<T>, Vec<R>>, K, U>: ExecuteDsl<MysqlConnection>,
{
    fn upsert_rows(
        conn: &mut MysqlConnection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize> {
        upsert_batched::<_, _, _, K, U>(conn, caps, table, rows)
    }
}
