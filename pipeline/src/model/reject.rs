//! Rejects: input records a run refused, kept with where they came from and why.

use chrono::NaiveDateTime;
use diesel::connection::LoadConnection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};

use crate::schema::rejects;
use triglot::sql::UtcValue;

/// A stored reject.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = rejects)]
pub struct Reject {
    /// Surrogate key.
    pub id: i64,
    /// The run that refused it.
    pub run_id: i64,
    /// The file (or other source) it came from.
    pub source: String,
    /// Its line number in that source, from 1.
    pub line: i64,
    /// The target field that failed, if one did.
    pub field: Option<String>,
    /// A stable reason code, e.g. `negative_quantity`.
    pub reason: String,
    /// A human explanation.
    pub detail: String,
    /// The record's raw text, as read.
    pub raw: String,
    /// When it was rejected (UTC).
    pub created_at: NaiveDateTime,
}

/// A reject to insert.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = rejects, treat_none_as_default_value = false)]
pub struct NewReject {
    /// The run that refused it.
    pub run_id: i64,
    /// The file it came from.
    pub source: String,
    /// Its line number, from 1.
    pub line: i64,
    /// The target field that failed, if one did.
    pub field: Option<String>,
    /// A stable reason code.
    pub reason: String,
    /// A human explanation.
    pub detail: String,
    /// The record's raw text.
    pub raw: String,
    /// When it was rejected (UTC).
    #[diesel(serialize_as = UtcValue)]
    pub created_at: NaiveDateTime,
}

#[dsl::auto_type]
fn of_run(run_id: i64) -> _ {
    rejects::table.filter(rejects::run_id.eq(run_id)).order_by((
        rejects::source,
        rejects::line,
        rejects::id,
    ))
}

/// The reject queries that are the same on every backend.
pub trait RejectQueries: Sized {
    /// Inserts rejects with multi-row INSERT statements.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn insert_rejects(&mut self, rows: Vec<NewReject>) -> QueryResult<usize>;

    /// The rejects of one run, by source and line.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn rejects_of_run(&mut self, run_id: i64) -> QueryResult<Vec<Reject>>;

    /// Number of rejects.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn count_rejects(&mut self) -> QueryResult<i64>;
}

impl<C> RejectQueries for C
where
    C: LoadConnection,
    dsl::Values<dsl::insert_into<rejects::table>, Vec<NewReject>>: ExecuteDsl<C>,
    for<'q> dsl::Select<of_run, dsl::AsSelect<Reject, C::Backend>>: LoadQuery<'q, C, Reject>,
    for<'q> dsl::Count<rejects::table>: LoadQuery<'q, C, i64>,
{
    fn insert_rejects(&mut self, rows: Vec<NewReject>) -> QueryResult<usize> {
        diesel::insert_into(rejects::table).values(rows).execute(self)
    }

    fn rejects_of_run(&mut self, run_id: i64) -> QueryResult<Vec<Reject>> {
        of_run(run_id).select(Reject::as_select()).load(self)
    }

    fn count_rejects(&mut self) -> QueryResult<i64> {
        rejects::table.count().get_result(self)
    }
}
