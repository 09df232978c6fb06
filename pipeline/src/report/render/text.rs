//! The report as a terminal table.

use std::fmt::Write;

use super::format::{grouped, limits, short};
use crate::report::config::Status;
use crate::report::outcome::{Check, Report};

/// Renders `report` as text; `colour` adds ANSI colours to statuses (give it
/// only when the output is a terminal).
pub fn text(report: &Report, colour: bool) -> String {
    let paint = |status: Status| paint(status, colour);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "triglot quality report · {} · {} to {} UTC · {}",
        report.backend,
        report.window.since.format("%Y-%m-%d %H:%M"),
        report.window.until.format("%Y-%m-%d %H:%M"),
        paint(report.status)
    );
    checks_text(&mut out, &report.checks, colour);
    if !report.daily_volume.is_empty() {
        let _ = writeln!(out, "\ndaily volume");
        for day in &report.daily_volume {
            let _ = writeln!(
                out,
                "  {}  {:>10} orders  {:>10} lines",
                day.day,
                grouped(day.orders),
                grouped(day.lines)
            );
        }
    }
    for (title, tallies) in [
        ("rejects by reason", &report.rejects_by_reason),
        ("rejects by source", &report.rejects_by_source),
    ] {
        if !tallies.is_empty() {
            let _ = writeln!(out, "\n{title}");
            for t in tallies {
                let _ = writeln!(out, "  {:<40} {:>10}", t.key, grouped(t.count));
            }
        }
    }
    if !report.runs.is_empty() {
        let _ = writeln!(out, "\ningest runs");
        for r in &report.runs {
            let _ = writeln!(
                out,
                "  #{:<5} {:<9} read {} = accepted {} + rejected {} ({} stored)  {}  {}",
                r.id,
                r.status,
                grouped(r.records_read),
                grouped(r.records_accepted),
                grouped(r.records_rejected),
                grouped(r.rejects_stored),
                if r.reconciles { "reconciles" } else { "DOES NOT RECONCILE" },
                r.source
            );
        }
    }
    out
}

/// A status in upper case, coloured for a terminal when `colour`.
pub(crate) fn paint(status: Status, colour: bool) -> String {
    let word = status.as_str().to_uppercase();
    if !colour {
        return word;
    }
    let code = match status {
        Status::Pass => "32",
        Status::Warn => "33",
        Status::Fail => "1;31",
    };
    format!("\x1b[{code}m{word}\x1b[0m")
}

/// The checks as aligned lines.
pub(crate) fn checks_text(out: &mut String, checks: &[Check], colour: bool) {
    let paint = |status: Status| paint(status, colour);
    let width = checks.iter().map(|c| c.name.chars().count()).max().unwrap_or(10);
    let _ = writeln!(
        out,
        "\n{:<6}  {:<width$}  {:>12}  {:<24}  detail",
        "status", "check", "value", "limits"
    );
    for check in checks {
        let value = check.value.map(short).unwrap_or_else(|| "—".into());
        let status = paint(check.status);
        // Pad by the visible width: colour codes take none.
        let pad = 6usize.saturating_sub(check.status.as_str().len());
        let _ = writeln!(
            out,
            "{status}{}  {:<width$}  {value:>12}  {:<24}  {}",
            " ".repeat(pad),
            check.name,
            limits(&check.threshold),
            check.detail
        );
    }
}
