//! What an input file holds: its format, and a field's value as it stands
//! in a record; and the case folding a rule may apply to text.

use std::borrow::Cow;

/// The file format a contract reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text (`,`, `|`, `;`, tab …), with or without a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Case folding applied to text after trimming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `to_uppercase`.
    Upper,
    /// `to_lowercase`.
    Lower,
}

/// A value as it stands in a record, before a contract's rules apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// The column or key is not there (a JSON key absent).
    Absent,
    /// An explicit JSON `null`.
    Null,
    /// Text (a CSV cell, a JSON string, or a JSON number or boolean as written).
    Text(Cow<'a, str>),
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// A JSON object or array where a single value belongs.
    NotScalar,
}
