//! triglot's hot paths beside the raw drivers: the fixtures, the work on
//! each side, and the timing helpers shared by the criterion benches and the
//! `compare` tool.
//!
//! Fairness: both sides run the same SQL shape on the same database over the
//! same transport (loopback TCP without TLS for the servers; the same
//! `libsqlite3-sys` for SQLite), their outputs are checked equal before
//! anything is timed, and `compare` interleaves their rounds.

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use triglot::diesel::r2d2::{ConnectionManager, ManageConnection, Pool};
use triglot::testing::TestDb;
use triglot::{Database, PoolConfig, Result};
use triglot_pipeline::model::{NewOrderLine, OrderLine, OrderLineQueries};
use triglot_pipeline::{LineRecord, OrderBackend, OrderRecord, OrderWriter};

pub mod raw;

/// Calls `f::<Dialect, raw driver>(args…)` for every backend this crate's
/// features compare (`sqlite`, `mysql`, `postgres`).
#[macro_export]
macro_rules! each_compared {
    ($f:ident($($arg:expr),* $(,)?)) => {
        #[cfg(feature = "sqlite")]
        $f::<triglot::sqlite::SqliteDialect, $crate::raw::sqlite::Driver>($($arg),*);
        #[cfg(feature = "mysql")]
        $f::<triglot::mysql::MysqlDialect, $crate::raw::mysql::Driver>($($arg),*);
        #[cfg(feature = "postgres")]
        $f::<triglot::postgres::PostgresDialect, $crate::raw::postgres::Driver>($($arg),*);
    };
}

/// Calls `f::<Dialect, raw driver>(args…)` for every raw driver of every
/// backend this crate's features compare: the C library diesel links
/// (libmysqlclient, libpq) as well as the pure-Rust crate, so that a
/// comparison can be made with the faster.
#[macro_export]
macro_rules! each_raw {
    ($f:ident($($arg:expr),* $(,)?)) => {
        #[cfg(feature = "sqlite")]
        $f::<triglot::sqlite::SqliteDialect, $crate::raw::sqlite::Driver>($($arg),*);
        #[cfg(feature = "mysql")]
        $f::<triglot::mysql::MysqlDialect, $crate::raw::mysql::Driver>($($arg),*);
        #[cfg(feature = "mysql")]
        $f::<triglot::mysql::MysqlDialect, $crate::raw::libmysql::Driver>($($arg),*);
        #[cfg(feature = "postgres")]
        $f::<triglot::postgres::PostgresDialect, $crate::raw::postgres::Driver>($($arg),*);
        #[cfg(feature = "postgres")]
        $f::<triglot::postgres::PostgresDialect, $crate::raw::libpq::Driver>($($arg),*);
    };
}

/// A filled fixture and a raw driver on it, on an isolated database that is
/// dropped with it.
#[derive(Debug)]
pub struct Compared<D: triglot_pipeline::OrderBackend, R> {
    /// triglot's side.
    pub fixture: Fixture<D>,
    /// The raw driver's side, on the same database.
    pub raw: R,
    // Declared last, so the database is dropped after both sides close.
    _test: TestDb<D>,
}

impl<D: triglot_pipeline::OrderBackend, R: raw::Raw> Compared<D, R> {
    /// Sets up `lines` order lines for `bench`; `None`, after one line on
    /// standard error saying why, when the backend's server is unreachable.
    pub fn new(bench: &str, lines: usize) -> Option<Self> {
        let test = match TestDb::<D>::try_new(bench, &triglot_pipeline::MIGRATIONS) {
            Ok(test) => test,
            Err(e) => {
                eprintln!("skipping {bench} on {}: {e} ({})", D::NAME, D::START_HINT);
                return None;
            }
        };
        let fixture = Fixture::on(&test, lines).expect("filling the fixture");
        // The raw driver's message may echo the URL: scrub its password.
        let url = triglot::DatabaseUrl::parse(fixture.url()).expect("a parsed URL");
        let raw = R::connect(fixture.url()).unwrap_or_else(|e| {
            panic!("{}: the raw driver cannot connect: {}", D::NAME, url.scrub(&e))
        });
        Some(Self { fixture, raw, _test: test })
    }
}

/// The instant the fixture's orders are placed after.
pub fn epoch() -> NaiveDateTime {
    chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default().naive_utc()
}

/// A database holding `lines` order lines (four per order, about 30 %
/// NULLs, text of 0 to 60 characters, microsecond times), and a pool on it
/// without TLS.
#[derive(Debug)]
pub struct Fixture<D: OrderBackend> {
    /// A pool on the fixture's database, plain TCP.
    pub db: Database<D>,
    url: String,
    /// Order lines in the database.
    pub lines: usize,
}

