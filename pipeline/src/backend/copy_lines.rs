//! PostgreSQL's fast path for order lines: binary `COPY … FROM STDIN`,
//! encoded here field by field into 64 KiB messages.
//!
//! The toolkit's generic COPY (`BulkInsert` of triglot-postgres) gets each
//! value from diesel's INSERT, one allocation per value; this encoder writes
//! a line's seven fields straight into the message buffer. Measured on
//! 100,000 lines with `compare` (see the README). diesel's own
//! `from_insertable` sends one message per row: 1.22–1.33× the `postgres`
//! crate's `BinaryCopyInWriter`, which also batches.
//!
//! It names PostgreSQL's connection, so it is a macro that the PostgreSQL
//! impl of [`OrderBackend`](super::OrderBackend) expands: it exists only
//! when triglot is built with PostgreSQL.

/// Expands to `fn copy_lines(conn: &mut PgConnection, rows: &[NewOrderLine])`, on
/// triglot's PostgreSQL connection.
#[allow(unused_macros)]
macro_rules! copy_lines {
    () => {
        fn copy_lines(
            conn: &mut triglot::postgres::PgConnection,
            rows: &[$crate::model::NewOrderLine],
        ) -> diesel::QueryResult<usize> {
            use diesel::result::Error;

            /// Bytes gathered before they are handed to libpq as one `CopyData` message.
            const MESSAGE: usize = 64 * 1024;
            /// `PGCOPY\n\377\r\n\0`, then flags and header-extension length, both 0.
            const HEADER: [u8; 19] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

            fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
                // Text columns hold at most 500 characters (the model's
                // limits), so the length always fits.
                buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                buf.extend_from_slice(bytes);
            }

            fn encode(buf: &mut Vec<u8>, row: &$crate::model::NewOrderLine) {
                buf.extend_from_slice(&7_i16.to_be_bytes());
                field(buf, &row.order_id.to_be_bytes());
                field(buf, &row.line_no.to_be_bytes());
                field(buf, row.sku.as_bytes());
                field(buf, &row.quantity.to_be_bytes());
                field(buf, &row.unit_price_cents.to_be_bytes());
                match row.discount_bp {
                    Some(bp) => field(buf, &bp.to_be_bytes()),
                    None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
                }
                match &row.note {
                    Some(text) => field(buf, text.as_bytes()),
                    None => buf.extend_from_slice(&(-1_i32).to_be_bytes()),
                }
            }

            const COPY: &str = "COPY \"order_lines\" (\"order_id\", \"line_no\", \"sku\", \
                \"quantity\", \"unit_price_cents\", \"discount_bp\", \"note\") \
                FROM STDIN (FORMAT binary)";
            conn.copy_in(COPY, &mut |out| {
                let io = |e: std::io::Error| Error::SerializationError(Box::new(e));
                let mut buf = Vec::with_capacity(MESSAGE + 1024);
                buf.extend_from_slice(&HEADER);
                for row in rows {
                    encode(&mut buf, row);
                    if buf.len() >= MESSAGE {
                        out.write_all(&buf).map_err(io)?;
                        buf.clear();
                    }
                }
                buf.extend_from_slice(&(-1_i16).to_be_bytes());
                out.write_all(&buf).map_err(io)
            })
        }
    };
}
