//! Cross-backend criterion benches: one body, one benchmark per compiled-in
//! backend, each on a fresh migrated database of its own.
//!
//! [`backend_bench!`](crate::backend_bench) is the bench counterpart of
//! [`backend_test!`](crate::backend_test): the body is pasted once per
//! backend with `D` bound to its dialect, gets a `db: &Database<D>` from the
//! test harness ([`TestDb`](crate::testing::TestDb), same server URLs, same
//! clean-up, built from the caller's migrations), sets up what it needs untimed, and registers what it times
//! through a [`BackendBench`]. The benchmarks are named `<bench>/<backend>`
//! (`<bench>/<backend>/<label>` for labelled ones), so criterion's reports
//! and baselines compare each backend with itself over time.
//!
//! A backend whose server cannot be reached is skipped with one line on
//! standard error that says how to start it; the other backends still run.

use std::fmt;

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, BenchmarkId, Criterion};

use triglot_core::Dialect;

/// Registers one criterion benchmark per compiled-in backend.
///
/// `backend_bench!(c, "name", |db, b| { … })` runs the body once for each
/// backend whose feature is on. Inside it, `D` is the backend's dialect
/// type, `db` a [`&Database<D>`](crate::Database) on a fresh database built
/// from the `MIGRATIONS` set in scope (or `migrations = EXPR,` before the
/// body) and dropped when the body returns, and `b` a [`BackendBench`]
/// whose [`iter`](BackendBench::iter) times a routine as `name/<backend>`.
/// Everything before `b.iter` is setup and is not timed.
///
/// # Example
///
/// A `benches/items.rs` with `harness = false`, in a crate that depends on
/// `triglot` with the `bench` feature:
///
/// ```ignore
/// use criterion::{Criterion, criterion_group, criterion_main};
/// use diesel::prelude::*;
///
/// static MIGRATIONS: triglot::Migrations = triglot::migrations!();
///
/// fn count_items(c: &mut Criterion) {
///     triglot::backend_bench!(c, "count_items", |db, b| {
///         // Setup, untimed: seed the database here.
///         b.iter(|| db.run("counting items", |conn| items::table.count().get_result::<i64>(conn)).unwrap());
///     });
/// }
///
/// criterion_group!(benches, count_items);
/// criterion_main!(benches);
/// ```
#[macro_export]
macro_rules! backend_bench {
    ($c:expr, $name:expr, migrations = $migrations:expr, |$db:ident, $b:ident| $body:block) => {{
        let name: &str = $name;
        let migrations: &$crate::Migrations = &$migrations;
        let mut group = $crate::bench::BackendBench::group($c, name);
        $crate::__each_backend!(__backend_bench_one group, name, migrations, |$db, $b| $body);
        group.finish();
    }};
    ($c:expr, $name:expr, |$db:ident, $b:ident| $body:block) => {
        $crate::backend_bench!($c, $name, migrations = MIGRATIONS, |$db, $b| $body)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __backend_bench_one {
    ($backend:ident, $dialect:ty, $group:ident, $name:ident, $migrations:ident, |$db:ident, $b:ident| $body:block) => {{
        #[allow(unused_imports)]
        use $crate::Dialect as _;
        #[allow(dead_code)]
        type D = $dialect;
        match $crate::testing::TestDb::<D>::try_new(&format!("bench_{}", $name), $migrations) {
            Err(err) => $crate::bench::skip::<D>($name, &err),
            Ok(guard) => {
                #[allow(unused_variables)]
                let $db: &$crate::Database<D> = &guard;
                #[allow(unused_mut)]
                let mut $b = $crate::bench::BackendBench::new(&mut $group, stringify!($backend));
                $body
            }
        }
    }};
}

/// One backend's slot in a cross-backend bench: what the body of
/// [`backend_bench!`](crate::backend_bench) registers its timed routines with.
pub struct BackendBench<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    backend: &'static str,
}

impl<'g, 'c> BackendBench<'g, 'c> {
    /// Opens the criterion group `name` that every backend's benchmark joins.
    #[doc(hidden)]
    pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
        c.benchmark_group(name)
    }

    /// A slot for `backend` (`sqlite`, `mysql`, `postgres`) in `group`.
    #[doc(hidden)]
    pub fn new(group: &'g mut BenchmarkGroup<'c, WallTime>, backend: &'static str) -> Self {
        Self { group, backend }
    }

    /// The backend's id in benchmark names: `sqlite`, `mysql` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The criterion group, to change its settings (sample size, measurement
    /// time, throughput) for this backend's benchmarks.
    pub fn group_mut(&mut self) -> &mut BenchmarkGroup<'c, WallTime> {
        self.group
    }

    /// Times `routine` as `<bench>/<backend>`.
    pub fn iter<O, R: FnMut() -> O>(&mut self, mut routine: R) {
        self.group.bench_function(self.backend, |b| b.iter(&mut routine));
    }

    /// Hands criterion's [`Bencher`] to `f` as `<bench>/<backend>`, for the
    /// other timing loops (`iter_batched`, `iter_custom`).
    pub fn bench<F: FnMut(&mut Bencher<'_>)>(&mut self, f: F) {
        self.group.bench_function(self.backend, f);
    }

    /// Like [`BackendBench::bench`], named `<bench>/<backend>/<label>`: for
    /// several variants on one backend, such as triglot beside a raw driver.
    pub fn bench_labelled<F: FnMut(&mut Bencher<'_>)>(&mut self, label: &str, f: F) {
        self.group.bench_function(BenchmarkId::new(self.backend, label), f);
    }
}

impl fmt::Debug for BackendBench<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendBench").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// Says on one line that `bench` does not run on `D`, and why.
#[doc(hidden)]
pub fn skip<D: Dialect>(bench: &str, err: &triglot_core::Error) {
    eprintln!("skipping {bench} on {}: {err} ({})", D::NAME, D::START_HINT);
}
