//! PostgreSQL's migrated templates are keyed by the content of the set:
//! equal content shares one, changed content gets its own.

#[cfg(feature = "postgres")]
#[test]
fn two_sets_in_one_process_never_share_a_template() {
    use triglot::Dialect;
    use triglot::postgres::PostgresDialect as Pg;
    use triglot::testing::{TestDb, server_url};

    use crate::library::MIGRATIONS;

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("postgres/2026-12-01-000001_create_library");
    std::fs::create_dir_all(&folder).unwrap();
    let embedded = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/migrations/postgres/2026-12-01-000001_create_library");
    for file in ["up.sql", "down.sql"] {
        std::fs::copy(embedded.join(file), folder.join(file)).unwrap();
    }
    let same = triglot::Migrations::from_dir(dir.path());
    // The same files embedded or read at run time: the same fingerprint.
    assert_eq!(MIGRATIONS.fingerprint::<Pg>().unwrap(), same.fingerprint::<Pg>().unwrap());

    let up = folder.join("up.sql");
    let sql = std::fs::read_to_string(&up).unwrap();
    std::fs::write(&up, format!("{sql}\nCREATE TABLE shelves (id BIGINT PRIMARY KEY);\n")).unwrap();
    let changed = triglot::Migrations::from_dir(dir.path());
    assert_ne!(MIGRATIONS.fingerprint::<Pg>().unwrap(), changed.fingerprint::<Pg>().unwrap());

    let first = TestDb::<Pg>::new("templates::first", &MIGRATIONS);
    let second = TestDb::<Pg>::new("templates::second", &changed);
    let has_shelves =
        |db: &triglot::Database<Pg>| db.introspect().unwrap().tables.contains_key("shelves");
    assert!(!has_shelves(&first) && has_shelves(&second));
    let templates = Pg::list_databases(&server_url::<Pg>(), "tg_template_").unwrap();
    for set in [&MIGRATIONS, &changed] {
        let name = format!("tg_template_{:016x}", set.fingerprint::<Pg>().unwrap());
        assert!(templates.contains(&name), "{name} not in {templates:?}");
    }
}
