//! Parsing normalized text into typed values: integers, money, percentages, timestamps.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

use super::reject::{FieldError, Reason};

/// How decimal text with more digits than cents (or basis points) allow is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// To the nearest, ties to even (banker's rounding): 0.125 → 0.12, 0.135 → 0.14.
    HalfEven,
    /// To the nearest, ties away from zero: 0.125 → 0.13.
    HalfUp,
    /// Refuse the value.
    Reject,
}

impl Rounding {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "half_even" => Rounding::HalfEven,
            "half_up" => Rounding::HalfUp,
            "reject" => Rounding::Reject,
            _ => return None,
        })
    }
}

/// A whole number.
pub(crate) fn integer(text: &str) -> Result<i64, FieldError> {
    text.parse::<i64>().map_err(|_| {
        FieldError::new(Reason::InvalidNumber, format!("{text:?} is not a whole number"))
    })
}

/// Decimal text scaled by 10^`places` to an integer, rounded per `rounding`.
///
/// Accepts an optional sign, digits, and one `.` with digits after it
/// (`12`, `-0.5`, `1234.567`). `reason` is what a malformed value is refused as.
pub(crate) fn decimal(
    text: &str,
    places: u32,
    rounding: Rounding,
    reason: Reason,
) -> Result<i64, FieldError> {
    let bad = || FieldError::new(reason, format!("{text:?} is not a decimal number"));
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let too_big = || FieldError::new(Reason::OutOfRange, format!("{text} is too large"));
    let mut scaled: i128 = 0;
    for b in whole.bytes() {
        scaled = scaled
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(b - b'0')))
            .ok_or_else(too_big)?;
    }
    let kept = fraction.len().min(places as usize);
    for i in 0..places as usize {
        let digit = fraction.as_bytes().get(i).map_or(0, |b| i128::from(b - b'0'));
        scaled = scaled.checked_mul(10).and_then(|v| v.checked_add(digit)).ok_or_else(too_big)?;
    }
    let rest = &fraction[kept..];
    if rest.bytes().any(|b| b != b'0') {
        let first = rest.as_bytes()[0] - b'0';
        let beyond_half = rest.bytes().skip(1).any(|b| b != b'0');
        let round_up = match rounding {
            Rounding::Reject => {
                return Err(FieldError::new(
                    reason,
                    format!(
                        "{text} has more than {places} decimals and the contract does not round"
                    ),
                ));
            }
            Rounding::HalfUp => first >= 5,
            Rounding::HalfEven => first > 5 || first == 5 && (beyond_half || scaled % 2 == 1),
        };
        if round_up {
            scaled += 1;
        }
    }
    let signed = if negative { -scaled } else { scaled };
    i64::try_from(signed).map_err(|_| too_big())
}

/// Parses `+HH:MM`, `-HH:MM`, `+HHMM` or `Z`.
pub(crate) fn offset(text: &str) -> Option<FixedOffset> {
    if text == "Z" || text == "z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3_600 + minutes * 60))
}

/// The years every backend stores in its date and time columns (MySQL's
/// `DATETIME` and `DATE` hold 1000 to 9999).
pub(crate) const STORED_YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// `day` if its year is one of [`STORED_YEARS`]; otherwise `out_of_range`
/// for `text`.
pub(crate) fn stored_day(day: NaiveDate, text: &str) -> Result<NaiveDate, FieldError> {
    if STORED_YEARS.contains(&chrono::Datelike::year(&day)) {
        return Ok(day);
    }
    Err(FieldError::new(
        Reason::OutOfRange,
        format!("{text:?} is outside the years 1000 to 9999 (UTC) that every backend stores"),
    ))
}

/// A timestamp converted to UTC: RFC 3339 first, then each of `formats`
/// (with an offset, or without one when `assume` gives it); its UTC year
/// one of [`STORED_YEARS`].
pub(crate) fn timestamp(
    text: &str,
    formats: &[String],
    assume: Option<FixedOffset>,
) -> Result<NaiveDateTime, FieldError> {
    let t = any_timestamp(text, formats, assume)?;
    stored_day(t.date(), text)?;
    Ok(t)
}

