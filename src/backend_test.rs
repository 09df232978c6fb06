//! `backend_test!`: one test body, one `#[test]` per compiled-in backend.
//!
//! The body is pasted into one test function per backend with `D` bound to
//! that backend's dialect, so it is type-checked against each concrete diesel
//! connection (a user's own queries need no trait bounds) and a failure
//! names its backend: `order_roundtrip::postgres`.
//! The backends are chosen by `__each_backend!`, where triglot's features
//! are known.

/// Defines one test per compiled-in backend, each on a fresh migrated database.
///
/// `backend_test!(name, |db| { … })` expands to `mod name { #[test] fn sqlite()
/// …; #[test] fn mysql() …; #[test] fn postgres() … }` for the backends whose
/// features are on. Inside the body, `D` is the backend's dialect type and
/// `db` is a [`&Database<D>`](crate::Database) of its own, created from
/// [`TestBackend`](crate::testing::TestBackend) and dropped afterwards (also
/// when the test panics). A body may end in a value of the declared return type.
///
/// Server URLs come from `TRIGLOT_TEST_MYSQL_URL` and
/// `TRIGLOT_TEST_POSTGRES_URL`; an unreachable server fails the test with a
/// message saying how to start it.
///
/// # Example
///
/// ```
/// use triglot::model::CustomerQueries;
///
/// triglot::backend_test!(starts_empty, |db| -> triglot::Result<()> {
///     assert_eq!(db.run("counting", |conn| conn.count_customers())?, 0);
///     Ok(())
/// });
/// # fn main() {}
/// ```
///
/// `backend_test!(requires(insert_returning) name, |db| { … })` runs the body
/// only where that [`Capabilities`](crate::Capabilities) field is true for the
/// server met; elsewhere the test prints why it skipped and passes.
#[macro_export]
macro_rules! backend_test {
    (requires($cap:ident) $name:ident, |$db:ident| -> $ret:ty $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__each_backend!(__backend_test_one [$cap] |$db| -> $ret $body);
        }
    };
    (requires($cap:ident) $name:ident, |$db:ident| $body:block) => {
        $crate::backend_test!(requires($cap) $name, |$db| -> () $body);
    };
    ($name:ident, |$db:ident| -> $ret:ty $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::__each_backend!(__backend_test_one [] |$db| -> $ret $body);
        }
    };
    ($name:ident, |$db:ident| $body:block) => {
        $crate::backend_test!($name, |$db| -> () $body);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __backend_test_one {
    ($backend:ident, $dialect:ty, [$($cap:ident)?] |$db:ident| -> $ret:ty $body:block) => {
        #[test]
        fn $backend() -> $ret {
            #[allow(unused_imports)]
            use $crate::Dialect as _;
            #[allow(dead_code)]
            type D = $dialect;
            let guard = $crate::testing::TestDb::<D>::new(module_path!());
            #[allow(unused_variables)]
            let $db: &$crate::Database<D> = &guard;
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
