//! New ids on MySQL: `LAST_INSERT_ID()` on the connection that inserted,
//! since diesel's MySQL connection reads no `RETURNING` result.

use crate::connection::MysqlConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;

/// The id the connection's last INSERT generated (per connection, so a
/// concurrent insert elsewhere cannot interfere).
pub(crate) fn last_insert_id(conn: &mut MysqlConnection) -> QueryResult<i64> {
    diesel::select(diesel::dsl::sql::<BigInt>("CAST(LAST_INSERT_ID() AS SIGNED)")).get_result(conn)
}
