//! What each backend's catalog says about a column, read the same way: the
//! limits contracts take their baseline rules from.

use crate::library::MIGRATIONS;

triglot::backend_test!(each_columns_limits_are_read_from_the_catalog, |db| {
    let schema = db.introspect().unwrap();
    let column = |table: &str, name: &str| {
        schema.tables[table].column(name).unwrap_or_else(|| panic!("{table}.{name}")).clone()
    };
    assert_eq!(column("books", "title").limits.max_length, Some(200), "on {}", D::NAME);
    assert_eq!(column("books", "isbn").limits.max_length, Some(13));
    assert_eq!(column("authors", "country").limits.max_length, Some(2));
    let price = column("books", "price").limits;
    assert_eq!((price.precision, price.scale), (Some(10), Some(2)), "on {}", D::NAME);
    // SQLite's INTEGER holds 64 bits whatever it is called.
    let pages = if D::KEY == "sqlite" { 8 } else { 4 };
    assert_eq!(column("books", "pages").limits.integer_bytes, Some(pages));
    assert_eq!(column("books", "author_id").limits.integer_bytes, Some(8));
    assert_eq!(column("books", "in_stock").class, triglot::introspect::TypeClass::Boolean);
    assert!(column("loans", "returned_at").nullable);
});
