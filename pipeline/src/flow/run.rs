//! Running a flow: every source file read once, each table's records put in
//! key order in bounded memory, children joined to their parent by key,
//! each family decided and written in batches.
//!
//! A batch commits in one transaction: its families (a changed parent
//! upserted by its key, its children replaced), their fingerprints, its
//! rejects and the run's counters, so `read = accepted + rejected` holds at
//! every commit. Where the backend says so
//! ([`Capabilities::batches_per_commit`]), several batches share one
//! transaction, each in a savepoint. A family whose fingerprint is stored
//! unchanged writes nothing. When the database refuses a batch on a constraint (a foreign key
//! to a row that is not there, a CHECK), each family of the batch is written
//! alone, and those the database refuses become rejects with its reason.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::connection::TransactionManager;
use triglot::values::{SqlValue, Statement, Upsert};
use triglot::{Attempted, Capabilities, Database, ErrorKind, PooledConn, RetryPolicy};

use super::books::{self, Counts, FlowBackend, FlowQueries};
use super::evaluate::{Bound, Decided, Ready, decide, decide_attached};
use super::key_checks;
use super::known_ids::{KnownIds, LookupId};
use super::plan::{Family, Fill, Flow, Join, TablePlan};
use crate::contract::{ContractError, FieldError, Format, Reason, Reject};
use crate::error::{Error, Result};
use crate::ingest::rejects_file::RejectsFile;
use crate::ingest::sort::{Sorted, Sorter};
use crate::ingest::source::{RecordData, Resolved, Source, SourceRecord};

/// The rejects one batch holds at most: a file of nothing but refused
/// records still commits as it goes.
pub const REJECTS_PER_BATCH: usize = 2_000;

/// How a flow runs.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    /// Families (a parent with its children) per transaction; a batch
    /// also ends at [`REJECTS_PER_BATCH`] rejects. Each batch costs its
    /// statements' round trips, a commit and a turn on each table: a
    /// million-line ingest on PostgreSQL took 28.0, 25.5 and 24.8 s with
    /// 1,000, 2,000 and 3,000, holding 76, 101 and 119 MiB at its peak;
    /// the default is 2,000.
    pub batch_size: usize,
    /// The bytes of records each table's sort holds in memory; past it,
    /// sorted runs go to anonymous temporary files.
    pub sort_memory: usize,
    /// Retries of a batch that fails with a retryable error.
    pub retry: RetryPolicy,
    /// Also write every reject, as its batch commits, to this CSV file.
    pub rejects_csv: Option<PathBuf>,
}

impl Default for FlowOptions {
    fn default() -> Self {
        Self {
            batch_size: 2_000,
            sort_memory: 64 << 20,
            retry: RetryPolicy::through_restarts(),
            rejects_csv: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowSummary {
    /// Backend display name.
    pub backend: &'static str,
    /// The contract's name.
    pub contract: String,
    /// The run's id in `triglot_runs`.
    pub run_id: i64,
    /// Records read, accepted, rejected and unchanged.
    pub counts: Counts,
    /// Rejected records by reason code.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// What the run wrote to each table it changed, by table name.
    pub tables: BTreeMap<String, TableWrites>,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

/// What a run wrote to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableWrites {
    /// Rows written: inserted, updated, or replaced with their parent.
    pub rows: u64,
    /// Of a family's parent table: records whose key was not stored before.
    pub new: u64,
    /// Of a family's parent table: stored records written again because
    /// their fingerprint changed (their children replaced).
    pub changed: u64,
    /// Of a family's parent table: records found stored with the same
    /// fingerprint, so nothing of them was written.
    pub unchanged: u64,
}

/// Where a run is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowProgress {
    /// Bytes of input read so far.
    pub bytes: u64,
    /// Bytes of input in all (a file read by two families counts twice).
    pub total_bytes: u64,
    /// Records decided so far (accepted or rejected), not all committed yet.
    pub records: u64,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Runs `flow` on `db` with one file per source (`files`: source name → path).
///
/// Every file is opened and every header checked against the contract
/// before a run is recorded or a row read.
///
/// # Errors
///
/// - [`Error::Input`] for a source without a file, a file for no source, or
///   a file that cannot be read; [`Error::Io`] when the rejects file cannot
///   be created;
/// - [`Error::Contract`] when a header lacks a field the contract reads;
/// - [`Error::FlowStopped`] when a batch cannot be written (after retries):
///   the batches committed before stay, and running again completes the job.
pub fn run_flow<D: FlowBackend>(
    db: &Database<D>,
    flow: &Flow,
    files: &BTreeMap<String, PathBuf>,
    options: &FlowOptions,
) -> Result<FlowSummary> {
    run_flow_with_progress(db, flow, files, options, &mut |_| {})
}

/// [`run_flow`], telling `progress` where it is after each batch it decides.
///
/// # Errors
///
/// As [`run_flow`].
pub fn run_flow_with_progress<D: FlowBackend>(
    db: &Database<D>,
    flow: &Flow,
    files: &BTreeMap<String, PathBuf>,
    options: &FlowOptions,
    progress: &mut dyn FnMut(FlowProgress),
) -> Result<FlowSummary> {
    let started = Instant::now();
    for (name, path) in files {
        if !flow.sources.contains_key(name) {
            return Err(Error::Input {
                path: path.clone(),
                line: None,
                message: format!(
                    "contract {} has no source {name:?} (it has: {})",
                    flow.origin,
                    flow.source_names().join(", ")
                ),
            });
        }
    }
    let path_of = |source: &str| -> Result<&Path> {
        files.get(source).map(PathBuf::as_path).ok_or_else(|| Error::Input {
            path: PathBuf::new(),
            line: None,
            message: format!("no file for source {source:?} of contract {}", flow.origin),
        })
    };
    // Open everything first: a missing field stops the run before it starts.
    let now = chrono::Utc::now().naive_utc();
    let mut opened = Vec::new();
    for family in &flow.families {
        let parent = open(flow, &family.parent, path_of(&family.parent.source)?, now)?;
        let mut children = Vec::new();
        for child in &family.children {
            children.push(open(flow, child, path_of(&child.source)?, now)?);
        }
        let mut attached = Vec::new();
        for table in &family.attached {
            attached.push(open(flow, table, path_of(&table.source)?, now)?);
        }
        opened.push((parent, children, attached));
    }
    let rejects_file = match &options.rejects_csv {
        Some(path) => Some(RejectsFile::create(path)?),
        None => None,
    };
    books::ensure(db)?;
    let listed: Vec<String> = files.iter().map(|(s, p)| format!("{s}={}", p.display())).collect();
    // Indexes an earlier run left to build are built before this one loads;
    // those of a table still empty are built after it. Only a parent's: the
    // run reads it by its unique key alone, while it deletes children by
    // their link and looks attached rows up.
    books::build_deferred_indexes(db)?;
    let mut deferred = 0;
    for family in &flow.families {
        deferred += books::defer_indexes(db, &family.parent.name)?;
    }
    let key_checks = key_checks::find(db, flow)?;
    let run_id = books::start_run(db, &flow.name, &listed.join(" "))?;
    let mut run = Run {
        db,
        run_id,
        options,
        counts: Counts::default(),
        by_reason: BTreeMap::new(),
        reasons: &flow.reasons,
        batches: 0,
        grouped: flow.sources.values().filter(|s| s.grouped).map(|s| s.name.clone()).collect(),
        written: std::collections::HashMap::new(),
        known: KnownIds::default(),
        grown: BTreeMap::new(),
        tables: BTreeMap::new(),
        read_retries: 0,
        rejects_file,
        group: None,
        key_checks,
    };
    // The files a family reads: its parent's, and its children's own.
    let size = |o: &Opened<'_>| std::fs::metadata(o.source.path()).map_or(0, |m| m.len());
    let read = |(parent, children, _): &(Opened<'_>, Vec<Opened<'_>>, _), family: &Family| {
        let own = children.iter().zip(&family.children).filter(|(_, c)| c.join == Join::Source);
        size(parent) + own.map(|(o, _)| size(o)).sum::<u64>()
    };
    let total_bytes: u64 = opened.iter().zip(&flow.families).map(|(o, f)| read(o, f)).sum();
    let mut done = FlowProgress { bytes: 0, total_bytes, records: 0 };
    let result = opened.into_iter().zip(&flow.families).try_for_each(|(opened, family)| {
        let family_bytes = read(&opened, family);
        let (parent, children, attached) = opened;
        let before = done;
        run.family(family, parent, children, attached, &mut |bytes, records| {
            done = FlowProgress {
                bytes: before.bytes + bytes,
                total_bytes,
                records: before.records + records,
            };
            progress(done);
        })?;
        done.bytes = before.bytes + family_bytes;
        Ok(())
    });
    // Built, failed or not, by this run when it deferred them (else by the
    // next run, as those of a run stopped before this point).
    let built = if deferred > 0 { books::build_deferred_indexes(db).map(|_| ()) } else { Ok(()) };
    // Checked, the load failed or not, once its batches are in.
    let checked =
        run.key_checks.iter().try_for_each(|(table, key)| key_checks::validate(db, table, key));
    let result = result.and_then(|()| built.and(checked).map_err(Error::from));
    if let Err(cause) = result {
        let _ = books::finish_run(db, run_id, "failed");
        return Err(Error::FlowStopped {
            run_id,
            batches: run.batches,
            records: run.counts.read,
            cause: Box::new(cause),
        });
    }
    books::finish_run(db, run_id, "succeeded")?;
    progress(FlowProgress { bytes: total_bytes, total_bytes, records: run.counts.read });
    Ok(FlowSummary {
        backend: D::NAME,
        contract: flow.name.clone(),
        run_id,
        counts: run.counts,
        rejects_by_reason: run.by_reason,
        tables: run.tables,
        elapsed: started.elapsed(),
    })
}

/// A table's source opened and its fields found.
struct Opened<'p> {
    source: Source,
    bound: Bound<'p>,
}

fn open<'p>(
    flow: &Flow,
    plan: &'p TablePlan,
    path: &Path,
    now: chrono::NaiveDateTime,
) -> Result<Opened<'p>> {
    let spec = &flow.sources[&plan.source];
    let width = spec.fields.as_ref().map(Vec::len);
    let source = Source::open(path, spec.format, width)?;
    let mut at = Vec::with_capacity(plan.slots.len());
    for slot in &plan.slots {
        let Fill::Field(field) = &slot.fill else {
            at.push(None);
            continue;
        };
        let resolved = match (spec.format.format, &spec.fields) {
            (Format::Jsonl, _) => Resolved::Path(field.split('.').map(str::to_owned).collect()),
            (Format::Csv, Some(fields)) => {
                Resolved::Index(fields.iter().position(|f| f == field).expect("checked on binding"))
            }
            (Format::Csv, None) => match source.column_index(field) {
                Some(i) => Resolved::Index(i),
                None => {
                    return Err(ContractError {
                        origin: flow.origin.clone(),
                        line: slot.line,
                        message: format!(
                            "{}.{}: column {field:?} is not in the header of {} (it has: {})",
                            plan.name,
                            slot.name,
                            path.display(),
                            source.column_names().join(", ")
                        ),
                    }
                    .into());
                }
            },
        };
        at.push(Some(resolved));
    }
    let bound = Bound { plan, at, file: path.display().to_string().into(), now };
    Ok(Opened { source, bound })
}