impl<D: OrderBackend> Fixture<D> {
    /// Fills the migrated, empty database `test` and opens a plain-TCP pool on it.
    ///
    /// # Errors
    ///
    /// Opening or filling fails.
    pub fn on(test: &Database<D>, lines: usize) -> Result<Self> {
        let url = plain_tcp(test.url().expose());
        let db = Database::<D>::open_with(&url, PoolConfig::default())?;
        fill(&db, lines.div_ceil(4), 4)?;
        Ok(Self { db, url, lines })
    }

    /// The database URL for the raw driver (no TLS; it may hold a password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The keyset page that holds every line: `(after_id, limit)`.
    pub fn page(&self) -> (i64, i64) {
        (0, self.lines as i64)
    }

    /// Every line as a row to insert again (for the insert benches).
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn rows(&self) -> Result<Vec<NewOrderLine>> {
        let (after, limit) = self.page();
        let lines = self.db.run("reading lines", |c| c.lines_after(after, limit))?;
        Ok(lines.into_iter().map(NewOrderLine::from).collect())
    }

    /// Empties `order_lines` (between insert rounds; not timed) so that each
    /// insert starts from the same state: on the servers `TRUNCATE` (no dead
    /// rows or index entries left for the next insert to step over) and a
    /// checkpoint; on SQLite `DELETE` and an emptied write-ahead log, instead
    /// of a checkpoint the previous round left due.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn clear_lines(&self) -> Result<()> {
        use diesel::connection::SimpleConnection;
        let sql = if D::URL_SCHEMES.contains(&"sqlite") {
            "DELETE FROM order_lines; PRAGMA wal_checkpoint(TRUNCATE);"
        } else if D::URL_SCHEMES.contains(&"postgres") {
            "TRUNCATE order_lines; CHECKPOINT;"
        } else {
            "TRUNCATE order_lines"
        };
        self.db.run("clearing lines", |c| c.batch_execute(sql))
    }
}

/// The URL with TLS switched off, so triglot and the raw driver speak the
/// same plain protocol (libpq prefers TLS when the server offers it).
pub fn plain_tcp(url: &str) -> String {
    if url.starts_with("postgres") && !url.contains("sslmode=") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}sslmode=disable")
    } else {
        url.to_owned()
    }
}

/// Writes `orders` orders of `lines_per_order` lines each into `db`.
///
/// # Errors
///
/// Any write error.
pub fn fill<D: OrderBackend>(
    db: &Database<D>,
    orders: usize,
    lines_per_order: usize,
) -> Result<()> {
    let anchor = epoch();
    let writer = OrderWriter::new(db);
    let mut batch = Vec::with_capacity(1_000);
    for n in 0..orders {
        let lines: Vec<LineRecord> = (1..=lines_per_order as i32)
            .map(|line_no| {
                let k = n * lines_per_order + line_no as usize;
                LineRecord {
                    line_no,
                    sku: format!("SKU-{:05}", k % 10_000),
                    quantity: 1 + (k % 9) as i32,
                    unit_price_cents: 100 + (k % 50_000) as i64,
                    discount_bp: (k % 10 < 3).then_some(500),
                    note: (k % 10 >= 3).then(|| "n".repeat(k % 61)),
                }
            })
            .collect();
        batch.push(OrderRecord {
            customer: triglot_pipeline::model::NewCustomer {
                external_id: format!("C{}", n % 1_000),
                name: "Bench Customer".into(),
                email: None,
                country: Some("DE".into()),
                created_at: anchor,
            },
            external_id: format!("O{n:08}"),
            status: triglot_pipeline::model::OrderStatus::Paid,
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
            placed_at: anchor + TimeDelta::microseconds(n as i64 * 1_000_003 + 1),
            updated_at: anchor,
            source: "bench".into(),
            lines,
        });
        if batch.len() == 1_000 {
            writer.write_batch(&batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        writer.write_batch(&batch)?;
    }
    Ok(())
}

/// A fold over every field of a line, so a streaming pass must decode them all.
pub fn checksum(acc: u64, line: &OrderLine) -> u64 {
    let mut h = acc.wrapping_mul(31);
    h = h.wrapping_add(line.id as u64).wrapping_add(line.order_id as u64);
    h = h.wrapping_add(line.line_no as u64).wrapping_add(line.sku.len() as u64);
    h = h.wrapping_add(line.quantity as u64).wrapping_add(line.unit_price_cents as u64);
    h = h.wrapping_add(line.discount_bp.map_or(7, |d| d as u64));
    h.wrapping_add(line.note.as_ref().map_or(11, |n| n.len() as u64))
}

/// triglot's side of each measured path.
pub mod ours {
    use super::*;

    /// Loads one keyset page of lines into owned structs.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn decode<D: OrderBackend>(
        db: &Database<D>,
        (after, limit): (i64, i64),
    ) -> Result<Vec<OrderLine>> {
        db.run("decoding lines", |c| D::lines_after(c, after, limit))
    }

    /// Loads the same page through diesel's `Selectable` derive on the
    /// model (`OrderLine::as_select()`), as a user's own struct is loaded.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn selectable<D: OrderBackend>(
        db: &Database<D>,
        (after, limit): (i64, i64),
    ) -> Result<Vec<OrderLine>> {
        db.run("decoding lines", |c| c.lines_after(after, limit))
    }

    /// Decodes one keyset page of lines without collecting; returns the checksum.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn stream<D: OrderBackend>(db: &Database<D>, (after, limit): (i64, i64)) -> Result<u64> {
        let mut sum = 0;
        db.run("streaming lines", |c| {
            D::for_each_line_after(c, after, limit, &mut |row| sum = checksum(sum, &row))
        })?;
        Ok(sum)
    }

    /// Inserts `rows` in one transaction through the pipeline's bulk path,
    /// as the writer does (it owns the rows it writes; the caller makes the
    /// copy before the clock starts).
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn insert<D: OrderBackend>(db: &Database<D>, rows: Vec<NewOrderLine>) -> Result<()> {
        let caps = db.capabilities();
        let mut rows = Some(rows);
        db.write("inserting lines", |c| {
            D::insert_lines(c, caps, rows.take().unwrap_or_default()).map(drop)
        })
    }
}

