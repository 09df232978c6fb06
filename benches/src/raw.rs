//! The same work through each raw driver, written by hand: rusqlite, the
//! `postgres` crate, the `mysql` crate.

use chrono::NaiveDateTime;
use triglot::model::{LineWithTime, NewOrderLine, OrderLine};

/// The decode query, as the raw drivers send it.
pub const DECODE_SQL: &str = "SELECT l.id, l.order_id, l.line_no, l.sku, l.quantity, l.unit_price_cents, \
l.discount_bp, l.note, o.placed_at FROM order_lines l INNER JOIN orders o ON o.id = l.order_id \
WHERE o.placed_at >= {from} AND o.placed_at < {until} ORDER BY l.id";

const INSERT_COLUMNS: &str =
    "order_lines (order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note)";

/// One raw driver doing what triglot does.
pub trait Raw: Sized {
    /// Connects to the URL triglot used (its form adapted for the driver).
    ///
    /// # Errors
    ///
    /// The driver's message.
    fn connect(url: &str) -> Result<Self, String>;

    /// Loads every line of the window into owned structs.
    fn decode(&mut self, window: (NaiveDateTime, NaiveDateTime)) -> Vec<LineWithTime>;

    /// Decodes every line of the window without collecting; returns the checksum.
    fn stream(&mut self, window: (NaiveDateTime, NaiveDateTime)) -> u64;

    /// Inserts `rows` in one transaction through the database's native bulk path.
    fn insert(&mut self, rows: &[NewOrderLine]);
}

#[allow(clippy::too_many_arguments)]
fn line(
    id: i64,
    order_id: i64,
    line_no: i32,
    sku: String,
    quantity: i32,
    unit_price_cents: i64,
    discount_bp: Option<i32>,
    note: Option<String>,
) -> OrderLine {
    OrderLine { id, order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note }
}

/// rusqlite, on the same `libsqlite3-sys` (and so the same SQLite) as diesel.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use super::*;

    /// A rusqlite connection with the session triglot sets up.
    #[derive(Debug)]
    pub struct Driver(rusqlite::Connection);

    fn decode_sql() -> String {
        DECODE_SQL.replace("{from}", "?1").replace("{until}", "?2")
    }

    fn stamp(t: NaiveDateTime) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LineWithTime> {
        Ok((
            line(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ),
            r.get(8)?,
        ))
    }

    impl Raw for Driver {
        fn connect(url: &str) -> Result<Self, String> {
            let path = url.trim_start_matches("sqlite://");
            let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            conn.execute_batch(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| e.to_string())?;
            Ok(Self(conn))
        }

        fn decode(&mut self, (from, until): (NaiveDateTime, NaiveDateTime)) -> Vec<LineWithTime> {
            let mut stmt = self.0.prepare_cached(&decode_sql()).expect("prepare");
            stmt.query_map([stamp(from), stamp(until)], row)
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        }

        fn stream(&mut self, (from, until): (NaiveDateTime, NaiveDateTime)) -> u64 {
            let mut stmt = self.0.prepare_cached(&decode_sql()).expect("prepare");
            let mut rows = stmt.query([stamp(from), stamp(until)]).expect("query");
            let mut sum = 0;
            while let Some(r) = rows.next().expect("row") {
                sum = crate::checksum(sum, &row(r).expect("decode"));
            }
            sum
        }

        fn insert(&mut self, rows: &[NewOrderLine]) {
            let tx = self.0.transaction().expect("begin");
            {
                let sql =
                    format!("INSERT INTO {INSERT_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
                let mut stmt = tx.prepare_cached(&sql).expect("prepare");
                for r in rows {
                    stmt.execute(rusqlite::params![
                        r.order_id,
                        r.line_no,
                        r.sku,
                        r.quantity,
                        r.unit_price_cents,
                        r.discount_bp,
                        r.note
                    ])
                    .expect("insert");
                }
            }
            tx.commit().expect("commit");
        }
    }
}

/// The `postgres` crate: extended protocol, binary results, `COPY … (FORMAT binary)`.
#[cfg(feature = "postgres")]
pub mod postgres {
    use ::postgres::binary_copy::BinaryCopyInWriter;
    use ::postgres::types::{ToSql, Type};
    use ::postgres::{Client, NoTls};

    use super::*;

    /// A `postgres` client over plain TCP.
    pub struct Driver(Client);

