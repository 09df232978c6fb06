//! The `triglot` program end to end, on SQLite files.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{NaiveDate, TimeDelta};

fn triglot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run triglot")
}

/// `triglot generate --orders ORDERS --dirty-rate RATE --out DIR`, which must succeed.
fn generate(dir: &Path, orders: &str, rate: &str) {
    let out = triglot(&[
        "generate",
        "--orders",
        orders,
        "--dirty-rate",
        rate,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    assert!(text.contains("4 applied, 0 pending"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("orders") && l.contains("500 rows")),
        "{text}"
    );
    assert!(text.contains("triglot_runs") && text.contains("pool:"), "{text}");
}

#[test]
fn demo_json_summary_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let out = triglot(&["--database-url", &url, "demo", "--orders", "100", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["orders"], 100);
    assert_eq!(json["written"]["orders"]["new"], 100);
    assert_eq!(json["counts"]["rejected"], 0);
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
    assert!(stdout(&out).contains("env.db: applied 4 migration(s)"), "{}", stdout(&out));
}

#[test]
fn help_does_not_print_the_database_url_from_the_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--help"])
        .env("DATABASE_URL", "postgres://u:hunter2@h/db")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains("hunter2"), "{}", stdout(&out).replace("hunter2", "***"));
}

/// Runs `triglot demo --json` on a fresh database of backend `D` and returns
/// the figures that must not depend on the backend.
#[allow(dead_code)]
fn demo_figures<D: triglot_pipeline::OrderBackend>() -> serde_json::Value {
    let db = triglot::testing::TestDb::<D>::new(
        &format!("cli::demo_figures::{}", D::NAME),
        &triglot_pipeline::MIGRATIONS,
    );
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
    let data = triglot_pipeline::DemoData::today(11, 1_500);
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
    generate(dir.path(), "200", "0.1");
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
    assert_eq!(json["counts"]["read"], expected["csv"]["records"]);
    assert_eq!(json["counts"]["rejected"], rejected);
    assert_eq!(json["tables"]["orders"]["new"], 0, "a second run writes nothing");
    assert_eq!(json["tables"]["orders"]["changed"], 0, "a second run writes nothing");
    assert_eq!(json["tables"]["orders"]["unchanged"], expected["csv"]["orders"]);
}

#[test]
fn ingest_names_the_files_its_contract_reads_when_given_others() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "20", "0");
    let url = format!("sqlite://{}", dir.path().join("n.db").display());
    let csv = dir.path().join("orders.csv");
    let csv = csv.to_str().unwrap();
    let out = triglot(&["--database-url", &url, "ingest", csv, csv]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("contract builtin:orders-flow.toml reads 1 file (rows, in that order), not 2"),
        "{err}"
    );
}

#[test]
fn an_invalid_contract_is_refused_with_its_line_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let contract = dir.path().join("bad.toml");
    std::fs::write(
        &contract,
        "name = \"bad\"\n[sources.rows]\nformat = \"csv\"\n\n[tables.orders]\nsorce = \"rows\"\n",
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
    assert!(err.contains("bad.toml line 6:") && err.contains("sorce"), "{err}");
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
        err.contains("contract builtin:orders-flow.toml line")
            && err.contains("is not in the header of")
            && err.contains("(it has: customer, order_id)"),
        "{err}"
    );
    let status = stdout(&triglot(&["--database-url", &url, "status"]));
    assert!(
        !status.lines().any(|l| l.contains("triglot_runs") && !l.contains(" 0 rows")),
        "no run may be recorded: {status}"
    );
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

    // The window of the demo's orders and its run, whatever the day.
    let (since, until) = data_window(&dir.path().join("r.db"));
    let html_path = dir.path().join("report.html");
    let out = triglot(&[
        "--database-url",
        &url,
        "report",
        "--since",
        &since,
        "--until",
        &until,
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
    assert_eq!(external_references(&page), Vec::<String>::new());
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
        &since,
        "--until",
        &until,
        "--thresholds",
        thresholds.to_str().unwrap(),
    ];
    assert_eq!(triglot(&args).status.code(), Some(0));
    let mut strict = args.to_vec();
    strict.extend(["--fail-on", "warn", "--format", "json"]);
    let out = triglot(&strict);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "triglot.quality/1");
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
    let out = triglot(&["--database-url", &url, "report", "--since", &since, "--until", &until]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("custom.order_total_matches_lines"))
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

