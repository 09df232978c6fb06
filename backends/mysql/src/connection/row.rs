//! Rows as they arrive: a cursor over an executed statement, fetched one
//! row at a time into bound buffers, and a row whose fields are read from
//! those buffers without copying.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_ulong, c_void};
use std::rc::Rc;

use diesel::connection::statement_cache::MaybeCached;
use diesel::mysql::{Mysql, MysqlType, MysqlValue};
use diesel::result::{Error, QueryResult};
use diesel::row::{Field, PartialRow, Row as DieselRow, RowIndex, RowSealed};
use mysqlclient_sys as ffi;

use super::stmt::{Statement, UNSIGNED, c_type};

/// Bytes a value of a fixed-size C type takes; `None` for text and blobs.
fn fixed_size(tpe: ffi::enum_field_types) -> Option<usize> {
    use ffi::enum_field_types as t;
    match tpe {
        t::MYSQL_TYPE_TINY => Some(1),
        t::MYSQL_TYPE_YEAR | t::MYSQL_TYPE_SHORT => Some(2),
        t::MYSQL_TYPE_INT24 | t::MYSQL_TYPE_LONG | t::MYSQL_TYPE_FLOAT => Some(4),
        t::MYSQL_TYPE_LONGLONG | t::MYSQL_TYPE_DOUBLE => Some(8),
        // diesel reads times as its `MysqlTime`, which may be longer than
        // the library's MYSQL_TIME: the rest stays zero.
        t::MYSQL_TYPE_TIME
        | t::MYSQL_TYPE_DATE
        | t::MYSQL_TYPE_DATETIME
        | t::MYSQL_TYPE_TIMESTAMP => Some(
            std::mem::size_of::<diesel::mysql::data_types::MysqlTime>()
                .max(std::mem::size_of::<ffi::MYSQL_TIME>()),
        ),
        _ => None,
    }
}

/// Whether the C type is a number, or text (or a blob).
fn is_number(tpe: ffi::enum_field_types) -> bool {
    use ffi::enum_field_types as t;
    matches!(
        tpe,
        t::MYSQL_TYPE_DECIMAL
            | t::MYSQL_TYPE_TINY
            | t::MYSQL_TYPE_SHORT
            | t::MYSQL_TYPE_LONG
            | t::MYSQL_TYPE_FLOAT
            | t::MYSQL_TYPE_DOUBLE
            | t::MYSQL_TYPE_INT24
            | t::MYSQL_TYPE_NEWDECIMAL
            | t::MYSQL_TYPE_LONGLONG
    )
}

fn is_text(tpe: ffi::enum_field_types) -> bool {
    use ffi::enum_field_types as t;
    matches!(
        tpe,
        t::MYSQL_TYPE_JSON
            | t::MYSQL_TYPE_ENUM
            | t::MYSQL_TYPE_SET
            | t::MYSQL_TYPE_TINY_BLOB
            | t::MYSQL_TYPE_MEDIUM_BLOB
            | t::MYSQL_TYPE_LONG_BLOB
            | t::MYSQL_TYPE_BLOB
            | t::MYSQL_TYPE_VAR_STRING
            | t::MYSQL_TYPE_STRING
    )
}

