//! One field's value through its spec: NULL, normalization, parsing, validation.

use std::borrow::Cow;

use super::normalize::normalize;
use super::parse;
use super::reject::{FieldError, Reason};
use super::spec::{FieldSpec, FieldType, Value};
use super::validate;

/// A value as it stands in a record, before its spec is applied.
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

impl FieldSpec {
    /// Applies this spec to a raw value: `Ok(None)` is an allowed NULL.
    ///
    /// # Errors
    ///
    /// The [`FieldError`] of the first rule the value breaks.
    pub fn apply(&self, raw: RawValue<'_>) -> Result<Option<Value>, FieldError> {
        let text = match raw {
            RawValue::Absent | RawValue::Null => None,
            RawValue::Text(text) => Some(text),
            RawValue::NotUtf8 => {
                return Err(FieldError::new(Reason::InvalidUtf8, "the bytes are not UTF-8"));
            }
            RawValue::NotScalar => {
                let reason = match self.kind {
                    FieldType::Text => Reason::InvalidJson,
                    FieldType::Timestamp => Reason::InvalidTimestamp,
                    FieldType::Money | FieldType::Percent => Reason::InvalidMoney,
                    _ => Reason::InvalidNumber,
                };
                return Err(FieldError::new(
                    reason,
                    "an object or array where a single value belongs",
                ));
            }
        };
        let Some(text) = normalize(self, text) else {
            return if self.required {
                Err(FieldError::new(
                    Reason::MissingRequired,
                    format!("no value in {}", self.column),
                ))
            } else {
                Ok(None)
            };
        };
        let value = match self.kind {
            FieldType::Text => {
                validate::text(self, &text)?;
                Value::Text(text.into_owned())
            }
            FieldType::Timestamp => {
                Value::Time(parse::timestamp(&text, &self.formats, self.assume_offset)?)
            }
            FieldType::Integer | FieldType::Cents | FieldType::BasisPoints => {
                let n = parse::integer(&text)?;
                validate::number(self, n)?;
                Value::Int(n)
            }
            FieldType::Money => {
                let n = parse::decimal(&text, 2, self.rounding, Reason::InvalidMoney)?;
                validate::number(self, n)?;
                Value::Int(n)
            }
            FieldType::Percent => {
                let n = parse::decimal(&text, 2, self.rounding, Reason::InvalidNumber)?;
                validate::number(self, n)?;
                Value::Int(n)
            }
        };
        Ok(Some(value))
    }
}
