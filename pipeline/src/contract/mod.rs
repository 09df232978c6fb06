//! Input contracts: how the fields of an input file become the order model,
//! declared in TOML so they can be read in review.
//!
//! A contract names, for each target field of the model, its source column
//! (or JSON path), its type, whether NULL is allowed and exactly which source
//! values mean NULL, its normalization (trim, case, value mapping, money
//! rounding, time zone) and its validation (range, length, pattern, allowed
//! values). The model's own limits (text lengths, `quantity > 0`, the status
//! set, …) always apply on top, so what passes a contract can be stored.
//!
//! An invalid contract is refused before any row is read, with the contract's
//! own line number. Two contracts are built in: [`Contract::builtin_csv`] and
//! [`Contract::builtin_jsonl`] (their TOML is in `pipeline/contracts/`).

mod field;
mod normalize;
pub(crate) mod parse;
mod reject;
mod spec;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

pub use self::field::RawValue;
pub use self::parse::Rounding;
pub(crate) use self::parse::offset as parse_offset;
pub use self::reject::{FieldError, Reason, Reject, STORED_TEXT_BYTES, storable_text};
pub use self::spec::{Case, Column, FieldSpec, FieldType, Format, Target, Value};

/// The text of the built-in CSV contract.
pub const BUILTIN_CSV: &str = include_str!("../../contracts/orders-csv.toml");
/// The order CSV as a flow contract over the order schema (see
/// [`crate::flow`]).
pub const ORDERS_FLOW: &str = include_str!("../../contracts/orders-flow.toml");
/// The text of the built-in JSONL contract.
pub const BUILTIN_JSONL: &str = include_str!("../../contracts/orders-jsonl.toml");
/// The order JSONL as a flow contract over the order schema.
pub const ORDERS_JSONL_FLOW: &str = include_str!("../../contracts/orders-jsonl-flow.toml");
/// The order schema's checks that its catalog cannot state, as a quality
/// report configuration (see [`crate::flow::QualityConfig`]).
pub const ORDERS_QUALITY: &str = include_str!("../../contracts/orders-quality.toml");

/// How records of the input make up orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One record per order line; the rows of an order are together, its
    /// order fields on (at least) the first of them.
    Rows,
    /// Two files, orders and lines, joined by the order key; both sorted by
    /// it. Files are given in pairs: orders file, then its lines file.
    OrdersAndLines,
    /// One record per order, its lines in an array (JSON only).
    Nested,
}

/// A contract that failed to load, or that does not fit an input file; names
/// the contract and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError {
    /// The contract's file name (or `builtin:…`).
    pub origin: String,
    /// The contract line at fault, from 1; 0 when the whole contract is.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "contract {} line {}: {}", self.origin, self.line, self.message)
        } else {
            write!(f, "contract {}: {}", self.origin, self.message)
        }
    }
}

impl std::error::Error for ContractError {}

impl ContractError {
    /// The text of the file at `path` and its name for errors; an error at
    /// line 0 when it cannot be read.
    pub(crate) fn read(path: &Path) -> Result<(String, String), ContractError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((text, origin)),
            Err(e) => {
                Err(ContractError { origin, line: 0, message: format!("cannot be read: {e}") })
            }
        }
    }
}

/// A validated input contract.
#[derive(Debug, Clone)]
pub struct Contract {
    /// Its name, recorded with every ingest run.
    pub name: String,
    /// Where it was loaded from, for messages.
    pub origin: String,
    /// CSV or JSONL.
    pub format: Format,
    /// How records make up orders.
    pub layout: Layout,
    /// The CSV field delimiter.
    pub delimiter: u8,
    /// Whether CSV files start with a header row naming the columns.
    pub header: bool,
    /// For CSV without a header: how many columns a row of the (orders) file has.
    pub columns: Option<usize>,
    /// For two-file CSV without a header: how many columns a lines row has.
    pub line_columns: Option<usize>,
    /// For nested JSON: the key of the lines array.
    pub lines_path: Vec<String>,
    /// How money and percent text is rounded to whole cents and basis points.
    pub rounding: Rounding,
    /// The order-level fields.
    pub order: Vec<FieldSpec>,
    /// The line-level fields.
    pub line: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContract {
    name: Spanned<String>,
    format: Spanned<String>,
    layout: Spanned<String>,
    delimiter: Option<Spanned<String>>,
    header: Option<bool>,
    columns: Option<Spanned<usize>>,
    line_columns: Option<Spanned<usize>>,
    lines_path: Option<Spanned<String>>,
    rounding: Option<Spanned<String>>,
    #[serde(default)]
    order: BTreeMap<Spanned<String>, Spanned<spec::RawField>>,
    #[serde(default)]
    line: BTreeMap<Spanned<String>, Spanned<spec::RawField>>,
}

impl Contract {
    /// The built-in contract for triglot's own order CSV.
    pub fn builtin_csv() -> Self {
        Self::from_toml(BUILTIN_CSV, "builtin:orders-csv")
            .expect("the built-in CSV contract is valid")
    }

