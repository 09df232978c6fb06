//! `AnyDatabase`: the one place that names every backend, and picks one by URL.
//!
//! Code that must run on whichever backend a URL names is written once and
//! dispatched once, at the top, to the concrete backend: either generic over
//! `D: Dialect` as a [`WithDatabase`] body for [`AnyDatabase::with`], or as
//! a body that [`dispatch!`](crate::dispatch) pastes once per backend (so it
//! may use traits of the caller's own that each backend implements).
//! Everything below that point is monomorphic diesel code, so nothing is lost
//! to the common subset that `#[derive(MultiConnection)]` would impose (it
//! has no upsert, and RETURNING only where every backend has it).

use triglot_core::{
    Database, DatabaseUrl, Dialect, Error, PoolConfig, ReadPolicy, Result, Topology,
};

/// Every backend triglot knows, compiled in or not: its Cargo feature and URL schemes.
///
/// Used to tell a user which feature a URL needs.
pub const BACKENDS: [(&str, &[&str]); 3] = [
    ("sqlite", &["sqlite"]),
    ("mysql", &["mysql", "mariadb"]),
    ("postgres", &["postgres", "postgresql"]),
];

/// A database of whichever compiled-in backend its URL named.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyDatabase {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(Database<triglot_sqlite::SqliteDialect>),
    /// MySQL or MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(Database<triglot_mysql::MysqlDialect>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(Database<triglot_postgres::PostgresDialect>),
}

/// A body written once for every backend, run by [`AnyDatabase::with`].
///
/// Rust closures cannot be generic, so the body is a type with a generic method.
pub trait WithDatabase {
    /// What the body returns.
    type Output;

    /// Runs the body on `db`.
    fn run<D: Dialect>(self, db: &Database<D>) -> Self::Output;
}

