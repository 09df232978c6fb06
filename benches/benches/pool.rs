//! Pool check-out and return: triglot's pool (a ping only for connections
//! idle past `ping_after_idle`) beside r2d2 as diesel sets it up (a ping on
//! every check-out), uncontended and from 4 threads at once.
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench pool`
//! Names: `pool/<backend>/{triglot,r2d2}/{1,4}_threads`.

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use triglot_benches::raw::Raw;
use triglot_benches::{Compared, checkouts, plain_r2d2};

fn pool<D: triglot_pipeline::OrderBackend, R: Raw>(c: &mut Criterion) {
    let Some(compared) = Compared::<D, R>::new("pool", 4) else { return };
    let ours = compared.fixture.db.pool();
    let plain = plain_r2d2::<D>(compared.fixture.url(), 4);
    let mut group = c.benchmark_group(format!("pool/{}", D::URL_SCHEMES[0]));
    for threads in [1, 4] {
        // Open every connection the threads will hold before timing.
        checkouts(ours, threads, 64);
        checkouts(&plain, threads, 64);
        let id = format!("{threads}_threads");
        group.bench_function(BenchmarkId::new("triglot", &id), |b| {
            b.iter_custom(|iters| checkouts(ours, threads, iters))
        });
        group.bench_function(BenchmarkId::new("r2d2", &id), |b| {
            b.iter_custom(|iters| checkouts(&plain, threads, iters))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    triglot_benches::each_compared!(pool(c));
}

criterion_group!(pool_benches, benches);
criterion_main!(pool_benches);
