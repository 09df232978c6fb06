//! `backend_test!`: one test body, one `#[test]` per compiled-in backend.
//!
//! The body is pasted into one test function per backend with `D` bound to
//! that backend's dialect, so it is type-checked against each concrete diesel
//! connection (a user's own queries need no trait bounds) and a failure
//! names its backend: `loans_are_returned::postgres`.
//! The backends are chosen by `__each_backend!`, where triglot's features
//! are known.

/// Defines one test per compiled-in backend, each on a fresh database built
/// from the caller's migrations.
///
/// `backend_test!(name, |db| { … })` expands to `mod name { #[test] fn sqlite()
/// …; #[test] fn mysql() …; #[test] fn postgres() … }` for the backends whose
/// features are on. Inside the body, `D` is the backend's dialect type and
/// `db` is a [`&Database<D>`](crate::Database) of its own, created by
/// [`TestDb`](crate::testing::TestDb) and dropped afterwards (also when the
/// test panics). A body may end in a value of the declared return type.
///
/// Options, between the name and the body, in this order:
///
/// - `migrations = EXPR,`: the [`Migrations`](crate::Migrations) set the
///   database is built from. Without it the test uses an item named
///   `MIGRATIONS` in scope where the macro is called (declare it once for the
///   file or the crate: `static MIGRATIONS: triglot::Migrations =
///   triglot::migrations!();`).
/// - `fixtures("stock", …),`: SQL run before the body, from
///   `fixtures/<backend>/stock.sql` beside the file that calls the macro
///   (one file per backend, as for migrations), in the order given.
/// - `setup(path),`: a function `fn path<D: Dialect>(db: &Database<D>) ->
///   Result<(), E>` run after the fixtures, for data written in Rust.
///
/// `backend_test!(requires(transactional_ddl) name, …)` runs the body only
/// where that [`Capabilities`](crate::Capabilities) field is true for the
/// server met; elsewhere the test prints why it skipped and passes.
///
/// Server URLs come from `TRIGLOT_TEST_MYSQL_URL` and
/// `TRIGLOT_TEST_POSTGRES_URL`; an unreachable server fails the test with a
/// message saying how to start it.
///
/// # Example
///
/// ```ignore
/// static MIGRATIONS: triglot::Migrations = triglot::migrations!();
///
/// triglot::backend_test!(stock_starts_as_loaded, fixtures("stock"), |db| -> triglot::Result<()> {
///     let rows: i64 = db.run("counting stock", |conn| stock::table.count().get_result(conn))?;
///     assert_eq!(rows, 3, "on {}", db.backend_name());
///     Ok(())
/// });
/// ```
#[macro_export]
macro_rules! backend_test {
    (requires($cap:ident) $name:ident, $($rest:tt)*) => {
        $crate::__backend_test_opts!([$cap] $name [MIGRATIONS] [] [] $($rest)*);
    };
    ($name:ident, $($rest:tt)*) => {
        $crate::__backend_test_opts!([] $name [MIGRATIONS] [] [] $($rest)*);
    };
}

/// Reads `backend_test!`'s options into `[cap] name [migrations] [fixtures]
/// [setup]`, then expands the tests.
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_test_opts {
    ($cap:tt $name:ident [$old:expr] $fx:tt $setup:tt migrations = $m:expr, $($rest:tt)*) => {
        $crate::__backend_test_opts!($cap $name [$m] $fx $setup $($rest)*);
    };
    ($cap:tt $name:ident $m:tt [$($fx:literal)*] $setup:tt fixtures($($new:literal),* $(,)?), $($rest:tt)*) => {
        $crate::__backend_test_opts!($cap $name $m [$($fx)* $($new)*] $setup $($rest)*);
    };
    ($cap:tt $name:ident $m:tt $fx:tt [$($old:path)?] setup($setup:path), $($rest:tt)*) => {
        $crate::__backend_test_opts!($cap $name $m $fx [$setup] $($rest)*);
    };
    ($cap:tt $name:ident $m:tt $fx:tt $setup:tt |$db:ident| -> $ret:ty $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__each_backend!(__backend_test_one $cap $m $fx $setup |$db| -> $ret $body);
        }
    };
    ($cap:tt $name:ident $m:tt $fx:tt $setup:tt |$db:ident| $body:block) => {
        $crate::__backend_test_opts!($cap $name $m $fx $setup |$db| -> () $body);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __backend_test_one {
    (
        $backend:ident, $dialect:ty,
        [$($cap:ident)?] [$migrations:expr] [$($fx:literal)*] [$($setup:path)?]
        |$db:ident| -> $ret:ty $body:block
    ) => {
        #[test]
        fn $backend() -> $ret {
            #[allow(unused_imports)]
            use $crate::Dialect as _;
            #[allow(dead_code)]
            type D = $dialect;
            let guard = $crate::testing::TestDb::<D>::new(module_path!(), &$migrations);
            $(
                guard
                    .apply_sql(
                        concat!("running fixture ", $fx),
                        include_str!(concat!("fixtures/", stringify!($backend), "/", $fx, ".sql")),
                    )
                    .unwrap_or_else(|e| panic!("fixture {:?} on {}: {e}", $fx, <D as $crate::Dialect>::NAME));
            )*
            #[allow(unused_variables)]
            let $db: &$crate::Database<D> = &guard;
            $(
                // A generic function item, instantiated for `D` by the pointer type.
                let setup: fn(&$crate::Database<D>) -> _ = $setup;
                setup($db).unwrap_or_else(|e| {
                    panic!("setup {} on {}: {e}", stringify!($setup), <D as $crate::Dialect>::NAME)
                });
            )?
            $(
                if !$db.capabilities().$cap {
                    eprintln!(
                        "skipped on {} {}: `{}` is false",
                        <D as $crate::Dialect>::NAME,
                        $db.server_version(),
                        stringify!($cap)
                    );
                    return $crate::testing::Skip::skipped();
                }
            )?
            $body
        }
    };
}
