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
