//! Generic writes on a caller's own tables: upsert by a unique key, insert
//! returning the generated id, and bulk load, each spelled per backend from
//! the dialect's [`Capabilities`].
//!
//! The rows are any diesel `Insertable` of the table (derive it with
//! `#[diesel(treat_none_as_default_value = false)]` so every row has the same
//! columns). The caller holds the transaction: these take a connection, and
//! [`Writes`] bundles them with the database's refined capabilities.
//!
//! | write | SQLite | MySQL/MariaDB | PostgreSQL |
//! |---|---|---|---|
//! | [`Writes::upsert`] | one prepared single-row `INSERT … ON CONFLICT` per row | multi-row `INSERT … ON DUPLICATE KEY UPDATE`, sized by the bind limit | multi-row `INSERT … ON CONFLICT`, sized by the bind limit |
//! | [`Writes::insert_returning_id`] | `RETURNING` | MariaDB 10.5+: `RETURNING`; MySQL: `LAST_INSERT_ID()` | `RETURNING` |
//! | [`Writes::bulk_insert`] | prepared multi-row INSERTs of 100, 10, 1 rows | prepared multi-row INSERTs of 1,000, 100, 10, 1 rows | binary `COPY … FROM STDIN` |
//!
//! Which of these a backend uses is decided by the trait impls in its crate
//! ([`UpsertRows`], [`BulkInsert`]): the bounds differ (diesel runs a
//! multi-row SQLite INSERT through a path of its own), so the choice is made
//! at compile time, and the SQL form inside by the capabilities at run time.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::connection::Connection;
use diesel::dsl;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::query_dsl::methods::{ExecuteDsl, LoadQuery};
use diesel::result::QueryResult;
use diesel::{Column, Insertable, Table};

use crate::database::Database;
use crate::dialect::{Capabilities, Dialect, UpsertForm};

/// A tuple of diesel column types and their names (`()` for none).
pub trait ColumnNames: 'static {
    /// The column names, in order.
    const NAMES: &'static [&'static str];
}

/// A fixed list of table `T`'s columns: a key to upsert by, or the columns an
/// upsert updates. Always a tuple, `(col,)` for one.
pub trait ColumnSet<T>: ColumnNames {}

/// The number of columns in a table (its `all_columns` tuple): an upper bound
/// of the bind parameters one row of an insert takes.
pub trait Arity {
    /// The number of elements.
    const COUNT: usize;
}

macro_rules! tuples {
    ($($n:literal: ($($c:ident)+);)+) => {$(
        impl<$($c: Column + 'static),+> ColumnNames for ($($c,)+) {
            const NAMES: &'static [&'static str] = &[$($c::NAME),+];
        }
        impl<T, $($c: Column<Table = T> + 'static),+> ColumnSet<T> for ($($c,)+) {}
        impl<$($c),+> Arity for ($($c,)+) {
            const COUNT: usize = $n;
        }
    )+};
}

tuples! {
    1: (A); 2: (A B); 3: (A B C); 4: (A B C D); 5: (A B C D E); 6: (A B C D E F);
    7: (A B C D E F G); 8: (A B C D E F G H); 9: (A B C D E F G H I);
    10: (A B C D E F G H I J); 11: (A B C D E F G H I J K); 12: (A B C D E F G H I J K L);
    13: (A B C D E F G H I J K L M); 14: (A B C D E F G H I J K L M N);
    15: (A B C D E F G H I J K L M N O); 16: (A B C D E F G H I J K L M N O P);
}

impl ColumnNames for () {
    const NAMES: &'static [&'static str] = &[];
}

impl<T> ColumnSet<T> for () {}

/// Rows of table `T` that fit one statement under `caps`' bind limit.
pub fn rows_per_statement<T: Table>(caps: &Capabilities) -> usize
where
    T::AllColumns: Arity,
{
    (caps.max_bind_params / <T::AllColumns as Arity>::COUNT.max(1)).max(1)
}

/// `INSERT …` followed by the backend's insert-or-update clause: `ON CONFLICT
/// (key) DO UPDATE SET c = excluded.c` or `ON DUPLICATE KEY UPDATE c =
/// VALUES(c)`, as [`Capabilities::upsert`] says; with no column to update,
/// `DO NOTHING` (or a no-op update of the key on MySQL).
#[derive(Debug, Clone)]
pub struct UpsertStatement<S, K, U> {
    insert: S,
    form: UpsertForm,
    columns: PhantomData<(K, U)>,
}

impl<S, K, U> UpsertStatement<S, K, U> {
    /// Wraps the INSERT `insert` in the upsert form `form`.
    pub fn new(insert: S, form: UpsertForm) -> Self {
        Self { insert, form, columns: PhantomData }
    }
}