fn any_timestamp(
    text: &str,
    formats: &[String],
    assume: Option<FixedOffset>,
) -> Result<NaiveDateTime, FieldError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.naive_utc());
    }
    for format in formats {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Ok(t.naive_utc());
        }
        let naive = NaiveDateTime::parse_from_str(text, format).ok().or_else(|| {
            NaiveDate::parse_from_str(text, format).ok().and_then(|d| d.and_hms_opt(0, 0, 0))
        });
        if let Some(naive) = naive {
            return match assume {
                // At chrono's limits the shift leaves its range.
                Some(offset) => naive.checked_sub_offset(offset).ok_or_else(|| {
                    FieldError::new(Reason::OutOfRange, format!("{text:?} is out of range"))
                }),
                None => Err(FieldError::new(
                    Reason::InvalidTimestamp,
                    format!("{text:?} has no UTC offset and the contract assumes none"),
                )),
            };
        }
    }
    let accepted = if formats.is_empty() {
        "RFC 3339 with an offset".to_owned()
    } else {
        format!("RFC 3339 or {}", formats.join(", "))
    };
    Err(FieldError::new(
        Reason::InvalidTimestamp,
        format!("{text:?} is not a timestamp ({accepted})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(text: &str, rounding: Rounding) -> Result<i64, FieldError> {
        decimal(text, 2, rounding, Reason::InvalidMoney)
    }

    #[test]
    fn money_rounds_by_the_stated_rule() {
        assert_eq!(cents("12.34", Rounding::HalfEven), Ok(1_234));
        assert_eq!(cents("12", Rounding::HalfEven), Ok(1_200));
        assert_eq!(cents(".5", Rounding::HalfEven), Ok(50));
        assert_eq!(cents("-0.99", Rounding::HalfEven), Ok(-99));
        assert_eq!(cents("0.125", Rounding::HalfEven), Ok(12));
        assert_eq!(cents("0.135", Rounding::HalfEven), Ok(14));
        assert_eq!(cents("0.1251", Rounding::HalfEven), Ok(13));
        assert_eq!(cents("0.125", Rounding::HalfUp), Ok(13));
        assert_eq!(cents("0.124", Rounding::HalfUp), Ok(12));
        assert_eq!(cents("1.230", Rounding::Reject), Ok(123));
        assert_eq!(cents("1.234", Rounding::Reject).unwrap_err().reason, Reason::InvalidMoney);
        assert_eq!(cents("12,34", Rounding::HalfEven).unwrap_err().reason, Reason::InvalidMoney);
        assert_eq!(cents("", Rounding::HalfEven).unwrap_err().reason, Reason::InvalidMoney);
        assert_eq!(
            cents("99999999999999999999", Rounding::HalfEven).unwrap_err().reason,
            Reason::OutOfRange
        );
    }

    #[test]
    fn times_at_chronos_limits_or_past_9999_are_out_of_range_not_a_panic() {
        let formats = ["%Y-%m-%d %H:%M:%S".to_owned()];
        let west = FixedOffset::west_opt(14 * 3_600);
        let east = FixedOffset::east_opt(14 * 3_600);
        for (text, assume) in [
            ("+262142-12-31 23:59:59", west),
            ("-262143-01-01 00:00:00", east),
            ("9999-12-31 23:59:59", west),
            ("1000-01-01 00:00:00", east),
        ] {
            let err = timestamp(text, &formats, assume).expect_err(text);
            assert_eq!(err.reason, Reason::OutOfRange, "{text}: {}", err.detail);
        }
        assert!(timestamp("9999-12-31 23:59:59", &formats, east).is_ok());
        let signed = timestamp("+262142-12-31T23:59:59-14:00", &formats, None);
        assert_eq!(signed.map_err(|e| e.reason), Err(Reason::InvalidTimestamp));
    }

    #[test]
    fn timestamps_become_utc() {
        let utc = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        assert_eq!(
            timestamp("2026-11-20T10:30:00.123456+01:00", &[], None),
            Ok(utc("2026-11-20 09:30:00.123456"))
        );
        assert_eq!(timestamp("2026-11-20T10:30:00Z", &[], None), Ok(utc("2026-11-20 10:30:00")));
        let formats = vec!["%d/%m/%Y %H:%M".to_owned()];
        assert_eq!(
            timestamp("20/11/2026 10:30", &formats, offset("+02:00")),
            Ok(utc("2026-11-20 08:30:00"))
        );
        assert_eq!(
            timestamp("20/11/2026 10:30", &formats, None).unwrap_err().reason,
            Reason::InvalidTimestamp
        );
        assert_eq!(
            timestamp("2026-13-45T00:00:00Z", &[], None).unwrap_err().reason,
            Reason::InvalidTimestamp
        );
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(offset("+05:30").map(|o| o.local_minus_utc()), Some(19_800));
        assert_eq!(offset("-0100").map(|o| o.local_minus_utc()), Some(-3_600));
        assert_eq!(offset("Z").map(|o| o.local_minus_utc()), Some(0));
        assert_eq!(offset("05:30"), None);
    }
}
