//! What a live database's schema looks like, in terms every backend shares.
//!
//! Each dialect reads its catalog into a [`SchemaSnapshot`]; the helpers here
//! turn what the catalogs spell differently (type names, defaults, CHECK
//! expressions) into comparable values, so that the [parity
//! check](crate::parity) compares meaning, not spelling.

use std::collections::BTreeMap;

/// The portable class of a column's type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum TypeClass {
    /// Any integer type (`INTEGER`, `BIGINT`, `INT`, `SMALLINT`, …).
    Integer,
    /// A boolean (`BOOLEAN`; MySQL's `tinyint(1)`).
    Boolean,
    /// An exact decimal (`NUMERIC`, `DECIMAL(p,s)`).
    Decimal,
    /// A floating-point number (`REAL`, `DOUBLE`, `FLOAT`).
    Float,
    /// Character data (`TEXT`, `VARCHAR(n)`, `CHAR(n)`).
    Text,
    /// Bytes (`BLOB`, `BYTEA`, `VARBINARY`).
    Binary,
    /// A calendar date.
    Date,
    /// Date and time without zone (`TIMESTAMP`, `DATETIME(6)`).
    Timestamp,
    /// Date and time with zone (`TIMESTAMP WITH TIME ZONE`).
    TimestampTz,
    /// Anything else, with the backend's type name.
    Other(String),
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
    /// assert_eq!(TypeClass::from_declared("tinyint(1)"), TypeClass::Boolean);
    /// assert_eq!(TypeClass::from_declared("timestamp with time zone"), TypeClass::TimestampTz);
    /// ```
    pub fn from_declared(declared: &str) -> Self {
        let lower = declared.trim().to_ascii_lowercase();
        if lower.starts_with("tinyint(1)") {
            return TypeClass::Boolean;
        }
        if lower.contains("with time zone") || lower == "timestamptz" {
            return TypeClass::TimestampTz;
        }
        let base = lower.split(['(', ' ']).next().unwrap_or_default();
        match base {
            "integer" | "int" | "bigint" | "smallint" | "int2" | "int4" | "int8" | "tinyint"
            | "mediumint" | "serial" | "bigserial" => TypeClass::Integer,
            "boolean" | "bool" => TypeClass::Boolean,
            "numeric" | "decimal" => TypeClass::Decimal,
            "real" | "double" | "float" | "float4" | "float8" => TypeClass::Float,
            "text" | "varchar" | "char" | "character" | "longtext" | "mediumtext" | "tinytext"
            | "nvarchar" | "nchar" | "clob" => TypeClass::Text,
            "blob" | "bytea" | "binary" | "varbinary" | "longblob" | "mediumblob" | "tinyblob" => {
                TypeClass::Binary
            }
            "date" => TypeClass::Date,
            "timestamp" | "datetime" => TypeClass::Timestamp,
            _ => TypeClass::Other(lower),
        }
    }

    /// The class's name in messages: `integer`, `text`, `timestamp`, …
    pub fn name(&self) -> &str {
        match self {
            TypeClass::Integer => "integer",
            TypeClass::Boolean => "boolean",
            TypeClass::Decimal => "decimal",
            TypeClass::Float => "float",
            TypeClass::Text => "text",
            TypeClass::Binary => "binary",
            TypeClass::Date => "date",
            TypeClass::Timestamp => "timestamp",
            TypeClass::TimestampTz => "timestamptz",
            TypeClass::Other(name) => name,
        }
    }
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
    /// Its default, normalized by [`normalize_default`] (`auto` for a
    /// generated key); `None` for no default (or `DEFAULT NULL`).
    pub default: Option<String>,
    /// What bounds the values it holds: text length, decimal digits,
    /// integer width.
    pub limits: Limits,
    /// The collation its text is compared by, where that can make two
    /// different texts equal (MySQL's `…_ci` and `…_ai`, SQLite's `NOCASE`
    /// and `RTRIM` on a unique index, a PostgreSQL nondeterministic
    /// collation); `None` where equal means the same text. A unique key on
    /// such a column holds one row for `A-1` and `a-1`.
    pub folding_collation: Option<String>,
}

