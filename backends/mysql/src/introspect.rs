//! Reading MySQL's live schema from `information_schema`.

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Text};
use triglot_core::introspect::{
    ColumnSnapshot, SchemaSnapshot, TableSnapshot, TypeClass, foreign_keys_from_rows,
    unique_keys_from_rows,
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
    #[diesel(sql_type = BigInt)]
    nullable: i64,
}

#[derive(QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    is_primary: i64,
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

pub(crate) fn snapshot(conn: &mut MysqlConnection) -> QueryResult<SchemaSnapshot> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT CAST(table_name AS CHAR) AS name FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)?;
    let mut tables = BTreeMap::new();
    for Name { name } in names {
        let table = table(conn, &name)?;
        tables.insert(name, table);
    }
    Ok(SchemaSnapshot { tables })
}

fn table(conn: &mut MysqlConnection, table: &str) -> QueryResult<TableSnapshot> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT CAST(column_name AS CHAR) AS name, CAST(column_type AS CHAR) AS declared, \
         CAST(is_nullable = 'YES' AS SIGNED) AS nullable \
         FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? \
         ORDER BY ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let keys: Vec<KeyColumn> = diesel::sql_query(
        "SELECT CAST(index_name AS CHAR) AS name, CAST(index_name = 'PRIMARY' AS SIGNED) AS is_primary, \
         CAST(column_name AS CHAR) AS column_name \
         FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 0 \
         ORDER BY index_name, seq_in_index",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let fks: Vec<ForeignKeyColumn> = diesel::sql_query(
        "SELECT CAST(constraint_name AS CHAR) AS name, CAST(column_name AS CHAR) AS column_name, \
         CAST(referenced_table_name AS CHAR) AS target, CAST(referenced_column_name AS CHAR) AS target_column \
         FROM information_schema.key_column_usage \
         WHERE table_schema = DATABASE() AND table_name = ? AND referenced_table_name IS NOT NULL \
         ORDER BY constraint_name, ordinal_position",
    )
    .bind::<Text, _>(table)
    .load(conn)?;

    let (primary_key, unique) =
        unique_keys_from_rows(keys.into_iter().map(|k| (k.name, k.is_primary != 0, k.column_name)));
    Ok(TableSnapshot {
        columns: columns
            .into_iter()
            .map(|c| ColumnSnapshot {
                class: TypeClass::from_declared(&c.declared),
                nullable: c.nullable != 0,
                name: c.name,
                declared_type: c.declared,
            })
            .collect(),
        primary_key,
        unique,
        foreign_keys: foreign_keys_from_rows(
            fks.into_iter().map(|f| (f.name, f.column_name, f.target, f.target_column)),
        ),
    })
}
