//! libmysqlclient itself, through `mysqlclient-sys` (the library diesel's
//! MySQL connection wraps): prepared statements over the binary protocol,
//! rows fetched one by one into bound buffers, and multi-row prepared
//! INSERTs for the insert.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_ulong, c_void};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use mysqlclient_sys::{
    MYSQL, MYSQL_BIND, MYSQL_DATA_TRUNCATED, MYSQL_NO_DATA, MYSQL_STMT, MYSQL_TIME,
    enum_field_types, enum_mysql_timestamp_type, my_bool, mysql_close, mysql_error,
    mysql_fetch_row, mysql_free_result, mysql_init, mysql_real_connect, mysql_real_query,
    mysql_stmt_bind_param, mysql_stmt_bind_result, mysql_stmt_close, mysql_stmt_error,
    mysql_stmt_execute, mysql_stmt_fetch, mysql_stmt_free_result, mysql_stmt_init,
    mysql_stmt_prepare, mysql_store_result,
};

use super::*;

/// Rows of one multi-row INSERT.
const INSERT_ROWS: usize = 1_000;

/// A libmysqlclient connection over TCP, with the statements prepared.
pub struct Driver {
    conn: *mut MYSQL,
    decode: Stmt,
    orders: Stmt,
    lines: Stmt,
    insert: Stmt,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("libmysql::Driver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        for stmt in [&self.decode, &self.orders, &self.lines, &self.insert] {
            // SAFETY: each statement of this connection is closed once, before it.
            unsafe { mysql_stmt_close(stmt.0) };
        }
        // SAFETY: the connection from mysql_init, closed once.
        unsafe { mysql_close(self.conn) }
    }
}

/// A prepared statement.
struct Stmt(*mut MYSQL_STMT);

impl Stmt {
    fn check(&self, rc: i32, what: &str) {
        if rc != 0 {
            // SAFETY: a live statement; its message is NUL-terminated.
            let msg = unsafe { CStr::from_ptr(mysql_stmt_error(self.0)).to_string_lossy() };
            panic!("libmysqlclient {what}: {msg}");
        }
    }

    /// Binds `params`, executes, and binds the result to `out`.
    fn execute(&self, params: &mut [MYSQL_BIND], out: Option<&mut [MYSQL_BIND]>) {
        // SAFETY: the binds point at buffers that outlive the execution and
        // the fetches that follow (the caller keeps them).
        unsafe {
            if !params.is_empty() {
                self.check(i32::from(mysql_stmt_bind_param(self.0, params.as_mut_ptr())), "bind");
            }
            self.check(mysql_stmt_execute(self.0), "execute");
            if let Some(out) = out {
                self.check(
                    i32::from(mysql_stmt_bind_result(self.0, out.as_mut_ptr())),
                    "bind result",
                );
            }
        }
    }

    /// Fetches the next row into the bound buffers; false after the last.
    fn fetch(&self) -> bool {
        // SAFETY: a statement executed with its result bound.
        match unsafe { mysql_stmt_fetch(self.0) } as u32 {
            0 => true,
            MYSQL_NO_DATA => {
                // SAFETY: as above; the result is done with.
                unsafe { mysql_stmt_free_result(self.0) };
                false
            }
            MYSQL_DATA_TRUNCATED => panic!("libmysqlclient: a value outgrew its buffer"),
            rc => {
                self.check(rc as i32, "fetch");
                unreachable!()
            }
        }
    }
}

fn bind(kind: enum_field_types, buffer: *mut c_void, len: usize) -> MYSQL_BIND {
    // SAFETY: MYSQL_BIND is a plain C struct whose all-zero value is its
    // documented initial state.
    let mut b: MYSQL_BIND = unsafe { std::mem::zeroed() };
    b.buffer_type = kind;
    b.buffer = buffer;
    b.buffer_length = len as c_ulong;
    b
}

fn int8(v: &i64) -> MYSQL_BIND {
    bind(enum_field_types::MYSQL_TYPE_LONGLONG, std::ptr::from_ref(v).cast_mut().cast(), 8)
}

fn int4(v: &i32) -> MYSQL_BIND {
    bind(enum_field_types::MYSQL_TYPE_LONG, std::ptr::from_ref(v).cast_mut().cast(), 4)
}

