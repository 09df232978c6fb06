//! Migrations up, down and up again, on every backend.

use crate::library::MIGRATIONS;

const TABLES: [&str; 3] = ["authors", "books", "loans"];

triglot::backend_test!(migrations_go_down_and_up_again, |db| -> triglot::Result<()> {
    // The harness has applied every migration.
    let status = db.migration_status(&MIGRATIONS)?;
    assert!(status.pending.is_empty(), "pending after migrate: {:?}", status.pending);
    assert_eq!(status.applied.len(), 1);
    let tables = db.introspect()?.tables;
    for table in TABLES {
        assert!(tables.contains_key(table), "{table} missing after migrate");
    }

    let reverted = db.revert_all_migrations(&MIGRATIONS)?;
    assert_eq!(reverted.len(), 1);
    assert!(db.introspect()?.tables.is_empty(), "tables left after reverting all");
    assert_eq!(db.migration_status(&MIGRATIONS)?.pending.len(), 1);

    assert_eq!(db.migrate(&MIGRATIONS)?.len(), 1);
    assert_eq!(db.introspect()?.tables.keys().cloned().collect::<Vec<_>>(), {
        let mut t: Vec<String> = TABLES.iter().map(|s| s.to_string()).collect();
        t.sort();
        t
    });
    assert!(db.migrate(&MIGRATIONS)?.is_empty(), "second migrate must apply nothing");
    Ok(())
});

triglot::backend_test!(a_failing_migration_is_a_migration_error_naming_the_database, |db| {
    use diesel::connection::SimpleConnection;
    db.revert_all_migrations(&MIGRATIONS).unwrap();
    // A table the migration is about to create, already there.
    db.get().unwrap().batch_execute("CREATE TABLE books (id BIGINT)").unwrap();
    let err = db.migrate(&MIGRATIONS).unwrap_err();
    assert!(matches!(err, triglot::Error::Migration { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(D::NAME) && text.contains("books"), "{text}");
    assert!(text.contains(db.url().redacted()), "{text} does not name the database");
});
