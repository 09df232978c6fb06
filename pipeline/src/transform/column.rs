//! A column of the live schema as the rules a value must pass to be stored
//! there: the baseline a contract starts from.
//!
//! [`ColumnRule::baseline`] reads them from the catalog ([`ColumnSnapshot`]):
//! integers by width, text by length, booleans, exact decimals by precision
//! and scale, dates, timestamps with or without time zone. A contract adds
//! what the schema cannot say (formats, offsets, rounding, money kept as
//! integer minor units). [`ColumnRule::parse`] turns a source's text into a
//! [`Value`], and [`ColumnRule::store`] checks any value (parsed or computed)
//! against the column and makes the [`SqlValue`] that writes it.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use triglot::introspect::{ColumnSnapshot, TypeClass};
use triglot::values::SqlValue;

use super::exact::{Exact, ExactError, Round};
use super::value::Value;
use crate::contract::parse::stored_day;
use crate::contract::{FieldError, Reason};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integers from `min` to `max`.
    Integer {
        /// The smallest value.
        min: i128,
        /// The largest value.
        max: i128,
    },
    /// An integer column holding an exact amount in minor units (money in
    /// cents is `scale` 2): the source gives the amount, the column stores
    /// it times `10^scale`, rounded by the contract.
    MinorUnits {
        /// Decimal places of one unit.
        scale: u32,
        /// The smallest stored integer.
        min: i128,
        /// The largest stored integer.
        max: i128,
    },
    /// Text of at most `max_chars` characters, if limited.
    Text {
        /// The most characters.
        max_chars: Option<u32>,
    },
    /// True or false.
    Boolean,
    /// An exact decimal: `precision` digits, `scale` after the point.
    Decimal {
        /// Digits in all (`None`: unbounded, PostgreSQL's plain `numeric`).
        precision: Option<u32>,
        /// Digits after the point.
        scale: u32,
        /// The SQL type values are cast to when written.
        cast: String,
    },
    /// A calendar date.
    Date,
    /// A date and time, stored in UTC.
    Timestamp,
}

/// The rules of one column: the catalog's, and the contract's additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRule {
    /// The column's name.
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
    /// Whether it takes NULL.
    pub nullable: bool,
    /// How a decimal with more places than the column keeps is rounded.
    pub round: Round,
    /// Formats (chrono's) tried for dates and timestamps after the ISO ones.
    pub formats: Vec<String>,
    /// The offset of timestamps that carry none; without it they are refused.
    pub assume_offset: Option<FixedOffset>,
}

impl ColumnRule {
    /// The baseline rules of `column` as the catalog describes it.
    ///
    /// # Errors
    ///
    /// A message naming the column when its type is one the contracts do
    /// not fill (binary, JSON, …).
    pub fn baseline(column: &ColumnSnapshot) -> Result<Self, String> {
        let limits = column.limits;
        let kind = match &column.class {
            TypeClass::Integer => {
                let bytes = u32::from(limits.integer_bytes.unwrap_or(8).clamp(1, 8));
                let bits = bytes * 8;
                if limits.unsigned {
                    ColumnKind::Integer { min: 0, max: (1_i128 << bits) - 1 }
                } else {
                    ColumnKind::Integer {
                        min: -(1_i128 << (bits - 1)),
                        max: (1_i128 << (bits - 1)) - 1,
                    }
                }
            }
            TypeClass::Text => ColumnKind::Text { max_chars: limits.max_length },
            TypeClass::Boolean => ColumnKind::Boolean,
            TypeClass::Decimal => ColumnKind::Decimal {
                precision: limits.precision,
                scale: limits.scale.unwrap_or(0),
                cast: column.declared_type.clone(),
            },
            TypeClass::Date => ColumnKind::Date,
            TypeClass::Timestamp | TypeClass::TimestampTz => ColumnKind::Timestamp,
            other => {
                return Err(format!(
                    "column {} is {} ({}), which a contract cannot fill",
                    column.name,
                    other.name(),
                    column.declared_type
                ));
            }
        };
        Ok(Self {
            name: column.name.clone(),
            kind,
            nullable: column.nullable,
            round: Round::HalfEven,
            formats: Vec::new(),
            assume_offset: None,
        })
    }

