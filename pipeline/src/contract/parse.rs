//! Parsing what contracts and input share: UTC offsets, and the years
//! every backend stores.

use chrono::{FixedOffset, NaiveDate};

use super::reject::{FieldError, Reason};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse() {
        assert_eq!(offset("+05:30").map(|o| o.local_minus_utc()), Some(19_800));
        assert_eq!(offset("-0100").map(|o| o.local_minus_utc()), Some(-3_600));
        assert_eq!(offset("Z").map(|o| o.local_minus_utc()), Some(0));
        assert_eq!(offset("05:30"), None);
    }
}
