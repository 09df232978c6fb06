//! A quality report as a terminal table or one self-contained HTML page,
//! drawn with the same parts as the order report's.

use std::fmt::Write;

use super::quality::{QUALITY_SCHEMA, QualityReport};
use crate::report::Status;
use crate::report::render::format::grouped;
use crate::report::render::html::{
    bar_chart, cards, checks_table, close_page, colour, escape, open_page,
};
use crate::report::render::text::{checks_text, paint};

fn window(report: &QualityReport) -> String {
    format!("{} to before {}", report.since, report.until)
}

/// Renders `report` as text; `colour` adds ANSI colours to statuses (give
/// it only when the output is a terminal).
pub fn quality_text(report: &QualityReport, colour: bool) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "triglot quality report · {} · {} · {}",
        report.backend,
        window(report),
        paint(report.status, colour)
    );
    checks_text(&mut out, &report.checks, colour);
    for volume in &report.daily_volume {
        let _ = writeln!(out, "\nrows per day of {}", volume.column);
        for day in &volume.days {
            let _ = writeln!(out, "  {}  {:>10}", day.key, grouped(day.count));
        }
    }
    if !report.rejects_by_reason.is_empty() {
        let _ = writeln!(out, "\nrejects by reason");
        for t in &report.rejects_by_reason {
            let _ = writeln!(out, "  {:<40} {:>10}", t.key, grouped(t.count));
        }
    }
    if !report.rejects_by_source.is_empty() {
        let _ = writeln!(out, "\nrejects by file");
        for t in &report.rejects_by_source {
            let _ = writeln!(out, "  {:<40} {:>10}", t.key, grouped(t.count));
        }
    }
    if !report.runs.is_empty() {
        let _ = writeln!(out, "\nflow runs");
        for r in &report.runs {
            let _ = writeln!(
                out,
                "  #{:<5} {:<9} read {} = accepted {} + rejected {} ({} stored, {} unchanged, {} retries)  {}  {}  {}",
                r.run_id,
                r.status,
                grouped(r.records_read),
                grouped(r.records_accepted),
                grouped(r.records_rejected),
                grouped(r.rejects_stored),
                grouped(r.records_unchanged),
                grouped(r.retries),
                if r.reconciles { "reconciles" } else { "DOES NOT RECONCILE" },
                r.contract,
                r.files
            );
        }
    }
    out
}

/// Renders `report` as a complete HTML document.
pub fn quality_html(report: &QualityReport) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let failing = report.checks.iter().filter(|c| c.status == Status::Fail).count();
    let warning = report.checks.iter().filter(|c| c.status == Status::Warn).count();
    open_page(
        &mut out,
        &format!("Data quality · {} · {}", report.backend, window(report)),
        report.status,
        &format!(
            "schema {QUALITY_SCHEMA} · {} checks: {failing} failing, {warning} warning",
            report.checks.len()
        ),
    );
    let rows: i64 = report.tables.iter().map(|t| t.count).sum();
    let rejects: i64 = report.rejects_by_reason.iter().map(|t| t.count).sum();
    cards(
        &mut out,
        &[
            ("tables", report.tables.len().to_string()),
            ("rows", grouped(rows)),
            ("rejected records", grouped(rejects)),
            ("flow runs", grouped(report.runs.len() as i64)),
        ],
    );
    let _ = write!(
        out,
        r#"<div class="grid"><div class="panel"><h2 style="margin-top:0">Rows per table</h2>"#
    );
    bar_chart(&mut out, &report.tables, "rows per table", "No tables.");
    let _ =
        write!(out, r#"</div><div class="panel"><h2 style="margin-top:0">Rejects by reason</h2>"#);
    bar_chart(
        &mut out,
        &report.rejects_by_reason,
        "rejects by reason",
        "No rejects in the window.",
    );
    let _ = write!(out, "</div></div><h2>Checks</h2>");
    checks_table(&mut out, &report.checks);
    for volume in &report.daily_volume {
        let _ = write!(out, "<h2>Rows per day of <code>{}</code></h2>", escape(&volume.column));
        bar_chart(&mut out, &volume.days, "rows per day", "No rows in the window.");
    }
    let _ = write!(
        out,
        "<h2>Flow runs</h2><table><tr><th>run</th><th>started (UTC)</th><th>status</th><th>read</th><th>accepted</th><th>unchanged</th><th>rejected</th><th>stored rejects</th><th>retries</th><th>reconciles</th><th>contract</th><th>files</th></tr>"
    );
    for r in &report.runs {
        let ok = if r.reconciles { (Status::Pass, "yes") } else { (Status::Fail, "no") };
        let _ = write!(
            out,
            r#"<tr><td class="num">{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td><span class="badge" style="background:{}">{}</span></td><td><code>{}</code></td><td><code>{}</code></td></tr>"#,
            r.run_id,
            escape(&r.started_at),
            escape(&r.status),
            grouped(r.records_read),
            grouped(r.records_accepted),
            grouped(r.records_unchanged),
            grouped(r.records_rejected),
            grouped(r.rejects_stored),
            grouped(r.retries),
            colour(ok.0),
            ok.1,
            escape(&r.contract),
            escape(&r.files)
        );
    }
    let _ = write!(out, "</table><h2>Rejects by file</h2>");
    bar_chart(&mut out, &report.rejects_by_source, "rejects by file", "No rejects in the window.");
    close_page(&mut out);
    out
}
