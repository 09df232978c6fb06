//! One decode of a keyset page, by one side, for a profiler to count.
//!
//! `decode_profile <sqlite|mysql|postgres> <raw|raw-c|triglot|diesel|raw-stream|triglot-stream> [ROWS]` fills
//! an isolated database with ROWS lines (default 20,000), decodes the page
//! once to warm up, then once more inside `work`; `diesel` is the model's
//! generic `Selectable` query, `triglot` the dialect's hot path, `raw` the
//! pure-Rust driver and `raw-c` the C library called directly (libmysqlclient,
//! libpq; SQLite has only rusqlite, on the C library already); the `-stream`
//! sides decode the same page without collecting it. Client-side
//! instructions, repeatable from run to run:
//!
//! ```sh
//! cargo build --release -p triglot-benches --features mysql,postgres --bin decode_profile
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='decode_profile::work*' \
//!     target/release/decode_profile mysql triglot
//! ```

use triglot_benches::raw::Raw;
use triglot_benches::{Compared, ours};
use triglot_pipeline::model::OrderLineQueries;

#[inline(never)]
fn work<D: triglot_pipeline::OrderBackend, R: Raw>(
    side: &str,
    compared: &mut Compared<D, R>,
) -> usize {
    let page = compared.fixture.page();
    match side {
        "raw" => compared.raw.decode(page).len(),
        // The checksum's low bits stand for the rows: both sides fold every
        // line into it, and the caller checks only the count.
        "raw-stream" => {
            std::hint::black_box(compared.raw.stream(page));
            page.1 as usize
        }
        "triglot-stream" => {
            std::hint::black_box(ours::stream(&compared.fixture.db, page).expect("stream"));
            page.1 as usize
        }
        "diesel" => compared
            .fixture
            .db
            .run("decoding", |c| c.lines_after(page.0, page.1))
            .expect("decode")
            .len(),
        _ => ours::decode(&compared.fixture.db, page).expect("decode").len(),
    }
}

fn run<D: triglot_pipeline::OrderBackend, R: Raw>(side: &str, rows: usize) {
    let Some(mut compared) = Compared::<D, R>::new("decode_profile", rows) else { return };
    work(side, &mut compared);
    let decoded = work(side, &mut compared);
    assert_eq!(decoded, rows);
    eprintln!("{} {side}: decoded {decoded} lines", D::NAME);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("sqlite", String::as_str);
    let side = args.get(2).map_or("triglot", String::as_str).to_owned();
    // The C drivers run as the raw side.
    let (side, c) = match side.as_str() {
        "raw-c" => ("raw".to_owned(), true),
        _ => (side, false),
    };
    let rows = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(20_000);
    match backend {
        #[cfg(feature = "sqlite")]
        "sqlite" if c => {
            eprintln!("decode_profile: SQLite has no raw-c side (rusqlite runs on the C library)");
        }
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            run::<triglot::sqlite::SqliteDialect, triglot_benches::raw::sqlite::Driver>(&side, rows)
        }
        #[cfg(feature = "mysql")]
        "mysql" if c => {
            run::<triglot::mysql::MysqlDialect, triglot_benches::raw::libmysql::Driver>(&side, rows)
        }
        #[cfg(feature = "postgres")]
        "postgres" if c => run::<
            triglot::postgres::PostgresDialect,
            triglot_benches::raw::libpq::Driver,
        >(&side, rows),
        #[cfg(feature = "mysql")]
        "mysql" => {
            run::<triglot::mysql::MysqlDialect, triglot_benches::raw::mysql::Driver>(&side, rows)
        }
        #[cfg(feature = "postgres")]
        "postgres" => run::<
            triglot::postgres::PostgresDialect,
            triglot_benches::raw::postgres::Driver,
        >(&side, rows),
        other => eprintln!("decode_profile: unknown or not compiled-in backend {other:?}"),
    }
}
