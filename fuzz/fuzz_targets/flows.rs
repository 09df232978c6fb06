//! Input files through the flow engine, on an SQLite database of the order
//! schema: the order CSV (rows of an order together), the order JSONL (lines
//! nested in their order) and the shop export's two '|' files joined by
//! order number. Every record is written or refused, never a panic, and the
//! run's counts add up.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use triglot::Database;
use triglot::sqlite::SqliteDialect;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_JSONL_FLOW};
use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

const FOREIGN: &str = include_str!("../../examples/foreign-layout/flow.toml");

/// One migrated database and the three flows bound to it, for every input.
fn setup() -> &'static (Database<SqliteDialect>, [Flow; 3]) {
    static SETUP: OnceLock<(Database<SqliteDialect>, [Flow; 3])> = OnceLock::new();
    SETUP.get_or_init(|| {
        let db = Database::open("sqlite::memory:").expect("an in-memory database");
        db.migrate(&triglot_pipeline::MIGRATIONS).expect("the order schema");
        let schema = db.introspect().expect("its catalog");
        let bind = |text, name| Flow::bind(text, name, &schema).expect("a built-in flow");
        let flows = [
            bind(ORDERS_FLOW, "orders-flow.toml"),
            bind(ORDERS_JSONL_FLOW, "orders-jsonl-flow.toml"),
            bind(FOREIGN, "flow.toml"),
        ];
        (db, flows)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else { return };
    let (db, flows) = setup();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let (flow, files) = match pick % 3 {
        0 => (&flows[0], BTreeMap::from([("rows".to_string(), write("orders.csv", input))])),
        1 => (&flows[1], BTreeMap::from([("orders".to_string(), write("orders.jsonl", input))])),
        _ => {
            // The two files, split at the first form feed.
            let at = input.iter().position(|&b| b == 0x0c).unwrap_or(input.len());
            let lines = input.get(at + 1..).unwrap_or_default();
            let files = BTreeMap::from([
                ("orders".to_string(), write("orders.txt", &input[..at])),
                ("lines".to_string(), write("lines.txt", lines)),
            ]);
            (&flows[2], files)
        }
    };
    // Small batches and sort budget: one input spans transactions, and
    // joins spill to disk.
    let options = FlowOptions { batch_size: 3, sort_memory: 4 << 10, ..FlowOptions::default() };
    // A header without the contract's fields is an error before any row.
    let Ok(summary) = run_flow(db, flow, &files, &options) else { return };
    let c = summary.counts;
    assert_eq!(c.read, c.accepted + c.rejected, "{summary:?}");
    assert_eq!(c.rejected, summary.rejects_by_reason.values().sum::<u64>(), "{summary:?}");
    // Each input starts from empty tables: the database would otherwise
    // grow with every run until the fuzzer's memory limit.
    db.run("emptying", |conn| {
        triglot::diesel::connection::SimpleConnection::batch_execute(
            conn,
            "DELETE FROM order_lines; DELETE FROM orders; DELETE FROM customers; \
             DELETE FROM triglot_rejects; DELETE FROM triglot_fingerprints; DELETE FROM triglot_runs;",
        )
    })
    .expect("the tables empty");
});
