//! Why a record is refused: narrow field errors, and the rejects they become.

use std::fmt;

/// A stable, machine-readable reason a record was refused.
///
/// The codes (`as_str`) are part of triglot's output format: they are stored
/// in `rejects.reason`, printed by `triglot ingest` and counted by the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// A required field is NULL (empty, or one of its declared NULL values).
    MissingRequired,
    /// Not an integer.
    InvalidNumber,
    /// Not a decimal amount of money, or sub-cent digits where the contract
    /// forbids rounding.
    InvalidMoney,
    /// Not a timestamp in an accepted format, or one without a UTC offset
    /// where the contract assumes none.
    InvalidTimestamp,
    /// A number outside the declared range.
    OutOfRange,
    /// A value outside the declared set (status, currency, …).
    UnknownValue,
    /// Text longer than the declared maximum, in characters.
    TooLong,
    /// Text that does not match the declared pattern.
    PatternMismatch,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A CSV row with more or fewer columns than the header (or the declared count).
    WrongColumnCount,
    /// A JSON line that is not a JSON object.
    InvalidJson,
    /// Two lines of one order with the same line number.
    DuplicateLineNo,
    /// A line whose order is not in the input.
    MissingOrder,
    /// An order with no lines.
    OrderWithoutLines,
    /// A row repeats its order's fields with different values.
    ConflictingOrderFields,
    /// Rows of one order that are not together in their file.
    SplitOrder,
    /// A key that a file must hold once appears again (an order id twice in
    /// an orders file).
    DuplicateKey,
    /// The declared order total differs from the sum of its lines.
    TotalMismatch,
    /// A sound record refused because another record of its order was.
    RejectedWithOrder,
    /// Not an exact decimal, or more decimal places than the column keeps
    /// where the contract forbids rounding.
    InvalidDecimal,
    /// Not a date in an accepted format, or no such day.
    InvalidDate,
    /// Not a boolean spelling.
    InvalidBoolean,
    /// A value of a kind the column does not hold, or one it cannot store
    /// (text with a NUL character).
    InvalidValue,
    /// A computed field divides by zero.
    DivisionByZero,
    /// A child record whose parent key is in no record of the parent's file.
    MissingParent,
    /// A sound record refused because another record of its family was
    /// (the parent, or a sibling).
    RejectedWithParent,
    /// A row repeats its parent's fields with different values.
    ConflictingParentFields,
    /// A natural key that names no row of the table it is looked up in.
    MissingReference,
    /// Rows of a key that reappear in a grouped file after rows of other keys.
    SplitKey,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 29] = [
        Reason::MissingRequired,
        Reason::InvalidNumber,
        Reason::InvalidMoney,
        Reason::InvalidTimestamp,
        Reason::OutOfRange,
        Reason::UnknownValue,
        Reason::TooLong,
        Reason::PatternMismatch,
        Reason::InvalidUtf8,
        Reason::WrongColumnCount,
        Reason::InvalidJson,
        Reason::DuplicateLineNo,
        Reason::MissingOrder,
        Reason::OrderWithoutLines,
        Reason::ConflictingOrderFields,
        Reason::SplitOrder,
        Reason::DuplicateKey,
        Reason::TotalMismatch,
        Reason::RejectedWithOrder,
        Reason::InvalidDecimal,
        Reason::InvalidDate,
        Reason::InvalidBoolean,
        Reason::InvalidValue,
        Reason::DivisionByZero,
        Reason::MissingParent,
        Reason::RejectedWithParent,
        Reason::ConflictingParentFields,
        Reason::MissingReference,
        Reason::SplitKey,
    ];

    /// The reason whose code is `code`.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MissingRequired => "missing_required",
            Reason::InvalidNumber => "invalid_number",
            Reason::InvalidMoney => "invalid_money",
            Reason::InvalidTimestamp => "invalid_timestamp",
            Reason::OutOfRange => "out_of_range",
            Reason::UnknownValue => "unknown_value",
            Reason::TooLong => "too_long",
            Reason::PatternMismatch => "pattern_mismatch",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::WrongColumnCount => "wrong_column_count",
            Reason::InvalidJson => "invalid_json",
            Reason::DuplicateLineNo => "duplicate_line_no",
            Reason::MissingOrder => "missing_order",
            Reason::OrderWithoutLines => "order_without_lines",
            Reason::ConflictingOrderFields => "conflicting_order_fields",
            Reason::SplitOrder => "split_order",
            Reason::DuplicateKey => "duplicate_key",
            Reason::TotalMismatch => "total_mismatch",
            Reason::RejectedWithOrder => "rejected_with_order",
            Reason::InvalidDecimal => "invalid_decimal",
            Reason::InvalidDate => "invalid_date",
            Reason::InvalidBoolean => "invalid_boolean",
            Reason::InvalidValue => "invalid_value",
            Reason::DivisionByZero => "division_by_zero",
            Reason::MissingParent => "missing_parent",
            Reason::RejectedWithParent => "rejected_with_parent",
            Reason::ConflictingParentFields => "conflicting_parent_fields",
            Reason::MissingReference => "missing_reference",
            Reason::SplitKey => "split_key",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one value; knows nothing of files or lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Why.
    pub reason: Reason,
    /// A human explanation, e.g. `-2 is below the minimum 1`.
    pub detail: String,
}

impl FieldError {
    /// A field error.
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self { reason, detail: detail.into() }
    }
}

/// A refused record with where it came from: the one place field errors get
/// their file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    /// The file it came from.
    pub source: String,
    /// Its line number in that file, from 1.
    pub line: u64,
    /// The target field that failed, if one did.
    pub field: Option<String>,
    /// The stable reason code.
    pub reason: String,
    /// A human explanation.
    pub detail: String,
    /// The record's text as read (invalid UTF-8 replaced by U+FFFD).
    pub raw: String,
}

/// The most bytes of a reject's detail or raw text that are stored: well
/// within a MySQL `TEXT` column (65,535 bytes).
pub const STORED_TEXT_BYTES: usize = 16 * 1024;

/// `text` as a reject stores it: NUL (which PostgreSQL cannot store) as
/// U+FFFD, and past [`STORED_TEXT_BYTES`] cut at a character boundary with
/// the cut marked by how many bytes were left out.
pub fn storable_text(text: &str) -> String {
    let text = if text.contains('\0') { text.replace('\0', "\u{FFFD}") } else { text.to_owned() };
    if text.len() <= STORED_TEXT_BYTES {
        return text;
    }
    let mut end = STORED_TEXT_BYTES - 64;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated: {} more bytes]", &text[..end], text.len() - end)
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.line)?;
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {} ({})", self.reason, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_has_no_nul_and_a_marked_bounded_length() {
        assert_eq!(storable_text("a\0b"), "a\u{FFFD}b");
        assert_eq!(storable_text("plain"), "plain");
        let long = "é".repeat(STORED_TEXT_BYTES);
        let stored = storable_text(&long);
        assert!(stored.len() <= STORED_TEXT_BYTES, "{}", stored.len());
        assert!(stored.ends_with("more bytes]"), "{}", &stored[stored.len() - 40..]);
        let kept = stored.split('…').next().unwrap();
        assert!(kept.chars().all(|c| c == 'é'));
        let left_out: usize = stored
            .rsplit("truncated: ")
            .next()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(kept.len() + left_out, long.len());
    }
}
