//! `__each_backend!`: expands a macro once per compiled-in backend.
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

#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_sqlite {
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
    ($mac:ident $($args:tt)*) => { $crate::$mac!(postgres, $crate::postgres::PostgresDialect, $($args)*); };
}

#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __on_postgres {
    ($($args:tt)*) => {};
}
