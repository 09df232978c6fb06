//! Reading MySQL's live schema from `information_schema`.

use std::collections::BTreeMap;

use crate::connection::MysqlConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable, Text};
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
    #[diesel(sql_type = BigInt)]
    nullable: i64,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Text)]
    extra: String,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
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
         CAST(is_nullable = 'YES' AS SIGNED) AS nullable, \
         CAST(column_default AS CHAR) AS default_value, CAST(extra AS CHAR) AS extra, \
         CAST(collation_name AS CHAR) AS collation \
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

    let plain: Vec<IndexColumn> = diesel::sql_query(
        "SELECT CAST(index_name AS CHAR) AS name, CAST(column_name AS CHAR) AS column_name \
         FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 1 \
         ORDER BY index_name, seq_in_index",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let checks = check_clauses(conn, table)?;

    let (primary_key, unique) =
        unique_keys_from_rows(keys.into_iter().map(|k| (k.name, k.is_primary != 0, k.column_name)));
    // InnoDB gives a foreign key without an index of its own one named after
    // the constraint: it is the key's, not the schema author's.
    let fk_names: Vec<&str> = fks.iter().map(|f| f.name.as_str()).collect();
    let indexes = indexes_from_rows(
        plain
            .iter()
            .filter(|i| !fk_names.contains(&i.name.as_str()))
            .map(|i| (i.name.clone(), i.column_name.clone())),
    );
    let mut snapshot = TableSnapshot {
        columns: columns
            .into_iter()
            .map(|c| ColumnSnapshot {
                class: TypeClass::from_declared(&c.declared),
                nullable: c.nullable != 0,
                default: if c.extra.to_ascii_lowercase().contains("auto_increment") {
                    Some("auto".to_owned())
                } else {
                    c.default_value.as_deref().and_then(normalize_default)
                },
                limits: Limits::from_declared(&c.declared),
                folding_collation: c.collation.filter(|name| folds(name)),
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
        indexes,
    };
    snapshot.set_checks(checks.iter().map(String::as_str));
    Ok(snapshot)
}

/// The CHECK clauses of `table`. MariaDB lists the table beside each check
/// (column checks are named after their column, so names repeat across
/// tables); MySQL 8 names checks per schema and lists them through
/// `table_constraints`.
fn check_clauses(conn: &mut MysqlConnection, table: &str) -> QueryResult<Vec<String>> {
    let mariadb: QueryResult<Vec<Clause>> = diesel::sql_query(
        "SELECT CAST(check_clause AS CHAR) AS clause FROM information_schema.check_constraints \
         WHERE constraint_schema = DATABASE() AND table_name = ? ORDER BY constraint_name",
    )
    .bind::<Text, _>(table)
    .load(conn);
    let rows = match mariadb {
        Ok(rows) => rows,
        Err(_) => diesel::sql_query(
            "SELECT CAST(cc.check_clause AS CHAR) AS clause \
             FROM information_schema.check_constraints cc \
             JOIN information_schema.table_constraints tc \
               ON tc.constraint_schema = cc.constraint_schema AND tc.constraint_name = cc.constraint_name \
             WHERE tc.table_schema = DATABASE() AND tc.table_name = ? AND tc.constraint_type = 'CHECK' \
             ORDER BY cc.constraint_name",
        )
        .bind::<Text, _>(table)
        .load(conn)?,
    };
    Ok(rows.into_iter().map(|r| r.clause).collect())
}

/// Whether a collation can make two different texts equal: its name says
/// case- or accent-insensitive (`utf8mb4_general_ci`,
/// `utf8mb4_uca1400_ai_ci`); `…_bin` and `…_as_cs` compare exactly.
fn folds(collation: &str) -> bool {
    collation
        .split('_')
        .any(|part| part.eq_ignore_ascii_case("ci") || part.eq_ignore_ascii_case("ai"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_accent_insensitive_collations_fold() {
        for name in [
            "utf8mb4_general_ci",
            "latin1_swedish_ci",
            "utf8mb4_uca1400_ai_ci",
            "utf8mb4_0900_ai_ci",
        ] {
            assert!(folds(name), "{name}");
        }
        for name in ["utf8mb4_bin", "utf8mb4_uca1400_as_cs", "binary", "ascii_bin"] {
            assert!(!folds(name), "{name}");
        }
    }
}
