//! Ingest: input files through a contract into the database, every record
//! either written or rejected with its file, line, field and reason.
//!
//! Records stream from the files (one order in memory at a time, plus a
//! fingerprint of each finished order key), become orders or rejects
//! ([`assemble`]), and are written in batches: each batch's orders, its
//! rejects and the run's updated counters commit in one transaction, so the
//! run row reconciles (`read = accepted + rejected`) at every commit, also
//! for a run killed half-way. Writing is idempotent ([`OrderWriter`]): running
//! the same input again changes no order.

mod assemble;
pub mod generate;
pub(crate) mod rejects_file;
pub(crate) mod sort;
pub(crate) mod source;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;

use self::assemble::{Assembled, stored_source};
use self::rejects_file::RejectsFile;
use self::source::{FileFormat, Source};
use crate::backend::OrderBackend;
use crate::contract::{Contract, Layout, Reject};
use crate::error::{Error, Result};
use crate::model::{
    IngestRunQueries, NewIngestRun, NewReject, RejectQueries, RunStatus, RunUpdate,
};
use crate::writer::{OrderRecord, OrderWriter, WriteSummary};
use triglot::{Database, RetryPolicy};

/// How an ingest runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// Orders per transaction.
    pub batch_size: usize,
    /// Also write every reject to this CSV file.
    pub rejects_csv: Option<PathBuf>,
    /// The bytes of records a two-file join holds in memory while it sorts
    /// each file by key; past it, sorted runs go to temporary files.
    pub sort_memory: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self { batch_size: 1_000, rejects_csv: None, sort_memory: 64 << 20 }
    }
}

