//! triglot beside the raw drivers, in one process, rounds interleaved.
//!
//! `cargo run --release -p triglot-benches --features mysql,postgres --bin compare -- [--rows N] [--rounds R] [--json] [--only PATHS]`
//!
//! For every reachable backend: decode N lines into owned structs (by the
//! pipeline's positional decoder, and as `selectable` through diesel's
//! `Selectable` derive, as a user's own struct is read), stream
//! them without collecting, insert N lines through the bulk path, and check
//! a pooled connection out and back: `checkout` one used within the pool's
//! health-check window (no ping), `checkout_idle` one idle past it (which
//! pays a ping; measured with a window of zero, so that every sample pays
//! it without waiting out the window), each beside r2d2's default (a ping
//! at every check-out). Before anything is timed, both sides
//! must give the same result on each path (the same rows decoded, the same
//! checksum streamed, the same rows stored by an insert, a connection that
//! answers). Each round runs a path once on each side, one after the other;
//! the table shows each side's median with the least and most of the
//! rounds, and `ratio = triglot time / raw time` of each round, its median
//! with its least and most (below 1.00 is faster than the raw driver).
//!
//! Each server backend is compared with two raw drivers, the C library
//! diesel links (libpq, libmysqlclient, called directly) and the pure-Rust
//! crate; a last table keeps, per backend and path, the row of the raw
//! driver with the lower median, so that triglot stands beside the fastest
//! client available.

use std::time::Duration;

use clap::Parser;

use triglot::{Database, PoolConfig};
use triglot_benches::raw::Raw;
use triglot_benches::{Compared, Spread, checkout_per_op, ours, plain_r2d2, time};

#[derive(Debug, serde::Serialize)]
struct Row {
    backend: &'static str,
    /// The raw driver of the row.
    raw: &'static str,
    path: &'static str,
    rows: usize,
    rounds: usize,
    triglot_ms: Spread,
    raw_ms: Spread,
    /// triglot ÷ raw of each round.
    ratio: Spread,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// What to compare.
#[derive(Parser)]
#[command(about = "triglot beside the raw drivers, in one process, rounds interleaved")]
struct Args {
    /// Lines in the fixture, and in each decode, stream and insert.
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// Rounds per path; each runs the path once on each side.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Print the table as JSON.
    #[arg(long)]
    json: bool,
    /// Time these paths only, comma-separated (for profiling one path).
    #[arg(long, value_name = "PATHS")]
    only: Option<String>,
}

fn main() {
    let Args { rows, rounds, json, only } = Args::parse();

    let mut table = Vec::new();
    triglot_benches::each_raw!(run(rows, rounds, only.as_deref(), &mut table));

    if json {
        println!("{}", serde_json::to_string_pretty(&table).unwrap_or_default());
        return;
    }
    println!(
        "compare: {rows} rows, {rounds} rounds; median [least–most] of the rounds; \
         ratio = triglot time / raw time of each round"
    );
    print_rows(table.iter());
    println!("\nbeside the faster raw driver of each backend and path:");
    print_rows(fastest(&table).into_iter());
}

/// Per backend and path, the row whose raw driver has the lower median.
fn fastest(table: &[Row]) -> Vec<&Row> {
    let mut best: Vec<&Row> = Vec::new();
    for r in table {
        match best.iter_mut().find(|b| b.backend == r.backend && b.path == r.path) {
            Some(b) if r.raw_ms.median < b.raw_ms.median => *b = r,
            Some(_) => {}
            None => best.push(r),
        }
    }
    best
}

fn print_rows<'a>(rows: impl Iterator<Item = &'a Row>) {
    println!(
        "{:<11} {:<15} {:<13} {:>30} {:>30} {:>20}",
        "backend", "raw driver", "path", "triglot", "raw", "ratio"
    );
    for r in rows {
        let checkout = r.path.starts_with("checkout");
        let unit = if checkout { "µs" } else { "ms" };
        let scale = if checkout { 1_000.0 } else { 1.0 };
        let time = |s: &Spread| {
            format!("{:.3} [{:.3}–{:.3}] {unit}", s.median * scale, s.min * scale, s.max * scale)
        };
        let ratio = format!("{:.2} [{:.2}–{:.2}]", r.ratio.median, r.ratio.min, r.ratio.max);
        println!(
            "{:<11} {:<15} {:<13} {:>30} {:>30} {:>20}",
            r.backend,
            r.raw,
            r.path,
            time(&r.triglot_ms),
            time(&r.raw_ms),
            ratio
        );
    }
}

/// Times `ours` and `raw` one after the other in each of `rounds` rounds,
/// into `samples[0]` and `samples[1]`, after a first, untimed pass of each
/// side that warms the caches both will use. The side that goes first
/// alternates from round to round, so that neither always runs in the
/// state the other leaves (its freed memory, the server's last work).
fn interleave<A, B>(
    rounds: usize,
    samples: &mut [Vec<Duration>],
    mut ours: impl FnMut() -> A,
    mut raw: impl FnMut() -> B,
) {
    ours();
    raw();
    for round in 0..rounds {
        if round % 2 == 0 {
            samples[0].push(time(&mut ours).0);
            samples[1].push(time(&mut raw).0);
        } else {
            samples[1].push(time(&mut raw).0);
            samples[0].push(time(&mut ours).0);
        }
    }
}

