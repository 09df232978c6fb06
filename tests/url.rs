//! Choosing a backend by URL; a password never appears in an error, a log line or Debug output.

use triglot::AnyDatabase;
#[allow(unused_imports)]
use triglot::Error;

#[test]
fn sqlite_url_opens_sqlite() {
    #[cfg(feature = "sqlite")]
    {
        let db = AnyDatabase::open("sqlite::memory:").unwrap();
        assert_eq!(db.backend_name(), "SQLite");
    }
}

#[cfg(not(feature = "mysql"))]
#[test]
fn mysql_url_without_the_feature_names_the_feature() {
    let err = AnyDatabase::open("mysql://root:pw@127.0.0.1/test").unwrap_err();
    assert!(matches!(err, Error::BackendNotCompiled { feature: "mysql", .. }), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains(":pw@"), "the password is shown in the error");
    assert!(text.contains("--features mysql"), "{text}");
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_url_without_the_feature_names_the_feature() {
    for url in ["postgres://u:pw@h/db", "postgresql://u:pw@h/db"] {
        let err = AnyDatabase::open(url).unwrap_err();
        assert!(matches!(err, Error::BackendNotCompiled { feature: "postgres", .. }), "{err:?}");
    }
}

/// Opens `url` (a server that refuses the connection) and checks the secret is nowhere.
#[allow(dead_code)]
fn assert_secret_hidden(url: &str, secret: &str) {
    let err = AnyDatabase::open(url).unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert!(!shown.contains(secret), "the password is shown in the error");
    assert!(shown.contains("***"), "redacted URL expected: {shown}");
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_password_is_never_shown() {
    assert_secret_hidden(
        "postgres://postgres:s3cr3t-pw@127.0.0.1:1/test?connect_timeout=2",
        "s3cr3t-pw",
    );
    assert_secret_hidden(
        "postgres://127.0.0.1:1/test?password=s3cr3t-pw&connect_timeout=2",
        "s3cr3t-pw",
    );
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_password_is_never_shown() {
    assert_secret_hidden("mysql://root:s3cr3t-pw@127.0.0.1:1/test", "s3cr3t-pw");
    // A wrong password on the real server: the refusal must not echo it.
    let err = AnyDatabase::open("mysql://root:wrong-s3cr3t@127.0.0.1:3306/test").unwrap_err();
    assert!(
        !format!("{err}{err:?}").contains("wrong-s3cr3t"),
        "the password is shown in the error"
    );
}

#[test]
fn a_password_with_url_characters_is_never_shown_whatever_the_build() {
    // Typed unencoded: `/`, `?`, `@` and `#` inside the password.
    for url in [
        "postgres://app:pa/ss?w0rd-x@127.0.0.1:1/db",
        "mysql://app:pa/ss?w0rd-x@127.0.0.1:1/db",
        "mariadb://app:p@ss/w0rd-x#@127.0.0.1:1/db",
        "postgresql://app:w0rd-x@@127.0.0.1:1/db?connect_timeout=1",
    ] {
        let err = AnyDatabase::open(url).unwrap_err();
        let shown = format!("{err}\n{err:?}");
        assert!(!shown.contains("w0rd-x"), "the password is shown for {}", triglot::redact(url));
    }
}

/// `server_url::<D>()` with its scheme replaced by `scheme`.
#[cfg(any(feature = "mysql", feature = "postgres"))]
fn with_scheme<D: triglot::Dialect>(scheme: &str) -> String {
    let url = triglot::testing::server_url::<D>();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    format!("{scheme}://{rest}")
}

#[cfg(feature = "postgres")]
#[test]
fn postgresql_scheme_opens_postgres() {
    for scheme in ["postgres", "postgresql"] {
        let url = with_scheme::<triglot::postgres::PostgresDialect>(scheme);
        let db = AnyDatabase::open(&url).unwrap_or_else(|e| panic!("{scheme}: {e}"));
        assert_eq!(db.backend_name(), "PostgreSQL", "{scheme}");
    }
}

#[cfg(feature = "mysql")]
#[test]
fn mariadb_scheme_opens_mysql() {
    for scheme in ["mysql", "mariadb"] {
        let url = with_scheme::<triglot::mysql::MysqlDialect>(scheme);
        let db = AnyDatabase::open(&url).unwrap_or_else(|e| panic!("{scheme}: {e}"));
        assert_eq!(db.backend_name(), "MySQL", "{scheme}");
    }
}
