//! The flow engine's own tables in the user's database: its runs, their
//! rejects, and a fingerprint of every record it wrote.
//!
//! They are created on first use with portable DDL (`CREATE TABLE IF NOT
//! EXISTS`, types every backend spells alike), so a user's migrations need
//! not know them. Every name starts with `triglot_`, and the report and
//! the contract binder leave such tables alone.

use chrono::{NaiveDateTime, Utc};
use diesel::QueryableByName;
use diesel::connection::LoadConnection;
use diesel::query_dsl::methods::LoadQuery;
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Nullable, Text};
use triglot::values::{SqlValue, Statement};
use triglot::{Database, Dialect};

use crate::contract::{Reject, storable_text};

/// The prefix of the engine's tables.
pub const BOOK_PREFIX: &str = "triglot_";

const DDL: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS triglot_runs (
        run_id BIGINT NOT NULL PRIMARY KEY,
        contract VARCHAR(200) NOT NULL,
        files TEXT NOT NULL,
        started_at VARCHAR(40) NOT NULL,
        finished_at VARCHAR(40),
        status VARCHAR(16) NOT NULL,
        records_read BIGINT NOT NULL,
        records_accepted BIGINT NOT NULL,
        records_rejected BIGINT NOT NULL,
        records_unchanged BIGINT NOT NULL,
        retries BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE TABLE IF NOT EXISTS triglot_rejects (
        run_id BIGINT NOT NULL,
        source VARCHAR(500) NOT NULL,
        line BIGINT NOT NULL,
        field VARCHAR(200),
        reason VARCHAR(64) NOT NULL,
        detail TEXT NOT NULL,
        raw TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS triglot_fingerprints (
        table_name VARCHAR(128) NOT NULL,
        record_key VARCHAR(400) NOT NULL,
        fingerprint BIGINT NOT NULL,
        run_id BIGINT NOT NULL,
        PRIMARY KEY (table_name, record_key)
    )",
    // One row per table a flow writes, whose lock a batch takes first (see
    // `take_turn`).
    "CREATE TABLE IF NOT EXISTS triglot_turns (
        table_name VARCHAR(128) NOT NULL PRIMARY KEY,
        run_id BIGINT NOT NULL
    )",
    // The indexes a run dropped to build after its load (`defer_indexes`),
    // until they are built again.
    "CREATE TABLE IF NOT EXISTS triglot_deferred_indexes (
        table_name VARCHAR(128) NOT NULL,
        index_name VARCHAR(128) NOT NULL,
        definition TEXT NOT NULL,
        PRIMARY KEY (table_name, index_name)
    )",
];

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct KeyPrint {
    #[diesel(sql_type = Text)]
    pub record_key: String,
    #[diesel(sql_type = BigInt)]
    pub fingerprint: i64,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct Count {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub n: Option<i64>,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct Pair {
    #[diesel(sql_type = Nullable<Text>)]
    pub k: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[doc(hidden)]
#[derive(Debug, QueryableByName)]
pub struct RunLine {
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    #[diesel(sql_type = Text)]
    pub contract: String,
    #[diesel(sql_type = Text)]
    pub files: String,
    #[diesel(sql_type = BigInt)]
    pub retries: i64,
    #[diesel(sql_type = Text)]
    pub started_at: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = BigInt)]
    pub records_read: i64,
    #[diesel(sql_type = BigInt)]
    pub records_accepted: i64,
    #[diesel(sql_type = BigInt)]
    pub records_rejected: i64,
    #[diesel(sql_type = BigInt)]
    pub records_unchanged: i64,
    #[diesel(sql_type = BigInt)]
    pub rejects_stored: i64,
}

/// A connection that can run the engine's queries; every backend's is one.
pub trait FlowQueries: LoadConnection {
    #[doc(hidden)]
    fn key_prints(&mut self, statement: &Statement) -> QueryResult<Vec<KeyPrint>>;
    #[doc(hidden)]
    fn count(&mut self, statement: &Statement) -> QueryResult<Option<i64>>;
    #[doc(hidden)]
    fn pairs(&mut self, statement: &Statement) -> QueryResult<Vec<Pair>>;
    #[doc(hidden)]
    fn runs(&mut self, statement: &Statement) -> QueryResult<Vec<RunLine>>;
}

impl<C> FlowQueries for C
where
    C: LoadConnection,
    for<'q> Statement: LoadQuery<'q, C, KeyPrint>
        + LoadQuery<'q, C, Count>
        + LoadQuery<'q, C, Pair>
        + LoadQuery<'q, C, RunLine>,
{
    fn pairs(&mut self, statement: &Statement) -> QueryResult<Vec<Pair>> {
        diesel::RunQueryDsl::load(statement.clone(), self)
    }

    fn runs(&mut self, statement: &Statement) -> QueryResult<Vec<RunLine>> {
        diesel::RunQueryDsl::load(statement.clone(), self)
    }

    fn key_prints(&mut self, statement: &Statement) -> QueryResult<Vec<KeyPrint>> {
        diesel::RunQueryDsl::load(statement.clone(), self)
    }

    fn count(&mut self, statement: &Statement) -> QueryResult<Option<i64>> {
        diesel::RunQueryDsl::get_result::<Count>(statement.clone(), self).map(|c| c.n)
    }
}

/// A backend the flow engine runs on: a [`Dialect`] whose connection runs
/// [`FlowQueries`]. Every backend triglot is built with is one.
pub trait FlowBackend: Dialect<Connection: FlowQueries> {}

impl<D> FlowBackend for D where D: Dialect<Connection: FlowQueries> {}

/// Creates the engine's tables where they are missing.
pub(crate) fn ensure<D: FlowBackend>(db: &Database<D>) -> triglot::Result<()> {
    // A database busy with another writer, or restarting, is waited for.
    let policy = triglot::RetryPolicy::through_restarts();
    let execute = |context: &'static str, sql: &str| {
        db.retry(&policy, |_| {
            db.run(context, |conn| diesel::connection::SimpleConnection::batch_execute(conn, sql))
        })
    };
    for ddl in DDL {
        let create = || execute("creating the flow's bookkeeping tables", ddl);
        // PostgreSQL's `IF NOT EXISTS` races: of two runs creating the same
        // table at once, one may fail ("already exists", or the catalog's
        // own unique key) once the other has committed it. A second try
        // then finds the table; any other failure fails it again.
        create().or_else(|_| create())?;
    }
    // Books created before runs counted their retries lack the column.
    let probe = || {
        execute(
            "reading the flow's bookkeeping tables",
            "SELECT retries FROM triglot_runs WHERE 1 = 0",
        )
    };
    if probe().is_err() {
        let add = "ALTER TABLE triglot_runs ADD COLUMN retries BIGINT NOT NULL DEFAULT 0";
        // A run upgrading at the same time may have added it first.
        execute("adding triglot_runs.retries", add).or_else(|e| probe().map_err(|_| e))?;
    }
    Ok(())
}

