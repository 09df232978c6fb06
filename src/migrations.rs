//! `migrations!`: a project's per-backend migration folders, embedded for the
//! backends this build includes.

/// Embeds a project's migrations, one folder per compiled-in backend, as a
/// [`Migrations`](crate::Migrations) set.
///
/// `migrations!()` reads `migrations/` of the calling crate (beside its
/// `Cargo.toml`), `migrations!("db/migrations")` another folder. Inside it,
/// one folder per backend in diesel_cli's layout:
/// `sqlite/<version>_<name>/up.sql` (and `down.sql`), `mysql/…`,
/// `postgres/…`. Only the folders of the backends triglot is built with are
/// embedded; a missing one for an enabled backend is a compile error naming
/// the folder and the feature. Each folder's content is fingerprinted, so
/// the test harness keys PostgreSQL's migrated template by it.
///
/// # Example
///
/// ```ignore
/// pub static MIGRATIONS: triglot::Migrations = triglot::migrations!();
///
/// fn setup<D: triglot::Dialect>(db: &triglot::Database<D>) -> triglot::Result<()> {
///     db.migrate(&MIGRATIONS)?;
///     Ok(())
/// }
/// ```
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::__embed_migrations!($crate)
    };
    ($dir:literal) => {
        $crate::__embed_migrations!($crate, $dir)
    };
}

/// What `__embed_migrations!` expands to: one embedded set per backend.
#[doc(hidden)]
#[macro_export]
macro_rules! __migrations_set {
    ($($key:ident $fingerprint:literal $path:literal;)*) => {
        $crate::Migrations::__embedded(&[$(
            $crate::EmbeddedSet::__new(stringify!($key), $fingerprint, {
                use $crate::diesel_migrations;
                $crate::diesel_migrations::embed_migrations!($path)
            }),
        )*])
    };
}
