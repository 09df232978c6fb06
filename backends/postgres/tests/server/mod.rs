//! The PostgreSQL server the tests connect to.

use diesel::Connection as _;
use triglot_postgres::PgConnection;

/// `TRIGLOT_TEST_POSTGRES_URL`, else the local server's `test` database.
pub(crate) fn url() -> String {
    std::env::var("TRIGLOT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A connection to [`url`]; the test fails, naming the script that starts
/// the server, where there is none.
pub(crate) fn connect() -> PgConnection {
    PgConnection::establish(&url()).unwrap_or_else(|e| {
        panic!("PostgreSQL is needed (bash scripts/services.sh starts it): {e}")
    })
}
