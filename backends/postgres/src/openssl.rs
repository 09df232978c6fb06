//! OpenSSL's exit-time cleanup, turned off before the first connection.
//!
//! libpq speaks TLS through OpenSSL, which by default frees its global state
//! in an `atexit` handler. r2d2 opens connections on a thread of its own
//! (to keep `min_idle` connections ready), so a program that returns from
//! `main` while such a connection is in its TLS handshake had OpenSSL's
//! state freed under that thread: `triglot migrate --revert-all` on
//! PostgreSQL died with SIGSEGV at exit in 8 of 20 runs (core dump: one thread
//! in `OPENSSL_cleanup`, r2d2's in `RAND_priv_bytes_ex`). OpenSSL 1.1.1b+
//! skips that cleanup when first initialized with `OPENSSL_INIT_NO_ATEXIT`;
//! the process's memory goes back to the system at exit either way.
//!
//! libpq links libcrypto, so the function is found among the loaded
//! libraries at run time; where it is not (another TLS library), nothing
//! changes.
#![allow(unsafe_code)]

use std::sync::Once;

/// `OPENSSL_INIT_NO_ATEXIT` from OpenSSL's `crypto.h`.
const OPENSSL_INIT_NO_ATEXIT: u64 = 0x0008_0000;

/// Initializes OpenSSL without its exit handler, once, if it is loaded and
/// not yet initialized.
pub(crate) fn keep_through_exit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `dlsym` with RTLD_DEFAULT only looks a name up among the
        // loaded libraries. The symbol, when found, is OpenSSL's
        // `int OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings)`,
        // which accepts a null `settings` and may be called at any time.
        unsafe {
            let symbol = libc::dlsym(libc::RTLD_DEFAULT, c"OPENSSL_init_crypto".as_ptr());
            if symbol.is_null() {
                return;
            }
            let init: extern "C" fn(u64, *const libc::c_void) -> libc::c_int =
                std::mem::transmute(symbol);
            let ok = init(OPENSSL_INIT_NO_ATEXIT, std::ptr::null());
            tracing::debug!(ok, "OpenSSL initialized without its exit handler");
        }
    });
}
