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
