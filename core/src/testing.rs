//! Isolated, migrated databases for tests: one per test, dropped afterwards.
//!
//! Each backend implements [`TestBackend`]; [`TestDb::new`] asks it for a
//! fresh database, opens it, runs the migrations and hands it to the test.
//! Dropping the [`TestDb`] (also while a test panics) closes the pool and
//! removes the database.

use std::any::Any;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::database::Database;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::pool::PoolConfig;

/// A backend that can create and drop throw-away databases for tests.
pub trait TestBackend: Dialect {
    /// The Cargo feature of `triglot` that compiles this backend in.
    const FEATURE: &'static str;
    /// The environment variable holding the server URL tests use, if any.
    const TEST_URL_ENV: Option<&'static str>;
    /// The URL used when the variable is unset.
    const TEST_URL_DEFAULT: &'static str;
    /// One sentence telling how to start the server, for failure messages.
    const START_HINT: &'static str;

    /// Creates an empty database called `name` and returns how to reach it.
    ///
    /// # Errors
    ///
    /// The server is unreachable or refuses to create the database.
    fn create_isolated(server_url: &str, name: &str) -> Result<Isolated>;
}

/// A throw-away database: its URL, and a guard that removes it when dropped.
pub struct Isolated {
    /// The URL of the new database.
    pub url: String,
    /// Removes the database when dropped.
    pub guard: Box<dyn Any + Send>,
}

impl fmt::Debug for Isolated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Isolated").field("url", &crate::redact(&self.url)).finish()
    }
}

/// The server URL tests of `D` use: the environment variable, or the default.
pub fn server_url<D: TestBackend>() -> String {
    D::TEST_URL_ENV
        .and_then(|var| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| D::TEST_URL_DEFAULT.to_owned())
}

/// A unique, recognisable database name for `test`: `tg_<test>_<pid>_<n>`.
pub fn database_name(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let slug: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let slug = slug.trim_matches('_');
    let slug = &slug[slug.len().saturating_sub(32)..];
    format!(
        "tg_{}_{}_{}",
        slug.trim_start_matches('_'),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A migrated database of its own for one test; derefs to [`Database`].
pub struct TestDb<D: Dialect> {
    db: Option<Database<D>>,
    isolated: Option<Isolated>,
}

impl<D: TestBackend> TestDb<D> {
    /// Creates, opens and migrates a fresh database for the test `name`.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the database cannot be set up,
    /// with a message naming the backend, the redacted URL, the environment
    /// variable that overrides it and how to start the server. A test that
    /// cannot reach its database fails; it never passes silently.
    pub fn new(name: &str) -> Self {
        Self::new_on(&server_url::<D>(), name)
    }

    /// Like [`TestDb::new`], on the server at `server_url` instead of the configured one.
    ///
    /// # Panics
    ///
    /// As [`TestDb::new`].
    pub fn new_on(server_url: &str, name: &str) -> Self {
        match Self::try_new_on(server_url, name) {
            Ok(db) => db,
            Err(err) => panic!(
                "{} test database unavailable: {err}\n  server URL: {}{}\n  {}",
                D::NAME,
                crate::redact(server_url),
                D::TEST_URL_ENV.map(|v| format!(" (set {v} to change it)")).unwrap_or_default(),
                D::START_HINT
            ),
        }
    }

    /// Like [`TestDb::new`], returning the error instead of panicking.
    ///
    /// # Errors
    ///
    /// The server is unreachable, or creating, opening or migrating fails.
    pub fn try_new(name: &str) -> Result<Self> {
        Self::try_new_on(&server_url::<D>(), name)
    }

    /// Like [`TestDb::try_new`], on the server at `server_url`.
    ///
    /// # Errors
    ///
    /// As [`TestDb::try_new`].
    pub fn try_new_on(server_url: &str, name: &str) -> Result<Self> {
        let isolated = D::create_isolated(server_url, &database_name(name))?;
        let config = PoolConfig { max_size: 4, min_idle: Some(0), ..PoolConfig::default() };
        let db = Database::<D>::open_with(&isolated.url, config)?;
        db.migrate()?;
        Ok(Self { db: Some(db), isolated: Some(isolated) })
    }
}

impl<D: Dialect> TestDb<D> {
    /// The URL of this test's database (it may hold a password: do not print it).
    pub fn url(&self) -> &str {
        self.isolated.as_ref().map_or("", |i| i.url.as_str())
    }
}

impl<D: Dialect> Deref for TestDb<D> {
    type Target = Database<D>;

    fn deref(&self) -> &Database<D> {
        self.db.as_ref().expect("database is open until drop")
    }
}

impl<D: Dialect> Drop for TestDb<D> {
    fn drop(&mut self) {
        // Close every pooled connection before the database is dropped.
        self.db.take();
        self.isolated.take();
    }
}

impl<D: Dialect> fmt::Debug for TestDb<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb").field("db", &self.db).finish()
    }
}