/// The diesel type of a value fetched as `tpe` with `flags` (as diesel's
/// own connection names it).
fn diesel_type(tpe: ffi::enum_field_types, flags: u32) -> MysqlType {
    use ffi::enum_field_types as t;
    const BINARY: u32 = 128;
    const ENUM: u32 = 256;
    const SET: u32 = 2048;
    let unsigned = flags & UNSIGNED != 0;
    match tpe {
        t::MYSQL_TYPE_TINY if unsigned => MysqlType::UnsignedTiny,
        t::MYSQL_TYPE_YEAR | t::MYSQL_TYPE_SHORT if unsigned => MysqlType::UnsignedShort,
        t::MYSQL_TYPE_INT24 | t::MYSQL_TYPE_LONG if unsigned => MysqlType::UnsignedLong,
        t::MYSQL_TYPE_LONGLONG if unsigned => MysqlType::UnsignedLongLong,
        t::MYSQL_TYPE_TINY => MysqlType::Tiny,
        t::MYSQL_TYPE_YEAR | t::MYSQL_TYPE_SHORT => MysqlType::Short,
        t::MYSQL_TYPE_INT24 | t::MYSQL_TYPE_LONG => MysqlType::Long,
        t::MYSQL_TYPE_LONGLONG => MysqlType::LongLong,
        t::MYSQL_TYPE_FLOAT => MysqlType::Float,
        t::MYSQL_TYPE_DOUBLE => MysqlType::Double,
        t::MYSQL_TYPE_DECIMAL | t::MYSQL_TYPE_NEWDECIMAL => MysqlType::Numeric,
        t::MYSQL_TYPE_BIT => MysqlType::Bit,
        t::MYSQL_TYPE_TIME => MysqlType::Time,
        t::MYSQL_TYPE_DATE | t::MYSQL_TYPE_NEWDATE => MysqlType::Date,
        t::MYSQL_TYPE_DATETIME => MysqlType::DateTime,
        t::MYSQL_TYPE_TIMESTAMP => MysqlType::Timestamp,
        _ if flags & ENUM != 0 => MysqlType::Enum,
        _ if flags & SET != 0 => MysqlType::Set,
        t::MYSQL_TYPE_JSON => MysqlType::String,
        _ if flags & BINARY != 0 => MysqlType::Blob,
        _ => MysqlType::String,
    }
}

/// One result column: its name, and the buffer its value is fetched into.
#[derive(Clone)]
struct Column {
    /// The C type the value is fetched as.
    tpe: ffi::enum_field_types,
    /// The type diesel's `FromSql` impls read it as.
    diesel: MysqlType,
    /// The value's size where the C type fixes it.
    fixed: Option<usize>,
    flags: u32,
    bytes: Vec<u8>,
    /// The value's whole length, which may pass `bytes.len()` (truncated).
    length: c_ulong,
    is_null: ffi::my_bool,
    truncated: ffi::my_bool,
}

impl Column {
    fn bind(&mut self) -> ffi::MYSQL_BIND {
        // SAFETY: the all-zero MYSQL_BIND is its documented initial state.
        let mut b: ffi::MYSQL_BIND = unsafe { std::mem::zeroed() };
        b.buffer_type = self.tpe;
        b.buffer = self.bytes.as_mut_ptr().cast::<c_void>();
        b.buffer_length = self.bytes.len() as c_ulong;
        b.length = &raw mut self.length;
        b.is_null = &raw mut self.is_null;
        b.error = &raw mut self.truncated;
        b.is_unsigned = ffi::my_bool::from(self.flags & UNSIGNED != 0);
        b
    }

    fn value(&self) -> Option<MysqlValue<'_>> {
        if self.is_null != ffi::my_bool::default() {
            return None;
        }
        let len = match self.fixed {
            Some(n) => n,
            None => {
                usize::try_from(self.length).map_or(self.bytes.len(), |l| l.min(self.bytes.len()))
            }
        };
        Some(MysqlValue::new(&self.bytes[..len], self.diesel))
    }
}

/// The buffers of one row: the cursor fetches into them while it alone
/// holds them; a row kept past the next fetch keeps its own copy.
#[derive(Clone)]
struct Buffers {
    columns: Vec<Column>,
    names: Rc<[String]>,
}

/// Rows of an executed statement, read from the server as they are asked for.
#[allow(missing_debug_implementations)]
pub struct Cursor<'a> {
    stmt: MaybeCached<'a, Statement>,
    row: Rc<Buffers>,
    done: bool,
}

