//! libpq's connection and results: the calls the connection makes, each
//! result checked and its error classified as diesel's connection does.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::NonNull;

use diesel::result::{
    ConnectionError, ConnectionResult, DatabaseErrorInformation, DatabaseErrorKind, Error,
    QueryResult,
};
use pq_sys as ffi;

/// An open libpq connection, finished when dropped.
pub(super) struct RawConnection {
    conn: NonNull<ffi::PGconn>,
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: a connection from PQconnectdb, finished once, here.
        unsafe { ffi::PQfinish(self.conn.as_ptr()) }
    }
}

/// Notices (`RAISE NOTICE`, "table does not exist, skipping") are not
/// printed on standard error.
unsafe extern "C" fn no_notices(_: *mut std::ffi::c_void, _: *const c_char) {}

/// Where the server stands in a transaction, as libpq last saw it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum TransactionStatus {
    Idle,
    Active,
    InTransaction,
    InError,
    Unknown,
}

impl RawConnection {
    /// Connects to `url` (a `postgres://` URI or a libpq keyword string).
    pub(super) fn connect(url: &str) -> ConnectionResult<Self> {
        let url = CString::new(url)?;
        // SAFETY: a NUL-terminated string that outlives the call.
        let conn = unsafe { ffi::PQconnectdb(url.as_ptr()) };
        let Some(conn) = NonNull::new(conn) else {
            return Err(ConnectionError::BadConnection(
                "libpq could not allocate a connection".into(),
            ));
        };
        // Owned from here on, so that a failed connection is finished too.
        let raw = Self { conn };
        // SAFETY: a connection object, perhaps failed.
        if unsafe { ffi::PQstatus(conn.as_ptr()) } != ffi::ConnStatusType::CONNECTION_OK {
            return Err(ConnectionError::BadConnection(raw.last_error()));
        }
        // SAFETY: a live connection; the processor ignores its arguments.
        unsafe { ffi::PQsetNoticeProcessor(conn.as_ptr(), Some(no_notices), std::ptr::null_mut()) };
        Ok(raw)
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::PGconn {
        self.conn.as_ptr()
    }

    /// The connection's last error message.
    pub(super) fn last_error(&self) -> String {
        // SAFETY: a live connection; the message is NUL-terminated text it owns.
        let msg = unsafe { CStr::from_ptr(ffi::PQerrorMessage(self.as_ptr())) };
        msg.to_string_lossy().trim_end().to_owned()
    }

    /// Whether the connection to the server is lost.
    pub(super) fn is_bad(&self) -> bool {
        // SAFETY: a live connection object.
        unsafe { ffi::PQstatus(self.as_ptr()) == ffi::ConnStatusType::CONNECTION_BAD }
    }

    pub(super) fn transaction_status(&self) -> TransactionStatus {
        use ffi::PGTransactionStatusType as t;
        // SAFETY: a live connection object.
        match unsafe { ffi::PQtransactionStatus(self.as_ptr()) } {
            t::PQTRANS_IDLE => TransactionStatus::Idle,
            t::PQTRANS_ACTIVE => TransactionStatus::Active,
            t::PQTRANS_INTRANS => TransactionStatus::InTransaction,
            t::PQTRANS_INERROR => TransactionStatus::InError,
            t::PQTRANS_UNKNOWN => TransactionStatus::Unknown,
        }
    }

    /// Runs `sql` (one or more statements, no parameters).
    pub(super) fn exec(&self, sql: &str) -> QueryResult<PgResult> {
        let sql = CString::new(sql)?;
        // SAFETY: a live connection and a NUL-terminated statement.
        let res = unsafe { ffi::PQexec(self.as_ptr(), sql.as_ptr()) };
        self.checked(res)
    }

    /// Prepares `sql` as the statement `name`, its parameters of `types`.
    pub(super) fn prepare(&self, name: &CStr, sql: &CStr, types: &[ffi::Oid]) -> QueryResult<()> {
        let count = param_count(types.len())?;
        // SAFETY: NUL-terminated strings and `count` types, alive for the call.
        let res = unsafe {
            ffi::PQprepare(self.as_ptr(), name.as_ptr(), sql.as_ptr(), count, types.as_ptr())
        };
        self.checked(res).map(drop)
    }

    /// Runs the prepared statement `name` (or, without a name, `sql` as an
    /// unnamed statement) with binary parameters; results come in binary.
    pub(super) fn execute(
        &self,
        statement: Target<'_>,
        params: &[Option<Vec<u8>>],
    ) -> QueryResult<PgResult> {
        let count = param_count(params.len())?;
        let values: Vec<*const c_char> = params
            .iter()
            .map(|p| p.as_ref().map_or(std::ptr::null(), |b| b.as_ptr().cast()))
            .collect();
        let lengths = params
            .iter()
            .map(|p| p.as_ref().map_or(Ok(0), |b| c_int::try_from(b.len())))
            .collect::<Result<Vec<c_int>, _>>()
            .map_err(|e| Error::SerializationError(Box::new(e)))?;
        let formats: Vec<c_int> = vec![1; params.len()];
        // SAFETY: the arrays hold `count` entries and outlive the call; a
        // NULL value pointer is a NULL parameter.
        let res = unsafe {
            match statement {
                Target::Prepared(name) => ffi::PQexecPrepared(
                    self.as_ptr(),
                    name.as_ptr(),
                    count,
                    values.as_ptr(),
                    lengths.as_ptr(),
                    formats.as_ptr(),
                    1,
                ),
                Target::Unnamed { sql, types } => ffi::PQexecParams(
                    self.as_ptr(),
                    sql.as_ptr(),
                    count,
                    types.as_ptr(),
                    values.as_ptr(),
                    lengths.as_ptr(),
                    formats.as_ptr(),
                    1,
                ),
            }
        };
        self.checked(res)
    }

    /// Runs `sql`, a `COPY … FROM STDIN`, sending each write `write` makes
    /// as one CopyData message; returns the rows copied. If `write` fails,
    /// the COPY is ended with an error, so the server copies nothing.
    ///
    /// When the data cannot be sent, the connection's error is returned,
    /// whatever `write` made of its failed write: a lost connection stays
    /// a lost connection, which a caller may retry.
    pub(super) fn copy_in(
        &self,
        sql: &str,
        write: &mut dyn FnMut(&mut dyn std::io::Write) -> QueryResult<()>,
    ) -> QueryResult<usize> {
        self.exec(sql)?;
        let mut sink = CopyData { conn: self, failed: None };
        let written = write(&mut sink);
        if let Some(failure) = sink.failed {
            self.drain();
            return Err(failure);
        }
        let reason = written.as_ref().err().map(|_| c"the client stopped the COPY");
        // SAFETY: a connection in the COPY IN state; the reason is
        // NUL-terminated, or NULL for success.
        let rc = unsafe {
            ffi::PQputCopyEnd(self.as_ptr(), reason.map_or(std::ptr::null(), CStr::as_ptr))
        };
        if rc != 1 {
            let failure = self.send_failure();
            self.drain();
            return Err(failure);
        }
        // SAFETY: a live connection; the COPY's result follows its end.
        let res = unsafe { ffi::PQgetResult(self.as_ptr()) };
        let result = self.checked(res);
        self.drain();
        match (written, result) {
            (Ok(()), result) => result?.rows_affected(),
            (Err(_), Err(lost @ Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _))) => {
                Err(lost)
            }
            // The server's answer to a cancelled COPY is the writer's error.
            (Err(stopped), _) => Err(stopped),
        }
    }

