//! Schema parity: the schemas a project's migrations build on each backend,
//! compared with each other and with the project's diesel `table!`s.
//!
//! Each side is a [`SchemaSnapshot`]: a live database's (read by its
//! dialect), or the one [`table_schema`] derives from `table!` definitions
//! (`triglot::schema_of!`). Compared: tables, columns, nullability, type
//! class, defaults, primary, unique and foreign keys, CHECK conditions and
//! indexes; a `table!` side knows only tables, columns, classes,
//! nullability and primary keys, so only those are compared with it. Every
//! difference is one [`Difference`] line:
//! `loans.returned_at: sqlite TIMESTAMP NULL, mysql DATETIME(6) NOT NULL, postgres TIMESTAMP WITHOUT TIME ZONE NULL`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use diesel::sql_types::{
    BigInt, Binary, Bool, Date, Double, Float, Integer, Nullable, Numeric, SmallInt, Text,
    Timestamp,
};
use diesel::{Column, Expression, Table};

use crate::introspect::{ColumnSnapshot, ForeignKey, SchemaSnapshot, TableSnapshot, TypeClass};
use crate::sql::UtcDateTime;

/// One side of a comparison: a name (`sqlite`, `model`) and its schema.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// How the side is named in difference lines.
    pub name: &'a str,
    /// Its schema.
    pub schema: &'a SchemaSnapshot,
    /// Whether the schema knows defaults, unique and foreign keys and
    /// indexes (a live database does, `table!` does not).
    pub complete: bool,
    /// Whether its CHECK conditions are compared (a server that drops CHECK
    /// constraints has none to compare).
    pub checks: bool,
}

impl<'a> Side<'a> {
    /// A live database's schema, every aspect compared.
    pub fn live(name: &'a str, schema: &'a SchemaSnapshot) -> Self {
        Self { name, schema, complete: true, checks: true }
    }

    /// A schema derived from `table!`s: tables, columns, classes,
    /// nullability and primary keys.
    pub fn model(schema: &'a SchemaSnapshot) -> Self {
        Self { name: "model", schema, complete: false, checks: false }
    }
}

/// One place where the sides differ, with what each side has there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Difference {
    /// `table` or `table.column`.
    pub place: String,
    /// Each side's name and what it has there (`missing` when nothing).
    pub sides: Vec<SideValue>,
}

/// What one side has at a [`Difference`]'s place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct SideValue {
    /// The side's name.
    pub source: String,
    /// What it has there.
    pub value: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.place)?;
        for (i, side) in self.sides.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {}", side.source, side.value)?;
        }
        Ok(())
    }
}