    /// The built-in contract for triglot's own order JSONL.
    pub fn builtin_jsonl() -> Self {
        Self::from_toml(BUILTIN_JSONL, "builtin:orders-jsonl")
            .expect("the built-in JSONL contract is valid")
    }

    /// Reads and validates a contract file.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] naming the file: at line 0 when it cannot be
    /// read, else with the line of the first problem.
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let (text, origin) = ContractError::read(path)?;
        Self::from_toml(&text, &origin)
    }

    /// Parses and validates contract text; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] with the line of the first problem: TOML syntax,
    /// an unknown key, type, target field, case or rounding rule, a type that
    /// does not fit its target, a bad pattern, a missing required mapping.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_pipeline::contract::Contract;
    ///
    /// let err = Contract::from_toml(
    ///     "name = \"x\"\nformat = \"csv\"\nlayout = \"rows\"\n[line.quantity]\ncolumn = \"qty\"\ntype = \"integr\"\n",
    ///     "mine.toml",
    /// )
    /// .unwrap_err();
    /// assert_eq!(err.line, 6);
    /// assert!(err.to_string().starts_with("contract mine.toml line 6: unknown type \"integr\""));
    /// ```
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ContractError> {
        let at = |span: std::ops::Range<usize>| line_of(text, span.start);
        let error = |line: usize, message: String| ContractError {
            origin: origin.to_owned(),
            line,
            message,
        };
        let raw: RawContract = toml::from_str(text).map_err(|e| {
            error(e.span().map_or(0, |s| line_of(text, s.start)), e.message().trim().to_owned())
        })?;

        let format = match raw.format.get_ref().as_str() {
            "csv" => Format::Csv,
            "jsonl" => Format::Jsonl,
            other => {
                return Err(error(
                    at(raw.format.span()),
                    format!("unknown format {other:?} (csv or jsonl)"),
                ));
            }
        };
        let layout = match raw.layout.get_ref().as_str() {
            "rows" => Layout::Rows,
            "orders_and_lines" => Layout::OrdersAndLines,
            "nested" => Layout::Nested,
            other => {
                return Err(error(
                    at(raw.layout.span()),
                    format!("unknown layout {other:?} (rows, orders_and_lines or nested)"),
                ));
            }
        };
        if layout == Layout::Nested && format != Format::Jsonl {
            return Err(error(
                at(raw.layout.span()),
                "layout \"nested\" needs format \"jsonl\"".into(),
            ));
        }
        let delimiter = match &raw.delimiter {
            None => b',',
            Some(d) => match d.get_ref().as_str() {
                "\\t" | "\t" => b'\t',
                s if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
                s => {
                    return Err(error(
                        at(d.span()),
                        format!("delimiter {s:?} must be one ASCII character"),
                    ));
                }
            },
        };
        let rounding = match &raw.rounding {
            None => Rounding::HalfEven,
            Some(r) => Rounding::parse(r.get_ref()).ok_or_else(|| {
                error(
                    at(r.span()),
                    format!("unknown rounding {:?} (half_even, half_up or reject)", r.get_ref()),
                )
            })?,
        };
        let header = raw.header.unwrap_or(true);
        let lines_path = match (&raw.lines_path, layout) {
            (Some(p), Layout::Nested) => p.get_ref().split('.').map(str::to_owned).collect(),
            (None, Layout::Nested) => vec!["lines".to_owned()],
            (Some(p), _) => {
                return Err(error(
                    at(p.span()),
                    "lines_path applies to layout \"nested\" only".into(),
                ));
            }
            (None, _) => Vec::new(),
        };

        let build = |section: &str, fields: &BTreeMap<Spanned<String>, Spanned<spec::RawField>>| {
            let mut out = Vec::new();
            for (target, raw_field) in fields {
                let line = at(target.span());
                let target_kind = Target::parse(section, target.get_ref()).ok_or_else(|| {
                    error(
                        line,
                        format!(
                            "unknown field {section}.{} ({})",
                            target.get_ref(),
                            Target::names(section)
                        ),
                    )
                })?;
                let context = spec::BuildContext { format, header, rounding, line, at: &at };
                let field = spec::build(target_kind, raw_field.get_ref(), &context)
                    .map_err(|(line, message)| error(line, message))?;
                out.push(field);
            }
            // Keep the contract's own order, so problems are reported top to bottom.
            out.sort_by_key(|f: &FieldSpec| f.line);
            Ok::<_, ContractError>(out)
        };
        let order = build("order", &raw.order)?;
        let line = build("line", &raw.line)?;

        let contract = Contract {
            name: raw.name.get_ref().clone(),
            origin: origin.to_owned(),
            format,
            layout,
            delimiter,
            header,
            columns: raw.columns.as_ref().map(|c| *c.get_ref()),
            line_columns: raw.line_columns.as_ref().map(|c| *c.get_ref()),
            lines_path,
            rounding,
            order,
            line,
        };
        contract.check_required(text).map_err(|m| error(0, m))?;
        if format == Format::Csv && !header {
            contract.check_positions().map_err(|(line, m)| error(line, m))?;
        }
        Ok(contract)
    }

