//! MySQL's bulk path: multi-row INSERTs of fixed sizes, so each size is
//! prepared once per connection and reused.
//!
//! Rows go in arrays of 1,000, then 100, 10 and 1 ([`insert_lines_fixed`]);
//! a `Vec` of 1,000 rows would be prepared again for every chunk.

use diesel::mysql::MysqlConnection;
use diesel::result::QueryResult;
use triglot_core::model::{NewOrderLine, insert_lines_fixed};

/// Inserts `rows` in fixed-size multi-row statements; the caller holds the transaction.
pub(crate) fn insert_lines(
    conn: &mut MysqlConnection,
    rows: &[NewOrderLine],
) -> QueryResult<usize> {
    let mut rest = rows;
    Ok(insert_lines_fixed::<1_000, _>(conn, &mut rest)?
        + insert_lines_fixed::<100, _>(conn, &mut rest)?
        + insert_lines_fixed::<10, _>(conn, &mut rest)?
        + insert_lines_fixed::<1, _>(conn, &mut rest)?)
}
