//! Schema parity of the order schema: fresh migrations match the model and
//! each other on every backend, a drifted schema is reported line by line,
//! and `triglot check` says so with its exit code.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use triglot::parity::{Side, compare};

triglot::backend_test!(fresh_migrations_match_the_model, |db| {
    let model = triglot_pipeline::model_schema();
    let live = db.introspect().unwrap();
    let found = compare(&[Side::model(&model), Side::live(D::KEY, &live)]);
    assert!(found.is_empty(), "{}", found.iter().map(|d| format!("\n  {d}")).collect::<String>());
});

#[test]
fn the_order_migrations_build_the_same_schema_on_every_backend() {
    let model = triglot_pipeline::model_schema();
    let report = triglot::check_parity(&MIGRATIONS, Some(&model)).unwrap();
    assert!(
        report.skipped.is_empty(),
        "every compiled-in backend is reachable: {:?}",
        report.skipped
    );
    assert!(
        report.agrees(),
        "{}",
        report.differences.iter().map(|d| format!("\n  {d}")).collect::<String>()
    );
    assert_eq!(report.tables, 3);
}

/// Statements that drift the schema on `backend`, and the lines that must report it.
fn drift_for(backend: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut statements = vec![
        "ALTER TABLE customers ADD COLUMN nickname VARCHAR(20)",
        "ALTER TABLE orders DROP COLUMN content_hash",
        "CREATE TABLE audit_notes (id BIGINT PRIMARY KEY, note VARCHAR(200))",
    ];
    let expected = match backend {
        "sqlite" => {
            // SQLite cannot change a column in place: the tables are rebuilt.
            statements.extend([
                // orders rebuilt with a column's type and another's
                // nullability changed and its checks gone; order_lines,
                // which references it, dropped for good.
                "DROP TABLE order_lines",
                "DROP TABLE orders",
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, \
                 customer_id BIGINT NOT NULL REFERENCES customers (id), status TEXT NOT NULL, \
                 currency TEXT NOT NULL, total_cents TEXT NOT NULL, placed_at TIMESTAMP, \
                 updated_at TIMESTAMP NOT NULL, source TEXT NOT NULL, \
                 CONSTRAINT orders_external_id_key UNIQUE (external_id))",
            ]);
            vec![
                "audit_notes: fresh missing, sqlite table",
                "audit_notes: model missing, sqlite table",
                "customers.nickname: fresh missing, sqlite VARCHAR(20) NULL",
                "customers.nickname: model missing, sqlite VARCHAR(20) NULL",
                "order_lines: fresh table, sqlite missing",
                "order_lines: model table, sqlite missing",
                "orders.content_hash: fresh BIGINT NOT NULL, sqlite missing",
                "orders.content_hash: model integer NOT NULL, sqlite missing",
                "orders.placed_at: fresh TIMESTAMP NOT NULL, sqlite TIMESTAMP NULL",
                "orders.placed_at: model timestamp NOT NULL, sqlite TIMESTAMP NULL",
                "orders.total_cents: fresh BIGINT NOT NULL, sqlite TEXT NOT NULL",
                "orders.total_cents: model integer NOT NULL, sqlite TEXT NOT NULL",
                "orders: fresh check (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')), sqlite missing",
                "orders: fresh check (total_cents >= 0), sqlite missing",
                "orders: fresh index (customer_id), sqlite missing",
                "orders: fresh index (placed_at), sqlite missing",
            ]
        }
        "mysql" => {
            statements.extend([
                "ALTER TABLE orders MODIFY placed_at DATETIME(6) NULL",
                "ALTER TABLE orders DROP INDEX orders_external_id_key",
                "ALTER TABLE order_lines MODIFY note BIGINT NULL",
                "ALTER TABLE order_lines DROP FOREIGN KEY order_lines_order_id_fkey",
                "ALTER TABLE order_lines MODIFY id BIGINT NOT NULL, DROP PRIMARY KEY",
            ]);
            // MariaDB spells BIGINT with its display width; read without it.
            vec![
                "audit_notes: fresh missing, mysql table",
                "audit_notes: model missing, mysql table",
                "customers.nickname: fresh missing, mysql VARCHAR(20) NULL",
                "customers.nickname: model missing, mysql VARCHAR(20) NULL",
                "order_lines.id: fresh BIGINT NOT NULL DEFAULT auto, mysql BIGINT NOT NULL no default",
                "order_lines.note: fresh VARCHAR(500) NULL, mysql BIGINT NULL",
                "order_lines.note: model text NULL, mysql BIGINT NULL",
                "order_lines: fresh foreign key (order_id) -> orders (id), mysql missing",
                "order_lines: fresh primary key (id), mysql primary key ()",
                "order_lines: model primary key (id), mysql primary key ()",
                "orders.content_hash: fresh BIGINT NOT NULL, mysql missing",
                "orders.content_hash: model integer NOT NULL, mysql missing",
                "orders.placed_at: fresh DATETIME(6) NOT NULL, mysql DATETIME(6) NULL",
                "orders.placed_at: model timestamp NOT NULL, mysql DATETIME(6) NULL",
                "orders: fresh unique (external_id), mysql missing",
            ]
        }
        _ => {
            statements.extend([
                "ALTER TABLE orders ALTER COLUMN placed_at DROP NOT NULL",
                "ALTER TABLE orders DROP CONSTRAINT orders_external_id_key",
                "ALTER TABLE order_lines ALTER COLUMN note TYPE BIGINT USING NULL",
                "ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey",
                "ALTER TABLE order_lines DROP CONSTRAINT order_lines_pkey",
            ]);
            vec![
                "audit_notes: fresh missing, postgres table",
                "audit_notes: model missing, postgres table",
                "customers.nickname: fresh missing, postgres CHARACTER VARYING NULL",
                "customers.nickname: model missing, postgres CHARACTER VARYING NULL",
                "order_lines.note: fresh CHARACTER VARYING NULL, postgres BIGINT NULL",
                "order_lines.note: model text NULL, postgres BIGINT NULL",
                "order_lines: fresh foreign key (order_id) -> orders (id), postgres missing",
                "order_lines: fresh primary key (id), postgres primary key ()",
                "order_lines: model primary key (id), postgres primary key ()",
                "orders.content_hash: fresh BIGINT NOT NULL, postgres missing",
                "orders.content_hash: model integer NOT NULL, postgres missing",
                "orders.placed_at: fresh TIMESTAMP WITHOUT TIME ZONE NOT NULL, postgres TIMESTAMP WITHOUT TIME ZONE NULL",
                "orders.placed_at: model timestamp NOT NULL, postgres TIMESTAMP WITHOUT TIME ZONE NULL",
                "orders: fresh unique (external_id), postgres missing",
            ]
        }
    };
    (statements, expected)
}

