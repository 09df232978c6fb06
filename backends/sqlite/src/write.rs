//! Upserts on SQLite: one prepared single-row `INSERT … ON CONFLICT … DO
//! UPDATE` per row. A statement on an embedded database is a function call,
//! not a round trip, and diesel runs a multi-row SQLite INSERT through a
//! path of its own that cannot carry the conflict clause.

use diesel::dsl;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::QueryResult;
use diesel::sqlite::SqliteConnection;
use diesel::{Insertable, Table};
use triglot_core::Capabilities;
use triglot_core::write::{UpsertRows, UpsertStatement, upsert_each};

use crate::dialect::SqliteDialect;

impl<T, R, K, U> UpsertRows<T, R, K, U> for SqliteDialect
where
    T: Table + Copy,
    R: Insertable<T>,
    UpsertStatement<dsl::Values<dsl::insert_into<T>, R>, K, U>: ExecuteDsl<SqliteConnection>,
{
    fn upsert_rows(
        conn: &mut SqliteConnection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize> {
        upsert_each::<_, _, _, K, U>(conn, caps, table, rows)
    }
}
