//! Reading PostgreSQL's live schema from the system catalogs.

use std::collections::BTreeMap;

use crate::connection::PgConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{Bool, Nullable, Text};
use triglot_core::introspect::{
    ColumnSnapshot, Limits, SchemaSnapshot, TableSnapshot, TypeClass, foreign_keys_from_rows,
    indexes_from_rows, normalize_default, unique_keys_from_rows,
};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Bool)]
    identity: bool,
    #[diesel(sql_type = Text)]
    full_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    folding: Option<String>,
}

#[derive(QueryableByName)]
struct IndexColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct Clause {
    #[diesel(sql_type = Text)]
    clause: String,
}

#[derive(QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(QueryableByName)]
struct ForeignKeyColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    target: String,
    #[diesel(sql_type = Text)]
    target_column: String,
}

pub(crate) fn snapshot(conn: &mut PgConnection) -> QueryResult<SchemaSnapshot> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(conn)?;
    let mut tables = BTreeMap::new();
    for Name { name } in names {
        let table = table(conn, &name)?;
        tables.insert(name, table);
    }
    Ok(SchemaSnapshot { tables })
}

fn table(conn: &mut PgConnection, table: &str) -> QueryResult<TableSnapshot> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT column_name::text AS name, data_type::text AS declared, is_nullable = 'YES' AS nullable, \
         column_default::text AS default_value, \
         (is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%') AS identity, \
         format_type(a.atttypid, a.atttypmod) AS full_type, co.collname::text AS folding \
         FROM information_schema.columns \
         JOIN pg_attribute a \
           ON a.attrelid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass \
          AND a.attname = column_name \
         LEFT JOIN pg_collation co ON co.oid = a.attcollation AND NOT co.collisdeterministic \
         WHERE table_schema = current_schema() AND table_name = $1 \
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    // Unique indexes, whether they back a constraint or not.
    let keys: Vec<KeyColumn> = diesel::sql_query(
        "SELECT i.relname::text AS name, ix.indisprimary AS is_primary, a.attname::text AS column_name \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE ix.indisunique AND n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY i.relname, k.ord",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let fks: Vec<ForeignKeyColumn> = diesel::sql_query(
        "SELECT c.conname::text AS name, a.attname::text AS column_name, \
         rt.relname::text AS target, ra.attname::text AS target_column \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         JOIN pg_class rt ON rt.oid = c.confrelid \
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, refnum, ord) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum \
         WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY c.conname, k.ord",
    )
    .bind::<Text, _>(table)
    .load(conn)?;

    let plain: Vec<IndexColumn> = diesel::sql_query(
        "SELECT i.relname::text AS name, a.attname::text AS column_name \
         FROM pg_index ix \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE NOT ix.indisunique AND n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY i.relname, k.ord",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let checks: Vec<Clause> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS clause FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE c.contype = 'c' AND n.nspname = current_schema() AND t.relname = $1 \
         ORDER BY c.conname",
    )
    .bind::<Text, _>(table)
    .load(conn)?;

    let (primary_key, unique) =
        unique_keys_from_rows(keys.into_iter().map(|k| (k.name, k.is_primary, k.column_name)));
    let mut snapshot = TableSnapshot {
        columns: columns
            .into_iter()
            .map(|c| ColumnSnapshot {
                class: TypeClass::from_declared(&c.declared),
                nullable: c.nullable,
                default: if c.identity {
                    Some("auto".to_owned())
                } else {
                    c.default_value.as_deref().and_then(normalize_default)
                },
                limits: Limits::from_declared(&c.full_type),
                folding_collation: c.folding,
                name: c.name,
                declared_type: c.declared,
            })
            .collect(),
        primary_key,
        unique,
        foreign_keys: foreign_keys_from_rows(
            fks.into_iter().map(|f| (f.name, f.column_name, f.target, f.target_column)),
        ),
        checks: Vec::new(),
        indexes: indexes_from_rows(plain.into_iter().map(|i| (i.name, i.column_name))),
    };
    snapshot.set_checks(checks.iter().map(|c| c.clause.as_str()));
    Ok(snapshot)
}
