//! SQLite's bulk path: multi-row INSERTs of fixed sizes, each prepared once.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sqlite::SqliteConnection;
use triglot_core::model::NewOrderLine;
use triglot_core::schema::order_lines;

/// Inserts `rows` in fixed-size multi-row statements; the caller holds the transaction.
pub(crate) fn insert_lines(
    conn: &mut SqliteConnection,
    rows: Vec<NewOrderLine>,
) -> QueryResult<usize> {
    let mut rest: &[NewOrderLine] = &rows;
    let mut inserted = 0;
    inserted += chunks::<100>(conn, &mut rest)?;
    inserted += chunks::<10>(conn, &mut rest)?;
    inserted += chunks::<1>(conn, &mut rest)?;
    Ok(inserted)
}

fn chunks<const N: usize>(
    conn: &mut SqliteConnection,
    rest: &mut &[NewOrderLine],
) -> QueryResult<usize> {
    let mut inserted = 0;
    while let Some((chunk, tail)) = rest.split_first_chunk::<N>() {
        inserted += diesel::insert_into(order_lines::table).values(chunk).execute(conn)?;
        *rest = tail;
    }
    Ok(inserted)
}