    /// The same rules with the column's integers holding an amount in minor
    /// units of `scale` decimal places (cents: 2).
    ///
    /// # Errors
    ///
    /// A message when the column does not hold integers.
    pub fn minor_units(mut self, scale: u32) -> Result<Self, String> {
        match self.kind {
            ColumnKind::Integer { min, max } => {
                self.kind = ColumnKind::MinorUnits { scale, min, max };
                Ok(self)
            }
            _ => Err(format!(
                "column {} holds no integers, so it cannot keep money in minor units",
                self.name
            )),
        }
    }

    /// The value of a source's text (already normalized: NULL spellings,
    /// trimming, case and mapping applied by the contract).
    ///
    /// # Errors
    ///
    /// A [`FieldError`] with the reason the text is refused.
    pub fn parse(&self, text: &str) -> Result<Value, FieldError> {
        Ok(match &self.kind {
            ColumnKind::Integer { .. }
            | ColumnKind::MinorUnits { .. }
            | ColumnKind::Decimal { .. } => {
                let reason = match self.kind {
                    ColumnKind::Integer { .. } => Reason::InvalidNumber,
                    ColumnKind::MinorUnits { .. } => Reason::InvalidMoney,
                    _ => Reason::InvalidDecimal,
                };
                let n = Exact::parse(text).map_err(|e| match e {
                    ExactError::Overflow => {
                        FieldError::new(Reason::OutOfRange, format!("{text} is too large"))
                    }
                    _ => FieldError::new(reason, format!("{text:?} is not a number")),
                })?;
                Value::Number(n)
            }
            ColumnKind::Text { .. } => Value::Text(text.to_owned()),
            ColumnKind::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "y" | "1" => Value::Bool(true),
                "false" | "f" | "no" | "n" | "0" => Value::Bool(false),
                _ => {
                    return Err(FieldError::new(
                        Reason::InvalidBoolean,
                        format!("{text:?} is not true/false, t/f, yes/no, y/n or 1/0"),
                    ));
                }
            },
            ColumnKind::Date => Value::Date(stored_day(self.date(text)?, text)?),
            ColumnKind::Timestamp => {
                let t = self.timestamp(text)?;
                stored_day(t.date(), text)?;
                Value::Timestamp(t)
            }
        })
    }

    fn date(&self, text: &str) -> Result<NaiveDate, FieldError> {
        std::iter::once("%Y-%m-%d")
            .chain(self.formats.iter().map(String::as_str))
            .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
            .ok_or_else(|| {
                FieldError::new(
                    Reason::InvalidDate,
                    format!("{text:?} is not a date (YYYY-MM-DD{})", formats_hint(&self.formats)),
                )
            })
    }

    fn timestamp(&self, text: &str) -> Result<NaiveDateTime, FieldError> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.naive_utc());
        }
        for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"]
            .into_iter()
            .chain(self.formats.iter().map(String::as_str))
        {
            if let Ok(t) = DateTime::parse_from_str(text, format) {
                return Ok(t.naive_utc());
            }
            let local = NaiveDateTime::parse_from_str(text, format).or_else(|_| {
                NaiveDate::parse_from_str(text, format).map(|d| d.and_time(Default::default()))
            });
            if let (Ok(local), Some(offset)) = (local, self.assume_offset) {
                return local.checked_sub_offset(offset).ok_or_else(|| {
                    FieldError::new(Reason::InvalidTimestamp, format!("{text:?} is out of range"))
                });
            }
        }
        for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let (Ok(local), Some(offset)) =
                (NaiveDateTime::parse_from_str(text, format), self.assume_offset)
            {
                return local.checked_sub_offset(offset).ok_or_else(|| {
                    FieldError::new(Reason::InvalidTimestamp, format!("{text:?} is out of range"))
                });
            }
        }
        Err(FieldError::new(
            Reason::InvalidTimestamp,
            format!(
                "{text:?} is not a timestamp with an offset (RFC 3339{}){}",
                formats_hint(&self.formats),
                if self.assume_offset.is_none() {
                    "; no offset is assumed for times without one"
                } else {
                    ""
                }
            ),
        ))
    }

    /// `value` as the column keeps it: a number rounded to the column's scale
    /// by the contract's rounding, so what is computed from it next (a
    /// parent's sum) is computed from what is stored.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] when the value cannot be stored ([`ColumnRule::store`]).
    pub fn settle(&self, value: &Value) -> Result<Value, FieldError> {
        let stored = self.store(value)?;
        let number =
            |n: Result<Exact, ExactError>| n.map(Value::Number).map_err(|e| arithmetic(e, value));
        match (&self.kind, stored) {
            (ColumnKind::MinorUnits { scale, .. }, SqlValue::Int(units)) => {
                number(Exact::scaled(units.into(), *scale))
            }
            (ColumnKind::Decimal { .. }, SqlValue::Decimal { text, .. }) => {
                number(Exact::parse(&text))
            }
            _ => Ok(value.clone()),
        }
    }

    /// The [`SqlValue`] that stores `value` in this column, after checking
    /// NULL, range, length, precision and kind.
    ///
    /// # Errors
    ///
    /// A [`FieldError`] with the reason the value cannot be stored.
    pub fn store(&self, value: &Value) -> Result<SqlValue, FieldError> {
        let mismatch = || {
            FieldError::new(
                Reason::InvalidValue,
                format!("{} {value} cannot be stored in column {}", value.kind(), self.name),
            )
        };
        Ok(match (&self.kind, value) {
            (_, Value::Null) if self.nullable => SqlValue::Null,
            (_, Value::Null) => {
                return Err(FieldError::new(
                    Reason::MissingRequired,
                    format!("column {} takes no NULL", self.name),
                ));
            }
            (ColumnKind::Integer { min, max }, Value::Number(n)) => {
                let units = n.to_scaled(0, Round::Refuse).map_err(|e| match e {
                    ExactError::NeedsRounding => FieldError::new(
                        Reason::InvalidNumber,
                        format!("{value} is not a whole number"),
                    ),
                    other => arithmetic(other, value),
                })?;
                SqlValue::Int(in_range(units, *min, *max, value)?)
            }
            (ColumnKind::MinorUnits { scale, min, max }, Value::Number(n)) => {
                let units = n.to_scaled(*scale, self.round).map_err(|e| match e {
                    ExactError::NeedsRounding => FieldError::new(
                        Reason::InvalidMoney,
                        format!(
                            "{value} has more than {scale} decimal places, and rounding is refused"
                        ),
                    ),
                    other => arithmetic(other, value),
                })?;
                SqlValue::Int(in_range(units, *min, *max, value)?)
            }
            (ColumnKind::Decimal { precision, scale, cast }, Value::Number(n)) => {
                let text = n.to_text(*scale, self.round).map_err(|e| match e {
                    ExactError::NeedsRounding => FieldError::new(
                        Reason::InvalidDecimal,
                        format!(
                            "{value} has more than {scale} decimal places, and rounding is refused"
                        ),
                    ),
                    other => arithmetic(other, value),
                })?;
                if let Some(precision) = precision {
                    let whole = text.trim_start_matches('-').split('.').next().unwrap_or_default();
                    let allowed = precision.saturating_sub(*scale);
                    if whole.trim_start_matches('0').len() > allowed as usize {
                        return Err(FieldError::new(
                            Reason::OutOfRange,
                            format!(
                                "{value} has more than {allowed} digits before the point (DECIMAL({precision},{scale}))"
                            ),
                        ));
                    }
                }
                SqlValue::Decimal { text, cast: cast.clone() }
            }
            (ColumnKind::Text { max_chars }, Value::Text(t)) => {
                self.text_fits(t, *max_chars)?;
                SqlValue::Text(t.clone())
            }
            (ColumnKind::Boolean, Value::Bool(b)) => SqlValue::Bool(*b),
            (ColumnKind::Date, Value::Date(d)) => SqlValue::Date(*d),
            (ColumnKind::Timestamp, Value::Timestamp(t)) => SqlValue::Timestamp(*t),
            _ => return Err(mismatch()),
        })
    }

    /// Like [`ColumnRule::store`], taking the value: text moves into the
    /// row instead of being copied.
    ///
    /// # Errors
    ///
    /// As [`ColumnRule::store`].
    pub fn store_owned(&self, value: Value) -> Result<SqlValue, FieldError> {
        match (&self.kind, value) {
            (ColumnKind::Text { max_chars }, Value::Text(t)) => {
                self.text_fits(&t, *max_chars)?;
                Ok(SqlValue::Text(t))
            }
            (_, value) => self.store(&value),
        }
    }

    /// Text a text column can hold: no NUL, at most `max_chars` characters.
    fn text_fits(&self, t: &str, max_chars: Option<u32>) -> Result<(), FieldError> {
        if t.contains('\0') {
            return Err(FieldError::new(
                Reason::InvalidValue,
                "text holds a NUL character, which PostgreSQL refuses",
            ));
        }
        if let Some(max) = max_chars {
            let chars = t.chars().count();
            if chars > max as usize {
                return Err(FieldError::new(
                    Reason::TooLong,
                    format!("{chars} characters, more than the {max} column {} holds", self.name),
                ));
            }
        }
        Ok(())
    }
}