/// What a column's type bounds, where the catalog says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Text: the most characters (SQLite: from a `CHECK (length(col) <= n)`).
    pub max_length: Option<u32>,
    /// Exact decimals: digits in all.
    pub precision: Option<u32>,
    /// Exact decimals: digits after the point.
    pub scale: Option<u32>,
    /// Integers: the bytes of the range (1, 2, 3, 4 or 8).
    pub integer_bytes: Option<u8>,
    /// Integers: no negative values (MySQL's `UNSIGNED`).
    pub unsigned: bool,
}

impl Limits {
    /// The limits a declared type spells itself: `VARCHAR(64)`,
    /// `DECIMAL(12,2)`, `smallint`, `int unsigned`, … Integer widths by the
    /// standard names; a backend whose `INTEGER` is wider corrects it.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_core::introspect::Limits;
    /// let money = Limits::from_declared("numeric(12,2)");
    /// assert_eq!((money.precision, money.scale), (Some(12), Some(2)));
    /// assert_eq!(Limits::from_declared("VARCHAR(64)").max_length, Some(64));
    /// assert_eq!(Limits::from_declared("tinyint(3) unsigned").integer_bytes, Some(1));
    /// ```
    pub fn from_declared(declared: &str) -> Self {
        let lower = declared.trim().to_ascii_lowercase();
        let base = lower.split(['(', ' ']).next().unwrap_or_default();
        let args: Vec<u32> = lower
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(inside, _)| inside.split(',').filter_map(|a| a.trim().parse().ok()).collect())
            .unwrap_or_default();
        let mut limits = Limits { unsigned: lower.contains("unsigned"), ..Limits::default() };
        match (TypeClass::from_declared(declared), base) {
            (TypeClass::Integer, _) | (TypeClass::Boolean, "tinyint") => {
                limits.integer_bytes = Some(match base {
                    "tinyint" => 1,
                    "smallint" | "int2" => 2,
                    "mediumint" => 3,
                    "bigint" | "int8" | "bigserial" => 8,
                    _ => 4,
                });
            }
            (TypeClass::Decimal, _) => {
                limits.precision = args.first().copied();
                limits.scale = args.get(1).copied().or(limits.precision.map(|_| 0));
            }
            (TypeClass::Text, "varchar" | "char" | "character" | "nvarchar" | "nchar") => {
                limits.max_length = args.first().copied();
            }
            _ => {}
        }
        limits
    }
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

/// One condition of a CHECK constraint: the table's columns it reads (sorted)
/// and its text as the backend reports it.
///
/// A constraint `a >= 0 AND b >= 0` is two conditions, so one backend's
/// combined constraint compares equal to another's two. Conditions on the
/// length of one text column alone are not kept: they are how SQLite spells
/// `VARCHAR(n)`, and the type class is what the parity check compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Check {
    /// The columns the condition reads, sorted.
    pub columns: Vec<String>,
    /// The condition's text.
    pub expression: String,
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
    /// CHECK conditions, sorted (see [`Check`]).
    pub checks: Vec<Check>,
    /// Indexes that are not unique, each as its columns in key order; sorted.
    pub indexes: Vec<Vec<String>>,
}

impl TableSnapshot {
    /// The column with this name, if any.
    pub fn column(&self, name: &str) -> Option<&ColumnSnapshot> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Splits each CHECK constraint text in `constraints` into conditions
    /// over this table's columns (see [`Check`]) and keeps them, sorted.
    ///
    /// A length condition of one text column (`length(sku) <= 64`) sets that
    /// column's [`Limits::max_length`] where the type does not already.
    pub fn set_checks<'a>(&mut self, constraints: impl IntoIterator<Item = &'a str>) {
        let constraints: Vec<&str> = constraints.into_iter().collect();
        let names: Vec<String> = self.columns.iter().map(|c| c.name.clone()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for text in &constraints {
            for (column, max) in length_limits(text, &names) {
                if let Some(c) = self.columns.iter_mut().find(|c| c.name == column) {
                    c.limits.max_length = Some(c.limits.max_length.map_or(max, |m| m.min(max)));
                }
            }
        }
        let mut checks: Vec<Check> =
            constraints.iter().flat_map(|text| check_conditions(text, &names)).collect();
        checks.sort();
        checks.dedup();
        self.checks = checks;
    }
}

/// The live schema of a database: its tables by name (bookkeeping tables such
/// as diesel's migration table excluded).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SchemaSnapshot {
    /// Tables by name.
    pub tables: BTreeMap<String, TableSnapshot>,
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

