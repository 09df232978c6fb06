//! Bulk ingest beside the native bulk paths: 100,000 order lines in one
//! transaction through triglot's bulk path (fixed-size prepared batches on
//! SQLite and MySQL, binary COPY on PostgreSQL) and through the raw driver's
//! (one prepared statement; 1,000-row prepared INSERTs; binary COPY).
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench ingest`
//! Names: `ingest/<backend>/{triglot,raw}/100000`. The table is emptied
//! before every timed insert, outside the timing.

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use triglot_benches::raw::Raw;
use triglot_benches::{Compared, ours, time};

const LINES: usize = 100_000;

fn ingest<D: triglot_pipeline::OrderBackend, R: Raw>(c: &mut Criterion) {
    let Some(mut compared) = Compared::<D, R>::new("ingest", LINES) else { return };
    let Compared { fixture, raw, .. } = &mut compared;
    let rows = fixture.rows().expect("rows");
    assert_eq!(rows.len(), LINES);

    let mut group = c.benchmark_group(format!("ingest/{}", D::URL_SCHEMES[0]));
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function(BenchmarkId::new("triglot", LINES), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    fixture.clear_lines().expect("clear");
                    let copy = rows.clone();
                    time(|| ours::insert(&fixture.db, copy).expect("insert")).0
                })
                .sum()
        })
    });
    group.bench_function(BenchmarkId::new("raw", LINES), |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    fixture.clear_lines().expect("clear");
                    time(|| raw.insert(&rows)).0
                })
                .sum()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    triglot_benches::each_compared!(ingest(c));
}

criterion_group!(ingest_benches, benches);
criterion_main!(ingest_benches);