struct Run<'a, D: FlowBackend> {
    db: &'a Database<D>,
    run_id: i64,
    options: &'a FlowOptions,
    counts: Counts,
    by_reason: BTreeMap<String, u64>,
    /// The contract's codes for the engine's reasons.
    reasons: &'a BTreeMap<String, String>,
    batches: u64,
    /// The sources whose rows of one key are together.
    grouped: std::collections::BTreeSet<String>,
    /// Rows of attached tables this run has committed, by the hash of (table, key):
    /// their fingerprints (at most a million kept).
    written: std::collections::HashMap<u64, i64>,
    /// Ids this run has found for lookup keys, so that it reads each once.
    known: KnownIds,
    /// Rows this run has committed to each table.
    grown: BTreeMap<String, u64>,
    /// What this run has written to each table, for its summary.
    tables: BTreeMap<String, TableWrites>,
    /// Retries of reads not yet counted in the run's row.
    read_retries: u64,
    /// The `rejects_csv` file.
    rejects_file: Option<RejectsFile>,
    /// The transaction that batches share until it commits, where the
    /// backend commits several together.
    group: Option<Group<D>>,
    /// The link keys its batches suspend, by child table ([`key_checks`]).
    key_checks: key_checks::KeyChecks,
}

/// A write transaction that several batches share
/// ([`Capabilities::batches_per_commit`]), each in a savepoint.
struct Group<D: FlowBackend> {
    conn: PooledConn<D>,
    /// Batches written in it, and their records.
    batches: u64,
    records: u64,
    opened: Instant,
    /// Its batches' rejects, counted and filed when it commits.
    rejects: Vec<Reject>,
    /// Whether it still waits for COMMIT or ROLLBACK.
    open: bool,
}

impl<D: FlowBackend> Drop for Group<D> {
    fn drop(&mut self) {
        if self.open {
            // A connection goes back to its pool outside any transaction.
            let _ = <D::Connection as diesel::Connection>::TransactionManager::rollback_transaction(
                &mut **self.conn,
            );
        }
    }
}

/// The longest a group stays open: what a killed run loses at most, and
/// how long another writer waits for the lock.
const GROUP_AGE: Duration = Duration::from_secs(2);

/// The rows a run writes to a table at which its planner statistics are
/// refreshed (then ten times as many): the first is large enough to
/// sample, and the tenfold steps cost a few statements per table.
const REFRESH_FIRST: u64 = 10_000;

/// Sorts the records of `source` by the key `slots` make; records whose
/// key cannot be read are refused into `batch`.
fn sort_records(
    memory: usize,
    source: &mut Source,
    bound: &Bound<'_>,
    slots: &[usize],
    batch: &mut Batch,
) -> Result<Sorted> {
    let mut sorter = Sorter::new(memory);
    let path = source.path().to_owned();
    let io = |source| Error::Io { path: path.clone(), source };
    while let Some(record) = source.next_record()? {
        match bound.key_of(slots, &record) {
            Ok(key) => sorter.push(key, record).map_err(io)?,
            // A row without a key of a `distinct` table is a record of
            // the table that owns the file, which judges it.
            Err(_) if bound.plan.distinct => {}
            Err(fault) => {
                batch.rejects.push(bound.reject(&record, fault));
                batch.records += 1;
            }
        }
    }
    sorter.finish().map_err(io)
}

/// The parent's records one key at a time: sorted, or as they come.
enum Parents {
    Sorted(Stream),
    Streamed {
        /// The first record of the next key, read with the last group.
        pending: Option<(String, SourceRecord)>,
        /// Hashes of the keys whose records have ended.
        finished: std::collections::HashSet<u64>,
    },
}

