//! Rows whose table and columns are known only at run time: a contract's
//! target table, a fixture, a copy between databases.
//!
//! [`SqlValue`] is one value; [`ValuesInsert`] writes rows of them as one
//! multi-row `INSERT` (optionally an upsert, spelled by the dialect's
//! [`UpsertForm`]), binding every value with the SQL type its variant names.
//! Any [`Dialect`](crate::Dialect)'s backend can run it, so code generic over
//! `D: Dialect` writes dynamic rows without further bounds.

use std::borrow::Cow;

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::QueryResult;

use crate::dialect::{Capabilities, Dialect, UpsertForm};
pub use crate::sql_value::{DynamicValues, KeyId, SqlValue, Upsert};

/// Inserts `rows` of `table` as multi-row INSERTs sized by `caps`
/// ([`chunks`]); returns the rows inserted.
///
/// # Errors
///
/// Any statement error; a row of the wrong length is a query-builder error.
pub fn insert_rows<C>(
    conn: &mut C,
    caps: &Capabilities,
    table: &str,
    columns: &[String],
    rows: &[Vec<SqlValue>],
) -> QueryResult<usize>
where
    C: diesel::connection::Connection,
    C::Backend: DynamicValues,
{
    let mut written = 0;
    for chunk in chunks(rows, caps, columns.len()) {
        written +=
            ValuesInsert::new(table, columns, chunk).bind_nulls(caps.null_binds).execute(conn)?;
    }
    Ok(written)
}

impl Upsert<'_> {
    /// Runs the upsert as multi-row statements sized by `caps` ([`chunks`]),
    /// spelled by `caps.upsert`; returns the driver's affected-row count.
    ///
    /// # Errors
    ///
    /// Any statement error; a row of the wrong length is a query-builder error.
    pub fn execute<C>(&self, conn: &mut C, caps: &Capabilities) -> QueryResult<usize>
    where
        C: diesel::connection::Connection,
        C::Backend: DynamicValues,
    {
        let mut written = 0;
        for chunk in chunks(self.rows, caps, self.columns.len()) {
            written += self.statement(chunk, caps).execute(conn)?;
        }
        Ok(written)
    }

    /// Like [`Upsert::execute`], returning the key (its first column, as
    /// text) and the `id` column of every row inserted or updated, for
    /// backends with `RETURNING` ([`Capabilities::insert_returning`]); `D`
    /// spells the casts.
    ///
    /// # Errors
    ///
    /// Any statement error; a row of the wrong length is a query-builder error.
    pub fn returning<D>(
        &self,
        conn: &mut D::Connection,
        caps: &Capabilities,
        id: &str,
    ) -> QueryResult<Vec<KeyId>>
    where
        D: Dialect,
        for<'q> ValuesInsert<'q>: diesel::query_dsl::LoadQuery<'q, D::Connection, KeyId>,
    {
        let mut found = Vec::with_capacity(self.rows.len());
        for chunk in chunks(self.rows, caps, self.columns.len()) {
            let statement = self.statement(chunk, caps).returning::<D>(&self.key[0], id);
            found.extend(statement.load::<KeyId>(conn)?);
        }
        Ok(found)
    }

    fn statement<'s>(
        &'s self,
        chunk: &'s [Vec<SqlValue>],
        caps: &Capabilities,
    ) -> ValuesInsert<'s> {
        ValuesInsert::new(self.table, self.columns, chunk).bind_nulls(caps.null_binds).upsert(
            caps.upsert,
            self.key,
            self.update,
        )
    }
}

/// The most rows of one cached multi-row statement.
const CACHED_ROWS: usize = 256;

/// `rows` cut into statements of `width` columns within the bind limit.
///
/// Where statements are cached ([`Capabilities::null_binds`]), every chunk
/// has one of a few sizes (a fixed size, then powers of two for the rest),
/// so a table's inserts share at most nine statements whatever the row
/// counts; elsewhere chunks are as large as the limit allows.
pub fn chunks<'r, T>(rows: &'r [T], caps: &Capabilities, width: usize) -> Vec<&'r [T]> {
    let limit = (caps.max_bind_params / width.max(1)).max(1);
    if !caps.null_binds {
        return rows.chunks(limit).collect();
    }
    let size = limit.min(CACHED_ROWS);
    let whole = rows.len() / size * size;
    let mut out: Vec<&[T]> = rows[..whole].chunks(size).collect();
    let mut rest = &rows[whole..];
    while !rest.is_empty() {
        let take = 1 << rest.len().ilog2();
        out.push(&rest[..take]);
        rest = &rest[take..];
    }
    out
}

/// `INSERT INTO table (columns) VALUES (…), (…)`, optionally followed by
/// the upsert clause of `form` on `key`, updating `update`.
#[derive(Debug, Clone, Copy)]
pub struct ValuesInsert<'a> {
    table: &'a str,
    columns: &'a [String],
    rows: &'a [Vec<SqlValue>],
    upsert: Option<(UpsertForm, &'a [String], &'a [String])>,
    bind_nulls: bool,
    returning: Option<Returning<'a>>,
}

