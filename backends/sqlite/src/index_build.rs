//! The indexes a load into an empty table builds afterwards.
//!
//! An index whose keys arrive in random order (a timestamp, a foreign key)
//! takes each insert at a random leaf, and the B-tree work per row grows
//! with the index: a million-row load through two such indexes took 12 s,
//! and 7.5 s with them dropped and built once afterwards (0.5 s of it; the
//! README's ingest figures). Unique indexes stay: they are what an upsert
//! finds its rows by.

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use triglot_core::IndexDefinition;

#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// The indexes of `table` made by `CREATE INDEX` without `UNIQUE`.
pub(crate) fn indexes_built_after_load(
    conn: &mut SqliteConnection,
    table: &str,
) -> QueryResult<Vec<IndexDefinition>> {
    let found: Vec<Index> = diesel::sql_query(
        "SELECT m.name AS name, m.sql AS sql FROM sqlite_master m \
         JOIN pragma_index_list(?) l ON l.name = m.name \
         WHERE m.type = 'index' AND l.\"unique\" = 0 AND l.origin = 'c' AND m.sql IS NOT NULL \
         ORDER BY m.name",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(found
        .into_iter()
        .map(|i| IndexDefinition {
            drop: format!("DROP INDEX \"{}\"", i.name.replace('"', "\"\"")),
            // SQLite keeps the statement with its first two keywords in
            // capitals, one space apart, and without `IF NOT EXISTS`.
            create: i.sql.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1),
            name: i.name,
        })
        .collect())
}
