//! The report as a terminal table or as one self-contained HTML page (its
//! JSON form is the `Report` serialized).

pub use self::html::html;
pub use self::text::text;

pub(crate) mod format;
pub(crate) mod html;
pub(crate) mod text;
