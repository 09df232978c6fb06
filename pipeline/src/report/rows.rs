//! The row shapes of the report's SQL and the trait that loads them, for
//! any connection that can.

use chrono::NaiveDateTime;
use diesel::connection::LoadConnection;
use diesel::prelude::*;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::methods::LoadQuery;
use diesel::sql_types::{BigInt, Nullable, Text};

use triglot::sql::UtcDateTime;

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct CountRow {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct RatioRow {
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    #[diesel(sql_type = BigInt)]
    pub present: i64,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct KeyedRow {
    #[diesel(sql_type = Text)]
    pub k: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct NewestRow {
    #[diesel(sql_type = Nullable<UtcDateTime>)]
    pub newest: Option<NaiveDateTime>,
}

/// One ingest run as the report reads it.
#[doc(hidden)]
#[derive(Debug, Clone, QueryableByName)]
pub struct RunRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = UtcDateTime)]
    pub started_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<UtcDateTime>)]
    pub finished_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub source: String,
    #[diesel(sql_type = Text)]
    pub contract: String,
    #[diesel(sql_type = BigInt)]
    pub records_read: i64,
    #[diesel(sql_type = BigInt)]
    pub records_accepted: i64,
    #[diesel(sql_type = BigInt)]
    pub records_rejected: i64,
    #[diesel(sql_type = BigInt)]
    pub rejects_stored: i64,
}

/// Runs the report's SQL; implemented for every connection that can load
/// its row shapes.
pub trait ReportQueries {
    /// One `n` (a count).
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn report_count(&mut self, sql: &str) -> QueryResult<i64>;

    /// `(total, present)`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn report_ratio(&mut self, sql: &str) -> QueryResult<(i64, i64)>;

    /// `(k, n)` rows.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn report_keyed(&mut self, sql: &str) -> QueryResult<Vec<(String, i64)>>;

    /// One nullable timestamp, `newest`.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn report_newest(&mut self, sql: &str) -> QueryResult<Option<NaiveDateTime>>;

    #[doc(hidden)]
    fn report_runs(&mut self, sql: &str) -> QueryResult<Vec<RunRow>>;
}

impl<C> ReportQueries for C
where
    C: LoadConnection,
    for<'q> SqlQuery: LoadQuery<'q, C, CountRow>
        + LoadQuery<'q, C, RatioRow>
        + LoadQuery<'q, C, KeyedRow>
        + LoadQuery<'q, C, NewestRow>
        + LoadQuery<'q, C, RunRow>,
{
    fn report_count(&mut self, sql: &str) -> QueryResult<i64> {
        diesel::sql_query(sql).get_result::<CountRow>(self).map(|r| r.n)
    }

    fn report_ratio(&mut self, sql: &str) -> QueryResult<(i64, i64)> {
        diesel::sql_query(sql).get_result::<RatioRow>(self).map(|r| (r.total, r.present))
    }

    fn report_keyed(&mut self, sql: &str) -> QueryResult<Vec<(String, i64)>> {
        Ok(diesel::sql_query(sql).load::<KeyedRow>(self)?.into_iter().map(|r| (r.k, r.n)).collect())
    }

    fn report_newest(&mut self, sql: &str) -> QueryResult<Option<NaiveDateTime>> {
        diesel::sql_query(sql).get_result::<NewestRow>(self).map(|r| r.newest)
    }

    fn report_runs(&mut self, sql: &str) -> QueryResult<Vec<RunRow>> {
        diesel::sql_query(sql).load::<RunRow>(self)
    }
}