impl<S, K, U, DB> QueryFragment<DB> for UpsertStatement<S, K, U>
where
    DB: Backend,
    S: QueryFragment<DB>,
    K: ColumnNames,
    U: ColumnNames,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.insert.walk_ast(out.reborrow())?;
        crate::values::upsert_clause(&mut out, self.form, K::NAMES, U::NAMES)
    }
}

// The clause is the same for every statement of one connection (its form is
// the backend's), so the INSERT's id with the column lists names it.
impl<S: QueryId, K: 'static, U: 'static> QueryId for UpsertStatement<S, K, U> {
    type QueryId = (S::QueryId, K, U);
    const HAS_STATIC_QUERY_ID: bool = S::HAS_STATIC_QUERY_ID;
}

impl<S, K, U, Conn> RunQueryDsl<Conn> for UpsertStatement<S, K, U> {}

/// `INSERT … RETURNING CAST(<primary key> AS <bigint>)`: the new row's id as
/// an `i64`, whatever the width of the key column.
#[derive(Debug, Clone)]
pub struct ReturningId<S, Pk> {
    insert: S,
    cast: &'static str,
    key: PhantomData<Pk>,
}

impl<S, Pk> Query for ReturningId<S, Pk> {
    type SqlType = diesel::sql_types::BigInt;
}

impl<S, Pk, DB> QueryFragment<DB> for ReturningId<S, Pk>
where
    DB: Backend,
    S: QueryFragment<DB>,
    Pk: Column,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING CAST(");
        out.push_identifier(Pk::NAME)?;
        out.push_sql(" AS ");
        out.push_sql(self.cast);
        out.push_sql(")");
        Ok(())
    }
}

impl<S: QueryId, Pk: 'static> QueryId for ReturningId<S, Pk> {
    type QueryId = (S::QueryId, Pk);
    // The cast is the dialect's constant for one connection type.
    const HAS_STATIC_QUERY_ID: bool = S::HAS_STATIC_QUERY_ID;
}

impl<S, Pk, Conn> RunQueryDsl<Conn> for ReturningId<S, Pk> {}

/// Inserts-or-updates rows of table `T` by a unique key; implemented by each
/// backend crate for every table and row type its statements accept.
pub trait UpsertRows<T, R, K, U>: Dialect {
    /// Writes `rows`; returns the driver's affected-row count (which on MySQL
    /// counts an unchanged row like an inserted one: do not infer changes
    /// from it). The caller holds the transaction.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn upsert_rows(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize>;
}

