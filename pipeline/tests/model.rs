//! Round trips of every column of every model: NULLs, empty text, i64 bounds,
//! 4-byte unicode and microsecond timestamps read back equal on every backend.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;
#[allow(unused_imports)]
use triglot_pipeline::OrderBackend as _;

use diesel::prelude::*;
use triglot_pipeline::model::{
    CustomerQueries, IngestRunQueries, NewCustomer, NewIngestRun, NewOrder, NewOrderLine,
    NewReject, OrderLineQueries, OrderQueries, OrderStatus, RejectQueries, RunUpdate,
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

triglot::backend_test!(ingest_run_and_reject_columns_round_trip, |db| -> triglot::Result<()> {
    let started = at(2026, 11, 25, 8, 0, 0, 42);
    let caps = *db.capabilities();
    let run_id = db.write("start run", |conn| {
        D::insert_run(conn, &caps, NewIngestRun::start("a.csv b.csv", "builtin:orders", started))
    })?;
    let fresh = db.run("read run", |conn| conn.find_run(run_id))?;
    assert_eq!(
        (fresh.status.as_str(), fresh.finished_at, fresh.error.as_deref()),
        ("running", None, None)
    );
    assert_eq!(fresh.started_at, started);

    let update = RunUpdate {
        finished_at: Some(at(9999, 12, 31, 23, 59, 59, 999_999)),
        status: "failed".into(),
        records_read: i64::MAX,
        records_accepted: 0,
        records_rejected: 1,
        orders_inserted: 2,
        orders_updated: 3,
        orders_unchanged: 4,
        error: Some(UNICODE.into()),
        retries: 5,
    };
    let run = db.write("finish run", |conn| {
        conn.update_run(run_id, update.clone())?;
        conn.find_run(run_id)
    })?;
    assert_eq!(
        (
            run.finished_at,
            run.status.as_str(),
            run.records_read,
            run.records_accepted,
            run.records_rejected,
            run.orders_inserted,
            run.orders_updated,
            run.orders_unchanged,
            run.error.as_deref(),
            run.retries
        ),
        (update.finished_at, "failed", i64::MAX, 0, 1, 2, 3, 4, Some(UNICODE), 5)
    );
    assert_eq!(
        (run.id, run.source.as_str(), run.contract.as_str(), run.started_at),
        (run_id, "a.csv b.csv", "builtin:orders", started)
    );

    let rejects = vec![
        NewReject {
            run_id,
            source: "a.csv".into(),
            line: i64::MAX,
            field: Some("quantity".into()),
            reason: "negative_quantity".into(),
            detail: "quantity -1 is not > 0".into(),
            raw: format!("O1,{UNICODE},-1"),
            created_at: started,
        },
        NewReject {
            run_id,
            source: "a.csv".into(),
            line: 1,
            field: None,
            reason: "wrong_column_count".into(),
            detail: String::new(),
            raw: String::new(),
            created_at: started,
        },
    ];
    let stored = db.write("store rejects", |conn| {
        conn.insert_rejects(rejects.clone())?;
        conn.rejects_of_run(run_id)
    })?;
    assert!(stored.iter().all(|r| r.run_id == run_id && r.source == "a.csv"), "{stored:?}");
    let got: Vec<_> = stored
        .iter()
        .map(|r| {
            (
                r.line,
                r.field.as_deref(),
                r.reason.as_str(),
                r.detail.as_str(),
                r.raw.as_str(),
                r.created_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, None, "wrong_column_count", "", "", started),
            (
                i64::MAX,
                Some("quantity"),
                "negative_quantity",
                "quantity -1 is not > 0",
                rejects[0].raw.as_str(),
                started
            ),
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
