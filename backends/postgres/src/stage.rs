//! PostgreSQL's upsert of many rows known only at run time: `COPY` into a
//! staging table of the session's own, then one `INSERT … SELECT … ON
//! CONFLICT`.
//!
//! A multi-row upsert carries one parameter per value (7,500 for 750 rows
//! of 10 columns), and since PostgreSQL types every parameter, a NULL is a
//! literal and the statement is parsed and planned afresh for each batch:
//! parsing and binding the order upserts took as long as executing them
//! (0.55 s against 0.58 s per 100,000 lines, by the server's own
//! `log_min_duration_statement`). `COPY` sends the same rows as text that
//! the server parses column by column, and the `INSERT … SELECT` is the
//! same short statement for every batch.
//!
//! The staging table is a temporary table (private to the session, gone
//! with it) with the target's columns and types and none of its
//! constraints, so that every refusal names the target's own constraint,
//! plus the row's position in the batch, so rows reach the target in the
//! caller's order (concurrent writers lock keys in one order). It is
//! emptied by the statement that moves its rows and at every commit.
//! Batches of few rows, and sessions that may not create temporary tables,
//! keep the multi-row upsert.

use crate::connection::PgConnection;
use diesel::connection::{
    AnsiTransactionManager, Connection, SimpleConnection, TransactionManager,
};
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, Text};
use triglot_core::values::{KeyId, Upsert};
use triglot_core::{Capabilities, Dialect, UpsertForm};

use crate::copy_values::{copy_rows, quoted};

/// The fewest rows worth the staging table's extra round trips.
const STAGED_ROWS: usize = 64;

/// The staging table's column holding each row's position in its batch.
const ORDINAL: &str = "triglot_ordinal";

#[derive(QueryableByName)]
struct Stage {
    #[diesel(sql_type = Bool)]
    present: bool,
    #[diesel(sql_type = Bool)]
    allowed: bool,
}

/// Runs `upsert`; returns the rows inserted or updated.
///
/// # Errors
///
/// Any statement error; a row of the wrong length is a query-builder error.
pub(crate) fn upsert_values(
    conn: &mut PgConnection,
    caps: &Capabilities,
    upsert: &Upsert<'_>,
) -> QueryResult<usize> {
    let Some(stage) = stage_for(conn, caps, upsert)? else {
        return upsert.execute(conn, caps);
    };
    let sql = move_rows(&stage.0, upsert, None);
    staged(conn, &stage, upsert, |conn| diesel::sql_query(sql).execute(conn))
}

/// Like [`upsert_values`], returning each written row's key (as text) and
/// `id`.
///
/// # Errors
///
/// Any statement error; a row of the wrong length is a query-builder error.
/// `D` is PostgreSQL's dialect, which spells the casts of a multi-row
/// upsert's `RETURNING`.
pub(crate) fn upsert_values_returning<D: Dialect<Connection = PgConnection>>(
    conn: &mut PgConnection,
    caps: &Capabilities,
    upsert: &Upsert<'_>,
    id: &str,
) -> QueryResult<Vec<KeyId>> {
    let Some(stage) = stage_for(conn, caps, upsert)? else {
        return upsert.returning::<D>(conn, caps, id);
    };
    let sql = move_rows(&stage.0, upsert, Some(id));
    staged(conn, &stage, upsert, |conn| diesel::sql_query(sql).load(conn))
}

/// The staging table for `upsert`, with whether it exists already; `None`
/// where the multi-row upsert is used: few rows, or a session that may not
/// create temporary tables.
fn stage_for(
    conn: &mut PgConnection,
    caps: &Capabilities,
    upsert: &Upsert<'_>,
) -> QueryResult<Option<(String, bool)>> {
    if upsert.rows.len() < STAGED_ROWS
        || caps.upsert != UpsertForm::OnConflict
        || upsert.key.is_empty()
    {
        return Ok(None);
    }
    let stage = stage_name(upsert.table, upsert.columns);
    let found: Stage = diesel::sql_query(
        "SELECT to_regclass($1) IS NOT NULL AS present, \
         has_database_privilege(current_database(), 'TEMPORARY') AS allowed",
    )
    .bind::<Text, _>(format!("pg_temp.{}", quoted(&stage)))
    .get_result(conn)?;
    Ok((found.present || found.allowed).then_some((stage, found.present)))
}

