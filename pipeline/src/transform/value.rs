//! The values a transformation rule computes with.

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};

use super::exact::Exact;

/// One value of a record: what a source field becomes after its rules, and
/// what an expression computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value.
    Null,
    /// True or false.
    Bool(bool),
    /// An exact number (integers, decimals, money).
    Number(Exact),
    /// Text.
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A UTC date and time.
    Timestamp(NaiveDateTime),
}

impl Value {
    /// The name of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Text(_) => "text",
            Value::Date(_) => "date",
            Value::Timestamp(_) => "timestamp",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => match n.to_text(6, super::exact::Round::HalfEven) {
                Ok(text) => {
                    let text = text.trim_end_matches('0');
                    f.write_str(text.strip_suffix('.').unwrap_or(text))
                }
                Err(_) => f.write_str("(a number too large to show)"),
            },
            Value::Text(t) => write!(f, "{t:?}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Timestamp(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.fZ")),
        }
    }
}
