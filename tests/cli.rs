//! The `triglot` program end to end, on SQLite files.

use std::process::{Command, Output};

fn triglot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run triglot")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn demo_writes_and_summarizes_then_status_counts_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = triglot(&["--database-url", &url, "demo", "--orders", "500", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("triglot demo on SQLite"), "{text}");
    assert!(text.contains("500 new, 0 changed, 0 unchanged"), "{text}");
    assert!(text.contains("orders from demo:seed=7: 500 orders"), "{text}");
    assert!(text.contains("rows/s"), "{text}");

    let again = triglot(&["--database-url", &url, "demo", "--orders", "500", "--seed", "7"]);
    assert!(stdout(&again).contains("0 new, 0 changed, 500 unchanged"), "{}", stdout(&again));

    let status = triglot(&["--database-url", &url, "status"]);
    let text = stdout(&status);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(text.contains("2 applied, 0 pending"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("orders") && l.contains("500 rows")),
        "{text}"
    );
    assert!(text.contains("ingest_runs") && text.contains("pool:"), "{text}");
}

#[test]
fn demo_json_summary_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = triglot(&["--database-url", &url, "demo", "--orders", "100", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["orders"], 100);
    assert_eq!(json["written"]["orders_inserted"], 100);
    let by_status: i64 =
        json["by_status"].as_array().unwrap().iter().map(|r| r["orders"].as_i64().unwrap()).sum();
    assert_eq!(by_status, 100);
}