impl Parents {
    /// The next key and its records (more than one only when `same_rows`;
    /// otherwise later ones are refused as duplicates into `batch`).
    fn next_group(
        &mut self,
        source: &mut Source,
        bound: &Bound<'_>,
        plan: &TablePlan,
        same_rows: bool,
        batch: &mut Batch,
    ) -> Result<Option<(String, Vec<SourceRecord>)>> {
        let duplicate = |twin: &SourceRecord, first: &SourceRecord, batch: &mut Batch| {
            let fault = (
                None,
                FieldError::new(
                    Reason::DuplicateKey,
                    format!(
                        "key ({}) is also on line {} of this file",
                        plan.key.join(", "),
                        first.line
                    ),
                ),
            );
            batch.rejects.push(bound.reject(twin, fault));
            batch.records += 1;
        };
        match self {
            Parents::Sorted(stream) => {
                let Some((key, record)) = stream.take()? else { return Ok(None) };
                let mut rows = vec![record];
                while stream.key() == Some(key.as_str()) {
                    let (_, twin) = stream.take()?.expect("a head");
                    if same_rows {
                        rows.push(twin);
                    } else {
                        duplicate(&twin, &rows[0], batch);
                    }
                }
                Ok(Some((key, rows)))
            }
            Parents::Streamed { pending, finished } => {
                // The next record with a key, refusing those without one.
                let mut read = |batch: &mut Batch| -> Result<Option<(String, SourceRecord)>> {
                    while let Some(record) = source.next_record()? {
                        match bound.key_of(&plan.key_slots, &record) {
                            Ok(key) => return Ok(Some((key, record))),
                            Err(fault) => {
                                batch.rejects.push(bound.reject(&record, fault));
                                batch.records += 1;
                            }
                        }
                    }
                    Ok(None)
                };
                loop {
                    let next = match pending.take() {
                        Some(p) => Some(p),
                        None => read(batch)?,
                    };
                    let Some((key, first)) = next else { return Ok(None) };
                    let hash = fnv(&key);
                    if finished.contains(&hash) {
                        // Rows of a key that reappear after others: refused,
                        // not merged into what was written before.
                        let fault = (
                            None,
                            FieldError::new(
                                Reason::SplitKey,
                                format!(
                                    "key ({}) = {key:?} appeared before, with other keys in between; a grouped file keeps the rows of a key together",
                                    plan.key.join(", ")
                                ),
                            ),
                        );
                        batch.rejects.push(bound.reject(&first, fault));
                        batch.records += 1;
                        continue;
                    }
                    let mut rows = vec![first];
                    loop {
                        match read(batch)? {
                            Some((k, record)) if k == key => {
                                if same_rows {
                                    rows.push(record);
                                } else {
                                    duplicate(&record, &rows[0], batch);
                                }
                            }
                            other => {
                                *pending = other;
                                break;
                            }
                        }
                    }
                    finished.insert(hash);
                    return Ok(Some((key, rows)));
                }
            }
        }
    }
}

