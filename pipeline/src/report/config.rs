//! Thresholds of the quality checks: sensible defaults, overridden per check
//! from a TOML file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::contract::ContractError;

/// Limits on one check's value; any side may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Warn when the value is above this.
    pub warn_above: Option<f64>,
    /// Fail when the value is above this.
    pub fail_above: Option<f64>,
    /// Warn when the value is below this.
    pub warn_below: Option<f64>,
    /// Fail when the value is below this.
    pub fail_below: Option<f64>,
}

impl Threshold {
    /// Fail above `limit`.
    pub const fn fail_above(limit: f64) -> Self {
        Self { warn_above: None, fail_above: Some(limit), warn_below: None, fail_below: None }
    }

    /// Warn above `warn`, fail above `fail`.
    pub const fn above(warn: f64, fail: f64) -> Self {
        Self { warn_above: Some(warn), fail_above: Some(fail), warn_below: None, fail_below: None }
    }

    /// Warn below `limit`.
    pub const fn warn_below(limit: f64) -> Self {
        Self { warn_above: None, fail_above: None, warn_below: Some(limit), fail_below: None }
    }

    /// The status of `value` under this threshold.
    pub fn judge(&self, value: f64) -> Status {
        let over = |limit: Option<f64>| limit.is_some_and(|l| value > l);
        let under = |limit: Option<f64>| limit.is_some_and(|l| value < l);
        if over(self.fail_above) || under(self.fail_below) {
            Status::Fail
        } else if over(self.warn_above) || under(self.warn_below) {
            Status::Warn
        } else {
            Status::Pass
        }
    }
}

/// The outcome of a check, and of a report (its worst check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Within every limit.
    Pass,
    /// Past a warning limit.
    Warn,
    /// Past a failure limit.
    Fail,
}

impl Status {
    /// `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// Per-check thresholds: the defaults of each check, overridden by name.
///
/// A thresholds file has one table per check name:
///
/// ```toml
/// [thresholds."freshness.hours_since_newest_order"]
/// warn_above = 30
/// fail_above = 72
///
/// [thresholds."null_rate.customers.email"]
/// warn_above = 0.6
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thresholds {
    overrides: BTreeMap<String, Threshold>,
    /// Where each override is declared (file, line), to refuse names no
    /// check has.
    lines: BTreeMap<String, (String, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    #[serde(default)]
    thresholds: BTreeMap<Spanned<String>, Threshold>,
}

impl Thresholds {
    /// Reads a thresholds file.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] naming the file: at line 0 when it cannot be
    /// read, else with the line of a syntax error or unknown key.
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let (text, origin) = ContractError::read(path)?;
        Self::from_toml(&text, &origin)
    }

    /// Parses thresholds text; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] with the line of the problem.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ContractError> {
        let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
        let raw: RawThresholds = toml::from_str(text).map_err(|e| ContractError {
            origin: origin.to_owned(),
            line: e.span().map_or(0, |s| line_of(s.start)),
            message: e.message().trim().to_owned(),
        })?;
        let mut out = Thresholds::default();
        for (name, threshold) in raw.thresholds {
            out.lines
                .insert(name.get_ref().clone(), (origin.to_owned(), line_of(name.span().start)));
            out.overrides.insert(name.into_inner(), threshold);
        }
        Ok(out)
    }

    /// These thresholds with `top`'s laid over them: where both name a
    /// check, `top`'s wins. Each keeps its file and line for errors.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_pipeline::report::{Threshold, Thresholds};
    ///
    /// let base = Thresholds::from_toml("[thresholds.\"a\"]\nwarn_above = 1\n", "base.toml").unwrap();
    /// let top = Thresholds::from_toml("[thresholds.\"a\"]\nwarn_above = 2\n", "top.toml").unwrap();
    /// assert_eq!(base.overlay(top).get("a", Threshold::default()).warn_above, Some(2.0));
    /// ```
    pub fn overlay(mut self, top: Thresholds) -> Thresholds {
        self.overrides.extend(top.overrides);
        self.lines.extend(top.lines);
        self
    }

    /// Thresholds from overrides by name, each with its declaring line.
    pub(crate) fn from_overrides(
        overrides: BTreeMap<String, Threshold>,
        lines: BTreeMap<String, usize>,
        origin: &str,
    ) -> Self {
        let lines =
            lines.into_iter().map(|(name, line)| (name, (origin.to_owned(), line))).collect();
        Self { overrides, lines }
    }

    /// The threshold of check `name`: the override, or `default`.
    pub fn get(&self, name: &str, default: Threshold) -> Threshold {
        self.overrides.get(name).copied().unwrap_or(default)
    }

    /// Refuses overrides for names no check of `known` has.
    pub(crate) fn check_names<'a>(
        &self,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ContractError> {
        let known: Vec<&str> = known.into_iter().collect();
        for (name, (origin, line)) in &self.lines {
            if !known.contains(&name.as_str()) {
                return Err(ContractError {
                    origin: origin.clone(),
                    line: *line,
                    message: format!("no check is named {name:?}"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_judge_both_sides() {
        let t = Threshold {
            warn_above: Some(1.0),
            fail_above: Some(5.0),
            warn_below: Some(0.5),
            fail_below: None,
        };
        assert_eq!(t.judge(0.7), Status::Pass);
        assert_eq!(t.judge(2.0), Status::Warn);
        assert_eq!(t.judge(5.5), Status::Fail);
        assert_eq!(t.judge(0.1), Status::Warn);
    }

    #[test]
    fn overrides_replace_defaults_and_unknown_keys_name_their_line() {
        let t = Thresholds::from_toml("[thresholds.\"x.y\"]\nwarn_above = 3\n", "t.toml").unwrap();
        assert_eq!(t.get("x.y", Threshold::fail_above(1.0)).warn_above, Some(3.0));
        assert_eq!(t.get("x.y", Threshold::fail_above(1.0)).fail_above, None);
        let e = Thresholds::from_toml("[thresholds.\"x.y\"]\nwarn = 3\n", "t.toml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = t.check_names(["a.b"]).unwrap_err();
        assert!(e.to_string().contains("t.toml line 1: no check is named \"x.y\""), "{e}");
    }

    #[test]
    fn an_overlay_wins_and_each_override_keeps_its_file_and_line() {
        let base = Thresholds::from_toml(
            "[thresholds.\"a\"]\nwarn_above = 1\n[thresholds.\"b\"]\nwarn_above = 1\n",
            "base.toml",
        )
        .unwrap();
        let top =
            Thresholds::from_toml("\n[thresholds.\"b\"]\nfail_above = 2\n", "top.toml").unwrap();
        let both = base.overlay(top);
        assert_eq!(both.get("a", Threshold::default()).warn_above, Some(1.0));
        assert_eq!(both.get("b", Threshold::default()).fail_above, Some(2.0));
        assert_eq!(both.get("b", Threshold::default()).warn_above, None);
        let e = both.check_names(["b"]).unwrap_err();
        assert!(e.to_string().contains("base.toml line 1: no check is named \"a\""), "{e}");
        let e = both.check_names(["a"]).unwrap_err();
        assert!(e.to_string().contains("top.toml line 2: no check is named \"b\""), "{e}");
    }
}
