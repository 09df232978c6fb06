//! Round trips of every column of every model: NULLs, empty text, i64 bounds,
//! 4-byte unicode and microsecond timestamps read back equal on every backend.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;
#[allow(unused_imports)]
use triglot_pipeline::OrderBackend as _;

use diesel::prelude::*;
use triglot_pipeline::model::{
    CustomerQueries, NewCustomer, NewOrder, NewOrderLine, OrderLineQueries, OrderQueries,
    OrderStatus,
};
use triglot_pipeline::schema::{customers, orders};

use crate::harness::at;

const UNICODE: &str = "Zoë 🦀 漢字 𝄞 — Ünïcødé";

triglot::backend_test!(customer_columns_round_trip, |db| -> triglot::Result<()> {
    let full = NewCustomer {
        external_id: "C-full".into(),
        name: UNICODE.into(),
        email: Some("zoe@example.com".into()),
        country: Some("FR".into()),
        created_at: at(1000, 1, 1, 0, 0, 0, 1),
    };
    let nulls = NewCustomer {
        external_id: "C-nulls".into(),
        name: String::new(),
        email: None,
        country: None,
        created_at: at(9999, 12, 31, 23, 59, 59, 999_999),
    };
    let empty =
        NewCustomer { external_id: "C-empty".into(), email: Some(String::new()), ..nulls.clone() };
    let (a, b, c) = db.run("round trip", |conn| {
        diesel::insert_into(customers::table)
            .values(vec![full.clone(), nulls.clone(), empty.clone()])
            .execute(conn)?;
        Ok((
            conn.find_customer("C-full")?,
            conn.find_customer("C-nulls")?,
            conn.find_customer("C-empty")?,
        ))
    })?;
    for (stored, expected) in [(a, &full), (b, &nulls), (c, &empty)] {
        let stored = stored.expect("customer stored");
        assert_eq!(
            (&stored.external_id, &stored.name, &stored.email, &stored.country, stored.created_at),
            (
                &expected.external_id,
                &expected.name,
                &expected.email,
                &expected.country,
                expected.created_at
            )
        );
    }
    Ok(())
});

triglot::backend_test!(order_and_line_columns_round_trip, |db| -> triglot::Result<()> {
    let stored = db.run("round trip", |conn| {
        diesel::insert_into(customers::table)
            .values(crate::harness::customer("C1"))
            .execute(conn)?;
        let customer_id = conn.customer_ids(&["C1".to_owned()])?[0].1;
        let extremes = [
            ("O-max", i64::MAX, i64::MAX, OrderStatus::Refunded),
            ("O-min", 0, i64::MIN, OrderStatus::Pending),
        ];
        for (key, total, hash, status) in extremes {
            diesel::insert_into(orders::table)
                .values(NewOrder {
                    external_id: key.into(),
                    customer_id,
                    status,
                    currency: "JPY".into(),
                    total_cents: total,
                    placed_at: at(2026, 2, 28, 23, 59, 59, 999_999),
                    updated_at: at(1970, 1, 1, 0, 0, 0, 1),
                    source: UNICODE.into(),
                    content_hash: hash,
                })
                .execute(conn)?;
        }
        let max = conn.find_order("O-max")?.expect("stored");
        let min = conn.find_order("O-min")?.expect("stored");
        conn.insert_order_lines(vec![
            NewOrderLine {
                order_id: max.id,
                line_no: i32::MAX,
                sku: "𝄞".into(),
                quantity: i32::MAX,
                unit_price_cents: i64::MAX,
                discount_bp: Some(10_000),
                note: Some(UNICODE.into()),
            },
            NewOrderLine {
                order_id: max.id,
                line_no: 1,
                sku: "S".into(),
                quantity: 1,
                unit_price_cents: 0,
                discount_bp: None,
                note: None,
            },
            NewOrderLine {
                order_id: max.id,
                line_no: 2,
                sku: "S".into(),
                quantity: 1,
                unit_price_cents: 0,
                discount_bp: Some(0),
                note: Some(String::new()),
            },
        ])?;
        let lines = conn.lines_of_orders(&[max.id])?;
        Ok((max, min, lines))
    })?;
    let (max, min, lines) = stored;
    assert_eq!(
        (max.total_cents, max.content_hash, max.status),
        (i64::MAX, i64::MAX, OrderStatus::Refunded)
    );
    assert_eq!(
        (min.total_cents, min.content_hash, min.status),
        (0, i64::MIN, OrderStatus::Pending)
    );
    assert_eq!(max.placed_at, at(2026, 2, 28, 23, 59, 59, 999_999));
    assert_eq!(max.updated_at, at(1970, 1, 1, 0, 0, 0, 1));
    assert_eq!((max.source.as_str(), max.currency.as_str()), (UNICODE, "JPY"));

    let by_no: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.line_no,
                l.sku.as_str(),
                l.quantity,
                l.unit_price_cents,
                l.discount_bp,
                l.note.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        by_no,
        [
            (1, "S", 1, 0, None, None),
            (2, "S", 1, 0, Some(0), Some("")),
            (i32::MAX, "𝄞", i32::MAX, i64::MAX, Some(10_000), Some(UNICODE)),
        ]
    );
    Ok(())
});

