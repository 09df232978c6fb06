//! The harness's promises: a backend whose server is unreachable fails its
//! tests with a message that says how to start it (it never passes
//! silently); `requires(…)` runs a body only where the capability holds; the
//! README's example is the file CI runs.

#[allow(dead_code)]
fn panic_text<D: triglot::testing::TestBackend>(url: &str) -> String {
    let caught =
        std::panic::catch_unwind(|| triglot::testing::TestDb::<D>::new_on(url, "unreachable"));
    let payload = caught.expect_err("an unreachable server must fail the test");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[cfg(feature = "mysql")]
#[test]
fn unreachable_mysql_fails_with_how_to_start_it() {
    let text =
        panic_text::<triglot::mysql::MysqlDialect>("mysql://root:pw-not-shown@127.0.0.1:1/test");
    assert!(text.contains("MySQL test database unavailable"), "{text}");
    assert!(
        text.contains("TRIGLOT_TEST_MYSQL_URL") && text.contains("scripts/services.sh"),
        "{text}"
    );
    assert!(!text.contains("pw-not-shown"), "{text}");
}

#[cfg(feature = "postgres")]
#[test]
fn unreachable_postgres_fails_with_how_to_start_it() {
    let text = panic_text::<triglot::postgres::PostgresDialect>(
        "postgres://postgres:pw-not-shown@127.0.0.1:1/test",
    );
    assert!(text.contains("PostgreSQL test database unavailable"), "{text}");
    assert!(text.contains("TRIGLOT_TEST_POSTGRES_URL") && text.contains("pg_ctlcluster"), "{text}");
    assert!(!text.contains("pw-not-shown"), "{text}");
}

triglot::backend_test!(requires(insert_returning) a_required_capability_gates_the_body, |db| {
    // MySQL has no RETURNING through diesel: there the body must not run.
    assert!(db.capabilities().insert_returning, "body ran on {} without the capability", D::NAME);
    let id = db
        .write("inserting a run", |conn| {
            D::insert_run(conn, triglot::model::NewIngestRun::start("s", "c", crate::harness::at(2026, 1, 1, 0, 0, 0, 0)))
        })
        .unwrap();
    assert!(id > 0);
});

#[test]
fn readme_shows_the_user_example_that_ci_runs() {
    let readme = include_str!("../README.md");
    let example = include_str!("user_example.rs");
    assert!(readme.contains(example), "README.md must contain tests/user_example.rs verbatim");
}

#[test]
fn readme_shows_the_user_bench_that_ci_builds() {
    let readme = include_str!("../README.md");
    let example = include_str!("../benches/benches/user_queries.rs");
    assert!(
        readme.contains(example),
        "README.md must contain benches/benches/user_queries.rs verbatim"
    );
}
