//! A statement: prepared once under a name for the statement cache, or
//! sent with its parameters and planned for one execution.

use std::ffi::CString;

use diesel::connection::statement_cache::PrepareForCache;
use diesel::pg::PgTypeMetadata;
use diesel::result::{Error, QueryResult};
use pq_sys::Oid;

use super::raw::{PgResult, RawConnection, Target};

pub(super) enum Statement {
    /// Prepared on the server as `name`.
    Named { name: CString },
    /// Sent with its parameters at each execution, so the server plans it
    /// with their values (diesel's connection does the same for statements
    /// it does not cache, and connection poolers need it).
    Unnamed { sql: CString, types: Vec<Oid> },
}

impl Statement {
    /// The statement cache's callback: prepares `sql` under a name of its
    /// own when it is to be cached.
    pub(super) fn prepare(
        conn: &RawConnection,
        sql: &str,
        cached: PrepareForCache,
        types: &[PgTypeMetadata],
    ) -> QueryResult<Self> {
        let sql = CString::new(sql)?;
        let types = types
            .iter()
            .map(PgTypeMetadata::oid)
            .collect::<Result<Vec<Oid>, _>>()
            .map_err(|e| Error::SerializationError(Box::new(e)))?;
        match cached {
            PrepareForCache::Yes { counter } => {
                let name = CString::new(format!("__triglot_stmt_{counter}"))?;
                conn.prepare(&name, &sql, &types)?;
                Ok(Self::Named { name })
            }
            PrepareForCache::No => Ok(Self::Unnamed { sql, types }),
        }
    }

    /// Runs the statement with `params` (binary, `None` for NULL).
    pub(super) fn execute(
        &self,
        conn: &RawConnection,
        params: &[Option<Vec<u8>>],
    ) -> QueryResult<PgResult> {
        let target = match self {
            Self::Named { name } => Target::Prepared(name),
            Self::Unnamed { sql, types } => Target::Unnamed { sql, types },
        };
        conn.execute(target, params)
    }
}
