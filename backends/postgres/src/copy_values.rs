//! PostgreSQL's bulk path for rows known only at run time: text-format
//! `COPY … FROM STDIN`.

use diesel::result::{Error, QueryResult};
use triglot_core::values::SqlValue;

use crate::connection::PgConnection;

/// Bytes gathered before they are handed to libpq as one `CopyData` message.
pub(crate) const MESSAGE: usize = 64 * 1024;

/// Copies rows known only at run time into `table` with one text-format
/// `COPY … FROM STDIN`, in 64 KiB messages; returns the rows copied.
///
/// Text format lets the server parse each value as its column's type, so
/// an integer reaches an `int4` column and a decimal a `numeric` one
/// without knowing their binary layouts. Timestamps carry `+00`: UTC for a
/// `timestamptz` column, ignored by a `timestamp` one.
///
/// # Errors
///
/// Any statement error; a row of the wrong length is a query-builder error.
pub(crate) fn copy_values(
    conn: &mut PgConnection,
    table: &str,
    columns: &[String],
    rows: &[Vec<SqlValue>],
) -> QueryResult<usize> {
    copy_rows(conn, table, columns, rows, None)
}

/// Like [`copy_values`], each row followed by its position in `rows` in
/// the column `ordinal`, when given.
///
/// # Errors
///
/// Any statement error; a row of the wrong length is a query-builder error.
pub(crate) fn copy_rows(
    conn: &mut PgConnection,
    table: &str,
    columns: &[String],
    rows: &[Vec<SqlValue>],
    ordinal: Option<&str>,
) -> QueryResult<usize> {
    use std::io::Write as _;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut data = Vec::with_capacity(MESSAGE);
    for (r, row) in rows.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(Error::QueryBuilderError(
                format!("row {} has {} values for {} columns", r + 1, row.len(), columns.len())
                    .into(),
            ));
        }
        text_row(&mut data, row);
        if ordinal.is_some() {
            // Writing into a Vec cannot fail.
            let _ = write!(data, "\t{r}");
        }
        data.push(b'\n');
    }
    let mut target = quoted(table);
    target.push_str(" (");
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            target.push_str(", ");
        }
        target.push_str(&quoted(c));
    }
    if let Some(ordinal) = ordinal {
        target.push_str(", ");
        target.push_str(&quoted(ordinal));
    }
    target.push(')');
    conn.copy_in(&format!("COPY {target} FROM STDIN"), &mut |out| {
        data.chunks(MESSAGE)
            .try_for_each(|part| out.write_all(part))
            .map_err(|e| Error::SerializationError(Box::new(e)))
    })
}

/// A double-quoted identifier.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One row of a text-format COPY: tab-separated, `\N` for NULL, the
/// characters COPY reads specially escaped.
fn text_row(out: &mut Vec<u8>, row: &[SqlValue]) {
    use std::io::Write as _;
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        // Writing into a Vec cannot fail.
        let _ = match value {
            SqlValue::Null => out.write_all(b"\\N"),
            SqlValue::Bool(b) => out.write_all(if *b { b"t" } else { b"f" }),
            SqlValue::Int(n) => write!(out, "{n}"),
            SqlValue::Decimal { text, .. } => out.write_all(text.as_bytes()),
            SqlValue::Date(d) => write!(out, "{}", d.format("%Y-%m-%d")),
            SqlValue::Timestamp(t) => write!(out, "{}+00", t.format("%Y-%m-%d %H:%M:%S%.6f")),
            SqlValue::Text(text) => {
                for b in text.bytes() {
                    match b {
                        b'\\' => out.extend_from_slice(b"\\\\"),
                        b'\n' => out.extend_from_slice(b"\\n"),
                        b'\r' => out.extend_from_slice(b"\\r"),
                        b'\t' => out.extend_from_slice(b"\\t"),
                        _ => out.push(b),
                    }
                }
                Ok(())
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rows_escape_what_copy_reads_specially() {
        let mut out = Vec::new();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        text_row(
            &mut out,
            &[
                SqlValue::Int(-7),
                SqlValue::Text("a\tb\\c\nd\re".into()),
                SqlValue::Null,
                SqlValue::Bool(true),
                SqlValue::Decimal { text: "-12.50".into(), cast: "numeric(10,2)".into() },
                SqlValue::Date(day),
                SqlValue::Timestamp(day.and_hms_micro_opt(9, 5, 0, 1_250).unwrap()),
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-7\ta\\tb\\\\c\\nd\\re\t\\N\tt\t-12.50\t2026-12-01\t2026-12-01 09:05:00.001250+00"
        );
        assert_eq!(quoted("odd\"name"), "\"odd\"\"name\"");
    }
}