impl AnyDatabase {
    /// Opens `url` with the default pool configuration; see [`AnyDatabase::open_with`].
    ///
    /// # Errors
    ///
    /// See [`AnyDatabase::open_with`].
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, PoolConfig::default())
    }

    /// Opens `url` on the backend its scheme names.
    ///
    /// # Errors
    ///
    /// - [`Error::BackendNotCompiled`] when the scheme belongs to a backend
    ///   whose feature is off, naming the feature;
    /// - [`Error::InvalidUrl`] for an unknown scheme;
    /// - whatever [`Database::open_with`] returns.
    pub fn open_with(url: &str, config: PoolConfig) -> Result<Self> {
        Self::open_cluster(&Topology::primary(url), config, ReadPolicy::default())
    }

    /// Opens the servers of `topology` on the backend the first writer's
    /// scheme names; see [`Database::open_cluster`].
    ///
    /// # Errors
    ///
    /// As [`AnyDatabase::open_with`], and [`Database::open_cluster`]'s.
    pub fn open_cluster(
        topology: &Topology,
        config: PoolConfig,
        policy: ReadPolicy,
    ) -> Result<Self> {
        let url = topology.writers.first().map_or("", String::as_str);
        let parsed = DatabaseUrl::parse(url)?;
        let scheme = parsed.scheme();
        #[cfg(feature = "sqlite")]
        if is_for::<triglot_sqlite::SqliteDialect>(&scheme) {
            return Database::open_cluster(topology, config, policy).map(AnyDatabase::Sqlite);
        }
        #[cfg(feature = "mysql")]
        if is_for::<triglot_mysql::MysqlDialect>(&scheme) {
            return Database::open_cluster(topology, config, policy).map(AnyDatabase::Mysql);
        }
        #[cfg(feature = "postgres")]
        if is_for::<triglot_postgres::PostgresDialect>(&scheme) {
            return Database::open_cluster(topology, config, policy).map(AnyDatabase::Postgres);
        }
        let _ = (config, policy);
        match BACKENDS.iter().find(|(_, schemes)| schemes.contains(&scheme.as_str())) {
            Some((feature, _)) => {
                Err(Error::BackendNotCompiled { url: parsed.to_string(), feature })
            }
            None => Err(Error::InvalidUrl {
                url: parsed.to_string(),
                reason: format!(
                    "unknown scheme {scheme:?}; triglot knows {}",
                    BACKENDS
                        .iter()
                        .flat_map(|(_, s)| s.iter().map(|s| format!("{s}://")))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// Runs `body` on the concrete backend.
    pub fn with<W: WithDatabase>(&self, body: W) -> W::Output {
        match self {
            #[cfg(feature = "sqlite")]
            AnyDatabase::Sqlite(db) => body.run(db),
            #[cfg(feature = "mysql")]
            AnyDatabase::Mysql(db) => body.run(db),
            #[cfg(feature = "postgres")]
            AnyDatabase::Postgres(db) => body.run(db),
        }
    }

    /// The database as backend `D`'s, if it is one.
    pub fn downcast<D: Dialect>(&self) -> Option<&Database<D>> {
        // With one backend compiled in, the match has one arm.
        #[allow(clippy::infallible_destructuring_match)]
        let db: &dyn std::any::Any = match self {
            #[cfg(feature = "sqlite")]
            AnyDatabase::Sqlite(db) => db,
            #[cfg(feature = "mysql")]
            AnyDatabase::Mysql(db) => db,
            #[cfg(feature = "postgres")]
            AnyDatabase::Postgres(db) => db,
        };
        db.downcast_ref::<Database<D>>()
    }

    /// The backend's display name.
    pub fn backend_name(&self) -> &'static str {
        struct Name;
        impl WithDatabase for Name {
            type Output = &'static str;
            fn run<D: Dialect>(self, _: &Database<D>) -> &'static str {
                D::NAME
            }
        }
        self.with(Name)
    }
}

/// Runs a body on the concrete backend of an [`AnyDatabase`], pasted once per
/// compiled-in backend.
///
/// `dispatch!(any, |db| expr)` evaluates `expr` with `db` a
/// [`&Database<D>`](crate::Database) and `D` the backend's dialect type.
/// Because the body is compiled once per concrete backend, it can call
/// traits that a crate above triglot implements for each backend (see
/// [`for_each_backend!`](crate::for_each_backend)) without naming them in a
/// bound, which [`AnyDatabase::with`] cannot offer.
///
/// # Example
///
/// ```
/// # fn main() -> triglot::Result<()> {
/// let db = triglot::AnyDatabase::open("sqlite::memory:")?;
/// let name: &str = triglot::dispatch!(db, |db| {
///     let _: &triglot::Database<D> = db;
///     <D as triglot::Dialect>::KEY
/// });
/// assert_eq!(name, "sqlite");
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! dispatch {
    ($any:expr, |$db:ident| $body:expr) => {{
        let __any: &$crate::AnyDatabase = &$any;
        #[allow(unreachable_code)]
        'dispatch: {
            $crate::__each_backend!(__dispatch_one __any, 'dispatch, |$db| $body);
            unreachable!("an AnyDatabase holds a compiled-in backend")
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_one {
    ($backend:ident, $dialect:ty, $any:ident, $label:lifetime, |$db:ident| $body:expr) => {
        if let Some($db) = $any.downcast::<$dialect>() {
            #[allow(unused_imports)]
            use $crate::Dialect as _;
            #[allow(dead_code)]
            type D = $dialect;
            break $label $body;
        }
    };
}

#[allow(dead_code)]
fn is_for<D: Dialect>(scheme: &str) -> bool {
    D::URL_SCHEMES.contains(&scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_backends_agree_with_the_scheme_table() {
        fn check<D: Dialect>(feature: &str) {
            let listed = BACKENDS.iter().find(|(f, _)| *f == feature).map(|(_, s)| *s);
            assert_eq!(listed, Some(D::URL_SCHEMES), "{feature}");
        }
        #[cfg(feature = "sqlite")]
        check::<triglot_sqlite::SqliteDialect>("sqlite");
        #[cfg(feature = "mysql")]
        check::<triglot_mysql::MysqlDialect>("mysql");
        #[cfg(feature = "postgres")]
        check::<triglot_postgres::PostgresDialect>("postgres");
    }

    #[test]
    fn unknown_scheme_is_refused_with_the_known_ones() {
        let err = AnyDatabase::open("oracle://scott:tiger@db/orcl").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("tiger"), "the password is shown in the error");
        assert!(text.contains("unknown scheme") && text.contains("postgres://"), "{text}");
    }
}
