//! Ingest through input contracts, on every backend: every record written or
//! rejected with its reason and line, counts that reconcile, idempotent runs,
//! and a killed or failed run that a second run completes.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use std::path::{Path, PathBuf};

use triglot_pipeline::contract::Contract;
use triglot_pipeline::ingest::{IngestOptions, IngestSummary, ingest};
use triglot_pipeline::model::{IngestRunQueries, OrderQueries, RejectQueries};

use crate::harness::{generated, snapshot};

fn run<D: triglot_pipeline::OrderBackend>(
    db: &triglot::Database<D>,
    contract: &Contract,
    files: &[PathBuf],
) -> IngestSummary {
    ingest(db, contract, files, &IngestOptions::default(), &mut |_| {}).unwrap()
}

triglot::backend_test!(every_defect_kind_is_rejected_with_its_reason_and_line, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 400, 0.25);
    let csv_kinds = [
        "missing_required",
        "invalid_number",
        "invalid_timestamp",
        "out_of_range",
        "unknown_value",
        "too_long",
        "invalid_utf8",
        "wrong_column_count",
        "duplicate_line_no",
        "missing_order",
        "rejected_with_order",
    ];
    for kind in csv_kinds {
        assert!(
            g.csv.by_reason.get(kind).copied().unwrap_or(0) > 0,
            "the generator made no {kind}"
        );
    }
    for (file, contract, expected) in [
        (dir.path().join("orders.csv"), Contract::builtin_csv(), &g.csv),
        (dir.path().join("orders.jsonl"), Contract::builtin_jsonl(), &g.jsonl),
    ] {
        let s = run(db, &contract, std::slice::from_ref(&file));
        assert_eq!(s.records_read, s.records_accepted + s.records_rejected);
        assert_eq!(
            (s.records_read, s.records_accepted, s.records_rejected),
            (expected.records, expected.accepted, expected.rejected),
            "{}",
            file.display()
        );
        assert_eq!(s.rejects_by_reason, expected.by_reason, "{}", file.display());

        let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
        let mut got: Vec<(u64, String)> =
            stored.iter().map(|r| (r.line as u64, r.reason.clone())).collect();
        let mut want = expected.rejects.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}: rejects by line", file.display());
        assert!(stored.iter().all(|r| r.source == file.display().to_string() && !r.raw.is_empty()));
        if file.extension().unwrap() == "csv" {
            for (reason, field) in
                [("out_of_range", "quantity"), ("too_long", "sku"), ("invalid_utf8", "note")]
            {
                let r = stored
                    .iter()
                    .find(|r| r.reason == reason)
                    .unwrap_or_else(|| panic!("no {reason} reject stored"));
                assert_eq!(r.field.as_deref(), Some(field), "{reason}");
            }
        }

        let row = db.run("run", |conn| conn.find_run(s.run_id)).unwrap();
        assert_eq!(row.status, "completed");
        assert_eq!(row.records_read, row.records_accepted + row.records_rejected);
        assert_eq!(row.records_read as u64, expected.records);
    }
});

triglot::backend_test!(a_second_ingest_of_the_same_input_changes_nothing, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 300, 0.05);
    let files = [dir.path().join("orders.csv")];
    let first = run(db, &Contract::builtin_csv(), &files);
    assert_eq!(first.written.orders_inserted, g.csv.orders);
    assert_eq!(first.written.lines_written, g.csv.lines);
    let before = snapshot(db);
    let second = run(db, &Contract::builtin_csv(), &files);
    assert_eq!(
        (
            second.written.orders_inserted,
            second.written.orders_updated,
            second.written.orders_unchanged,
            second.written.lines_written
        ),
        (0, 0, g.csv.orders, 0)
    );
    assert_eq!(snapshot(db), before);
});

/// Writes the header and the rows of orders `from..until` of `csv` to `path`.
fn slice_of_orders(csv: &Path, path: &Path, from: usize, until: usize) {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let mut out = vec![lines.next().unwrap().to_owned()];
    let mut order = None;
    let mut index = 0;
    for line in lines {
        let key = line.split(',').next().unwrap();
        if order.as_deref() != Some(key) {
            if order.is_some() {
                index += 1;
            }
            order = Some(key.to_owned());
        }
        if (from..until).contains(&index) {
            out.push(line.to_owned());
        }
    }
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

triglot::backend_test!(overlapping_files_leave_one_copy_of_each_order, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 100, 0.0);
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    slice_of_orders(&dir.path().join("orders.csv"), &a, 0, 60);
    slice_of_orders(&dir.path().join("orders.csv"), &b, 40, 100);
    // Small batches: the 20 orders both files hold are met again in a later batch.
    let options = IngestOptions { batch_size: 10, ..IngestOptions::default() };
    let s = ingest(db, &Contract::builtin_csv(), &[a, b], &options, &mut |_| {}).unwrap();
    assert_eq!(s.records_rejected, 0);
    assert_eq!(
        (s.written.orders_inserted, s.written.orders_updated, s.written.orders_unchanged),
        (100, 0, 20)
    );
    assert_eq!(db.run("count", |conn| conn.count_orders()).unwrap(), 100);
    assert_eq!(snapshot(db).lines.len() as u64, g.csv.lines);
});

