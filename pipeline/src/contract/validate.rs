//! Validation rules: the contract's (range, length, pattern, allowed values),
//! then the model's own limits, which always apply.

use super::reject::{FieldError, Reason};
use super::spec::{FieldSpec, Target};
use crate::model::OrderStatus;

/// Checks text against the contract's rules and the model's.
pub(crate) fn text(spec: &FieldSpec, value: &str) -> Result<(), FieldError> {
    // PostgreSQL stores no NUL in text: refused everywhere, alike.
    if value.contains('\0') {
        return Err(FieldError::new(
            Reason::InvalidValue,
            "text holds a NUL character, which PostgreSQL refuses",
        ));
    }
    let chars = value.chars().count();
    if let Some(max) = spec.max_length
        && chars > max
    {
        return Err(FieldError::new(
            Reason::TooLong,
            format!("{chars} characters, at most {max} allowed"),
        ));
    }
    if let Some(pattern) = &spec.pattern
        && !pattern.is_match(value)
    {
        return Err(FieldError::new(
            Reason::PatternMismatch,
            format!("{value:?} does not match {pattern}"),
        ));
    }
    if let Some(allowed) = &spec.allowed
        && !allowed.iter().any(|a| a == value)
    {
        return Err(FieldError::new(
            Reason::UnknownValue,
            format!("{value:?} is not one of {}", allowed.join(", ")),
        ));
    }
    if let Some((min, max)) = spec.target.model_length() {
        if chars > max {
            return Err(FieldError::new(
                Reason::TooLong,
                format!("{chars} characters, the model stores at most {max}"),
            ));
        }
        if chars < min {
            let reason = if chars == 0 { Reason::MissingRequired } else { Reason::PatternMismatch };
            return Err(FieldError::new(
                reason,
                format!("{chars} characters, the model needs at least {min}"),
            ));
        }
    }
    match spec.target {
        Target::Status if value.parse::<OrderStatus>().is_err() => Err(FieldError::new(
            Reason::UnknownValue,
            format!(
                "{value:?} is not an order status ({})",
                OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
            ),
        )),
        Target::Currency if !value.bytes().all(|b| b.is_ascii_uppercase()) => Err(FieldError::new(
            Reason::UnknownValue,
            format!("{value:?} is not a 3-letter upper-case currency code"),
        )),
        _ => Ok(()),
    }
}

/// Checks a number against the contract's range and the model's.
pub(crate) fn number(spec: &FieldSpec, value: i64) -> Result<(), FieldError> {
    if let Some(min) = spec.min
        && value < min
    {
        return Err(FieldError::new(
            Reason::OutOfRange,
            format!("{value} is below the minimum {min}"),
        ));
    }
    if let Some(max) = spec.max
        && value > max
    {
        return Err(FieldError::new(
            Reason::OutOfRange,
            format!("{value} is above the maximum {max}"),
        ));
    }
    if let Some((min, max)) = spec.target.model_range()
        && !(min..=max).contains(&value)
    {
        return Err(FieldError::new(
            Reason::OutOfRange,
            format!("{value} is outside the model's range {min}..={max}"),
        ));
    }
    Ok(())
}
