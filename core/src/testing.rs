//! Isolated, migrated databases for tests: one per test, dropped afterwards,
//! and leftovers of killed runs removed by the next run.
//!
//! [`TestDb::new`] asks the dialect for a fresh database, opens it, applies
//! the caller's migrations (or copies an already migrated template, where the
//! backend has one: PostgreSQL, keyed by the set's content) and hands it to
//! the test. Dropping the [`TestDb`], also while a test panics, closes the
//! pool and drops the database. The parity check uses the same databases as
//! scratch space.
//!
//! Names are `tg_<test>_<host>_<pid>_<n>`: recognisable in a database list,
//! unique among parallel tests and processes, and tied to the process that
//! made them. The first [`TestDb`] of a process drops every `tg_` database of
//! this host whose process is gone, so a run killed half-way leaves nothing
//! behind once the next run starts.

use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;

use crate::database::Database;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::migrations::Migrations;
use crate::pool::PoolConfig;

/// The prefix of every database the harness creates.
pub const PREFIX: &str = "tg_";

/// `name` if it is a harness database name (`[a-z0-9_]`, not empty), so a
/// backend can put it into SQL unquoted-safe.
///
/// # Errors
///
/// [`crate::error::Error::InvalidUrl`] for anything else.
pub fn checked_name(name: &str) -> Result<&str> {
    if !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(name)
    } else {
        Err(crate::error::Error::InvalidUrl {
            url: name.to_owned(),
            reason: "not a test database name".into(),
        })
    }
}

/// The server URL tests of `D` use: the environment variable, or the default.
pub fn server_url<D: Dialect>() -> String {
    D::TEST_URL_ENV
        .and_then(|var| std::env::var(var).ok())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| D::TEST_URL_DEFAULT.to_owned())
}