triglot::backend_test!(the_foreign_layout_example_is_ingested, |db| {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-layout");
    let contract = Contract::load(&example.join("contract.toml")).unwrap();
    let s = run(db, &contract, &[example.join("orders.txt"), example.join("lines.txt")]);
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (14, 8, 6));
    let reasons: Vec<(&str, u64)> =
        s.rejects_by_reason.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        reasons,
        [
            ("duplicate_line_no", 1),
            ("invalid_timestamp", 1),
            ("missing_order", 1),
            ("rejected_with_order", 3)
        ]
    );
    let order = db.run("read", |conn| conn.find_order("100002")).unwrap().unwrap();
    assert_eq!(order.total_cents, 12_000);
    assert_eq!(
        order.placed_at,
        crate::harness::at(2026, 11, 24, 10, 40, 0, 0),
        "CET converted to UTC"
    );
    assert_eq!(order.updated_at, order.placed_at, "'-' means unchanged");
    let cancelled = db.run("read", |conn| conn.find_order("100004")).unwrap().unwrap();
    assert_eq!((cancelled.status.as_str(), cancelled.currency.as_str()), ("cancelled", "CHF"));
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let orphan = stored.iter().find(|r| r.reason == "missing_order").unwrap();
    assert!(orphan.source.ends_with("lines.txt") && orphan.line == 10, "{orphan:?}");
    assert!(orphan.raw.starts_with("100009|1|sku-z"), "{orphan:?}");
});

triglot::backend_test!(a_join_reads_keys_in_any_order_with_bounded_memory, |db| {
    // The foreign layout's files with numeric keys whose text order differs
    // (7 < 9 < 32 < 100 < 205, but "100" < "205" < "32" < "7" < "9"): the
    // orders in numeric order as a database exports them, the lines shuffled.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-layout");
    let keys = [
        ("100001", "7"),
        ("100002", "32"),
        ("100003", "100"),
        ("100004", "9"),
        ("100005", "205"),
        ("100009", "3"),
    ];
    let rekey = |line: &str| {
        let (key, rest) = line.split_once('|').unwrap();
        let key = keys.iter().find(|(from, _)| *from == key).map_or(key, |(_, to)| *to);
        format!("{key}|{rest}")
    };
    let read = |name: &str| std::fs::read_to_string(example.join(name)).unwrap();
    let orders = read("orders.txt");
    let mut order_rows: Vec<String> = orders.lines().skip(1).map(rekey).collect();
    order_rows.sort_by_key(|l| l.split('|').next().unwrap().parse::<u32>().unwrap());
    let lines = read("lines.txt");
    let mut line_rows: Vec<String> = lines.lines().skip(1).map(rekey).collect();
    line_rows.reverse();
    line_rows.swap(1, 5);
    let dir = tempfile::tempdir().unwrap();
    let header = |text: &str| text.lines().next().unwrap().to_owned();
    std::fs::write(
        dir.path().join("orders.txt"),
        [header(&orders)].iter().chain(&order_rows).map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lines.txt"),
        [header(&lines)].iter().chain(&line_rows).map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();

    // The example's order ids have six digits; these have one to three.
    let text = read("contract.toml").replace("pattern = \"[0-9]{6}\"", "pattern = \"[0-9]+\"");
    let contract = Contract::from_toml(&text, "numeric-keys.toml").unwrap();
    // A few hundred bytes of records in memory: every file goes through
    // sorted runs on disk.
    let options = IngestOptions { sort_memory: 300, ..IngestOptions::default() };
    let files = [dir.path().join("orders.txt"), dir.path().join("lines.txt")];
    let s = ingest(db, &contract, &files, &options, &mut |_| {}).unwrap();
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (14, 8, 6));
    let reasons: Vec<(&str, u64)> =
        s.rejects_by_reason.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        reasons,
        [
            ("duplicate_line_no", 1),
            ("invalid_timestamp", 1),
            ("missing_order", 1),
            ("rejected_with_order", 3)
        ]
    );
    let order = db.run("read", |conn| conn.find_order("32")).unwrap().unwrap();
    assert_eq!(order.total_cents, 12_000);
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let orphan = stored.iter().find(|r| r.reason == "missing_order").unwrap();
    let orphan_line = line_rows.iter().position(|l| l.starts_with("3|")).unwrap() as i64 + 2;
    assert_eq!(
        (orphan.line, orphan.raw.starts_with("3|1|sku-z")),
        (orphan_line, true),
        "{orphan:?}"
    );

    // The same files through the example's flow contract, into a database
    // of its own, with as little sort memory: the same outcome.
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};
    let flowed = triglot::testing::TestDb::<D>::new("numeric_keys_flow", &MIGRATIONS);
    let text = read("flow.toml").replace("pattern = \"[0-9]{6}\"", "pattern = \"[0-9]+\"");
    let flow = Flow::bind(&text, "numeric-keys-flow.toml", &flowed.introspect().unwrap()).unwrap();
    let options = FlowOptions { sort_memory: 300, ..FlowOptions::default() };
    let f = run_flow(&flowed, &flow, &flow.files_in_order(&files).unwrap(), &options).unwrap();
    assert_eq!((f.counts.read, f.counts.accepted, f.counts.rejected), (14, 8, 6), "{f:?}");
    let flow_reasons: Vec<(&str, u64)> =
        f.rejects_by_reason.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(flow_reasons, reasons, "on {}", D::NAME);
    let order = flowed.run("read", |conn| conn.find_order("32")).unwrap().unwrap();
    assert_eq!(order.total_cents, 12_000, "on {}", D::NAME);
});