/// A `RETURNING` list of a key column as text (`k`) and an id column
/// (`n`), with the casts of the dialect that runs it.
#[derive(Debug, Clone, Copy)]
struct Returning<'a> {
    key: &'a str,
    id: &'a str,
    text_cast: &'static str,
    bigint_cast: &'static str,
}

impl<'a> ValuesInsert<'a> {
    /// An insert of `rows` (each as long as `columns`) into `table`.
    pub fn new(table: &'a str, columns: &'a [String], rows: &'a [Vec<SqlValue>]) -> Self {
        Self { table, columns, rows, upsert: None, bind_nulls: false, returning: None }
    }

    /// The same statement with its NULLs bound as parameters rather than
    /// written as literals, so its text depends on its shape alone and the
    /// driver may cache it ([`Capabilities::null_binds`]: not PostgreSQL).
    pub fn bind_nulls(mut self, bind: bool) -> Self {
        self.bind_nulls = bind;
        self
    }

    /// The same rows inserted, or where `key` (MySQL: any unique key)
    /// exists, `update` columns set to the new values (none: left as they are).
    pub fn upsert(mut self, form: UpsertForm, key: &'a [String], update: &'a [String]) -> Self {
        self.upsert = Some((form, key, update));
        self
    }

    /// The same statement returning each row's `key` as text (`k`) and its
    /// `id` (`n`), as [`KeyId`] reads them, cast as `D` casts; for backends
    /// with `RETURNING` ([`Capabilities::insert_returning`]).
    pub fn returning<D: Dialect>(mut self, key: &'a str, id: &'a str) -> Self {
        self.returning =
            Some(Returning { key, id, text_cast: D::TEXT_CAST, bigint_cast: D::BIGINT_CAST });
        self
    }
}

impl<DB: DynamicValues> QueryFragment<DB> for ValuesInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // With NULLs as literals the text depends on where they are.
        if !self.bind_nulls {
            out.unsafe_to_cache_prepared();
        }
        if self.rows.is_empty() || self.columns.is_empty() {
            return Err(diesel::result::Error::QueryBuilderError(
                "an insert of dynamic rows needs columns and at least one row".into(),
            ));
        }
        out.push_sql("INSERT INTO ");
        out.push_identifier(self.table)?;
        out.push_sql(" (");
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_identifier(column)?;
        }
        out.push_sql(") VALUES ");
        for (r, row) in self.rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!(
                        "row {} has {} values for {} columns",
                        r + 1,
                        row.len(),
                        self.columns.len()
                    )
                    .into(),
                ));
            }
            out.push_sql(if r == 0 { "(" } else { ", (" });
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                if self.bind_nulls && *value == SqlValue::Null {
                    DB::push_null(&mut out)?;
                } else {
                    DB::push_value(&mut out, value)?;
                }
            }
            out.push_sql(")");
        }
        if let Some((form, key, update)) = self.upsert {
            upsert_clause(&mut out, form, key, update)?;
        }
        if let Some(r) = self.returning {
            out.push_sql(" RETURNING CAST(");
            out.push_identifier(r.key)?;
            out.push_sql(" AS ");
            out.push_sql(r.text_cast);
            out.push_sql(") AS k, CAST(");
            out.push_identifier(r.id)?;
            out.push_sql(" AS ");
            out.push_sql(r.bigint_cast);
            out.push_sql(") AS n");
        }
        Ok(())
    }
}

/// ` ON CONFLICT …` or ` ON DUPLICATE KEY UPDATE …` on `key`, setting
/// `update`; with nothing to update, `DO NOTHING` (or a no-op update of the
/// key on MySQL). Shared by [`ValuesInsert`] and the typed
/// [`UpsertStatement`](crate::write::UpsertStatement).
pub(crate) fn upsert_clause<DB: diesel::backend::Backend, N: AsRef<str>>(
    out: &mut AstPass<'_, '_, DB>,
    form: UpsertForm,
    key: &[N],
    update: &[N],
) -> QueryResult<()> {
    let list = |out: &mut AstPass<'_, '_, DB>,
                names: &[N],
                each: &dyn Fn(&mut AstPass<'_, '_, DB>, &str) -> QueryResult<()>|
     -> QueryResult<()> {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            each(out, name.as_ref())?;
        }
        Ok(())
    };
    match form {
        UpsertForm::OnConflict => {
            out.push_sql(" ON CONFLICT (");
            list(out, key, &|out, c| out.push_identifier(c))?;
            if update.is_empty() {
                out.push_sql(") DO NOTHING");
            } else {
                out.push_sql(") DO UPDATE SET ");
                list(out, update, &|out, c| {
                    out.push_identifier(c)?;
                    out.push_sql(" = excluded.");
                    out.push_identifier(c)
                })?;
            }
        }
        UpsertForm::OnDuplicateKey => {
            out.push_sql(" ON DUPLICATE KEY UPDATE ");
            let set = if update.is_empty() { &key[..1.min(key.len())] } else { update };
            list(out, set, &|out, c| {
                out.push_identifier(c)?;
                out.push_sql(" = VALUES(");
                out.push_identifier(c)?;
                out.push_sql(")");
                Ok(())
            })?;
        }
    }
    Ok(())
}