/// A difference as text, MariaDB's `BIGINT(20)` read as `BIGINT`.
fn line(difference: &triglot::parity::Difference) -> String {
    difference.to_string().replace("BIGINT(20)", "BIGINT")
}

triglot::backend_test!(a_drifted_schema_is_reported_line_by_line, |db| {
    let (statements, expected) = drift_for(D::KEY);
    let before = db.introspect().unwrap();
    let mut conn = db.get().unwrap();
    for statement in statements {
        conn.batch_execute(statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    drop(conn);
    let after = db.introspect().unwrap();
    let model = triglot_pipeline::model_schema();
    let mut found: BTreeSet<String> =
        compare(&[Side::model(&model), Side::live(D::KEY, &after)]).iter().map(line).collect();
    found.extend(
        compare(&[Side::live("fresh", &before), Side::live(D::KEY, &after)]).iter().map(line),
    );
    let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
    assert_eq!(
        found,
        expected,
        "\nfound:\n{}",
        found.iter().map(|l| format!("{l:?},\n")).collect::<String>()
    );
});

#[cfg(feature = "cli")]
#[test]
fn check_command_exits_zero_on_the_order_migrations() {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_triglot")).arg("check").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("schemas agree (model, "), "{text}");
    assert!(text.contains("; 3 tables)"), "{text}");
}

/// `triglot check --migrations DIR`, its standard output and exit code.
#[cfg(feature = "cli")]
fn check_dir(dir: &std::path::Path) -> (String, Option<i32>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
        .arg("check")
        .arg("--migrations")
        .arg(dir)
        .output()
        .unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code())
}

#[cfg(feature = "cli")]
#[test]
fn check_command_passes_on_the_example_projects_migrations() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory/migrations");
    let (text, code) = check_dir(&dir);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("schemas agree (") && text.contains("; 4 tables)"), "{text}");
}

#[cfg(all(feature = "cli", feature = "sqlite", feature = "mysql", feature = "postgres"))]
#[test]
fn check_command_names_a_nullability_changed_on_one_backend() {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
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
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("migrations");
    copy(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory/migrations"),
        &root,
    );
    let up = root.join("mysql/2026-12-01-000001_create_inventory/up.sql");
    let sql = std::fs::read_to_string(&up).unwrap();
    std::fs::write(
        &up,
        sql.replace("confirmed_at DATETIME(6) NULL", "confirmed_at DATETIME(6) NOT NULL"),
    )
    .unwrap();
    let (text, code) = check_dir(&root);
    assert_eq!(code, Some(1), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).map(str::trim).collect();
    assert_eq!(
        lines,
        ["stock_movements.confirmed_at: sqlite TIMESTAMP NULL, mysql DATETIME(6) NOT NULL, \
             postgres TIMESTAMP WITHOUT TIME ZONE NULL"],
        "{text}"
    );
}