impl<'a> Cursor<'a> {
    /// Executes `stmt` and binds its columns; `types` are the types the
    /// query asks for (diesel's row metadata), `None` where it does not say.
    pub(super) fn new(
        mut stmt: MaybeCached<'a, Statement>,
        types: &[Option<MysqlType>],
    ) -> QueryResult<Self> {
        // Executed first: a prepared `INSERT … RETURNING` (MariaDB) has no
        // result metadata until it has run.
        stmt.execute()?;
        // SAFETY: an executed statement; its metadata is freed below, after
        // the names are copied out.
        let meta = unsafe { ffi::mysql_stmt_result_metadata(stmt.as_ptr()) };
        if meta.is_null() {
            stmt.check()?;
            return Err(Error::DeserializationError("the statement returns no rows".into()));
        }
        // SAFETY: a result's fields, as many as it says.
        let fields = unsafe {
            let n = ffi::mysql_num_fields(meta) as usize;
            let first = ffi::mysql_fetch_fields(meta);
            if first.is_null() { &[][..] } else { std::slice::from_raw_parts(first, n) }
        };
        let mut names = Vec::with_capacity(fields.len());
        let mut columns = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            // SAFETY: a field's name is NUL-terminated text owned by `meta`.
            names.push(unsafe { CStr::from_ptr(field.name) }.to_string_lossy().into_owned());
            // The column's own C type where the asked type is of the same
            // family (libmysqlclient would convert, and diesel's `FromSql`
            // reads either), else the asked type.
            let (tpe, flags) = match types.get(i).copied().flatten() {
                Some(asked) => {
                    let (c, f) = c_type(asked);
                    let same_family = (is_number(c) && is_number(field.type_))
                        || (matches!(
                            asked,
                            MysqlType::String | MysqlType::Blob | MysqlType::Set | MysqlType::Enum
                        ) && is_text(field.type_));
                    if same_family { (field.type_, field.flags) } else { (c, f) }
                }
                None => (field.type_, field.flags),
            };
            // Text starts at the column's declared length, at most 4 KiB,
            // and grows when a longer value arrives.
            let size = fixed_size(tpe).unwrap_or_else(|| (field.length as usize).clamp(1, 4096));
            columns.push(Column {
                tpe,
                diesel: diesel_type(tpe, flags),
                fixed: fixed_size(tpe),
                flags,
                bytes: vec![0; size],
                length: 0,
                is_null: ffi::my_bool::default(),
                truncated: ffi::my_bool::default(),
            });
        }
        // SAFETY: the metadata result, freed once.
        unsafe { ffi::mysql_free_result(meta) };
        let mut cursor =
            Self { stmt, row: Rc::new(Buffers { columns, names: names.into() }), done: false };
        cursor.bind_result()?;
        Ok(cursor)
    }

    /// Points the statement at the buffers the cursor holds.
    fn bind_result(&mut self) -> QueryResult<()> {
        let buffers = Rc::get_mut(&mut self.row).expect("the cursor holds its buffers alone");
        let mut binds: Vec<ffi::MYSQL_BIND> =
            buffers.columns.iter_mut().map(Column::bind).collect();
        // SAFETY: the binds point into buffers the cursor owns and keeps in
        // place until it binds others; libmysqlclient copies the array.
        let failed = unsafe { ffi::mysql_stmt_bind_result(self.stmt.as_ptr(), binds.as_mut_ptr()) };
        if failed != ffi::my_bool::default() { Err(self.stmt.error()) } else { Ok(()) }
    }

    /// Fetches the next row into the cursor's buffers; `false` after the last.
    fn fetch(&mut self) -> QueryResult<bool> {
        if Rc::get_mut(&mut self.row).is_none() {
            // The last row is still held: it keeps those buffers, the cursor
            // fetches into copies of them.
            self.row = Rc::new((*self.row).clone());
            self.bind_result()?;
        }
        // SAFETY: an executed statement whose result is bound to live buffers.
        let rc = unsafe { ffi::mysql_stmt_fetch(self.stmt.as_ptr()) };
        match rc as u32 {
            0 => Ok(true),
            ffi::MYSQL_NO_DATA => Ok(false),
            ffi::MYSQL_DATA_TRUNCATED => self.fetch_truncated().map(|()| true),
            _ => Err(self.stmt.error()),
        }
    }

    /// Reads again, into larger buffers, the values that did not fit.
    fn fetch_truncated(&mut self) -> QueryResult<()> {
        let stmt = self.stmt.as_ptr();
        let buffers = Rc::get_mut(&mut self.row).expect("the cursor holds its buffers alone");
        let mut grown = false;
        for (i, column) in buffers.columns.iter_mut().enumerate() {
            if column.truncated == ffi::my_bool::default() {
                continue;
            }
            if column.fixed.is_some() {
                return Err(Error::DeserializationError(
                    format!("column {} overflows the type it is read as", buffers.names[i]).into(),
                ));
            }
            let length = usize::try_from(column.length)
                .map_err(|e| Error::DeserializationError(Box::new(e)))?;
            column.bytes.resize(length, 0);
            let mut bind = column.bind();
            // SAFETY: the bind points at a buffer of the value's length;
            // the column is fetched again from its start.
            let rc = unsafe { ffi::mysql_stmt_fetch_column(stmt, &raw mut bind, i as u32, 0) };
            if rc != 0 {
                return Err(self.stmt.error());
            }
            column.truncated = ffi::my_bool::default();
            grown = true;
        }
        if grown {
            // The grown buffers moved: the next rows go to them.
            self.bind_result()?;
        }
        Ok(())
    }
}