/// The `triglot_turns` row that runs deferring or building indexes take
/// turns on: two at once would record the same index twice, or create it
/// twice (PostgreSQL's `CREATE INDEX IF NOT EXISTS` fails, rather than
/// waits, when another session creates the same index at that moment).
const DEFERRING: &str = "triglot_deferred_indexes";

/// Drops the indexes of `table` that a load builds faster afterwards
/// ([`Dialect::indexes_built_after_load`]) if the table is empty, and
/// records each in `triglot_deferred_indexes` in the same transaction, so
/// that a run stopped before [`build_deferred_indexes`] leaves them for
/// the next run to build. Returns how many it dropped.
pub(crate) fn defer_indexes<D: FlowBackend>(
    db: &Database<D>,
    table: &str,
) -> triglot::Result<usize> {
    let policy = triglot::RetryPolicy::through_restarts();
    // Asked outside a transaction first: where the backend defers none
    // (MySQL), a run opens no write transaction for it.
    let list = |conn: &mut D::Connection| D::indexes_built_after_load(conn, table);
    // This read can fail while a concurrent run drops the indexes
    // (PostgreSQL's `pg_get_indexdef` of one just dropped): the read inside
    // the turn below, retried, is the one that counts.
    if db.run("listing indexes to defer", list).is_ok_and(|l| l.is_empty()) {
        return Ok(0);
    }
    let writes = db.writes();
    let done = db.write_with_retry("deferring indexes", &policy, |conn| {
        // Concurrent runs take turns here: the next one lists the indexes
        // once the first has dropped and recorded them, and finds none.
        take_turn::<D>(conn, &writes, DEFERRING, 0)?;
        let indexes = list(conn)?;
        if indexes.is_empty() {
            return Ok(0);
        }
        let mut stored = Statement::new("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ");
        stored.ident(table).sql(" LIMIT 1) t");
        if conn.count(&stored)?.unwrap_or(0) > 0 {
            return Ok(0);
        }
        for index in &indexes {
            let mut record = Statement::new(
                "INSERT INTO triglot_deferred_indexes (table_name, index_name, definition) VALUES (",
            );
            record
                .values([
                    SqlValue::Text(table.to_owned()),
                    SqlValue::Text(index.name.clone()),
                    SqlValue::Text(index.create.clone()),
                ])
                .sql(")");
            diesel::RunQueryDsl::execute(record, conn)?;
            diesel::connection::SimpleConnection::batch_execute(conn, &index.drop)?;
        }
        Ok(indexes.len())
    })?;
    Ok(done.value)
}

