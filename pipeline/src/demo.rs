//! A deterministic set of sample orders, and the demo run that writes and summarizes them.

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};

use crate::backend::OrderBackend;
use crate::model::{
    IngestRunQueries, NewCustomer, NewIngestRun, OrderLineQueries, OrderQueries, OrderStatus,
    RunStatus, RunUpdate, StatusTotal, line_amount_cents,
};
use crate::writer::{LineRecord, OrderRecord, OrderWriter, WriteSummary};
use triglot::Database;
use triglot::Result;

/// Sample orders generated from a seed: the same seed and count give the same
/// records on every machine.
///
/// Orders are placed over the 30 days before `anchor`; customers are shared
/// between orders (about one per five orders), lines number 1 to 5 per order, about
/// a third of the nullable columns are NULL, and some notes hold 4-byte
/// characters.
///
/// # Example
///
/// ```
/// use triglot_pipeline::DemoData;
/// let anchor = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
/// let a: Vec<_> = DemoData::new(7, 10, anchor).records().collect();
/// let b: Vec<_> = DemoData::new(7, 10, anchor).records().collect();
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoData {
    seed: u64,
    orders: u64,
    anchor: NaiveDateTime,
}

impl DemoData {
    /// `orders` sample orders from `seed`, placed before `anchor`.
    pub fn new(seed: u64, orders: u64, anchor: NaiveDateTime) -> Self {
        Self { seed, orders, anchor }
    }

    /// Like [`DemoData::new`], anchored at the start of today (UTC).
    pub fn today(seed: u64, orders: u64) -> Self {
        let anchor = Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
        Self::new(seed, orders, anchor)
    }

    /// The instant the orders are placed before (UTC).
    pub fn anchor(&self) -> NaiveDateTime {
        self.anchor
    }

    /// Number of orders.
    pub fn orders(&self) -> u64 {
        self.orders
    }

    /// The `source` the generated orders carry: `demo:seed=<seed>`.
    pub fn source(&self) -> String {
        format!("demo:seed={}", self.seed)
    }

    /// The records, in order.
    pub fn records(&self) -> impl Iterator<Item = OrderRecord> + '_ {
        (0..self.orders).map(move |n| self.record(n))
    }

    fn record(&self, n: u64) -> OrderRecord {
        let mut rng = SplitMix64::new(self.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // Customers are drawn from those of earlier orders (about one per five
        // orders), so the first N orders never depend on how many follow.
        let c = rng.below(n / 5 + 1);
        let mut customer_rng = SplitMix64::new(self.seed.wrapping_add(c).wrapping_mul(31));
        let customer = NewCustomer {
            external_id: format!("CUST-{}-{c:06}", self.seed),
            name: format!(
                "{} {}",
                FIRST[customer_rng.below(FIRST.len() as u64) as usize],
                LAST[customer_rng.below(LAST.len() as u64) as usize]
            ),
            email: customer_rng.chance(70).then(|| format!("customer{c}@example.com")),
            country: customer_rng
                .chance(70)
                .then(|| COUNTRIES[customer_rng.below(COUNTRIES.len() as u64) as usize].to_owned()),
            created_at: self.anchor - TimeDelta::days(400),
        };
        let micros_back = rng.below(30 * 24 * 3_600 * 1_000_000) as i64 + 1;
        let placed_at = self.anchor - TimeDelta::microseconds(micros_back);
        let updated_at =
            placed_at + TimeDelta::microseconds(rng.below(48 * 3_600 * 1_000_000) as i64);
        let lines: Vec<LineRecord> = (1..=1 + rng.below(5) as i32)
            .map(|line_no| LineRecord {
                line_no,
                sku: format!("SKU-{:04}", rng.below(500)),
                quantity: 1 + rng.below(9) as i32,
                unit_price_cents: 99 + rng.below(49_900) as i64,
                discount_bp: rng
                    .chance(30)
                    .then(|| DISCOUNTS[rng.below(DISCOUNTS.len() as u64) as usize]),
                note: rng
                    .chance(20)
                    .then(|| NOTES[rng.below(NOTES.len() as u64) as usize].to_owned()),
            })
            .collect();
        let total_cents = lines
            .iter()
            .map(|l| line_amount_cents(l.quantity, l.unit_price_cents, l.discount_bp))
            .sum();
        OrderRecord {
            customer,
            external_id: format!("DEMO-{}-{n:07}", self.seed),
            status: STATUSES[rng.below(STATUSES.len() as u64) as usize],
            currency: CURRENCIES[rng.below(CURRENCIES.len() as u64) as usize].to_owned(),
            total_cents,
            placed_at,
            updated_at,
            source: self.source(),
            lines,
        }
    }
}

