//! PostgreSQL's bulk path: order lines through binary `COPY … FROM STDIN`.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use triglot_core::model::NewOrderLine;
use triglot_core::schema::order_lines;

/// Loads `rows` with one `COPY order_lines (…) FROM STDIN (FORMAT binary)`.
///
/// One round trip and no statement to parse, whatever the number of rows;
/// constraints are checked as for INSERT, and a failure rolls back the
/// surrounding transaction like any statement.
pub(crate) fn insert_lines(conn: &mut PgConnection, rows: Vec<NewOrderLine>) -> QueryResult<usize> {
    diesel::copy_from(order_lines::table).from_insertable(rows).execute(conn)
}
