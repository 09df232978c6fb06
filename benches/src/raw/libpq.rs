//! libpq itself, through `pq-sys` (the library diesel's PostgreSQL
//! connection wraps): prepared statements with binary parameters and
//! results, and `COPY … (FORMAT binary)` for the insert.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use pq_sys::{
    ExecStatusType, PGconn, PGresult, PQclear, PQconnectdbParams, PQerrorMessage, PQexec,
    PQexecPrepared, PQfinish, PQgetResult, PQgetisnull, PQgetlength, PQgetvalue, PQntuples,
    PQprepare, PQputCopyData, PQputCopyEnd, PQresultErrorMessage, PQresultStatus, PQstatus,
};

use super::*;

/// A libpq connection over plain TCP, with the statements prepared.
pub struct Driver {
    conn: *mut PGconn,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("libpq::Driver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: `conn` came from PQconnectdb and is finished once, here.
        unsafe { PQfinish(self.conn) }
    }
}

/// A result, cleared when dropped.
struct Res(*mut PGresult);

impl Drop for Res {
    fn drop(&mut self) {
        // SAFETY: a result from libpq (or null, which PQclear accepts), cleared once.
        unsafe { PQclear(self.0) }
    }
}

impl Res {
    fn rows(&self) -> c_int {
        // SAFETY: a live result.
        unsafe { PQntuples(self.0) }
    }

    /// The bytes of column `c` of row `r`; `None` for NULL.
    fn cell(&self, r: c_int, c: c_int) -> Option<&[u8]> {
        // SAFETY: `r` and `c` are within the result, which outlives the
        // slice; libpq keeps each value contiguous with its length.
        unsafe {
            if PQgetisnull(self.0, r, c) == 1 {
                return None;
            }
            let len = PQgetlength(self.0, r, c) as usize;
            Some(std::slice::from_raw_parts(PQgetvalue(self.0, r, c).cast::<u8>(), len))
        }
    }

    fn i64(&self, r: c_int, c: c_int) -> i64 {
        i64::from_be_bytes(self.cell(r, c).expect("not null").try_into().expect("int8"))
    }

    fn i32(&self, r: c_int, c: c_int) -> i32 {
        self.i32_opt(r, c).expect("not null")
    }

    fn i32_opt(&self, r: c_int, c: c_int) -> Option<i32> {
        self.cell(r, c).map(|b| i32::from_be_bytes(b.try_into().expect("int4")))
    }

    fn text(&self, r: c_int, c: c_int) -> String {
        self.text_opt(r, c).expect("not null")
    }

    fn text_opt(&self, r: c_int, c: c_int) -> Option<String> {
        self.cell(r, c).map(|b| std::str::from_utf8(b).expect("UTF-8").to_owned())
    }

    fn timestamp(&self, r: c_int, c: c_int) -> NaiveDateTime {
        // Microseconds since 2000-01-01 00:00:00.
        pg_epoch() + TimeDelta::microseconds(self.i64(r, c))
    }

    fn line(&self, r: c_int) -> OrderLine {
        line(
            self.i64(r, 0),
            self.i64(r, 1),
            self.i32(r, 2),
            self.text(r, 3),
            self.i32(r, 4),
            self.i64(r, 5),
            self.i32_opt(r, 6),
            self.text_opt(r, 7),
        )
    }
}

fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("a date")
}

fn cstring(text: &str) -> CString {
    CString::new(text).expect("no NUL")
}

impl Driver {
    fn error(&self) -> String {
        // SAFETY: a live connection; the message is a NUL-terminated string it owns.
        unsafe { CStr::from_ptr(PQerrorMessage(self.conn)).to_string_lossy().into_owned() }
    }

    /// Checks that `res` has `want`, or panics with the server's message.
    fn expect(&self, res: Res, want: ExecStatusType, what: &str) -> Res {
        // SAFETY: a result of this connection (or null, for which libpq
        // reports a fatal error).
        let status = unsafe { PQresultStatus(res.0) };
        if status != want {
            // SAFETY: as above.
            let msg = unsafe { CStr::from_ptr(PQresultErrorMessage(res.0)).to_string_lossy() };
            panic!("libpq {what}: {msg}{}", self.error());
        }
        res
    }

