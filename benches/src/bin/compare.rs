//! triglot beside the raw drivers, in one process, rounds interleaved.
//!
//! `cargo run --release -p triglot-benches --features mysql,postgres --bin compare -- [--rows N] [--rounds R] [--json]`
//!
//! For every reachable backend: decode N lines into owned structs, stream
//! them without collecting, insert N lines through the bulk path, and check
//! a pooled connection out and back. Each round runs every path once on each
//! side; the table shows medians and `ratio = triglot time / raw time`
//! (below 1.00 is faster than the raw driver). The output format is stable.

use std::time::{Duration, Instant};

use triglot::testing::TestBackend;
use triglot_benches::raw::Raw;
use triglot_benches::{Fixture, median, ours, time};

#[derive(Debug, serde::Serialize)]
struct Row {
    backend: &'static str,
    path: &'static str,
    rows: usize,
    triglot_ms: f64,
    raw_ms: f64,
    ratio: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text =
        |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let value = |name: &str| text(name).and_then(|v| v.parse::<usize>().ok());
    let rows: usize = value("--rows").unwrap_or(100_000);
    let rounds: usize = value("--rounds").unwrap_or(7);
    let json = args.iter().any(|a| a == "--json");
    // `--only insert` times one path (for profiling); the others are skipped.
    let only = text("--only");

    let mut table = Vec::new();
    #[cfg(feature = "sqlite")]
    run::<triglot::sqlite::SqliteDialect, triglot_benches::raw::sqlite::Driver>(
        rows,
        rounds,
        only.as_deref(),
        &mut table,
    );
    #[cfg(feature = "mysql")]
    run::<triglot::mysql::MysqlDialect, triglot_benches::raw::mysql::Driver>(
        rows,
        rounds,
        only.as_deref(),
        &mut table,
    );
    #[cfg(feature = "postgres")]
    run::<triglot::postgres::PostgresDialect, triglot_benches::raw::postgres::Driver>(
        rows,
        rounds,
        only.as_deref(),
        &mut table,
    );

    if json {
        println!("{}", serde_json::to_string_pretty(&table).unwrap_or_default());
        return;
    }
    println!("compare: {rows} rows, {rounds} rounds, medians; ratio = triglot time / raw time");
    println!("{:<11} {:<9} {:>12} {:>12} {:>7}", "backend", "path", "triglot", "raw", "ratio");
    for r in &table {
        let unit = if r.path == "checkout" { "µs" } else { "ms" };
        let scale = if r.path == "checkout" { 1_000.0 } else { 1.0 };
        println!(
            "{:<11} {:<9} {:>9.3} {unit} {:>9.3} {unit} {:>6.2}×",
            r.backend,
            r.path,
            r.triglot_ms * scale,
            r.raw_ms * scale,
            r.ratio
        );
    }
}

fn run<D: TestBackend, R: Raw>(
    rows: usize,
    rounds: usize,
    only: Option<&str>,
    table: &mut Vec<Row>,
) {
    let fixture = match Fixture::<D>::new(rows) {
        Ok(f) => f,
        Err(e) => {
            println!("skipping {}: {e}", D::NAME);
            return;
        }
    };
    let mut raw = match R::connect(&fixture.url()) {
        Ok(r) => r,
        Err(e) => {
            println!("skipping {}: the raw driver cannot connect: {e}", D::NAME);
            return;
        }
    };
    let window = fixture.window();
    let insert_rows = fixture.rows().expect("rows");

    // Both sides must produce the same rows before either is timed.
    let ours_rows = ours::decode(&fixture.db, window).expect("decode");
    assert_eq!(ours_rows.len(), rows.div_ceil(4) * 4);
    assert!(ours_rows == raw.decode(window), "{}: decoded rows differ", D::NAME);
    assert_eq!(
        ours::stream(&fixture.db, window).expect("stream"),
        raw.stream(window),
        "{}: checksums differ",
        D::NAME
    );

    // One path at a time, its rounds interleaved between the two sides: a
    // path then starts from the database state the previous one left to
    // both (SQLite's write-ahead log, caches), not to one side only.
    let mut samples: [Vec<Duration>; 8] = Default::default();
    let wanted = |path: &str| only.is_none_or(|o| o.split(',').any(|p| p == path));
    // A first, untimed pass of each side warms the caches both will use.
    if wanted("decode") {
        ours::decode(&fixture.db, window).expect("decode");
        raw.decode(window);
        for _ in 0..rounds {
            samples[0].push(time(|| ours::decode(&fixture.db, window).expect("decode")).0);
            samples[1].push(time(|| raw.decode(window)).0);
        }
    }
    if wanted("stream") {
        ours::stream(&fixture.db, window).expect("stream");
        raw.stream(window);
        for _ in 0..rounds {
            samples[2].push(time(|| ours::stream(&fixture.db, window).expect("stream")).0);
            samples[3].push(time(|| raw.stream(window)).0);
        }
    }
    if wanted("insert") {
        for _ in 0..rounds {
            fixture.clear_lines().expect("clear");
            samples[4].push(time(|| ours::insert(&fixture.db, &insert_rows).expect("insert")).0);
            fixture.clear_lines().expect("clear");
            samples[5].push(time(|| raw.insert(&insert_rows)).0);
        }
    }
    if wanted("checkout") {
        let plain = plain_r2d2::<D>(&fixture.url());
        for _ in 0..rounds {
            samples[6].push(checkout_per_op(fixture.db.pool()));
            samples[7].push(checkout_per_op(&plain));
        }
    }
    for (i, path) in ["decode", "stream", "insert", "checkout"].into_iter().enumerate() {
        if !wanted(path) {
            continue;
        }
        let ours = median(&mut samples[2 * i]);
        let raw = median(&mut samples[2 * i + 1]);
        let rows = if path == "checkout" { 1 } else { ours_rows.len() };
        table.push(Row {
            backend: D::NAME,
            path,
            rows,
            triglot_ms: ms(ours),
            raw_ms: ms(raw),
            ratio: ours.as_secs_f64() / raw.as_secs_f64().max(1e-12),
        });
    }
}

/// The time of one check-out and return, averaged over many, of a pool whose
/// connections were all used a moment ago.
fn checkout_per_op<M: triglot::diesel::r2d2::ManageConnection>(
    pool: &triglot::diesel::r2d2::Pool<M>,
) -> Duration {
    const N: u32 = 2_000;
    drop(pool.get().expect("checkout"));
    let started = Instant::now();
    for _ in 0..N {
        drop(pool.get().expect("checkout"));
    }
    started.elapsed() / N
}

/// r2d2 as diesel sets it up, with its default check-out test (a ping every time).
fn plain_r2d2<D: TestBackend>(
    url: &str,
) -> triglot::diesel::r2d2::Pool<triglot::diesel::r2d2::ConnectionManager<D::Connection>> {
    let target =
        D::connect_target(&triglot::DatabaseUrl::parse(url).expect("url")).expect("target");
    triglot::diesel::r2d2::Pool::builder()
        .max_size(2)
        .build(triglot::diesel::r2d2::ConnectionManager::new(target.connection_string))
        .expect("pool")
}
