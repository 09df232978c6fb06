//! The report as one self-contained HTML page: no script, no network; its
//! charts are inline SVG.

use std::fmt::Write;

use super::format::{grouped, limits, short};
use crate::report::config::Status;
use crate::report::outcome::{Check, Tally};

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(crate) fn colour(status: Status) -> &'static str {
    match status {
        Status::Pass => "#1a7f37",
        Status::Warn => "#b7791f",
        Status::Fail => "#c62828",
    }
}

/// The page's head, title with its status badge, and the line below it.
pub(crate) fn open_page(out: &mut String, title: &str, status: Status, sub: &str) {
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }}
main {{ max-width: 1100px; margin: 0 auto; padding: 24px; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin: 28px 0 10px; }}
.sub {{ color: #57606a; }}
.badge {{ display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; font-size: 13px; }}
.cards {{ display: flex; gap: 12px; margin: 18px 0; flex-wrap: wrap; }}
.card {{ background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px; min-width: 150px; }}
.card b {{ display: block; font-size: 22px; }}
.panel {{ background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 14px; }}
.grid {{ display: grid; grid-template-columns: 3fr 2fr; gap: 16px; }}
table {{ border-collapse: collapse; width: 100%; background: #fff; font-size: 13.5px; }}
th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }}
th {{ background: #f6f8fa; font-weight: 600; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.limits {{ white-space: nowrap; color: #57606a; }}
code {{ font-size: 12.5px; }}
svg text {{ font: 11px system-ui, sans-serif; fill: #57606a; }}
</style></head><body><main>
<h1>{title} <span class="badge" style="background:{badge}">{status}</span></h1>
<div class="sub">{sub}</div>
"#,
        title = escape(title),
        badge = colour(status),
        status = status.as_str().to_uppercase(),
        sub = escape(sub),
    );
}

/// Closes what [`open_page`] opened.
pub(crate) fn close_page(out: &mut String) {
    let _ = writeln!(out, "</main></body></html>");
}

/// Figures side by side.
pub(crate) fn cards(out: &mut String, cards: &[(&str, String)]) {
    let _ = write!(out, r#"<div class="cards">"#);
    for (label, value) in cards {
        let _ = write!(
            out,
            r#"<div class="card"><span class="sub">{}</span><b>{}</b></div>"#,
            escape(label),
            escape(value)
        );
    }
    let _ = write!(out, "</div>");
}

/// The table of checks.
pub(crate) fn checks_table(out: &mut String, checks: &[Check]) {
    let _ = write!(
        out,
        "<h2>Checks</h2><table><tr><th>status</th><th>check</th><th>value</th><th>limits</th><th>detail</th></tr>"
    );
    for check in checks {
        let _ = write!(
            out,
            r#"<tr><td><span class="badge" style="background:{}">{}</span></td><td><code>{}</code></td><td class="num">{}</td><td class="limits">{}</td><td>{}</td></tr>"#,
            colour(check.status),
            check.status.as_str(),
            escape(&check.name),
            check.value.map(short).unwrap_or_else(|| "—".into()),
            escape(&limits(&check.threshold)),
            escape(&check.detail)
        );
    }
    let _ = write!(out, "</table>");
}

/// Horizontal bars of a tally, labelled `label`; `empty` when it has none.
pub(crate) fn bar_chart(out: &mut String, tallies: &[Tally], label: &str, empty: &str) {
    if tallies.is_empty() {
        let _ = write!(out, r#"<p class="sub">{}</p>"#, escape(empty));
        return;
    }
    let mut sorted: Vec<&Tally> = tallies.iter().collect();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    let aria = escape(label);
    let (w, row, label) = (420.0, 22.0, 170.0);
    let h = row * sorted.len() as f64 + 8.0;
    let max = sorted[0].count.max(1) as f64;
    let _ =
        write!(out, r#"<svg viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{aria}">"#);
    for (i, t) in sorted.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let bw = (w - label - 60.0) * t.count as f64 / max;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{label}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="#ef4444" rx="2"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            label - 8.0,
            y + 14.0,
            escape(&t.key),
            y + 3.0,
            row - 8.0,
            label + bw + 6.0,
            y + 14.0,
            grouped(t.count)
        );
    }
    let _ = write!(out, "</svg>");
}