fn text(v: &str) -> MYSQL_BIND {
    bind(enum_field_types::MYSQL_TYPE_STRING, v.as_ptr().cast_mut().cast(), v.len())
}

fn null() -> MYSQL_BIND {
    bind(enum_field_types::MYSQL_TYPE_NULL, std::ptr::null_mut(), 0)
}

fn time_of(t: NaiveDateTime) -> MYSQL_TIME {
    // SAFETY: MYSQL_TIME is a plain C struct of numbers.
    let mut m: MYSQL_TIME = unsafe { std::mem::zeroed() };
    m.year = t.year() as u32;
    m.month = t.month();
    m.day = t.day();
    m.hour = t.hour();
    m.minute = t.minute();
    m.second = t.second();
    m.second_part = c_ulong::from(t.nanosecond() / 1_000);
    m.time_type = enum_mysql_timestamp_type::MYSQL_TIMESTAMP_DATETIME;
    m
}

fn time_from(m: &MYSQL_TIME) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(m.year as i32, m.month, m.day)
        .and_then(|d| d.and_hms_micro_opt(m.hour, m.minute, m.second, m.second_part as u32))
        .expect("a stored timestamp")
}

/// Buffers one result column is fetched into.
#[derive(Default)]
struct Cell {
    int: i64,
    small: i32,
    bytes: Vec<u8>,
    time: Option<Box<MYSQL_TIME>>,
    len: c_ulong,
    null: my_bool,
}

/// The buffers of a result's columns, boxed so that the binds' pointers stay put.
struct Out {
    cells: Vec<Cell>,
    binds: Vec<MYSQL_BIND>,
}

/// What a result column holds.
#[derive(Clone, Copy)]
enum Col {
    Int8,
    Int4,
    /// Text of at most this many bytes.
    Text(usize),
    Time,
}

impl Out {
    fn new(cols: &[Col]) -> Box<Self> {
        let mut out = Box::new(Self { cells: Vec::new(), binds: Vec::new() });
        out.cells = cols
            .iter()
            .map(|c| match c {
                Col::Text(n) => Cell { bytes: vec![0; *n], ..Cell::default() },
                // SAFETY: as in `time_of`.
                Col::Time => {
                    Cell { time: Some(Box::new(unsafe { std::mem::zeroed() })), ..Cell::default() }
                }
                _ => Cell::default(),
            })
            .collect();
        let binds = cols
            .iter()
            .zip(out.cells.iter_mut())
            .map(|(col, cell)| {
                let mut b = match col {
                    Col::Int8 => {
                        bind(enum_field_types::MYSQL_TYPE_LONGLONG, (&raw mut cell.int).cast(), 8)
                    }
                    Col::Int4 => {
                        bind(enum_field_types::MYSQL_TYPE_LONG, (&raw mut cell.small).cast(), 4)
                    }
                    Col::Text(n) => bind(
                        enum_field_types::MYSQL_TYPE_STRING,
                        cell.bytes.as_mut_ptr().cast(),
                        *n,
                    ),
                    Col::Time => bind(
                        enum_field_types::MYSQL_TYPE_DATETIME,
                        std::ptr::from_mut(cell.time.as_deref_mut().expect("a time buffer")).cast(),
                        std::mem::size_of::<MYSQL_TIME>(),
                    ),
                };
                b.length = &raw mut cell.len;
                b.is_null = &raw mut cell.null;
                b
            })
            .collect();
        out.binds = binds;
        out
    }

    fn is_null(&self, c: usize) -> bool {
        self.cells[c].null != 0
    }

    fn i64(&self, c: usize) -> i64 {
        self.cells[c].int
    }

    fn i32(&self, c: usize) -> i32 {
        self.cells[c].small
    }

    fn i32_opt(&self, c: usize) -> Option<i32> {
        (!self.is_null(c)).then(|| self.i32(c))
    }

    fn text(&self, c: usize) -> String {
        let cell = &self.cells[c];
        std::str::from_utf8(&cell.bytes[..cell.len as usize]).expect("UTF-8").to_owned()
    }

    fn text_opt(&self, c: usize) -> Option<String> {
        (!self.is_null(c)).then(|| self.text(c))
    }