fn formats_hint(formats: &[String]) -> String {
    if formats.is_empty() { String::new() } else { format!(", or {}", formats.join(", ")) }
}

fn arithmetic(err: ExactError, value: &Value) -> FieldError {
    match err {
        ExactError::DivisionByZero => {
            FieldError::new(Reason::DivisionByZero, format!("{value}: {err}"))
        }
        _ => FieldError::new(Reason::OutOfRange, format!("{value} is too large")),
    }
}

fn in_range(units: i128, min: i128, max: i128, value: &Value) -> Result<i64, FieldError> {
    if units < min || units > max {
        return Err(FieldError::new(
            Reason::OutOfRange,
            format!("{value} is outside {min} to {max}"),
        ));
    }
    i64::try_from(units)
        .map_err(|_| FieldError::new(Reason::OutOfRange, format!("{value} is too large")))
}

#[cfg(test)]
mod tests {
    use triglot::introspect::Limits;

    use super::*;

    fn column(declared: &str, nullable: bool) -> ColumnSnapshot {
        ColumnSnapshot {
            name: "c".into(),
            class: TypeClass::from_declared(declared),
            declared_type: declared.into(),
            nullable,
            default: None,
            limits: Limits::from_declared(declared),
            folding_collation: None,
        }
    }

    fn rule(declared: &str) -> ColumnRule {
        ColumnRule::baseline(&column(declared, true)).unwrap()
    }

