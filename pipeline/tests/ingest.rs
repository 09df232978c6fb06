//! Ingest through flow contracts, on every backend: every record written or
//! rejected with its reason and line, counts that reconcile, idempotent runs,
//! and a killed or failed run that a second run completes.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use std::path::{Path, PathBuf};

use diesel::QueryableByName;
use diesel::query_dsl::LoadQuery;
use diesel::sql_types::{BigInt, Nullable, Text};
use triglot::Database;
use triglot::values::Statement;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_JSONL_FLOW};
use triglot_pipeline::flow::{Flow, FlowBackend, FlowOptions, FlowSummary, TableWrites, run_flow};
use triglot_pipeline::model::OrderQueries;

use crate::harness::{generated, snapshot};

/// Binds the flow contract `text` to `db` and runs it over `files`, one per
/// source in the order the contract declares them.
fn run_contract<D: FlowBackend>(
    db: &Database<D>,
    text: &str,
    files: &[PathBuf],
    options: &FlowOptions,
) -> FlowSummary {
    let flow = Flow::bind(text, "contract.toml", &db.introspect().unwrap()).unwrap();
    let files = flow.files_in_order(files).unwrap();
    run_flow(db, &flow, &files, options).unwrap()
}

/// A reject as `triglot_rejects` holds it.
#[derive(QueryableByName, Debug)]
struct Stored {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Nullable<Text>)]
    field: Option<String>,
    #[diesel(sql_type = Text)]
    reason: String,
    #[diesel(sql_type = Text)]
    detail: String,
    #[diesel(sql_type = Text)]
    raw: String,
}

/// The stored rejects of run `run_id`, by file and line.
fn stored_rejects<D: FlowBackend>(db: &Database<D>, run_id: i64) -> Vec<Stored>
where
    for<'q> Statement: LoadQuery<'q, D::Connection, Stored>,
{
    let sql = format!(
        "SELECT source, line, field, reason, detail, raw FROM triglot_rejects \
         WHERE run_id = {run_id} ORDER BY source, line, reason"
    );
    db.run("reading rejects", |conn| diesel::RunQueryDsl::load(Statement::new(&sql), conn)).unwrap()
}

/// A run as `triglot_runs` holds it.
#[derive(QueryableByName, Debug)]
struct RunRow {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    records_read: i64,
    #[diesel(sql_type = BigInt)]
    records_accepted: i64,
    #[diesel(sql_type = BigInt)]
    records_rejected: i64,
    #[diesel(sql_type = BigInt)]
    retries: i64,
}

/// The row of run `run_id`.
fn run_row<D: FlowBackend>(db: &Database<D>, run_id: i64) -> RunRow
where
    for<'q> Statement: LoadQuery<'q, D::Connection, RunRow>,
{
    let sql = format!(
        "SELECT status, records_read, records_accepted, records_rejected, retries \
         FROM triglot_runs WHERE run_id = {run_id}"
    );
    db.run("reading the run", |conn| diesel::RunQueryDsl::get_result(Statement::new(&sql), conn))
        .unwrap()
}

/// What a run wrote to `table` (nothing when it is not in the summary).
fn writes(summary: &FlowSummary, table: &str) -> TableWrites {
    summary.tables.get(table).copied().unwrap_or_default()
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
        (dir.path().join("orders.csv"), ORDERS_FLOW, &g.csv),
        (dir.path().join("orders.jsonl"), ORDERS_JSONL_FLOW, &g.jsonl),
    ] {
        let s = run_contract(db, contract, std::slice::from_ref(&file), &FlowOptions::default());
        let c = &s.counts;
        assert_eq!(c.read, c.accepted + c.rejected);
        assert_eq!(
            (c.read, c.accepted, c.rejected),
            (expected.records, expected.accepted, expected.rejected),
            "{}",
            file.display()
        );
        assert_eq!(s.rejects_by_reason, expected.by_reason, "{}", file.display());

        let stored = stored_rejects(db, s.run_id);
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

        let row = run_row(db, s.run_id);
        assert_eq!(row.status, "succeeded");
        assert_eq!(row.records_read, row.records_accepted + row.records_rejected);
        assert_eq!(row.records_read as u64, expected.records);
    }
});