    fn exec(&mut self, sql: &str, want: ExecStatusType) -> Res {
        let sql = cstring(sql);
        // SAFETY: a live connection and a NUL-terminated statement.
        let res = Res(unsafe { PQexec(self.conn, sql.as_ptr()) });
        self.expect(res, want, "statement")
    }

    fn prepare(&mut self, name: &str, sql: &str) {
        let (name, sql) = (cstring(name), cstring(sql));
        // SAFETY: as in `exec`; parameter types are left to the server.
        let res =
            Res(unsafe { PQprepare(self.conn, name.as_ptr(), sql.as_ptr(), 0, std::ptr::null()) });
        self.expect(res, ExecStatusType::PGRES_COMMAND_OK, "prepare");
    }

    /// Runs prepared statement `name` with binary parameters; results in binary.
    fn run(&mut self, name: &CStr, params: &[&[u8]]) -> Res {
        let values: Vec<*const c_char> = params.iter().map(|p| p.as_ptr().cast()).collect();
        let lengths: Vec<c_int> = params.iter().map(|p| p.len() as c_int).collect();
        let formats = vec![1; params.len()];
        // SAFETY: the arrays are as long as `params` and outlive the call.
        let res = Res(unsafe {
            PQexecPrepared(
                self.conn,
                name.as_ptr(),
                params.len() as c_int,
                values.as_ptr(),
                lengths.as_ptr(),
                formats.as_ptr(),
                1,
            )
        });
        self.expect(res, ExecStatusType::PGRES_TUPLES_OK, "query")
    }

    fn page(&mut self, (after, limit): (i64, i64)) -> Res {
        self.run(c"decode", &[&after.to_be_bytes(), &limit.to_be_bytes()])
    }

    fn window(&mut self, name: &CStr, (from, until): (NaiveDateTime, NaiveDateTime)) -> Res {
        let micros = |t: NaiveDateTime| (t - pg_epoch()).num_microseconds().expect("in range");
        self.run(name, &[&micros(from).to_be_bytes(), &micros(until).to_be_bytes()])
    }
}

/// One row of a binary COPY: the field count, then each field's length
/// (-1 for NULL) and bytes.
fn copy_row(buf: &mut Vec<u8>, r: &NewOrderLine) {
    buf.extend_from_slice(&7i16.to_be_bytes());
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(b) => {
            buf.extend_from_slice(&(b.len() as i32).to_be_bytes());
            buf.extend_from_slice(b);
        }
        None => buf.extend_from_slice(&(-1i32).to_be_bytes()),
    };
    field(Some(&r.order_id.to_be_bytes()));
    field(Some(&r.line_no.to_be_bytes()));
    field(Some(r.sku.as_bytes()));
    field(Some(&r.quantity.to_be_bytes()));
    field(Some(&r.unit_price_cents.to_be_bytes()));
    field(r.discount_bp.map(i32::to_be_bytes).as_ref().map(|b| &b[..]));
    field(r.note.as_deref().map(str::as_bytes));
}

impl Raw for Driver {
    const TIMES_CHECKOUT: bool = false;
    const NAME: &'static str = "libpq";