impl Iterator for Cursor<'_> {
    type Item = QueryResult<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.fetch() {
            Ok(true) => Some(Ok(Row(self.row.clone()))),
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Drop for Cursor<'_> {
    fn drop(&mut self) {
        // Rows not read are read and dropped, so that the connection can
        // run its next statement.
        // SAFETY: an executed statement; this ends its result.
        unsafe { ffi::mysql_stmt_free_result(self.stmt.as_ptr()) };
    }
}

/// One row of a [`Cursor`].
#[derive(Clone)]
#[allow(missing_debug_implementations)]
pub struct Row(Rc<Buffers>);

/// One value of a [`Row`].
#[allow(missing_debug_implementations)]
pub struct RowField<'a> {
    column: &'a Column,
    name: &'a str,
}

impl<'a> Field<'a, Mysql> for RowField<'a> {
    fn field_name(&self) -> Option<&str> {
        Some(self.name)
    }

    fn value(&self) -> Option<MysqlValue<'_>> {
        self.column.value()
    }

    fn is_null(&self) -> bool {
        self.column.is_null != ffi::my_bool::default()
    }
}

impl RowSealed for Row {}

impl<'a> DieselRow<'a, Mysql> for Row {
    type Field<'f>
        = RowField<'f>
    where
        'a: 'f,
        Self: 'f;
    type InnerPartialRow = Self;

    fn field_count(&self) -> usize {
        self.0.columns.len()
    }

    fn get<'b, I>(&'b self, idx: I) -> Option<Self::Field<'b>>
    where
        'a: 'b,
        Self: RowIndex<I>,
    {
        let idx = self.idx(idx)?;
        Some(RowField { column: &self.0.columns[idx], name: &self.0.names[idx] })
    }

    fn partial_row(&self, range: std::ops::Range<usize>) -> PartialRow<'_, Self::InnerPartialRow> {
        PartialRow::new(self, range)
    }
}

impl RowIndex<usize> for Row {
    fn idx(&self, idx: usize) -> Option<usize> {
        (idx < self.0.columns.len()).then_some(idx)
    }
}

impl<'a> RowIndex<&'a str> for Row {
    fn idx(&self, idx: &'a str) -> Option<usize> {
        self.0.names.iter().position(|n| n == idx)
    }
}
