//! Rows whose table and columns are known only at run time: a contract's
//! target table, a fixture, a copy between databases.
//!
//! [`SqlValue`] is one value; [`ValuesInsert`] writes rows of them as one
//! multi-row `INSERT` (optionally an upsert, spelled by the dialect's
//! [`UpsertForm`]), binding every value with the SQL type its variant names.
//! Any [`Dialect`](crate::Dialect)'s backend can run it, so code generic over
//! `D: Dialect` writes dynamic rows without further bounds.

use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::result::QueryResult;

use crate::dialect::UpsertForm;
pub use crate::sql_value::{DynamicValues, SqlValue};

/// `INSERT INTO table (columns) VALUES (…), (…)`, optionally followed by
/// the upsert clause of `form` on `key`, updating `update`.
#[derive(Debug, Clone, Copy)]
pub struct ValuesInsert<'a> {
    table: &'a str,
    columns: &'a [String],
    rows: &'a [Vec<SqlValue>],
    upsert: Option<(UpsertForm, &'a [String], &'a [String])>,
}

impl<'a> ValuesInsert<'a> {
    /// An insert of `rows` (each as long as `columns`) into `table`.
    pub fn new(table: &'a str, columns: &'a [String], rows: &'a [Vec<SqlValue>]) -> Self {
        Self { table, columns, rows, upsert: None }
    }

    /// The same rows inserted, or where `key` (MySQL: any unique key)
    /// exists, `update` columns set to the new values (none: left as they are).
    pub fn upsert(mut self, form: UpsertForm, key: &'a [String], update: &'a [String]) -> Self {
        self.upsert = Some((form, key, update));
        self
    }
}

impl<DB: DynamicValues> QueryFragment<DB> for ValuesInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // The statement's text depends on the row count and the NULLs.
        out.unsafe_to_cache_prepared();
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
                DB::push_value(&mut out, value)?;
            }
            out.push_sql(")");
        }
        let Some((form, key, update)) = self.upsert else { return Ok(()) };
        let list = |out: &mut AstPass<'_, 'b, DB>,
                    names: &[String],
                    each: &dyn Fn(&mut AstPass<'_, 'b, DB>, &str) -> QueryResult<()>|
         -> QueryResult<()> {
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                each(out, name)?;
            }
            Ok(())
        };
        match form {
            UpsertForm::OnConflict => {
                out.push_sql(" ON CONFLICT (");
                list(&mut out, key, &|out, c| out.push_identifier(c))?;
                if update.is_empty() {
                    out.push_sql(") DO NOTHING");
                } else {
                    out.push_sql(") DO UPDATE SET ");
                    list(&mut out, update, &|out, c| {
                        out.push_identifier(c)?;
                        out.push_sql(" = excluded.");
                        out.push_identifier(c)
                    })?;
                }
            }
            UpsertForm::OnDuplicateKey => {
                out.push_sql(" ON DUPLICATE KEY UPDATE ");
                let set = if update.is_empty() { &key[..1.min(key.len())] } else { update };
                list(&mut out, set, &|out, c| {
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
}

impl QueryId for ValuesInsert<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn> RunQueryDsl<Conn> for ValuesInsert<'_> {}
