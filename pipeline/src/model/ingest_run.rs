//! Ingest runs: what one load read, wrote and rejected.

use std::fmt;

use chrono::NaiveDateTime;
use diesel::connection::LoadConnection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};

use crate::schema::ingest_runs;
use triglot::sql::{NullableUtcValue, UtcValue};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Started, not finished (or killed).
    Running,
    /// Every record was read and either written or rejected.
    Completed,
    /// Stopped by an error; batches committed before it stay.
    Failed,
}

impl RunStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored ingest run.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = ingest_runs)]
pub struct IngestRun {
    /// Surrogate key.
    pub id: i64,
    /// When it started (UTC).
    pub started_at: NaiveDateTime,
    /// When it ended, if it did.
    pub finished_at: Option<NaiveDateTime>,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// What it read (file names, `demo:seed=42`, …).
    pub source: String,
    /// The contract it applied.
    pub contract: String,
    /// Records read.
    pub records_read: i64,
    /// Records accepted by the contract.
    pub records_accepted: i64,
    /// Records rejected by the contract.
    pub records_rejected: i64,
    /// Orders that did not exist before.
    pub orders_inserted: i64,
    /// Orders that existed and changed.
    pub orders_updated: i64,
    /// Orders that existed unchanged.
    pub orders_unchanged: i64,
    /// The error that stopped it, if any.
    pub error: Option<String>,
    /// Transactions made again after a transient failure: a conflict
    /// (deadlock, serialization failure, busy database) or a lost connection.
    pub retries: i64,
}

/// A run to insert at its start.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = ingest_runs, treat_none_as_default_value = false)]
pub struct NewIngestRun {
    /// When it started (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub started_at: NaiveDateTime,
    /// `running`.
    pub status: String,
    /// What it reads.
    pub source: String,
    /// The contract it applies.
    pub contract: String,
    /// Zero at the start.
    pub records_read: i64,
    /// Zero at the start.
    pub records_accepted: i64,
    /// Zero at the start.
    pub records_rejected: i64,
    /// Zero at the start.
    pub orders_inserted: i64,
    /// Zero at the start.
    pub orders_updated: i64,
    /// Zero at the start.
    pub orders_unchanged: i64,
}

impl NewIngestRun {
    /// A run that starts now, with zero counts.
    pub fn start(
        source: impl Into<String>,
        contract: impl Into<String>,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            started_at: now,
            status: RunStatus::Running.as_str().to_owned(),
            source: source.into(),
            contract: contract.into(),
            records_read: 0,
            records_accepted: 0,
            records_rejected: 0,
            orders_inserted: 0,
            orders_updated: 0,
            orders_unchanged: 0,
        }
    }
}

/// The counts and outcome written to a run as it progresses and at its end.
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = ingest_runs, treat_none_as_null = true)]
pub struct RunUpdate {
    /// When it ended, if it has.
    #[diesel(serialize_as = NullableUtcValue)]
    pub finished_at: Option<NaiveDateTime>,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// Records read so far.
    pub records_read: i64,
    /// Records accepted so far.
    pub records_accepted: i64,
    /// Records rejected so far.
    pub records_rejected: i64,
    /// Orders inserted so far.
    pub orders_inserted: i64,
    /// Orders updated so far.
    pub orders_updated: i64,
    /// Orders found unchanged so far.
    pub orders_unchanged: i64,
    /// The error that stopped it, if any.
    pub error: Option<String>,
    /// Transactions made again so far after a transient failure.
    pub retries: i64,
}

type UpdateRun = dsl::Update<dsl::Find<ingest_runs::table, i64>, RunUpdate>;

/// The ingest-run queries that are the same on every backend.
pub trait IngestRunQueries: Sized {
    /// Writes `update` to run `id`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn update_run(&mut self, id: i64, update: RunUpdate) -> QueryResult<usize>;

    /// The run with this id.
    ///
    /// # Errors
    ///
    /// `NotFound` if there is none, or any statement error.
    fn find_run(&mut self, id: i64) -> QueryResult<IngestRun>;

    /// Number of runs.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_runs(&mut self) -> QueryResult<i64>;
}

impl<C> IngestRunQueries for C
where
    C: LoadConnection,
    UpdateRun: ExecuteDsl<C>,
    for<'q> dsl::Limit<
        dsl::Select<dsl::Find<ingest_runs::table, i64>, dsl::AsSelect<IngestRun, C::Backend>>,
    >: LoadQuery<'q, C, IngestRun>,
    for<'q> dsl::Count<ingest_runs::table>: LoadQuery<'q, C, i64>,
{
    fn update_run(&mut self, id: i64, update: RunUpdate) -> QueryResult<usize> {
        diesel::update(ingest_runs::table.find(id)).set(update).execute(self)
    }

    fn find_run(&mut self, id: i64) -> QueryResult<IngestRun> {
        ingest_runs::table.find(id).select(IngestRun::as_select()).first(self)
    }

    fn count_runs(&mut self) -> QueryResult<i64> {
        ingest_runs::table.count().get_result(self)
    }
}
