//! The foreign key a load into an empty table checks once afterwards.
//!
//! PostgreSQL checks a foreign key by a trigger per inserted row, which
//! runs its own `SELECT … FOR KEY SHARE` through the executor: `perf` of the
//! server during a million-line ingest found half of its time there
//! (`AfterTriggerEndQuery`, 48 % of the samples), and the ingest took
//! 15.0–15.7 s with the order lines' key's triggers disabled against
//! 21.5–22.3 s with them (2026-12-04, the README's "Where a PostgreSQL run
//! spends the server's time"). Checking all the rows once (`VALIDATE
//! CONSTRAINT`) took 0.43 s. DDL is transactional here, so a batch can drop
//! the key and add it back in its own transaction: other sessions see it
//! throughout, and the batch's locks keep them from the two tables until it
//! commits.

use crate::connection::PgConnection;
use crate::copy_values::quoted;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{Array, Bool, Nullable, Text};
use triglot_core::DeferredKeyCheck;
use triglot_core::introspect::ForeignKey;

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    schema: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Bool)]
    valid: bool,
    /// Its comment as a literal, which dropping the key would lose.
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

/// The foreign key of `table` (on the search path) on exactly `key`'s
/// columns that references exactly its columns of its table, both in key
/// order; `None` unless both are plain tables (a partitioned table's
/// key cannot be added unchecked), the session may drop the key and add it
/// again (it owns `table`, and may reference the other), and neither
/// table has another deferrable constraint or trigger: a deferred one's
/// pending events make PostgreSQL refuse the `ALTER TABLE` that adds the
/// key back.
pub(crate) fn foreign_key_checked_after_load(
    conn: &mut PgConnection,
    table: &str,
    key: &ForeignKey,
) -> QueryResult<Option<DeferredKeyCheck>> {
    let found: Vec<Key> = diesel::sql_query(
        "SELECT n.nspname::text AS schema, t.relname::text AS table_name, \
                c.conname::text AS name, pg_get_constraintdef(c.oid) AS definition, \
                c.convalidated AS valid, \
                quote_literal(obj_description(c.oid, 'pg_constraint')) AS comment \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_class p ON p.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'f' \
           AND c.conrelid = to_regclass(quote_ident($1)) \
           AND c.confrelid = to_regclass(quote_ident($2)) \
           AND t.relkind = 'r' AND p.relkind = 'r' \
           AND pg_has_role(t.relowner, 'USAGE') \
           AND has_table_privilege(p.oid, 'REFERENCES') \
           AND ARRAY(SELECT a.attname::text \
                     FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i) \
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                     ORDER BY k.i) = $3 \
           AND ARRAY(SELECT a.attname::text \
                     FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i) \
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum \
                     ORDER BY k.i) = $4 \
           AND NOT EXISTS (SELECT 1 FROM pg_trigger g \
                           WHERE g.tgrelid IN (c.conrelid, c.confrelid) \
                             AND g.tgdeferrable AND g.tgconstraint <> c.oid) \
         ORDER BY c.conname",
    )
    .bind::<Text, _>(table)
    .bind::<Text, _>(&key.references)
    .bind::<Array<Text>, _>(&key.columns)
    .bind::<Array<Text>, _>(&key.referenced_columns)
    .load(conn)?;
    Ok(found.into_iter().next().map(|key| {
        let target = format!("ALTER TABLE {}.{}", quoted(&key.schema), quoted(&key.table_name));
        let name = quoted(&key.name);
        // `pg_get_constraintdef` ends an unchecked key's text so.
        let definition = key.definition.strip_suffix(" NOT VALID").unwrap_or(&key.definition);
        let mut resume = format!("{target} ADD CONSTRAINT {name} {definition} NOT VALID");
        if let Some(comment) = &key.comment {
            resume += &format!(
                "; COMMENT ON CONSTRAINT {name} ON {}.{} IS {comment}",
                quoted(&key.schema),
                quoted(&key.table_name)
            );
        }
        DeferredKeyCheck {
            suspend: format!("{target} DROP CONSTRAINT {name}"),
            resume,
            validate: format!("{target} VALIDATE CONSTRAINT {name}"),
            name: key.name,
            valid: key.valid,
        }
    }))
}
