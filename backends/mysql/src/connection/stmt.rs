//! A prepared statement and its parameters.
#![allow(unsafe_code)]

use std::ffi::{c_ulong, c_void};
use std::ptr::NonNull;

use diesel::mysql::MysqlType;
use diesel::result::{Error, QueryResult};
use mysqlclient_sys as ffi;

use super::raw::{self, RawConnection};

/// The unsigned flag of a column or parameter (MySQL's `UNSIGNED_FLAG`).
pub(super) const UNSIGNED: u32 = 32;

/// The C type and flags a diesel `MysqlType` travels as.
pub(super) fn c_type(tpe: MysqlType) -> (ffi::enum_field_types, u32) {
    use ffi::enum_field_types as t;
    match tpe {
        MysqlType::Tiny => (t::MYSQL_TYPE_TINY, 0),
        MysqlType::UnsignedTiny => (t::MYSQL_TYPE_TINY, UNSIGNED),
        MysqlType::Short => (t::MYSQL_TYPE_SHORT, 0),
        MysqlType::UnsignedShort => (t::MYSQL_TYPE_SHORT, UNSIGNED),
        MysqlType::Long => (t::MYSQL_TYPE_LONG, 0),
        MysqlType::UnsignedLong => (t::MYSQL_TYPE_LONG, UNSIGNED),
        MysqlType::LongLong => (t::MYSQL_TYPE_LONGLONG, 0),
        MysqlType::UnsignedLongLong => (t::MYSQL_TYPE_LONGLONG, UNSIGNED),
        MysqlType::Float => (t::MYSQL_TYPE_FLOAT, 0),
        MysqlType::Double => (t::MYSQL_TYPE_DOUBLE, 0),
        MysqlType::Numeric => (t::MYSQL_TYPE_NEWDECIMAL, 0),
        MysqlType::Time => (t::MYSQL_TYPE_TIME, 0),
        MysqlType::Date => (t::MYSQL_TYPE_DATE, 0),
        MysqlType::DateTime => (t::MYSQL_TYPE_DATETIME, 0),
        MysqlType::Timestamp => (t::MYSQL_TYPE_TIMESTAMP, 0),
        MysqlType::Blob => (t::MYSQL_TYPE_BLOB, 0),
        MysqlType::Bit => (t::MYSQL_TYPE_BIT, 0),
        // String, and Set and Enum, which travel as text.
        _ => (t::MYSQL_TYPE_STRING, 0),
    }
}

/// A prepared statement, with the parameters of its next execution.
pub(super) struct Statement {
    stmt: NonNull<ffi::MYSQL_STMT>,
    /// Its connection, which holds the error when the network fails under
    /// a fetch (libmariadb leaves the statement's own error empty then).
    conn: *mut ffi::MYSQL,
    /// The bound parameters' values: libmysqlclient reads them at execution.
    params: Vec<Option<Vec<u8>>>,
}

// SAFETY: a statement belongs to one connection, which moves between threads
// as a whole and is used by one at a time (libmysqlclient allows that).
unsafe impl Send for Statement {}

impl Statement {
    pub(super) fn prepare(conn: &RawConnection, sql: &str) -> QueryResult<Self> {
        // SAFETY: a live connection; null only when out of memory.
        let stmt =
            NonNull::new(unsafe { ffi::mysql_stmt_init(conn.as_ptr()) }).ok_or_else(|| {
                Error::QueryBuilderError("out of memory preparing a statement".into())
            })?;
        let stmt = Self { stmt, conn: conn.as_ptr(), params: Vec::new() };
        // SAFETY: a fresh statement and text of that length.
        let rc = unsafe {
            ffi::mysql_stmt_prepare(stmt.as_ptr(), sql.as_ptr().cast(), sql.len() as c_ulong)
        };
        if rc != 0 {
            return Err(stmt.error());
        }
        Ok(stmt)
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::MYSQL_STMT {
        self.stmt.as_ptr()
    }

    /// The statement's last error, or its connection's where the statement
    /// has none.
    pub(super) fn error(&self) -> Error {
        // SAFETY: a live statement, and its connection, which outlives it.
        unsafe {
            let errno = ffi::mysql_stmt_errno(self.as_ptr());
            if errno != 0 {
                return raw::error(errno, ffi::mysql_stmt_error(self.as_ptr()));
            }
            raw::error(ffi::mysql_errno(self.conn), ffi::mysql_error(self.conn))
        }
    }

    /// The statement's last error, if its last call failed.
    pub(super) fn check(&self) -> QueryResult<()> {
        // SAFETY: a live statement.
        if unsafe { ffi::mysql_stmt_errno(self.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// Binds the parameters of the next execution (diesel's bytes for each).
    pub(super) fn bind(
        &mut self,
        params: impl Iterator<Item = (MysqlType, Option<Vec<u8>>)>,
    ) -> QueryResult<()> {
        let (types, values): (Vec<_>, Vec<_>) = params.unzip();
        self.params = values;
        if self.params.is_empty() {
            return Ok(());
        }
        let mut binds: Vec<ffi::MYSQL_BIND> = types
            .into_iter()
            .zip(&mut self.params)
            .map(|(tpe, value)| {
                // SAFETY: the all-zero MYSQL_BIND is its documented initial state.
                let mut b: ffi::MYSQL_BIND = unsafe { std::mem::zeroed() };
                let (c_type, flags) = c_type(tpe);
                match value {
                    Some(bytes) => {
                        b.buffer_type = c_type;
                        b.buffer = bytes.as_mut_ptr().cast::<c_void>();
                        b.buffer_length = bytes.len() as c_ulong;
                    }
                    None => b.buffer_type = ffi::enum_field_types::MYSQL_TYPE_NULL,
                }
                b.is_unsigned = ffi::my_bool::from(flags & UNSIGNED != 0);
                b
            })
            .collect();
        // SAFETY: the binds point into `self.params`, which stays untouched
        // until the execution that reads them; libmysqlclient copies the
        // MYSQL_BIND array itself.
        let failed = unsafe { ffi::mysql_stmt_bind_param(self.as_ptr(), binds.as_mut_ptr()) };
        if failed != ffi::my_bool::default() { Err(self.error()) } else { Ok(()) }
    }

    /// Executes with the bound parameters.
    pub(super) fn execute(&mut self) -> QueryResult<()> {
        // SAFETY: a prepared statement whose parameters are bound.
        let rc = unsafe { ffi::mysql_stmt_execute(self.as_ptr()) };
        if rc != 0 { Err(self.error()) } else { Ok(()) }
    }

    /// The rows the last execution changed (matched, with `CLIENT_FOUND_ROWS`).
    pub(super) fn affected_rows(&self) -> QueryResult<usize> {
        // SAFETY: an executed statement.
        let n = unsafe { ffi::mysql_stmt_affected_rows(self.as_ptr()) };
        usize::try_from(n).map_err(|e| Error::DeserializationError(Box::new(e)))
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: closed once, before its connection.
        unsafe { ffi::mysql_stmt_close(self.as_ptr()) };
    }
}