    impl std::fmt::Debug for Driver {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("postgres::Driver")
        }
    }

    fn decode_sql() -> String {
        DECODE_SQL.replace("{from}", "$1").replace("{until}", "$2")
    }

    fn row(r: &::postgres::Row) -> LineWithTime {
        (
            line(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7)),
            r.get(8),
        )
    }

    impl Raw for Driver {
        fn connect(url: &str) -> Result<Self, String> {
            // Keep what both sides understand: user, host, port, database; no TLS.
            let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
            let plain = format!(
                "postgres://{}@{}:{}{}?sslmode=disable",
                parsed.username(),
                parsed.host_str().unwrap_or("127.0.0.1"),
                parsed.port().unwrap_or(5432),
                parsed.path()
            );
            let mut client = Client::connect(&plain, NoTls).map_err(|e| e.to_string())?;
            client.batch_execute("SET TimeZone = 'UTC'").map_err(|e| e.to_string())?;
            Ok(Self(client))
        }

        fn decode(&mut self, (from, until): (NaiveDateTime, NaiveDateTime)) -> Vec<LineWithTime> {
            let stmt = self.0.prepare(&decode_sql()).expect("prepare");
            self.0.query(&stmt, &[&from, &until]).expect("query").iter().map(row).collect()
        }

        fn stream(&mut self, (from, until): (NaiveDateTime, NaiveDateTime)) -> u64 {
            let stmt = self.0.prepare(&decode_sql()).expect("prepare");
            let params: [&(dyn ToSql + Sync); 2] = [&from, &until];
            let mut rows = self.0.query_raw(&stmt, params).expect("query");
            let mut sum = 0;
            while let Some(r) =
                ::postgres::fallible_iterator::FallibleIterator::next(&mut rows).expect("row")
            {
                sum = crate::checksum(sum, &row(&r));
            }
            sum
        }

        fn insert(&mut self, rows: &[NewOrderLine]) {
            let mut tx = self.0.transaction().expect("begin");
            let sink = tx
                .copy_in(&format!("COPY {INSERT_COLUMNS} FROM STDIN (FORMAT binary)"))
                .expect("copy");
            let types = [
                Type::INT8,
                Type::INT4,
                Type::TEXT,
                Type::INT4,
                Type::INT8,
                Type::INT4,
                Type::TEXT,
            ];
            let mut writer = BinaryCopyInWriter::new(sink, &types);
            for r in rows {
                writer
                    .write(&[
                        &r.order_id,
                        &r.line_no,
                        &r.sku,
                        &r.quantity,
                        &r.unit_price_cents,
                        &r.discount_bp,
                        &r.note,
                    ])
                    .expect("row");
            }
            writer.finish().expect("finish");
            tx.commit().expect("commit");
        }
    }
}

/// The `mysql` crate: binary protocol through prepared statements.
#[cfg(feature = "mysql")]
pub mod mysql {
    use ::mysql::prelude::Queryable;
    use ::mysql::{Conn, Opts, Params, TxOpts, Value};

    use super::*;

    /// A `mysql` connection over plain TCP.
    pub struct Driver(Conn);

    impl std::fmt::Debug for Driver {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("mysql::Driver")
        }
    }

    type Row = (i64, i64, i32, String, i32, i64, Option<i32>, Option<String>, NaiveDateTime);

    fn decode_sql() -> String {
        DECODE_SQL.replace("{from}", "?").replace("{until}", "?")
    }

    fn from_row(
        (id, order_id, line_no, sku, quantity, price, discount, note, placed_at): Row,
    ) -> LineWithTime {
        (line(id, order_id, line_no, sku, quantity, price, discount, note), placed_at)
    }

    fn statement(rows: usize) -> String {
        let one = "(?, ?, ?, ?, ?, ?, ?)";
        format!("INSERT INTO {INSERT_COLUMNS} VALUES {}", vec![one; rows].join(", "))
    }

    impl Raw for Driver {
        fn connect(url: &str) -> Result<Self, String> {
            let opts = Opts::from_url(url).map_err(|e| e.to_string())?;
            let mut conn = Conn::new(opts).map_err(|e| e.to_string())?;
            conn.query_drop("SET time_zone = '+00:00'").map_err(|e| e.to_string())?;
            Ok(Self(conn))
        }

        fn decode(&mut self, window: (NaiveDateTime, NaiveDateTime)) -> Vec<LineWithTime> {
            self.0.exec_map(decode_sql(), window, from_row).expect("query")
        }

        fn stream(&mut self, window: (NaiveDateTime, NaiveDateTime)) -> u64 {
            let mut sum = 0;
            let result = self.0.exec_iter(decode_sql(), window).expect("query");
            for r in result {
                let r: Row = ::mysql::from_row(r.expect("row"));
                sum = crate::checksum(sum, &from_row(r));
            }
            sum
        }

        fn insert(&mut self, rows: &[NewOrderLine]) {
            let mut tx = self.0.start_transaction(TxOpts::default()).expect("begin");
            let bind = |chunk: &[NewOrderLine]| {
                let mut values = Vec::with_capacity(chunk.len() * 7);
                for r in chunk {
                    values.extend([
                        Value::from(r.order_id),
                        Value::from(r.line_no),
                        Value::from(r.sku.as_str()),
                        Value::from(r.quantity),
                        Value::from(r.unit_price_cents),
                        Value::from(r.discount_bp),
                        Value::from(r.note.as_deref()),
                    ]);
                }
                Params::Positional(values)
            };
            let full = tx.prep(statement(1_000)).expect("prepare");
            let mut chunks = rows.chunks_exact(1_000);
            for chunk in &mut chunks {
                tx.exec_drop(&full, bind(chunk)).expect("insert");
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                tx.exec_drop(statement(rest.len()), bind(rest)).expect("insert");
            }
            tx.commit().expect("commit");
        }
    }
}