/// Bytes read so far of the files a family reads.
fn consumed(parent: &Source, children: &[Opened<'_>], family: &Family) -> u64 {
    let own = children.iter().zip(&family.children).filter(|(_, c)| c.join == Join::Source);
    parent.consumed() + own.map(|(o, _)| o.source.consumed()).sum::<u64>()
}

/// FNV-1a of a key.
fn fnv(key: &str) -> u64 {
    key.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A sorted stream with its next entry at hand.
struct Stream {
    head: Option<(String, SourceRecord)>,
    rest: Sorted,
}

impl Stream {
    fn new(mut rest: Sorted) -> Result<Self> {
        let head = next(&mut rest)?;
        Ok(Self { head, rest })
    }

    fn key(&self) -> Option<&str> {
        self.head.as_ref().map(|(k, _)| k.as_str())
    }

    fn take(&mut self) -> Result<Option<(String, SourceRecord)>> {
        let next = next(&mut self.rest)?;
        Ok(std::mem::replace(&mut self.head, next))
    }
}

fn next(sorted: &mut Sorted) -> Result<Option<(String, SourceRecord)>> {
    sorted
        .next()
        .transpose()
        .map_err(|source| Error::Io { path: "(sort spill file)".into(), source })
}

/// Decisions waiting for their transaction.
#[derive(Default)]
struct Batch {
    ready: Vec<Ready>,
    rejects: Vec<Reject>,
    records: usize,
    /// Families decided, written or refused.
    families: usize,
    /// Whether resolving took an id this run had kept ([`KnownIds`]).
    used_known: bool,
}

/// How many decided batches wait for the writer: one in its transaction,
/// one ready, one being decided.
const BATCHES_AHEAD: usize = 1;

impl<D: FlowBackend> Run<'_, D> {
    /// Runs one family: its records are read and decided on this thread
    /// while the batch before is written on another, so that the two
    /// cores of a small machine share the work instead of taking turns.
    fn family(
        &mut self,
        family: &Family,
        parent: Opened<'_>,
        children: Vec<Opened<'_>>,
        attached: Vec<Opened<'_>>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let (send, batches) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
        // Written batches go back to be freed by the thread that allocated
        // them, so that the two threads do not contend for its allocator.
        let (spent, written) = std::sync::mpsc::channel::<Batch>();
        let options = self.options;
        let grouped = self.grouped.contains(&family.parent.source);
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> Result<()> {
                let wrote = (|| {
                    while let Some(mut batch) = self.next_batch(&batches)? {
                        self.flush(family, &mut batch)?;
                        // A reader that stopped leaves the batch to be freed here.
                        let _ = spent.send(batch);
                        self.end_group(false)?;
                    }
                    self.end_group(true)
                })();
                // The batches before the one that failed are whole: they
                // commit, as they would have one by one.
                if wrote.is_err() && self.end_group(true).is_err() {
                    self.abandon_group();
                }
                wrote
            });
            // A writer that stopped drops its receiver: the send fails, and
            // the writer's error is the run's.
            let mut records = 0;
            let decided = Self::decide_family(
                family,
                options,
                grouped,
                parent,
                children,
                attached,
                |b, bytes| {
                    written.try_iter().for_each(drop);
                    records += b.records as u64;
                    progress(bytes, records);
                    send.send(b).is_ok()
                },
            );
            drop(send);
            let wrote = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            wrote.and(decided)
        })
    }

    /// Reads and decides the records of `family`, handing each full batch
    /// to `send` with the bytes of its files read so far; stops when `send`
    /// says the writer has stopped.
    fn decide_family(
        family: &Family,
        options: &FlowOptions,
        grouped: bool,
        mut parent: Opened<'_>,
        mut children: Vec<Opened<'_>>,
        attached: Vec<Opened<'_>>,
        mut send: impl FnMut(Batch, u64) -> bool,
    ) -> Result<()> {
        let mut batch = Batch::default();
        // Rows of one key are one parent with its children when children
        // are rows of the parent's file, or one row of a distinct table
        // kept last; otherwise a key twice is a duplicate, whatever distinct
        // tables ride along on its rows.
        let same_rows =
            family.parent.distinct || family.children.iter().any(|c| c.join == Join::SameRows);
        // A file whose rows of one key are together is read as it comes,
        // unless a child of another file must be merged with it by key.
        let streamed = grouped && family.children.iter().all(|c| c.join != Join::Source);
        let Opened { source, bound: parent_bound } = &mut parent;
        let parent_bound = &*parent_bound;
        let mut parents = if streamed {
            Parents::Streamed { pending: None, finished: std::collections::HashSet::new() }
        } else {
            let sorted = sort_records(
                options.sort_memory,
                source,
                parent_bound,
                &family.parent.key_slots,
                &mut batch,
            )?;
            Parents::Sorted(Stream::new(sorted)?)
        };
        let mut kids = Vec::with_capacity(children.len());
        for (child, plan) in children.iter_mut().zip(&family.children) {
            kids.push(match plan.join {
                Join::Source => {
                    let sorted = sort_records(
                        options.sort_memory,
                        &mut child.source,
                        &child.bound,
                        &plan.join_slots,
                        &mut batch,
                    )?;
                    Some(Stream::new(sorted)?)
                }
                _ => None,
            });
        }
        while let Some((key, rows)) =
            parents.next_group(source, parent_bound, &family.parent, same_rows, &mut batch)?
        {
            let mut joined = Vec::with_capacity(kids.len());
            for (k, plan) in family.children.iter().enumerate() {
                let records = match (&plan.join, &mut kids[k]) {
                    (Join::Source, Some(kid)) => {
                        while kid.key().is_some_and(|k| k < key.as_str()) {
                            let (_, orphan) = kid.take()?.expect("a head");
                            let reject = orphan_reject(&children[k].bound, parent_bound, &orphan);
                            batch.rejects.push(reject);
                            batch.records += 1;
                        }
                        let mut records = Vec::new();
                        while kid.key() == Some(key.as_str()) {
                            records.push(kid.take()?.expect("a head").1);
                        }
                        Cow::Owned(records)
                    }
                    (Join::SameRows, _) => Cow::Borrowed(&rows[..]),
                    (Join::Nested(path), _) => Cow::Owned(nested(&rows[0], path)),
                    _ => Cow::Owned(Vec::new()),
                };
                joined.push((&children[k].bound, records));
            }
            // The rows the attached tables take from these records; a
            // refused one refuses the family.
            let mut rows_of_attached = Vec::with_capacity(attached.len());
            let mut fault = None;
            for table in &attached {
                match decide_attached(&table.bound, &rows) {
                    Ok(row) => rows_of_attached.push(row),
                    Err(reject) => {
                        fault.get_or_insert(reject);
                        rows_of_attached.push(None);
                    }
                }
            }
            let salt = rows_of_attached
                .iter()
                .flatten()
                .fold(0_u64, |h, r| h.rotate_left(17) ^ r.fingerprint as u64);
            match decide(parent_bound, &rows, &joined, salt) {
                Decided::Ready(ready) if fault.is_some() => {
                    let rejects = ready.reject_because(fault.as_ref().expect("a fault"));
                    batch.records += rejects.len();
                    batch.rejects.extend(rejects);
                }
                Decided::Ready(mut ready) => {
                    ready.attached = rows_of_attached;
                    batch.records += ready.members.len();
                    batch.ready.push(ready);
                }
                Decided::Rejected(rejects) => {
                    batch.records += rejects.len();
                    batch.rejects.extend(rejects);
                }
            }
            batch.families += 1;
            if (batch.families >= options.batch_size || batch.rejects.len() >= REJECTS_PER_BATCH)
                && !send(std::mem::take(&mut batch), consumed(source, &children, family))
            {
                return Ok(());
            }
        }
        for (k, kid) in kids.iter_mut().enumerate() {
            let Some(kid) = kid else { continue };
            while let Some((_, orphan)) = kid.take()? {
                batch.rejects.push(orphan_reject(&children[k].bound, parent_bound, &orphan));
                batch.records += 1;
            }
        }
        send(batch, consumed(source, &children, family));
        Ok(())
    }

    /// The next decided batch; an open group commits first when none comes
    /// before it reaches [`GROUP_AGE`], so it never holds the lock waiting.
    fn next_batch(&mut self, batches: &std::sync::mpsc::Receiver<Batch>) -> Result<Option<Batch>> {
        use std::sync::mpsc::RecvTimeoutError;
        if let Some(group) = &self.group {
            match batches.recv_timeout(GROUP_AGE.saturating_sub(group.opened.elapsed())) {
                Ok(batch) => return Ok(Some(batch)),
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => self.end_group(true)?,
            }
        }
        Ok(batches.recv().ok())
    }

    /// Begins a transaction for the batches to come to share.
    fn open_group(&mut self) -> triglot::Result<()> {
        let db = self.db;
        let conn = db.retry(&self.options.retry, |_| {
            let mut conn = db.get()?;
            D::begin_write(&mut conn).map_err(|e| db.error("beginning a transaction", e))?;
            Ok(conn)
        })?;
        self.read_retries += u64::from(conn.attempts - 1);
        self.group = Some(Group {
            conn: conn.value,
            batches: 0,
            records: 0,
            opened: Instant::now(),
            rejects: Vec::new(),
            open: true,
        });
        Ok(())
    }

    /// Commits the open group when it is full or old, or when `now`.
    fn end_group(&mut self, now: bool) -> Result<()> {
        let per_commit = self.db.capabilities().batches_per_commit as u64;
        let due = |g: &Group<D>| now || g.batches >= per_commit || g.opened.elapsed() >= GROUP_AGE;
        let Some(mut group) = self.group.take_if(|g| due(g)) else { return Ok(()) };
        // A failed COMMIT leaves `open` set: dropping the group rolls back.
        let committed =
            <D::Connection as diesel::Connection>::TransactionManager::commit_transaction(
                &mut **group.conn,
            );
        if let Err(e) = committed {
            self.uncount(&group);
            return Err(self.db.error("committing batches", e).into());
        }
        group.open = false;
        let rejects = std::mem::take(&mut group.rejects);
        drop(group);
        self.filed(&rejects)
    }

    /// Rolls the open group back after a failure: its batches were not
    /// committed, so the run's figures leave them out.
    fn abandon_group(&mut self) {
        if let Some(group) = self.group.take() {
            self.uncount(&group);
        }
    }

    /// Takes a group that did not commit out of the run's figures.
    fn uncount(&mut self, group: &Group<D>) {
        self.batches -= group.batches;
        self.counts.read -= group.records;
    }

    /// Writes a batch; on a constraint failure, family by family.
    fn flush(&mut self, family: &Family, batch: &mut Batch) -> Result<()> {
        if batch.records == 0 && batch.ready.is_empty() {
            return Ok(());
        }
        let counts = |batch: &Batch, retries: u64| Counts {
            read: batch.records as u64,
            accepted: batch.ready.iter().map(|r| r.members.len() as u64).sum(),
            rejected: batch.rejects.len() as u64,
            unchanged: 0,
            retries,
        };
        self.resolve(family, batch)?;
        self.rename(&mut batch.rejects);
        let mut delta = counts(batch, std::mem::take(&mut self.read_retries));
        let mut wrote = self.write(family, &mut batch.ready, &batch.rejects, delta);
        if batch.used_known && wrote.as_ref().is_err_and(is_refusal) {
            // An id the run kept may name a row another writer has deleted
            // since: the batch's keys are read again before anything is refused.
            self.known.clear();
            batch.used_known = false;
            unresolve(batch);
            let before = batch.rejects.len();
            self.resolve(family, batch)?;
            self.rename(&mut batch.rejects[before..]);
            delta = counts(batch, delta.retries + std::mem::take(&mut self.read_retries));
            wrote = self.write(family, &mut batch.ready, &batch.rejects, delta);
        }
        match wrote {
            Ok(()) => {}
            Err(e) if is_refusal(&e) => {
                let mut rejects = std::mem::take(&mut batch.rejects);
                for ready in &mut batch.ready {
                    let members = ready.members.len() as u64;
                    let alone = Counts { read: members, accepted: members, ..Counts::default() };
                    match self.write(family, std::slice::from_mut(ready), &[], alone) {
                        Ok(()) => {}
                        Err(e) if is_refusal(&e) => {
                            let db = e.db_error().expect("a refusal is a database error");
                            rejects.extend(ready.reject_all(db.kind().name(), db.message()));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                self.rename(&mut rejects);
                let rejected = rejects.len() as u64;
                // The batch's retries were counted in its transaction, rolled back.
                let delta = Counts {
                    read: rejected,
                    rejected,
                    retries: delta.retries,
                    ..Counts::default()
                };
                self.write(family, &mut [], &rejects, delta)?;
                return self.committed(&rejects);
            }
            Err(e) => return Err(e.into()),
        }
        self.committed(&batch.rejects)
    }

    /// Counts the rejects of a committed transaction by reason, and adds
    /// them to the rejects file.
    fn committed(&mut self, rejects: &[Reject]) -> Result<()> {
        if let Some(group) = &mut self.group {
            group.rejects.extend_from_slice(rejects);
            return Ok(());
        }
        self.filed(rejects)
    }

    fn filed(&mut self, rejects: &[Reject]) -> Result<()> {
        for r in rejects {
            *self.by_reason.entry(r.reason.clone()).or_default() += 1;
        }
        match &mut self.rejects_file {
            Some(file) => file.write(rejects),
            None => Ok(()),
        }
    }

    /// Gives each reject the contract's code for its reason.
    fn rename(&self, rejects: &mut [Reject]) {
        if self.reasons.is_empty() {
            return;
        }
        for r in rejects {
            if let Some(code) = self.reasons.get(&r.reason) {
                r.reason.clone_from(code);
            }
        }
    }

    /// Replaces the natural keys of lookup columns by the ids they name; a
    /// family with a key that names no row is refused (`missing_reference`).
    fn resolve(&mut self, family: &Family, batch: &mut Batch) -> Result<()> {
        let tables: Vec<&TablePlan> =
            std::iter::once(&family.parent).chain(&family.children).collect();
        let mut ids: BTreeMap<(usize, usize), std::collections::HashMap<String, i64>> =
            BTreeMap::new();
        // Outside a transaction each statement reads the latest rows; no
        // locking read (which may deadlock, with no retry here) is needed.
        let caps = &Capabilities { current_read: "", ..*self.db.capabilities() };
        for (t, plan) in tables.iter().enumerate() {
            for (i, slot) in plan.slots[..plan.columns.len()].iter().enumerate() {
                let Some(lookup) = &slot.lookup else { continue };
                let mut wanted: Vec<String> = batch
                    .ready
                    .iter()
                    .flat_map(|r| rows_of(r, t))
                    .filter_map(|row| natural(&row[i]))
                    .collect();
                wanted.sort_unstable();
                wanted.dedup();
                let lookup_id = lookup.id();
                let mut known = std::collections::HashMap::new();
                let kept = self.known.of(&lookup_id);
                wanted.retain(|k| match kept.and_then(|ids| ids.get(k)) {
                    Some(&id) => {
                        known.insert(k.clone(), id);
                        false
                    }
                    None => true,
                });
                batch.used_known |= !known.is_empty();
                if wanted.is_empty() {
                    ids.insert((t, i), known);
                    continue;
                }
                let keys: Vec<SqlValue> = wanted.iter().map(|k| key_value(&slot.rule, k)).collect();
                let (table, key, target) = (&lookup.table, &lookup.key, &lookup.target);
                let found = match &mut self.group {
                    // The group's own rows are not committed: only its
                    // connection sees them.
                    Some(group) => Attempted {
                        value: stored_ids::<D>(&mut group.conn, table, key, target, keys, caps)
                            .map_err(|e| self.db.error("looking up ids", e))?,
                        attempts: 1,
                    },
                    // A read: retried like a write when its connection is lost.
                    None => self.db.retry(&self.options.retry, |_| {
                        self.db.run("looking up ids", |conn| {
                            stored_ids::<D>(conn, table, key, target, keys.clone(), caps)
                        })
                    })?,
                };
                self.read_retries += u64::from(found.attempts - 1);
                self.known.extend(&lookup_id, &found.value);
                known.extend(found.value);
                ids.insert((t, i), known);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        // Keys of the rows the attached tables write with this batch.
        let upcoming_owned: Vec<(&str, String)> = batch
            .ready
            .iter()
            .flat_map(|r| {
                r.attached.iter().zip(&family.attached).filter_map(|(row, table)| {
                    let row = row.as_ref()?;
                    Some((table.name.as_str(), natural(&row.key[0])?))
                })
            })
            .collect();
        let upcoming: std::collections::HashSet<(&str, &str)> =
            upcoming_owned.iter().map(|(t, k)| (*t, k.as_str())).collect();
        let mut kept = Vec::with_capacity(batch.ready.len());
        for mut ready in std::mem::take(&mut batch.ready) {
            let mut missing = None;
            let mut pending = Vec::new();
            let mut resolved = Vec::new();
            for ((t, i), found) in &ids {
                for (r, row) in rows_of_mut(&mut ready, *t).into_iter().enumerate() {
                    let Some(key) = natural(&row[*i]) else { continue };
                    match found.get(&key) {
                        Some(id) => {
                            let value = std::mem::replace(&mut row[*i], SqlValue::Int(*id));
                            resolved.push((*t, r, *i, value));
                        }
                        None if upcoming.contains(&(
                            tables[*t].slots[*i].lookup.as_ref().expect("a lookup").table.as_str(),
                            key.as_str(),
                        )) =>
                        {
                            pending.push((*t, r, *i, key));
                        }
                        None => {
                            let l = tables[*t].slots[*i].lookup.as_ref().expect("a lookup");
                            missing.get_or_insert((
                                Reason::MissingReference.as_str().to_owned(),
                                format!(
                                    "{}.{}: no {}.{} = {key:?}",
                                    tables[*t].name, tables[*t].slots[*i].name, l.table, l.key
                                ),
                            ));
                        }
                    }
                }
            }
            ready.pending = pending;
            ready.resolved = resolved;
            match missing {
                None => {
                    ready.key =
                        family.parent.key_slots.iter().map(|&i| ready.row[i].clone()).collect();
                    kept.push(ready);
                }
                Some((reason, detail)) => {
                    batch.rejects.extend(ready.reject_all(&reason, &detail));
                }
            }
        }
        batch.ready = kept;
        Ok(())
    }

    /// One transaction: the changed families of `ready`, their
    /// fingerprints, `rejects` and the run's counters (`delta`, plus the
    /// unchanged records found).
    fn write(
        &mut self,
        family: &Family,
        ready: &mut [Ready],
        rejects: &[Reject],
        delta: Counts,
    ) -> triglot::Result<()> {
        let writes = self.db.writes();
        let caps = writes.capabilities();
        let parent = &family.parent;
        let run_id = self.run_id;
        let mut attached_wrote = Vec::new();
        let mut attached_found = Vec::new();
        let mut added: Vec<(&str, u64)> = Vec::new();
        let mut families = TableWrites::default();
        let before = self.counts;
        let mut attempts = 0;
        if self.db.capabilities().batches_per_commit > 1 && self.group.is_none() {
            self.open_group()?;
        }
        // The children's links this batch writes without checking them row
        // by row: the parents they reference are its own.
        let suspended: Vec<&triglot::DeferredKeyCheck> = if ready.is_empty() {
            Vec::new()
        } else {
            family.children.iter().filter_map(|c| self.key_checks.get(&c.name)).collect()
        };
        let mut body = |conn: &mut D::Connection| -> diesel::QueryResult<Counts> {
            attempts += 1;
            let retries = delta.retries + (attempts - 1);
            books::take_turn::<D>(conn, &writes, &parent.name, run_id)?;
            if attempts > 1 {
                // The connection may have been lost after the server committed
                // an earlier attempt: the run row then counts this batch
                // already, and its rejects are stored. What that attempt
                // wrote is what this batch wrote, so its figures stay.
                let stored = books::stored_counts::<D>(conn, run_id)?;
                if stored.read != before.read {
                    let counted = stored.retries.saturating_sub(before.retries);
                    let extra =
                        Counts { retries: retries.saturating_sub(counted), ..Counts::default() };
                    books::count_run::<D>(conn, run_id, extra)?;
                    return Ok(Counts {
                        read: stored.read.saturating_sub(before.read),
                        accepted: stored.accepted.saturating_sub(before.accepted),
                        rejected: stored.rejected.saturating_sub(before.rejected),
                        unchanged: stored.unchanged.saturating_sub(before.unchanged),
                        retries: counted + extra.retries,
                    });
                }
            }
            // Before the batch touches the tables, so that it takes their
            // locks first; `resume` below, before the commit.
            for key in &suspended {
                diesel::connection::SimpleConnection::batch_execute(conn, &key.suspend)?;
            }
            added.clear();
            attached_found.clear();
            let (keys, known) = match &parent.fingerprint_column {
                // The table keeps its fingerprints itself.
                Some(column) => {
                    let keys: Vec<String> = ready.iter().map(|r| r.key_text.clone()).collect();
                    let values = ready.iter().map(|r| r.key[0].clone()).collect();
                    let known =
                        stored_ids::<D>(conn, &parent.name, &parent.key[0], column, values, caps)?;
                    (keys, known)
                }
                None => {
                    let keys: Vec<String> = ready.iter().map(|r| record_key(&r.key_text)).collect();
                    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                    let known = books::fingerprints::<D>(conn, &parent.name, &key_refs, caps)?;
                    (keys, known)
                }
            };
            // Families by their place in `ready`: their rows are lent to
            // the statements below ([`lend`]), not copied.
            let mut changed: Vec<(usize, &String)> = keys
                .iter()
                .enumerate()
                .filter(|(i, k)| known.get(*k) != Some(&ready[*i].fingerprint))
                .collect();
            // Concurrent writers lock rows in one order, key by key, so that
            // batches over the same keys wait instead of deadlocking.
            changed.sort_unstable_by(|a, b| ready[a.0].key_text.cmp(&ready[b.0].key_text));
            let unchanged: u64 = ready
                .iter()
                .zip(&keys)
                .filter(|(r, k)| known.get(*k) == Some(&r.fingerprint))
                .map(|(r, _)| r.members.len() as u64)
                .sum();
            let new = changed.iter().filter(|(_, k)| !known.contains_key(*k)).count() as u64;
            families = TableWrites {
                rows: 0,
                new,
                changed: changed.len() as u64 - new,
                unchanged: (ready.len() - changed.len()) as u64,
            };
            if !changed.is_empty() {
                let of_changed: Vec<(&Ready, &String)> =
                    changed.iter().map(|&(i, k)| (&ready[i], k)).collect();
                let (fills, wrote, found) =
                    write_attached::<D>(conn, family, ready, &of_changed, &writes, &self.written)?;
                attached_found = found;
                for (i, a) in family.attached.iter().enumerate() {
                    let n = wrote.iter().filter(|(t, ..)| *t == i).count();
                    added.push((&a.name, n as u64));
                }
                attached_wrote = wrote;
                added.push((&parent.name, changed.len() as u64));
                // The ids a row's lookups wait for: (row of the statement,
                // slot, id) for the rows of table `t` of changed family `c`.
                let fill = |c: usize, t: usize, r: usize, at: usize, out: &mut Vec<_>| {
                    for &(slot, id) in fills.get(&(c, t, r)).into_iter().flatten() {
                        out.push((at, slot, SqlValue::Int(id)));
                    }
                };
                // Children that hold the parent's generated id need it now:
                // the upsert returns it where the backend can, else it is
                // read back.
                let generated = family.children.iter().find_map(|c| c.generated_link.as_deref());
                let mut filled = Vec::new();
                for c in 0..changed.len() {
                    fill(c, 0, 0, c, &mut filled);
                }
                let rows: Vec<&mut Vec<SqlValue>> =
                    in_order(ready, &changed).into_iter().map(|r| &mut r.row).collect();
                let returned = lend(rows, filled, |rows| {
                    let upsert = Upsert {
                        table: &parent.name,
                        columns: &parent.columns,
                        rows,
                        key: &parent.key,
                        update: &parent.update,
                    };
                    match generated {
                        Some(id) => writes.upsert_values_returning(conn, &upsert, id),
                        None => {
                            let Upsert { table, columns, rows, key, update } = upsert;
                            writes.upsert_values(conn, table, columns, rows, key, update)?;
                            Ok(None)
                        }
                    }
                })?;
                let ids = match generated {
                    Some(id) => {
                        let keys = changed.iter().map(|&(i, _)| ready[i].key[0].clone()).collect();
                        ids_returned_or_read::<D>(
                            conn,
                            returned,
                            &parent.name,
                            &parent.key[0],
                            id,
                            keys,
                            caps,
                        )?
                    }
                    None => Default::default(),
                };
                let id_of = |r: &Ready| -> diesel::QueryResult<SqlValue> {
                    natural(&r.key[0])
                        .and_then(|k| ids.get(&k))
                        .map(|id| SqlValue::Int(*id))
                        .ok_or_else(|| lost_write(&parent.name, &r.key_text))
                };
                // A parent the batch's read did not find has no children: each
                // child's foreign key to it is enforced. Only a table that keeps
                // its fingerprints itself shows every stored key in that read.
                let existed =
                    |k: &String| parent.fingerprint_column.is_none() || known.contains_key(k);
                for (c, child) in family.children.iter().enumerate() {
                    let mut keys = Vec::with_capacity(changed.len());
                    let mut links = Vec::with_capacity(changed.len());
                    for &(i, k) in &changed {
                        let id = match child.generated_link {
                            Some(_) => Some(id_of(&ready[i])?),
                            None => None,
                        };
                        if existed(k) {
                            keys.push(
                                id.clone().map_or_else(|| ready[i].key.clone(), |id| vec![id]),
                            );
                        }
                        links.push(id);
                    }
                    if !keys.is_empty() {
                        delete_children::<D>(conn, child, keys.iter().map(Vec::as_slice), caps)?;
                    }
                    let mut filled = Vec::new();
                    let mut rows: Vec<&mut Vec<SqlValue>> = Vec::new();
                    for (f, (home, id)) in
                        in_order(ready, &changed).into_iter().zip(links).enumerate()
                    {
                        for (n, row) in home.children[c].iter_mut().enumerate() {
                            fill(f, c + 1, n, rows.len(), &mut filled);
                            if let Some(id) = &id {
                                filled.push((rows.len(), child.link_slots[0], id.clone()));
                            }
                            rows.push(row);
                        }
                    }
                    if !rows.is_empty() {
                        let n = rows.len() as u64;
                        lend(rows, filled, |rows| {
                            writes.bulk_insert_values(conn, &child.name, &child.columns, rows)
                        })?;
                        added.push((&child.name, n));
                    }
                }
                let prints: Vec<Vec<SqlValue>> = changed
                    .iter()
                    .filter(|_| parent.fingerprint_column.is_none())
                    .map(|&(i, k)| {
                        vec![
                            SqlValue::Text(parent.name.clone()),
                            SqlValue::Text(k.clone()),
                            SqlValue::Int(ready[i].fingerprint),
                            SqlValue::Int(run_id),
                        ]
                    })
                    .collect();
                if !prints.is_empty() {
                    writes.upsert_values(
                        conn,
                        "triglot_fingerprints",
                        &books::fingerprint_columns(),
                        &prints,
                        &["table_name".to_string(), "record_key".to_string()],
                        &["fingerprint".to_string(), "run_id".to_string()],
                    )?;
                }
            }
            if !rejects.is_empty() {
                let rows = books::reject_rows(run_id, rejects);
                writes.insert_values(conn, "triglot_rejects", &books::reject_columns(), &rows)?;
            }
            let delta = Counts { unchanged, retries, ..delta };
            books::count_run::<D>(conn, run_id, delta)?;
            for key in &suspended {
                diesel::connection::SimpleConnection::batch_execute(conn, &key.resume)?;
            }
            Ok(delta)
        };
        let done = match &mut self.group {
            // A savepoint: a refused batch rolls back alone. No retry here:
            // after SQLite's `BEGIN IMMEDIATE` no other writer can make a
            // statement busy, and its connection cannot be lost.
            Some(group) => {
                let value = diesel::Connection::transaction(&mut **group.conn, |conn| body(conn))
                    .map_err(|e| self.db.error("writing a batch", e))?;
                group.batches += 1;
                group.records += value.read;
                Attempted { value, attempts: 1 }
            }
            None => self.db.write_with_retry("writing a batch", &self.options.retry, body)?,
        };
        self.counts += done.value;
        self.batches += 1;
        // Committed: later batches need not write these attached rows again.
        if self.written.len() > 1_000_000 {
            self.written.clear();
        }
        self.written.extend(attached_wrote.into_iter().map(|(_, hash, print)| (hash, print)));
        for (lookup, ids) in &attached_found {
            self.known.extend(lookup, ids);
        }
        let of_parent = self.tables.entry(parent.name.clone()).or_default();
        of_parent.new += families.new;
        of_parent.changed += families.changed;
        of_parent.unchanged += families.unchanged;
        for (table, rows) in added {
            self.tables.entry(table.to_owned()).or_default().rows += rows;
            self.grew(table, rows);
        }
        Ok(())
    }

    /// Counts `rows` committed to `table`, and refreshes its planner
    /// statistics when the run's rows pass the next tenfold step. A refresh
    /// that fails costs only speed: the run goes on.
    fn grew(&mut self, table: &str, rows: u64) {
        let total = self.grown.entry(table.to_owned()).or_default();
        let before = *total;
        *total += rows;
        let mut step = REFRESH_FIRST;
        while step <= before {
            step = step.saturating_mul(10);
        }
        if *total >= step {
            let writes = self.db.writes();
            let refreshed = match &mut self.group {
                Some(group) => writes
                    .refresh_statistics(&mut group.conn, table)
                    .map_err(|e| self.db.error("refreshing statistics", e)),
                None => self
                    .db
                    .run("refreshing statistics", |conn| writes.refresh_statistics(conn, table)),
            };
            if let Err(e) = refreshed {
                tracing::warn!(table, error = %e, "planner statistics not refreshed");
            }
        }
    }
}

/// The integers in column `id` (a generated id, a stored fingerprint) of
/// the rows of `table` whose column `key` holds these keys, by key text.
fn stored_ids<D: FlowBackend>(
    conn: &mut D::Connection,
    table: &str,
    key: &str,
    id: &str,
    keys: Vec<SqlValue>,
    caps: &Capabilities,
) -> diesel::QueryResult<std::collections::HashMap<String, i64>> {
    let mut ids = std::collections::HashMap::with_capacity(keys.len());
    for chunk in triglot::values::chunks(&keys, caps, 1) {
        let mut select = Statement::new("SELECT CAST(t.");
        select.cacheable(caps.null_binds);
        select.ident(key).sql(format!(" AS {}) AS k, CAST(t.", D::TEXT_CAST));
        select.ident(id).sql(format!(" AS {}) AS n FROM ", D::BIGINT_CAST));
        select.ident(table).sql(" t WHERE t.").ident(key);
        // Rows other writers committed since this transaction's first read
        // count: an upsert may have found them and left them as they were.
        select.sql(" IN (").values(chunk.iter().cloned()).sql(")").sql(caps.current_read);
        for p in conn.pairs(&select)? {
            ids.insert(p.k.unwrap_or_default().trim_end().to_owned(), p.n);
        }
    }
    Ok(ids)
}

/// The ids of `keys` (values of `key` in `table`): those an upsert
/// returned, and the others read back ([`stored_ids`]).
fn ids_returned_or_read<D: FlowBackend>(
    conn: &mut D::Connection,
    returned: Option<Vec<triglot::values::KeyId>>,
    table: &str,
    key: &str,
    id: &str,
    keys: Vec<SqlValue>,
    caps: &Capabilities,
) -> diesel::QueryResult<std::collections::HashMap<String, i64>> {
    let Some(returned) = returned else {
        return stored_ids::<D>(conn, table, key, id, keys, caps);
    };
    let mut ids: std::collections::HashMap<String, i64> =
        returned.into_iter().map(|r| (r.k.trim_end().to_owned(), r.n)).collect();
    // A row an upsert that updates nothing found stored is not returned.
    let missing: Vec<SqlValue> =
        keys.into_iter().filter(|k| natural(k).is_none_or(|k| !ids.contains_key(&k))).collect();
    if !missing.is_empty() {
        ids.extend(stored_ids::<D>(conn, table, key, id, missing, caps)?);
    }
    Ok(ids)
}

/// The failure of a read-back that misses a row this transaction has just
/// upserted: a retryable conflict, so that the batch runs again.
///
/// On one server the transaction's own write cannot go missing. A Galera
/// node can lose it: a replicated write that conflicts aborts the local
/// transaction (brute force), and a locking read running at that moment
/// may still answer, without the row, before the abort reaches the client
/// as a deadlock. Left as a plain failure, that stopped a concurrent run.
fn lost_write(table: &str, key: &str) -> diesel::result::Error {
    diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::SerializationFailure,
        Box::new(format!(
            "{table} {key} was written but is not found: \
             a concurrent writer aborted this transaction"
        )),
    )
}

/// The ids lookups take from attached rows written in the same batch, by
/// (changed family, table of the family, row): (slot, id).
type Fills = std::collections::HashMap<(usize, usize, usize), Vec<(usize, i64)>>;

/// Attached rows committed, by the hash of (table, key): their fingerprints.
/// A hash, not the texts: a run may write a million of them, and a hash
/// that two keys shared would also need their fingerprints equal to skip
/// a row that must be written.
/// With each, the index of its table among the family's attached ones.
type Wrote = Vec<(usize, u64, i64)>;

/// The ids of the keys pending lookups named, by lookup.
type Found = Vec<(LookupId, std::collections::HashMap<String, i64>)>;

/// FNV-1a of a table's name and a key, apart.
fn row_hash(table: &str, key: &str) -> u64 {
    let step = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    let h = table.bytes().fold(0xcbf2_9ce4_8422_2325, step);
    key.bytes().fold(step(h, 0xff), step)
}

/// Upserts the rows the attached tables take from the changed families
/// (and those a pending lookup waits for), then reads the ids the pending
/// lookups name.
fn write_attached<D: FlowBackend>(
    conn: &mut D::Connection,
    family: &Family,
    ready: &[Ready],
    changed: &[(&Ready, &String)],
    writes: &triglot::write::Writes<D>,
    written: &std::collections::HashMap<u64, i64>,
) -> diesel::QueryResult<(Fills, Wrote, Found)> {
    let caps = writes.capabilities();
    let tables: Vec<&TablePlan> = std::iter::once(&family.parent).chain(&family.children).collect();
    let mut fills = Fills::new();
    let mut wrote = Vec::new();
    if family.attached.is_empty() {
        return Ok((fills, wrote, Vec::new()));
    }
    // The ids of what the pending lookups name, once written.
    let mut wanted: BTreeMap<(String, String, String), Vec<SqlValue>> = BTreeMap::new();
    for (r, _) in changed {
        for (t, _, slot, key) in &r.pending {
            let s = &tables[*t].slots[*slot];
            let l = s.lookup.as_ref().expect("a pending lookup");
            wanted.entry(l.id()).or_default().push(key_value(&s.rule, key));
        }
    }
    let mut returned = BTreeMap::new();
    let changed_keys: std::collections::HashSet<&str> =
        changed.iter().map(|(r, _)| r.key_text.as_str()).collect();
    for (a, table) in family.attached.iter().enumerate() {
        let waited: std::collections::HashSet<&str> = changed
            .iter()
            .flat_map(|(r, _)| &r.pending)
            .filter(|(t, _, slot, _)| {
                tables[*t].slots[*slot].lookup.as_ref().is_some_and(|l| l.table == table.name)
            })
            .map(|(.., key)| key.as_str())
            .collect();
        // One row per key, the batch's last; none that this run already
        // wrote as it is.
        let mut rows: BTreeMap<String, (&Ready, i64)> = BTreeMap::new();
        for r in ready {
            let Some(row) = &r.attached[a] else { continue };
            let key = natural(&row.key[0]).unwrap_or_default();
            if changed_keys.contains(r.key_text.as_str()) || waited.contains(key.as_str()) {
                rows.insert(key, (row, row.fingerprint));
            }
        }
        rows.retain(|key, (_, print)| {
            waited.contains(key.as_str()) || written.get(&row_hash(&table.name, key)) != Some(print)
        });
        wrote.extend(rows.iter().map(|(k, (_, p))| (a, row_hash(&table.name, k), *p)));
        if !rows.is_empty() {
            let rows: Vec<Vec<SqlValue>> = rows.into_values().map(|(r, _)| r.row.clone()).collect();
            // The ids that lookups by this table's key wait for come back
            // with the upsert where the backend can.
            let mut targets = wanted
                .keys()
                .filter(|(t, k, _)| *t == table.name && table.key.first() == Some(k))
                .map(|(.., target)| target.clone());
            match (targets.next(), targets.next()) {
                (Some(target), None) => {
                    let upsert = Upsert {
                        table: &table.name,
                        columns: &table.columns,
                        rows: &rows,
                        key: &table.key,
                        update: &table.update,
                    };
                    let ids = writes.upsert_values_returning(conn, &upsert, &target)?;
                    returned.insert((table.name.clone(), table.key[0].clone(), target), ids);
                }
                _ => {
                    writes.upsert_values(
                        conn,
                        &table.name,
                        &table.columns,
                        &rows,
                        &table.key,
                        &table.update,
                    )?;
                }
            }
        }
    }
    let mut found = BTreeMap::new();
    for ((table, key, target), keys) in wanted {
        let lookup = (table, key, target);
        let back = returned.remove(&lookup).flatten();
        let (table, key, target) = &lookup;
        let ids = ids_returned_or_read::<D>(conn, back, table, key, target, keys, caps)?;
        found.insert(lookup, ids);
    }
    for (c, (r, _)) in changed.iter().enumerate() {
        for (t, row, slot, key) in &r.pending {
            let l = tables[*t].slots[*slot].lookup.as_ref().expect("a pending lookup");
            let id = found
                .get(&l.id())
                .and_then(|ids| ids.get(key))
                .ok_or_else(|| lost_write(&l.table, &format!("{key:?}")))?;
            fills.entry((c, *t, *row)).or_default().push((*slot, *id));
        }
    }
    Ok((fills, wrote, found.into_iter().collect()))
}

/// The families of `ready` at the places `order` names, in its order.
fn in_order<'r>(ready: &'r mut [Ready], order: &[(usize, &String)]) -> Vec<&'r mut Ready> {
    let mut all: Vec<Option<&mut Ready>> = ready.iter_mut().map(Some).collect();
    order.iter().map(|&(i, _)| all[i].take().expect("a family once")).collect()
}

/// Runs `statement` on rows of a batch moved out of their families (not
/// copied), with each of `fills` (row, slot, value) in place, then puts the
/// rows back as they were, whatever it returned: a transaction retried
/// writes the batch again as it was, and the natural keys of lookups stay
/// for [`unresolve`].
fn lend<T>(
    mut homes: Vec<&mut Vec<SqlValue>>,
    fills: Vec<(usize, usize, SqlValue)>,
    statement: impl FnOnce(&[Vec<SqlValue>]) -> T,
) -> T {
    let mut rows: Vec<Vec<SqlValue>> = homes.iter_mut().map(|home| std::mem::take(*home)).collect();
    let saved: Vec<(usize, usize, SqlValue)> = fills
        .into_iter()
        .map(|(r, slot, value)| (r, slot, std::mem::replace(&mut rows[r][slot], value)))
        .collect();
    let out = statement(&rows);
    // Backwards: a slot filled twice gets its first value back.
    for (r, slot, value) in saved.into_iter().rev() {
        rows[r][slot] = value;
    }
    for (home, row) in homes.into_iter().zip(rows) {
        *home = row;
    }
    out
}

/// Puts back the natural keys that resolving replaced by ids, so that the
/// batch can be resolved again.
fn unresolve(batch: &mut Batch) {
    for ready in &mut batch.ready {
        for (t, r, i, value) in std::mem::take(&mut ready.resolved) {
            rows_of_mut(ready, t)[r][i] = value;
        }
        ready.pending.clear();
    }
}

/// The rows of table `t` of a family (0: the parent, then the children).
fn rows_of(ready: &Ready, t: usize) -> Vec<&Vec<SqlValue>> {
    if t == 0 { vec![&ready.row] } else { ready.children[t - 1].iter().collect() }
}

fn rows_of_mut(ready: &mut Ready, t: usize) -> Vec<&mut Vec<SqlValue>> {
    if t == 0 { vec![&mut ready.row] } else { ready.children[t - 1].iter_mut().collect() }
}

/// A natural key as the lookup's text (`None` for NULL).
fn natural(value: &SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(t) => Some(t.clone()),
        SqlValue::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// The bind value of a natural key of a lookup read by `rule`.
fn key_value(rule: &crate::transform::ColumnRule, key: &str) -> SqlValue {
    match (&rule.kind, key.parse::<i64>()) {
        (crate::transform::ColumnKind::Integer { .. }, Ok(i)) => SqlValue::Int(i),
        _ => SqlValue::Text(key.to_owned()),
    }
}

/// Whether the database refused rows for what they hold (a constraint),
/// rather than failed.
fn is_refusal(e: &triglot::Error) -> bool {
    matches!(
        e.kind(),
        Some(
            ErrorKind::ForeignKeyViolation
                | ErrorKind::CheckViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::UniqueViolation
        )
    )
}

/// The key as the fingerprint table holds it: the text, or a hash of a
/// text too long for its column.
fn record_key(text: &str) -> String {
    if text.chars().count() <= 380 {
        return text.to_owned();
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("#{h:016x}:{}", text.chars().take(300).collect::<String>())
}

/// Deletes the children of the parents with `keys`.
fn delete_children<'k, D: FlowBackend>(
    conn: &mut D::Connection,
    child: &TablePlan,
    keys: impl Iterator<Item = &'k [SqlValue]>,
    caps: &Capabilities,
) -> diesel::QueryResult<()> {
    let keys: Vec<&[SqlValue]> = keys.collect();
    let per = child.link_columns.len().max(1);
    for chunk in triglot::values::chunks(&keys, caps, per) {
        let mut delete = Statement::new("DELETE FROM ");
        delete.cacheable(caps.null_binds);
        delete.ident(child.name.as_str()).sql(" WHERE ");
        if per == 1 {
            delete.ident(child.link_columns[0].as_str()).sql(" IN (");
            delete.values(chunk.iter().map(|k| k[0].clone())).sql(")");
        } else {
            for (i, key) in chunk.iter().enumerate() {
                delete.sql(if i == 0 { "(" } else { " OR (" });
                for (j, column) in child.link_columns.iter().enumerate() {
                    if j > 0 {
                        delete.sql(" AND ");
                    }
                    delete.ident(column.as_str()).sql(" = ").value(key[j].clone());
                }
                delete.sql(")");
            }
        }
        diesel::RunQueryDsl::execute(delete, conn)?;
    }
    Ok(())
}

/// The records in the array at `path` of a JSON record, each with the
/// record's line; a value that is not an array of objects is one record
/// that refuses the family.
fn nested(record: &SourceRecord, path: &[String]) -> Vec<SourceRecord> {
    let RecordData::Json(root) = &record.data else { return Vec::new() };
    let mut value = root;
    for key in path {
        match value.get(key) {
            Some(next) => value = next,
            None => return Vec::new(),
        }
    }
    let broken = |detail: String| SourceRecord {
        line: record.line,
        raw: record.raw.clone(),
        data: RecordData::Broken(FieldError::new(Reason::InvalidJson, detail)),
        offset: record.offset,
    };
    match value {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                serde_json::Value::Object(_) => SourceRecord {
                    line: record.line,
                    raw: record.raw.clone(),
                    data: RecordData::Json(item.clone()),
                    offset: record.offset,
                },
                _ => broken(format!("item {} of {} is not an object", i + 1, path.join("."))),
            })
            .collect(),
        _ => vec![broken(format!("{} is not an array", path.join(".")))],
    }
}

