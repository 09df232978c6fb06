//! Schema parity: the live schema of a database compared with the model layer.
//!
//! The model's expected schema is derived from diesel's `table!` definitions
//! (column names, SQL types, nullability, primary keys) plus the unique and
//! foreign keys declared beside them in [`crate::schema`]. Every difference
//! becomes one [`Drift`] line such as
//! `orders.placed_at: model NOT NULL, postgres nullable`.

use std::collections::BTreeSet;
use std::fmt;

use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{Column, Expression, Table};

use crate::introspect::{ColumnSnapshot, ForeignKey, SchemaSnapshot, TableSnapshot, TypeClass};
use crate::schema::{
    FOREIGN_KEYS, UNIQUE_KEYS, customers, ingest_runs, order_lines, orders, rejects,
};
use crate::sql::UtcDateTime;

/// One difference between the model and a live schema.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Drift {
    /// `table` or `table.column`.
    pub place: String,
    /// What the model has there.
    pub model: String,
    /// The backend's short name (`sqlite`, `mysql`, `postgres`).
    pub backend: String,
    /// What the live database has there.
    pub live: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: model {}, {} {}", self.place, self.model, self.backend, self.live)
    }
}

/// The schema the model layer expects, in the terms of [`SchemaSnapshot`].
///
/// Declared types read `model`; classes and nullability come from the SQL
/// types in `table!`.
pub fn model_schema() -> SchemaSnapshot {
    let mut schema = SchemaSnapshot::default();
    add::<customers::table>(&mut schema, "customers");
    add::<orders::table>(&mut schema, "orders");
    add::<order_lines::table>(&mut schema, "order_lines");
    add::<ingest_runs::table>(&mut schema, "ingest_runs");
    add::<rejects::table>(&mut schema, "rejects");
    for (table, columns) in UNIQUE_KEYS {
        if let Some(t) = schema.tables.get_mut(*table) {
            t.unique.push(columns.iter().map(|c| c.to_string()).collect());
            t.unique.sort();
        }
    }
    for (table, column, target, target_column) in FOREIGN_KEYS {
        if let Some(t) = schema.tables.get_mut(*table) {
            t.foreign_keys.push(ForeignKey {
                columns: vec![column.to_string()],
                references: target.to_string(),
                referenced_columns: vec![target_column.to_string()],
            });
            t.foreign_keys.sort();
        }
    }
    schema
}

fn add<T>(schema: &mut SchemaSnapshot, name: &str)
where
    T: Table,
    T::AllColumns: ColumnList,
    T::PrimaryKey: Column,
{
    schema.tables.insert(
        name.to_owned(),
        TableSnapshot {
            columns: T::AllColumns::describe(),
            primary_key: vec![<T::PrimaryKey as Column>::NAME.to_owned()],
            unique: Vec::new(),
            foreign_keys: Vec::new(),
        },
    );
}

/// Compares a live schema with the model's; `backend` names the live side in
/// the lines (`postgres`). An empty result means they match.
pub fn compare(model: &SchemaSnapshot, live: &SchemaSnapshot, backend: &str) -> Vec<Drift> {
    let drift = |place: String, model: String, live: String| Drift {
        place,
        model,
        backend: backend.to_owned(),
        live,
    };
    let mut out = Vec::new();
    for (name, expected) in &model.tables {
        let Some(actual) = live.tables.get(name) else {
            out.push(drift(name.clone(), "table".into(), "missing".into()));
            continue;
        };
        for column in &expected.columns {
            let place = format!("{name}.{}", column.name);
            match actual.column(&column.name) {
                None => out.push(drift(place, describe_column(column), "missing".into())),
                Some(found) => {
                    if found.class != column.class {
                        out.push(drift(
                            place.clone(),
                            class_name(&column.class),
                            format!("{} ({})", class_name(&found.class), found.declared_type),
                        ));
                    }
                    if found.nullable != column.nullable {
                        out.push(drift(
                            place,
                            null_word(column.nullable),
                            null_word(found.nullable),
                        ));
                    }
                }
            }
        }
        for column in &actual.columns {
            if expected.column(&column.name).is_none() {
                out.push(drift(
                    format!("{name}.{}", column.name),
                    "missing".into(),
                    format!("column {} {}", class_name(&column.class), null_word(column.nullable)),
                ));
            }
        }
        if expected.primary_key != actual.primary_key {
            out.push(drift(
                name.clone(),
                format!("primary key ({})", expected.primary_key.join(", ")),
                format!("primary key ({})", actual.primary_key.join(", ")),
            ));
        }
        let (want, have): (BTreeSet<_>, BTreeSet<_>) =
            (expected.unique.iter().collect(), actual.unique.iter().collect());
        for key in want.difference(&have) {
            out.push(drift(name.clone(), format!("unique ({})", key.join(", ")), "missing".into()));
        }
        for key in have.difference(&want) {
            out.push(drift(name.clone(), "missing".into(), format!("unique ({})", key.join(", "))));
        }
        let (want, have): (BTreeSet<_>, BTreeSet<_>) =
            (expected.foreign_keys.iter().collect(), actual.foreign_keys.iter().collect());
        for key in want.difference(&have) {
            out.push(drift(name.clone(), describe_fk(key), "missing".into()));
        }
        for key in have.difference(&want) {
            out.push(drift(name.clone(), "missing".into(), describe_fk(key)));
        }
    }
    for name in live.tables.keys().filter(|t| !model.tables.contains_key(*t)) {
        out.push(drift(name.clone(), "missing".into(), "table".into()));
    }
    out
}