triglot::backend_test!(a_second_ingest_of_the_same_input_changes_nothing, |db| {
    let dir = tempfile::tempdir().unwrap();
    let g = generated(dir.path(), 300, 0.05);
    let files = [dir.path().join("orders.csv")];
    let first = run_contract(db, ORDERS_FLOW, &files, &FlowOptions::default());
    assert_eq!(writes(&first, "orders").new, g.csv.orders, "{first:?}");
    assert_eq!(writes(&first, "order_lines").rows, g.csv.lines, "{first:?}");
    let before = snapshot(db);
    let second = run_contract(db, ORDERS_FLOW, &files, &FlowOptions::default());
    let orders = writes(&second, "orders");
    assert_eq!(
        (orders.new, orders.changed, orders.unchanged, writes(&second, "order_lines").rows),
        (0, 0, g.csv.orders, 0),
        "{second:?}"
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
    // A flow reads one file per source, so the files are two runs; small
    // batches, so the 20 orders both files hold are met across batches.
    let options = FlowOptions { batch_size: 10, ..FlowOptions::default() };
    let first = run_contract(db, ORDERS_FLOW, &[a], &options);
    let second = run_contract(db, ORDERS_FLOW, &[b], &options);
    assert_eq!((first.counts.rejected, second.counts.rejected), (0, 0));
    let (a, b) = (writes(&first, "orders"), writes(&second, "orders"));
    assert_eq!((a.new, a.changed, a.unchanged), (60, 0, 0), "{first:?}");
    // The orders the first file held are written again from the second:
    // their `source` column names the file they were read from.
    assert_eq!((b.new, b.changed, b.unchanged), (40, 20, 0), "{second:?}");
    let b_text = std::fs::read_to_string(dir.path().join("b.csv")).unwrap();
    let shared = b_text.lines().nth(1).unwrap().split(',').next().unwrap();
    let order = db.run("read", |conn| conn.find_order(shared)).unwrap().unwrap();
    assert!(order.source.ends_with("b.csv"), "{order:?}");
    assert_eq!(db.run("count", |conn| conn.count_orders()).unwrap(), 100);
    assert_eq!(snapshot(db).lines.len() as u64, g.csv.lines);
});

/// The rejects the foreign layout example's files make, by reason: a line
/// number twice in one order, a date that does not exist, a line of no
/// order, and the records refused with the first two.
const FOREIGN_REASONS: [(&str, u64); 4] = [
    ("duplicate_line_no", 1),
    ("invalid_timestamp", 1),
    ("missing_order", 1),
    ("rejected_with_order", 3),
];

triglot::backend_test!(the_foreign_layout_example_is_ingested, |db| {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-layout");
    let flow = Flow::load(&example.join("flow.toml"), &db.introspect().unwrap()).unwrap();
    let files =
        flow.files_in_order(&[example.join("orders.txt"), example.join("lines.txt")]).unwrap();
    let s = run_flow(db, &flow, &files, &FlowOptions::default()).unwrap();
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (14, 8, 6), "{s:?}");
    let reasons: Vec<(&str, u64)> =
        s.rejects_by_reason.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(reasons, FOREIGN_REASONS);
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
    let stored = stored_rejects(db, s.run_id);
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
    let text = read("flow.toml").replace("pattern = \"[0-9]{6}\"", "pattern = \"[0-9]+\"");
    assert_ne!(text, read("flow.toml"), "the order id pattern was widened");
    // A few hundred bytes of records in memory: every file goes through
    // sorted runs on disk.
    let options = FlowOptions { sort_memory: 300, ..FlowOptions::default() };
    let files = [dir.path().join("orders.txt"), dir.path().join("lines.txt")];
    let s = run_contract(db, &text, &files, &options);
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (14, 8, 6), "{s:?}");
    let reasons: Vec<(&str, u64)> =
        s.rejects_by_reason.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(reasons, FOREIGN_REASONS, "on {}", D::NAME);
    let order = db.run("read", |conn| conn.find_order("32")).unwrap().unwrap();
    assert_eq!(order.total_cents, 12_000, "on {}", D::NAME);
    let stored = stored_rejects(db, s.run_id);
    let orphan = stored.iter().find(|r| r.reason == "missing_order").unwrap();
    let orphan_line = line_rows.iter().position(|l| l.starts_with("3|")).unwrap() as i64 + 2;
    assert_eq!(
        (orphan.line, orphan.raw.starts_with("3|1|sku-z")),
        (orphan_line, true),
        "{orphan:?}"
    );
});

