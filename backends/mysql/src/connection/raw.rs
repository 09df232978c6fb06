//! The libmysqlclient handle: connecting, plain queries, and errors.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::{CStr, CString, c_uint, c_ulong};
use std::ptr::{self, NonNull};
use std::sync::Once;

use diesel::ConnectionError;
use diesel::result::{DatabaseErrorKind, Error, QueryResult};
use mysqlclient_sys as ffi;
use percent_encoding::percent_decode_str;

/// `CLIENT_FOUND_ROWS`: an UPDATE counts the rows it matched, not only those
/// it changed (as diesel's connection asks for).
const CLIENT_FOUND_ROWS: c_ulong = 0x2;

/// Sets an option of a handle before it connects. (A macro: on libmariadb
/// the option enum's name is shadowed by a module of the same name.)
macro_rules! set_option {
    ($raw:expr, $option:ident, $value:expr) => {{
        // SAFETY: a handle before connecting; the value is of the option's
        // type and libmysqlclient copies it. Non-zero only for an unknown option.
        let rc = unsafe { ffi::mysql_options($raw.as_ptr(), ffi::mysql_option::$option, $value) };
        debug_assert_eq!(rc, 0, "libmysqlclient refused {}", stringify!($option));
    }};
}

/// One libmysqlclient connection.
pub(super) struct RawConnection(NonNull<ffi::MYSQL>);

/// What a `mysql://` URL asks for, as the C library takes it.
struct Options {
    host: Option<CString>,
    user: CString,
    password: Option<CString>,
    database: Option<CString>,
    port: u16,
    unix_socket: Option<CString>,
    ssl_mode: Option<ffi::mysql_ssl_mode>,
    ssl_ca: Option<CString>,
    ssl_cert: Option<CString>,
    ssl_key: Option<CString>,
}

fn bad_url(reason: &str) -> ConnectionError {
    ConnectionError::InvalidConnectionUrl(format!("invalid MySQL URL: {reason}"))
}

fn c_string(text: &str) -> Result<CString, ConnectionError> {
    CString::new(text).map_err(|_| bad_url("a part holds a NUL byte"))
}

/// A percent-encoded part of the URL, decoded.
fn decoded(text: &str) -> Result<CString, ConnectionError> {
    let text =
        percent_decode_str(text).decode_utf8().map_err(|_| bad_url("a part is not UTF-8"))?;
    c_string(&text)
}

impl Options {
    /// The URL's parts; the error never repeats the URL (it may hold a password).
    fn parse(database_url: &str) -> Result<Self, ConnectionError> {
        let url = url::Url::parse(database_url).map_err(|e| bad_url(&e.to_string()))?;
        if url.scheme() != "mysql" {
            return Err(bad_url("the scheme is not mysql"));
        }
        let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
        let option = |name: &str| query.get(name).map(|v| c_string(v)).transpose();
        let unix_socket = option("unix_socket")?;
        let ssl_mode = match query.get("ssl_mode").map(|v| v.to_lowercase()) {
            None => None,
            Some(mode) => Some(match mode.as_str() {
                "disabled" => ffi::mysql_ssl_mode::SSL_MODE_DISABLED,
                "preferred" => ffi::mysql_ssl_mode::SSL_MODE_PREFERRED,
                "required" => ffi::mysql_ssl_mode::SSL_MODE_REQUIRED,
                "verify_ca" => ffi::mysql_ssl_mode::SSL_MODE_VERIFY_CA,
                "verify_identity" => ffi::mysql_ssl_mode::SSL_MODE_VERIFY_IDENTITY,
                _ => return Err(bad_url("unknown ssl_mode")),
            }),
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => Some(c_string(&ip.to_string())?),
            Some(host) if host.to_string() == "localhost" && unix_socket.is_some() => None,
            Some(host) => Some(c_string(&host.to_string())?),
            None => None,
        };
        let database = match url.path_segments().map(|s| s.collect::<Vec<_>>()) {
            Some(segments) if segments.len() > 1 => return Err(bad_url("more than one path part")),
            Some(segments) => match segments.first() {
                Some(&"") | None => None,
                Some(name) => Some(decoded(name)?),
            },
            None => None,
        };
        Ok(Self {
            host,
            user: decoded(url.username())?,
            password: url.password().map(decoded).transpose()?,
            database,
            port: url.port().unwrap_or(0),
            unix_socket,
            ssl_mode,
            ssl_ca: option("ssl_ca")?,
            ssl_cert: option("ssl_cert")?,
            ssl_key: option("ssl_key")?,
        })
    }
}

