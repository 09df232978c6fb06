//! The inventory's own tests: one body, run on every backend this build
//! includes, each in a fresh database built from the project's migrations.

use chrono::NaiveDate;
use diesel::prelude::*;
use inventory::schema::{items, stock_levels, stock_movements, warehouses};
use inventory::{MIGRATIONS, Movement, NewItem, StockLevel};

fn noon(day: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, day).unwrap().and_hms_micro_opt(12, 0, 0, 250).unwrap()
}

// `fixtures("warehouses")` runs `fixtures/<backend>/warehouses.sql` first.
triglot::backend_test!(
    receiving_stock_twice_keeps_one_level_per_item,
    fixtures("warehouses"),
    |db| -> triglot::Result<()> {
        // `db` is a `&Database<D>` of its own, built from MIGRATIONS, dropped after the test.
        let writes = db.writes();
        let bolt = NewItem { sku: "BOLT-M6".into(), name: "Bolt M6".into(), unit_grams: 4 };
        let item = db
            .write("adding an item", |conn| writes.insert_returning_id(conn, items::table, bolt))?;

        // Upsert by (warehouse, item): the second count replaces the first.
        for (quantity, day) in [(10, 1), (25, 2)] {
            let level =
                StockLevel { warehouse_id: 1, item_id: item, quantity, updated_at: noon(day) };
            db.write("counting stock", |conn| {
                writes.upsert(
                    conn,
                    stock_levels::table,
                    vec![level],
                    (stock_levels::warehouse_id, stock_levels::item_id),
                    (stock_levels::quantity, stock_levels::updated_at),
                )
            })?;
        }

        // A query of the test's own, in plain diesel: it is compiled against each
        // backend's connection, so no trait bounds are needed.
        let levels: Vec<(String, String, i64)> = db.run("reading levels", |conn| {
            stock_levels::table
                .inner_join(items::table)
                .inner_join(warehouses::table)
                .select((warehouses::code, items::sku, stock_levels::quantity))
                .load(conn)
        })?;
        assert_eq!(
            levels,
            [("LYS".to_string(), "BOLT-M6".to_string(), 25)],
            "on {}",
            db.backend_name()
        );
        Ok(())
    }
);

triglot::backend_test!(
    movements_keep_an_unconfirmed_time_as_null,
    fixtures("warehouses"),
    |db| -> triglot::Result<()> {
        let writes = db.writes();
        let screw = NewItem { sku: "SCREW-4".into(), name: "Screw 4 mm".into(), unit_grams: 2 };
        let item = db.write("adding an item", |conn| {
            writes.insert_returning_id(conn, items::table, screw)
        })?;
        let moved = |delta: i64, confirmed| Movement {
            warehouse_id: 2,
            item_id: item,
            delta,
            moved_at: noon(3),
            confirmed_at: confirmed,
        };
        let rows = vec![moved(40, Some(noon(4))), moved(-15, None)];
        db.write("recording movements", |conn| {
            writes.bulk_insert(conn, stock_movements::table, rows)
        })?;

        let confirmed: Vec<(i64, Option<chrono::NaiveDateTime>)> =
            db.run("reading movements", |conn| {
                stock_movements::table
                    .order(stock_movements::id)
                    .select((stock_movements::delta, stock_movements::confirmed_at))
                    .load(conn)
            })?;
        assert_eq!(confirmed, [(40, Some(noon(4))), (-15, None)]);

        // A movement of an item that does not exist is refused by the foreign key.
        let ghost = Movement { item_id: item + 1_000, ..moved(1, None) };
        let err = db
            .write("recording a ghost", |conn| {
                writes.bulk_insert(conn, stock_movements::table, vec![ghost])
            })
            .unwrap_err();
        assert!(
            matches!(err, triglot::Error::ForeignKeyViolation(_)),
            "on {}: {err}",
            db.backend_name()
        );
        Ok(())
    }
);