triglot::backend_test!(an_order_id_twice_in_an_orders_file_is_a_duplicate_key, |db| {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/foreign-layout");
    let dir = tempfile::tempdir().unwrap();
    let mut orders = std::fs::read_to_string(example.join("orders.txt")).unwrap();
    let again = orders.lines().nth(2).unwrap().to_owned();
    orders.push_str(&again);
    orders.push('\n');
    std::fs::write(dir.path().join("orders.txt"), orders).unwrap();
    let text = std::fs::read_to_string(example.join("flow.toml")).unwrap();
    let files = [dir.path().join("orders.txt"), example.join("lines.txt")];
    let s = run_contract(db, &text, &files, &FlowOptions::default());
    let stored = stored_rejects(db, s.run_id);
    // The contract's `[reasons]` names a duplicate key `duplicate_line_no`.
    let duplicate = stored
        .iter()
        .find(|r| r.reason == "duplicate_line_no" && r.source.ends_with("orders.txt"))
        .unwrap_or_else(|| panic!("no duplicate key reject: {s:?}, {stored:#?}"));
    assert_eq!(duplicate.line, 7, "{duplicate:?}");
    assert!(duplicate.detail.contains("also on line 3"), "{duplicate:?}");
});

/// Makes the database refuse every order line with sku `POISON` on a CHECK
/// constraint the contract cannot foresee: the SQL that adds it and the SQL
/// that removes it. SQLite cannot add a CHECK to a table, so a trigger puts
/// the sku into a table whose CHECK refuses it.
fn poison_sql(backend: &str) -> (&'static str, &'static str) {
    match backend {
        "SQLite" => (
            "CREATE TABLE poison (sku TEXT CHECK (sku <> 'POISON')); \
             CREATE TRIGGER poison_line BEFORE INSERT ON order_lines WHEN NEW.sku = 'POISON' \
             BEGIN INSERT INTO poison (sku) VALUES (NEW.sku); END",
            "DROP TRIGGER poison_line; DROP TABLE poison",
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

triglot::backend_test!(
    an_order_the_database_refuses_is_rejected_with_its_lines_and_a_rerun_loads_it_once_allowed,
    |db| {
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().unwrap();
        let g = generated(dir.path(), 400, 0.02);
        let file = dir.path().join("orders.csv");
        poison_order(&file, "DEMO-7-0000250");
        let (add, remove) = poison_sql(D::NAME);
        db.get().unwrap().batch_execute(add).unwrap();

        // The batch holding order 250 is refused, written again family by
        // family, and only order 250 is refused: the run completes.
        let options = FlowOptions { batch_size: 50, ..FlowOptions::default() };
        let s = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&file), &options);
        let stored = stored_rejects(db, s.run_id);
        let poisoned: Vec<(&str, Option<&str>)> = stored
            .iter()
            .filter(|r| r.raw.starts_with("DEMO-7-0000250,"))
            .map(|r| (r.reason.as_str(), r.field.as_deref()))
            .collect();
        // Its first row with the reason the database gave, the others with it.
        let bytes = std::fs::read(&file).unwrap();
        let lines =
            bytes.split(|b| *b == b'\n').filter(|l| l.starts_with(b"DEMO-7-0000250,")).count();
        let mut want = vec![("check_violation", None)];
        want.resize(lines, ("rejected_with_order", None));
        assert_eq!(poisoned, want, "on {}", D::NAME);
        let lines = lines as u64;
        assert_eq!(s.counts.read, g.csv.records, "{s:?}");
        assert_eq!(s.counts.rejected, g.csv.rejected + lines, "{s:?}");
        assert_eq!(s.rejects_by_reason.get("check_violation"), Some(&1), "{s:?}");
        let kept = db.run("count", |conn| conn.count_orders()).unwrap() as u64;
        assert_eq!((kept, writes(&s, "orders").new), (g.csv.orders - 1, g.csv.orders - 1));
        let row = run_row(db, s.run_id);
        assert_eq!(row.status, "succeeded");
        assert_eq!(row.records_read, row.records_accepted + row.records_rejected);

        db.get().unwrap().batch_execute(remove).unwrap();
        let rerun = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&file), &options);
        let orders = writes(&rerun, "orders");
        assert_eq!((orders.new, orders.unchanged), (1, kept), "{rerun:?}");
        assert_eq!(rerun.counts.rejected, g.csv.rejected, "{rerun:?}");

        let clean = triglot::testing::TestDb::<D>::new("ingest::refused_reference", &MIGRATIONS);
        run_contract(&clean, ORDERS_FLOW, &[file], &options);
        assert_eq!(snapshot(db), snapshot(&clean), "on {}", D::NAME);
    }
);

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

