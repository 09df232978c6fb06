//! The same work through each raw driver, written by hand: rusqlite, the
//! `postgres` crate and libpq itself, the `mysql` crate and libmysqlclient
//! itself.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use triglot_pipeline::model::{Customer, NewOrderLine, Order, OrderLine, OrderStatus};

/// The decode query (a keyset page), as the raw drivers send it.
pub const DECODE_SQL: &str = "SELECT id, order_id, line_no, sku, quantity, unit_price_cents, \
discount_bp, note FROM order_lines WHERE id > {after} ORDER BY id LIMIT {limit}";

/// The orders of a window, as the raw drivers send it.
pub const ORDERS_SQL: &str = "SELECT id, external_id, customer_id, status, currency, total_cents, \
placed_at, updated_at, source, content_hash FROM orders \
WHERE placed_at >= {from} AND placed_at < {until} ORDER BY placed_at, id";

/// The lines of those orders, as the raw drivers send it.
pub const LINES_SQL: &str = "SELECT id, order_id, line_no, sku, quantity, unit_price_cents, \
discount_bp, note FROM order_lines WHERE order_id IN \
(SELECT id FROM orders WHERE placed_at >= {from} AND placed_at < {until}) ORDER BY order_id, line_no";

const INSERT_COLUMNS: &str =
    "order_lines (order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note)";

/// One raw driver doing what triglot does.
pub trait Raw: Sized {
    /// The driver's name, as `compare` prints it.
    const NAME: &'static str;

    /// Whether `compare` times the pool check-out paths beside this driver:
    /// they use no raw driver, so one driver per backend does.
    const TIMES_CHECKOUT: bool = true;

    /// Connects to the URL triglot used (its form adapted for the driver).
    ///
    /// # Errors
    ///
    /// The driver's message.
    fn connect(url: &str) -> Result<Self, String>;

    /// Loads one keyset page `(after_id, limit)` of lines into owned structs.
    fn decode(&mut self, page: (i64, i64)) -> Vec<OrderLine>;

    /// Decodes one keyset page without collecting; returns the checksum.
    fn stream(&mut self, page: (i64, i64)) -> u64;

    /// Inserts `rows` in one transaction through the database's native bulk path.
    fn insert(&mut self, rows: &[NewOrderLine]);

    /// The orders placed in `[from, until)` with their lines, as
    /// [`triglot_pipeline::model::orders_with_lines`] returns them.
    fn orders_with_lines(
        &mut self,
        window: (NaiveDateTime, NaiveDateTime),
    ) -> Vec<(Order, Vec<OrderLine>)>;

    /// Runs `sql`, which selects one integer, and returns it.
    fn count(&mut self, sql: &str) -> i64;
}

/// Every row an ingest stored in the order schema, ids included, by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// The `customers` table.
    pub customers: Vec<Customer>,
    /// The `orders` table.
    pub orders: Vec<Order>,
    /// The `order_lines` table.
    pub lines: Vec<OrderLine>,
}

impl Stored {
    /// Rows in all.
    pub fn rows(&self) -> usize {
        self.customers.len() + self.orders.len() + self.lines.len()
    }
}

/// A raw driver's fastest way to put rows into empty tables, for the rows
/// an ingest stored: one prepared statement per table in one transaction
/// on SQLite, binary COPY on PostgreSQL, 1,000-row prepared INSERTs on
/// MariaDB.
pub trait NativeBulk: Raw {
    /// Reads every row of the three order tables.
    fn read_stored(&mut self) -> Stored;

    /// Inserts `stored` into the empty tables in one transaction.
    fn insert_stored(&mut self, stored: &Stored);
}

const CUSTOMERS: &str = "customers (id, external_id, name, email, country, created_at)";
const ORDERS: &str = "orders (id, external_id, customer_id, status, currency, total_cents, \
placed_at, updated_at, source, content_hash)";
const LINES: &str =
    "order_lines (id, order_id, line_no, sku, quantity, unit_price_cents, discount_bp, note)";

/// `SELECT` of a table's listed columns, by id.
fn select_all(table: &str) -> String {
    let (name, columns) = table.split_once(' ').expect("a table with columns");
    format!("SELECT {} FROM {name} ORDER BY id", &columns[1..columns.len() - 1])
}

