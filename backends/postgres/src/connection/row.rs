//! The rows of a result: a cursor over them, and a row whose fields are
//! read straight from libpq's result: a value's length and bytes, and its
//! NULL flag only when it is empty.
//!
//! The per-field functions are `#[inline]`: without link-time optimization
//! they are otherwise calls from the caller's crate, each returning its
//! value through memory.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};
use std::num::NonZeroU32;
use std::rc::Rc;

use diesel::pg::{Pg, PgValue};
use diesel::result::{Error, QueryResult};
use diesel::row::{Field, PartialRow, Row as DieselRow, RowIndex, RowSealed};
use pq_sys as ffi;

use super::raw::PgResult;

/// A result with what every field read needs: its columns' types and names.
struct Rows {
    result: PgResult,
    rows: c_int,
    types: Box<[NonZeroU32]>,
    names: Box<[String]>,
}

/// The rows of an executed statement, in order.
#[allow(missing_debug_implementations)]
pub struct Cursor {
    rows: Rc<Rows>,
    next: c_int,
}

impl Cursor {
    pub(super) fn new(result: PgResult) -> QueryResult<Self> {
        let res = result.as_ptr();
        // SAFETY: a live result; column numbers below its column count.
        let (rows, columns) = unsafe { (ffi::PQntuples(res), ffi::PQnfields(res)) };
        let mut types = Vec::with_capacity(columns.max(0) as usize);
        let mut names = Vec::with_capacity(columns.max(0) as usize);
        for c in 0..columns {
            // SAFETY: as above; a name is NUL-terminated text the result owns.
            let (oid, name) =
                unsafe { (ffi::PQftype(res, c), CStr::from_ptr(ffi::PQfname(res, c))) };
            types.push(NonZeroU32::new(oid).ok_or_else(|| {
                Error::DeserializationError(format!("column {c} has no type").into())
            })?);
            names.push(name.to_string_lossy().into_owned());
        }
        let rows = Rows { result, rows, types: types.into(), names: names.into() };
        Ok(Self { rows: Rc::new(rows), next: 0 })
    }
}

impl Iterator for Cursor {
    type Item = QueryResult<Row>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.rows.rows {
            return None;
        }
        let row = Row { rows: Rc::clone(&self.rows), row: self.next };
        self.next += 1;
        Some(Ok(row))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.rows.rows - self.next).max(0) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Cursor {}

/// One row of a [`Cursor`].
#[derive(Clone)]
#[allow(missing_debug_implementations)]
pub struct Row {
    rows: Rc<Rows>,
    row: c_int,
}

/// One value of a [`Row`].
#[allow(missing_debug_implementations)]
pub struct RowField<'a> {
    rows: &'a Rows,
    row: c_int,
    column: usize,
}

impl RowField<'_> {
    #[inline(always)]
    fn bytes(&self) -> Option<&[u8]> {
        let res = self.rows.result.as_ptr();
        let c = self.column as c_int;
        // SAFETY: row and column lie within the result, which outlives the
        // slice; libpq keeps each value contiguous, with its length.
        unsafe {
            let len = ffi::PQgetlength(res, self.row, c);
            // A NULL has length 0: only an empty value needs the NULL flag
            // (a call a hand-written loop makes for every field).
            if len == 0 && ffi::PQgetisnull(res, self.row, c) != 0 {
                return None;
            }
            let value = ffi::PQgetvalue(res, self.row, c).cast::<u8>();
            Some(std::slice::from_raw_parts(value, len as usize))
        }
    }
}

impl<'a> Field<'a, Pg> for RowField<'a> {
    fn field_name(&self) -> Option<&str> {
        Some(&self.rows.names[self.column])
    }

    #[inline(always)]
    fn value(&self) -> Option<PgValue<'_>> {
        let bytes = self.bytes()?;
        Some(PgValue::new(bytes, &self.rows.types[self.column]))
    }

    #[inline]
    fn is_null(&self) -> bool {
        // SAFETY: as in `bytes`.
        unsafe { ffi::PQgetisnull(self.rows.result.as_ptr(), self.row, self.column as c_int) != 0 }
    }
}

impl RowSealed for Row {}

impl<'a> DieselRow<'a, Pg> for Row {
    type Field<'f>
        = RowField<'f>
    where
        'a: 'f,
        Self: 'f;
    type InnerPartialRow = Self;

    #[inline]
    fn field_count(&self) -> usize {
        self.rows.types.len()
    }

    #[inline]
    fn get<'b, I>(&'b self, idx: I) -> Option<Self::Field<'b>>
    where
        'a: 'b,
        Self: RowIndex<I>,
    {
        let column = self.idx(idx)?;
        Some(RowField { rows: &self.rows, row: self.row, column })
    }

    fn partial_row(&self, range: std::ops::Range<usize>) -> PartialRow<'_, Self::InnerPartialRow> {
        PartialRow::new(self, range)
    }
}

impl RowIndex<usize> for Row {
    #[inline]
    fn idx(&self, idx: usize) -> Option<usize> {
        (idx < self.rows.types.len()).then_some(idx)
    }
}

impl<'a> RowIndex<&'a str> for Row {
    fn idx(&self, idx: &'a str) -> Option<usize> {
        self.rows.names.iter().position(|n| n == idx)
    }
}
