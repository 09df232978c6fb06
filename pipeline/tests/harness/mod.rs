//! Fixtures shared by the integration tests.

#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use triglot_pipeline::model::{NewCustomer, OrderStatus};
use triglot_pipeline::{LineRecord, OrderRecord};

/// A UTC timestamp with microseconds.
pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_micro_opt(h, mi, s, micros))
        .expect("valid timestamp")
}

/// A customer with every column set.
pub(crate) fn customer(key: &str) -> NewCustomer {
    NewCustomer {
        external_id: key.to_owned(),
        name: format!("Customer {key}"),
        email: Some(format!("{key}@example.com")),
        country: Some("DE".into()),
        created_at: at(2026, 1, 2, 3, 4, 5, 678_901),
    }
}

/// An order of `lines` lines, its total the sum of their amounts.
pub(crate) fn order(key: &str, customer_key: &str, lines: i32) -> OrderRecord {
    let lines: Vec<LineRecord> = (1..=lines)
        .map(|n| LineRecord {
            line_no: n,
            sku: format!("SKU-{n}"),
            quantity: n,
            unit_price_cents: 250 * i64::from(n),
            discount_bp: (n % 2 == 0).then_some(1_000),
            note: (n == 1).then(|| "first line".to_owned()),
        })
        .collect();
    OrderRecord {
        customer: customer(customer_key),
        external_id: key.to_owned(),
        status: OrderStatus::Paid,
        currency: "EUR".into(),
        total_cents: lines
            .iter()
            .map(|l| {
                triglot_pipeline::model::line_amount_cents(
                    l.quantity,
                    l.unit_price_cents,
                    l.discount_bp,
                )
            })
            .sum(),
        placed_at: at(2026, 11, 20, 10, 30, 0, 123_456),
        updated_at: at(2026, 11, 20, 11, 0, 0, 1),
        source: "tests".into(),
        lines,
    }
}

/// Everything a load writes to the order tables, by natural keys (ids left
/// out: a killed run may leave gaps in them), in a stable order.
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::type_complexity)]
pub(crate) struct Snapshot {
    pub(crate) customers: Vec<(String, String, Option<String>, Option<String>)>,
    pub(crate) orders:
        Vec<(String, String, String, String, i64, NaiveDateTime, NaiveDateTime, i64)>,
    pub(crate) lines: Vec<(String, i32, String, i32, i64, Option<i32>, Option<String>)>,
}

/// The [`Snapshot`] of `db`.
pub(crate) fn snapshot<D: triglot_pipeline::OrderBackend>(db: &triglot::Database<D>) -> Snapshot {
    use triglot_pipeline::model::CustomerQueries;
    let customers = db.run("snapshot", |conn| conn.all_customers()).unwrap();
    let by_id: std::collections::HashMap<i64, String> =
        customers.iter().map(|c| (c.id, c.external_id.clone())).collect();
    let orders = db
        .run("snapshot", |conn| {
            triglot_pipeline::model::orders_with_lines(
                conn,
                at(1000, 1, 1, 0, 0, 0, 0),
                at(9999, 1, 1, 0, 0, 0, 0),
            )
        })
        .unwrap();
    let mut snapshot = Snapshot {
        customers: customers
            .into_iter()
            .map(|c| (c.external_id, c.name, c.email, c.country))
            .collect(),
        orders: Vec::new(),
        lines: Vec::new(),
    };
    for (order, lines) in orders {
        for l in lines {
            snapshot.lines.push((
                order.external_id.clone(),
                l.line_no,
                l.sku,
                l.quantity,
                l.unit_price_cents,
                l.discount_bp,
                l.note,
            ));
        }
        snapshot.orders.push((
            order.external_id,
            by_id[&order.customer_id].clone(),
            order.status.to_string(),
            order.currency,
            order.total_cents,
            order.placed_at,
            order.updated_at,
            order.content_hash,
        ));
    }
    snapshot.orders.sort();
    snapshot.lines.sort();
    snapshot
}

/// Generated input (see `triglot generate`) with orders anchored at a fixed day.
pub(crate) fn generated(
    dir: &std::path::Path,
    orders: u64,
    dirty_rate: f64,
) -> triglot_pipeline::ingest::generate::Generated {
    let options = triglot_pipeline::ingest::generate::GenerateOptions {
        seed: 7,
        orders,
        lines: None,
        dirty_rate,
        anchor: at(2026, 11, 25, 0, 0, 0, 0),
    };
    triglot_pipeline::ingest::generate::generate(dir, &options).unwrap()
}

/// One `id BIGINT` column, for `sql_query` results such as a session id.
#[derive(diesel::QueryableByName)]
#[allow(dead_code)]
pub(crate) struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) id: i64,
}

/// Holds an exclusive lock on the SQLite database at `path` for `millis`,
/// from before this returns; join the handle to wait for its release.
#[cfg(feature = "sqlite")]
pub(crate) fn lock_sqlite(path: String, millis: u64) -> std::thread::JoinHandle<()> {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    let (locked, wait) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
        conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(millis));
        conn.batch_execute("COMMIT").unwrap();
    });
    wait.recv().unwrap();
    holder
}
