//! The inventory's own benches: one body, run on every backend this build
//! includes, each on a fresh database built from the project's migrations.
//!
//! `cargo bench -p inventory --features mysql,postgres`

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use chrono::DateTime;
use criterion::{Criterion, criterion_group, criterion_main};
use inventory::schema::{items, stock_levels, stock_movements};
use inventory::{MIGRATIONS, Movement, NewItem, StockLevel};

/// One warehouse and `items` items with ids 1 to `items` (a fresh
/// database), untimed.
fn seed<D>(db: &triglot::Database<D>, items: i32)
where
    D: triglot::write::BulkInsert<items::table, NewItem>,
{
    use diesel::connection::SimpleConnection;
    let writes = db.writes();
    let rows: Vec<NewItem> = (0..items)
        .map(|n| NewItem { sku: format!("SKU-{n}"), name: format!("Item {n}"), unit_grams: 1 + n })
        .collect();
    db.write("seeding", |conn| {
        conn.batch_execute("INSERT INTO warehouses (code, city) VALUES ('LYS', 'Lyon')")?;
        writes.bulk_insert(conn, items::table, rows)
    })
    .expect("seeding");
}

fn load_movements(c: &mut Criterion) {
    triglot::backend_bench!(c, "load_movements", |db, b| {
        seed(db, 200);
        let writes = db.writes();
        let at = DateTime::UNIX_EPOCH.naive_utc();
        // Timed as `load_movements/<backend>`: 5,000 movements through the
        // backend's bulk path (COPY on PostgreSQL) in one transaction.
        b.iter(|| {
            let batch: Vec<Movement> = (0..5_000)
                .map(|n| Movement {
                    warehouse_id: 1,
                    item_id: 1 + n % 200,
                    delta: n - 2_500,
                    moved_at: at,
                    confirmed_at: None,
                })
                .collect();
            db.write("loading movements", |conn| {
                writes.bulk_insert(conn, stock_movements::table, batch)
            })
            .expect("load")
        });
    });
}

fn upsert_levels(c: &mut Criterion) {
    triglot::backend_bench!(c, "upsert_levels", |db, b| {
        seed(db, 1_000);
        let writes = db.writes();
        let at = DateTime::UNIX_EPOCH.naive_utc();
        // Timed as `upsert_levels/<backend>`: 1,000 stock levels counted
        // again, each an insert-or-update by (warehouse, item).
        let mut round = 0;
        b.iter(|| {
            round += 1;
            let levels: Vec<StockLevel> = (1..=1_000)
                .map(|item_id| StockLevel {
                    warehouse_id: 1,
                    item_id,
                    quantity: round,
                    updated_at: at,
                })
                .collect();
            db.write("counting stock", |conn| {
                writes.upsert(
                    conn,
                    stock_levels::table,
                    levels,
                    (stock_levels::warehouse_id, stock_levels::item_id),
                    (stock_levels::quantity, stock_levels::updated_at),
                )
            })
            .expect("upsert")
        });
    });
}

criterion_group!(stock, load_movements, upsert_levels);
criterion_main!(stock);
