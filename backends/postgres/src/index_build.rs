//! The indexes a load into an empty table builds afterwards.
//!
//! An index whose keys arrive in random order (a timestamp, a foreign key)
//! takes each insert at a random leaf and writes WAL for it: a
//! million-line ingest with the orders' two such indexes took 19.4 and
//! 17.7 s, and 16.9 and 15.4 s with them dropped first, 0.3 s of which
//! building them afterwards (2026-12-04, the README's ingest figures).
//! Unique indexes stay: they are what an upsert finds its rows by, and
//! what a constraint holds. DDL is transactional here, so dropping an
//! index and recording it for the next run commit together.

use crate::connection::PgConnection;
use crate::copy_values::quoted;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::Text;
use triglot_core::IndexDefinition;

#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    schema: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// The valid indexes of `table` (on the search path) that are neither
/// unique nor a constraint's (an exclusion constraint's index is not
/// unique, and enforces it); none unless the session may drop and create
/// them (it owns the table).
pub(crate) fn indexes_built_after_load(
    conn: &mut PgConnection,
    table: &str,
) -> QueryResult<Vec<IndexDefinition>> {
    let found: Vec<Index> = diesel::sql_query(
        "SELECT n.nspname::text AS schema, i.relname::text AS name, \
                pg_get_indexdef(x.indexrelid) AS definition \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = i.relnamespace \
         WHERE x.indrelid = to_regclass(quote_ident($1)) \
           AND NOT x.indisunique AND NOT x.indisprimary AND x.indisvalid \
           AND pg_has_role(t.relowner, 'USAGE') \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) \
         ORDER BY i.relname",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(found
        .into_iter()
        .map(|i| IndexDefinition {
            drop: format!("DROP INDEX {}.{}", quoted(&i.schema), quoted(&i.name)),
            // pg_get_indexdef writes `CREATE INDEX name ON …` (or `CREATE
            // UNIQUE INDEX`, which the query leaves out).
            create: i.definition.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1),
            name: i.name,
        })
        .collect())
}