    /// Reads and drops what results remain, so the next statement can run.
    fn drain(&self) {
        loop {
            // SAFETY: a live connection; each result is cleared once.
            let res = unsafe { ffi::PQgetResult(self.as_ptr()) };
            if res.is_null() {
                break;
            }
            // SAFETY: as above.
            unsafe { ffi::PQclear(res) };
        }
    }

    fn send_failure(&self) -> Error {
        let kind = if self.is_bad() {
            DatabaseErrorKind::ClosedConnection
        } else {
            DatabaseErrorKind::UnableToSendCommand
        };
        Error::DatabaseError(kind, Box::new(self.last_error()))
    }

    /// Takes ownership of `res` and returns it if it succeeded, else its
    /// error, classified by SQLSTATE.
    fn checked(&self, res: *mut ffi::PGresult) -> QueryResult<PgResult> {
        let Some(res) = NonNull::new(res) else {
            // libpq returns no result when it could not allocate one or
            // lost the connection.
            return Err(self.send_failure());
        };
        let res = PgResult(res);
        use ffi::ExecStatusType as s;
        match res.status() {
            s::PGRES_COMMAND_OK
            | s::PGRES_TUPLES_OK
            | s::PGRES_SINGLE_TUPLE
            | s::PGRES_COPY_IN
            | s::PGRES_COPY_OUT => Ok(res),
            s::PGRES_EMPTY_QUERY => Err(Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("Received an empty query".to_owned()),
            )),
            _ => {
                let kind = if self.is_bad() {
                    DatabaseErrorKind::ClosedConnection
                } else {
                    kind_of(res.field(ffi::PG_DIAG_SQLSTATE))
                };
                Err(Error::DatabaseError(kind, Box::new(res)))
            }
        }
    }
}

/// The sink of a COPY: each write is one CopyData message. A write that
/// libpq refuses keeps the connection's error for `copy_in`.
struct CopyData<'a> {
    conn: &'a RawConnection,
    failed: Option<Error>,
}

