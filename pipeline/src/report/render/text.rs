//! The report as a terminal table.

use std::fmt::Write;

use super::format::{limits, short};
use crate::report::config::Status;
use crate::report::outcome::Check;

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
