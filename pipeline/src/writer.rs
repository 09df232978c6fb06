//! Writing orders with their lines: batched, one transaction per batch, by natural key.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use triglot::{Capabilities, Database, Result, RetryPolicy};

use crate::backend::OrderBackend;
use crate::model::{
    CustomerQueries, NewCustomer, NewOrder, NewOrderLine, OrderLineQueries, OrderQueries,
    OrderStatus,
};

/// An order with its customer and lines, as it arrives from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Who placed it; inserted or updated by `external_id`.
    pub customer: NewCustomer,
    /// The order's id in its source system.
    pub external_id: String,
    /// Lifecycle state.
    pub status: OrderStatus,
    /// ISO 4217 code.
    pub currency: String,
    /// Total in integer cents.
    pub total_cents: i64,
    /// When it was placed (UTC).
    pub placed_at: NaiveDateTime,
    /// When the source last changed it (UTC).
    pub updated_at: NaiveDateTime,
    /// Where it came from.
    pub source: String,
    /// Its lines; `line_no` unique within the order.
    pub lines: Vec<LineRecord>,
}

/// One line of an [`OrderRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRecord {
    /// Position in the order, from 1.
    pub line_no: i32,
    /// Stock keeping unit.
    pub sku: String,
    /// Quantity, greater than zero.
    pub quantity: i32,
    /// Unit price in cents.
    pub unit_price_cents: i64,
    /// Discount in basis points, if any.
    pub discount_bp: Option<i32>,
    /// Free text, if any.
    pub note: Option<String>,
}

impl OrderRecord {
    /// A stable 64-bit fingerprint of everything stored for this order except
    /// its `source` (FNV-1a over a canonical encoding).
    ///
    /// A writer compares it with the stored one: equal means the order and its
    /// lines are unchanged and nothing is written. The same input on any
    /// machine or backend gives the same value.
    pub fn content_hash(&self) -> i64 {
        let mut h = Fnv1a::new();
        h.text(&self.customer.external_id);
        h.text(&self.external_id);
        h.text(self.status.as_str());
        h.text(&self.currency);
        h.int(self.total_cents);
        h.int(self.placed_at.and_utc().timestamp_micros());
        h.int(self.updated_at.and_utc().timestamp_micros());
        h.int(self.lines.len() as i64);
        for line in &self.lines {
            h.int(i64::from(line.line_no));
            h.text(&line.sku);
            h.int(i64::from(line.quantity));
            h.int(line.unit_price_cents);
            h.opt_int(line.discount_bp.map(i64::from));
            h.opt_text(line.note.as_deref());
        }
        h.finish() as i64
    }
}

/// What a write did, counted by comparing fingerprints, not from the
/// driver's affected-row counts (which MySQL reports differently).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WriteSummary {
    /// Orders that did not exist.
    pub orders_inserted: u64,
    /// Orders that existed and changed; their lines were replaced.
    pub orders_updated: u64,
    /// Orders that existed unchanged; nothing was written for them.
    pub orders_unchanged: u64,
    /// Lines written (of inserted and updated orders).
    pub lines_written: u64,
    /// Batches attempted again after a retryable failure (busy, deadlock,
    /// serialization failure, lock wait timeout).
    pub retries: u64,
}

impl WriteSummary {
    /// Adds another summary's counts to this one.
    pub fn add(&mut self, other: WriteSummary) {
        self.orders_inserted += other.orders_inserted;
        self.orders_updated += other.orders_updated;
        self.orders_unchanged += other.orders_unchanged;
        self.lines_written += other.lines_written;
        self.retries += other.retries;
    }

    /// Orders seen: inserted + updated + unchanged.
    pub fn orders(&self) -> u64 {
        self.orders_inserted + self.orders_updated + self.orders_unchanged
    }
}

/// Writes [`OrderRecord`]s: each batch in one write transaction, customers and
/// orders upserted by external id, the lines of new and changed orders
/// replaced, unchanged orders skipped.
///
/// No order is ever visible without all of its lines, and writing the same
/// records again writes nothing.
///
/// # Example
///
/// ```no_run
/// # fn demo<D: triglot_pipeline::OrderBackend>(db: &triglot::Database<D>, records: Vec<triglot_pipeline::OrderRecord>) -> triglot::Result<()> {
/// let summary = triglot_pipeline::OrderWriter::new(db).write_batch(&records)?;
/// println!("{} new orders", summary.orders_inserted);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct OrderWriter<'db, D: OrderBackend> {
    db: &'db Database<D>,
    retry: RetryPolicy,
}

