//! Numbers and limits as the report shows them.

use crate::report::config::Threshold;

/// A threshold as a short text: `≤ 0`, `warn > 26 · fail > 50`, `—`.
pub(crate) fn limits(t: &Threshold) -> String {
    let mut parts = Vec::new();
    if let Some(v) = t.warn_above {
        parts.push(format!("warn > {}", short(v)));
    }
    if let Some(v) = t.fail_above {
        parts.push(format!("fail > {}", short(v)));
    }
    if let Some(v) = t.warn_below {
        parts.push(format!("warn < {}", short(v)));
    }
    if let Some(v) = t.fail_below {
        parts.push(format!("fail < {}", short(v)));
    }
    if parts.is_empty() { "—".to_owned() } else { parts.join(" · ") }
}

/// A number without a needless fraction: `3`, `0.25`, `1,234`.
pub(crate) fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        grouped(v as i64)
    } else if v.abs() < 1.0 {
        format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.2}")
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
