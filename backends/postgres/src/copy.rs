//! PostgreSQL's bulk path for any table: binary `COPY … FROM STDIN`.
//!
//! The rows are any `Insertable` of the table. diesel builds the INSERT it
//! would send (so every value is serialized by the same `ToSql` impls, in
//! PostgreSQL's binary format), and this module moves those serialized
//! values into the rows of a binary COPY, in 64 KiB messages: one statement
//! and no bind-parameter limit whatever the number of rows. diesel's own
//! `copy_from(…).from_insertable(…)` cannot be called on a table named only
//! by a type parameter (its bound names a private trait), and it sends one
//! message per row; this path runs on triglot's own connection
//! ([`PgConnection::copy_in`]).
//!
//! A row that leaves a column to its default (`treat_none_as_default_value`
//! and a `None`) has no value to copy; such a chunk is inserted with a
//! multi-row INSERT instead.

use diesel::dsl;
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::prelude::*;
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{QueryBuilder, QueryFragment};
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::result::{Error, QueryResult};
use triglot_core::Capabilities;
use triglot_core::write::{Arity, BulkInsert, owned_chunks, rows_per_statement};

use crate::connection::PgConnection;
use crate::copy_values::MESSAGE;
use crate::dialect::PostgresDialect;

/// `PGCOPY\n\377\r\n\0`, then flags and header-extension length, both 0.
const HEADER: [u8; 19] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

impl<T, R> BulkInsert<T, R> for PostgresDialect
where
    T: Table + Copy,
    T::AllColumns: Arity,
    Vec<R>: Insertable<T>,
    dsl::Values<dsl::insert_into<T>, Vec<R>>: QueryFragment<Pg> + ExecuteDsl<PgConnection>,
{
    fn bulk_insert(
        conn: &mut PgConnection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize> {
        let mut data = Vec::with_capacity(MESSAGE);
        data.extend_from_slice(&HEADER);
        let mut target: Option<String> = None;
        let mut copied = 0;
        let mut inserted = 0;
        for chunk in owned_chunks(rows, rows_per_statement::<T>(caps)) {
            let count = chunk.len();
            let insert = diesel::insert_into(table).values(chunk);
            match encode(conn, &insert, count, &mut data)? {
                Some(columns) if target.as_ref().is_none_or(|t| *t == columns) => {
                    target = Some(columns);
                    copied += count;
                }
                _ => inserted += insert.execute(conn)?,
            }
        }
        let Some(target) = target else { return Ok(inserted) };
        data.extend_from_slice(&(-1_i16).to_be_bytes());
        let statement = format!("COPY {target} FROM STDIN (FORMAT binary)");
        let rows = conn.copy_in(&statement, &mut |out| {
            data.chunks(MESSAGE)
                .try_for_each(|part| out.write_all(part))
                .map_err(|e| Error::SerializationError(Box::new(e)))
        })?;
        debug_assert_eq!(rows, copied);
        Ok(rows + inserted)
    }
}

/// Appends the COPY rows of `insert` (`rows` rows) to `data` and returns its
/// target (`"table" ("a", "b")`), or `None`, leaving `data` as it was, when a
/// row leaves a column to its default.
fn encode<Q: QueryFragment<Pg>>(
    conn: &mut PgConnection,
    insert: &Q,
    rows: usize,
    data: &mut Vec<u8>,
) -> QueryResult<Option<String>> {
    let mut sql = PgQueryBuilder::default();
    insert.to_sql(&mut sql, &Pg)?;
    let sql = sql.finish();
    let Some(target) = copy_target(&sql) else { return Ok(None) };
    let columns = column_count(&target);
    let mut binds = RawBytesBindCollector::<Pg>::new();
    insert.collect_binds(&mut binds, conn, &Pg)?;
    if columns == 0 || binds.binds.len() != rows * columns {
        return Ok(None);
    }
    let field_count = i16::try_from(columns)
        .map_err(|_| Error::QueryBuilderError("more than 32,767 columns to COPY".into()))?;
    for row in binds.binds.chunks(columns) {
        data.extend_from_slice(&field_count.to_be_bytes());
        for value in row {
            match value {
                Some(bytes) => {
                    let len = i32::try_from(bytes.len()).map_err(|_| {
                        Error::QueryBuilderError("a value over 2 GiB to COPY".into())
                    })?;
                    data.extend_from_slice(&len.to_be_bytes());
                    data.extend_from_slice(bytes);
                }
                None => data.extend_from_slice(&(-1_i32).to_be_bytes()),
            }
        }
    }
    Ok(Some(target))
}

/// `"t" ("a", "b")` of `INSERT INTO "t" ("a", "b") VALUES ($1, $2), …`, or
/// `None` if the statement has another shape (`DEFAULT VALUES`, a `DEFAULT`).
fn copy_target(sql: &str) -> Option<String> {
    let rest = sql.strip_prefix("INSERT INTO ")?;
    let end = outside_quotes(rest, " VALUES ")?;
    let values = &rest[end..];
    if values.contains("DEFAULT") && outside_quotes(values, "DEFAULT").is_some() {
        return None;
    }
    Some(rest[..end].to_owned())
}

/// The position of `needle` in `text` outside double-quoted identifiers.
fn outside_quotes(text: &str, needle: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && text[i..].starts_with(needle) {
            return Some(i);
        }
    }
    None
}

/// The number of columns in the parenthesized list of a COPY target.
fn column_count(target: &str) -> usize {
    let Some(open) = outside_quotes(target, "(") else { return 0 };
    let mut quoted = false;
    let mut count = 1;
    for c in target[open..].chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => count += 1,
            _ => {}
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_and_its_columns_come_from_the_insert() {
        let sql = r#"INSERT INTO "items" ("sku", "na""me, x") VALUES ($1, $2), ($3, $4)"#;
        let target = copy_target(sql).expect("a target");
        assert_eq!(target, r#""items" ("sku", "na""me, x")"#);
        assert_eq!(column_count(&target), 2);
        assert_eq!(copy_target(r#"INSERT INTO "t" ("a") VALUES (DEFAULT)"#), None);
    }
}
