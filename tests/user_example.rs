//! A user's own test: one body, run on every backend this build includes.

use chrono::NaiveDate;
use diesel::prelude::*;
use triglot::model::{NewCustomer, OrderStatus};
use triglot::schema::orders;
use triglot::{LineRecord, OrderRecord, OrderWriter};

fn order(id: &str, unit_price_cents: i64) -> OrderRecord {
    let at = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap().and_hms_opt(9, 30, 0).unwrap();
    OrderRecord {
        customer: NewCustomer {
            external_id: "ACME".into(),
            name: "Acme Corp".into(),
            email: None,
            country: Some("US".into()),
            created_at: at,
        },
        external_id: id.into(),
        status: OrderStatus::Paid,
        currency: "USD".into(),
        total_cents: 2 * unit_price_cents,
        placed_at: at,
        updated_at: at,
        source: "example".into(),
        lines: vec![LineRecord {
            line_no: 1,
            sku: "WIDGET".into(),
            quantity: 2,
            unit_price_cents,
            discount_bp: None,
            note: None,
        }],
    }
}

triglot::backend_test!(big_orders_are_found_on_every_backend, |db| -> triglot::Result<()> {
    // `db` is a `&Database<D>` of its own, migrated, dropped after the test.
    OrderWriter::new(db).write_batch(&[order("A-1", 999), order("A-2", 25_000)])?;

    // A query of the test's own, in plain diesel: it is compiled against each
    // backend's connection, so no trait bounds are needed.
    let big: Vec<String> = db.run("finding big orders", |conn| {
        orders::table.filter(orders::total_cents.ge(10_000)).select(orders::external_id).load(conn)
    })?;
    assert_eq!(big, ["A-2"], "on {}", db.backend_name());
    Ok(())
});