triglot::backend_test!(an_order_id_twice_in_an_orders_file_is_a_duplicate_key, |db| {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-layout");
    let dir = tempfile::tempdir().unwrap();
    let mut orders = std::fs::read_to_string(example.join("orders.txt")).unwrap();
    let again = orders.lines().nth(2).unwrap().to_owned();
    orders.push_str(&again);
    orders.push('\n');
    std::fs::write(dir.path().join("orders.txt"), orders).unwrap();
    let contract = Contract::load(&example.join("contract.toml")).unwrap();
    let s = run(db, &contract, &[dir.path().join("orders.txt"), example.join("lines.txt")]);
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let duplicate =
        stored.iter().find(|r| r.reason == "duplicate_key").expect("a duplicate_key reject");
    assert_eq!(duplicate.line, 7, "{duplicate:?}");
    assert!(duplicate.detail.contains("also on line 3"), "{duplicate:?}");
});

/// Makes every order line with sku `POISON` fail in the database, as a
/// non-retryable error the contract cannot foresee.
fn poison_sql(backend: &str) -> (&'static str, &'static str) {
    match backend {
        "SQLite" => (
            "CREATE TRIGGER poison BEFORE INSERT ON order_lines WHEN NEW.sku = 'POISON' \
             BEGIN SELECT RAISE(ABORT, 'poisoned line'); END",
            "DROP TRIGGER poison",
        ),
        "MySQL" => (
            "ALTER TABLE order_lines ADD CONSTRAINT poison CHECK (sku <> 'POISON')",
            "ALTER TABLE order_lines DROP CONSTRAINT poison",
        ),
        _ => (
            "ALTER TABLE order_lines ADD CONSTRAINT poison CHECK (sku <> 'POISON')",
            "ALTER TABLE order_lines DROP CONSTRAINT poison",
        ),
    }
}

/// Replaces the sku of the first line of order `key` with `POISON`.
fn poison_order(csv: &Path, key: &str) {
    // The generated file holds invalid UTF-8 on purpose: edit it as bytes.
    let bytes = std::fs::read(csv).unwrap();
    let prefix = format!("{key},").into_bytes();
    let mut done = false;
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if !done && line.starts_with(&prefix) {
            done = true;
            let text = String::from_utf8(line.to_vec()).unwrap();
            let mut fields: Vec<&str> = text.split(',').collect();
            fields[10] = "POISON";
            out.extend_from_slice(fields.join(",").as_bytes());
        } else {
            out.extend_from_slice(line);
        }
    }
    assert!(done, "order {key} not found");
    std::fs::write(csv, out).unwrap();
}