impl std::io::Write for CopyData<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let part = &buf[..buf.len().min(c_int::MAX as usize)];
        // SAFETY: a connection in the COPY IN state and a buffer of that
        // length; in blocking mode libpq does not answer 0 (would block).
        let rc = unsafe {
            ffi::PQputCopyData(self.conn.as_ptr(), part.as_ptr().cast(), part.len() as c_int)
        };
        if rc == 1 {
            return Ok(part.len());
        }
        let failure = self.conn.send_failure();
        let shown = std::io::Error::other(failure.to_string());
        self.failed.get_or_insert(failure);
        Err(shown)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`RawConnection::execute`] runs: a prepared statement by name, or
/// a statement with its parameters' types, planned for this execution only.
pub(super) enum Target<'a> {
    Prepared(&'a CStr),
    Unnamed { sql: &'a CStr, types: &'a [ffi::Oid] },
}

fn param_count(n: usize) -> QueryResult<c_int> {
    c_int::try_from(n).map_err(|e| Error::SerializationError(Box::new(e)))
}

/// diesel's kind for a SQLSTATE (the codes diesel's connection names).
fn kind_of(sqlstate: Option<&str>) -> DatabaseErrorKind {
    match sqlstate {
        Some("23505") => DatabaseErrorKind::UniqueViolation,
        Some("23503") => DatabaseErrorKind::ForeignKeyViolation,
        Some("40001") => DatabaseErrorKind::SerializationFailure,
        Some("25006") => DatabaseErrorKind::ReadOnlyTransaction,
        Some("23502") => DatabaseErrorKind::NotNullViolation,
        Some("23514") => DatabaseErrorKind::CheckViolation,
        Some("23001") => DatabaseErrorKind::RestrictViolation,
        Some("23P01") => DatabaseErrorKind::ExclusionViolation,
        Some("08000" | "08006" | "08001" | "08004") => DatabaseErrorKind::ClosedConnection,
        _ => DatabaseErrorKind::Unknown,
    }
}

/// A libpq result, cleared when dropped.
pub(super) struct PgResult(NonNull<ffi::PGresult>);

// SAFETY: a result is independent of its connection once returned, and
// libpq's accessors only read it.
unsafe impl Send for PgResult {}
// SAFETY: as above.
unsafe impl Sync for PgResult {}

impl Drop for PgResult {
    fn drop(&mut self) {
        // SAFETY: a result from libpq, cleared once, here.
        unsafe { ffi::PQclear(self.0.as_ptr()) }
    }
}

impl PgResult {
    pub(super) fn as_ptr(&self) -> *mut ffi::PGresult {
        self.0.as_ptr()
    }

    fn status(&self) -> ffi::ExecStatusType {
        // SAFETY: a live result.
        unsafe { ffi::PQresultStatus(self.as_ptr()) }
    }

    /// A field of the error report (`PG_DIAG_*`), if the server sent it.
    fn field(&self, code: u8) -> Option<&str> {
        // SAFETY: a live result; the field is NUL-terminated text it owns.
        let ptr = unsafe { ffi::PQresultErrorField(self.as_ptr(), c_int::from(code)) };
        if ptr.is_null() {
            return None;
        }
        // SAFETY: as above.
        unsafe { CStr::from_ptr(ptr) }.to_str().ok()
    }

    /// The rows the statement inserted, updated, deleted or copied.
    pub(super) fn rows_affected(&self) -> QueryResult<usize> {
        // SAFETY: a live result; the count is NUL-terminated text it owns.
        let text = unsafe { CStr::from_ptr(ffi::PQcmdTuples(self.as_ptr())) };
        match text.to_bytes() {
            b"" => Ok(0),
            digits => std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| Error::DeserializationError("a row count that is no number".into())),
        }
    }
}

impl DatabaseErrorInformation for PgResult {
    fn message(&self) -> &str {
        self.field(ffi::PG_DIAG_MESSAGE_PRIMARY).unwrap_or_else(|| {
            // SAFETY: a live result; the message is NUL-terminated text it owns.
            let msg = unsafe { CStr::from_ptr(ffi::PQresultErrorMessage(self.as_ptr())) };
            msg.to_str().unwrap_or("an error whose message is not UTF-8")
        })
    }

    fn details(&self) -> Option<&str> {
        self.field(ffi::PG_DIAG_MESSAGE_DETAIL)
    }

    fn hint(&self) -> Option<&str> {
        self.field(ffi::PG_DIAG_MESSAGE_HINT)
    }

    fn table_name(&self) -> Option<&str> {
        self.field(ffi::PG_DIAG_TABLE_NAME)
    }

    fn column_name(&self) -> Option<&str> {
        self.field(ffi::PG_DIAG_COLUMN_NAME)
    }

    fn constraint_name(&self) -> Option<&str> {
        self.field(ffi::PG_DIAG_CONSTRAINT_NAME)
    }

    fn statement_position(&self) -> Option<i32> {
        self.field(ffi::PG_DIAG_STATEMENT_POSITION)?.parse().ok()
    }
}