/// One count, as `SELECT COUNT(*) AS n` gives it.
#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The order lines' link to their order as the backend checks it after a
/// load into an empty table (`None` where it is checked row by row).
fn link<D: FlowBackend>(db: &Database<D>) -> Option<triglot::DeferredKeyCheck> {
    let key = triglot::introspect::ForeignKey {
        columns: vec!["order_id".to_owned()],
        references: "orders".to_owned(),
        referenced_columns: vec!["id".to_owned()],
    };
    db.run("link", |c| D::foreign_key_checked_after_load(c, "order_lines", &key)).unwrap()
}

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
        // Until the run creates its books, there is no table to count.
        let committed = db.run("count", |conn| {
            let runs = Statement::new("SELECT COUNT(*) AS n FROM triglot_runs");
            diesel::RunQueryDsl::get_result::<Count>(runs, conn)
                .and_then(|r| if r.n > 0 { conn.count_orders() } else { Ok(0) })
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
    let killed = run_row(db, 1);
    assert_eq!(killed.status, "running", "the killed run never finished");
    assert_eq!(
        killed.records_read,
        killed.records_accepted + killed.records_rejected,
        "it reconciles at every commit"
    );
    assert!((killed.records_read as u64) < 18_000);
    // The orders' plain indexes a backend builds after a load into an empty
    // table are dropped and recorded, until a run builds them again.
    let clean = triglot::testing::TestDb::<D>::new("ingest::killed_reference", &MIGRATIONS);
    let indexes = |db: &Database<D>| db.introspect().unwrap().tables["orders"].indexes.clone();
    let deferred = db
        .run("count", |conn| {
            let recorded = Statement::new("SELECT COUNT(*) AS n FROM triglot_deferred_indexes");
            diesel::RunQueryDsl::get_result::<Count>(recorded, conn)
        })
        .unwrap()
        .n;
    assert_eq!(
        indexes(db).len() + deferred as usize,
        indexes(&clean).len(),
        "{:?} and {deferred} recorded",
        indexes(db)
    );

    // The lines' link to their order, where a backend checks it after a
    // load into an empty table rather than row by row, is left in place
    // but unchecked, until a run checks it.
    let checked_after_load = link(&clean);
    assert_eq!(checked_after_load.is_some(), D::NAME == "PostgreSQL");
    assert_eq!(link(db).map(|k| k.valid), checked_after_load.as_ref().map(|_| false));

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", url, "ingest", "--quiet"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(indexes(db), indexes(&clean), "built again by the next run");
    assert_eq!(link(db), checked_after_load, "checked by the next run");

    run_contract(&clean, ORDERS_FLOW, &[file], &FlowOptions::default());
    assert_eq!(snapshot(db), snapshot(&clean));
    assert_eq!(indexes(db), indexes(&clean));
});

triglot::backend_test!(
    a_load_into_an_empty_child_drops_its_link_in_each_batch_and_leaves_it_checked,
    |db| {
        let Some(before) = link(db) else {
            assert_ne!(D::NAME, "PostgreSQL", "PostgreSQL checks the link after a load");
            return;
        };
        // Dropped and added back, the key is a new row of the catalog.
        let oid = |db: &Database<D>| {
            let query = Statement::new(format!(
                "SELECT CAST(oid AS BIGINT) AS n FROM pg_constraint WHERE conname = '{}'",
                before.name
            ));
            db.run("oid", |c| diesel::RunQueryDsl::get_result::<Count>(query, c)).unwrap().n
        };
        let first = oid(db);
        let dir = tempfile::tempdir().unwrap();
        generated(dir.path(), 300, 0.0);
        run_contract(db, ORDERS_FLOW, &[dir.path().join("orders.csv")], &FlowOptions::default());
        assert_ne!(oid(db), first, "dropped and added back by the batches");
        assert_eq!(link(db), Some(before), "checked once the load is in");
    }
);