triglot::backend_test!(a_failed_run_keeps_its_committed_batches_and_a_rerun_completes_it, |db| {
    use diesel::connection::SimpleConnection;
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 400, 0.02);
    let file = dir.path().join("orders.csv");
    poison_order(&file, "DEMO-7-0000250");
    let (add, remove) = poison_sql(D::NAME);
    db.get().unwrap().batch_execute(add).unwrap();

    let options = IngestOptions { batch_size: 50, ..IngestOptions::default() };
    let err =
        ingest(db, &Contract::builtin_csv(), std::slice::from_ref(&file), &options, &mut |_| {})
            .unwrap_err();
    let triglot_pipeline::Error::IngestStopped { run_id, batches, orders, .. } = &err else {
        panic!("{err:?}")
    };
    let text = err.to_string();
    assert!(text.contains("running the same command again completes the job"), "{text}");
    assert!(*batches >= 4, "batches before order 250 stay: {batches}");
    assert_eq!(db.run("count", |conn| conn.count_orders()).unwrap() as u64, *orders);
    let failed = db.run("run", |conn| conn.find_run(*run_id)).unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(failed.records_read, failed.records_accepted + failed.records_rejected);
    assert!(
        failed.error.as_deref().is_some_and(|e| e.contains("order lines")),
        "{:?}",
        failed.error
    );

    db.get().unwrap().batch_execute(remove).unwrap();
    let rerun =
        ingest(db, &Contract::builtin_csv(), std::slice::from_ref(&file), &options, &mut |_| {})
            .unwrap();
    assert_eq!(rerun.written.orders_unchanged, *orders);

    let clean = triglot::testing::TestDb::<D>::new("ingest::clean_reference", &MIGRATIONS);
    ingest(&clean, &Contract::builtin_csv(), &[file], &options, &mut |_| {}).unwrap();
    assert_eq!(snapshot(db), snapshot(&clean));
});

/// Makes every order line with sku `POISON` fail in the database with an
/// error of its own, not a constraint's (a flow turns those into rejects):
/// the SQL that adds it, the SQL that removes it, and what its error says.
fn poison_trigger(backend: &str) -> (&'static str, &'static str, &'static str) {
    match backend {
        // json() of a non-JSON text fails when the trigger runs, not before.
        "SQLite" => (
            "CREATE TRIGGER poison BEFORE INSERT ON order_lines WHEN NEW.sku = 'POISON' \
             BEGIN SELECT json('poisoned line'); END",
            "DROP TRIGGER poison",
            "malformed JSON",
        ),
        "MySQL" => (
            "CREATE TRIGGER poison BEFORE INSERT ON order_lines FOR EACH ROW BEGIN \
             IF NEW.sku = 'POISON' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned line'; \
             END IF; END",
            "DROP TRIGGER poison",
            "poisoned line",
        ),
        _ => (
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.sku = 'POISON' THEN RAISE EXCEPTION 'poisoned line'; END IF; RETURN NEW; \
             END $$; CREATE TRIGGER poison BEFORE INSERT ON order_lines \
             FOR EACH ROW EXECUTE FUNCTION poison()",
            "DROP TRIGGER poison ON order_lines; DROP FUNCTION poison()",
            "poisoned line",
        ),
    }
}

triglot::backend_test!(a_stopped_flow_keeps_its_committed_batches_and_a_rerun_completes_it, |db| {
    use diesel::connection::SimpleConnection;
    use triglot_pipeline::contract::ORDERS_FLOW;
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 400, 0.02);
    let file = dir.path().join("orders.csv");
    poison_order(&file, "DEMO-7-0000250");
    let (add, remove, says) = poison_trigger(D::NAME);
    db.get().unwrap().batch_execute(add).unwrap();
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect().unwrap()).unwrap();
    let files = flow.files_in_order(std::slice::from_ref(&file)).unwrap();
    let options = FlowOptions { batch_size: 50, ..FlowOptions::default() };

    let err = run_flow(db, &flow, &files, &options).unwrap_err();
    let triglot_pipeline::Error::FlowStopped { run_id, batches, .. } = &err else {
        panic!("{err:?}")
    };
    let text = err.to_string();
    assert!(text.contains(says) && text.contains("running the same command again"), "{text}");
    assert!(*batches >= 4, "batches before order 250 stay: {batches}");
    let kept = db.run("count", |conn| conn.count_orders()).unwrap() as u64;
    assert!((200..400).contains(&kept), "{kept} orders kept");
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        off: i64,
    }
    let sql = format!(
        "SELECT status, records_read - records_accepted - records_rejected AS off \
         FROM triglot_runs WHERE run_id = {run_id}"
    );
    let row: Row = db
        .run("run", |conn| {
            diesel::RunQueryDsl::get_result(triglot::values::Statement::new(&sql), conn)
        })
        .unwrap();
    assert_eq!((row.status.as_str(), row.off), ("failed", 0), "on {}", D::NAME);

    db.get().unwrap().batch_execute(remove).unwrap();
    let rerun = run_flow(db, &flow, &files, &options).unwrap();
    assert_eq!(rerun.tables["orders"].unchanged, kept, "{rerun:?}");
    let clean = triglot::testing::TestDb::<D>::new("flow::clean_reference", &MIGRATIONS);
    run_flow(&clean, &flow, &files, &options).unwrap();
    assert_eq!(snapshot(db), snapshot(&clean), "on {}", D::NAME);
});

