//! A backend whose server is unreachable fails its tests with a message that
//! says how to start it; it never passes silently.

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