fn class_name(class: &TypeClass) -> String {
    match class {
        TypeClass::Integer => "integer".into(),
        TypeClass::Text => "text".into(),
        TypeClass::Timestamp => "timestamp".into(),
        TypeClass::Other(name) => name.clone(),
    }
}

fn null_word(nullable: bool) -> String {
    if nullable { "nullable".into() } else { "NOT NULL".into() }
}

fn describe_column(column: &ColumnSnapshot) -> String {
    format!("column {} {}", class_name(&column.class), null_word(column.nullable))
}

fn describe_fk(key: &ForeignKey) -> String {
    format!(
        "foreign key ({}) -> {} ({})",
        key.columns.join(", "),
        key.references,
        key.referenced_columns.join(", ")
    )
}

/// The portable class and nullability of a diesel SQL type.
pub trait ColumnClass {
    /// The class.
    fn class() -> TypeClass;
    /// Whether the column accepts NULL.
    const NULLABLE: bool = false;
}

impl ColumnClass for BigInt {
    fn class() -> TypeClass {
        TypeClass::Integer
    }
}

impl ColumnClass for Integer {
    fn class() -> TypeClass {
        TypeClass::Integer
    }
}

impl ColumnClass for Text {
    fn class() -> TypeClass {
        TypeClass::Text
    }
}

impl ColumnClass for UtcDateTime {
    fn class() -> TypeClass {
        TypeClass::Timestamp
    }
}

impl<T: ColumnClass + diesel::sql_types::SqlType> ColumnClass for Nullable<T> {
    fn class() -> TypeClass {
        T::class()
    }
    const NULLABLE: bool = true;
}

/// A tuple of diesel columns (a table's `all_columns`), described at run time.
pub trait ColumnList {
    /// Each column's name, class and nullability, in order.
    fn describe() -> Vec<ColumnSnapshot>;
}

fn describe_one<C>() -> ColumnSnapshot
where
    C: Column,
    <C as Expression>::SqlType: ColumnClass,
{
    ColumnSnapshot {
        name: C::NAME.to_owned(),
        class: <<C as Expression>::SqlType as ColumnClass>::class(),
        declared_type: "model".to_owned(),
        nullable: <<C as Expression>::SqlType as ColumnClass>::NULLABLE,
    }
}

macro_rules! column_list_for_tuples {
    ($($name:ident)+) => {
        impl<$($name),+> ColumnList for ($($name,)+)
        where
            $($name: Column, <$name as Expression>::SqlType: ColumnClass,)+
        {
            fn describe() -> Vec<ColumnSnapshot> {
                vec![$(describe_one::<$name>()),+]
            }
        }
    };
}

column_list_for_tuples!(A);
column_list_for_tuples!(A B);
column_list_for_tuples!(A B C);
column_list_for_tuples!(A B C D);
column_list_for_tuples!(A B C D E);
column_list_for_tuples!(A B C D E F);
column_list_for_tuples!(A B C D E F G);
column_list_for_tuples!(A B C D E F G H);
column_list_for_tuples!(A B C D E F G H I);
column_list_for_tuples!(A B C D E F G H I J);
column_list_for_tuples!(A B C D E F G H I J K);
column_list_for_tuples!(A B C D E F G H I J K L);
column_list_for_tuples!(A B C D E F G H I J K L M);
column_list_for_tuples!(A B C D E F G H I J K L M N);
column_list_for_tuples!(A B C D E F G H I J K L M N O);
column_list_for_tuples!(A B C D E F G H I J K L M N O P);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_schema_is_derived_from_the_table_definitions() {
        let schema = model_schema();
        let orders = &schema.tables["orders"];
        let placed_at = orders.column("placed_at").expect("column");
        assert_eq!((placed_at.class.clone(), placed_at.nullable), (TypeClass::Timestamp, false));
        let email = schema.tables["customers"].column("email").expect("column");
        assert_eq!((email.class.clone(), email.nullable), (TypeClass::Text, true));
        assert_eq!(orders.primary_key, ["id"]);
        assert_eq!(orders.unique, [vec!["external_id".to_string()]]);
        assert_eq!(schema.tables["order_lines"].foreign_keys[0].references, "orders");
        assert_eq!(schema.tables.len(), 5);
    }

    #[test]
    fn drift_lines_name_the_place_and_both_sides() {
        let model = model_schema();
        let mut live = model.clone();
        let orders = live.tables.get_mut("orders").expect("table");
        orders.columns.iter_mut().find(|c| c.name == "placed_at").expect("column").nullable = true;
        orders.unique.clear();
        live.tables.remove("rejects");
        let lines: Vec<String> =
            compare(&model, &live, "postgres").iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "orders.placed_at: model NOT NULL, postgres nullable",
                "orders: model unique (external_id), postgres missing",
                "rejects: model table, postgres missing",
            ]
        );
        assert!(compare(&model, &model, "sqlite").is_empty());
    }
}
