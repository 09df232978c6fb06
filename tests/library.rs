//! The toolkit tests' own schema, a small library (`tests/migrations/`), its
//! `table!`s and row types: no test of the toolkit touches the order pipeline.

#![allow(dead_code)]

use chrono::NaiveDateTime;
use diesel::prelude::*;
use triglot::sql::UtcValue;

/// The library's migrations, one folder per backend.
pub(crate) static MIGRATIONS: triglot::Migrations = triglot::migrations!("tests/migrations");

diesel::table! {
    authors (id) {
        id -> BigInt,
        name -> Text,
        country -> Nullable<Text>,
    }
}

diesel::table! {
    books (id) {
        id -> BigInt,
        isbn -> Text,
        title -> Text,
        author_id -> BigInt,
        pages -> Integer,
        in_stock -> Bool,
        price -> Nullable<Numeric>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use triglot::sql::UtcDateTime;

    loans (id) {
        id -> BigInt,
        book_id -> BigInt,
        borrower -> Text,
        borrowed_at -> UtcDateTime,
        returned_at -> Nullable<UtcDateTime>,
    }
}

diesel::joinable!(books -> authors (author_id));
diesel::joinable!(loans -> books (book_id));
diesel::allow_tables_to_appear_in_same_query!(authors, books, loans);

/// An author to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = authors, treat_none_as_default_value = false)]
pub(crate) struct NewAuthor {
    pub(crate) name: String,
    pub(crate) country: Option<String>,
}

/// A book to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = books, treat_none_as_default_value = false)]
pub(crate) struct NewBook {
    pub(crate) isbn: String,
    pub(crate) title: String,
    pub(crate) author_id: i64,
    pub(crate) pages: i32,
    pub(crate) in_stock: bool,
}

/// A loan to insert; its timestamps bind through `UtcValue`.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = loans, treat_none_as_default_value = false)]
pub(crate) struct NewLoan {
    pub(crate) book_id: i64,
    pub(crate) borrower: String,
    #[diesel(serialize_as = UtcValue)]
    pub(crate) borrowed_at: NaiveDateTime,
    #[diesel(serialize_as = triglot::sql::NullableUtcValue)]
    pub(crate) returned_at: Option<NaiveDateTime>,
}

/// A book of `pages` pages by author 1, its ISBN made from `n`.
pub(crate) fn book(n: usize, pages: i32) -> NewBook {
    NewBook {
        isbn: format!("978{n:010}"),
        title: format!("Volume {n} — “ü”"),
        author_id: 1,
        pages,
        in_stock: n.is_multiple_of(2),
    }
}

/// A UTC time with microseconds.
pub(crate) fn at(day: u32, micros: u32) -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 12, day)
        .and_then(|d| d.and_hms_micro_opt(10, 30, 0, micros))
        .expect("a valid time")
}