/// Loads rows of table `T` through the backend's fastest path; implemented by
/// each backend crate for every table and row type its path accepts.
pub trait BulkInsert<T, R>: Dialect {
    /// Inserts `rows`, sizing the statements itself; the caller holds the
    /// transaction. Returns the rows inserted.
    ///
    /// # Errors
    ///
    /// Any statement error.
    fn bulk_insert(
        conn: &mut Self::Connection,
        caps: &Capabilities,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize>;
}

/// One prepared single-row upsert per row (SQLite, where a statement is a
/// function call, not a round trip).
///
/// # Errors
///
/// Any statement error.
pub fn upsert_each<C, T, R, K, U>(
    conn: &mut C,
    caps: &Capabilities,
    table: T,
    rows: Vec<R>,
) -> QueryResult<usize>
where
    C: Connection,
    T: Table + Copy,
    R: Insertable<T>,
    UpsertStatement<dsl::Values<dsl::insert_into<T>, R>, K, U>: ExecuteDsl<C>,
{
    let mut affected = 0;
    for row in rows {
        let insert = diesel::insert_into(table).values(row);
        affected += UpsertStatement::<_, K, U>::new(insert, caps.upsert).execute(conn)?;
    }
    Ok(affected)
}

/// Multi-row upserts of as many rows as the bind limit allows (MySQL,
/// PostgreSQL).
///
/// # Errors
///
/// Any statement error.
pub fn upsert_batched<C, T, R, K, U>(
    conn: &mut C,
    caps: &Capabilities,
    table: T,
    rows: Vec<R>,
) -> QueryResult<usize>
where
    C: Connection,
    T: Table + Copy,
    T::AllColumns: Arity,
    Vec<R>: Insertable<T>,
    UpsertStatement<dsl::Values<dsl::insert_into<T>, Vec<R>>, K, U>: ExecuteDsl<C>,
{
    let mut affected = 0;
    for chunk in owned_chunks(rows, rows_per_statement::<T>(caps)) {
        let insert = diesel::insert_into(table).values(chunk);
        affected += UpsertStatement::<_, K, U>::new(insert, caps.upsert).execute(conn)?;
    }
    Ok(affected)
}

/// Inserts as many whole arrays of `N` rows as `rows` holds from its front,
/// one prepared multi-row INSERT each, and removes them from `rows`; returns
/// the rows inserted. Skipped when `N` rows would pass the bind limit.
///
/// diesel keeps a batch INSERT prepared only when its row count is part of its
/// type (an array), so a backend's bulk path calls this with a few fixed
/// sizes (say 100, 10, 1): each shape is prepared once per connection.
///
/// # Errors
///
/// Any statement error.
pub fn insert_fixed<const N: usize, C, T, R>(
    conn: &mut C,
    caps: &Capabilities,
    table: T,
    rows: &mut std::collections::VecDeque<R>,
) -> QueryResult<usize>
where
    C: Connection,
    T: Table + Copy,
    T::AllColumns: Arity,
    Box<[R; N]>: Insertable<T>,
    dsl::Values<dsl::insert_into<T>, Box<[R; N]>>: ExecuteDsl<C>,
{
    if N > 1 && N > rows_per_statement::<T>(caps) {
        return Ok(0);
    }
    let mut inserted = 0;
    while rows.len() >= N {
        let chunk: Vec<R> = rows.drain(..N).collect();
        let Ok(array) = Box::<[R; N]>::try_from(chunk.into_boxed_slice()) else {
            unreachable!("drained exactly N rows")
        };
        inserted += diesel::insert_into(table).values(array).execute(conn)?;
    }
    Ok(inserted)
}

/// Inserts one row and returns its generated primary key: by `RETURNING`
/// where [`Capabilities::insert_returning`] holds, else by
/// [`Dialect::last_insert_id`] on the same connection.
///
/// # Errors
///
/// Any statement error.
pub fn insert_returning_id<'q, D, T, R>(
    conn: &mut D::Connection,
    caps: &Capabilities,
    table: T,
    row: R,
) -> QueryResult<i64>
where
    D: Dialect,
    T: Table + Copy,
    T::PrimaryKey: Column,
    R: Insertable<T>,
    dsl::Values<dsl::insert_into<T>, R>: ExecuteDsl<D::Connection>,
    ReturningId<dsl::Values<dsl::insert_into<T>, R>, T::PrimaryKey>:
        LoadQuery<'q, D::Connection, i64>,
{
    let insert = diesel::insert_into(table).values(row);
    if caps.insert_returning {
        let returning: ReturningId<_, T::PrimaryKey> =
            ReturningId { insert, cast: D::BIGINT_CAST, key: PhantomData };
        returning.get_result(conn)
    } else {
        insert.execute(conn)?;
        D::last_insert_id(conn)
    }
}

/// Splits `rows` into owned chunks of at most `size`, in order (diesel
/// inserts owned rows when a field is converted with `serialize_as`).
pub fn owned_chunks<T>(rows: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size.max(1)).collect())
    })
}

/// The generic writes of a [`Database`], with its refined capabilities; use
/// them inside [`Database::write`] or any transaction of yours.
///
/// # Example
///
/// ```
/// use diesel::prelude::*;
/// use triglot_core::write::{BulkInsert, UpsertRows};
/// use triglot_core::{Database, Dialect};
///
/// diesel::table! { items (id) { id -> BigInt, sku -> Text, name -> Text } }
///
/// #[derive(Insertable)]
/// #[diesel(table_name = items, treat_none_as_default_value = false)]
/// struct NewItem { sku: String, name: String }
///
/// fn load<D>(db: &Database<D>, rows: Vec<NewItem>, renamed: Vec<NewItem>) -> triglot_core::Result<()>
/// where
///     D: Dialect + BulkInsert<items::table, NewItem> + UpsertRows<items::table, NewItem, (items::sku,), (items::name,)>,
/// {
///     let writes = db.writes();
///     db.write("loading items", |conn| {
///         writes.bulk_insert(conn, items::table, rows)?;
///         writes.upsert(conn, items::table, renamed, (items::sku,), (items::name,))
///     })?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Writes<D> {
    caps: Capabilities,
    dialect: PhantomData<D>,
}