/// The report window that covers what the SQLite database `db` holds: from
/// the day of its oldest order to the end of the day of its newest order or
/// ingest run, as `--since` and `--until` dates.
fn data_window(db: &Path) -> (String, String) {
    #[derive(diesel::QueryableByName)]
    struct Day {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        day: Option<String>,
    }
    let mut conn: diesel::SqliteConnection =
        diesel::Connection::establish(db.to_str().unwrap()).unwrap();
    // SQLite keeps times as text that starts with the day.
    let mut day = |sql: &str| {
        let row: Day = diesel::RunQueryDsl::get_result(diesel::sql_query(sql), &mut conn).unwrap();
        row.day.map(|d| NaiveDate::parse_from_str(&d[..10], "%Y-%m-%d").unwrap())
    };
    let first = day("SELECT MIN(placed_at) AS day FROM orders").expect("orders");
    let last = [
        day("SELECT MAX(placed_at) AS day FROM orders"),
        day("SELECT MAX(started_at) AS day FROM triglot_runs"),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap();
    (first.to_string(), (last + TimeDelta::days(1)).to_string())
}

/// The `name="value"` pairs of an HTML tag's text.
fn attributes(tag: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .trim_end()
            .rsplit(|c: char| c.is_whitespace() || c == '<')
            .next()
            .unwrap_or_default();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let end = after[1..].find(quote).map_or(after.len(), |e| e + 1);
                (&after[1..end], &after[(end + 1).min(after.len())..])
            }
            _ => {
                let end =
                    after.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        out.push((name, value));
        rest = next;
    }
    out
}

/// What a page would fetch from elsewhere: attribute values (`src`, `href`,
/// any other but an `xmlns` namespace) with a URL of a host, and CSS
/// `url(…)` or `@import`. Text between tags may mention URLs.
fn external_references(page: &str) -> Vec<String> {
    let page = page.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut rest = page.as_str();
    while let Some(open) = rest.find('<') {
        let end = rest[open..].find('>').map_or(rest.len(), |e| open + e + 1);
        for (name, value) in attributes(&rest[open..end]) {
            let value = value.trim();
            if !name.starts_with("xmlns") && (value.contains("://") || value.starts_with("//")) {
                found.push(format!("{name}={value}"));
            }
        }
        rest = &rest[end..];
    }
    for css in ["url(", "@import"] {
        if page.contains(css) {
            found.push(css.to_owned());
        }
    }
    found
}

#[test]
fn external_references_are_found_in_attributes_and_css_but_not_in_text() {
    let page = r##"<p>see https://example.com</p><img alt="x" src="https://cdn.example/x.png">
        <a href='//elsewhere/x'>x</a><svg xmlns="http://www.w3.org/2000/svg"></svg>
        <a href="#checks">checks</a><div style="background: URL(https://x/y)"></div>"##;
    assert_eq!(
        external_references(page),
        vec![
            "src=https://cdn.example/x.png",
            "href=//elsewhere/x",
            "style=background: url(https://x/y)",
            "url(",
        ]
    );
}