/// `mysql_library_init` is not thread-safe; it runs once, before any handle.
fn init_library() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: called once, with no arguments, before any other call.
        let rc = unsafe { ffi::mysql_server_init(0, ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(rc, 0, "libmysqlclient failed to initialise");
    });
}

/// The kind diesel gives each MySQL error number (MariaDB's CHECK number too).
fn kind_of(errno: c_uint) -> DatabaseErrorKind {
    match errno {
        1062 | 1586 | 1859 => DatabaseErrorKind::UniqueViolation,
        1216 | 1217 | 1451 | 1452 | 1830 | 1834 => DatabaseErrorKind::ForeignKeyViolation,
        1792 => DatabaseErrorKind::ReadOnlyTransaction,
        1048 | 1364 => DatabaseErrorKind::NotNullViolation,
        3819 | 4025 => DatabaseErrorKind::CheckViolation,
        1213 => DatabaseErrorKind::SerializationFailure,
        // Server gone away, lost connection (during the query, at reading
        // the initial packet), and no connection.
        2006 | 2013 | 2055 => DatabaseErrorKind::ClosedConnection,
        _ => DatabaseErrorKind::Unknown,
    }
}

/// The error of a call that reported `errno` with `message`.
pub(super) fn error(errno: c_uint, message: *const std::ffi::c_char) -> Error {
    // SAFETY: libmysqlclient's messages are NUL-terminated and live until
    // the next call on the handle; the text is copied out here.
    let text = unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned();
    Error::DatabaseError(kind_of(errno), Box::new(text))
}