    fn stored(rule: &ColumnRule, text: &str) -> Result<SqlValue, FieldError> {
        rule.store(&rule.parse(text)?)
    }

    fn reason(rule: &ColumnRule, text: &str) -> Reason {
        stored(rule, text).unwrap_err().reason
    }

    #[test]
    fn integers_of_every_width_keep_their_range() {
        assert_eq!(stored(&rule("smallint"), "-32768"), Ok(SqlValue::Int(-32_768)));
        assert_eq!(reason(&rule("smallint"), "32768"), Reason::OutOfRange);
        assert_eq!(reason(&rule("tinyint(3) unsigned"), "-1"), Reason::OutOfRange);
        assert_eq!(stored(&rule("bigint"), "9223372036854775807"), Ok(SqlValue::Int(i64::MAX)));
        assert_eq!(reason(&rule("bigint"), "9223372036854775808"), Reason::OutOfRange);
        assert_eq!(reason(&rule("integer"), "1.5"), Reason::InvalidNumber);
        assert_eq!(reason(&rule("integer"), "12a"), Reason::InvalidNumber);
    }

    #[test]
    fn decimals_round_by_the_rule_and_keep_their_precision() {
        let mut price = rule("numeric(6,2)");
        assert_eq!(
            stored(&price, "1234.565"),
            Ok(SqlValue::Decimal { text: "1234.56".into(), cast: "numeric(6,2)".into() })
        );
        price.round = Round::HalfUp;
        assert_eq!(
            stored(&price, "1234.565"),
            Ok(SqlValue::Decimal { text: "1234.57".into(), cast: "numeric(6,2)".into() })
        );
        price.round = Round::Refuse;
        assert_eq!(reason(&price, "1.005"), Reason::InvalidDecimal);
        assert_eq!(reason(&price, "12345.6"), Reason::OutOfRange);
        assert_eq!(reason(&price, "0.04x"), Reason::InvalidDecimal);
        let fraction = rule("decimal(4,4)");
        assert!(stored(&fraction, "0.04").is_ok());
        assert_eq!(reason(&fraction, "1.5"), Reason::OutOfRange);
    }