impl<'db, D: OrderBackend> OrderWriter<'db, D> {
    /// A writer on `db` with [`RetryPolicy::through_restarts`]: a batch is
    /// idempotent (a second run of it writes nothing), so it is also run
    /// again after a lost connection, once the server is back.
    pub fn new(db: &'db Database<D>) -> Self {
        Self { db, retry: RetryPolicy::through_restarts() }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Writes one batch in one transaction, retrying it whole on retryable errors.
    ///
    /// Records with the same `external_id` within a batch: the last one wins.
    ///
    /// # Errors
    ///
    /// The classified database error once retries are exhausted or for a
    /// non-retryable failure; the batch is then rolled back and earlier
    /// batches stay committed.
    pub fn write_batch(&self, records: &[OrderRecord]) -> Result<WriteSummary> {
        self.write_batch_with(records, |_, _| Ok(()))
    }

    /// Like [`OrderWriter::write_batch`], running `also` in the same
    /// transaction after the orders are written, with what they did (its
    /// `retries` counts the attempts before this one); an ingest records its
    /// rejects and run counters there, so they commit (or roll back) together
    /// with the orders. `also` runs again on a retry.
    ///
    /// # Errors
    ///
    /// As [`OrderWriter::write_batch`]; a failure of `also` rolls back the batch.
    pub fn write_batch_with(
        &self,
        records: &[OrderRecord],
        mut also: impl FnMut(&mut D::Connection, &WriteSummary) -> diesel::QueryResult<()>,
    ) -> Result<WriteSummary> {
        // The attempt that succeeded counts the ones before it.
        let done =
            self.db.retry(&self.retry, |attempt| self.try_batch(records, attempt, &mut also))?;
        Ok(done.value)
    }

    fn try_batch(
        &self,
        records: &[OrderRecord],
        attempt: u32,
        also: &mut dyn FnMut(&mut D::Connection, &WriteSummary) -> diesel::QueryResult<()>,
    ) -> Result<WriteSummary> {
        let mut records = last_per_key(records);
        let customers = unique_customers(&records);
        // Concurrent writers lock rows in one order, key by key (customers,
        // then orders, then their lines), so that batches over the same keys
        // wait for each other instead of deadlocking.
        records.sort_unstable_by(|a, b| a.external_id.cmp(&b.external_id));
        let caps = self.db.capabilities();
        let mut conn = self.db.get()?;
        let mut step = "upserting customers";
        D::write_transaction(&mut conn, |conn| {
            let customers = customers.clone();
            let keys: Vec<String> = customers.iter().map(|c| c.external_id.clone()).collect();
            D::upsert_customers(conn, caps, customers)?;
            step = "reading customer ids";
            let customer_ids = lookup(&keys, caps.max_bind_params, |k| conn.customer_ids(k))?;

            step = "reading stored orders";
            let keys: Vec<String> = records.iter().map(|r| r.external_id.clone()).collect();
            let stored: HashMap<String, (i64, i64)> = keys
                .chunks(caps.max_bind_params.max(1))
                .map(|k| conn.order_fingerprints(k))
                .collect::<diesel::QueryResult<Vec<_>>>()?
                .into_iter()
                .flatten()
                .map(|(key, id, hash)| (key, (id, hash)))
                .collect();

            let mut summary =
                WriteSummary { retries: u64::from(attempt - 1), ..WriteSummary::default() };
            let mut changed_ids = Vec::new();
            let mut to_write = Vec::new();
            for record in &records {
                let hash = record.content_hash();
                match stored.get(&record.external_id) {
                    Some(&(_, stored_hash)) if stored_hash == hash => summary.orders_unchanged += 1,
                    Some(&(id, _)) => {
                        summary.orders_updated += 1;
                        changed_ids.push(id);
                        to_write.push((*record, hash));
                    }
                    None => {
                        summary.orders_inserted += 1;
                        to_write.push((*record, hash));
                    }
                }
            }
            if !to_write.is_empty() {
                step = "upserting orders";
                write_orders::<D>(
                    conn,
                    &to_write,
                    &customer_ids,
                    &changed_ids,
                    caps,
                    &mut summary,
                    &mut step,
                )?;
            }
            step = "recording the batch";
            also(conn, &summary)?;
            Ok(summary)
        })
        .map_err(|e: diesel::result::Error| self.db.error(step, e))
    }
}

/// Upserts new and changed orders, replaces the lines of changed ones and
/// inserts the lines of both; `step` names what is running, for errors.
fn write_orders<D: OrderBackend>(
    conn: &mut D::Connection,
    to_write: &[(&OrderRecord, i64)],
    customer_ids: &HashMap<String, i64>,
    changed_ids: &[i64],
    caps: &Capabilities,
    summary: &mut WriteSummary,
    step: &mut &'static str,
) -> diesel::QueryResult<()> {
    let rows: Vec<NewOrder> = to_write
        .iter()
        .map(|(r, hash)| Ok(new_order(r, id_of(customer_ids, &r.customer.external_id)?, *hash)))
        .collect::<diesel::QueryResult<_>>()?;
    D::upsert_orders(conn, caps, rows)?;

    *step = "removing replaced lines";
    for chunk in changed_ids.chunks(caps.max_bind_params.max(1)) {
        conn.delete_lines_of(chunk)?;
    }

    *step = "reading order ids";
    let keys: Vec<String> = to_write.iter().map(|(r, _)| r.external_id.clone()).collect();
    let order_ids = lookup(&keys, caps.max_bind_params, |k| {
        Ok(conn.order_fingerprints(k)?.into_iter().map(|(key, id, _)| (key, id)).collect())
    })?;

    *step = "inserting order lines";
    let mut lines = Vec::new();
    for (record, _) in to_write {
        let order_id = id_of(&order_ids, &record.external_id)?;
        lines.extend(record.lines.iter().map(|line| new_line(order_id, line)));
    }
    summary.lines_written += lines.len() as u64;
    D::insert_lines(conn, caps, lines)?;
    Ok(())
}

/// Looks up `(key, id)` pairs in chunks that respect the bind-parameter limit.
fn lookup(
    keys: &[String],
    max_bind_params: usize,
    mut query: impl FnMut(&[String]) -> diesel::QueryResult<Vec<(String, i64)>>,
) -> diesel::QueryResult<HashMap<String, i64>> {
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(max_bind_params.max(1)) {
        found.extend(query(chunk)?);
    }
    Ok(found)
}

/// The id stored for `key`; a key that vanished inside the transaction is an error, not a panic.
fn id_of(ids: &HashMap<String, i64>, key: &str) -> diesel::QueryResult<i64> {
    ids.get(key).copied().ok_or_else(|| {
        diesel::result::Error::DeserializationError(
            format!("no stored id for key {key:?} right after writing it").into(),
        )
    })
}

/// The last record of each external id, in first-seen order.
fn last_per_key(records: &[OrderRecord]) -> Vec<&OrderRecord> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(records.len());
    let mut out: Vec<&OrderRecord> = Vec::with_capacity(records.len());
    for record in records {
        match index.get(record.external_id.as_str()) {
            Some(&i) => out[i] = record,
            None => {
                index.insert(&record.external_id, out.len());
                out.push(record);
            }
        }
    }
    out
}