#[cfg(feature = "cli")]
triglot::backend_test!(a_killed_ingest_run_again_gives_the_same_database_as_one_clean_run, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 6_000, 0.02);
    let file = dir.path().join("orders.csv");
    let url = db.url().expose();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", url, "ingest", "--quiet", "--batch-size", "5"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as some batches are committed, long before it is done.
    let started = std::time::Instant::now();
    loop {
        let committed = db.run("count", |conn| {
            conn.count_runs().and_then(|r| if r > 0 { conn.count_orders() } else { Ok(0) })
        });
        if committed.is_ok_and(|n| n >= 50) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest finished before it could be killed"
        );
        assert!(started.elapsed().as_secs() < 120, "no batch committed");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = db.run("run", |conn| conn.find_run(1)).unwrap();
    assert_eq!(killed.status, "running", "the killed run never finished");
    assert_eq!(
        killed.records_read,
        killed.records_accepted + killed.records_rejected,
        "it reconciles at every commit"
    );
    assert!((killed.records_read as u64) < 18_000);

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", url, "ingest", "--quiet"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    let clean = triglot::testing::TestDb::<D>::new("ingest::killed_reference", &MIGRATIONS);
    run(&clean, &Contract::builtin_csv(), &[file]);
    assert_eq!(snapshot(db), snapshot(&clean));
});

const HEADERLESS: &str = r#"
name = "headerless"
format = "csv"
layout = "rows"
delimiter = ";"
header = false
columns = 9

[order.order_id]
column = 1
type = "text"
required = true
[order.customer_id]
column = 2
type = "text"
required = true
[order.customer_name]
column = 2
type = "text"
required = true
[order.status]
column = 3
type = "text"
required = true
case = "lower"
[order.currency]
column = 4
type = "text"
required = true
[order.placed_at]
column = 5
type = "timestamp"
required = true
formats = ["%Y-%m-%d %H:%M:%S"]
assume_offset = "+00:00"
[line.line_no]
column = 6
type = "integer"
required = true
[line.sku]
column = 7
type = "text"
required = true
[line.quantity]
column = 8
type = "integer"
required = true
[line.unit_price]
column = 9
type = "cents"
required = true
"#;

triglot::backend_test!(a_headerless_semicolon_file_is_read_by_position, |db| {
    let dir = tempfile::tempdir().unwrap();
    let contract = Contract::from_toml(HEADERLESS, "headerless.toml").unwrap();
    let file = dir.path().join("export.txt");
    std::fs::write(
        &file,
        "A1;C1;PAID;EUR;2026-11-24 10:00:00;1;X;2;150\n\
         A1;C1;PAID;EUR;2026-11-24 10:00:00;2;Y;1;99\n\
         A2;C2;Shipped;USD;2026-11-24 11:00:00;1;Z;1\n",
    )
    .unwrap();
    let s = run(db, &contract, std::slice::from_ref(&file));
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (3, 2, 1));
    assert_eq!(s.rejects_by_reason.get("wrong_column_count"), Some(&1));
    let order = db.run("read", |conn| conn.find_order("A1")).unwrap().unwrap();
    assert_eq!(order.total_cents, 399);
    assert_eq!(order.placed_at, crate::harness::at(2026, 11, 24, 10, 0, 0, 0));
});

#[cfg(feature = "sqlite")]
#[test]
fn a_busy_database_is_retried_until_the_batch_commits() {
    let db = triglot::testing::TestDb::<triglot::sqlite::SqliteDialect>::new(
        "ingest::busy_retry",
        &MIGRATIONS,
    );
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    // Longer than the 5 s busy timeout: the first attempt fails as busy.
    let holder = crate::harness::lock_sqlite(path, 5_600);
    let started = std::time::Instant::now();
    let summary = triglot_pipeline::OrderWriter::new(&db)
        .write_batch(&[crate::harness::order("O1", "C1", 2)])
        .unwrap();
    assert_eq!(summary.orders_inserted, 1);
    assert!(
        started.elapsed().as_millis() >= 5_500,
        "it waited out the lock: {:?}",
        started.elapsed()
    );
    holder.join().unwrap();
}