impl QueryId for ValuesInsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// Loaded by name when it has a [`ValuesInsert::returning`] clause.
impl diesel::query_builder::Query for ValuesInsert<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for ValuesInsert<'_> {}

/// A statement assembled at run time from SQL text, quoted identifiers and
/// bound [`SqlValue`]s, the way sqlx's `QueryBuilder` is: for SQL whose
/// tables, columns or number of values are known only at run time (a
/// `DELETE … WHERE (a, b) IN (…)`, a `SELECT` of fingerprints by key).
///
/// Placeholders are the backend's own (`?` or `$n`), and identifiers are
/// quoted by the backend, so one statement runs everywhere. It can be
/// executed, or loaded into any [`QueryableByName`](diesel::QueryableByName) row.
///
/// # Example
///
/// ```
/// use triglot_core::values::{SqlValue, Statement};
///
/// let mut delete = Statement::new("DELETE FROM ");
/// delete.ident("items").sql(" WHERE ").ident("box_id").sql(" IN (");
/// delete.values([SqlValue::Int(1), SqlValue::Int(2)]).sql(")");
/// assert_eq!(delete.binds(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    parts: Vec<Part>,
    cacheable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Sql(Cow<'static, str>),
    Ident(String),
    Value(SqlValue),
}

impl Statement {
    /// A statement starting with `sql`.
    pub fn new(sql: impl Into<String>) -> Self {
        Self { parts: vec![Part::Sql(Cow::Owned(sql.into()))], cacheable: false }
    }

    /// Lets the driver keep the statement prepared, for a shape that
    /// repeats: a statement over keys cut by [`chunks`] where
    /// [`Capabilities::null_binds`] holds. A statement with a NULL among
    /// its values (a literal) is prepared afresh all the same.
    pub fn cacheable(&mut self, cache: bool) -> &mut Self {
        self.cacheable = cache;
        self
    }

    /// Appends SQL text as it is.
    pub fn sql(&mut self, sql: impl Into<String>) -> &mut Self {
        self.parts.push(Part::Sql(Cow::Owned(sql.into())));
        self
    }

    /// Appends an identifier (table or column), quoted by the backend.
    pub fn ident(&mut self, name: impl Into<String>) -> &mut Self {
        self.parts.push(Part::Ident(name.into()));
        self
    }

    /// Appends identifiers separated by `, `.
    pub fn idents<S: Into<String>>(&mut self, names: impl IntoIterator<Item = S>) -> &mut Self {
        for (i, name) in names.into_iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.ident(name);
        }
        self
    }

    /// Appends one bound value (`NULL` as the literal).
    pub fn value(&mut self, value: SqlValue) -> &mut Self {
        self.parts.push(Part::Value(value));
        self
    }

    /// Appends bound values separated by `, `.
    pub fn values(&mut self, values: impl IntoIterator<Item = SqlValue>) -> &mut Self {
        let values = values.into_iter();
        self.parts.reserve(2 * values.size_hint().0);
        for (i, value) in values.enumerate() {
            if i > 0 {
                self.parts.push(Part::Sql(Cow::Borrowed(", ")));
            }
            self.value(value);
        }
        self
    }

    /// How many values are bound (NULLs are literals, not binds).
    pub fn binds(&self) -> usize {
        self.parts.iter().filter(|p| matches!(p, Part::Value(v) if *v != SqlValue::Null)).count()
    }
}

impl<DB: DynamicValues> QueryFragment<DB> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cacheable || self.parts.contains(&Part::Value(SqlValue::Null)) {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Sql(sql) => out.push_sql(sql),
                Part::Ident(name) => out.push_identifier(name)?,
                Part::Value(value) => DB::push_value(&mut out, value)?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Statement {}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(null_binds: bool) -> Capabilities {
        Capabilities {
            insert_returning: true,
            max_bind_params: 4_000,
            upsert: UpsertForm::OnConflict,
            transactional_ddl: true,
            check_constraints: true,
            null_binds,
            current_read: "",
            refresh_statistics: None,
            char_length: "length",
            batches_per_commit: 1,
            replication: crate::dialect::Replication::Single,
            socket_bounds_by_driver: true,
        }
    }

    #[test]
    fn cached_statements_come_in_a_few_sizes_and_others_as_large_as_the_limit_allows() {
        let rows: Vec<u32> = (0..1_000).collect();
        let sizes = |c: &Capabilities, n: usize| {
            chunks(&rows[..n], c, 10).iter().map(|c| c.len()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(&caps(true), 1_000), [256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(sizes(&caps(true), 3), [2, 1]);
        assert_eq!(sizes(&caps(false), 1_000), [400, 400, 200]);
        // Every row once, in order.
        let joined: Vec<u32> = chunks(&rows, &caps(true), 10).concat();
        assert_eq!(joined, rows);
        let mut all = std::collections::BTreeSet::new();
        for n in 0..1_000 {
            all.extend(sizes(&caps(true), n));
        }
        assert!(all.len() <= 9, "{all:?}");
    }
}
