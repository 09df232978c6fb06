//! Instrumentation: every statement counted, slow ones logged without their
//! bind values, failures, retries, lost connections and pool timeouts counted
//! on the `Database`; `run`/`write` traced as spans.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use triglot::{Database, PoolConfig, RetryPolicy};

use crate::library::{MIGRATIONS, authors};

/// Log lines written while `f` runs, at debug level.
fn logs_of(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    // tracing caches, for every thread, the interest of a log call as the
    // first thread to reach it saw it: another test's thread with no
    // subscriber made the slow-statement warning silent here once. With a
    // global subscriber that records nothing, every thread sees one.
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

triglot::backend_test!(slow_statements_are_logged_without_their_bind_values, |db| {
    let config = PoolConfig { slow_statement: Some(Duration::ZERO), ..PoolConfig::default() };
    let slow = Database::<D>::open_with(db.url().expose(), config).unwrap();
    let logs = logs_of(|| {
        slow.write("adding a secret author", |conn| {
            diesel::insert_into(authors::table)
                .values((authors::name.eq("bind-value-s3cret"), authors::country.eq("ZZ")))
                .execute(conn)
        })
        .unwrap();
    });
    assert!(logs.contains("slow statement"), "{logs}");
    assert!(logs.to_ascii_uppercase().contains("INSERT INTO"), "{logs}");
    assert!(!logs.contains("bind-value-s3cret"), "a bind value reached the log");
    // The call itself is a span with its context, outcome and duration.
    assert!(logs.contains("adding a secret author") && logs.contains("outcome=\"ok\""), "{logs}");
    let health = slow.health();
    assert!(health.statements >= 1 && health.slow_statements >= 1, "{health:?}");
    assert_eq!(health.failures, 0);
});

triglot::backend_test!(failures_and_pool_timeouts_are_counted, |db| {
    let config = PoolConfig {
        max_size: 1,
        min_idle: Some(1),
        checkout_timeout: Duration::from_millis(100),
        ..PoolConfig::default()
    };
    let small = Database::<D>::open_with(db.url().expose(), config).unwrap();
    let err = small
        .run("reading a missing table", |conn| {
            diesel::sql_query("SELECT * FROM no_such_table").execute(conn)
        })
        .unwrap_err();
    assert!(err.kind().is_some(), "{err}");
    let held = small.get().unwrap();
    assert!(matches!(small.get(), Err(triglot::Error::PoolTimeout { .. })));
    drop(held);
    let health = small.health();
    assert_eq!((health.failures, health.pool_timeouts), (1, 1), "{health:?}");
});

/// Runs a write that meets a row lock held by another connection, with
/// `NOWAIT` so it fails at once as retryable, until the other connection
/// commits; returns the attempts it took.
#[allow(dead_code)]
fn retried_past_a_lock<D: triglot::Dialect>(db: &Database<D>) -> u32 {
    use diesel::connection::SimpleConnection;
    db.write("adding an author", |conn| {
        conn.batch_execute("INSERT INTO authors (name) VALUES ('Woolf')")
    })
    .unwrap();
    let mut holder = db.get().unwrap();
    holder.batch_execute("BEGIN; SELECT * FROM authors FOR UPDATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        holder.batch_execute("COMMIT").unwrap();
    });
    let policy = RetryPolicy {
        max_attempts: 50,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        ..RetryPolicy::default()
    };
    let done = db
        .write_with_retry("renaming under a lock", &policy, |conn| {
            conn.batch_execute("SELECT * FROM authors FOR UPDATE NOWAIT")?;
            conn.batch_execute("UPDATE authors SET name = 'Virginia Woolf'")
        })
        .unwrap();
    release.join().unwrap();
    assert!(db.health().retries >= u64::from(done.attempts - 1));
    done.attempts
}

#[cfg(feature = "postgres")]
#[test]
fn a_lock_conflict_is_retried_with_backoff_until_it_commits_on_postgres() {
    let db = triglot::testing::TestDb::<triglot::postgres::PostgresDialect>::new(
        "health::retry",
        &MIGRATIONS,
    );
    assert!(retried_past_a_lock(&db) > 1);
}

#[cfg(feature = "mysql")]
#[test]
fn a_lock_conflict_is_retried_with_backoff_until_it_commits_on_mysql() {
    let db =
        triglot::testing::TestDb::<triglot::mysql::MysqlDialect>::new("health::retry", &MIGRATIONS);
    assert!(retried_past_a_lock(&db) > 1);
}