#[test]
fn unwritable_location_fails_with_the_path_and_no_panic() {
    for (path, why) in [
        ("/some/read-only/dir/x.db", "does not exist"),
        // /proc refuses new files even to root.
        ("/proc/triglot-test.db", "unable to open"),
    ] {
        let out =
            triglot(&["--database-url", &format!("sqlite://{path}"), "demo", "--orders", "10"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(path), "message must name {path}: {err}");
        assert!(err.to_lowercase().contains(why), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn database_url_falls_back_to_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["migrate"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("env.db: applied 2 migration(s)"), "{}", stdout(&out));
}

#[test]
fn help_does_not_print_the_database_url_from_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--help"])
        .env("DATABASE_URL", "postgres://u:hunter2@h/db")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("hunter2"), "{}", stdout(&out));
}

/// Runs `triglot demo --json` on a fresh database of backend `D` and returns
/// the figures that must not depend on the backend.
#[allow(dead_code)]
fn demo_figures<D: triglot::testing::TestBackend>() -> serde_json::Value {
    let db = triglot::testing::TestDb::<D>::new(&format!("cli::demo_figures::{}", D::NAME));
    let out = triglot(&[
        "--database-url",
        db.url(),
        "demo",
        "--orders",
        "1500",
        "--seed",
        "11",
        "--json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}: {}", D::NAME, stderr(&out));
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backend"], D::NAME);
    let figures = json.as_object_mut().unwrap();
    for varying in ["backend", "elapsed", "run_id"] {
        figures.remove(varying);
    }
    json
}

#[test]
fn demo_summary_for_a_seed_is_identical_on_every_backend() {
    let summaries: Vec<(&str, serde_json::Value)> = vec![
        #[cfg(feature = "sqlite")]
        ("sqlite", demo_figures::<triglot::sqlite::SqliteDialect>()),
        #[cfg(feature = "mysql")]
        ("mysql", demo_figures::<triglot::mysql::MysqlDialect>()),
        #[cfg(feature = "postgres")]
        ("postgres", demo_figures::<triglot::postgres::PostgresDialect>()),
    ];

    // The figures recomputed in Rust from the generated records.
    let data = triglot::DemoData::today(11, 1_500);
    let mut by_status = std::collections::BTreeMap::<(String, String), (i64, i64)>::new();
    let mut lines = 0;
    for record in data.records() {
        let entry =
            by_status.entry((record.status.to_string(), record.currency.clone())).or_default();
        entry.0 += 1;
        entry.1 += record.total_cents;
        lines += record.lines.len() as i64;
    }
    let expected: Vec<serde_json::Value> = by_status
        .into_iter()
        .map(|((status, currency), (orders, total))| {
            serde_json::json!({"status": status, "currency": currency, "orders": orders, "total_cents": total})
        })
        .collect();

    for (backend, summary) in &summaries {
        assert_eq!(summary["orders"], 1_500, "{backend}");
        assert_eq!(summary["lines"], lines, "{backend}");
        assert_eq!(summary["by_status"], serde_json::Value::Array(expected.clone()), "{backend}");
        assert_eq!(summary, &summaries[0].1, "{backend} differs from {}", summaries[0].0);
    }
}

#[test]
fn ingest_prints_counts_and_rejects_by_reason_and_writes_the_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = triglot(&[
        "generate",
        "--orders",
        "200",
        "--dirty-rate",
        "0.1",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = format!("sqlite://{}", dir.path().join("i.db").display());
    let rejects = dir.path().join("rejects.csv");
    let csv = dir.path().join("orders.csv");
    let out = triglot(&[
        "--database-url",
        &url,
        "ingest",
        csv.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap()).unwrap();
    let rejected = expected["csv"]["rejected"].as_u64().unwrap();
    assert!(text.contains("rejects by reason:") && text.contains("rejected_with_order"), "{text}");
    let rows = std::fs::read_to_string(&rejects).unwrap_or_else(|_| {
        String::from_utf8_lossy(&std::fs::read(&rejects).unwrap()).into_owned()
    });
    let mut reader = csv::ReaderBuilder::new().from_reader(rows.as_bytes());
    assert_eq!(reader.records().count() as u64, rejected, "one CSV row per reject");

    let out = triglot(&["--database-url", &url, "ingest", "--json", csv.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["records_read"], expected["csv"]["records"]);
    assert_eq!(json["written"]["orders_inserted"], 0, "a second run writes nothing");
}

#[test]
fn an_invalid_contract_is_refused_with_its_line_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let contract = dir.path().join("bad.toml");
    std::fs::write(
        &contract,
        format!(
            "{}\n[line.quantity]\ncolumn = \"quantity\"\ntype = \"integr\"\n",
            "name = \"bad\"\nformat = \"csv\"\nlayout = \"rows\""
        ),
    )
    .unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let out = triglot(&[
        "--database-url",
        &url,
        "ingest",
        "--contract",
        contract.to_str().unwrap(),
        "missing.csv",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml line 6: unknown type \"integr\""), "{err}");
    assert!(!dir.path().join("c.db").exists(), "nothing may be written for a refused contract");
}

#[test]
fn a_contract_column_missing_from_the_header_is_refused_before_a_run_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "order_id,customer\nA,B\n").unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let out = triglot(&["--database-url", &url, "ingest", csv.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("contract builtin:orders-csv line")
            && err.contains("\"customer_id\" is not in the header"),
        "{err}"
    );
    let status = stdout(&triglot(&["--database-url", &url, "status"]));
    assert!(status.lines().any(|l| l.contains("ingest_runs") && l.contains(" 0 rows")), "{status}");
}

#[test]
fn report_gates_a_pipeline_and_renders_html_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let demo = triglot(&["--database-url", &url, "demo", "--orders", "300"]);
    let text = stdout(&demo);
    assert!(demo.status.success(), "{}", stderr(&demo));
    assert!(
        text.contains("triglot quality report · SQLite") && text.contains("PASS    freshness."),
        "{text}"
    );

    let html_path = dir.path().join("report.html");
    let out = triglot(&[
        "--database-url",
        &url,
        "report",
        "--since",
        "2026-01-01",
        "--until",
        "2030-01-01",
        "--format",
        "html",
        "--out",
        html_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.contains("<svg") && !page.contains("<script"),
        "self-contained page"
    );
    assert!(stdout(&out).contains("report written to"), "{}", stdout(&out));

    // A thresholds file that makes one check warn: `--fail-on warn` fails the command.
    let thresholds = dir.path().join("t.toml");
    std::fs::write(&thresholds, "[thresholds.\"null_rate.customers.email\"]\nwarn_above = 0.0\n")
        .unwrap();
    let args = [
        "--database-url",
        &url,
        "report",
        "--since",
        "2026-01-01",
        "--until",
        "2030-01-01",
        "--thresholds",
        thresholds.to_str().unwrap(),
    ];
    assert_eq!(triglot(&args).status.code(), Some(0));
    let mut strict = args.to_vec();
    strict.extend(["--fail-on", "warn", "--format", "json"]);
    let out = triglot(&strict);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "triglot.report/1");
    assert_eq!(json["status"], "warn");

    // A failing check fails the command with the default --fail-on.
    let mut conn = diesel::Connection::establish(dir.path().join("r.db").to_str().unwrap())
        .map(|c: diesel::SqliteConnection| c)
        .unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "UPDATE orders SET total_cents = total_cents + 1 WHERE id = 1",
    )
    .unwrap();
    let out = triglot(&[
        "--database-url",
        &url,
        "report",
        "--since",
        "2026-01-01",
        "--until",
        "2030-01-01",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("consistency.order_total_matches_lines"))
    );

    std::fs::write(&thresholds, "[thresholds.\"no.such.check\"]\nfail_above = 1\n").unwrap();
    let out =
        triglot(&["--database-url", &url, "report", "--thresholds", thresholds.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("t.toml line 1: no check is named \"no.such.check\""),
        "{}",
        stderr(&out)
    );
}