/// A unique, recognisable database name for `test`: `tg_<test>_<host>_<pid>_<n>`.
///
/// # Example
///
/// ```
/// let name = triglot_core::testing::database_name("writer::upsert_is_idempotent");
/// assert!(name.starts_with("tg_writer__upsert_is_idempotent_"));
/// assert!(name.len() <= 63);
/// ```
pub fn database_name(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let slug: String = test
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let slug = slug.trim_matches('_');
    let slug = slug[slug.len().saturating_sub(32)..].trim_start_matches('_');
    format!(
        "{PREFIX}{slug}_{}_{}_{}",
        host_tag(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Eight hex digits naming this host, so a sweep never touches databases that
/// another machine (or container) sharing the server made.
fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let hash = host
        .trim()
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("{hash:08x}")
}

/// The host tag and process id inside a harness database name, if it is one.
fn owner(name: &str) -> Option<(&str, u32)> {
    let rest = name.strip_prefix(PREFIX)?;
    let mut parts = rest.rsplitn(4, '_');
    let _counter: u32 = parts.next()?.parse().ok()?;
    let pid: u32 = parts.next()?.parse().ok()?;
    let host = parts.next()?;
    parts.next()?;
    (host.len() == 8 && host.bytes().all(|b| b.is_ascii_hexdigit())).then_some((host, pid))
}

/// Whether process `pid` is running on this host. Where that cannot be
/// known, every process counts as running, so nothing is swept.
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::path::Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Drops the harness databases of this host whose process is gone; returns their names.
///
/// Runs once per process and backend from [`TestDb::new`]; call it directly
/// to clean up without creating a database.
///
/// # Errors
///
/// The server is unreachable, or a drop is refused.
pub fn sweep_stale<D: Dialect>(server_url: &str) -> Result<Vec<String>> {
    let me = std::process::id();
    let host = host_tag();
    let mut dropped = Vec::new();
    for name in D::list_databases(server_url, PREFIX)? {
        if let Some((owner_host, pid)) = owner(&name)
            && owner_host == host
            && pid != me
            && !alive(pid)
        {
            D::drop_database(server_url, &name)?;
            dropped.push(name);
        }
    }
    if !dropped.is_empty() {
        tracing::info!(
            backend = D::NAME,
            count = dropped.len(),
            "dropped databases left by killed test runs"
        );
    }
    Ok(dropped)
}

fn sweep_once<D: Dialect>(server_url: &str) -> Result<()> {
    static SWEPT: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let key = format!("{}:{server_url}", D::NAME);
    {
        let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
        if !swept.get_or_insert_with(HashSet::new).insert(key) {
            return Ok(());
        }
    }
    sweep_stale::<D>(server_url).map(drop)
}

/// What a skipped test returns: `()` or `Ok(())`.
pub trait Skip {
    /// The passing value of a test that did not run its body.
    fn skipped() -> Self;
}

impl Skip for () {
    fn skipped() -> Self {}
}

impl<E> Skip for std::result::Result<(), E> {
    fn skipped() -> Self {
        Ok(())
    }
}

/// A migrated database of its own for one test; derefs to [`Database`].
pub struct TestDb<D: Dialect> {
    db: Option<Database<D>>,
    server_url: String,
    name: String,
    url: String,
}

impl<D: Dialect> TestDb<D> {
    /// Creates, opens and migrates a fresh database for the test `name`.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or the database cannot be set up,
    /// with a message naming the backend, the redacted URL, the environment
    /// variable that overrides it and how to start the server. A test that
    /// cannot reach its database fails; it never passes silently.
    pub fn new(name: &str, migrations: &Migrations) -> Self {
        Self::new_on(&server_url::<D>(), name, migrations)
    }

    /// Like [`TestDb::new`], on the server at `server_url` instead of the configured one.
    ///
    /// # Panics
    ///
    /// As [`TestDb::new`].
    pub fn new_on(server_url: &str, name: &str, migrations: &Migrations) -> Self {
        match Self::try_new_on(server_url, name, migrations) {
            Ok(db) => db,
            Err(err) => panic!(
                "{} test database unavailable: {err}\n  server URL: {}{}\n  {}",
                D::NAME,
                crate::url::redact(server_url),
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
    pub fn try_new(name: &str, migrations: &Migrations) -> Result<Self> {
        Self::try_new_on(&server_url::<D>(), name, migrations)
    }

    /// Like [`TestDb::try_new`], on the server at `server_url`.
    ///
    /// # Errors
    ///
    /// As [`TestDb::try_new`].
    pub fn try_new_on(server_url: &str, name: &str, migrations: &Migrations) -> Result<Self> {
        sweep_once::<D>(server_url)?;
        let name = database_name(name);
        let (url, migrated) = match D::create_migrated(server_url, &name, migrations)? {
            Some(url) => (url, true),
            None => (D::create_database(server_url, &name)?, false),
        };
        // From here on, Drop removes the database whatever fails next.
        let mut test_db = Self { db: None, server_url: server_url.to_owned(), name, url };
        let config = PoolConfig { max_size: 4, min_idle: Some(0), ..PoolConfig::default() };
        let db = Database::<D>::open_with(&test_db.url, config)?;
        test_db.db = Some(db);
        if !migrated {
            test_db.migrate(migrations)?;
        }
        Ok(test_db)
    }

    /// Runs the SQL of a fixture (several statements) on this database.
    ///
    /// # Errors
    ///
    /// The classified failure of a statement.
    pub fn apply_sql(&self, context: &'static str, sql: &str) -> Result<()> {
        self.run(context, |conn| conn.batch_execute(sql))
    }

    /// The URL of this test's database (it may hold a password: do not print it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name on its server (`tg_…`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<D: Dialect> Deref for TestDb<D> {
    type Target = Database<D>;

    fn deref(&self) -> &Database<D> {
        self.db.as_ref().expect("a TestDb is open from construction until drop")
    }
}

impl<D: Dialect> Drop for TestDb<D> {
    fn drop(&mut self) {
        // Close every pooled connection before the database is dropped.
        self.db.take();
        if let Err(err) = D::drop_database(&self.server_url, &self.name) {
            eprintln!("could not drop test database {}: {err}", self.name);
        }
    }
}

impl<D: Dialect> fmt::Debug for TestDb<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).field("db", &self.db).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_host_and_process_and_parse_back() {
        let name = database_name("integration::writer::a_changed_box_replaces_its_items");
        let (host, pid) = owner(&name).expect("a harness name");
        assert_eq!((host, pid), (host_tag().as_str(), std::process::id()));
        assert!(name.len() <= 63, "{name}");
        assert_eq!(owner("tg_template_0123abcd"), None);
        assert_eq!(owner("items"), None);
    }

    #[test]
    fn this_process_is_alive() {
        assert!(alive(std::process::id()));
    }
}
