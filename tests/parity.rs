//! Schema parity: fresh migrations match the model on every backend, and a
//! drifted schema is reported line by line, by the library and by `triglot check`.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;

triglot::backend_test!(fresh_migrations_match_the_model, |db| {
    let drifts = db.check_schema().unwrap();
    assert!(drifts.is_empty(), "{}", drifts.iter().map(|d| format!("\n  {d}")).collect::<String>());
});

/// Statements that drift the schema on `backend`, and the lines that must report it.
fn drift_for(backend: &str) -> (Vec<&'static str>, Vec<String>) {
    let mut statements = vec![
        "ALTER TABLE customers ADD COLUMN nickname VARCHAR(20)",
        "ALTER TABLE orders DROP COLUMN content_hash",
        "DROP TABLE rejects",
    ];
    let short = match backend {
        "SQLite" => "sqlite",
        "MySQL" => "mysql",
        _ => "postgres",
    };
    let mut expected = vec![
        format!("customers.nickname: model missing, {short} column text nullable"),
        format!("orders.content_hash: model column integer NOT NULL, {short} missing"),
        format!("rejects: model table, {short} missing"),
        format!("order_lines: model primary key (id), {short} primary key ()"),
        format!("order_lines: model foreign key (order_id) -> orders (id), {short} missing"),
    ];
    match backend {
        "SQLite" => {
            // SQLite cannot change a column in place: the table is rebuilt.
            statements.extend([
                "DROP TABLE ingest_runs",
                "CREATE TABLE ingest_runs (id INTEGER PRIMARY KEY, started_at TIMESTAMP, \
                 finished_at TIMESTAMP, status TEXT NOT NULL, source TEXT NOT NULL, contract TEXT NOT NULL, \
                 records_read BIGINT NOT NULL, records_accepted BIGINT NOT NULL, records_rejected BIGINT NOT NULL, \
                 orders_inserted BIGINT NOT NULL, orders_updated BIGINT NOT NULL, orders_unchanged TEXT NOT NULL, \
                 error TEXT)",
            ]);
            expected.extend([
                "ingest_runs.started_at: model NOT NULL, sqlite nullable".to_owned(),
                "ingest_runs.orders_unchanged: model integer, sqlite text (TEXT)".to_owned(),
            ]);
            // order_lines rebuilt without its primary and foreign keys.
            statements.extend([
                "DROP TABLE order_lines",
                "CREATE TABLE order_lines (id INTEGER NOT NULL, order_id BIGINT NOT NULL, \
                 line_no INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL, \
                 unit_price_cents BIGINT NOT NULL, discount_bp INTEGER, note TEXT, \
                 CONSTRAINT order_lines_order_id_line_no_key UNIQUE (order_id, line_no))",
            ]);
        }
        "MySQL" => {
            statements.extend([
                "ALTER TABLE orders MODIFY placed_at DATETIME(6) NULL",
                "ALTER TABLE orders DROP INDEX orders_external_id_key",
                "ALTER TABLE order_lines MODIFY note BIGINT NULL",
                "ALTER TABLE order_lines DROP FOREIGN KEY order_lines_order_id_fkey",
                "ALTER TABLE order_lines MODIFY id BIGINT NOT NULL, DROP PRIMARY KEY",
            ]);
            expected.extend([
                "orders.placed_at: model NOT NULL, mysql nullable".to_owned(),
                "orders: model unique (external_id), mysql missing".to_owned(),
                "order_lines.note: model text, mysql integer (bigint)".to_owned(),
            ]);
        }
        _ => {
            statements.extend([
                "ALTER TABLE orders ALTER COLUMN placed_at DROP NOT NULL",
                "ALTER TABLE orders DROP CONSTRAINT orders_external_id_key",
                "ALTER TABLE order_lines ALTER COLUMN note TYPE BIGINT USING NULL",
                "ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey",
                "ALTER TABLE order_lines DROP CONSTRAINT order_lines_pkey",
            ]);
            expected.extend([
                "orders.placed_at: model NOT NULL, postgres nullable".to_owned(),
                "orders: model unique (external_id), postgres missing".to_owned(),
                "order_lines.note: model text, postgres integer (bigint)".to_owned(),
            ]);
        }
    }
    (statements, expected)
}

triglot::backend_test!(a_drifted_schema_is_reported_line_by_line, |db| {
    let (statements, expected) = drift_for(D::NAME);
    let mut conn = db.get().unwrap();
    for statement in statements {
        conn.batch_execute(statement).unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    drop(conn);
    // MariaDB spells BIGINT with a display width.
    let found: BTreeSet<String> = db
        .check_schema()
        .unwrap()
        .iter()
        .map(|d| d.to_string().replace("bigint(20)", "bigint"))
        .collect();
    let expected: BTreeSet<String> = expected.into_iter().collect();
    assert_eq!(found, expected);

    #[cfg(feature = "cli")]
    {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
            .args(["--database-url", crate::parity::url_of(db), "check"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        for line in &expected {
            assert!(
                text.lines().any(|l| l.trim().replace("bigint(20)", "bigint") == *line),
                "missing {line:?} in:\n{text}"
            );
        }
    }
});

#[cfg(feature = "cli")]
triglot::backend_test!(check_command_exits_zero_on_fresh_migrations, |db| {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", crate::parity::url_of(db), "check"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("schema matches the model (5 tables"), "{text}");
});

/// The URL a test's database was opened with (it may hold a password; only
/// handed to a child process here).
#[allow(dead_code)]
pub(crate) fn url_of<D: triglot::Dialect>(db: &triglot::Database<D>) -> &str {
    db.url().expose()
}
