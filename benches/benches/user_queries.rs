//! Benchmarking your own query paths on every backend with
//! `triglot::backend_bench!`: one body, one benchmark per compiled-in
//! backend (`big_orders/sqlite`, `big_orders/mysql`, `big_orders/postgres`),
//! each on a fresh migrated database of its own.
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench user_queries`
//!
//! In a project of your own: `[dev-dependencies] triglot = { version = "0.1",
//! features = ["bench", "sqlite", "postgres"] }` and criterion 0.7, and a
//! `[[bench]]` with `harness = false`.

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use triglot::model::{OrderQueries, StatusTotal};
use triglot::schema::orders;

fn big_orders(c: &mut Criterion) {
    triglot::backend_bench!(c, "big_orders", |db, b| {
        // Setup, not timed: 2,000 orders of 4 lines each.
        triglot_benches::fill(db, 2_000, 4).expect("seeding");

        // A query of your own, in plain diesel: it is compiled against each
        // backend's connection, so it needs no trait bounds.
        b.iter(|| {
            db.run("finding big orders", |conn| {
                orders::table
                    .filter(orders::total_cents.ge(2_000_000))
                    .select((orders::external_id, orders::total_cents))
                    .order_by(orders::total_cents.desc())
                    .limit(100)
                    .load::<(String, i64)>(conn)
            })
            .expect("query")
        });
    });
}

fn revenue_by_status(c: &mut Criterion) {
    triglot::backend_bench!(c, "revenue_by_status", |db, b| {
        triglot_benches::fill(db, 2_000, 4).expect("seeding");
        // One of triglot's own model queries, the same on every backend.
        b.iter(|| {
            db.run("summing revenue", |conn| conn.status_totals("bench", D::BIGINT_CAST))
                .map(|totals: Vec<StatusTotal>| totals.len())
                .expect("query")
        });
    });
}

criterion_group!(user_benches, big_orders, revenue_by_status);
criterion_main!(user_benches);
