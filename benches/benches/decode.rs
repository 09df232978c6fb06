//! Row decoding: loading order lines into owned model structs, triglot (diesel)
//! beside rusqlite's hand-written loop over the same SQLite file and library.

// criterion_group! generates undocumented items.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use diesel::prelude::*;
use triglot::Database;
use triglot::model::OrderLine;
use triglot::schema::order_lines;
use triglot::sqlite::SqliteDialect;

fn raw_lines(conn: &rusqlite::Connection) -> Vec<OrderLine> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note FROM order_lines",
        )
        .unwrap();
    stmt.query_map([], |row| {
        Ok(OrderLine {
            id: row.get(0)?,
            order_id: row.get(1)?,
            line_no: row.get(2)?,
            sku: row.get(3)?,
            quantity: row.get(4)?,
            unit_price_cents: row.get(5)?,
            discount_bp: row.get(6)?,
            note: row.get(7)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode/sqlite");
    for rows in [1_000usize, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decode.db");
        let db = Database::<SqliteDialect>::open(&format!("sqlite://{}", path.display())).unwrap();
        db.migrate().unwrap();
        triglot_benches::fill(&db, rows / 4, 4).unwrap();
        let mut conn = db.get().unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();

        // Both sides must produce the same rows before either is timed.
        let ours: Vec<OrderLine> =
            order_lines::table.select(OrderLine::as_select()).load(&mut *conn).unwrap();
        assert_eq!(ours, raw_lines(&raw));
        assert_eq!(ours.len(), rows);

        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::new("triglot", rows), &rows, |b, _| {
            b.iter(|| {
                order_lines::table
                    .select(OrderLine::as_select())
                    .load::<OrderLine>(&mut *conn)
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("rusqlite", rows), &rows, |b, _| {
            b.iter(|| raw_lines(&raw))
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
