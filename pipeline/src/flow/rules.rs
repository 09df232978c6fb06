//! The text rules a contract adds to a column: which texts mean NULL,
//! trimming, case, a value map, and the checks the schema cannot state
//! (pattern, allowed values, range, length).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::contract::{Case, FieldError, Reason};
use crate::transform::{Exact, Value};

/// What a contract says about a field's text, beyond its column's type.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextRules {
    /// Source texts that mean NULL, compared before trimming.
    pub(crate) null: Vec<String>,
    /// The text that stands in for NULL, if any.
    pub(crate) default: Option<String>,
    /// Whether surrounding whitespace is removed.
    pub(crate) trim: bool,
    /// Case folding after trimming.
    pub(crate) case: Option<Case>,
    /// Texts replaced by others, after case folding.
    pub(crate) map: BTreeMap<String, String>,
    /// A pattern the whole text must match.
    pub(crate) pattern: Option<regex::Regex>,
    /// The only texts allowed.
    pub(crate) allowed: Option<Vec<String>>,
    /// The most characters.
    pub(crate) max_length: Option<u32>,
    /// The smallest number.
    pub(crate) min: Option<Exact>,
    /// The largest number.
    pub(crate) max: Option<Exact>,
}

impl TextRules {
    /// The normalized text of a source value (`None`: absent); `None` when
    /// it means NULL and no default stands in.
    pub(crate) fn normalize<'a>(&'a self, text: Option<&'a str>) -> Option<Cow<'a, str>> {
        // Most NULLs are empty texts: they match by length alone, without
        // a call to compare their bytes (a tenth of a large load's reading).
        let is_null = |text: &str| {
            self.null.iter().any(|n| n.len() == text.len() && (text.is_empty() || n == text))
        };
        let text = match text {
            Some(text) if !is_null(text) => text,
            _ => self.default.as_deref()?,
        };
        let text = if self.trim { text.trim() } else { text };
        let text = match self.case {
            Some(Case::Upper) if text.chars().any(char::is_lowercase) => {
                Cow::Owned(text.to_uppercase())
            }
            Some(Case::Lower) if text.chars().any(char::is_uppercase) => {
                Cow::Owned(text.to_lowercase())
            }
            _ => Cow::Borrowed(text),
        };
        Some(match self.map.get(text.as_ref()) {
            Some(mapped) => Cow::Borrowed(mapped.as_str()),
            None => text,
        })
    }

    /// Checks normalized text against the pattern, the allowed values and
    /// the length.
    pub(crate) fn check_text(&self, text: &str) -> Result<(), FieldError> {
        if let Some(max) = self.max_length {
            let chars = text.chars().count();
            if chars > max as usize {
                return Err(FieldError::new(
                    Reason::TooLong,
                    format!("{chars} characters, at most {max} allowed"),
                ));
            }
        }
        if let Some(pattern) = &self.pattern
            && !pattern.is_match(text)
        {
            return Err(FieldError::new(
                Reason::PatternMismatch,
                format!("{text:?} does not match {pattern}"),
            ));
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|a| a == text)
        {
            return Err(FieldError::new(
                Reason::UnknownValue,
                format!("{text:?} is not one of {}", allowed.join(", ")),
            ));
        }
        Ok(())
    }

    /// Checks a value (read or computed) against the range.
    pub(crate) fn check_value(&self, value: &Value) -> Result<(), FieldError> {
        let Value::Number(n) = value else { return Ok(()) };
        let shown = || value.to_string();
        if let Some(min) = self.min
            && *n < min
        {
            return Err(FieldError::new(
                Reason::OutOfRange,
                format!("{} is below the minimum {}", shown(), Value::Number(min)),
            ));
        }
        if let Some(max) = self.max
            && *n > max
        {
            return Err(FieldError::new(
                Reason::OutOfRange,
                format!("{} is above the maximum {}", shown(), Value::Number(max)),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_spellings_are_exact_then_text_is_trimmed_folded_and_mapped() {
        let rules = TextRules {
            null: vec!["".into(), "N/A".into()],
            trim: true,
            case: Some(Case::Lower),
            map: [("canceled".to_string(), "cancelled".to_string())].into(),
            ..TextRules::default()
        };
        assert_eq!(rules.normalize(Some("N/A")), None);
        assert_eq!(rules.normalize(Some("")), None);
        assert_eq!(rules.normalize(None), None);
        assert_eq!(rules.normalize(Some(" N/A ")).as_deref(), Some("n/a"));
        assert_eq!(rules.normalize(Some(" Canceled")).as_deref(), Some("cancelled"));
        let zero = TextRules { null: vec!["".into()], default: Some("0".into()), ..rules };
        assert_eq!(zero.normalize(Some("")).as_deref(), Some("0"));
        assert_eq!(zero.normalize(None).as_deref(), Some("0"));
    }

    #[test]
    fn checks_name_their_reason() {
        let rules = TextRules {
            pattern: Some(regex::Regex::new("^(?:[A-Z]{2})$").unwrap()),
            allowed: Some(vec!["DE".into(), "FR".into()]),
            max_length: Some(2),
            min: Some(Exact::int(1)),
            max: Some(Exact::parse("9.5").unwrap()),
            ..TextRules::default()
        };
        let reason = |r: Result<(), FieldError>| r.unwrap_err().reason;
        assert_eq!(reason(rules.check_text("DEU")), Reason::TooLong);
        assert_eq!(reason(rules.check_text("d1")), Reason::PatternMismatch);
        assert_eq!(reason(rules.check_text("IT")), Reason::UnknownValue);
        assert!(rules.check_text("FR").is_ok());
        let n = |t: &str| Value::Number(Exact::parse(t).unwrap());
        assert_eq!(reason(rules.check_value(&n("0.99"))), Reason::OutOfRange);
        assert_eq!(reason(rules.check_value(&n("9.51"))), Reason::OutOfRange);
        assert!(rules.check_value(&n("9.5")).is_ok());
    }
}