/// What a demo run wrote, and the figures the database now holds for its source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoSummary {
    /// Backend display name.
    pub backend: &'static str,
    /// Orders stored for the demo's source.
    pub orders: i64,
    /// Lines of those orders.
    pub lines: i64,
    /// Orders and revenue by status and currency.
    pub by_status: Vec<StatusSummary>,
    /// What this run changed.
    pub written: WriteSummary,
    /// The ingest run recorded for it.
    pub run_id: i64,
    /// Wall time of the write.
    #[serde(with = "duration_secs")]
    pub elapsed: Duration,
}

/// One row of a demo summary's revenue table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusSummary {
    /// Order status.
    pub status: String,
    /// Currency code.
    pub currency: String,
    /// Orders.
    pub orders: i64,
    /// Revenue in cents.
    pub total_cents: i64,
}

impl From<StatusTotal> for StatusSummary {
    fn from(t: StatusTotal) -> Self {
        Self {
            status: t.status.to_string(),
            currency: t.currency,
            orders: t.orders,
            total_cents: t.total_cents,
        }
    }
}

impl DemoSummary {
    /// Rows written per second of wall time (orders plus lines).
    pub fn rows_per_second(&self) -> f64 {
        let rows = (self.written.orders() + self.written.lines_written) as f64;
        rows / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Writes `data` in batches of `batch_size` orders, calling `progress` with
/// the orders done after each batch, records an ingest run, and summarizes
/// what the database holds for the demo's source.
///
/// # Errors
///
/// The first failing batch's classified error; batches before it stay committed.
pub fn run_demo<D: OrderBackend>(
    db: &Database<D>,
    data: &DemoData,
    batch_size: usize,
    mut progress: impl FnMut(u64),
) -> Result<DemoSummary> {
    let source = data.source();
    let now = Utc::now().naive_utc();
    let caps = *db.capabilities();
    let run_id = db.write("recording the demo run", |conn| {
        D::insert_run(conn, &caps, NewIngestRun::start(&source, "builtin:demo", now))
    })?;
    let writer = OrderWriter::new(db);
    let started = Instant::now();
    let mut written = WriteSummary::default();
    // A batch size may exceed what memory holds; the batch grows as it fills.
    let mut batch = Vec::with_capacity(batch_size.min(4_096));
    let mut outcome = Ok(());
    for record in data.records() {
        batch.push(record);
        if batch.len() == batch_size.max(1) {
            outcome = writer.write_batch(&batch).map(|s| written.add(s));
            batch.clear();
            progress(written.orders());
            if outcome.is_err() {
                break;
            }
        }
    }
    if outcome.is_ok() && !batch.is_empty() {
        outcome = writer.write_batch(&batch).map(|s| written.add(s));
        progress(written.orders());
    }
    let elapsed = started.elapsed();
    let update = RunUpdate {
        finished_at: Some(Utc::now().naive_utc()),
        status: if outcome.is_ok() { RunStatus::Completed } else { RunStatus::Failed }.to_string(),
        records_read: written.orders() as i64,
        records_accepted: written.orders() as i64,
        records_rejected: 0,
        orders_inserted: written.orders_inserted as i64,
        orders_updated: written.orders_updated as i64,
        orders_unchanged: written.orders_unchanged as i64,
        error: outcome.as_ref().err().map(ToString::to_string),
        retries: written.retries as i64,
    };
    db.write("finishing the demo run", |conn| conn.update_run(run_id, update))?;
    outcome?;

    let (by_status, lines) = db.run("summarizing the demo", |conn| {
        Ok((conn.status_totals(&source, D::BIGINT_CAST)?, conn.count_lines_from_source(&source)?))
    })?;
    let orders = by_status.iter().map(|t| t.orders).sum();
    Ok(DemoSummary {
        backend: D::NAME,
        orders,
        lines,
        by_status: by_status.into_iter().map(StatusSummary::from).collect(),
        written,
        run_id,
        elapsed,
    })
}

mod duration_secs {
    pub(super) fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

const STATUSES: [OrderStatus; 8] = [
    OrderStatus::Pending,
    OrderStatus::Paid,
    OrderStatus::Paid,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
    OrderStatus::Refunded,
];
const CURRENCIES: [&str; 5] = ["EUR", "EUR", "EUR", "USD", "GBP"];
const COUNTRIES: [&str; 6] = ["DE", "FR", "US", "GB", "JP", "BR"];
const DISCOUNTS: [i32; 5] = [500, 1_000, 1_500, 2_000, 5_000];
const FIRST: [&str; 8] = ["Ada", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gus", "Hana"];
const LAST: [&str; 8] =
    ["Lovelace", "Øster", "Dupont", "Ivanov", "Kim", "Haddad", "Grissom", "Sato"];
const NOTES: [&str; 5] = ["gift wrap 🎁", "leave at door", "", "fragile", "「至急」"];

/// SplitMix64: a tiny, fixed generator, so demo data never changes with a
/// dependency's version.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with `percent` % probability.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
