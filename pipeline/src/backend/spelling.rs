//! The SQL spellings the quality report needs that differ between backends:
//! integer division, character length and the UTC day of a timestamp.
// Every backend's spellings are compiled; only those of triglot's backends are called.
#![allow(dead_code)]

/// SQLite's spellings.
pub(crate) mod sqlite {
    pub(crate) fn int_div(a: &str, b: &str) -> String {
        super::standard::int_div(a, b)
    }

    pub(crate) fn char_length(expr: &str) -> String {
        format!("length({expr})")
    }

    pub(crate) fn day_text(expr: &str) -> String {
        // Timestamps are stored as `YYYY-MM-DD HH:MM:SS…` text.
        format!("substr({expr}, 1, 10)")
    }
}

/// MySQL's and MariaDB's spellings.
pub(crate) mod mysql {
    pub(crate) fn int_div(a: &str, b: &str) -> String {
        format!("({a}) DIV ({b})")
    }

    pub(crate) fn char_length(expr: &str) -> String {
        super::standard::char_length(expr)
    }

    pub(crate) fn day_text(expr: &str) -> String {
        format!("DATE_FORMAT({expr}, '%Y-%m-%d')")
    }
}

/// PostgreSQL's spellings.
pub(crate) mod postgres {
    pub(crate) fn int_div(a: &str, b: &str) -> String {
        super::standard::int_div(a, b)
    }

    pub(crate) fn char_length(expr: &str) -> String {
        super::standard::char_length(expr)
    }

    pub(crate) fn day_text(expr: &str) -> String {
        format!("to_char({expr}, 'YYYY-MM-DD')")
    }
}

/// The standard spellings several backends share.
mod standard {
    pub(super) fn int_div(a: &str, b: &str) -> String {
        format!("({a}) / ({b})")
    }

    pub(super) fn char_length(expr: &str) -> String {
        format!("CHAR_LENGTH({expr})")
    }
}
