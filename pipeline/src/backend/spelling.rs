//! The SQL spellings the quality report needs that differ between backends
//! (integer division, character length, the UTC day of a timestamp, text
//! literals), one constant per backend.

/// How one backend spells what the report's SQL needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spelling {
    /// `a / b` on 64-bit integers, truncating.
    pub(crate) int_div: fn(&str, &str) -> String,
    /// The length of text in characters.
    pub(crate) char_length: fn(&str) -> String,
    /// The UTC day of a timestamp as `YYYY-MM-DD` text.
    pub(crate) day_text: fn(&str) -> String,
    /// Text as a quoted SQL literal.
    pub(crate) text_literal: fn(&str) -> String,
}

// Every backend's spelling is compiled; only those of triglot's backends are read.
#[allow(dead_code)]
pub(crate) const SQLITE: Spelling = Spelling {
    int_div: standard_int_div,
    char_length: |e| format!("length({e})"),
    // Timestamps are stored as `YYYY-MM-DD HH:MM:SS…` text.
    day_text: |e| format!("substr({e}, 1, 10)"),
    text_literal: standard_text_literal,
};

#[allow(dead_code)]
pub(crate) const MYSQL: Spelling = Spelling {
    int_div: |a, b| format!("({a}) DIV ({b})"),
    char_length: standard_char_length,
    day_text: |e| format!("DATE_FORMAT({e}, '%Y-%m-%d')"),
    // A backslash escapes in MySQL's literals (unless NO_BACKSLASH_ESCAPES).
    text_literal: |s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
};

#[allow(dead_code)]
pub(crate) const POSTGRES: Spelling = Spelling {
    int_div: standard_int_div,
    char_length: standard_char_length,
    day_text: |e| format!("to_char({e}, 'YYYY-MM-DD')"),
    text_literal: standard_text_literal,
};

#[allow(dead_code)]
fn standard_int_div(a: &str, b: &str) -> String {
    format!("({a}) / ({b})")
}

#[allow(dead_code)]
fn standard_text_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[allow(dead_code)]
fn standard_char_length(expr: &str) -> String {
    format!("CHAR_LENGTH({expr})")
}
