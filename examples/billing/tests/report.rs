//! The quality report of the billing database: derived from its live
//! schema, with a logical foreign key and custom checks from
//! `quality.toml`, the same JSON on every backend.

mod exports;

use billing::{CONTRACT, MIGRATIONS, QUALITY};
use chrono::NaiveDate;
use triglot::Database;
use triglot::testing::TestDb;
use triglot_pipeline::flow::{
    Flow, FlowBackend, FlowOptions, QualityConfig, QualityOptions, QualityReport, quality_report,
    run_flow,
};
use triglot_pipeline::report::Status;

fn report_of<D: FlowBackend>(db: &Database<D>) -> QualityReport {
    let exports = exports::exports();
    let flow = Flow::bind(CONTRACT, "billing.toml", &db.introspect().unwrap()).unwrap();
    run_flow(db, &flow, &exports.files, &FlowOptions::default()).unwrap();
    let options = QualityOptions {
        since: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        until: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        now: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap().and_hms_opt(12, 0, 0).unwrap(),
        config: QualityConfig::from_toml(QUALITY, "quality.toml").unwrap(),
        flow: Some(flow),
    };
    quality_report(db, &options).unwrap()
}

fn value(report: &QualityReport, name: &str) -> f64 {
    report.check(name).unwrap_or_else(|| panic!("no check {name}")).value.unwrap()
}

triglot::backend_test!(quality_checks_come_from_the_schema_and_the_config, |db| {
    let report = report_of(db);
    // The catalog's keys, NOT NULL columns and foreign keys, and the logical key.
    assert_eq!(value(&report, "rows.invoice_items") as i64, exports::exports().items);
    assert_eq!(value(&report, "uniqueness.invoice_items.invoice_id+item_no"), 0.0);
    assert_eq!(value(&report, "integrity.invoices.site_id"), 0.0);
    assert_eq!(value(&report, "integrity.invoice_items.invoice_id"), 0.0);
    // Sites 3, 7 and 11 are in the west, which regions.tbl lacks.
    let logical = report.check("integrity.sites.region").unwrap();
    assert_eq!((logical.value, logical.status), (Some(3.0), Status::Fail), "on {}", D::NAME);
    assert!(logical.detail.contains("logical key"), "{}", logical.detail);
    // The custom checks, and the contract's rules on what is stored.
    assert_eq!(value(&report, "custom.unpaid_invoices_have_a_total"), 0.0);
    assert_eq!(value(&report, "custom.invoices_without_items"), 0.0);
    assert_eq!(value(&report, "contract.sites.region.allowed"), 0.0);
    assert_eq!(value(&report, "contract.invoice_items.discount.max"), 0.0);
    // One run, reconciled; its planted rejects push the rate past the warning.
    assert_eq!(report.runs.len(), 1);
    assert!(report.runs[0].reconciles, "{:?}", report.runs[0]);
    // Its rejects by the file they came from, adding up to the run's.
    let by_file: i64 = report.rejects_by_source.iter().map(|t| t.count).sum();
    assert_eq!(by_file, report.runs[0].records_rejected, "{:?}", report.rejects_by_source);
    assert!(report.rejects_by_source.iter().all(|t| t.key.ends_with(".tbl")));
    assert_eq!(report.runs[0].files.matches(".tbl").count(), 4, "{}", report.runs[0].files);
    assert_eq!(report.check("rejects.rate").unwrap().status, Status::Warn);
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.daily_volume[0].column, "invoices.issued_on");
    let dated: i64 = report.daily_volume[0].days.iter().map(|d| d.count).sum();
    assert_eq!(dated, exports::exports().invoices, "on {}", D::NAME);
});

/// The report as JSON, without what differs by nature: the backend, the
/// timings, the clock.
fn json_of<D: FlowBackend>() -> serde_json::Value {
    let db = TestDb::<D>::new(module_path!(), &MIGRATIONS);
    let report = report_of(&db);
    let mut json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["backend"], D::NAME);
    let object = json.as_object_mut().unwrap();
    object.remove("backend");
    object.remove("elapsed_ms");
    // Each backend's files are in a directory of its own: names only.
    let name =
        |path: &str| std::path::Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
    for run in object["runs"].as_array_mut().unwrap() {
        let run = run.as_object_mut().unwrap();
        run.remove("started_at");
        let files: Vec<String> = run["files"]
            .as_str()
            .unwrap()
            .split(' ')
            .map(|f| {
                let (source, path) = f.split_once('=').unwrap();
                format!("{source}={}", name(path))
            })
            .collect();
        run.insert("files".into(), files.join(" ").into());
    }
    for tally in object["rejects_by_source"].as_array_mut().unwrap() {
        let key = name(tally["key"].as_str().unwrap());
        tally["key"] = key.into();
    }
    json
}

#[test]
fn quality_reports_are_the_same_json_on_every_backend() {
    let mut reports: Vec<(&str, serde_json::Value)> = Vec::new();
    macro_rules! report {
        ($key:ident, $dialect:ty) => {
            reports.push((stringify!($key), json_of::<$dialect>()));
        };
    }
    triglot::for_each_backend!(report);
    assert!(
        reports.len() >= 2,
        "comparing backends needs at least two: build with --features triglot/mysql,triglot/postgres"
    );
    assert_eq!(reports[0].1["schema"], "triglot.quality/1");
    let checks = reports[0].1["checks"].as_array().unwrap();
    // Rows and keys of 4 tables, 3 foreign keys (one logical), freshness and
    // volume, 6 contract rules, 2 custom checks, 3 on the runs.
    assert_eq!(checks.len(), 24, "{checks:#?}");
    for (backend, json) in &reports[1..] {
        assert_eq!(json, &reports[0].1, "{backend} differs from {}", reports[0].0);
    }
}