    fn connect(url: &str) -> Result<Self, String> {
        let server = Server::of(url)?;
        let port = server.port.unwrap_or(5432).to_string();
        // Keywords and values apart, so that no string holds the password
        // beside the rest; plain TCP, as on triglot's side.
        let pairs = [
            ("host", server.host.as_str()),
            ("port", port.as_str()),
            ("user", server.user.as_str()),
            ("password", server.password.as_str()),
            ("dbname", server.database.as_str()),
            ("sslmode", "disable"),
        ];
        let owned: Vec<(CString, CString)> = pairs
            .iter()
            .map(|(k, v)| Ok((cstring(k), CString::new(*v).map_err(|e| e.to_string())?)))
            .collect::<Result<_, String>>()?;
        let mut keys: Vec<*const c_char> = owned.iter().map(|(k, _)| k.as_ptr()).collect();
        let mut values: Vec<*const c_char> = owned.iter().map(|(_, v)| v.as_ptr()).collect();
        keys.push(std::ptr::null());
        values.push(std::ptr::null());
        // SAFETY: two null-terminated arrays of NUL-terminated strings that
        // outlive the call; 0: `dbname` is a name, not a connection string.
        let conn = unsafe { PQconnectdbParams(keys.as_ptr(), values.as_ptr(), 0) };
        if conn.is_null() {
            return Err("libpq could not allocate a connection".into());
        }
        let mut driver = Self { conn };
        // SAFETY: a connection object, perhaps failed.
        if unsafe { PQstatus(conn) } != pq_sys::ConnStatusType::CONNECTION_OK {
            return Err(driver.error());
        }
        driver.exec("SET TimeZone = 'UTC'", ExecStatusType::PGRES_COMMAND_OK);
        let decode = DECODE_SQL.replace("{after}", "$1").replace("{limit}", "$2");
        driver.prepare("decode", &decode);
        let windowed =
            |sql: &str| sql.replace("{from}", "$1::timestamp").replace("{until}", "$2::timestamp");
        driver.prepare("orders", &windowed(ORDERS_SQL));
        driver.prepare("lines", &windowed(LINES_SQL));
        Ok(driver)
    }

    fn decode(&mut self, page: (i64, i64)) -> Vec<OrderLine> {
        let res = self.page(page);
        (0..res.rows()).map(|r| res.line(r)).collect()
    }

    fn stream(&mut self, page: (i64, i64)) -> u64 {
        let res = self.page(page);
        (0..res.rows()).fold(0, |sum, r| crate::checksum(sum, &res.line(r)))
    }

    fn insert(&mut self, rows: &[NewOrderLine]) {
        self.exec("BEGIN", ExecStatusType::PGRES_COMMAND_OK);
        let copy = format!("COPY {INSERT_COLUMNS} FROM STDIN (FORMAT binary)");
        self.exec(&copy, ExecStatusType::PGRES_COPY_IN);
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        let send = |buf: &mut Vec<u8>| {
            // SAFETY: a connection in COPY IN state and a buffer of that length.
            let sent = unsafe { PQputCopyData(self.conn, buf.as_ptr().cast(), buf.len() as c_int) };
            assert_eq!(sent, 1, "libpq COPY data");
            buf.clear();
        };
        for r in rows {
            copy_row(&mut buf, r);
            if buf.len() >= 1 << 16 {
                send(&mut buf);
            }
        }
        buf.extend_from_slice(&(-1i16).to_be_bytes());
        send(&mut buf);
        // SAFETY: as above; a null message ends the COPY successfully.
        assert_eq!(unsafe { PQputCopyEnd(self.conn, std::ptr::null()) }, 1, "libpq COPY end");
        loop {
            // SAFETY: a live connection; results are read until none is left.
            let res = Res(unsafe { PQgetResult(self.conn) });
            if res.0.is_null() {
                break;
            }
            self.expect(res, ExecStatusType::PGRES_COMMAND_OK, "COPY");
        }
        self.exec("COMMIT", ExecStatusType::PGRES_COMMAND_OK);
    }

    fn orders_with_lines(
        &mut self,
        window: (NaiveDateTime, NaiveDateTime),
    ) -> Vec<(Order, Vec<OrderLine>)> {
        let res = self.window(c"orders", window);
        let orders = (0..res.rows())
            .map(|r| {
                order(
                    res.i64(r, 0),
                    res.text(r, 1),
                    res.i64(r, 2),
                    &res.text(r, 3),
                    res.text(r, 4),
                    res.i64(r, 5),
                    res.timestamp(r, 6),
                    res.timestamp(r, 7),
                    res.text(r, 8),
                    res.i64(r, 9),
                )
            })
            .collect();
        let res = self.window(c"lines", window);
        let lines = (0..res.rows()).map(|r| res.line(r)).collect();
        group(orders, lines)
    }

    fn count(&mut self, sql: &str) -> i64 {
        let res = self.exec(sql, ExecStatusType::PGRES_TUPLES_OK);
        let text = res.cell(0, 0).expect("one value");
        std::str::from_utf8(text).expect("digits").parse().expect("an integer")
    }
}