/// Creates the staging table if it is missing, copies the rows of
/// `upsert` into it and calls `run`, all in one transaction: outside one each statement would
/// commit alone, and the commit after the COPY would empty the table.
fn staged<T>(
    conn: &mut PgConnection,
    (stage, present): &(String, bool),
    upsert: &Upsert<'_>,
    run: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    let body = |conn: &mut PgConnection| -> QueryResult<T> {
        if !present {
            conn.batch_execute(&create_stage(stage, upsert.table, upsert.columns))?;
        }
        copy_rows(conn, stage, upsert.columns, upsert.rows, Some(ORDINAL))?;
        run(conn)
    };
    let depth = AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth()?;
    if depth.is_some() { body(conn) } else { conn.transaction(body) }
}

/// The staging table of `table` for these columns: a new set of columns
/// (a migration that added one) gets a table of its own.
fn stage_name(table: &str, columns: &[String]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (table, columns).hash(&mut hasher);
    format!("triglot_stage_{:016x}", hasher.finish())
}

fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", ")
}

/// `CREATE TEMPORARY TABLE` of the columns of `table`, with their types
/// and without constraints or defaults, emptied at every commit.
fn create_stage(stage: &str, table: &str, columns: &[String]) -> String {
    format!(
        "CREATE TEMPORARY TABLE {} ON COMMIT DELETE ROWS AS SELECT {}, 0::int8 AS {} FROM {} WITH NO DATA",
        quoted(stage),
        column_list(columns),
        quoted(ORDINAL),
        quoted(table),
    )
}

/// The statement that moves the staged rows into the table of `upsert`,
/// in their order; with `returning_id`, returning each row's key as text
/// and that id column, as [`KeyId`] reads them.
fn move_rows(stage: &str, upsert: &Upsert<'_>, returning_id: Option<&str>) -> String {
    let list = column_list(upsert.columns);
    let action = if upsert.update.is_empty() {
        "DO NOTHING".to_owned()
    } else {
        let set: Vec<String> =
            upsert.update.iter().map(|c| format!("{0} = excluded.{0}", quoted(c))).collect();
        format!("DO UPDATE SET {}", set.join(", "))
    };
    let mut sql = format!(
        "WITH staged AS (DELETE FROM pg_temp.{stage} RETURNING *) \
         INSERT INTO {table} ({list}) SELECT {list} FROM staged ORDER BY {ordinal} \
         ON CONFLICT ({key}) {action}",
        stage = quoted(stage),
        table = quoted(upsert.table),
        ordinal = quoted(ORDINAL),
        key = column_list(upsert.key),
    );
    if let Some(id) = returning_id {
        sql.push_str(&format!(
            " RETURNING CAST({} AS TEXT) AS k, CAST({} AS BIGINT) AS n",
            quoted(&upsert.key[0]),
            quoted(id)
        ));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_rows_move_in_their_order_as_an_upsert() {
        let cols = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let (columns, key, update) = (cols(&["id", "total"]), cols(&["id"]), cols(&["total"]));
        let upsert =
            Upsert { table: "items", columns: &columns, rows: &[], key: &key, update: &update };
        assert_eq!(
            move_rows("s", &upsert, None),
            "WITH staged AS (DELETE FROM pg_temp.\"s\" RETURNING *) INSERT INTO \"items\" \
             (\"id\", \"total\") SELECT \"id\", \"total\" FROM staged ORDER BY \"triglot_ordinal\" \
             ON CONFLICT (\"id\") DO UPDATE SET \"total\" = excluded.\"total\""
        );
        let nothing = move_rows("s", &Upsert { update: &[], ..upsert }, Some("total"));
        assert!(
            nothing.ends_with(
                "ON CONFLICT (\"id\") DO NOTHING \
                 RETURNING CAST(\"id\" AS TEXT) AS k, CAST(\"total\" AS BIGINT) AS n"
            ),
            "{nothing}"
        );
        assert_ne!(stage_name("t", &cols(&["a"])), stage_name("t", &cols(&["a", "b"])));
        assert!(stage_name("t", &cols(&["a"])).len() <= 63, "PostgreSQL's identifier limit");
    }
}