/// Groups `(index, column)` rows, ordered by index then key position, into
/// the sorted column lists of the indexes.
pub fn indexes_from_rows(rows: impl IntoIterator<Item = (String, String)>) -> Vec<Vec<String>> {
    let mut indexes: Vec<(String, Vec<String>)> = Vec::new();
    for (name, column) in rows {
        match indexes.last_mut().filter(|(last, _)| *last == name) {
            Some((_, columns)) => columns.push(column),
            None => indexes.push((name, vec![column])),
        }
    }
    let mut indexes: Vec<Vec<String>> = indexes.into_iter().map(|(_, c)| c).collect();
    indexes.sort();
    indexes
}

/// A column default as a comparable value: casts (`'x'::text`), outer
/// parentheses and case of keywords removed, the current-time functions
/// spelled `current_timestamp`, `NULL` as no default.
///
/// # Example
///
/// ```
/// use triglot_core::introspect::normalize_default;
/// assert_eq!(normalize_default("'new'::character varying").as_deref(), Some("'new'"));
/// assert_eq!(normalize_default("now()").as_deref(), Some("current_timestamp"));
/// assert_eq!(normalize_default("current_timestamp()").as_deref(), Some("current_timestamp"));
/// assert_eq!(normalize_default("(0)").as_deref(), Some("0"));
/// assert_eq!(normalize_default("NULL"), None);
/// ```
pub fn normalize_default(raw: &str) -> Option<String> {
    let mut text = raw.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    // PostgreSQL appends casts outside the literal: 'x'::text, 0::bigint.
    let text = match text.rfind("::") {
        Some(at) if !text[at..].contains('\'') => text[..at].trim(),
        _ => text,
    };
    let lower = text.to_ascii_lowercase();
    let value = match lower.as_str() {
        "" | "null" => return None,
        "now()" | "current_timestamp" | "current_timestamp()" | "localtimestamp" => {
            "current_timestamp".to_owned()
        }
        "true" => "1".to_owned(),
        "false" => "0".to_owned(),
        _ if text.starts_with('\'') => text.to_owned(),
        _ => lower,
    };
    Some(value)
}

/// The conditions of one CHECK constraint's text over a table with the
/// columns `columns` (see [`Check`]).
///
/// # Example
///
/// ```
/// use triglot_core::introspect::check_conditions;
/// let columns = ["a", "b", "note"];
/// let found = check_conditions("CHECK (a >= 0 AND b BETWEEN 1 AND 9 AND length(note) <= 50)", &columns);
/// let read: Vec<Vec<String>> = found.into_iter().map(|c| c.columns).collect();
/// assert_eq!(read, [vec!["a".to_string()], vec!["b".to_string()]]);
/// ```
pub fn check_conditions(text: &str, columns: &[&str]) -> Vec<crate::introspect::Check> {
    let body = text.trim();
    let body =
        body.strip_prefix("CHECK").or_else(|| body.strip_prefix("check")).unwrap_or(body).trim();
    split_conjunction(body)
        .into_iter()
        .filter_map(|part| {
            let tokens = words(&part);
            let mut read: Vec<String> = columns
                .iter()
                .filter(|c| tokens.iter().any(|t| t.eq_ignore_ascii_case(c)))
                .map(|c| (*c).to_owned())
                .collect();
            read.sort();
            let length_only = read.len() == 1
                && tokens.iter().any(|t| {
                    let t = t.to_ascii_lowercase();
                    t == "length" || t == "char_length" || t == "character_length"
                });
            (!read.is_empty() && !length_only)
                .then(|| Check { columns: read, expression: part.trim().to_owned() })
        })
        .collect()
}

