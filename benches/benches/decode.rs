//! Row decoding beside the raw drivers: one keyset page of N order lines
//! (N = 1,000 and 100,000) into owned `OrderLine` structs, and the same page
//! streamed without collecting.
//!
//! `cargo bench -p triglot-benches --features mysql,postgres --bench decode`
//! Names: `decode/<backend>/{triglot,raw}/<N>`, `stream/<backend>/…`.

// `criterion_group!` defines a public function without documentation.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use triglot_benches::raw::Raw;
use triglot_benches::{Compared, ours};

fn decode<D: triglot_pipeline::OrderBackend, R: Raw>(c: &mut Criterion) {
    for lines in [1_000, 100_000] {
        let Some(mut compared) = Compared::<D, R>::new("decode", lines) else { return };
        let Compared { fixture, raw, .. } = &mut compared;
        let page = fixture.page();
        let db = &fixture.db;
        // Both sides must produce the same rows before either is timed.
        let ours_rows = ours::decode(db, page).expect("decode");
        assert_eq!(ours_rows.len(), lines);
        assert!(ours_rows == raw.decode(page), "{}: decoded rows differ", D::NAME);
        assert_eq!(ours::stream(db, page).expect("stream"), raw.stream(page));

        let backend = D::URL_SCHEMES[0];
        let mut group = c.benchmark_group(format!("decode/{backend}"));
        if lines > 10_000 {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::new("triglot", lines), |b| {
            b.iter(|| ours::decode(db, page).expect("decode"))
        });
        group.bench_function(BenchmarkId::new("raw", lines), |b| b.iter(|| raw.decode(page)));
        group.finish();

        let mut group = c.benchmark_group(format!("stream/{backend}"));
        if lines > 10_000 {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::new("triglot", lines), |b| {
            b.iter(|| ours::stream(db, page).expect("stream"))
        });
        group.bench_function(BenchmarkId::new("raw", lines), |b| b.iter(|| raw.stream(page)));
        group.finish();
    }
}

fn benches(c: &mut Criterion) {
    triglot_benches::each_compared!(decode(c));
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