/// The headerless contract with a nullable note whose NULL spellings are
/// declared, and a pattern on the SKU.
fn null_texts_and_pattern_contract() -> Contract {
    let extra = r#"
[line.note]
column = 10
type = "text"
null = ["", "NULL", "N/A"]
trim = true
"#;
    let toml = HEADERLESS.replace("columns = 9", "columns = 10").replace(
        "[line.sku]\ncolumn = 7\ntype = \"text\"\nrequired = true",
        "[line.sku]\ncolumn = 7\ntype = \"text\"\nrequired = true\npattern = \"^[A-Z]{2}-[0-9]+$\"",
    );
    assert!(toml.contains("pattern"), "the SKU rule was added");
    Contract::from_toml(&format!("{toml}{extra}"), "null-texts.toml").unwrap()
}

triglot::backend_test!(declared_null_texts_are_null_and_a_pattern_mismatch_is_rejected, |db| {
    use triglot_pipeline::model::OrderLineQueries;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.txt");
    std::fs::write(
        &file,
        "A1;C1;PAID;EUR;2026-11-24 10:00:00;1;AB-1;1;100;NULL\n\
         A1;C1;PAID;EUR;2026-11-24 10:00:00;2;AB-2;1;100;N/A\n\
         A1;C1;PAID;EUR;2026-11-24 10:00:00;3;AB-3;1;100;\n\
         A1;C1;PAID;EUR;2026-11-24 10:00:00;4;AB-4;1;100;  gift wrap \n\
         A1;C1;PAID;EUR;2026-11-24 10:00:00;5;AB-5;1;100;null\n\
         A2;C2;PAID;EUR;2026-11-24 11:00:00;1;ab-9;1;100;NULL\n",
    )
    .unwrap();
    let s = run(db, &null_texts_and_pattern_contract(), std::slice::from_ref(&file));
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (6, 5, 1));
    let rejects = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (rejects[0].line, rejects[0].reason.as_str(), rejects[0].field.as_deref()),
        (6, "pattern_mismatch", Some("sku"))
    );

    let order = db.run("read", |conn| conn.find_order("A1")).unwrap().unwrap();
    let notes: Vec<Option<String>> = db
        .run("lines", |conn| conn.lines_of_orders(&[order.id]))
        .unwrap()
        .into_iter()
        .map(|l| l.note)
        .collect();
    // Only the declared spellings mean NULL, compared before trimming: a
    // lower-case "null" is text.
    assert_eq!(notes, [None, None, None, Some("gift wrap".to_owned()), Some("null".to_owned())]);
});

triglot::backend_test!(a_nul_byte_and_a_huge_record_are_rejects_and_the_run_completes, |db| {
    use triglot_pipeline::contract::{ORDERS_FLOW, STORED_TEXT_BYTES};
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 40, 0.0);
    let csv = dir.path().join("orders.csv");
    let text = std::fs::read(&csv).unwrap();
    let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    // Line 3: a NUL in its note. Line 5: a note of 200 KiB.
    lines[2].extend_from_slice(b"bad\0note");
    lines[4].extend(std::iter::repeat_n(b'x', 200 * 1024));
    std::fs::write(&csv, lines.join(&b'\n')).unwrap();

    for again in [false, true] {
        let s = run(db, &Contract::builtin_csv(), std::slice::from_ref(&csv));
        assert_eq!(s.records_read, s.records_accepted + s.records_rejected);
        let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
        let nul = stored.iter().find(|r| r.line == 3).expect("line 3 refused");
        assert_eq!((nul.reason.as_str(), nul.field.as_deref()), ("invalid_value", Some("note")));
        assert!(nul.raw.contains("bad\u{FFFD}note"), "{:?}", nul.raw);
        let huge = stored.iter().find(|r| r.line == 5).expect("line 5 refused");
        assert_eq!(huge.reason, "too_long", "{huge:?}");
        assert!(huge.raw.len() <= STORED_TEXT_BYTES && huge.raw.ends_with("more bytes]"));
        let w = &s.written;
        if again {
            assert_eq!((w.orders_inserted, w.orders_updated), (0, 0), "{s:?}");
        } else {
            assert!(w.orders_inserted > 30, "{s:?}");
        }
    }

    // The flow engine refuses them alike.
    let other = triglot::testing::TestDb::<D>::new("nul_flow", &MIGRATIONS);
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &other.introspect().unwrap()).unwrap();
    let files = std::collections::BTreeMap::from([("rows".to_string(), csv.clone())]);
    let summary = run_flow(&other, &flow, &files, &FlowOptions::default()).unwrap();
    assert_eq!(summary.rejects_by_reason.get("invalid_value"), Some(&1), "{summary:?}");
    assert_eq!(summary.rejects_by_reason.get("too_long"), Some(&1), "{summary:?}");
});