/// The `<svg>` element labelled `label`.
fn svg<'a>(page: &'a str, label: &str) -> &'a str {
    let at = page
        .find(&format!(r#"aria-label="{label}""#))
        .unwrap_or_else(|| panic!("no chart labelled {label:?}"));
    let start = page[..at].rfind("<svg").unwrap();
    let end = at + page[at..].find("</svg>").unwrap() + "</svg>".len();
    &page[start..end]
}

/// `1234` → `1,234`, as the page writes counts.
fn grouped(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn report_html_is_one_self_contained_page_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let url = format!("sqlite://{}", db.display());
    let demo = triglot(&["--database-url", &url, "demo", "--orders", "300", "--quiet"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    // Rejects too, for the second chart.
    generate(dir.path(), "200", "0.1");
    let csv = dir.path().join("orders.csv");
    let out = triglot(&["--database-url", &url, "ingest", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap()).unwrap();

    let (since, until) = data_window(&db);
    let window = ["--database-url", &url, "report", "--since", &since, "--until", &until];
    let out = triglot(&[&window[..], &["--format", "json"]].concat());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = Some(i32::from(json["status"] == "fail"));
    assert_eq!(out.status.code(), code, "{}", stderr(&out));
    let html_path = dir.path().join("report.html");
    let out = triglot(
        &[&window[..], &["--format", "html", "--out", html_path.to_str().unwrap()]].concat(),
    );
    assert_eq!(out.status.code(), code, "{}", stderr(&out));
    assert!(stdout(&out).contains("report written to"), "{}", stdout(&out));
    let page = std::fs::read_to_string(&html_path).unwrap();

    // One file that needs nothing else: no script, no embedded or linked
    // resource, no URL anywhere a browser would fetch one.
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.trim_end().ends_with("</html>"), "{page}");
    let lower = page.to_ascii_lowercase();
    for tag in ["<script", "<link", "<iframe", "<img", "<object", "<embed", "<base"] {
        assert!(!lower.contains(tag), "{tag} in the page");
    }
    assert_eq!(external_references(&page), Vec::<String>::new());

    // The chart of daily volume of orders.placed_at: one bar per day of the
    // report, each with its day and count.
    let volume = &json["daily_volume"][0];
    assert_eq!(volume["column"], "orders.placed_at", "{volume}");
    let days = volume["days"].as_array().unwrap();
    assert!(days.len() > 20, "{days:?}");
    let chart = svg(&page, "rows per day");
    assert_eq!(chart.matches("<rect").count(), days.len(), "{chart}");
    for day in days {
        let label = format!(">{}</text>", day["key"].as_str().unwrap());
        let count = format!(">{}</text>", grouped(day["count"].as_i64().unwrap()));
        assert!(chart.contains(&label) && chart.contains(&count), "{day} not in {chart}");
    }

    // The chart of rejects by reason: one bar per reason the input has.
    let reasons = json["rejects_by_reason"].as_array().unwrap();
    let keys: Vec<&str> = reasons.iter().map(|r| r["key"].as_str().unwrap()).collect();
    let expected_keys: Vec<&str> =
        expected["csv"]["by_reason"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, expected_keys);
    let chart = svg(&page, "rejects by reason");
    assert_eq!(chart.matches("<rect").count(), reasons.len(), "{chart}");
    for reason in reasons {
        let label = format!(">{}</text>", reason["key"].as_str().unwrap());
        let count = format!(">{}</text>", grouped(reason["count"].as_i64().unwrap()));
        assert!(chart.contains(&label) && chart.contains(&count), "{reason} not in {chart}");
    }
}

/// `triglot status` with every log line on (`RUST_LOG=trace`) and a password
/// in the URL: neither its output nor its logs may show the password.
#[cfg(any(feature = "mysql", feature = "postgres"))]
fn status_with_trace_logs(url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", url, "status"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "trace")
        .output()
        .expect("run triglot");
    format!("{}{}", stdout(&out), stderr(&out))
}

#[cfg(feature = "postgres")]
#[test]
fn trace_logs_of_a_connected_postgres_session_never_show_the_password() {
    // The test server trusts loopback, so this password is accepted unchecked
    // and the whole session (connect, setup, queries) is logged.
    let server = triglot::testing::server_url::<triglot::postgres::PostgresDialect>();
    let url = server.replacen("://postgres@", "://postgres:pw-s3cr3t-42@", 1);
    assert!(url.contains("pw-s3cr3t-42"), "the server URL names user postgres: {server}");
    let shown = status_with_trace_logs(&url);
    // Checked first, so that no later failure message prints a leaked password.
    assert!(!shown.contains("pw-s3cr3t-42"), "the password is shown in the output");
    assert!(shown.contains("TRACE") || shown.contains("DEBUG"), "trace logging is on: {shown}");
    assert!(shown.contains("migrations:"), "status ran: {shown}");
}

#[cfg(feature = "mysql")]
#[test]
fn trace_logs_of_a_refused_mysql_login_never_show_the_password() {
    let server = triglot::testing::server_url::<triglot::mysql::MysqlDialect>();
    let url = server.replacen("://root@", "://root:pw-s3cr3t-42@", 1);
    assert!(url.contains("pw-s3cr3t-42"), "the server URL names user root: {server}");
    let shown = status_with_trace_logs(&url);
    assert!(!shown.contains("pw-s3cr3t-42"), "the password is shown in the output");
    assert!(shown.contains("***"), "the redacted URL is named: {shown}");
}

#[test]
fn ingest_into_a_pipe_prints_its_counts_and_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample");
    generate(&sample, "300", "0.1");
    let url = format!("sqlite://{}", dir.path().join("pipe.db").display());
    let file = sample.join("orders.csv");
    // Without --quiet: stdout and stderr are pipes here, not a terminal.
    let out = triglot(&["--database-url", &url, "ingest", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("rejected"), "{}", stdout(&out));
    assert_eq!(stderr(&out), "", "nothing but the summary when not on a terminal");
}

#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("logs.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
        .args(["--database-url", &url, "demo", "--orders", "20", "--quiet"])
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "debug")
        .output()
        .expect("run triglot");
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = stderr(&out);
    assert!(logs.contains("DEBUG"), "debug logs were written: {logs}");
    assert!(!logs.contains('\u{1b}'), "an escape code reached a pipe: {logs:?}");
}

#[test]
fn migrate_applies_a_projects_own_migrations_directory() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("inventory.db").display());
    let migrations =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/inventory/migrations");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_triglot"))
            .args(["--database-url", &url])
            .args(args)
            .arg("--migrations")
            .arg(&migrations)
            .output()
            .expect("run triglot")
    };
    let out = run(&["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("applied 1 migration(s)"), "{}", stdout(&out));
    assert!(stdout(&out).contains("applied 20261201000001"), "{}", stdout(&out));
    let out = run(&["migrate", "--revert-all"]);
    assert!(
        out.status.success() && stdout(&out).contains("reverted 1 migration(s)"),
        "{}",
        stdout(&out)
    );
}

#[cfg(feature = "postgres")]
#[test]
fn the_program_never_crashes_at_exit_while_the_pool_opens_a_tls_connection() {
    // r2d2 opens a connection on a thread of its own after each checkout;
    // OpenSSL's exit handler once freed its state under that thread (8 of 20
    // runs died with SIGSEGV).
    let db = triglot::testing::TestDb::<triglot::postgres::PostgresDialect>::new(
        "cli::exit",
        &triglot_pipeline::MIGRATIONS,
    );
    for run in 0..20 {
        let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
            .args(["--database-url", db.url(), "migrate", "--revert-all"])
            .output()
            .expect("run triglot");
        assert_eq!(out.status.code(), Some(0), "run {run}: {}", stderr(&out));
    }
}

#[test]
fn load_fills_a_schema_of_its_own_and_report_derives_its_checks_from_the_catalog() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/billing");
    let path = |p: &str| example.join(p).display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("billing.db").display());
    let migrate =
        triglot(&["--database-url", &url, "migrate", "--migrations", &path("migrations")]);
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let sources = ["regions", "sites", "invoices", "items"]
        .map(|s| format!("{s}={}", path(&format!("data/{s}.tbl"))));
    let load = |json: bool| {
        let mut args = vec!["--database-url", &url, "load", "--contract"];
        let contract = path("billing.toml");
        args.push(&contract);
        for s in &sources {
            args.extend(["--source", s.as_str()]);
        }
        let rejects = dir.path().join("rejects.csv").display().to_string();
        if json {
            args.push("--json");
        } else {
            args.extend(["--rejects", &rejects]);
        }
        let out = triglot(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let text = load(false);
    assert!(text.contains("records read             25"), "{text}");
    assert!(text.contains("rejected                  3"), "{text}");
    for reason in ["invalid_date", "rejected_with_parent", "missing_parent"] {
        assert!(text.contains(reason), "{reason}: {text}");
    }
    let in_file = std::fs::read_to_string(dir.path().join("rejects.csv")).unwrap();
    assert_eq!(in_file.lines().count(), 1 + 3, "a header and the 3 rejects: {in_file}");
    for reason in ["invalid_date", "rejected_with_parent", "missing_parent"] {
        assert!(in_file.contains(reason), "{reason}: {in_file}");
    }
    let invoices = text.lines().find(|l| l.trim_start().starts_with("invoices")).unwrap_or("");
    assert!(invoices.contains("rows written") && invoices.contains(" new,"), "{text}");
    let again: serde_json::Value = serde_json::from_str(&load(true)).unwrap();
    assert_eq!(again["counts"]["accepted"], 22, "{again}");
    assert_eq!(again["counts"]["unchanged"], 22, "{again}");

    // The invoices of November, and the runs up to today.
    let tomorrow = (chrono::Utc::now().date_naive() + TimeDelta::days(1)).to_string();
    let report = triglot(&[
        "--database-url",
        &url,
        "report",
        "--quality",
        &path("quality.toml"),
        "--contract",
        &path("billing.toml"),
        "--since",
        "2026-11-01",
        "--until",
        &tomorrow,
        "--format",
        "json",
    ]);
    // Site 4 is in the west, which regions.tbl lacks (a logical key), and 6
    // of 50 records read were rejected: both fail the report.
    assert_eq!(report.status.code(), Some(1), "{}", stderr(&report));
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(json["schema"], "triglot.quality/1");
    let check = |name: &str| {
        json["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap()
    };
    assert_eq!(check("rows.invoices")["value"], 6);
    assert_eq!(check("integrity.sites.region")["value"], 1);
    assert_eq!(check("integrity.sites.region")["status"], "fail");
    assert_eq!(check("custom.invoices_without_items")["value"], 0);
    assert_eq!(check("rejects.rate")["status"], "fail");
    assert_eq!(json["runs"].as_array().unwrap().len(), 2);

    // A thresholds file over the quality file's: its limit wins, and a name
    // no check has is refused at its own file and line.
    let thresholds = dir.path().join("t.toml");
    std::fs::write(&thresholds, "[thresholds.\"rejects.rate\"]\nfail_above = 0.5\n").unwrap();
    let mut args = vec!["--database-url", &url, "report", "--quality"];
    let quality = path("quality.toml");
    args.push(&quality);
    let t = thresholds.display().to_string();
    args.extend(["--thresholds", &t, "--since", "2026-11-01", "--until", &tomorrow]);
    args.extend(["--format", "json"]);
    let out = triglot(&args);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rate = json["checks"].as_array().unwrap().iter().find(|c| c["name"] == "rejects.rate");
    // It replaces the quality file's limits for that check (warn > 0.01, fail > 0.10).
    assert_eq!(rate.unwrap()["status"], "pass", "{json}");
    assert_eq!(rate.unwrap()["threshold"]["fail_above"], 0.5, "{json}");
    std::fs::write(&thresholds, "\n[thresholds.\"no.such\"]\nfail_above = 1\n").unwrap();
    let out = triglot(&args);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("t.toml line 2: no check is named"), "{}", stderr(&out));

    let html = triglot(&[
        "--database-url",
        &url,
        "report",
        "--any-schema",
        "--since",
        "2026-11-01",
        "--until",
        "2026-12-01",
        "--format",
        "html",
    ]);
    let page = stdout(&html);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(page.contains(r#"aria-label="rows per table""#), "{page}");
    assert!(external_references(&page).is_empty(), "{:?}", external_references(&page));
}

#[test]
fn arguments_at_the_edges_of_their_types_give_results_or_clear_errors_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("edges.db").display());
    // The largest batch: one transaction for everything.
    let out = triglot(&[
        "--database-url",
        &url,
        "demo",
        "--orders",
        "20",
        "--batch-size",
        &u64::MAX.to_string(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("20 new"), "{}", stdout(&out));

    // Days every backend stores report; others are refused by name.
    let out = triglot(&["--database-url", &url, "report", "--day", "9999-12-31"]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(stdout(&out).contains("9999-12-31"), "{}", stdout(&out));
    for (option, value) in
        [("--day", "+262142-12-31"), ("--day", "0999-12-31"), ("--day", "-0001-01-01")]
    {
        let out = triglot(&["--database-url", &url, "report", &format!("{option}={value}")]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("--day") && err.contains("outside the years 1000 to 9999"), "{err}");
    }
    let out = triglot(&[
        "--database-url",
        &url,
        "report",
        "--since",
        "2026-01-01",
        "--until",
        "+262142-12-31T00:00:00",
    ]);
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_canary_password_is_in_no_output_of_any_command_whatever_its_characters() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "5", "0");
    let csv = dir.path().join("orders.csv");
    let csv = csv.to_str().unwrap();
    let source = format!("rows={csv}");
    let contract = concat!(env!("CARGO_MANIFEST_DIR"), "/contracts/orders-flow.toml");
    // Unencoded and percent-encoded, with every character that ends a URL
    // part; servers that refuse, hosts that do not parse, no host at all.
    let passwords = ["CANARY/9?x#y@%41w", "CANARY%2F9%3Fx%23y%40w", "CANARY"];
    let mut urls = Vec::new();
    for pw in passwords {
        for scheme in ["postgres", "postgresql", "mysql", "mariadb"] {
            urls.push(format!("{scheme}://app:{pw}@127.0.0.1:1/db"));
            urls.push(format!("{scheme}://app:{pw}@[::1/db"));
            urls.push(format!("{scheme}://app:{pw}@"));
            urls.push(format!(
                "{scheme}://app:{pw}@127.0.0.1:1/db?password={pw}&connect_timeout=2"
            ));
        }
    }
    let commands: [&[&str]; 7] = [
        &["migrate"],
        &["status"],
        &["demo", "--orders", "1"],
        &["ingest", csv],
        &["load", "--contract", contract, "--source", &source],
        &["report"],
        &["report", "--any-schema"],
    ];
    for url in &urls {
        for command in commands {
            let mut args = vec!["--database-url", url.as_str()];
            args.extend_from_slice(command);
            let out = triglot(&args);
            let shown = format!("{}{}", stdout(&out), stderr(&out));
            assert!(!out.status.success(), "{command:?} on {}", triglot_core_redact(url));
            // The message shows where it leaked, never the password itself.
            let hidden = shown.replace("CANARY", "<password>");
            assert!(!shown.contains("CANARY"), "{command:?} showed the password:\n{hidden}");
        }
        // And through the environment rather than the command line.
        let out = Command::new(env!("CARGO_BIN_EXE_triglot"))
            .arg("status")
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        let shown = format!("{}{}", stdout(&out), stderr(&out));
        let hidden = shown.replace("CANARY", "<password>");
        assert!(
            !shown.contains("CANARY"),
            "status via DATABASE_URL showed the password:\n{hidden}"
        );
    }
}

/// The URL as triglot prints it, for failure messages of this file's tests.
fn triglot_core_redact(url: &str) -> String {
    triglot::redact(url)
}

#[test]
fn load_refuses_a_broken_contract_with_its_line_before_it_creates_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let contract = dir.path().join("broken.toml");
    std::fs::write(&contract, "name = \"broken\"\n\n[tables.t]\nsorce = \"rows\"\n").unwrap();
    let db = dir.path().join("never.db");
    let url = format!("sqlite://{}", db.display());
    let out = triglot(&[
        "--database-url",
        &url,
        "load",
        "--contract",
        contract.to_str().unwrap(),
        "--source",
        "rows=rows.csv",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("broken.toml") && stderr(&out).contains("line 4"),
        "{}",
        stderr(&out)
    );
    assert!(!db.exists(), "nothing may be created for a refused contract");
}
