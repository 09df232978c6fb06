//! Reading SQLite's live schema through its table-valued pragmas.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use triglot_core::introspect::{
    ColumnSnapshot, Limits, SchemaSnapshot, TableSnapshot, TypeClass, foreign_keys_from_rows,
    indexes_from_rows, normalize_default,
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
    #[diesel(sql_type = Nullable<Text>)]
    dflt_value: Option<String>,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct Sql {
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    coll: String,
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
        "SELECT name, type AS declared, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let mut primary: Vec<(i32, String)> =
        columns.iter().filter(|c| c.pk > 0).map(|c| (c.pk, c.name.clone())).collect();
    primary.sort();

    let unique_indexes: Vec<Index> =
        diesel::sql_query("SELECT name, origin FROM pragma_index_list(?) WHERE \"unique\" = 1")
            .bind::<Text, _>(table)
            .load(conn)?;
    let mut unique = Vec::new();
    // A unique index compares by its own collation (the column's unless
    // the index names one).
    let mut folding = BTreeMap::new();
    for index in &unique_indexes {
        let keys = index_columns(conn, &index.name)?;
        for key in &keys {
            if !key.coll.eq_ignore_ascii_case("BINARY") {
                folding.insert(key.name.clone(), key.coll.clone());
            }
        }
        if index.origin != "pk" {
            unique.push(keys.into_iter().map(|k| k.name).collect());
        }
    }
    unique.sort();
    let plain: Vec<Index> = diesel::sql_query(
        "SELECT name, origin FROM pragma_index_list(?) WHERE \"unique\" = 0 ORDER BY name",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let mut index_rows = Vec::new();
    for index in &plain {
        for column in index_columns(conn, &index.name)? {
            index_rows.push((index.name.clone(), column.name));
        }
    }
    let create: Vec<Sql> =
        diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind::<Text, _>(table)
            .load(conn)?;
    let create = create.into_iter().find_map(|s| s.sql).unwrap_or_default();

    let fk_rows: Vec<ForeignKeyColumn> = diesel::sql_query(
        "SELECT id, \"table\" AS target, \"from\" AS from_column, \"to\" AS to_column \
         FROM pragma_foreign_key_list(?) ORDER BY id, seq",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let foreign_keys = foreign_keys_from_rows(
        fk_rows.into_iter().map(|r| (r.id.to_string(), r.from_column, r.target, r.to_column)),
    );

    // An INTEGER PRIMARY KEY alone is the rowid: never NULL, generated.
    let rowid = primary.len() == 1
        && columns.iter().any(|c| c.pk == 1 && c.declared.eq_ignore_ascii_case("integer"));
    let mut snapshot = TableSnapshot {
        columns: columns
            .into_iter()
            .map(|c| ColumnSnapshot {
                class: TypeClass::from_declared(&c.declared),
                nullable: c.notnull == 0 && c.pk == 0,
                default: if rowid && c.pk == 1 {
                    Some("auto".to_owned())
                } else {
                    c.dflt_value.as_deref().and_then(normalize_default)
                },
                limits: limits(&c.declared),
                folding_collation: folding.remove(&c.name),
                name: c.name,
                declared_type: c.declared,
            })
            .collect(),
        primary_key: primary.into_iter().map(|(_, name)| name).collect(),
        unique,
        foreign_keys,
        checks: Vec::new(),
        indexes: indexes_from_rows(index_rows),
    };
    let checks = check_clauses(&create);
    snapshot.set_checks(checks.iter().map(String::as_str));
    Ok(snapshot)
}

/// The limits of a declared type; SQLite's `INTEGER` and `INT` hold 64 bits.
fn limits(declared: &str) -> Limits {
    let mut limits = Limits::from_declared(declared);
    let base = declared.trim().to_ascii_lowercase();
    if base == "integer" || base == "int" {
        limits.integer_bytes = Some(8);
    }
    limits
}

/// The key columns of `index`, in order, each with the collation the
/// index compares it by.
fn index_columns(conn: &mut SqliteConnection, index: &str) -> QueryResult<Vec<KeyColumn>> {
    diesel::sql_query("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno")
        .bind::<Text, _>(index)
        .load(conn)
}

/// The `CHECK (…)` clauses of a `CREATE TABLE` statement, each with its
/// parentheses; SQLite keeps the statement's text and no catalog of checks.
fn check_clauses(create: &str) -> Vec<String> {
    let bytes = create.as_bytes();
    let mut out = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\'' {
            quoted = !quoted;
        } else if !quoted
            && create[i..].len() >= 5
            && create[i..i + 5].eq_ignore_ascii_case("check")
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
        {
            let mut j = i + 5;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if bytes.get(j) == Some(&b'(') {
                let (mut depth, mut q, start) = (0i32, false, j);
                while j < bytes.len() {
                    match bytes[j] {
                        b'\'' => q = !q,
                        b'(' if !q => depth += 1,
                        b')' if !q => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                out.push(create[start..=j.min(bytes.len() - 1)].to_owned());
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_clauses_are_found_with_their_parentheses() {
        let sql = "CREATE TABLE t (a INT CHECK (a > 0), b TEXT CHECK(length(b) <= 5), \
                   c TEXT DEFAULT 'check (x)', CONSTRAINT k CHECK ((a + 1) < 10))";
        assert_eq!(check_clauses(sql), ["(a > 0)", "(length(b) <= 5)", "((a + 1) < 10)"]);
    }
}