/// Where an ingest is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input read so far.
    pub bytes: u64,
    /// Bytes of input in all.
    pub total_bytes: u64,
    /// Records decided so far (accepted or rejected).
    pub records: u64,
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IngestSummary {
    /// Backend display name.
    pub backend: &'static str,
    /// The contract's name.
    pub contract: String,
    /// The input files, as given.
    pub files: Vec<String>,
    /// The `ingest_runs` row of this run.
    pub run_id: i64,
    /// Records read; always `records_accepted + records_rejected`.
    pub records_read: u64,
    /// Records that became part of a written order.
    pub records_accepted: u64,
    /// Records refused, each stored in `rejects`.
    pub records_rejected: u64,
    /// What the accepted orders did to the database.
    pub written: WriteSummary,
    /// Rejected records by reason code.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl IngestSummary {
    /// Records per second of wall time.
    pub fn records_per_second(&self) -> f64 {
        self.records_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Ingests `files` into `db` through `contract`.
///
/// Every file is opened, and every CSV header checked against the contract,
/// before a run is recorded or a row read. With the orders-and-lines layout
/// the files come in pairs: an orders file, then its lines file.
///
/// # Errors
///
/// - [`Error::Contract`] when a header lacks a column the contract names;
/// - [`Error::Io`] / [`Error::Input`] when a file cannot be read;
/// - [`Error::IngestStopped`] when a batch cannot be written (after retries
///   for retryable errors): the batches committed before it stay, the run is
///   marked failed, and running the same command again completes the job.
pub fn ingest<D: OrderBackend>(
    db: &Database<D>,
    contract: &Contract,
    files: &[PathBuf],
    options: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<IngestSummary> {
    let started = Instant::now();
    let units = open_all(contract, files)?;
    let total_bytes = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let now = Utc::now().naive_utc();
    let caps = *db.capabilities();
    let through_restarts = RetryPolicy::through_restarts();
    let run_id = db
        .write_with_retry("recording the ingest run", &through_restarts, |conn| {
            D::insert_run(
                conn,
                &caps,
                NewIngestRun::start(names.join(" "), stored_source(&contract.name), now),
            )
        })?
        .value;
    let rejects_csv = match &options.rejects_csv {
        Some(path) => Some(RejectsFile::create(path)?),
        None => None,
    };

    let mut batch = Batch {
        db,
        writer: OrderWriter::new(db),
        run_id,
        batch_size: options.batch_size.max(1),
        orders: Vec::new(),
        rejects: Vec::new(),
        pending_accepted: 0,
        committed: Totals::default(),
        by_reason: BTreeMap::new(),
        rejects_csv,
    };
    // Records decided so far, shared by the batch (which counts) and the progress display.
    let decided = Cell::new(0_u64);
    let mut base = 0;
    let mut outcome = Ok(());
    for unit in units {
        let size = unit.bytes();
        let mut emit = |item: Assembled| {
            decided.set(decided.get() + item.records());
            batch.push(item)
        };
        let mut report = |offset: u64| {
            progress(Progress { bytes: base + offset, total_bytes, records: decided.get() })
        };
        outcome = unit.run(contract, options.sort_memory, &mut emit, &mut report);
        base += size;
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        outcome = batch.flush();
    }
    let totals = batch.committed;
    let status = if outcome.is_ok() { RunStatus::Completed } else { RunStatus::Failed };
    let finish = RunUpdate {
        finished_at: Some(Utc::now().naive_utc()),
        status: status.to_string(),
        ..totals.update()
    };
    let finish = RunUpdate { error: outcome.as_ref().err().map(ToString::to_string), ..finish };
    db.write_with_retry("finishing the ingest run", &through_restarts, |conn| {
        conn.update_run(run_id, finish.clone())
    })?;
    if let Err(cause) = outcome {
        return Err(Error::IngestStopped {
            run_id,
            batches: totals.batches,
            orders: totals.written.orders(),
            records: totals.read(),
            cause: Box::new(cause),
        });
    }
    progress(Progress { bytes: total_bytes, total_bytes, records: totals.read() });
    Ok(IngestSummary {
        backend: D::NAME,
        contract: contract.name.clone(),
        files: names,
        run_id,
        records_read: totals.read(),
        records_accepted: totals.accepted,
        records_rejected: totals.rejected,
        written: totals.written,
        rejects_by_reason: batch.by_reason,
        elapsed: started.elapsed(),
    })
}

/// What a contract makes of some input, without a database: a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decided {
    /// Orders the input would write (after assembly and validation).
    pub orders: Vec<OrderRecord>,
    /// Records that became part of an order.
    pub records_accepted: u64,
    /// Refused records, in input order.
    pub rejects: Vec<Reject>,
}

/// Reads `files` through `contract` as [`ingest`] does, and returns the
/// orders it would write and the records it would refuse, touching no
/// database: for checking a contract on sample input.
///
/// # Errors
///
/// As [`ingest`] before it writes: a header that lacks a column of the
/// contract, an unreadable file, files not given in pairs for a two-file
/// contract.
///
/// # Example
///
/// ```no_run
/// use triglot_pipeline::contract::Contract;
///
/// let decided = triglot_pipeline::ingest::decide(&Contract::builtin_csv(), &["orders.csv".into()], 64 << 20)?;
/// println!("{} orders, {} rejects", decided.orders.len(), decided.rejects.len());
/// # Ok::<(), triglot_pipeline::Error>(())
/// ```
pub fn decide(contract: &Contract, files: &[PathBuf], sort_memory: usize) -> Result<Decided> {
    let mut decided = Decided::default();
    for unit in open_all(contract, files)? {
        let mut emit = |item: Assembled| {
            match item {
                Assembled::Order { record, records } => {
                    decided.orders.push(record);
                    decided.records_accepted += records;
                }
                Assembled::Rejected(reject) => decided.rejects.push(reject),
            }
            Ok(())
        };
        unit.run(contract, sort_memory, &mut emit, &mut |_| {})?;
    }
    Ok(decided)
}

/// One file, or an orders file with its lines file.
enum Unit {
    One(Box<Source>, u64),
    Pair(Box<Source>, Box<Source>, u64),
}

impl Unit {
    fn bytes(&self) -> u64 {
        match self {
            Unit::One(_, b) | Unit::Pair(_, _, b) => *b,
        }
    }

    fn run(
        self,
        contract: &Contract,
        sort_memory: usize,
        emit: &mut dyn FnMut(Assembled) -> Result<()>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        match (self, contract.layout) {
            (Unit::One(source, _), Layout::Rows) => {
                assemble::rows(contract, *source, emit, progress)
            }
            (Unit::One(source, _), _) => assemble::nested(contract, *source, emit, progress),
            (Unit::Pair(orders, lines, _), _) => {
                assemble::orders_and_lines(contract, *orders, *lines, sort_memory, emit, progress)
            }
        }
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Opens every input (checking CSV headers against the contract) before anything is read.
fn open_all(contract: &Contract, files: &[PathBuf]) -> Result<Vec<Unit>> {
    if files.is_empty() {
        return Err(Error::Input {
            path: PathBuf::new(),
            line: None,
            message: "no input files".into(),
        });
    }
    let mut units = Vec::new();
    if contract.layout == Layout::OrdersAndLines {
        if !files.len().is_multiple_of(2) {
            return Err(Error::Input {
                path: files[files.len() - 1].clone(),
                line: None,
                message: format!(
                    "contract {} joins an orders file with a lines file: give the files in pairs (orders, lines)",
                    contract.origin
                ),
            });
        }
        for pair in files.chunks(2) {
            let orders = Source::open(&pair[0], FileFormat::of(contract), contract.columns)?;
            let lines = Source::open(&pair[1], FileFormat::of(contract), contract.line_columns)?;
            check_columns(contract, &orders, &contract.order)?;
            check_columns(contract, &lines, &contract.line)?;
            units.push(Unit::Pair(
                Box::new(orders),
                Box::new(lines),
                size(&pair[0]) + size(&pair[1]),
            ));
        }
    } else {
        for file in files {
            let source = Source::open(file, FileFormat::of(contract), contract.columns)?;
            check_columns(contract, &source, &contract.order)?;
            check_columns(contract, &source, &contract.line)?;
            units.push(Unit::One(Box::new(source), size(file)));
        }
    }
    Ok(units)
}

fn check_columns(
    contract: &Contract,
    source: &Source,
    specs: &[crate::contract::FieldSpec],
) -> Result<()> {
    for spec in specs {
        source.resolve(spec, contract)?;
    }
    Ok(())
}

/// Counts of what has been committed.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    accepted: u64,
    rejected: u64,
    written: WriteSummary,
    batches: u64,
}

impl Totals {
    fn read(&self) -> u64 {
        self.accepted + self.rejected
    }

    fn update(&self) -> RunUpdate {
        RunUpdate {
            finished_at: None,
            status: RunStatus::Running.to_string(),
            records_read: self.read() as i64,
            records_accepted: self.accepted as i64,
            records_rejected: self.rejected as i64,
            orders_inserted: self.written.orders_inserted as i64,
            orders_updated: self.written.orders_updated as i64,
            orders_unchanged: self.written.orders_unchanged as i64,
            error: None,
            retries: self.written.retries as i64,
        }
    }
}

/// Orders and rejects waiting to be committed together.
struct Batch<'db, D: OrderBackend> {
    db: &'db Database<D>,
    writer: OrderWriter<'db, D>,
    run_id: i64,
    batch_size: usize,
    orders: Vec<OrderRecord>,
    rejects: Vec<Reject>,
    pending_accepted: u64,
    committed: Totals,
    by_reason: BTreeMap<String, u64>,
    rejects_csv: Option<RejectsFile>,
}

/// Rejects kept in memory at most before a batch is committed anyway.
const REJECTS_PER_BATCH: usize = 2_000;

impl<D: OrderBackend> Batch<'_, D> {
    fn push(&mut self, item: Assembled) -> Result<()> {
        match item {
            Assembled::Order { record, records } => {
                self.orders.push(record);
                self.pending_accepted += records;
            }
            Assembled::Rejected(reject) => self.rejects.push(reject),
        }
        if self.orders.len() >= self.batch_size || self.rejects.len() >= REJECTS_PER_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Commits the pending orders, rejects and run counters in one transaction.
    fn flush(&mut self) -> Result<()> {
        if self.orders.is_empty() && self.rejects.is_empty() {
            return Ok(());
        }
        let now = Utc::now().naive_utc();
        let rows: Vec<NewReject> = self
            .rejects
            .iter()
            .map(|r| NewReject {
                run_id: self.run_id,
                source: stored_source(&r.source),
                line: i64::try_from(r.line).unwrap_or(i64::MAX),
                field: r.field.clone(),
                reason: r.reason.clone(),
                detail: crate::contract::storable_text(&r.detail),
                raw: crate::contract::storable_text(&r.raw),
                created_at: now,
            })
            .collect();
        let per_statement = (self.db.capabilities().max_bind_params / 8).max(1);
        let mut after = self.committed;
        after.accepted += self.pending_accepted;
        after.rejected += self.rejects.len() as u64;
        after.batches += 1;
        let run_id = self.run_id;
        let before_read = self.committed.read();
        let mut committed_already = None;
        let written = self.writer.write_batch_with(&self.orders, |conn, summary| {
            if summary.retries > 0 {
                // The connection may have been lost after the server committed
                // an earlier attempt: the run row then counts this batch's
                // records already, and its rejects are stored.
                let run = conn.find_run(run_id)?;
                if run.records_read != before_read as i64 {
                    committed_already = Some(run);
                    return Ok(());
                }
            }
            for chunk in rows.chunks(per_statement) {
                conn.insert_rejects(chunk.to_vec())?;
            }
            let mut totals = after;
            totals.written.add(*summary);
            conn.update_run(run_id, totals.update()).map(drop)
        })?;
        match committed_already {
            Some(run) => {
                after.written.orders_inserted = run.orders_inserted as u64;
                after.written.orders_updated = run.orders_updated as u64;
                after.written.orders_unchanged = run.orders_unchanged as u64;
                after.written.retries += written.retries;
            }
            None => after.written.add(written),
        }
        self.committed = after;
        for reject in &self.rejects {
            *self.by_reason.entry(reject.reason.clone()).or_default() += 1;
        }
        if let Some(file) = &mut self.rejects_csv {
            file.write(&self.rejects)?;
        }
        self.orders.clear();
        self.rejects.clear();
        self.pending_accepted = 0;
        Ok(())
    }
}