triglot::backend_test!(an_order_whose_lines_sum_past_bigint_is_out_of_range, |db| {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let head = "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";
    let order = "C-1,Cat,c@example.com,DE,paid,EUR,2026-11-20T10:00:00Z,";
    let rows = [
        format!("BIG-1,{order},1,SKU-1,1,50000000000000000.00,,"),
        "BIG-1,,,,,,,,,2,SKU-2,1,50000000000000000.00,,".to_string(),
        format!("BIG-2,{order},1,SKU-1,2,50000000000000000.00,,"),
        format!("OK-1,{order},1,SKU-1,2,1.50,,"),
    ];
    std::fs::write(&csv, format!("{head}\n{}\n", rows.join("\n"))).unwrap();
    let s = run(db, &Contract::builtin_csv(), std::slice::from_ref(&csv));
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (4, 1, 3), "{s:?}");
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let got: Vec<(i64, &str, Option<&str>)> =
        stored.iter().map(|r| (r.line, r.reason.as_str(), r.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (2, "out_of_range", Some("total")),
            (3, "rejected_with_order", None),
            (4, "out_of_range", Some("total"))
        ]
    );
    let orders = snapshot(db).orders;
    assert_eq!(orders.len(), 1);

    // The flow's exact arithmetic refuses the same orders.
    use triglot_pipeline::contract::ORDERS_FLOW;
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};
    let other = triglot::testing::TestDb::<D>::new("big_flow", &MIGRATIONS);
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &other.introspect().unwrap()).unwrap();
    let files = std::collections::BTreeMap::from([("rows".to_string(), csv.clone())]);
    let summary = run_flow(&other, &flow, &files, &FlowOptions::default()).unwrap();
    assert_eq!(summary.rejects_by_reason.get("out_of_range"), Some(&2), "{summary:?}");
    assert_eq!(summary.counts.accepted, 1, "{summary:?}");
});

triglot::backend_test!(times_outside_the_years_every_backend_stores_are_rejects, |db| {
    use triglot_pipeline::contract::ORDERS_FLOW;
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("edges.csv");
    let head = "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";
    // Lines 2–3 are stored everywhere; lines 4–8 are not (their UTC years
    // are past 9999 or before 1000, or past chrono's own range).
    let times = [
        "1000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-14:00",
        "0000-01-01T00:00:00+14:00",
        "0999-12-31T12:00:00Z",
        "+262142-12-31T23:59:59-14:00",
        "262142-12-31 23:59:59",
    ];
    let rows: Vec<String> = times
        .iter()
        .enumerate()
        .map(|(i, t)| format!("EDGE-{i},C-1,Cat,c@example.com,DE,paid,EUR,{t},,1,SKU-1,1,1.00,,"))
        .collect();
    std::fs::write(&csv, format!("{head}\n{}\n", rows.join("\n"))).unwrap();
    let s = run(db, &Contract::builtin_csv(), std::slice::from_ref(&csv));
    assert_eq!((s.records_read, s.records_accepted, s.records_rejected), (7, 2, 5), "{s:?}");
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let lines: Vec<i64> = stored.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8]);
    assert!(stored[..3].iter().all(|r| r.reason == "out_of_range"), "{stored:?}");

    let other = triglot::testing::TestDb::<D>::new("edge_flow", &MIGRATIONS);
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &other.introspect().unwrap()).unwrap();
    let files = std::collections::BTreeMap::from([("rows".to_string(), csv.clone())]);
    let summary = run_flow(&other, &flow, &files, &FlowOptions::default()).unwrap();
    assert_eq!((summary.counts.accepted, summary.counts.rejected), (2, 5), "{summary:?}");
});