/// Pairs each order with its lines (lines sorted by order, then number).
fn group(orders: Vec<Order>, lines: Vec<OrderLine>) -> Vec<(Order, Vec<OrderLine>)> {
    let at: HashMap<i64, usize> = orders.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let mut out: Vec<(Order, Vec<OrderLine>)> =
        orders.into_iter().map(|o| (o, Vec::new())).collect();
    for line in lines {
        if let Some(&i) = at.get(&line.order_id) {
            out[i].1.push(line);
        }
    }
    out
}

fn status(text: &str) -> OrderStatus {
    text.parse().expect("a stored order status")
}

#[allow(clippy::too_many_arguments)]
fn order(
    id: i64,
    external_id: String,
    customer_id: i64,
    status_text: &str,
    currency: String,
    total_cents: i64,
    placed_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    source: String,
    content_hash: i64,
) -> Order {
    Order {
        id,
        external_id,
        customer_id,
        status: status(status_text),
        currency,
        total_cents,
        placed_at,
        updated_at,
        source,
        content_hash,
    }
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

/// Where a server URL points, its parts percent-decoded, for the C drivers.
#[cfg(any(feature = "mysql", feature = "postgres"))]
struct Server {
    host: String,
    port: Option<u16>,
    user: String,
    password: String,
    database: String,
}

#[cfg(any(feature = "mysql", feature = "postgres"))]
impl Server {
    fn of(url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let decode =
            |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        Ok(Self {
            host: parsed.host_str().unwrap_or("127.0.0.1").to_owned(),
            port: parsed.port(),
            user: decode(parsed.username()),
            password: decode(parsed.password().unwrap_or("")),
            database: decode(parsed.path().trim_start_matches('/')),
        })
    }
}

#[cfg(feature = "mysql")]
pub mod libmysql;
#[cfg(feature = "postgres")]
pub mod libpq;

/// rusqlite, on the same `libsqlite3-sys` (and so the same SQLite) as diesel.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use super::*;

    /// A rusqlite connection with the session triglot sets up.
    #[derive(Debug)]
    pub struct Driver(rusqlite::Connection);

    fn decode_sql() -> String {
        DECODE_SQL.replace("{after}", "?1").replace("{limit}", "?2")
    }

    fn windowed(sql: &str) -> String {
        sql.replace("{from}", "?1").replace("{until}", "?2")
    }

    fn stamp(t: NaiveDateTime) -> String {
        t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
    }

    fn order_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Order> {
        Ok(order(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get_ref(3)?.as_str()?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
        ))
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrderLine> {
        Ok(line(
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    }

    impl Raw for Driver {
        const NAME: &'static str = "rusqlite";

        fn connect(url: &str) -> Result<Self, String> {
            let path = url.trim_start_matches("sqlite://");
            let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            conn.execute_batch(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| e.to_string())?;
            Ok(Self(conn))
        }

        fn decode(&mut self, (after, limit): (i64, i64)) -> Vec<OrderLine> {
            let mut stmt = self.0.prepare_cached(&decode_sql()).expect("prepare");
            stmt.query_map([after, limit], row)
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        }

        fn stream(&mut self, (after, limit): (i64, i64)) -> u64 {
            let mut stmt = self.0.prepare_cached(&decode_sql()).expect("prepare");
            let mut rows = stmt.query([after, limit]).expect("query");
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

        fn orders_with_lines(
            &mut self,
            (from, until): (NaiveDateTime, NaiveDateTime),
        ) -> Vec<(Order, Vec<OrderLine>)> {
            let params = [stamp(from), stamp(until)];
            let mut stmt = self.0.prepare_cached(&windowed(ORDERS_SQL)).expect("prepare");
            let orders = stmt
                .query_map(params.clone(), order_row)
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("orders");
            let mut stmt = self.0.prepare_cached(&windowed(LINES_SQL)).expect("prepare");
            let lines = stmt
                .query_map(params.clone(), row)
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("lines");
            group(orders, lines)
        }

        fn count(&mut self, sql: &str) -> i64 {
            self.0.query_row(sql, [], |r| r.get(0)).expect("count")
        }
    }
    impl NativeBulk for Driver {
        fn read_stored(&mut self) -> Stored {
            let customers = self
                .0
                .prepare(&select_all(CUSTOMERS))
                .expect("prepare")
                .query_map([], |r| {
                    Ok(Customer {
                        id: r.get(0)?,
                        external_id: r.get(1)?,
                        name: r.get(2)?,
                        email: r.get(3)?,
                        country: r.get(4)?,
                        created_at: r.get(5)?,
                    })
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("customers");
            let orders = self
                .0
                .prepare(&select_all(ORDERS))
                .expect("prepare")
                .query_map([], order_row)
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("orders");
            let lines = self
                .0
                .prepare(&select_all(LINES))
                .expect("prepare")
                .query_map([], row)
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("lines");
            Stored { customers, orders, lines }
        }

        fn insert_stored(&mut self, stored: &Stored) {
            let tx = self.0.transaction().expect("begin");
            {
                let mut c = tx
                    .prepare(&format!("INSERT INTO {CUSTOMERS} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))
                    .expect("prepare");
                for r in &stored.customers {
                    c.execute(rusqlite::params![
                        r.id,
                        r.external_id,
                        r.name,
                        r.email,
                        r.country,
                        stamp(r.created_at)
                    ])
                    .expect("customer");
                }
                let mut o = tx
                    .prepare(&format!(
                        "INSERT INTO {ORDERS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                    ))
                    .expect("prepare");
                for r in &stored.orders {
                    o.execute(rusqlite::params![
                        r.id,
                        r.external_id,
                        r.customer_id,
                        r.status.as_str(),
                        r.currency,
                        r.total_cents,
                        stamp(r.placed_at),
                        stamp(r.updated_at),
                        r.source,
                        r.content_hash
                    ])
                    .expect("order");
                }
                let mut l = tx
                    .prepare(&format!(
                        "INSERT INTO {LINES} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                    ))
                    .expect("prepare");
                for r in &stored.lines {
                    l.execute(rusqlite::params![
                        r.id,
                        r.order_id,
                        r.line_no,
                        r.sku,
                        r.quantity,
                        r.unit_price_cents,
                        r.discount_bp,
                        r.note
                    ])
                    .expect("line");
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
        DECODE_SQL.replace("{after}", "$1").replace("{limit}", "$2")
    }

    fn windowed(sql: &str) -> String {
        sql.replace("{from}", "$1").replace("{until}", "$2")
    }

    fn order_row(r: &::postgres::Row) -> Order {
        order(
            r.get(0),
            r.get(1),
            r.get(2),
            r.get::<_, &str>(3),
            r.get(4),
            r.get(5),
            r.get(6),
            r.get(7),
            r.get(8),
            r.get(9),
        )
    }

    fn row(r: &::postgres::Row) -> OrderLine {
        line(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6), r.get(7))
    }

    impl Raw for Driver {
        const NAME: &'static str = "postgres crate";

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

        fn decode(&mut self, (after, limit): (i64, i64)) -> Vec<OrderLine> {
            let stmt = self.0.prepare(&decode_sql()).expect("prepare");
            self.0.query(&stmt, &[&after, &limit]).expect("query").iter().map(row).collect()
        }

        fn stream(&mut self, (after, limit): (i64, i64)) -> u64 {
            let stmt = self.0.prepare(&decode_sql()).expect("prepare");
            let params: [&(dyn ToSql + Sync); 2] = [&after, &limit];
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

        fn orders_with_lines(
            &mut self,
            (from, until): (NaiveDateTime, NaiveDateTime),
        ) -> Vec<(Order, Vec<OrderLine>)> {
            let orders_stmt = self.0.prepare(&windowed(ORDERS_SQL)).expect("prepare");
            let lines_stmt = self.0.prepare(&windowed(LINES_SQL)).expect("prepare");
            let orders = self
                .0
                .query(&orders_stmt, &[&from, &until])
                .expect("orders")
                .iter()
                .map(order_row)
                .collect();
            let lines = self
                .0
                .query(&lines_stmt, &[&from, &until])
                .expect("lines")
                .iter()
                .map(row)
                .collect();
            group(orders, lines)
        }

        fn count(&mut self, sql: &str) -> i64 {
            self.0.query_one(sql, &[]).expect("count").get(0)
        }
    }
    impl NativeBulk for Driver {
        fn read_stored(&mut self) -> Stored {
            let customers = self
                .0
                .query(&select_all(CUSTOMERS), &[])
                .expect("customers")
                .iter()
                .map(|r| Customer {
                    id: r.get(0),
                    external_id: r.get(1),
                    name: r.get(2),
                    email: r.get(3),
                    country: r.get(4),
                    created_at: r.get(5),
                })
                .collect();
            let orders = self
                .0
                .query(&select_all(ORDERS), &[])
                .expect("orders")
                .iter()
                .map(order_row)
                .collect();
            let lines =
                self.0.query(&select_all(LINES), &[]).expect("lines").iter().map(row).collect();
            Stored { customers, orders, lines }
        }

        fn insert_stored(&mut self, stored: &Stored) {
            type Values<'r> = Vec<&'r (dyn ToSql + Sync)>;
            fn copy<'r>(
                tx: &mut ::postgres::Transaction<'_>,
                table: &str,
                types: &[Type],
                rows: impl Iterator<Item = Values<'r>>,
            ) {
                let sink =
                    tx.copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)")).expect("copy");
                let mut writer = BinaryCopyInWriter::new(sink, types);
                for r in rows {
                    writer.write(&r).expect("row");
                }
                writer.finish().expect("finish");
            }
            use Type as T;
            let mut tx = self.0.transaction().expect("begin");
            copy(
                &mut tx,
                CUSTOMERS,
                &[T::INT8, T::VARCHAR, T::VARCHAR, T::VARCHAR, T::VARCHAR, T::TIMESTAMP],
                stored.customers.iter().map(|r| -> Values<'_> {
                    vec![&r.id, &r.external_id, &r.name, &r.email, &r.country, &r.created_at]
                }),
            );
            let statuses: Vec<&str> = stored.orders.iter().map(|o| o.status.as_str()).collect();
            copy(
                &mut tx,
                ORDERS,
                &[
                    T::INT8,
                    T::VARCHAR,
                    T::INT8,
                    T::VARCHAR,
                    T::VARCHAR,
                    T::INT8,
                    T::TIMESTAMP,
                    T::TIMESTAMP,
                    T::VARCHAR,
                    T::INT8,
                ],
                stored.orders.iter().zip(&statuses).map(|(r, status)| -> Values<'_> {
                    vec![
                        &r.id,
                        &r.external_id,
                        &r.customer_id,
                        status,
                        &r.currency,
                        &r.total_cents,
                        &r.placed_at,
                        &r.updated_at,
                        &r.source,
                        &r.content_hash,
                    ]
                }),
            );
            copy(
                &mut tx,
                LINES,
                &[T::INT8, T::INT8, T::INT4, T::VARCHAR, T::INT4, T::INT8, T::INT4, T::VARCHAR],
                stored.lines.iter().map(|r| -> Values<'_> {
                    vec![
                        &r.id,
                        &r.order_id,
                        &r.line_no,
                        &r.sku,
                        &r.quantity,
                        &r.unit_price_cents,
                        &r.discount_bp,
                        &r.note,
                    ]
                }),
            );
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

    type Row = (i64, i64, i32, String, i32, i64, Option<i32>, Option<String>);

    fn decode_sql() -> String {
        DECODE_SQL.replace("{after}", "?").replace("{limit}", "?")
    }

    fn order_row(mut r: ::mysql::Row) -> Order {
        let status: String = r.take(3).expect("status");
        order(
            r.take(0).expect("id"),
            r.take(1).expect("external_id"),
            r.take(2).expect("customer_id"),
            &status,
            r.take(4).expect("currency"),
            r.take(5).expect("total_cents"),
            r.take(6).expect("placed_at"),
            r.take(7).expect("updated_at"),
            r.take(8).expect("source"),
            r.take(9).expect("content_hash"),
        )
    }

    fn from_row((id, order_id, line_no, sku, quantity, price, discount, note): Row) -> OrderLine {
        line(id, order_id, line_no, sku, quantity, price, discount, note)
    }

    fn windowed(sql: &str) -> String {
        sql.replace("{from}", "?").replace("{until}", "?")
    }

    fn statement(rows: usize) -> String {
        let one = "(?, ?, ?, ?, ?, ?, ?)";
        format!("INSERT INTO {INSERT_COLUMNS} VALUES {}", vec![one; rows].join(", "))
    }

    impl Raw for Driver {
        const NAME: &'static str = "mysql crate";

        fn connect(url: &str) -> Result<Self, String> {
            let opts = Opts::from_url(url).map_err(|e| e.to_string())?;
            let mut conn = Conn::new(opts).map_err(|e| e.to_string())?;
            conn.query_drop("SET time_zone = '+00:00'").map_err(|e| e.to_string())?;
            Ok(Self(conn))
        }

        fn decode(&mut self, page: (i64, i64)) -> Vec<OrderLine> {
            self.0.exec_map(decode_sql(), page, from_row).expect("query")
        }

        fn stream(&mut self, page: (i64, i64)) -> u64 {
            let mut sum = 0;
            let result = self.0.exec_iter(decode_sql(), page).expect("query");
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

        fn orders_with_lines(
            &mut self,
            window: (NaiveDateTime, NaiveDateTime),
        ) -> Vec<(Order, Vec<OrderLine>)> {
            let orders = self.0.exec_map(windowed(ORDERS_SQL), window, order_row).expect("orders");
            let lines = self.0.exec_map(windowed(LINES_SQL), window, from_row).expect("lines");
            group(orders, lines)
        }

        fn count(&mut self, sql: &str) -> i64 {
            self.0.query_first(sql).expect("count").expect("one row")
        }
    }
    impl NativeBulk for Driver {
        fn read_stored(&mut self) -> Stored {
            let customers = self
                .0
                .exec_map(select_all(CUSTOMERS), (), |mut r: ::mysql::Row| Customer {
                    id: r.take(0).expect("id"),
                    external_id: r.take(1).expect("external_id"),
                    name: r.take(2).expect("name"),
                    email: r.take(3).expect("email"),
                    country: r.take(4).expect("country"),
                    created_at: r.take(5).expect("created_at"),
                })
                .expect("customers");
            let orders = self.0.exec_map(select_all(ORDERS), (), order_row).expect("orders");
            let lines = self.0.exec_map(select_all(LINES), (), from_row).expect("lines");
            Stored { customers, orders, lines }
        }

        fn insert_stored(&mut self, stored: &Stored) {
            fn insert<R>(
                tx: &mut ::mysql::Transaction<'_>,
                table: &str,
                width: usize,
                rows: &[R],
                values: impl Fn(&R) -> Vec<Value>,
            ) {
                let statement = |n: usize| {
                    let row = format!("({})", vec!["?"; width].join(", "));
                    format!("INSERT INTO {table} VALUES {}", vec![row; n].join(", "))
                };
                let bind =
                    |chunk: &[R]| Params::Positional(chunk.iter().flat_map(&values).collect());
                let full = tx.prep(statement(1_000)).expect("prepare");
                let mut chunks = rows.chunks_exact(1_000);
                for chunk in &mut chunks {
                    tx.exec_drop(&full, bind(chunk)).expect("insert");
                }
                let rest = chunks.remainder();
                if !rest.is_empty() {
                    tx.exec_drop(statement(rest.len()), bind(rest)).expect("insert");
                }
            }
            let mut tx = self.0.start_transaction(TxOpts::default()).expect("begin");
            insert(&mut tx, CUSTOMERS, 6, &stored.customers, |r| {
                vec![
                    r.id.into(),
                    r.external_id.as_str().into(),
                    r.name.as_str().into(),
                    r.email.as_deref().into(),
                    r.country.as_deref().into(),
                    r.created_at.into(),
                ]
            });
            insert(&mut tx, ORDERS, 10, &stored.orders, |r| {
                vec![
                    r.id.into(),
                    r.external_id.as_str().into(),
                    r.customer_id.into(),
                    r.status.as_str().into(),
                    r.currency.as_str().into(),
                    r.total_cents.into(),
                    r.placed_at.into(),
                    r.updated_at.into(),
                    r.source.as_str().into(),
                    r.content_hash.into(),
                ]
            });
            insert(&mut tx, LINES, 8, &stored.lines, |r| {
                vec![
                    r.id.into(),
                    r.order_id.into(),
                    r.line_no.into(),
                    r.sku.as_str().into(),
                    r.quantity.into(),
                    r.unit_price_cents.into(),
                    r.discount_bp.into(),
                    r.note.as_deref().into(),
                ]
            });
            tx.commit().expect("commit");
        }
    }
}
