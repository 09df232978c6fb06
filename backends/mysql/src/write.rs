//! Upserts and new ids on MySQL: multi-row `INSERT … ON DUPLICATE KEY
//! UPDATE col = VALUES(col)` sized by the bind limit, and
//! `LAST_INSERT_ID()` where the server has no `RETURNING`.

use diesel::dsl;
use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;
use triglot_core::Capabilities;
use triglot_core::write::{Arity, UpsertRows, UpsertStatement, upsert_batched};

use crate::MysqlDialect;

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

/// The id the connection's last INSERT generated (per connection, so a
/// concurrent insert elsewhere cannot interfere).
pub(crate) fn last_insert_id(conn: &mut MysqlConnection) -> QueryResult<i64> {
    diesel::select(diesel::dsl::sql::<BigInt>("CAST(LAST_INSERT_ID() AS SIGNED)")).get_result(conn)
}