/// Compares every side with every other; an empty result means they agree.
///
/// # Example
///
/// ```
/// use triglot_core::introspect::{ColumnSnapshot, SchemaSnapshot, TableSnapshot, TypeClass};
/// use triglot_core::parity::{Side, compare};
///
/// let column = |declared: &str, nullable| ColumnSnapshot {
///     name: "returned_at".into(),
///     class: TypeClass::from_declared(declared),
///     declared_type: declared.into(),
///     nullable,
///     default: None,
///     limits: Default::default(),
///     folding_collation: None,
/// };
/// let schema = |c| SchemaSnapshot {
///     tables: [("loans".to_string(), TableSnapshot { columns: vec![c], ..TableSnapshot::default() })].into(),
/// };
/// let (pg, my) = (schema(column("timestamp", true)), schema(column("datetime(6)", false)));
/// let lines: Vec<String> =
///     compare(&[Side::live("postgres", &pg), Side::live("mysql", &my)]).iter().map(|d| d.to_string()).collect();
/// assert_eq!(lines, ["loans.returned_at: postgres TIMESTAMP NULL, mysql DATETIME(6) NOT NULL"]);
/// ```
pub fn compare(sides: &[Side<'_>]) -> Vec<Difference> {
    let mut out = Vec::new();
    let tables: BTreeSet<&String> = sides.iter().flat_map(|s| s.schema.tables.keys()).collect();
    for name in tables {
        let found: Vec<Option<&TableSnapshot>> =
            sides.iter().map(|s| s.schema.tables.get(name)).collect();
        if found.iter().any(Option::is_none) {
            out.push(difference(
                name,
                sides
                    .iter()
                    .zip(&found)
                    .map(|(s, t)| (s, if t.is_some() { "table" } else { "missing" }.to_owned())),
            ));
            continue;
        }
        let tables: Vec<&TableSnapshot> = found.into_iter().flatten().collect();
        compare_table(name, sides, &tables, &mut out);
    }
    out
}

fn compare_table(
    name: &str,
    sides: &[Side<'_>],
    tables: &[&TableSnapshot],
    out: &mut Vec<Difference>,
) {
    let mut columns: Vec<&str> = Vec::new();
    for table in tables {
        for column in &table.columns {
            if !columns.contains(&column.name.as_str()) {
                columns.push(&column.name);
            }
        }
    }
    for column in columns {
        let found: Vec<Option<&ColumnSnapshot>> = tables.iter().map(|t| t.column(column)).collect();
        let defaults: BTreeSet<Option<&str>> = sides
            .iter()
            .zip(&found)
            .filter(|(s, _)| s.complete)
            .filter_map(|(_, c)| c.map(|c| c.default.as_deref()))
            .collect();
        let present: Vec<&ColumnSnapshot> = found.iter().flatten().copied().collect();
        let agree = present.len() == found.len()
            && present
                .windows(2)
                .all(|w| w[0].class == w[1].class && w[0].nullable == w[1].nullable)
            && defaults.len() <= 1;
        if !agree {
            let show_default = defaults.len() > 1;
            out.push(difference(
                &format!("{name}.{column}"),
                sides.iter().zip(&found).map(|(s, c)| (s, describe_column(*c, s, show_default))),
            ));
        }
    }

    let keys: Vec<String> =
        tables.iter().map(|t| format!("primary key ({})", t.primary_key.join(", "))).collect();
    if keys.windows(2).any(|w| w[0] != w[1]) {
        out.push(difference(name, sides.iter().zip(keys)));
    }

    let complete: Vec<(&Side<'_>, &&TableSnapshot)> =
        sides.iter().zip(tables).filter(|(s, _)| s.complete).collect();
    let items = |side: &TableSnapshot| -> Vec<(String, String)> {
        let mut items: Vec<(String, String)> = Vec::new();
        items.extend(side.unique.iter().map(|k| {
            let text = format!("unique ({})", k.join(", "));
            (text.clone(), text)
        }));
        items.extend(side.foreign_keys.iter().map(|k| {
            let text = describe_fk(k);
            (text.clone(), text)
        }));
        items.extend(side.indexes.iter().map(|k| {
            let text = format!("index ({})", k.join(", "));
            (text.clone(), text)
        }));
        items
    };
    compare_items(name, &complete, items, true, out);

    let checking: Vec<(&Side<'_>, &&TableSnapshot)> =
        complete.iter().copied().filter(|(s, _)| s.checks).collect();
    let checks = |side: &TableSnapshot| -> Vec<(String, String)> {
        side.checks
            .iter()
            .map(|c| {
                (
                    format!("check on ({})", c.columns.join(", ")),
                    format!("check ({})", c.expression),
                )
            })
            .collect()
    };
    compare_items(name, &checking, checks, false, out);
}

/// Compares keyed items among `sides`; `items` gives each table's `(key,
/// shown text)` pairs. With `counted`, each key must occur as often on every
/// side; without, only whether it occurs (PostgreSQL stores `x BETWEEN a
/// AND b` as two conditions on `x`, the others as one).
fn compare_items(
    name: &str,
    sides: &[(&Side<'_>, &&TableSnapshot)],
    items: impl Fn(&TableSnapshot) -> Vec<(String, String)>,
    counted: bool,
    out: &mut Vec<Difference>,
) {
    let per_side: Vec<BTreeMap<String, Vec<String>>> = sides
        .iter()
        .map(|(_, table)| {
            let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (key, text) in items(table) {
                by_key.entry(key).or_default().push(text);
            }
            by_key
        })
        .collect();
    let keys: BTreeSet<&String> = per_side.iter().flat_map(|m| m.keys()).collect();
    for key in keys {
        let counts: Vec<usize> = per_side
            .iter()
            .map(|m| m.get(key).map_or(0, |v| if counted { v.len() } else { 1 }))
            .collect();
        if counts.windows(2).all(|w| w[0] == w[1]) {
            continue;
        }
        out.push(difference(
            name,
            sides.iter().zip(&per_side).map(|((side, _), m)| {
                let value = match m.get(key) {
                    None => "missing".to_owned(),
                    Some(texts) => texts.join(" and "),
                };
                (*side, value)
            }),
        ));
    }
}

fn difference<'s>(
    place: &str,
    sides: impl IntoIterator<Item = (&'s Side<'s>, String)>,
) -> Difference {
    Difference {
        place: place.to_owned(),
        sides: sides
            .into_iter()
            .map(|(side, value)| SideValue { source: side.name.to_owned(), value })
            .collect(),
    }
}

fn describe_column(column: Option<&ColumnSnapshot>, side: &Side<'_>, show_default: bool) -> String {
    let Some(column) = column else { return "missing".to_owned() };
    let declared = if side.complete {
        column.declared_type.to_ascii_uppercase()
    } else {
        column.class.name().to_owned()
    };
    let mut text = format!("{declared} {}", if column.nullable { "NULL" } else { "NOT NULL" });
    if show_default && side.complete {
        match &column.default {
            Some(default) => text.push_str(&format!(" DEFAULT {default}")),
            None => text.push_str(" no default"),
        }
    }
    text
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

macro_rules! column_classes {
    ($($sql:ty => $class:ident,)+) => {$(
        impl ColumnClass for $sql {
            fn class() -> TypeClass {
                TypeClass::$class
            }
        }
    )+};
}

column_classes! {
    SmallInt => Integer,
    Integer => Integer,
    BigInt => Integer,
    Bool => Boolean,
    Numeric => Decimal,
    Float => Float,
    Double => Float,
    Text => Text,
    Binary => Binary,
    Date => Date,
    Timestamp => Timestamp,
    UtcDateTime => Timestamp,
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
        default: None,
        limits: Default::default(),
        folding_collation: None,
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

/// The columns and primary key of a diesel `table!` with a one-column
/// primary key, as a [`TableSnapshot`].
///
/// `triglot::schema_of!(books, loans)` builds a [`SchemaSnapshot`] from
/// several of them. (diesel types a one-column key as the column and a
/// composite key as a tuple, and Rust cannot give both one trait; for a
/// composite key build the snapshot with [`ColumnList`] and set
/// `primary_key` yourself.)
pub fn table_schema<T>() -> TableSnapshot
where
    T: Table,
    T::AllColumns: ColumnList,
    T::PrimaryKey: Column,
{
    TableSnapshot {
        columns: T::AllColumns::describe(),
        primary_key: vec![<T::PrimaryKey as Column>::NAME.to_owned()],
        ..TableSnapshot::default()
    }
}

/// Builds a [`SchemaSnapshot`] from diesel `table!` modules: the `model`
/// side of a parity check.
///
/// # Example
///
/// ```
/// diesel::table! { books (id) { id -> BigInt, title -> Text, published -> Nullable<Date> } }
///
/// let schema = triglot_core::schema_of!(books);
/// assert_eq!(schema.tables["books"].columns.len(), 3);
/// assert!(schema.tables["books"].column("published").unwrap().nullable);
/// ```
#[macro_export]
macro_rules! schema_of {
    ($($table:ident),+ $(,)?) => {{
        let mut schema = $crate::introspect::SchemaSnapshot::default();
        $(
            schema.tables.insert(
                stringify!($table).to_owned(),
                $crate::parity::table_schema::<$table::table>(),
            );
        )+
        schema
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    diesel::table! {
        loans (id) {
            id -> BigInt,
            book_id -> BigInt,
            returned_at -> Nullable<Timestamp>,
        }
    }

    fn live(declared: &str, nullable: bool) -> SchemaSnapshot {
        let mut schema = crate::schema_of!(loans);
        for column in &mut schema.tables.get_mut("loans").expect("table").columns {
            column.declared_type =
                if column.name == "returned_at" { declared } else { "bigint" }.into();
        }
        let column =
            schema.tables.get_mut("loans").expect("table").columns.last_mut().expect("column");
        column.class = TypeClass::from_declared(declared);
        column.nullable = nullable;
        schema
    }

    #[test]
    fn one_changed_nullability_is_one_line_naming_table_column_and_backends() {
        let (sqlite, mysql, postgres) =
            (live("TIMESTAMP", true), live("datetime(6)", false), live("timestamp", true));
        let lines: Vec<String> = compare(&[
            Side::live("sqlite", &sqlite),
            Side::live("mysql", &mysql),
            Side::live("postgres", &postgres),
        ])
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            lines,
            [
                "loans.returned_at: sqlite TIMESTAMP NULL, mysql DATETIME(6) NOT NULL, postgres TIMESTAMP NULL"
            ]
        );
    }

    #[test]
    fn the_model_side_compares_columns_and_keys_but_not_what_it_cannot_know() {
        let model = crate::schema_of!(loans);
        let mut db = live("TIMESTAMP", true);
        let table = db.tables.get_mut("loans").expect("table");
        table.unique.push(vec!["book_id".into()]);
        table.columns[1].default = Some("0".into());
        assert!(compare(&[Side::model(&model), Side::live("sqlite", &db)]).is_empty());
        db.tables.get_mut("loans").expect("table").primary_key = vec!["book_id".into()];
        let lines: Vec<String> = compare(&[Side::model(&model), Side::live("sqlite", &db)])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines, ["loans: model primary key (id), sqlite primary key (book_id)"]);
    }

    #[test]
    fn keys_checks_and_indexes_missing_on_one_backend_are_named() {
        let mut a = live("TIMESTAMP", true);
        let b = a.clone();
        let table = a.tables.get_mut("loans").expect("table");
        table.indexes.push(vec!["book_id".into()]);
        table.set_checks(["CHECK (book_id > 0)"]);
        let lines: Vec<String> = compare(&[Side::live("sqlite", &a), Side::live("postgres", &b)])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "loans: sqlite index (book_id), postgres missing",
                "loans: sqlite check (book_id > 0), postgres missing",
            ]
        );
    }
}
