//! Schema parity of a project's own migrations across the backends, through
//! the library function and `schema_of!`.

use std::path::{Path, PathBuf};

use crate::library::{MIGRATIONS, authors, books, loans};

#[test]
fn the_librarys_migrations_agree_on_every_backend_and_with_its_tables() {
    let model = triglot::schema_of!(authors, books, loans);
    let report = triglot::check_parity(&MIGRATIONS, Some(&model)).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(
        report.agrees(),
        "{}",
        report.differences.iter().map(|d| format!("\n  {d}")).collect::<String>()
    );
    assert_eq!(report.tables, 3);
}

/// A copy of the library's migrations in a new directory.
// Used by the tests that need two backends compiled in.
#[allow(dead_code)]
fn copy_of_migrations() -> (tempfile::TempDir, PathBuf) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target)
            } else {
                std::fs::copy(&path, &target).map(drop).unwrap()
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("migrations");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrations"), &root);
    (dir, root)
}

#[cfg(all(feature = "sqlite", feature = "postgres"))]
#[test]
fn a_changed_nullability_on_one_backend_is_one_line_naming_table_column_and_backends() {
    let (_dir, root) = copy_of_migrations();
    let up = root.join("postgres/2026-12-01-000001_create_library/up.sql");
    let sql = std::fs::read_to_string(&up).unwrap();
    std::fs::write(&up, sql.replace("returned_at TIMESTAMP\n", "returned_at TIMESTAMP NOT NULL\n"))
        .unwrap();
    let report = triglot::check_parity(&triglot::Migrations::from_dir(&root), None).unwrap();
    let lines: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("loans.returned_at: "), "{line}");
    assert!(line.contains("postgres TIMESTAMP WITHOUT TIME ZONE NOT NULL"), "{line}");
    assert!(line.contains("sqlite TIMESTAMP NULL"), "{line}");
}

#[cfg(all(feature = "sqlite", feature = "mysql"))]
#[test]
fn a_missing_check_index_or_default_is_named_with_its_backend() {
    let (_dir, root) = copy_of_migrations();
    let up = root.join("mysql/2026-12-01-000001_create_library/up.sql");
    let sql = std::fs::read_to_string(&up)
        .unwrap()
        .replace(",\n    CONSTRAINT books_pages_check CHECK (pages > 0)", "")
        .replace("CREATE INDEX books_author_id_idx ON books (author_id);", "")
        .replace(
            "in_stock  BOOLEAN      NOT NULL DEFAULT TRUE",
            "in_stock  BOOLEAN      NOT NULL DEFAULT FALSE",
        );
    std::fs::write(&up, sql).unwrap();
    let report = triglot::check_parity(&triglot::Migrations::from_dir(&root), None).unwrap();
    let lines: Vec<String> = report.differences.iter().map(ToString::to_string).collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has(
            "books.in_stock: sqlite BOOLEAN NOT NULL DEFAULT 1, mysql TINYINT(1) NOT NULL DEFAULT 0"
        ),
        "{lines:#?}"
    );
    assert!(has("books: sqlite check (pages > 0), mysql missing"), "{lines:#?}");
    // Without the declared index InnoDB indexes the foreign key by itself,
    // under the constraint's name; that implicit one does not count.
    assert!(has("books: sqlite index (author_id), mysql missing"), "{lines:#?}");
}
