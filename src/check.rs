//! The parity check of a project's migrations on every compiled-in backend:
//! each set applied to a scratch database, the live schemas compared with
//! each other and, when given, with the project's `table!`s.

use triglot_core::introspect::SchemaSnapshot;
use triglot_core::parity::{Difference, Side, compare};
use triglot_core::testing::TestDb;
use triglot_core::{Dialect, Error, Migrations, Result};

/// What [`check_parity`] found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ParityReport {
    /// The backends whose schemas were compared (`sqlite`, `mysql`, `postgres`).
    pub compared: Vec<&'static str>,
    /// Backends compiled in but not reachable, with why.
    pub skipped: Vec<(&'static str, String)>,
    /// Tables in the schema of the first backend compared.
    pub tables: usize,
    /// Every difference, one line each.
    pub differences: Vec<Difference>,
}

impl ParityReport {
    /// Whether every compared schema (and the model, if given) agrees.
    pub fn agrees(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Applies `migrations` to a scratch database on every compiled-in backend
/// whose server answers (the test harness's servers: `TRIGLOT_TEST_MYSQL_URL`,
/// `TRIGLOT_TEST_POSTGRES_URL` or their loopback defaults), drops it again,
/// and compares the schemas with each other and with `model` (from
/// [`schema_of!`](crate::schema_of)) when given.
///
/// # Errors
///
/// A migration that fails on a reachable backend ([`Error::Migration`]), or
/// a failure to read a schema. An unreachable server is not an error: the
/// backend is listed in [`ParityReport::skipped`].
///
/// # Example
///
/// ```no_run
/// # fn main() -> triglot::Result<()> {
/// let report = triglot::check_parity(&triglot::Migrations::from_dir("migrations"), None)?;
/// for difference in &report.differences {
///     println!("{difference}");
/// }
/// # Ok(()) }
/// ```
pub fn check_parity(
    migrations: &Migrations,
    model: Option<&SchemaSnapshot>,
) -> Result<ParityReport> {
    let mut report = ParityReport::default();
    let mut live: Vec<(&'static str, SchemaSnapshot, bool)> = Vec::new();
    macro_rules! one {
        ($key:ident, $dialect:ty) => {
            match live_schema::<$dialect>(migrations)? {
                Ok((schema, checks)) => {
                    report.compared.push(<$dialect as Dialect>::KEY);
                    live.push((<$dialect as Dialect>::KEY, schema, checks));
                }
                Err(why) => report.skipped.push((<$dialect as Dialect>::KEY, why)),
            }
        };
    }
    crate::for_each_backend!(one);
    let mut sides: Vec<Side<'_>> = Vec::new();
    if let Some(model) = model {
        sides.push(Side::model(model));
    }
    for (key, schema, checks) in &live {
        sides.push(Side { checks: *checks, ..Side::live(key, schema) });
    }
    report.tables = live.first().map_or(0, |(_, s, _)| s.tables.len());
    report.differences = compare(&sides);
    Ok(report)
}

/// `D`'s schema built from `migrations`, and whether its server keeps CHECK
/// constraints; `Ok(Err(why))` when the server cannot be reached.
fn live_schema<D: Dialect>(
    migrations: &Migrations,
) -> Result<std::result::Result<(SchemaSnapshot, bool), String>> {
    match TestDb::<D>::try_new("parity", migrations) {
        Ok(db) => Ok(Ok((db.introspect()?, db.capabilities().check_constraints))),
        Err(err @ (Error::Open { .. } | Error::PoolTimeout { .. })) => Ok(Err(err.to_string())),
        Err(err) => Err(err),
    }
}