triglot::backend_test!(a_link_left_unchecked_over_a_line_of_no_order_does_not_stop_a_run, |db| {
    let Some(key) = link(db) else {
        assert_ne!(D::NAME, "PostgreSQL", "PostgreSQL checks the link after a load");
        return;
    };
    // A line of an order that is not there, written while another session
    // held the key unchecked.
    db.write("a line of no order", |c| {
        use diesel::connection::SimpleConnection as _;
        c.batch_execute(&key.suspend)?;
        c.batch_execute(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) \
             VALUES (999999, 1, 'X', 1, 1)",
        )?;
        c.batch_execute(&key.resume)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 200, 0.0);
    let summary =
        run_contract(db, ORDERS_FLOW, &[dir.path().join("orders.csv")], &FlowOptions::default());
    assert_eq!(summary.counts.read, summary.counts.accepted);
    assert!(summary.counts.accepted > 0);
    assert_eq!(link(db).map(|k| k.valid), Some(false), "left unchecked");
    let another = db.write("another line of no order", |c| {
        use diesel::connection::SimpleConnection as _;
        c.batch_execute(
            "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) \
             VALUES (999998, 1, 'X', 1, 1)",
        )
    });
    assert_eq!(
        another.unwrap_err().kind(),
        Some(triglot::ErrorKind::ForeignKeyViolation),
        "and holding for new lines"
    );
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

/// A headerless `;` file read by position into the order schema, with a
/// nullable note whose NULL spellings are declared and a pattern on the SKU.
const NULL_TEXTS_FLOW: &str = r#"
name = "null-texts"

[sources.rows]
format = "csv"
delimiter = ";"
header = false
fields = ["order_id", "customer", "status", "currency", "placed_at", "line_no", "sku", "quantity", "price", "note"]
grouped = true

[tables.customers]
source = "rows"
distinct = true
key = ["external_id"]
columns.external_id = { field = "customer" }
columns.name = { field = "customer" }
columns.created_at = { meta = "now", update = false }

[tables.orders]
source = "rows"
key = ["external_id"]
columns.external_id = { field = "order_id" }
columns.customer_id = { field = "customer", lookup = "customers.external_id" }
columns.status = { field = "status", case = "lower" }
columns.currency = { field = "currency" }
columns.placed_at = { field = "placed_at", formats = ["%Y-%m-%d %H:%M:%S"], assume_offset = "+00:00" }
columns.updated_at = { expr = "placed_at" }
columns.total_cents = { expr = "sum(order_lines.amount)", minor_units = 2 }
columns.source = { meta = "file" }
columns.content_hash = { meta = "fingerprint" }

# Prices in the file are already cents.
[tables.order_lines]
source = "rows"
parent = "orders"
key = ["order_id", "line_no"]
columns.order_id = { parent = "id" }
columns.line_no = { field = "line_no" }
columns.sku = { field = "sku", pattern = "^[A-Z]{2}-[0-9]+$" }
columns.quantity = { field = "quantity" }
columns.unit_price_cents = { field = "price" }
columns.note = { field = "note", null = ["", "NULL", "N/A"], trim = true }
inputs.amount = { expr = "quantity * unit_price_cents / 100", type = "decimal" }
"#;

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
    let s = run_contract(db, NULL_TEXTS_FLOW, std::slice::from_ref(&file), &FlowOptions::default());
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (6, 5, 1), "{s:?}");
    let rejects = stored_rejects(db, s.run_id);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
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
    use triglot_pipeline::contract::STORED_TEXT_BYTES;

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
        let s = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&csv), &FlowOptions::default());
        assert_eq!(s.counts.read, s.counts.accepted + s.counts.rejected);
        assert_eq!(s.rejects_by_reason.get("invalid_value"), Some(&1), "{s:?}");
        assert_eq!(s.rejects_by_reason.get("too_long"), Some(&1), "{s:?}");
        let stored = stored_rejects(db, s.run_id);
        let nul = stored.iter().find(|r| r.line == 3).expect("line 3 refused");
        assert_eq!((nul.reason.as_str(), nul.field.as_deref()), ("invalid_value", Some("note")));
        assert!(nul.raw.contains("bad\u{FFFD}note"), "{:?}", nul.raw);
        let huge = stored.iter().find(|r| r.line == 5).expect("line 5 refused");
        assert_eq!(huge.reason, "too_long", "{huge:?}");
        assert!(huge.raw.len() <= STORED_TEXT_BYTES && huge.raw.ends_with("more bytes]"));
        let orders = writes(&s, "orders");
        if again {
            assert_eq!((orders.new, orders.changed), (0, 0), "{s:?}");
        } else {
            assert!(orders.new > 30, "{s:?}");
        }
    }
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
    let s = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&csv), &FlowOptions::default());
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (4, 1, 3), "{s:?}");
    assert_eq!(s.rejects_by_reason.get("out_of_range"), Some(&2), "{s:?}");
    let stored = stored_rejects(db, s.run_id);
    let got: Vec<(i64, &str, Option<&str>)> =
        stored.iter().map(|r| (r.line, r.reason.as_str(), r.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (2, "out_of_range", Some("total_cents")),
            (3, "rejected_with_order", None),
            (4, "out_of_range", Some("total_cents"))
        ]
    );
    let orders = snapshot(db).orders;
    assert_eq!(orders.len(), 1);
});

