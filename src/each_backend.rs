//! `__each_backend!` and `for_each_backend!`: expand a macro once per
//! compiled-in backend.
//!
//! `backend_test!` and `backend_bench!` are exported, so a `#[cfg(feature =
//! …)]` written inside them would be read in the user's crate, against the
//! user's features. The features are read here instead, in triglot, where
//! they are triglot's: each `__on_<backend>!` is defined twice, once
//! expanding and once empty.

/// Calls `$crate::$mac!(<backend>, <dialect type>, args…)` for every
/// compiled-in backend, SQLite first.
#[doc(hidden)]
#[macro_export]
macro_rules! __each_backend {
    ($mac:ident $($args:tt)*) => {
        $crate::__on_sqlite!($mac $($args)*);
        $crate::__on_mysql!($mac $($args)*);
        $crate::__on_postgres!($mac $($args)*);
    };
}

/// Calls a macro of yours once per backend this build of triglot includes,
/// as `your_macro!(<key>, <dialect type>)`, SQLite first.
///
/// This is how a crate above triglot implements a trait of its own for
/// exactly the backends triglot was built with (its extension trait for
/// per-backend SQL, say), without Cargo features of its own that could
/// disagree with triglot's. The key is `sqlite`, `mysql` or `postgres`, so
/// the macro can match on it for a backend's own code.
///
/// # Example
///
/// ```
/// trait Greeting {
///     fn hello() -> String;
/// }
///
/// macro_rules! greeting {
///     ($key:ident, $dialect:ty) => {
///         impl Greeting for $dialect {
///             fn hello() -> String {
///                 format!("hello from {}", stringify!($key))
///             }
///         }
///     };
/// }
///
/// triglot::for_each_backend!(greeting);
/// # #[cfg(feature = "sqlite")]
/// assert_eq!(<triglot::sqlite::SqliteDialect as Greeting>::hello(), "hello from sqlite");
/// ```
#[macro_export]
macro_rules! for_each_backend {
    ($mac:ident) => {
        $crate::__on_sqlite!(@user $mac);
        $crate::__on_mysql!(@user $mac);
        $crate::__on_postgres!(@user $mac);
    };
}

#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_sqlite {
    (@user $mac:ident) => { $mac!(sqlite, $crate::sqlite::SqliteDialect); };
    ($mac:ident $($args:tt)*) => { $crate::$mac!(sqlite, $crate::sqlite::SqliteDialect, $($args)*); };
}

#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_sqlite {
    ($($args:tt)*) => {};
}

#[cfg(feature = "mysql")]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_mysql {
    (@user $mac:ident) => { $mac!(mysql, $crate::mysql::MysqlDialect); };
    ($mac:ident $($args:tt)*) => { $crate::$mac!(mysql, $crate::mysql::MysqlDialect, $($args)*); };
}

#[cfg(not(feature = "mysql"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_mysql {
    ($($args:tt)*) => {};
}

#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_postgres {
    (@user $mac:ident) => { $mac!(postgres, $crate::postgres::PostgresDialect); };
    ($mac:ident $($args:tt)*) => { $crate::$mac!(postgres, $crate::postgres::PostgresDialect, $($args)*); };
}

#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_postgres {
    ($($args:tt)*) => {};
}