impl<D: Dialect> Writes<D> {
    /// Inserts `rows` of `table`, or updates the `update` columns of those
    /// whose `key` exists; returns the driver's affected-row count.
    ///
    /// `key` and `update` are tuples of the table's columns; `()` as `update`
    /// leaves existing rows as they are. MySQL has no conflict target: its
    /// upsert fires on whichever unique key a row hits.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn upsert<T, R, K, U>(
        &self,
        conn: &mut D::Connection,
        table: T,
        rows: Vec<R>,
        key: K,
        update: U,
    ) -> QueryResult<usize>
    where
        K: ColumnSet<T>,
        U: ColumnSet<T>,
        D: UpsertRows<T, R, K, U>,
    {
        let _ = (key, update);
        D::upsert_rows(conn, &self.caps, table, rows)
    }

    /// Inserts `rows` of `table` through the backend's bulk path.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn bulk_insert<T, R>(
        &self,
        conn: &mut D::Connection,
        table: T,
        rows: Vec<R>,
    ) -> QueryResult<usize>
    where
        D: BulkInsert<T, R>,
    {
        D::bulk_insert(conn, &self.caps, table, rows)
    }

    /// Inserts one row of `table` and returns its generated primary key.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn insert_returning_id<'q, T, R>(
        &self,
        conn: &mut D::Connection,
        table: T,
        row: R,
    ) -> QueryResult<i64>
    where
        T: Table + Copy,
        T::PrimaryKey: Column,
        R: Insertable<T>,
        dsl::Values<dsl::insert_into<T>, R>: ExecuteDsl<D::Connection>,
        ReturningId<dsl::Values<dsl::insert_into<T>, R>, T::PrimaryKey>:
            LoadQuery<'q, D::Connection, i64>,
    {
        insert_returning_id::<D, T, R>(conn, &self.caps, table, row)
    }

    /// Inserts rows whose table and columns are known only at run time
    /// ([`SqlValue`](crate::values::SqlValue)s, each row as long as
    /// `columns`), in multi-row statements sized by the bind limit.
    ///
    /// # Errors
    ///
    /// Any statement error; a row of the wrong length is a query-builder error.
    pub fn insert_values(
        &self,
        conn: &mut D::Connection,
        table: &str,
        columns: &[String],
        rows: &[Vec<crate::values::SqlValue>],
    ) -> QueryResult<usize> {
        crate::values::insert_rows(conn, &self.caps, table, columns, rows)
    }

    /// Inserts rows known only at run time through the backend's bulk path
    /// ([`Dialect::bulk_insert_values`]: PostgreSQL's `COPY`, multi-row
    /// INSERTs elsewhere).
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn bulk_insert_values(
        &self,
        conn: &mut D::Connection,
        table: &str,
        columns: &[String],
        rows: &[Vec<crate::values::SqlValue>],
    ) -> QueryResult<usize> {
        D::bulk_insert_values(conn, &self.caps, table, columns, rows)
    }

    /// Like [`Writes::insert_values`], as an upsert by `key` that sets the
    /// `update` columns of rows whose key exists (none: leaves them),
    /// through the backend's path ([`Dialect::upsert_values`]). The
    /// driver's affected-row count is returned (on MySQL an unchanged row
    /// counts as one).
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn upsert_values(
        &self,
        conn: &mut D::Connection,
        table: &str,
        columns: &[String],
        rows: &[Vec<crate::values::SqlValue>],
        key: &[String],
        update: &[String],
    ) -> QueryResult<usize> {
        let upsert = crate::values::Upsert { table, columns, rows, key, update };
        D::upsert_values(conn, &self.caps, &upsert)
    }

    /// Runs `upsert`, returning the key (as text) and the `id` column of
    /// every row inserted or updated, where the backend reads them in the
    /// same statement ([`Dialect::upsert_values_returning`]); `None` where
    /// it cannot, and the caller reads them back.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn upsert_values_returning(
        &self,
        conn: &mut D::Connection,
        upsert: &crate::values::Upsert<'_>,
        id: &str,
    ) -> QueryResult<Option<Vec<crate::values::KeyId>>> {
        D::upsert_values_returning(conn, &self.caps, upsert, id)
    }

    /// Refreshes the planner statistics of `table` where the backend needs
    /// it after a bulk load ([`Capabilities::refresh_statistics`]); returns
    /// whether a statement ran.
    ///
    /// # Errors
    ///
    /// Any statement error.
    pub fn refresh_statistics(&self, conn: &mut D::Connection, table: &str) -> QueryResult<bool> {
        let Some(statement) = self.caps.refresh_statistics else { return Ok(false) };
        let mut refresh = crate::values::Statement::new(statement);
        refresh.ident(table);
        refresh.execute(conn)?;
        Ok(true)
    }

    /// The capabilities the writes are sized and spelled by.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }
}

impl<D: Dialect> Database<D> {
    /// The generic writes, sized and spelled by this database's refined capabilities.
    pub fn writes(&self) -> Writes<D> {
        Writes { caps: *self.capabilities(), dialect: PhantomData }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_chunks_keep_order_and_sizes() {
        let chunks: Vec<Vec<i32>> = owned_chunks((1..=7).collect(), 3).collect();
        assert_eq!(chunks, [vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        assert_eq!(owned_chunks(Vec::<i32>::new(), 3).count(), 0);
    }
}
