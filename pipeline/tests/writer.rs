//! The order writer: one transaction per batch, upsert by external id, lines
//! replaced only for changed orders, nothing written twice.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use triglot::Error;
use triglot_pipeline::model::{OrderLineQueries, OrderQueries};
use triglot_pipeline::{OrderWriter, WriteSummary};

use crate::harness::order;

triglot::backend_test!(writing_the_same_batch_twice_changes_nothing, |db| {
    let batch = [order("O1", "C1", 3), order("O2", "C1", 1), order("O3", "C2", 2)];
    let writer = OrderWriter::new(db);
    let first = writer.write_batch(&batch).unwrap();
    assert_eq!(
        first,
        WriteSummary {
            orders_inserted: 3,
            orders_updated: 0,
            orders_unchanged: 0,
            lines_written: 6,
            retries: 0
        }
    );
    let lines_before = db.run("lines", |conn| conn.lines_of_orders(&[1, 2, 3, 4, 5, 6])).unwrap();

    let second = writer.write_batch(&batch).unwrap();
    assert_eq!(
        second,
        WriteSummary {
            orders_inserted: 0,
            orders_updated: 0,
            orders_unchanged: 3,
            lines_written: 0,
            retries: 0
        }
    );
    let lines_after = db.run("lines", |conn| conn.lines_of_orders(&[1, 2, 3, 4, 5, 6])).unwrap();
    assert_eq!(lines_before, lines_after, "ids and values unchanged");
    assert_eq!(db.run("count", |conn| conn.count_orders()).unwrap(), 3);
});

triglot::backend_test!(a_changed_order_replaces_its_lines, |db| {
    let writer = OrderWriter::new(db);
    writer.write_batch(&[order("O1", "C1", 3)]).unwrap();
    let mut changed = order("O1", "C1", 1);
    changed.lines[0].note = None;
    let summary = writer.write_batch(&[changed.clone()]).unwrap();
    assert_eq!((summary.orders_updated, summary.lines_written), (1, 1));

    let stored = db.run("read", |conn| conn.find_order("O1")).unwrap().unwrap();
    assert_eq!(stored.total_cents, changed.total_cents);
    let lines = db.run("lines", |conn| conn.lines_of_orders(&[stored.id])).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].note, None);
    assert_eq!(db.run("count", |conn| conn.count_order_lines()).unwrap(), 1);
});

triglot::backend_test!(a_failing_batch_leaves_earlier_batches_and_no_partial_order, |db| {
    let writer = OrderWriter::new(db);
    writer.write_batch(&[order("O0", "C0", 2)]).unwrap();

    let mut bad = order("O2", "C1", 2);
    bad.lines[1].quantity = 0;
    let err = writer.write_batch(&[order("O1", "C1", 2), bad]).unwrap_err();
    assert!(matches!(err, Error::CheckViolation(_)), "{err:?}");
    assert!(err.to_string().contains("inserting order lines"), "{err}");

    // The failed batch is gone whole; the earlier one is intact.
    assert_eq!(db.run("count", |conn| conn.count_orders()).unwrap(), 1);
    assert_eq!(db.run("count", |conn| conn.count_order_lines()).unwrap(), 2);
    assert!(db.run("read", |conn| conn.find_order("O1")).unwrap().is_none());
});

triglot::backend_test!(the_last_record_of_a_key_in_a_batch_wins, |db| {
    let mut later = order("O1", "C1", 1);
    later.total_cents += 1;
    let summary = OrderWriter::new(db).write_batch(&[order("O1", "C1", 3), later.clone()]).unwrap();
    assert_eq!((summary.orders_inserted, summary.lines_written), (1, 1));
    let stored = db.run("read", |conn| conn.find_order("O1")).unwrap().unwrap();
    assert_eq!(stored.total_cents, later.total_cents);
});

triglot::backend_test!(a_batch_larger_than_one_statement_is_split, |db| {
    // 2,000 orders of 3 lines: more lines than one SQLite statement can bind.
    let batch: Vec<_> =
        (0..2_000).map(|n| order(&format!("O{n}"), &format!("C{}", n % 50), 3)).collect();
    let summary = OrderWriter::new(db).write_batch(&batch).unwrap();
    assert_eq!((summary.orders_inserted, summary.lines_written), (2_000, 6_000));
    assert_eq!(db.run("count", |conn| conn.count_order_lines()).unwrap(), 6_000);
});