/// The upper length bounds a CHECK constraint's text sets, `(column, most
/// characters)`: `length(c) <= n`, `< n`, `= n` or `BETWEEN m AND n`.
fn length_limits(text: &str, columns: &[&str]) -> Vec<(String, u32)> {
    let body = text.trim().trim_start_matches("CHECK").trim_start_matches("check");
    let mut out = Vec::new();
    for part in split_conjunction(body) {
        let tokens = words(&part);
        let lower = part.to_ascii_lowercase();
        let is_length = tokens.iter().any(|t| {
            let t = t.to_ascii_lowercase();
            t == "length" || t == "char_length" || t == "character_length"
        });
        let read: Vec<&&str> =
            columns.iter().filter(|c| tokens.iter().any(|t| t.eq_ignore_ascii_case(c))).collect();
        if !is_length || read.len() != 1 {
            continue;
        }
        let numbers: Vec<u32> = tokens.iter().filter_map(|t| t.parse().ok()).collect();
        let Some(&last) = numbers.last() else { continue };
        let max = if lower.contains("between") || lower.contains("<=") {
            Some(last)
        } else if lower.contains('<') && !lower.contains("<>") {
            last.checked_sub(1)
        } else if lower.contains('=') && !lower.contains(">=") && !lower.contains("!=") {
            Some(last)
        } else {
            None
        };
        if let Some(max) = max {
            out.push(((*read[0]).to_owned(), max));
        }
    }
    out
}

/// Splits `text` at the `AND`s that join conditions: outside parentheses,
/// quotes and `BETWEEN … AND …`, after removing parentheses around the whole.
fn split_conjunction(text: &str) -> Vec<String> {
    let mut text = text.trim();
    while let Some(inner) = strip_outer_parens(text) {
        text = inner.trim();
    }
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut betweens = 0;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && c.is_ascii_alphabetic() && word_start(bytes, i) => {
                let end = (i..bytes.len()).find(|&j| !is_word(bytes[j])).unwrap_or(bytes.len());
                let word = &text[i..end];
                if word.eq_ignore_ascii_case("between") {
                    betweens += 1;
                } else if word.eq_ignore_ascii_case("and") {
                    if betweens > 0 {
                        betweens -= 1;
                    } else {
                        parts.push(text[start..i].trim().to_owned());
                        start = end;
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(text[start..].trim().to_owned());
    parts
        .into_iter()
        .map(|p| {
            let mut p = p.as_str();
            while let Some(inner) = strip_outer_parens(p) {
                p = inner.trim();
            }
            p.to_owned()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// `text` without one pair of parentheses that encloses all of it.
fn strip_outer_parens(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || !is_word(bytes[i - 1])
}

/// The identifiers of an expression, quotes and backticks removed, string
/// literals skipped.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '\'' {
            quoted = !quoted;
            current.clear();
            continue;
        }
        if quoted {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            current.push(c);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, columns: &[&str]) -> Vec<Vec<String>> {
        check_conditions(text, columns).into_iter().map(|c| c.columns).collect()
    }

    #[test]
    fn a_combined_check_compares_equal_to_separate_ones() {
        let columns = ["records_read", "records_accepted"];
        let combined = read("CHECK (records_read >= 0 AND records_accepted >= 0)", &columns);
        let mut separate = read("(records_read >= 0)", &columns);
        separate.extend(read("CHECK ((records_accepted >= 0))", &columns));
        separate.sort();
        let mut combined = combined;
        combined.sort();
        assert_eq!(combined, separate);
    }

    #[test]
    fn between_keeps_its_and_and_quoted_text_is_no_column() {
        let columns = ["discount_bp", "status", "paid"];
        assert_eq!(read("discount_bp BETWEEN 0 AND 10000", &columns), [vec!["discount_bp"]]);
        assert_eq!(read("status IN ('paid', 'shipped')", &columns), [vec!["status"]]);
        let pg = "CHECK (((status)::text = ANY ((ARRAY['paid'::character varying])::text[])))";
        assert_eq!(read(pg, &columns), [vec!["status"]]);
    }

    #[test]
    fn length_checks_give_the_most_characters() {
        let columns = ["sku", "country", "name", "code"];
        let found = |text: &str| length_limits(text, &columns);
        assert_eq!(found("CHECK (length(sku) BETWEEN 1 AND 64)"), [("sku".to_string(), 64)]);
        assert_eq!(found("(length(country) = 2)"), [("country".to_string(), 2)]);
        assert_eq!(found("length(name) < 201"), [("name".to_string(), 200)]);
        assert!(found("char_length(code) >= 1").is_empty());
    }

    #[test]
    fn length_rules_of_one_column_are_type_not_check() {
        let columns = ["sku", "quantity"];
        assert!(read("CHECK (length(sku) BETWEEN 1 AND 64)", &columns).is_empty());
        assert!(read("(char_length((sku)::text) >= 1)", &columns).is_empty());
        assert_eq!(read("CHECK (quantity > 0)", &columns), [vec!["quantity"]]);
    }
}
