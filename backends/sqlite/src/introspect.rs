//! Reading SQLite's live schema through its table-valued pragmas.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel::sqlite::SqliteConnection;
use triglot_core::introspect::{
    ColumnSnapshot, SchemaSnapshot, TableSnapshot, TypeClass, foreign_keys_from_rows,
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
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct ForeignKeyColumn {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    target: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Text)]
    to_column: String,
}

pub(crate) fn snapshot(conn: &mut SqliteConnection) -> QueryResult<SchemaSnapshot> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)?;
    let mut tables = BTreeMap::new();
    for Name { name } in names {
        let table = table(conn, &name)?;
        tables.insert(name, table);
    }
    Ok(SchemaSnapshot { tables })
}

fn table(conn: &mut SqliteConnection, table: &str) -> QueryResult<TableSnapshot> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT name, type AS declared, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let mut primary: Vec<(i32, String)> =
        columns.iter().filter(|c| c.pk > 0).map(|c| (c.pk, c.name.clone())).collect();
    primary.sort();

    let indexes: Vec<Index> =
        diesel::sql_query("SELECT name, origin FROM pragma_index_list(?) WHERE \"unique\" = 1")
            .bind::<Text, _>(table)
            .load(conn)?;
    let mut unique = Vec::new();
    for index in indexes.iter().filter(|i| i.origin != "pk") {
        let cols: Vec<Name> =
            diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind::<Text, _>(&index.name)
                .load(conn)?;
        unique.push(cols.into_iter().map(|c| c.name).collect::<Vec<_>>());
    }
    unique.sort();

    let fk_rows: Vec<ForeignKeyColumn> = diesel::sql_query(
        "SELECT id, \"table\" AS target, \"from\" AS from_column, \"to\" AS to_column \
         FROM pragma_foreign_key_list(?) ORDER BY id, seq",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let foreign_keys = foreign_keys_from_rows(
        fk_rows.into_iter().map(|r| (r.id.to_string(), r.from_column, r.target, r.to_column)),
    );

    Ok(TableSnapshot {
        columns: columns
            .into_iter()
            .map(|c| ColumnSnapshot {
                class: TypeClass::from_declared(&c.declared),
                // An INTEGER PRIMARY KEY is the rowid, which is never NULL.
                nullable: c.notnull == 0 && c.pk == 0,
                name: c.name,
                declared_type: c.declared,
            })
            .collect(),
        primary_key: primary.into_iter().map(|(_, name)| name).collect(),
        unique,
        foreign_keys,
    })
}