impl RawConnection {
    /// Connects as `database_url` says, with utf8mb4 and `CLIENT_FOUND_ROWS`.
    pub(super) fn connect(database_url: &str) -> Result<Self, ConnectionError> {
        let options = Options::parse(database_url)?;
        init_library();
        // SAFETY: a new handle; null only when out of memory.
        let handle = NonNull::new(unsafe { ffi::mysql_init(ptr::null_mut()) })
            .ok_or_else(|| ConnectionError::BadConnection("out of memory".into()))?;
        let raw = Self(handle);
        set_option!(raw, MYSQL_SET_CHARSET_NAME, c"utf8mb4".as_ptr().cast());
        match options.ssl_mode {
            Some(mode) if ffi::SUPPORTS_MYSQL_SSL_MODE => {
                let mode = mode as c_uint;
                set_option!(raw, MYSQL_OPT_SSL_MODE, (&raw const mode).cast());
            }
            // libmariadb has no such option: rather than connect without
            // the TLS a URL demands, say so.
            Some(
                ffi::mysql_ssl_mode::SSL_MODE_REQUIRED
                | ffi::mysql_ssl_mode::SSL_MODE_VERIFY_CA
                | ffi::mysql_ssl_mode::SSL_MODE_VERIFY_IDENTITY,
            ) => {
                return Err(ConnectionError::BadConnection(
                    "ssl_mode=required/verify_ca/verify_identity needs libmysqlclient; \
                     this build links libmariadb, which has no such option"
                        .into(),
                ));
            }
            _ => {}
        }
        if let Some(path) = &options.ssl_ca {
            set_option!(raw, MYSQL_OPT_SSL_CA, path.as_ptr().cast());
        }
        if let Some(path) = &options.ssl_cert {
            set_option!(raw, MYSQL_OPT_SSL_CERT, path.as_ptr().cast());
        }
        if let Some(path) = &options.ssl_key {
            set_option!(raw, MYSQL_OPT_SSL_KEY, path.as_ptr().cast());
        }
        let text = |s: &Option<CString>| s.as_deref().map_or(ptr::null(), CStr::as_ptr);
        // SAFETY: a fresh handle; every string outlives the call.
        let connected = unsafe {
            ffi::mysql_real_connect(
                raw.as_ptr(),
                text(&options.host),
                options.user.as_ptr(),
                text(&options.password),
                text(&options.database),
                c_uint::from(options.port),
                text(&options.unix_socket),
                CLIENT_FOUND_ROWS,
            )
        };
        if connected.is_null() {
            return Err(ConnectionError::BadConnection(raw.message()));
        }
        Ok(raw)
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::MYSQL {
        self.0.as_ptr()
    }

    fn message(&self) -> String {
        // SAFETY: a live handle; its message is NUL-terminated.
        unsafe { CStr::from_ptr(ffi::mysql_error(self.as_ptr())) }.to_string_lossy().into_owned()
    }

    /// The last call's error, if it failed.
    pub(super) fn check(&self) -> QueryResult<()> {
        // SAFETY: a live handle.
        let errno = unsafe { ffi::mysql_errno(self.as_ptr()) };
        if errno == 0 {
            return Ok(());
        }
        // SAFETY: as above.
        Err(error(errno, unsafe { ffi::mysql_error(self.as_ptr()) }))
    }

    /// Runs `sql`, which may hold several statements, and discards any rows.
    pub(super) fn batch_execute(&self, sql: &str) -> QueryResult<()> {
        // SAFETY: a live handle; the option takes effect for the next query.
        unsafe {
            ffi::mysql_set_server_option(
                self.as_ptr(),
                ffi::enum_mysql_set_option::MYSQL_OPTION_MULTI_STATEMENTS_ON,
            )
        };
        self.check()?;
        let result = self.query(sql);
        // SAFETY: as above.
        unsafe {
            ffi::mysql_set_server_option(
                self.as_ptr(),
                ffi::enum_mysql_set_option::MYSQL_OPTION_MULTI_STATEMENTS_OFF,
            )
        };
        result.and_then(|()| self.check())
    }

    fn query(&self, sql: &str) -> QueryResult<()> {
        // SAFETY: a live handle and text of that length.
        unsafe { ffi::mysql_real_query(self.as_ptr(), sql.as_ptr().cast(), sql.len() as c_ulong) };
        self.check()?;
        // Every statement's result is read and freed, so that the
        // connection is ready for the next; the first error stops.
        loop {
            // SAFETY: a live handle; a result (or null) is freed at once.
            unsafe {
                let result = ffi::mysql_store_result(self.as_ptr());
                if !result.is_null() {
                    ffi::mysql_free_result(result);
                }
            }
            self.check()?;
            // SAFETY: as above.
            if unsafe { ffi::mysql_more_results(self.as_ptr()) } == 0 {
                return Ok(());
            }
            // SAFETY: as above.
            unsafe { ffi::mysql_next_result(self.as_ptr()) };
            self.check()?;
        }
    }
}

impl Drop for RawConnection {
    fn drop(&mut self) {
        // SAFETY: the handle from mysql_init, closed once; every statement
        // of it was closed before (the connection drops its cache first).
        unsafe { ffi::mysql_close(self.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_are_decoded_and_errors_hold_no_password() {
        let o = Options::parse("mysql://app:p%40ss%2Fw@db.example:3307/shop?ssl_mode=disabled")
            .expect("a URL");
        assert_eq!(o.user.to_str().ok(), Some("app"));
        assert!(o.password.as_deref() == Some(c"p@ss/w"), "the password is decoded");
        assert_eq!(o.host.as_deref(), Some(c"db.example"));
        assert_eq!(o.database.as_deref(), Some(c"shop"));
        assert_eq!(o.port, 3307);
        assert!(o.ssl_mode.is_some());
        let Err(e) = Options::parse("mysql://app:secret-canary@h/a/b") else {
            panic!("two path parts are refused")
        };
        // Never printed: on a failure it would show what it must not.
        assert!(!e.to_string().contains("secret-canary"), "the URL's password is in the error");
        assert!(Options::parse("mysql://h/db?ssl_mode=maybe").is_err());
    }

    #[test]
    fn error_numbers_become_diesel_kinds() {
        assert!(matches!(kind_of(1062), DatabaseErrorKind::UniqueViolation));
        assert!(matches!(kind_of(4025), DatabaseErrorKind::CheckViolation));
        assert!(matches!(kind_of(1213), DatabaseErrorKind::SerializationFailure));
        assert!(matches!(kind_of(2013), DatabaseErrorKind::ClosedConnection));
        assert!(matches!(kind_of(1146), DatabaseErrorKind::Unknown));
    }
}