    /// The spec of an order-level target, if mapped.
    pub fn order_field(&self, target: Target) -> Option<&FieldSpec> {
        self.order.iter().find(|f| f.target == target)
    }

    /// The spec of a line-level target, if mapped.
    pub fn line_field(&self, target: Target) -> Option<&FieldSpec> {
        self.line.iter().find(|f| f.target == target)
    }

    fn check_required(&self, _text: &str) -> Result<(), String> {
        for target in Target::REQUIRED_ORDER {
            if self.order_field(target).is_none() {
                return Err(format!("order.{} must be mapped", target.name()));
            }
        }
        for target in Target::REQUIRED_LINE {
            if self.line_field(target).is_none() {
                return Err(format!("line.{} must be mapped", target.name()));
            }
        }
        if self.layout == Layout::OrdersAndLines && self.line_field(Target::LineOrderId).is_none() {
            return Err(
                "layout \"orders_and_lines\" joins by line.order_id, which must be mapped".into()
            );
        }
        Ok(())
    }

    fn check_positions(&self) -> Result<(), (usize, String)> {
        let widths = match self.layout {
            Layout::OrdersAndLines => (self.columns, self.line_columns),
            _ => (self.columns, self.columns),
        };
        let (Some(order_width), Some(line_width)) = widths else {
            return Err((
                0,
                "a CSV contract without a header must declare `columns` (and `line_columns` for two files)".into(),
            ));
        };
        for (fields, width) in [(&self.order, order_width), (&self.line, line_width)] {
            for field in fields {
                if let Column::Position(p) = field.column
                    && (p == 0 || p > width)
                {
                    return Err((field.line, format!("column {p} is outside 1..={width}")));
                }
            }
        }
        Ok(())
    }
}

/// The line number (from 1) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_contracts_load() {
        assert_eq!(Contract::builtin_csv().layout, Layout::Rows);
        assert_eq!(Contract::builtin_jsonl().layout, Layout::Nested);
    }

    fn err(text: &str) -> ContractError {
        Contract::from_toml(text, "c.toml").unwrap_err()
    }

    const HEAD: &str = "name = \"t\"\nformat = \"csv\"\nlayout = \"rows\"\n";

    #[test]
    fn unknown_key_names_its_line() {
        let e =
            err(&format!("{HEAD}[order.order_id]\ncolumn = \"id\"\ntype = \"text\"\nbogus = 1\n"));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("unknown field `bogus`"), "{e}");
    }

    #[test]
    fn unknown_target_field_names_its_line() {
        let e = err(&format!("{HEAD}[order.order_number]\ncolumn = \"id\"\ntype = \"text\"\n"));
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("unknown field order.order_number"), "{e}");
    }

    #[test]
    fn type_that_does_not_fit_the_target_is_refused() {
        let e = err(&format!("{HEAD}[line.quantity]\ncolumn = \"q\"\ntype = \"money\"\n"));
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("line.quantity takes integer"), "{e}");
    }

    #[test]
    fn bad_pattern_is_refused() {
        let e = err(&format!(
            "{HEAD}[line.sku]\ncolumn = \"s\"\ntype = \"text\"\nrequired = true\npattern = \"([a-z\"\n"
        ));
        assert_eq!(e.line, 8, "{e}");
        assert!(e.message.contains("pattern"), "{e}");
    }

    #[test]
    fn missing_mapping_is_refused() {
        let e = err(HEAD);
        assert!(e.message.contains("order.order_id must be mapped"), "{e}");
    }
}