fn run<D, R: Raw>(rows: usize, rounds: usize, only: Option<&str>, table: &mut Vec<Row>)
where
    D: triglot_pipeline::OrderBackend
        + triglot::write::BulkInsert<
            triglot_pipeline::schema::order_lines::table,
            triglot_pipeline::model::NewOrderLine,
        >,
{
    let Some(mut compared) = Compared::<D, R>::new("compare", rows) else {
        return;
    };
    let Compared { fixture, raw, .. } = &mut compared;
    let page = fixture.page();
    let insert_rows = fixture.rows().expect("rows");

    // Both sides must produce the same rows before either is timed.
    let ours_rows = ours::decode(&fixture.db, page).expect("decode");
    assert_eq!(ours_rows.len(), rows.div_ceil(4) * 4);
    assert!(ours_rows == raw.decode(page), "{}: decoded rows differ", D::NAME);
    assert!(
        ours::selectable(&fixture.db, page).expect("decode") == ours_rows,
        "{}: the Selectable rows differ",
        D::NAME
    );
    assert_eq!(
        ours::stream(&fixture.db, page).expect("stream"),
        raw.stream(page),
        "{}: checksums differ",
        D::NAME
    );
    // Each side's insert stores exactly the rows.
    fixture.clear_lines().expect("clear");
    ours::insert(&fixture.db, insert_rows.clone()).expect("insert");
    assert!(fixture.rows().expect("rows") == insert_rows, "{}: triglot's insert differs", D::NAME);
    fixture.clear_lines().expect("clear");
    raw.insert(&insert_rows);
    assert!(fixture.rows().expect("rows") == insert_rows, "{}: the raw insert differs", D::NAME);

    // One path at a time, its rounds interleaved between the two sides: a
    // path then starts from the database state the previous one left to
    // both (SQLite's write-ahead log, caches), not to one side only.
    let mut samples: [Vec<Duration>; 14] = Default::default();
    let wanted = |path: &str| match only {
        _ if path.starts_with("checkout") && !R::TIMES_CHECKOUT => false,
        Some(o) => o.split(',').any(|p| p == path),
        // `generic` (the toolkit's bulk path for any table, which the
        // pipeline's own `insert` path is measured against) only on request.
        None => path != "generic",
    };
    if wanted("decode") {
        interleave(
            rounds,
            &mut samples[0..=1],
            || ours::decode(&fixture.db, page).expect("decode"),
            || raw.decode(page),
        );
    }
    if wanted("stream") {
        interleave(
            rounds,
            &mut samples[2..=3],
            || ours::stream(&fixture.db, page).expect("stream"),
            || raw.stream(page),
        );
    }
    if wanted("insert") {
        for _ in 0..rounds {
            fixture.clear_lines().expect("clear");
            let copy = insert_rows.clone();
            samples[4].push(time(|| ours::insert(&fixture.db, copy).expect("insert")).0);
            fixture.clear_lines().expect("clear");
            samples[5].push(time(|| raw.insert(&insert_rows)).0);
        }
    }
    if wanted("generic") {
        for _ in 0..rounds {
            fixture.clear_lines().expect("clear");
            let copy = insert_rows.clone();
            let writes = fixture.db.writes();
            samples[8].push(
                time(|| {
                    fixture.db.write("inserting lines", |c| {
                        writes.bulk_insert(c, triglot_pipeline::schema::order_lines::table, copy)
                    })
                })
                .0,
            );
            assert_eq!(
                fixture.rows().expect("rows"),
                insert_rows,
                "{}: generic insert differs",
                D::NAME
            );
            fixture.clear_lines().expect("clear");
            samples[9].push(time(|| raw.insert(&insert_rows)).0);
        }
    }
    // Both pools hand out a connection that answers.
    let answers = |c: &mut D::Connection| {
        diesel::connection::SimpleConnection::batch_execute(c, "SELECT 1")
            .expect("a checked-out connection answers");
    };
    if wanted("checkout") {
        let plain = plain_r2d2::<D>(fixture.url(), 2);
        answers(&mut fixture.db.pool().get().expect("checkout"));
        answers(&mut plain.get().expect("checkout"));
        for _ in 0..rounds {
            samples[6].push(checkout_per_op(fixture.db.pool()));
            samples[7].push(checkout_per_op(&plain));
        }
    }
    if wanted("checkout_idle") {
        let plain = plain_r2d2::<D>(fixture.url(), 2);
        let config = PoolConfig { ping_after_idle: Duration::ZERO, ..PoolConfig::default() };
        let pinging = Database::<D>::open_with(fixture.url(), config).expect("a pool");
        answers(&mut pinging.pool().get().expect("checkout"));
        answers(&mut plain.get().expect("checkout"));
        for _ in 0..rounds {
            samples[10].push(checkout_per_op(pinging.pool()));
            samples[11].push(checkout_per_op(&plain));
        }
    }
    if wanted("selectable") {
        interleave(
            rounds,
            &mut samples[12..=13],
            || ours::selectable(&fixture.db, page).expect("decode"),
            || raw.decode(page),
        );
    }
    let paths =
        ["decode", "stream", "insert", "checkout", "generic", "checkout_idle", "selectable"];
    for (i, path) in paths.into_iter().enumerate() {
        if !wanted(path) {
            continue;
        }
        let (ours, raw) = (&samples[2 * i], &samples[2 * i + 1]);
        let rows = if path.starts_with("checkout") { 1 } else { ours_rows.len() };
        table.push(Row {
            backend: D::NAME,
            raw: R::NAME,
            path,
            rows,
            rounds: ours.len(),
            triglot_ms: Spread::of(ours.iter().map(|d| ms(*d))),
            raw_ms: Spread::of(raw.iter().map(|d| ms(*d))),
            ratio: Spread::of(
                ours.iter().zip(raw).map(|(o, r)| o.as_secs_f64() / r.as_secs_f64().max(1e-12)),
            ),
        });
    }
}