    fn time(&self, c: usize) -> NaiveDateTime {
        time_from(self.cells[c].time.as_deref().expect("a time buffer"))
    }

    fn line(&self) -> OrderLine {
        line(
            self.i64(0),
            self.i64(1),
            self.i32(2),
            self.text(3),
            self.i32(4),
            self.i64(5),
            self.i32_opt(6),
            self.text_opt(7),
        )
    }
}

/// The columns of an order line, as the schema bounds them (4 bytes a character).
const LINE_COLS: [Col; 8] = [
    Col::Int8,
    Col::Int8,
    Col::Int4,
    Col::Text(256),
    Col::Int4,
    Col::Int8,
    Col::Int4,
    Col::Text(2000),
];

impl Driver {
    fn error(conn: *mut MYSQL) -> String {
        // SAFETY: a connection handle; its message is NUL-terminated.
        unsafe { CStr::from_ptr(mysql_error(conn)).to_string_lossy().into_owned() }
    }

    fn query(&mut self, sql: &str) {
        // SAFETY: a live connection and a statement of that length.
        let rc = unsafe { mysql_real_query(self.conn, sql.as_ptr().cast(), sql.len() as c_ulong) };
        assert_eq!(rc, 0, "libmysqlclient: {}", Self::error(self.conn));
    }

    fn prepare(conn: *mut MYSQL, sql: &str) -> Result<Stmt, String> {
        // SAFETY: a live connection; the statement handle is checked.
        let stmt = unsafe { mysql_stmt_init(conn) };
        if stmt.is_null() {
            return Err(Self::error(conn));
        }
        let stmt = Stmt(stmt);
        // SAFETY: a statement handle and SQL of that length.
        let rc = unsafe { mysql_stmt_prepare(stmt.0, sql.as_ptr().cast(), sql.len() as c_ulong) };
        if rc != 0 {
            // SAFETY: as in `Stmt::check`.
            let msg =
                unsafe { CStr::from_ptr(mysql_stmt_error(stmt.0)).to_string_lossy().into_owned() };
            // SAFETY: closed once, here.
            unsafe { mysql_stmt_close(stmt.0) };
            return Err(msg);
        }
        Ok(stmt)
    }

    /// Runs the decode statement, calling `each` on every line.
    fn each_line(&mut self, (after, limit): (i64, i64), mut each: impl FnMut(OrderLine)) {
        let mut out = Out::new(&LINE_COLS);
        self.decode.execute(&mut [int8(&after), int8(&limit)], Some(&mut out.binds));
        while self.decode.fetch() {
            each(out.line());
        }
    }

    fn insert_chunk(stmt: &Stmt, chunk: &[NewOrderLine]) {
        let mut binds = Vec::with_capacity(chunk.len() * 7);
        for r in chunk {
            binds.extend([
                int8(&r.order_id),
                int4(&r.line_no),
                text(&r.sku),
                int4(&r.quantity),
                int8(&r.unit_price_cents),
                r.discount_bp.as_ref().map_or_else(null, int4),
                r.note.as_deref().map_or_else(null, text),
            ]);
        }
        stmt.execute(&mut binds, None);
    }
}

fn insert_sql(rows: usize) -> String {
    let one = "(?, ?, ?, ?, ?, ?, ?)";
    format!("INSERT INTO {INSERT_COLUMNS} VALUES {}", vec![one; rows].join(", "))
}

impl Raw for Driver {
    const TIMES_CHECKOUT: bool = false;
    const NAME: &'static str = "libmysqlclient";

