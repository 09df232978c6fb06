//! One body on whichever backend a URL names: `dispatch!` pastes it per
//! backend, so traits a crate implements with `for_each_backend!` work in it.

/// A trait of the test crate's own, implemented for exactly triglot's backends.
trait Shout {
    fn shout() -> String;
}

macro_rules! shout {
    ($key:ident, $dialect:ty) => {
        impl Shout for $dialect {
            fn shout() -> String {
                stringify!($key).to_uppercase()
            }
        }
    };
}

triglot::for_each_backend!(shout);

#[cfg(feature = "sqlite")]
#[test]
fn dispatch_runs_the_body_on_the_urls_backend_with_the_crates_own_traits() {
    let db = triglot::AnyDatabase::open("sqlite::memory:").unwrap();
    let said: String = triglot::dispatch!(db, |db| {
        assert_eq!(db.backend_name(), "SQLite");
        <D as Shout>::shout()
    });
    assert_eq!(said, "SQLITE");
    assert!(db.downcast::<triglot::sqlite::SqliteDialect>().is_some());
}

#[cfg(feature = "postgres")]
#[test]
fn dispatch_reaches_postgres() {
    let url = triglot::testing::server_url::<triglot::postgres::PostgresDialect>();
    let db = triglot::AnyDatabase::open(&url).unwrap();
    let said: String = triglot::dispatch!(db, |_db| <D as Shout>::shout());
    assert_eq!(said, "POSTGRES");
}
