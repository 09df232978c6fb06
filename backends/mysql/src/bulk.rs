//! MySQL's bulk path for any table: multi-row INSERTs of fixed sizes (1,000,
//! then 100, 10 and 1 rows), so each size is prepared once per connection;
//! a `Vec` of 1,000 rows would be prepared again for every chunk.

use std::collections::VecDeque;

use crate::connection::MysqlConnection;
use diesel::dsl;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::QueryResult;
use diesel::{Insertable, Table};
use triglot_core::Capabilities;
use triglot_core::write::{Arity, BulkInsert, insert_fixed};

use crate::dialect::MysqlDialect;

impl<T, R> BulkInsert<T, R> for MysqlDialect
where
    T: Table + Copy,
    T::AllColumns: Arity,
    Box<[R; 1_000]>: Insertable<T>,
    Box<[R; 100]>: Insertable<T>,
    Box<[R; 10]>: Insertable<T>,
    Box<[R; 1]>: Insertable<T>,
    dsl::Values<dsl::insert_into<T>, Box<[R; 1_000]>>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<T>, Box<[R; 100]>>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<T>, Box<[R; 10]>>: ExecuteDsl<MysqlConnection>,
    dsl::Values<dsl::insert_into<T>, Box<[R; 1]>>: ExecuteDsl<MysqlConnection>,
{
    fn bulk_insert(
        conn: &mut MysqlConnection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize> {
        let mut rest = VecDeque::from(rows);
        Ok(insert_fixed::<1_000, _, _, _>(conn, caps, table, &mut rest)?
            + insert_fixed::<100, _, _, _>(conn, caps, table, &mut rest)?
            + insert_fixed::<10, _, _, _>(conn, caps, table, &mut rest)?
            + insert_fixed::<1, _, _, _>(conn, caps, table, &mut rest)?)
    }
}