    #[test]
    fn money_as_minor_units_is_an_integer_column_of_cents() {
        let cents = rule("bigint").minor_units(2).unwrap();
        assert_eq!(stored(&cents, "19.99"), Ok(SqlValue::Int(1_999)));
        assert_eq!(stored(&cents, "-0.005"), Ok(SqlValue::Int(0)));
        assert!(rule("text").minor_units(2).is_err());
    }

    #[test]
    fn dates_and_timestamps_are_checked_and_converted_to_utc() {
        let day = rule("date");
        assert_eq!(reason(&day, "1996-13-45"), Reason::InvalidDate);
        assert_eq!(
            stored(&day, "1996-02-29"),
            Ok(SqlValue::Date(NaiveDate::from_ymd_opt(1996, 2, 29).unwrap()))
        );
        assert_eq!(reason(&day, "1997-02-29"), Reason::InvalidDate);
        let mut at = rule("timestamp with time zone");
        let utc = |s: &str| {
            SqlValue::Timestamp(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
        };
        assert_eq!(stored(&at, "2026-11-24T10:40:00+01:00"), Ok(utc("2026-11-24 09:40:00")));
        assert_eq!(reason(&at, "24.11.2026 10:40"), Reason::InvalidTimestamp);
        at.formats = vec!["%d.%m.%Y %H:%M".into()];
        at.assume_offset = FixedOffset::east_opt(3_600);
        assert_eq!(stored(&at, "24.11.2026 10:40"), Ok(utc("2026-11-24 09:40:00")));
        assert_eq!(stored(&at, "2026-11-24 10:40:00"), Ok(utc("2026-11-24 09:40:00")));
    }

    #[test]
    fn text_booleans_and_nulls() {
        let code = rule("varchar(3)");
        assert_eq!(stored(&code, "ÉUR"), Ok(SqlValue::Text("ÉUR".into())));
        assert_eq!(reason(&code, "EURO"), Reason::TooLong);
        assert_eq!(reason(&code, "a\0b"), Reason::InvalidValue);
        assert_eq!(stored(&rule("boolean"), "Yes"), Ok(SqlValue::Bool(true)));
        assert_eq!(reason(&rule("boolean"), "maybe"), Reason::InvalidBoolean);
        let required = ColumnRule::baseline(&column("integer", false)).unwrap();
        assert_eq!(required.store(&Value::Null).unwrap_err().reason, Reason::MissingRequired);
        assert_eq!(rule("integer").store(&Value::Null), Ok(SqlValue::Null));
        assert_eq!(
            rule("integer").store(&Value::Text("x".into())).unwrap_err().reason,
            Reason::InvalidValue
        );
        assert!(ColumnRule::baseline(&column("bytea", true)).is_err());
    }
}
