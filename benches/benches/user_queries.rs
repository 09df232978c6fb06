//! A user's own benches: one body, run on every backend this build includes.
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench user_queries`

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use triglot::model::OrderQueries;
use triglot::schema::orders;
use triglot::{DemoData, run_demo};

fn big_orders(c: &mut Criterion) {
    triglot::backend_bench!(c, "big_orders", |db, b| {
        // Setup, not timed: `db` is a fresh migrated `&Database<D>` of its
        // own; 2,000 deterministic demo orders go into it.
        let data = DemoData::new(42, 2_000, chrono::DateTime::UNIX_EPOCH.naive_utc());
        run_demo(db, &data, 500, |_| {}).expect("seeding");

        // Timed as `big_orders/<backend>`: a query of your own, in plain
        // diesel, compiled against each backend's connection.
        b.iter(|| {
            db.run("finding big orders", |conn| {
                orders::table
                    .filter(orders::total_cents.ge(50_000))
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
        let data = DemoData::new(42, 2_000, chrono::DateTime::UNIX_EPOCH.naive_utc());
        run_demo(db, &data, 500, |_| {}).expect("seeding");
        let source = data.source();
        // `D` is the backend's dialect type inside the body.
        b.iter(|| {
            db.run("summing revenue", |conn| conn.status_totals(&source, D::BIGINT_CAST))
                .expect("query")
        });
    });
}

criterion_group!(user_benches, big_orders, revenue_by_status);
criterion_main!(user_benches);