/// Builds every index recorded in `triglot_deferred_indexes` (by this run,
/// or by one that stopped before it could) and forgets the records, in one
/// transaction. Returns how many it built.
pub(crate) fn build_deferred_indexes<D: FlowBackend>(db: &Database<D>) -> triglot::Result<usize> {
    let policy = triglot::RetryPolicy::through_restarts();
    let select = Statement::new(format!(
        "SELECT definition AS k, CAST(0 AS {}) AS n FROM triglot_deferred_indexes",
        D::BIGINT_CAST
    ));
    // Read outside a transaction first: where none is recorded (always, on
    // MySQL), a run opens no write transaction for it.
    let some = db.retry(&policy, |_| db.run("listing deferred indexes", |c| c.pairs(&select)))?;
    if some.value.is_empty() {
        return Ok(0);
    }
    let writes = db.writes();
    let done = db.write_with_retry("building deferred indexes", &policy, |conn| {
        // One run builds them; the next finds the records gone.
        take_turn::<D>(conn, &writes, DEFERRING, 0)?;
        let recorded = conn.pairs(&select)?;
        for create in recorded.iter().filter_map(|p| p.k.as_deref()) {
            diesel::connection::SimpleConnection::batch_execute(conn, create)?;
        }
        if !recorded.is_empty() {
            let forget = Statement::new("DELETE FROM triglot_deferred_indexes");
            diesel::RunQueryDsl::execute(forget, conn)?;
        }
        Ok(recorded.len())
    })?;
    Ok(done.value)
}

/// Counters of a run, as its row holds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Records read from every file.
    pub read: u64,
    /// Records written, or found unchanged.
    pub accepted: u64,
    /// Records refused, each stored in `triglot_rejects`.
    pub rejected: u64,
    /// Accepted records whose top-level record was unchanged, so nothing was written.
    pub unchanged: u64,
    /// Attempts of the run's transactions and reads beyond the first of
    /// each, after a retryable failure (a lost connection, a deadlock).
    pub retries: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.read += other.read;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.unchanged += other.unchanged;
        self.retries += other.retries;
    }
}

