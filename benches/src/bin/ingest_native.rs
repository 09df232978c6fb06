//! The ingest beside the native bulk path of the same rows.
//!
//! Per round and backend: `triglot ingest`'s flow loads a generated file
//! (`generate --dirty-rate 0.01`: read, validated, upserted by key,
//! fingerprinted, its rejects stored) into a fresh database; the raw driver
//! then inserts the rows that ingest stored (customers, orders and lines,
//! ids included) into another fresh database of the same schema through
//! its fastest path ([`NativeBulk`]: one prepared statement per table in
//! one transaction on SQLite, binary COPY on PostgreSQL, 1,000-row prepared
//! INSERTs on MariaDB), and the two databases are checked equal. Prints
//! each side's seconds and the ratio, median [least–most] over the rounds.
//!
//! With `--stored-in URL` it times only the native side, for the rows a
//! `triglot ingest` run of the program stored there (`scripts/ingest-figures.sh`
//! puts that beside the program's own time and memory).
//!
//! ```sh
//! cargo run --release -p triglot-benches --features mysql,postgres --bin ingest_native -- \
//!     [--lines N] [--rounds R] [--stored-in URL]
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use clap::Parser;

use triglot::testing::TestDb;
use triglot::{Database, PoolConfig};
use triglot_benches::raw::{NativeBulk, Stored};
use triglot_benches::{Spread, each_compared, plain_tcp, time};
use triglot_pipeline::contract::ORDERS_FLOW;
use triglot_pipeline::flow::{Flow, FlowBackend, FlowOptions, run_flow};
use triglot_pipeline::ingest::generate::{GenerateOptions, generate};

/// The `triglot` program's allocator, so that the flow runs as it does there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The raw driver on `url` (plain TCP); a failure names the backend, with
/// the URL's password scrubbed from the driver's words.
fn connect<D: triglot_pipeline::OrderBackend, R: NativeBulk>(url: &str) -> R {
    let parsed = triglot::DatabaseUrl::parse(url).expect("a parsed URL");
    R::connect(&plain_tcp(url)).unwrap_or_else(|e| panic!("{}: {}", D::NAME, parsed.scrub(&e)))
}

/// Times the raw driver's bulk insert of `stored` into an empty database of
/// the order schema; with `check`, reads it back and asserts it equal.
fn native_insert<D: triglot_pipeline::OrderBackend, R: NativeBulk>(
    stored: &Stored,
    check: bool,
) -> std::time::Duration {
    let empty = TestDb::<D>::new("ingest_native_raw", &triglot_pipeline::MIGRATIONS);
    let mut raw = connect::<D, R>(empty.url());
    let (t_native, ()) = time(|| raw.insert_stored(stored));
    if check {
        assert!(raw.read_stored() == *stored, "{}: the native insert stored other rows", D::NAME);
    }
    t_native
}

fn run<D: triglot_pipeline::OrderBackend + FlowBackend, R: NativeBulk>(file: &Path, rounds: usize) {
    let (mut ours, mut native, mut ratios, mut rows) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for round in 0..rounds {
        let Ok(flowed) = TestDb::<D>::try_new("ingest_native", &triglot_pipeline::MIGRATIONS)
        else {
            eprintln!("skipping {}: no server ({})", D::NAME, D::START_HINT);
            return;
        };
        let url = plain_tcp(flowed.url());
        let db = Database::<D>::open_with(&url, PoolConfig::default()).expect("a pool");
        let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect().expect("schema"))
            .expect("the order flow");
        let files = BTreeMap::from([("rows".to_string(), file.to_path_buf())]);
        let (t_ours, summary) =
            time(|| run_flow(&db, &flow, &files, &FlowOptions::default()).expect("ingest"));
        let stored = connect::<D, R>(&url).read_stored();
        assert_eq!(stored.lines.len() as u64, summary.tables["order_lines"].rows);
        let t_native = native_insert::<D, R>(&stored, round == 0);
        rows = stored.rows();
        ours.push(t_ours.as_secs_f64());
        native.push(t_native.as_secs_f64());
        ratios.push(t_ours.as_secs_f64() / t_native.as_secs_f64());
    }
    let show = |s: Spread| format!("{:.2} [{:.2}–{:.2}]", s.median, s.min, s.max);
    println!(
        "| {} | {} | {rows} | {} | {} | {} |",
        D::NAME,
        R::NAME,
        show(Spread::of(ours)),
        show(Spread::of(native)),
        show(Spread::of(ratios)),
    );
}

/// Times the raw driver's bulk insert of the rows stored at `url` into an
/// empty database of the same schema, if `url` is this backend's; prints
/// `{"backend", "rows", "native_seconds"}` as one JSON line.
fn native_of<D: triglot_pipeline::OrderBackend, R: NativeBulk>(
    url: &triglot::DatabaseUrl,
    done: &mut bool,
) {
    if !D::URL_SCHEMES.contains(&url.scheme().as_str()) {
        return;
    }
    let stored = connect::<D, R>(url.expose()).read_stored();
    let t_native = native_insert::<D, R>(&stored, true);
    let line = serde_json::json!({
        "backend": D::NAME,
        "rows": stored.rows(),
        "native_seconds": t_native.as_secs_f64(),
    });
    println!("{line}");
    *done = true;
}

/// What to measure.
#[derive(Parser)]
#[command(about = "The ingest beside the native bulk path of the same rows")]
struct Args {
    /// Lines to generate (`generate --dirty-rate 0.01`).
    #[arg(long, default_value_t = 100_000)]
    lines: u64,
    /// Rounds per backend; each side's median and spread are printed.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Instead of running the flow: a database that `triglot ingest` has
    /// filled. The raw driver inserts its rows into an empty database of the
    /// same schema; prints one JSON line with the rows and the seconds.
    #[arg(long, value_name = "URL")]
    stored_in: Option<String>,
}

fn main() {
    let args = Args::parse();
    if let Some(url) = args.stored_in {
        let parsed =
            triglot::DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("--stored-in: {e}"));
        let mut done = false;
        each_compared!(native_of(&parsed, &mut done));
        assert!(done, "--stored-in: no backend compiled in for {}", parsed.scheme());
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let options = GenerateOptions {
        seed: 42,
        orders: 0,
        lines: Some(args.lines),
        dirty_rate: 0.01,
        anchor: triglot_benches::epoch(),
    };
    generate(dir.path(), &options).expect("generating the input");
    let file = dir.path().join("orders.csv");
    println!(
        "{} generated lines, {} rounds; seconds, median [least–most]",
        args.lines, args.rounds
    );
    println!();
    println!(
        "| backend | native driver | rows stored | triglot ingest, s | native bulk of the stored rows, s | ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    each_compared!(run(&file, args.rounds));
}