triglot::backend_test!(times_outside_the_years_every_backend_stores_are_rejects, |db| {
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
    let s = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&csv), &FlowOptions::default());
    assert_eq!((s.counts.read, s.counts.accepted, s.counts.rejected), (7, 2, 5), "{s:?}");
    let stored = stored_rejects(db, s.run_id);
    let lines: Vec<i64> = stored.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8]);
    assert!(stored[..3].iter().all(|r| r.reason == "out_of_range"), "{stored:?}");
});

triglot::backend_test!(the_reasons_no_generated_defect_makes_are_produced_with_their_lines, |db| {
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
    let s = run_contract(db, ORDERS_FLOW, std::slice::from_ref(&csv), &FlowOptions::default());
    let stored = stored_rejects(db, s.run_id);
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
    // The order's declared total, checked against its lines, and an order
    // without lines refused.
    let anchor = ORDERS_JSONL_FLOW
        .lines()
        .find(|l| l.starts_with("inputs.updated = "))
        .expect("the orders' inputs");
    let checks = format!(
        "{anchor}\n\
         inputs.declared = {{ field = \"total\", type = \"decimal\" }}\n\
         checks = [\n  \
         {{ name = \"has_lines\", expr = \"count(order_lines) > 0\", reason = \"order_without_lines\" }},\n  \
         {{ name = \"total_matches_lines\", expr = \"declared = total_cents\", reason = \"total_mismatch\" }},\n\
         ]"
    );
    let text = ORDERS_JSONL_FLOW.replacen(anchor, &checks, 1);
    assert_ne!(text, ORDERS_JSONL_FLOW);
    let s = run_contract(db, &text, std::slice::from_ref(&jsonl), &FlowOptions::default());
    assert_eq!((s.counts.accepted, s.counts.rejected), (1, 3), "{s:?}");
    let stored = stored_rejects(db, s.run_id);
    let got: Vec<(i64, &str)> = stored.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(got, [(1, "order_without_lines"), (2, "invalid_json"), (3, "total_mismatch")]);
});

triglot::backend_test!(eight_concurrent_runs_over_the_same_keys_all_complete, |db| {
    let dir = tempfile::tempdir().unwrap();
    generated(dir.path(), 600, 0.02);
    let csv = dir.path().join("orders.csv");
    let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect().unwrap()).unwrap();
    let files = flow.files_in_order(std::slice::from_ref(&csv)).unwrap();
    // Small batches, so that writers interleave on the same keys.
    let options = FlowOptions { batch_size: 50, ..FlowOptions::default() };
    let results: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> =
            (0..8).map(|_| s.spawn(|| run_flow(db, &flow, &files, &options))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for r in &results {
        let s = r.as_ref().unwrap_or_else(|e| panic!("a run stopped on {}: {e}", D::NAME));
        assert_eq!(s.counts.read, s.counts.accepted + s.counts.rejected);
        let row = run_row(db, s.run_id);
        assert_eq!(row.retries, s.counts.retries as i64, "the run's row counts its retries");
    }
    // Batches over the same table take turns (`triglot_turns`), so none
    // deadlocks and none is tried twice.
    let retries: Vec<u64> = results.iter().flatten().map(|s| s.counts.retries).collect();
    assert_eq!(retries, [0; 8], "on {}", D::NAME);
    let clean = triglot::testing::TestDb::<D>::new("concurrent_clean", &MIGRATIONS);
    run_contract(&clean, ORDERS_FLOW, std::slice::from_ref(&csv), &options);
    let strip = |s: crate::harness::Snapshot| {
        let orders: Vec<_> = s.orders.into_iter().map(|o| (o.0, o.1, o.2, o.3, o.4)).collect();
        (s.customers, orders, s.lines)
    };
    assert_eq!(strip(snapshot(db)), strip(snapshot(&clean)), "on {}", D::NAME);
});
