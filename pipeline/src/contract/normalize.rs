//! Normalization rules, in order: NULL values, default, trim, case, value map.

use std::borrow::Cow;

use super::spec::{Case, FieldSpec};

/// The normalized text of a non-NULL value, or `None` for NULL (after the
/// default, if any, stood in).
///
/// NULL values are compared with the source text exactly, before trimming:
/// a contract says which texts mean NULL, and only those do.
pub(crate) fn normalize<'a>(
    spec: &'a FieldSpec,
    value: Option<Cow<'a, str>>,
) -> Option<Cow<'a, str>> {
    let value = match value {
        Some(text) if !spec.null_values.iter().any(|n| n == text.as_ref()) => text,
        _ => Cow::Borrowed(spec.default.as_deref()?),
    };
    let value = if spec.trim {
        match value {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
            Cow::Owned(s) => Cow::Owned(s.trim().to_owned()),
        }
    } else {
        value
    };
    let value = match spec.case {
        Some(Case::Upper) if value.chars().any(char::is_lowercase) => {
            Cow::Owned(value.to_uppercase())
        }
        Some(Case::Lower) if value.chars().any(char::is_uppercase) => {
            Cow::Owned(value.to_lowercase())
        }
        _ => value,
    };
    match spec.map.get(value.as_ref()) {
        Some(mapped) => Some(Cow::Borrowed(mapped.as_str())),
        None => Some(value),
    }
}
