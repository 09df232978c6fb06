//! What a live database's schema looks like, in terms every backend shares.

use std::collections::BTreeMap;

/// The portable class of a column's type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum TypeClass {
    /// Any integer type (`INTEGER`, `BIGINT`, `INT`, …).
    Integer,
    /// Character data (`TEXT`, `VARCHAR(n)`, `CHAR(n)`).
    Text,
    /// Date and time without zone (`TIMESTAMP`, `DATETIME(6)`).
    Timestamp,
    /// Anything else, with the backend's type name.
    Other(String),
}

/// One column of a live table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnSnapshot {
    /// Column name.
    pub name: String,
    /// Portable class of its type.
    pub class: TypeClass,
    /// The type as the backend spells it.
    pub declared_type: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
}

/// A foreign key of a live table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ForeignKey {
    /// Referencing columns, in key order.
    pub columns: Vec<String>,
    /// Referenced table.
    pub references: String,
    /// Referenced columns, in key order.
    pub referenced_columns: Vec<String>,
}

/// One live table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableSnapshot {
    /// Columns in table order.
    pub columns: Vec<ColumnSnapshot>,
    /// Primary-key columns, in key order.
    pub primary_key: Vec<String>,
    /// Unique constraints and unique indexes (other than the primary key), each
    /// as its columns in key order; sorted.
    pub unique: Vec<Vec<String>>,
    /// Foreign keys, sorted.
    pub foreign_keys: Vec<ForeignKey>,
}

impl TableSnapshot {
    /// The column with this name, if any.
    pub fn column(&self, name: &str) -> Option<&ColumnSnapshot> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The live schema of a database: its tables by name (bookkeeping tables such
/// as diesel's migration table excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchemaSnapshot {
    /// Tables by name.
    pub tables: BTreeMap<String, TableSnapshot>,
}

impl TypeClass {
    /// Classifies a declared SQL type name of any backend.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_core::introspect::TypeClass;
    /// assert_eq!(TypeClass::from_declared("bigint"), TypeClass::Integer);
    /// assert_eq!(TypeClass::from_declared("VARCHAR(64)"), TypeClass::Text);
    /// assert_eq!(TypeClass::from_declared("datetime(6)"), TypeClass::Timestamp);
    /// ```
    pub fn from_declared(declared: &str) -> Self {
        let lower = declared.to_ascii_lowercase();
        let base = lower.split(['(', ' ']).next().unwrap_or_default();
        match base {
            "integer" | "int" | "bigint" | "smallint" | "int2" | "int4" | "int8" | "tinyint"
            | "mediumint" => TypeClass::Integer,
            "text" | "varchar" | "char" | "character" | "longtext" | "mediumtext" | "tinytext"
            | "nvarchar" => TypeClass::Text,
            "timestamp" | "datetime" => TypeClass::Timestamp,
            _ => TypeClass::Other(lower),
        }
    }
}

/// Groups `(constraint, column, referenced table, referenced column)` rows,
/// ordered by constraint then key position, into sorted foreign keys.
pub fn foreign_keys_from_rows(
    rows: impl IntoIterator<Item = (String, String, String, String)>,
) -> Vec<ForeignKey> {
    let mut keys: Vec<(String, ForeignKey)> = Vec::new();
    for (name, column, target, target_column) in rows {
        if keys.last().is_none_or(|(last, _)| *last != name) {
            let key = ForeignKey {
                columns: Vec::new(),
                references: target,
                referenced_columns: Vec::new(),
            };
            keys.push((name, key));
        }
        if let Some((_, key)) = keys.last_mut() {
            key.columns.push(column);
            key.referenced_columns.push(target_column);
        }
    }
    let mut keys: Vec<ForeignKey> = keys.into_iter().map(|(_, key)| key).collect();
    keys.sort();
    keys
}

/// Groups `(index, is_primary, column)` rows of unique indexes, ordered by
/// index then key position, into the primary key and the sorted unique keys.
pub fn unique_keys_from_rows(
    rows: impl IntoIterator<Item = (String, bool, String)>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut primary = Vec::new();
    let mut unique: Vec<(String, Vec<String>)> = Vec::new();
    for (name, is_primary, column) in rows {
        if is_primary {
            primary.push(column);
        } else if let Some((_, columns)) = unique.last_mut().filter(|(last, _)| *last == name) {
            columns.push(column);
        } else {
            unique.push((name, vec![column]));
        }
    }
    let mut unique: Vec<Vec<String>> = unique.into_iter().map(|(_, columns)| columns).collect();
    unique.sort();
    (primary, unique)
}