fn now_text(now: NaiveDateTime) -> String {
    now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn int(n: u64) -> SqlValue {
    SqlValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Records a new run; returns its id (one more than the highest so far).
pub(crate) fn start_run<D: FlowBackend>(
    db: &Database<D>,
    contract: &str,
    files: &str,
) -> triglot::Result<i64> {
    let started = now_text(Utc::now().naive_utc());
    let mut attempt = 0;
    loop {
        attempt += 1;
        let policy = triglot::RetryPolicy::through_restarts();
        let result = db.write_with_retry("recording the run", &policy, |conn| {
            let highest =
                conn.count(&Statement::new("SELECT MAX(run_id) AS n FROM triglot_runs"))?;
            let run_id = highest.unwrap_or(0) + 1;
            let mut insert = Statement::new(
                "INSERT INTO triglot_runs (run_id, contract, files, started_at, status, \
                 records_read, records_accepted, records_rejected, records_unchanged, retries) VALUES (",
            );
            insert
                .values([
                    SqlValue::Int(run_id),
                    SqlValue::Text(contract.to_owned()),
                    SqlValue::Text(files.to_owned()),
                    SqlValue::Text(started.clone()),
                    SqlValue::Text("running".into()),
                ])
                .sql(", 0, 0, 0, 0, 0)");
            diesel::RunQueryDsl::execute(insert, conn)?;
            Ok(run_id)
        });
        match result {
            // Runs starting at once took the same id: take the next, after
            // a jittered wait so that they spread out.
            Err(e) if attempt < 50 && e.kind() == Some(triglot::ErrorKind::UniqueViolation) => {
                std::thread::sleep(triglot::RetryPolicy::default().delay_before(attempt.min(4)));
            }
            other => return other.map(|done| done.value),
        }
    }
}

/// Adds `delta` to the run's counters (inside the batch's transaction).
pub(crate) fn count_run<D: FlowBackend>(
    conn: &mut D::Connection,
    run_id: i64,
    delta: Counts,
) -> QueryResult<()> {
    let mut update = Statement::new("UPDATE triglot_runs SET records_read = records_read + ");
    update
        .value(int(delta.read))
        .sql(", records_accepted = records_accepted + ")
        .value(int(delta.accepted))
        .sql(", records_rejected = records_rejected + ")
        .value(int(delta.rejected))
        .sql(", records_unchanged = records_unchanged + ")
        .value(int(delta.unchanged))
        .sql(", retries = retries + ")
        .value(int(delta.retries))
        .sql(" WHERE run_id = ")
        .value(SqlValue::Int(run_id));
    diesel::RunQueryDsl::execute(update, conn).map(|_| ())
}

/// The counters run `run_id`'s row holds now.
pub(crate) fn stored_counts<D: FlowBackend>(
    conn: &mut D::Connection,
    run_id: i64,
) -> QueryResult<Counts> {
    let mut read = |column: &str| -> QueryResult<u64> {
        let mut select =
            Statement::new(format!("SELECT {column} AS n FROM triglot_runs WHERE run_id = "));
        select.value(SqlValue::Int(run_id));
        Ok(conn.count(&select)?.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    };
    Ok(Counts {
        read: read("records_read")?,
        accepted: read("records_accepted")?,
        rejected: read("records_rejected")?,
        unchanged: read("records_unchanged")?,
        retries: read("retries")?,
    })
}

/// Marks the run finished with `status` (`succeeded` or `failed`).
pub(crate) fn finish_run<D: FlowBackend>(
    db: &Database<D>,
    run_id: i64,
    status: &str,
) -> triglot::Result<()> {
    let mut update = Statement::new("UPDATE triglot_runs SET status = ");
    update
        .value(SqlValue::Text(status.into()))
        .sql(", finished_at = ")
        .value(SqlValue::Text(now_text(Utc::now().naive_utc())))
        .sql(" WHERE run_id = ")
        .value(SqlValue::Int(run_id));
    let policy = triglot::RetryPolicy::through_restarts();
    db.write_with_retry("finishing the run", &policy, |conn| {
        diesel::RunQueryDsl::execute(update.clone(), conn)
    })
    .map(|_| ())
}

/// The rows that store `rejects` of run `run_id`.
pub(crate) fn reject_rows(run_id: i64, rejects: &[Reject]) -> Vec<Vec<SqlValue>> {
    rejects
        .iter()
        .map(|r| {
            vec![
                SqlValue::Int(run_id),
                SqlValue::Text(r.source.clone()),
                int(r.line),
                r.field.clone().map_or(SqlValue::Null, SqlValue::Text),
                SqlValue::Text(r.reason.clone()),
                SqlValue::Text(storable_text(&r.detail)),
                SqlValue::Text(storable_text(&r.raw)),
            ]
        })
        .collect()
}

/// The columns of `triglot_rejects`, in [`reject_rows`] order.
pub(crate) fn reject_columns() -> Vec<String> {
    ["run_id", "source", "line", "field", "reason", "detail", "raw"].map(String::from).to_vec()
}

/// Waits, inside the caller's transaction, until no other transaction
/// writing `table` through a flow is open, and holds that turn until the
/// caller's commit: the first statement of a batch, so that what the batch
/// reads next is what the batches before it committed.
///
/// Batches of concurrent runs over the same keys otherwise read the same
/// keys as not yet stored and then interleave their row locks; InnoDB's gap
/// locks deadlock such pairs whatever order the keys are written in.
///
/// # Errors
///
/// Any statement error.
pub(crate) fn take_turn<D: FlowBackend>(
    conn: &mut D::Connection,
    writes: &triglot::write::Writes<D>,
    table: &str,
    run_id: i64,
) -> diesel::QueryResult<usize> {
    let columns = ["table_name", "run_id"].map(String::from);
    let row = vec![SqlValue::Text(table.to_owned()), SqlValue::Int(run_id)];
    writes.upsert_values(
        conn,
        "triglot_turns",
        &columns,
        &[row],
        &["table_name".to_string()],
        &["run_id".to_string()],
    )
}

/// The columns of `triglot_fingerprints`.
pub(crate) fn fingerprint_columns() -> Vec<String> {
    ["table_name", "record_key", "fingerprint", "run_id"].map(String::from).to_vec()
}

/// The stored fingerprints of `keys` of `table`.
pub(crate) fn fingerprints<D: FlowBackend>(
    conn: &mut D::Connection,
    table: &str,
    keys: &[&str],
    caps: &triglot::Capabilities,
) -> QueryResult<std::collections::HashMap<String, i64>> {
    let mut found = std::collections::HashMap::new();
    // One bind is the table's name.
    let caps = triglot::Capabilities { max_bind_params: caps.max_bind_params.max(2) - 1, ..*caps };
    for chunk in triglot::values::chunks(keys, &caps, 1) {
        let mut select = Statement::new(
            "SELECT record_key, fingerprint FROM triglot_fingerprints WHERE table_name = ",
        );
        select
            .cacheable(caps.null_binds)
            .value(SqlValue::Text(table.into()))
            .sql(" AND record_key IN (")
            .values(chunk.iter().map(|k| SqlValue::Text((*k).to_owned())))
            .sql(")");
        for row in conn.key_prints(&select)? {
            found.insert(row.record_key, row.fingerprint);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MIGRATIONS;
    use diesel::connection::SimpleConnection;

    fn recorded<D: FlowBackend>(db: &Database<D>) -> Option<i64> {
        let select = Statement::new("SELECT COUNT(*) AS n FROM triglot_deferred_indexes");
        db.run("reading records", |conn| conn.count(&select)).unwrap()
    }

    triglot::backend_test!(
        an_empty_tables_plain_indexes_wait_for_the_load_where_ddl_is_transactional,
        |db| {
            let indexes = || db.introspect().unwrap().tables["t"].indexes.clone();
            ensure(db).unwrap();
            db.run("schema", |conn| {
                conn.batch_execute(
                    "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, k VARCHAR(20) NOT NULL UNIQUE, a INT, b INT);
                     CREATE INDEX t_a ON t (a);
                     CREATE INDEX t_ab ON t (a, b);
                     CREATE UNIQUE INDEX t_b ON t (b);",
                )
            })
            .unwrap();
            let before = indexes();
            assert_eq!(before.len(), 2, "the plain ones: {before:?}");

            // Where dropping an index cannot commit with its record (MySQL's
            // DDL commits), none is deferred.
            let deferrable = if db.capabilities().transactional_ddl { 2 } else { 0 };
            assert_eq!(defer_indexes(db, "t").unwrap(), deferrable, "those that enforce nothing");
            assert_eq!(indexes().len(), 2 - deferrable);
            assert_eq!(recorded(db), Some(deferrable as i64));
            assert_eq!(defer_indexes(db, "t").unwrap(), 0, "nothing left to defer");

            db.run("load", |conn| {
                conn.batch_execute("INSERT INTO t (id, k, a, b) VALUES (1, 'x', 1, 2)")
            })
            .unwrap();
            assert_eq!(build_deferred_indexes(db).unwrap(), deferrable);
            assert_eq!(indexes(), before, "built again as they were");
            assert_eq!(recorded(db), Some(0));
            assert_eq!(build_deferred_indexes(db).unwrap(), 0);

            assert_eq!(defer_indexes(db, "t").unwrap(), 0, "a table with rows keeps its indexes");
            assert_eq!(indexes(), before);
        }
    );
}
