//! SQLite's threading mode: multi-thread instead of serialized.
//!
//! The bundled library is built serialized: every connection carries a
//! mutex that each API call (every `sqlite3_column_*` of every row) takes
//! and releases. diesel's `SqliteConnection` is `Send` but not `Sync`, and
//! the pool hands a connection to one thread at a time, so that mutex never
//! protects anything; it cost about 10 % of row decoding (perf, 100,000
//! lines). rusqlite avoids it the same way, opening with `SQLITE_OPEN_NOMUTEX`.
//! diesel fixes its open flags, so triglot sets the process-wide default
//! once, before its first connection. Connections that other code opens
//! with `SQLITE_OPEN_FULLMUTEX` keep their mutex.
#![allow(unsafe_code)]

use std::sync::Once;

/// Makes new SQLite connections of this process multi-threaded (no
/// per-connection mutex), if SQLite has not been initialized yet.
///
/// Once SQLite is initialized (some other code opened a connection first)
/// the mode cannot change; connections then stay serialized, which is
/// slower but equally correct.
pub(crate) fn prefer_multithread() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` is documented to be callable before
        // `sqlite3_initialize` and to return SQLITE_MISUSE, changing
        // nothing, afterwards. SQLITE_CONFIG_MULTITHREAD takes no arguments.
        // Multi-thread mode is safe for diesel's connections, which are
        // never used by two threads at once.
        let rc =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
        if rc == libsqlite3_sys::SQLITE_OK {
            tracing::debug!("SQLite threading mode: multi-thread");
        } else {
            tracing::debug!(rc, "SQLite was already initialized; threading mode unchanged");
        }
    });
}
