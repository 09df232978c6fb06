//! The harness's promises: a backend whose server is unreachable fails its
//! tests with a message that says how to start it (it never passes
//! silently); `requires(…)` runs a body only where the capability holds; the
//! README's examples are the files CI runs; a test's migrations, fixtures and
//! setup function build its database.

use diesel::prelude::*;

use crate::library::{MIGRATIONS, NewAuthor, authors, books};

#[allow(dead_code)]
fn panic_text<D: triglot::Dialect>(url: &str) -> String {
    let caught = std::panic::catch_unwind(|| {
        triglot::testing::TestDb::<D>::new_on(url, "unreachable", &crate::library::MIGRATIONS)
    });
    let payload = caught.expect_err("an unreachable server must fail the test");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[cfg(feature = "mysql")]
#[test]
fn unreachable_mysql_fails_with_how_to_start_it() {
    let text =
        panic_text::<triglot::mysql::MysqlDialect>("mysql://root:pw-not-shown@127.0.0.1:1/test");
    // Checked first, so that no later failure message prints a leaked password.
    assert!(!text.contains("pw-not-shown"), "the password is shown in the message");
    assert!(text.contains("MySQL test database unavailable"), "{text}");
    assert!(
        text.contains("TRIGLOT_TEST_MYSQL_URL") && text.contains("scripts/services.sh"),
        "{text}"
    );
}

#[cfg(feature = "postgres")]
#[test]
fn unreachable_postgres_fails_with_how_to_start_it() {
    let text = panic_text::<triglot::postgres::PostgresDialect>(
        "postgres://postgres:pw-not-shown@127.0.0.1:1/test",
    );
    assert!(!text.contains("pw-not-shown"), "the password is shown in the message");
    assert!(text.contains("PostgreSQL test database unavailable"), "{text}");
    assert!(text.contains("TRIGLOT_TEST_POSTGRES_URL") && text.contains("pg_ctlcluster"), "{text}");
}

triglot::backend_test!(requires(transactional_ddl) a_required_capability_gates_the_body, |db| {
    // MySQL commits DDL as it runs: there the body must not run.
    assert!(db.capabilities().transactional_ddl, "body ran on {} without the capability", D::NAME);
    // A table created in a transaction that rolls back is gone.
    let rolled_back = db.run("creating a table, then rolling back", |conn| {
        conn.transaction::<(), _, _>(|conn| {
            diesel::sql_query("CREATE TABLE gated (id INTEGER)").execute(conn)?;
            Err(diesel::result::Error::RollbackTransaction)
        })
    });
    assert!(rolled_back.is_err());
    let after = db.run("reading the table", |conn| {
        diesel::sql_query("SELECT * FROM gated").execute(conn)
    });
    assert!(after.is_err(), "the table outlived its rollback on {}", D::NAME);
});

/// Writes one more author, in Rust, after the fixtures ran.
fn one_more_author<D>(db: &triglot::Database<D>) -> triglot::Result<()>
where
    D: triglot::write::BulkInsert<authors::table, NewAuthor>,
{
    let writes = db.writes();
    let author = NewAuthor { name: "Tolkien".into(), country: Some("GB".into()) };
    db.write("adding an author", |conn| writes.bulk_insert(conn, authors::table, vec![author]))?;
    Ok(())
}

triglot::backend_test!(
    fixtures_and_setup_run_before_the_body_in_order,
    fixtures("shelf"),
    setup(one_more_author),
    |db| -> triglot::Result<()> {
        let names: Vec<String> = db.run("reading authors", |conn| {
            authors::table.order(authors::id).select(authors::name).load(conn)
        })?;
        assert_eq!(names, ["Ursula K. Le Guin", "Stanisław Lem", "Tolkien"], "on {}", D::NAME);
        let books: i64 = db.run("counting books", |conn| books::table.count().get_result(conn))?;
        assert_eq!(books, 3);
        Ok(())
    }
);

/// A set of its own, from a directory read at run time: one table.
static NOTES: std::sync::LazyLock<triglot::Migrations> = std::sync::LazyLock::new(|| {
    let dir = std::env::temp_dir().join(format!("tg_notes_set_{}", std::process::id()));
    for backend in ["sqlite", "mysql", "postgres"] {
        let folder = dir.join(backend).join("2026-12-01-000001_notes");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("up.sql"),
            "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT)",
        )
        .unwrap();
        std::fs::write(folder.join("down.sql"), "DROP TABLE notes").unwrap();
    }
    triglot::Migrations::from_dir(dir)
});

triglot::backend_test!(
    a_test_names_the_migration_set_its_database_is_built_from,
    migrations = *NOTES,
    |db| {
        let tables: Vec<String> = db.introspect().unwrap().tables.into_keys().collect();
        assert_eq!(tables, ["notes"], "on {}", D::NAME);
    }
);

#[test]
fn readme_shows_the_example_projects_test_that_ci_runs() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/inventory/tests/stock.rs");
    assert!(
        readme.contains(example),
        "README.md must contain examples/inventory/tests/stock.rs verbatim"
    );
}

#[test]
fn readme_shows_the_example_projects_bench_that_ci_builds() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/inventory/benches/stock.rs");
    assert!(
        readme.contains(example),
        "README.md must contain examples/inventory/benches/stock.rs verbatim"
    );
}
