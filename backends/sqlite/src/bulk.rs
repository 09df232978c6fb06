//! SQLite's bulk path: one prepared single-row INSERT, stepped once per line.
//!
//! A multi-row INSERT is prepared anew for every chunk (diesel cannot cache a
//! statement whose row count varies); a single-row INSERT is prepared once
//! per connection and kept, which is how SQLite loads fastest inside one
//! transaction.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sqlite::SqliteConnection;
use triglot_core::model::NewOrderLine;
use triglot_core::schema::order_lines;

/// Inserts `rows` one statement step each; the caller holds the transaction.
pub(crate) fn insert_lines(
    conn: &mut SqliteConnection,
    rows: Vec<NewOrderLine>,
) -> QueryResult<usize> {
    let mut inserted = 0;
    for row in &rows {
        inserted += diesel::insert_into(order_lines::table).values(row).execute(conn)?;
    }
    Ok(inserted)
}
