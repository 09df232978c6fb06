//! MySQL's bulk path: multi-row INSERTs of fixed sizes, so each size is
//! prepared once per connection and reused.
//!
//! diesel caches a batch INSERT only when its row count is part of its type
//! (an array, not a `Vec`); a `Vec` of 1,000 rows would be prepared again
//! for every chunk. Rows go in arrays of 1,000, then 100, 10 and 1.

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use triglot_core::model::NewOrderLine;
use triglot_core::schema::order_lines;

/// Inserts `rows` in fixed-size multi-row statements; the caller holds the transaction.
pub(crate) fn insert_lines(
    conn: &mut MysqlConnection,
    rows: Vec<NewOrderLine>,
) -> QueryResult<usize> {
    let mut rest: &[NewOrderLine] = &rows;
    let mut inserted = 0;
    inserted += chunks::<1_000>(conn, &mut rest)?;
    inserted += chunks::<100>(conn, &mut rest)?;
    inserted += chunks::<10>(conn, &mut rest)?;
    inserted += chunks::<1>(conn, &mut rest)?;
    Ok(inserted)
}

/// Inserts as many whole arrays of `N` rows as `rest` holds, and advances it.
fn chunks<const N: usize>(
    conn: &mut MysqlConnection,
    rest: &mut &[NewOrderLine],
) -> QueryResult<usize> {
    let mut inserted = 0;
    while let Some((chunk, tail)) = rest.split_first_chunk::<N>() {
        inserted += diesel::insert_into(order_lines::table).values(chunk).execute(conn)?;
        *rest = tail;
    }
    Ok(inserted)
}