/// The wall time of `iters` check-outs and returns spread over `threads` threads.
pub fn checkouts<M: ManageConnection>(pool: &Pool<M>, threads: u64, iters: u64) -> Duration {
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let share = iters / threads + u64::from(t < iters % threads);
            s.spawn(move || {
                for _ in 0..share {
                    drop(pool.get().expect("checkout"));
                }
            });
        }
    });
    started.elapsed()
}

/// The time of one check-out and return, averaged over many, of a pool whose
/// connections were all used a moment ago.
pub fn checkout_per_op<M: ManageConnection>(pool: &Pool<M>) -> Duration {
    const N: u32 = 2_000;
    drop(pool.get().expect("checkout"));
    checkouts(pool, 1, u64::from(N)) / N
}

/// r2d2 as diesel sets it up, with its default check-out test (a ping every
/// time), holding up to `max_size` connections.
pub fn plain_r2d2<D: triglot::Dialect>(
    url: &str,
    max_size: u32,
) -> Pool<ConnectionManager<D::Connection>> {
    let url = triglot::DatabaseUrl::parse(url).expect("url");
    let target = D::connect_target(&url).expect("target");
    // r2d2's message may carry the driver's, which may echo the URL.
    Pool::builder()
        .max_size(max_size)
        .build(ConnectionManager::new(target.connection_string))
        .unwrap_or_else(|e| panic!("plain r2d2 pool: {}", url.scrub(&e.to_string())))
}

/// The median of `samples` (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Median, least and most of some measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The least.
    pub min: f64,
    /// The most.
    pub max: f64,
}

impl Spread {
    /// The spread of `values` (zeros when there are none).
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().collect();
        v.sort_by(f64::total_cmp);
        match (v.first(), v.last()) {
            // An even count's median is the mean of its two middle values.
            (Some(&min), Some(&max)) => {
                let mid = v.len() / 2;
                let median =
                    if v.len().is_multiple_of(2) { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] };
                Spread { median, min, max }
            }
            _ => Spread::default(),
        }
    }
}

/// Times one run of `f`.
pub fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let out = f();
    (started.elapsed(), out)
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn a_spread_has_the_middle_value_or_the_mean_of_the_two_middle_values() {
        let odd = Spread::of([3.0, 1.0, 2.0]);
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Spread::of([4.0, 1.0, 2.0, 8.0]);
        assert_eq!((even.median, even.min, even.max), (3.0, 1.0, 8.0));
        let empty = Spread::of([]);
        assert_eq!((empty.median, empty.min, empty.max), (0.0, 0.0, 0.0));
    }
}