triglot::backend_test!(the_reasons_no_generated_defect_makes_are_produced_with_their_lines, |db| {
    use triglot_pipeline::contract::BUILTIN_JSONL;

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("reasons.csv");
    let head = "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";
    let order = |id: &str, status: &str| {
        format!("{id},C-1,Cat,c@example.com,DE,{status},EUR,2026-11-20T10:00:00Z,")
    };
    let rows = [
        format!("{},1,SKU-1,1,12.3x,,", order("R-1", "paid")), // 2: invalid_money
        format!("{},1,SKU-1,1,1.00,,", order("R-2", "paid")),  // 3
        format!("{},2,SKU-2,1,1.00,,", order("R-2", "shipped")), // 4: conflicting_order_fields
        format!("{},1,SKU-1,1,1.00,,", order("R-3", "paid")),  // 5
        format!("{},1,SKU-1,1,1.00,,", order("R-4", "paid")),  // 6
        "R-3,,,,,,,,,2,SKU-2,1,1.00,,".to_string(),            // 7: split_order
    ];
    std::fs::write(&csv, format!("{head}\n{}\n", rows.join("\n"))).unwrap();
    let s = run(db, &Contract::builtin_csv(), std::slice::from_ref(&csv));
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let got: Vec<(i64, &str)> = stored.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "invalid_money"),
            (3, "rejected_with_order"),
            (4, "conflicting_order_fields"),
            (7, "split_order")
        ]
    );

    let jsonl = dir.path().join("reasons.jsonl");
    let line = r#"{"line_no": 1, "sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}"#;
    let order = |id: &str, lines: &str, total: &str| {
        format!(
            r#"{{"order_id": "{id}", "customer": {{"id": "C-1", "name": "Cat"}}, "status": "paid", "currency": "EUR", "placed_at": "2026-11-20T10:00:00Z", "total": "{total}", "lines": [{lines}]}}"#
        )
    };
    let records = [
        order("J-1", "", "0"),         // 1: order_without_lines
        "{\"order_id\": ".to_string(), // 2: invalid_json
        order("J-3", line, "25.01"),   // 3: total_mismatch
        order("J-4", line, "25.00"),   // 4: accepted
    ];
    std::fs::write(&jsonl, records.join("\n") + "\n").unwrap();
    let toml = format!(
        "{BUILTIN_JSONL}\n[order.total]\ncolumn = \"total\"\ntype = \"money\"\ntrim = true\n"
    );
    let contract = Contract::from_toml(&toml, "with-total.toml").unwrap();
    let s = run(db, &contract, std::slice::from_ref(&jsonl));
    assert_eq!((s.records_accepted, s.records_rejected), (1, 3), "{s:?}");
    let stored = db.run("rejects", |conn| conn.rejects_of_run(s.run_id)).unwrap();
    let got: Vec<(i64, &str)> = stored.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(got, [(1, "order_without_lines"), (2, "invalid_json"), (3, "total_mismatch")]);
});

triglot::backend_test!(eight_concurrent_runs_over_the_same_keys_all_complete, |db| {
    use triglot_pipeline::contract::ORDERS_FLOW;
    use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 600, 0.02);
    let csv = dir.path().join("orders.csv");
    // Small batches, so that writers interleave on the same keys.
    let options = IngestOptions { batch_size: 50, ..IngestOptions::default() };
    let results: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    ingest(
                        db,
                        &Contract::builtin_csv(),
                        std::slice::from_ref(&csv),
                        &options,
                        &mut |_| {},
                    )
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for r in &results {
        let s = r.as_ref().unwrap_or_else(|e| panic!("a run stopped on {}: {e}", D::NAME));
        assert_eq!(s.records_read, s.records_accepted + s.records_rejected);
        let row = db.run("run", |conn| conn.find_run(s.run_id)).unwrap();
        assert_eq!(row.retries, s.written.retries as i64, "the run's row counts its retries");
    }
    let clean = triglot::testing::TestDb::<D>::new("concurrent_clean", &MIGRATIONS);
    ingest(&clean, &Contract::builtin_csv(), std::slice::from_ref(&csv), &options, &mut |_| {})
        .unwrap();
    let strip = |s: crate::harness::Snapshot| {
        let orders: Vec<_> = s.orders.into_iter().map(|o| (o.0, o.1, o.2, o.3, o.4)).collect();
        (s.customers, orders, s.lines)
    };
    assert_eq!(strip(snapshot(db)), strip(snapshot(&clean)), "on {}", D::NAME);

    // Flows, eight at once into a database of their own.
    let flowed = triglot::testing::TestDb::<D>::new("concurrent_flow", &MIGRATIONS);
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &flowed.introspect().unwrap()).unwrap();
    let files = std::collections::BTreeMap::from([("rows".to_string(), csv.clone())]);
    let options = FlowOptions { batch_size: 50, ..FlowOptions::default() };
    let results: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> =
            (0..8).map(|_| s.spawn(|| run_flow(&flowed, &flow, &files, &options))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    #[derive(diesel::QueryableByName)]
    struct Retries {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        retries: i64,
    }
    for r in &results {
        let s = r.as_ref().unwrap_or_else(|e| panic!("a flow stopped on {}: {e}", D::NAME));
        assert_eq!(s.counts.read, s.counts.accepted + s.counts.rejected);
        let sql = format!("SELECT retries FROM triglot_runs WHERE run_id = {}", s.run_id);
        let row: Retries = flowed
            .run("run", |conn| {
                diesel::RunQueryDsl::get_result(triglot::values::Statement::new(&sql), conn)
            })
            .unwrap();
        assert_eq!(row.retries, s.counts.retries as i64, "the run's row counts its retries");
    }
    assert_eq!(strip(snapshot(&flowed)), strip(snapshot(&clean)), "on {}", D::NAME);
});
