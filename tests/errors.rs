//! Each constraint violation maps to its `Error` variant, with a message that
//! says what failed and where, on every backend.

use diesel::prelude::*;
use triglot::Error;
use triglot::model::{CustomerQueries, NewOrderLine, OrderLineQueries, OrderQueries};
use triglot::schema::customers;

use crate::harness::customer;

fn one_order<C>(conn: &mut C) -> diesel::QueryResult<i64>
where
    C: OrderQueries,
{
    Ok(conn.order_fingerprints(&["O1".to_owned()])?[0].1)
}

triglot::backend_test!(duplicate_external_id_is_a_unique_violation, |db| {
    let err = db
        .write("inserting customers", |conn| {
            diesel::insert_into(customers::table)
                .values(vec![customer("C1"), customer("C1")])
                .execute(conn)
        })
        .unwrap_err();
    assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(D::NAME) && text.contains("inserting customers"), "{text}");
    // The failed statement left nothing behind.
    assert_eq!(db.run("count", |conn| conn.count_customers()).unwrap(), 0);
});

triglot::backend_test!(line_of_a_missing_order_is_a_foreign_key_violation, |db| {
    let err = db
        .write("inserting order lines", |conn| {
            conn.insert_order_lines(vec![NewOrderLine {
                order_id: 424_242,
                line_no: 1,
                sku: "S".into(),
                quantity: 1,
                unit_price_cents: 1,
                discount_bp: None,
                note: None,
            }])
        })
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation(_)), "{err:?}");
});

triglot::backend_test!(null_in_a_required_column_is_a_not_null_violation, |db| {
    let err = db
        .write("inserting a customer", |conn| {
            diesel::sql_query(
                "INSERT INTO customers (external_id, name, created_at) VALUES ('C1', NULL, '2026-01-01 00:00:00')",
            )
            .execute(conn)
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotNullViolation(_)), "{err:?}");
});

triglot::backend_test!(requires(check_constraints) zero_quantity_is_a_check_violation, |db| {
    triglot::OrderWriter::new(db).write_batch(&[crate::harness::order("O1", "C1", 1)]).unwrap();
    let err = db
        .write("inserting order lines", |conn| {
            let order_id = one_order(conn)?;
            conn.insert_order_lines(vec![NewOrderLine {
                order_id,
                line_no: 2,
                sku: "S".into(),
                quantity: 0,
                unit_price_cents: 1,
                discount_bp: None,
                note: None,
            }])
        })
        .unwrap_err();
    assert!(matches!(err, Error::CheckViolation(_)), "{err:?}");
});

triglot::backend_test!(text_over_its_declared_length_is_refused, |db| {
    let mut long = customer("C1");
    long.country = Some("DEU".into());
    let err = db
        .write("inserting a customer", |conn| {
            diesel::insert_into(customers::table).values(long).execute(conn)
        })
        .unwrap_err();
    // SQLite and MariaDB check the length with CHECK; strict MySQL and
    // PostgreSQL refuse it as too long for VARCHAR(2).
    assert!(matches!(err, Error::CheckViolation(_) | Error::Query(_)), "{err:?}");
    assert_eq!(db.run("count", |conn| conn.count_customers()).unwrap(), 0);
});
