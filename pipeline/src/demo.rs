//! A deterministic set of sample orders: what `triglot demo` and `triglot
//! generate` write.

use chrono::{NaiveDateTime, TimeDelta, Utc};

use crate::model::{NewCustomer, OrderStatus, line_amount_cents};
use crate::writer::{LineRecord, OrderRecord};

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