    fn connect(url: &str) -> Result<Self, String> {
        let server = Server::of(url)?;
        let c = |s: &str| CString::new(s).map_err(|e| e.to_string());
        let host = c(&server.host)?;
        let user = c(&server.user)?;
        let password = c(&server.password)?;
        let db = c(&server.database)?;
        // SAFETY: a new handle; every string is NUL-terminated and outlives the call.
        let conn = unsafe { mysql_init(std::ptr::null_mut()) };
        if conn.is_null() {
            return Err("libmysqlclient could not allocate a connection".into());
        }
        // SAFETY: as above.
        let ok = unsafe {
            mysql_real_connect(
                conn,
                host.as_ptr(),
                user.as_ptr(),
                password.as_ptr(),
                db.as_ptr(),
                u32::from(server.port.unwrap_or(3306)),
                std::ptr::null(),
                0,
            )
        };
        if ok.is_null() {
            let msg = Self::error(conn);
            // SAFETY: closed once, here.
            unsafe { mysql_close(conn) };
            return Err(msg);
        }
        let prepared = (|| {
            let decode = DECODE_SQL.replace("{after}", "?").replace("{limit}", "?");
            let windowed = |sql: &str| sql.replace("{from}", "?").replace("{until}", "?");
            Ok::<_, String>((
                Self::prepare(conn, &decode)?,
                Self::prepare(conn, &windowed(ORDERS_SQL))?,
                Self::prepare(conn, &windowed(LINES_SQL))?,
                Self::prepare(conn, &insert_sql(INSERT_ROWS))?,
            ))
        })();
        let (decode, orders, lines, insert) = match prepared {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: closed once, here.
                unsafe { mysql_close(conn) };
                return Err(e);
            }
        };
        let mut driver = Self { conn, decode, orders, lines, insert };
        driver.query("SET NAMES utf8mb4");
        driver.query("SET time_zone = '+00:00'");
        Ok(driver)
    }

    fn decode(&mut self, page: (i64, i64)) -> Vec<OrderLine> {
        let mut lines = Vec::with_capacity(usize::try_from(page.1).unwrap_or(0).min(1 << 20));
        self.each_line(page, |l| lines.push(l));
        lines
    }

    fn stream(&mut self, page: (i64, i64)) -> u64 {
        let mut sum = 0;
        self.each_line(page, |l| sum = crate::checksum(sum, &l));
        sum
    }

    fn insert(&mut self, rows: &[NewOrderLine]) {
        self.query("START TRANSACTION");
        let mut chunks = rows.chunks_exact(INSERT_ROWS);
        for chunk in &mut chunks {
            Self::insert_chunk(&self.insert, chunk);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let stmt = Self::prepare(self.conn, &insert_sql(rest.len())).expect("prepare");
            Self::insert_chunk(&stmt, rest);
            // SAFETY: closed once, here.
            unsafe { mysql_stmt_close(stmt.0) };
        }
        self.query("COMMIT");
    }

    fn orders_with_lines(
        &mut self,
        (from, until): (NaiveDateTime, NaiveDateTime),
    ) -> Vec<(Order, Vec<OrderLine>)> {
        let (mut from, mut until) = (time_of(from), time_of(until));
        let mut params = || {
            let size = std::mem::size_of::<MYSQL_TIME>();
            [
                bind(enum_field_types::MYSQL_TYPE_DATETIME, (&raw mut from).cast(), size),
                bind(enum_field_types::MYSQL_TYPE_DATETIME, (&raw mut until).cast(), size),
            ]
        };
        let cols = [
            Col::Int8,
            Col::Text(256),
            Col::Int8,
            Col::Text(64),
            Col::Text(12),
            Col::Int8,
            Col::Time,
            Col::Time,
            Col::Text(1020),
            Col::Int8,
        ];
        let mut out = Out::new(&cols);
        self.orders.execute(&mut params(), Some(&mut out.binds));
        let mut orders = Vec::new();
        while self.orders.fetch() {
            orders.push(order(
                out.i64(0),
                out.text(1),
                out.i64(2),
                &out.text(3),
                out.text(4),
                out.i64(5),
                out.time(6),
                out.time(7),
                out.text(8),
                out.i64(9),
            ));
        }
        let mut out = Out::new(&LINE_COLS);
        self.lines.execute(&mut params(), Some(&mut out.binds));
        let mut lines = Vec::new();
        while self.lines.fetch() {
            lines.push(out.line());
        }
        group(orders, lines)
    }

    fn count(&mut self, sql: &str) -> i64 {
        self.query(sql);
        // SAFETY: the query returned a result set; its one value is read
        // before the result is freed.
        unsafe {
            let res = mysql_store_result(self.conn);
            assert!(!res.is_null(), "libmysqlclient: {}", Self::error(self.conn));
            let row = mysql_fetch_row(res);
            let value = CStr::from_ptr(*row).to_str().expect("digits").parse().expect("an integer");
            mysql_free_result(res);
            value
        }
    }
}