triglot::backend_test!(a_days_orders_load_with_their_lines, |db| {
    use crate::harness::{at, order};
    let mut inside = order("O-in", "C1", 3);
    inside.placed_at = at(2026, 11, 20, 0, 0, 0, 0);
    let mut last = order("O-last", "C1", 1);
    last.placed_at = at(2026, 11, 20, 23, 59, 59, 999_999);
    let mut next_day = order("O-next", "C1", 2);
    next_day.placed_at = at(2026, 11, 21, 0, 0, 0, 0);
    triglot_pipeline::OrderWriter::new(db).write_batch(&[next_day, last, inside]).unwrap();

    let day = db
        .run("loading a day", |conn| {
            triglot_pipeline::model::orders_with_lines(
                conn,
                at(2026, 11, 20, 0, 0, 0, 0),
                at(2026, 11, 21, 0, 0, 0, 0),
            )
        })
        .unwrap();
    let shape: Vec<(&str, Vec<i32>)> = day
        .iter()
        .map(|(o, lines)| (o.external_id.as_str(), lines.iter().map(|l| l.line_no).collect()))
        .collect();
    assert_eq!(shape, [("O-in", vec![1, 2, 3]), ("O-last", vec![1])]);
    for (order, lines) in &day {
        assert_eq!(order.total_cents, lines.iter().map(|l| l.amount_cents()).sum::<i64>());
    }
});

triglot::backend_test!(bulk_path_and_decode_hot_path_round_trip_every_column, |db| {
    // 1,234 lines use every statement size of the fixed-batch bulk paths
    // (1,000, 100, 10 and 1 rows) and span several keyset pages.
    use crate::harness::order;
    triglot_pipeline::OrderWriter::new(db).write_batch(&[order("O-1", "C1", 1)]).unwrap();
    let order_id = db.run("finding the order", |c| c.find_order("O-1")).unwrap().unwrap().id;
    let rows: Vec<NewOrderLine> = (0..1_234)
        .map(|n: i32| NewOrderLine {
            order_id,
            line_no: n + 2,
            sku: if n % 3 == 0 { "𝄞".repeat(1 + n as usize % 17) } else { format!("S{n}") },
            quantity: if n == 7 { i32::MAX } else { n + 1 },
            unit_price_cents: if n == 8 { i64::MAX } else { i64::from(n) },
            discount_bp: (n % 4 != 0).then_some(n % 10_001),
            note: match n % 5 {
                0 => None,
                1 => Some(String::new()),
                _ => Some(UNICODE.repeat(n as usize % 3)),
            },
        })
        .collect();
    let inserted =
        db.write("bulk insert", |c| D::insert_lines(c, db.capabilities(), rows.clone())).unwrap();
    assert_eq!(inserted, rows.len());

    // The dialect's hot path, page by page, against diesel's generic decode.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = db.run("reading a page", |c| D::lines_after(c, after, 500)).unwrap();
        assert!(page.len() <= 500);
        let Some(last) = page.last() else { break };
        after = last.id;
        paged.extend(page);
    }
    let generic = db.run("reading lines", |c| c.lines_after(0, i64::MAX)).unwrap();
    assert_eq!(paged, generic);
    assert!(paged.windows(2).all(|w| w[0].id < w[1].id), "pages are in id order");

    let mut streamed = Vec::new();
    db.run("streaming lines", |c| D::for_each_line_after(c, 0, 10_000, &mut |l| streamed.push(l)))
        .unwrap();
    assert_eq!(streamed, generic);

    let stored: Vec<NewOrderLine> =
        paged.into_iter().filter(|l| l.line_no > 1).map(NewOrderLine::from).collect();
    assert_eq!(stored, rows);

    // The toolkit's generic bulk load (binary COPY built from diesel's own
    // INSERT on PostgreSQL) stores exactly what the fast path stored.
    let moved: Vec<NewOrderLine> =
        rows.iter().map(|r| NewOrderLine { line_no: r.line_no + 2_000_000, ..r.clone() }).collect();
    let writes = db.writes();
    let inserted = db
        .write("generic bulk insert", |c| {
            writes.bulk_insert(c, triglot_pipeline::schema::order_lines::table, moved.clone())
        })
        .unwrap();
    assert_eq!(inserted, moved.len());
    let again: Vec<NewOrderLine> = db
        .run("reading lines", |c| c.lines_after(0, i64::MAX))
        .unwrap()
        .into_iter()
        .filter(|l| l.line_no > 2_000_000)
        .map(NewOrderLine::from)
        .collect();
    assert_eq!(again, moved);
});