/// The last version of each customer in the batch (by file order), in key
/// order.
fn unique_customers(records: &[&OrderRecord]) -> Vec<NewCustomer> {
    let mut seen = HashSet::with_capacity(records.len());
    let mut out: Vec<NewCustomer> = Vec::new();
    for record in records.iter().rev() {
        if seen.insert(record.customer.external_id.as_str()) {
            out.push(record.customer.clone());
        }
    }
    out.sort_unstable_by(|a, b| a.external_id.cmp(&b.external_id));
    out
}

fn new_order(record: &OrderRecord, customer_id: i64, content_hash: i64) -> NewOrder {
    NewOrder {
        external_id: record.external_id.clone(),
        customer_id,
        status: record.status,
        currency: record.currency.clone(),
        total_cents: record.total_cents,
        placed_at: record.placed_at,
        updated_at: record.updated_at,
        source: record.source.clone(),
        content_hash,
    }
}

fn new_line(order_id: i64, line: &LineRecord) -> NewOrderLine {
    NewOrderLine {
        order_id,
        line_no: line.line_no,
        sku: line.sku.clone(),
        quantity: line.quantity,
        unit_price_cents: line.unit_price_cents,
        discount_bp: line.discount_bp,
        note: line.note.clone(),
    }
}

/// 64-bit FNV-1a with length-prefixed fields, so `("ab","c")` and `("a","bc")` differ.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn int(&mut self, v: i64) {
        self.bytes(&v.to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.int(s.len() as i64);
        self.bytes(s.as_bytes());
    }

    fn opt_int(&mut self, v: Option<i64>) {
        match v {
            Some(v) => {
                self.bytes(&[1]);
                self.int(v);
            }
            None => self.bytes(&[0]),
        }
    }

    fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => {
                self.bytes(&[1]);
                self.text(v);
            }
            None => self.bytes(&[0]),
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, lines: usize) -> OrderRecord {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap().naive_utc();
        OrderRecord {
            customer: NewCustomer {
                external_id: "C1".into(),
                name: "Ann".into(),
                email: None,
                country: None,
                created_at: at,
            },
            external_id: key.into(),
            status: OrderStatus::Paid,
            currency: "EUR".into(),
            total_cents: 100,
            placed_at: at,
            updated_at: at,
            source: "test".into(),
            lines: (1..=lines)
                .map(|n| LineRecord {
                    line_no: n as i32,
                    sku: "S".into(),
                    quantity: 1,
                    unit_price_cents: 100,
                    discount_bp: None,
                    note: None,
                })
                .collect(),
        }
    }

    #[test]
    fn hash_ignores_source_but_sees_lines() {
        let a = record("O1", 2);
        let mut b = a.clone();
        b.source = "other.csv".into();
        assert_eq!(a.content_hash(), b.content_hash());
        b.lines[1].note = Some(String::new());
        assert_ne!(a.content_hash(), b.content_hash(), "empty note differs from NULL");
    }

    #[test]
    fn last_record_of_a_key_wins_in_first_seen_order() {
        let mut second = record("O1", 3);
        second.total_cents = 7;
        let records = [record("O1", 1), record("O2", 1), second];
        let kept = last_per_key(&records);
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].external_id.as_str(), kept[0].total_cents), ("O1", 7));
        assert_eq!(kept[1].external_id, "O2");
    }
}