fn orphan_reject(child: &Bound<'_>, parent: &Bound<'_>, record: &SourceRecord) -> Reject {
    // The fields the child is joined by: its link columns may hold the
    // parent's generated id, which no file has.
    let slots = &child.plan.join_slots;
    let key = child.key_of(slots, record).unwrap_or_default().replace('\u{1f}', ", ");
    child.reject(
        record,
        (
            slots.first().map(|&i| child.plan.shown(i).to_owned()),
            FieldError::new(
                Reason::MissingParent,
                format!("no record of {} has the key ({key})", parent.file),
            ),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use triglot::Dialect;

    #[test]
    fn a_read_back_that_misses_its_own_write_is_retryable_on_every_backend() {
        let err = lost_write("orders", "A-1");
        let mut backends = 0;
        macro_rules! check {
            ($key:ident, $dialect:ty) => {
                backends += 1;
                assert_eq!(
                    <$dialect as Dialect>::classify(&err),
                    ErrorKind::Retryable,
                    "{}",
                    stringify!($key)
                );
            };
        }
        triglot::for_each_backend!(check);
        assert_eq!(backends, 3, "build with --features triglot/mysql,triglot/postgres");
        assert!(err.to_string().contains("orders A-1 was written but is not found"), "{err}");
    }
}
