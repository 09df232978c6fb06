//! The parts of a contract: target fields, types, and one field's rules.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::{FixedOffset, NaiveDateTime};
use serde::Deserialize;
use toml::Spanned;

use super::parse::Rounding;
use crate::model::{OrderStatus, limits};

/// The file format a contract reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text (`,`, `|`, `;`, tab …), with or without a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// A field of the order model that a contract fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `order.order_id`: the order's id in its source (orders.external_id).
    OrderId,
    /// `order.customer_id`: the customer's id in its source.
    CustomerId,
    /// `order.customer_name`.
    CustomerName,
    /// `order.customer_email`.
    CustomerEmail,
    /// `order.customer_country`: ISO 3166-1 alpha-2.
    CustomerCountry,
    /// `order.status`: one of the model's statuses.
    Status,
    /// `order.currency`: a 3-letter code.
    Currency,
    /// `order.placed_at`.
    PlacedAt,
    /// `order.updated_at`; when NULL, the order's `placed_at`.
    UpdatedAt,
    /// `order.total`: optional; when mapped it must equal the sum of the lines.
    Total,
    /// `line.order_id`: the order a line belongs to (the join key of two files).
    LineOrderId,
    /// `line.line_no`: position in the order, from 1.
    LineNo,
    /// `line.sku`.
    Sku,
    /// `line.quantity`: greater than zero.
    Quantity,
    /// `line.unit_price`: money, zero or more.
    UnitPrice,
    /// `line.discount`: 0 to 100 % (10,000 basis points).
    Discount,
    /// `line.note`.
    Note,
}

impl Target {
    pub(crate) const REQUIRED_ORDER: [Target; 6] = [
        Target::OrderId,
        Target::CustomerId,
        Target::CustomerName,
        Target::Status,
        Target::Currency,
        Target::PlacedAt,
    ];
    pub(crate) const REQUIRED_LINE: [Target; 4] =
        [Target::LineNo, Target::Sku, Target::Quantity, Target::UnitPrice];
    const ORDER: [Target; 10] = [
        Target::OrderId,
        Target::CustomerId,
        Target::CustomerName,
        Target::CustomerEmail,
        Target::CustomerCountry,
        Target::Status,
        Target::Currency,
        Target::PlacedAt,
        Target::UpdatedAt,
        Target::Total,
    ];
    const LINE: [Target; 7] = [
        Target::LineOrderId,
        Target::LineNo,
        Target::Sku,
        Target::Quantity,
        Target::UnitPrice,
        Target::Discount,
        Target::Note,
    ];

    /// The field's name within its section (`quantity`, `order_id`).
    pub fn name(self) -> &'static str {
        match self {
            Target::OrderId | Target::LineOrderId => "order_id",
            Target::CustomerId => "customer_id",
            Target::CustomerName => "customer_name",
            Target::CustomerEmail => "customer_email",
            Target::CustomerCountry => "customer_country",
            Target::Status => "status",
            Target::Currency => "currency",
            Target::PlacedAt => "placed_at",
            Target::UpdatedAt => "updated_at",
            Target::Total => "total",
            Target::LineNo => "line_no",
            Target::Sku => "sku",
            Target::Quantity => "quantity",
            Target::UnitPrice => "unit_price",
            Target::Discount => "discount",
            Target::Note => "note",
        }
    }

    pub(crate) fn parse(section: &str, name: &str) -> Option<Target> {
        let all: &[Target] = if section == "order" { &Self::ORDER } else { &Self::LINE };
        all.iter().copied().find(|t| t.name() == name)
    }

    pub(crate) fn names(section: &str) -> String {
        let all: &[Target] = if section == "order" { &Self::ORDER } else { &Self::LINE };
        all.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
    }

    /// The types a contract may declare for this target.
    fn types(self) -> &'static [FieldType] {
        match self {
            Target::LineNo | Target::Quantity => &[FieldType::Integer],
            Target::UnitPrice | Target::Total => &[FieldType::Money, FieldType::Cents],
            Target::Discount => &[FieldType::Percent, FieldType::BasisPoints],
            Target::PlacedAt | Target::UpdatedAt => &[FieldType::Timestamp],
            _ => &[FieldType::Text],
        }
    }

    /// Whether the model stores no NULL here (so the contract must require it or default it).
    pub(crate) fn not_null(self) -> bool {
        !matches!(
            self,
            Target::CustomerEmail
                | Target::CustomerCountry
                | Target::UpdatedAt
                | Target::Total
                | Target::Discount
                | Target::Note
        )
    }

    /// The model's length limits in characters, `(min, max)`, for text targets.
    pub(crate) fn model_length(self) -> Option<(usize, usize)> {
        match self {
            Target::OrderId | Target::CustomerId | Target::LineOrderId => {
                Some((1, limits::EXTERNAL_ID))
            }
            Target::CustomerName => Some((0, limits::CUSTOMER_NAME)),
            Target::CustomerEmail => Some((0, limits::EMAIL)),
            Target::CustomerCountry => Some((limits::COUNTRY, limits::COUNTRY)),
            Target::Currency => Some((limits::CURRENCY, limits::CURRENCY)),
            Target::Sku => Some((1, limits::SKU)),
            Target::Note => Some((0, limits::NOTE)),
            _ => None,
        }
    }

    /// The model's range for number targets, inclusive.
    pub(crate) fn model_range(self) -> Option<(i64, i64)> {
        let int_max = i64::from(i32::MAX);
        match self {
            Target::LineNo | Target::Quantity => Some((1, int_max)),
            Target::UnitPrice | Target::Total => Some((0, i64::MAX)),
            Target::Discount => Some((0, 10_000)),
            _ => None,
        }
    }
}

/// How a source value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text, kept as is (after the field's normalization).
    Text,
    /// A whole number.
    Integer,
    /// A decimal amount (`1234.5`, `-0.99`) turned into integer cents with the
    /// contract's rounding rule.
    Money,
    /// A whole number of cents.
    Cents,
    /// A decimal percentage (`12.5`) turned into basis points (1250).
    Percent,
    /// A whole number of basis points.
    BasisPoints,
    /// A date and time, converted to UTC.
    Timestamp,
}

impl FieldType {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "text" => FieldType::Text,
            "integer" => FieldType::Integer,
            "money" => FieldType::Money,
            "cents" => FieldType::Cents,
            "percent" => FieldType::Percent,
            "basis_points" => FieldType::BasisPoints,
            "timestamp" => FieldType::Timestamp,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Money => "money",
            FieldType::Cents => "cents",
            FieldType::Percent => "percent",
            FieldType::BasisPoints => "basis_points",
            FieldType::Timestamp => "timestamp",
        }
    }

    fn is_number(self) -> bool {
        !matches!(self, FieldType::Text | FieldType::Timestamp)
    }
}

/// Case folding applied to text after trimming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `to_uppercase`.
    Upper,
    /// `to_lowercase`.
    Lower,
}

/// Where a field's value is in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// A CSV column named in the header.
    Name(String),
    /// A CSV column by position, from 1.
    Position(usize),
    /// A JSON path of object keys (`customer.id`).
    Path(Vec<String>),
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Column::Name(n) => write!(f, "column {n:?}"),
            Column::Position(p) => write!(f, "column {p}"),
            Column::Path(p) => write!(f, "key {:?}", p.join(".")),
        }
    }
}

/// A parsed, normalized, valid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text(String),
    /// A number (integer, cents or basis points).
    Int(i64),
    /// A UTC timestamp.
    Time(NaiveDateTime),
}

/// One target field's complete rules.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The model field it fills.
    pub target: Target,
    /// Where its value is.
    pub column: Column,
    /// How it is read.
    pub kind: FieldType,
    /// Whether NULL is refused.
    pub required: bool,
    /// The exact source texts that mean NULL (compared before trimming).
    pub null_values: Vec<String>,
    /// The source text used when the value is NULL.
    pub default: Option<String>,
    /// Whether surrounding whitespace is removed.
    pub trim: bool,
    /// Case folding after trimming.
    pub case: Option<Case>,
    /// Exact replacements after case folding (`"canceled" → "cancelled"`).
    pub map: BTreeMap<String, String>,
    /// Smallest number allowed (after conversion to cents/basis points).
    pub min: Option<i64>,
    /// Largest number allowed.
    pub max: Option<i64>,
    /// Most characters allowed.
    pub max_length: Option<usize>,
    /// A regular expression the whole text must match.
    pub pattern: Option<regex_lite::Regex>,
    /// The only texts allowed (after normalization).
    pub allowed: Option<Vec<String>>,
    /// Timestamp formats tried after RFC 3339 (chrono `strftime` syntax).
    pub formats: Vec<String>,
    /// The UTC offset of timestamps that carry none; without it they are refused.
    pub assume_offset: Option<FixedOffset>,
    /// Rounding of money and percent text.
    pub rounding: Rounding,
    /// The contract line where the field is declared.
    pub line: usize,
}

/// What building one field needs from the whole contract.
#[derive(Clone, Copy)]
pub(crate) struct BuildContext<'a> {
    pub(crate) format: Format,
    pub(crate) header: bool,
    pub(crate) rounding: Rounding,
    /// The line of the field's `[section.target]` header.
    pub(crate) line: usize,
    /// Byte span → line number in the contract text.
    pub(crate) at: &'a dyn Fn(Range<usize>) -> usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawField {
    column: Spanned<toml::Value>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    required: Option<bool>,
    null: Option<Vec<String>>,
    default: Option<String>,
    trim: Option<bool>,
    case: Option<Spanned<String>>,
    map: Option<BTreeMap<String, String>>,
    min: Option<Spanned<i64>>,
    max: Option<Spanned<i64>>,
    max_length: Option<Spanned<usize>>,
    pattern: Option<Spanned<String>>,
    allowed: Option<Spanned<Vec<String>>>,
    formats: Option<Spanned<Vec<String>>>,
    assume_offset: Option<Spanned<String>>,
    rounding: Option<Spanned<String>>,
}

/// Validates one raw field; errors carry the contract line.
pub(crate) fn build(
    target: Target,
    raw: &RawField,
    context: &BuildContext<'_>,
) -> Result<FieldSpec, (usize, String)> {
    let BuildContext { format, header, rounding: default_rounding, line, at } = *context;
    let section = if matches!(target, Target::LineOrderId) || Target::LINE.contains(&target) {
        "line"
    } else {
        "order"
    };
    let full = format!("{section}.{}", target.name());
    let kind_name = raw.kind.get_ref();
    let kind = FieldType::parse(kind_name).ok_or_else(|| {
        (
            at(raw.kind.span()),
            format!(
                "unknown type {kind_name:?} for {full} (text, integer, money, cents, percent, basis_points, timestamp)"
            ),
        )
    })?;
    if !target.types().contains(&kind) {
        let allowed: Vec<&str> = target.types().iter().map(|t| t.name()).collect();
        return Err((
            at(raw.kind.span()),
            format!("{full} takes {}, not {kind_name}", allowed.join(" or ")),
        ));
    }

    let column = match (raw.column.get_ref(), format, header) {
        (toml::Value::String(s), Format::Jsonl, _) => {
            Column::Path(s.split('.').map(str::to_owned).collect())
        }
        (toml::Value::String(s), Format::Csv, true) => Column::Name(s.clone()),
        (toml::Value::Integer(n), Format::Csv, _) if *n >= 1 => Column::Position(*n as usize),
        (other, _, _) => {
            let expected = match (format, header) {
                (Format::Jsonl, _) => "a JSON key path such as \"customer.id\"",
                (Format::Csv, true) => "a header name or a position from 1",
                (Format::Csv, false) => "a position from 1 (the file has no header)",
            };
            return Err((
                at(raw.column.span()),
                format!("{full}: column {other:?} is not {expected}"),
            ));
        }
    };

    let required = raw.required.unwrap_or(false);
    if target.not_null() && !required && raw.default.is_none() {
        return Err((
            at(raw.kind.span()),
            format!("{full} is NOT NULL in the model: set `required = true` or give a `default`"),
        ));
    }

    let case = match &raw.case {
        None => None,
        Some(c) => Some(match c.get_ref().as_str() {
            "upper" => Case::Upper,
            "lower" => Case::Lower,
            other => {
                return Err((at(c.span()), format!("unknown case {other:?} (upper or lower)")));
            }
        }),
    };
    let rounding = match &raw.rounding {
        None => None,
        Some(r) => Some(Rounding::parse(r.get_ref()).ok_or_else(|| {
            (
                at(r.span()),
                format!("unknown rounding {:?} (half_even, half_up or reject)", r.get_ref()),
            )
        })?),
    };

    let text_rule = |name: &str, span: Range<usize>| {
        if kind == FieldType::Text {
            Ok(())
        } else {
            Err((at(span), format!("{name} applies to text fields; {full} is {}", kind.name())))
        }
    };
    let number_rule = |name: &str, span: Range<usize>| {
        if kind.is_number() {
            Ok(())
        } else {
            Err((at(span), format!("{name} applies to number fields; {full} is {}", kind.name())))
        }
    };
    if let Some(m) = &raw.max_length {
        text_rule("max_length", m.span())?;
    }
    if let Some(c) = &raw.case {
        text_rule("case", c.span())?;
    }
    let pattern = match &raw.pattern {
        None => None,
        Some(p) => {
            text_rule("pattern", p.span())?;
            Some(
                regex_lite::Regex::new(&format!("^(?:{})$", p.get_ref()))
                    .map_err(|e| (at(p.span()), format!("bad pattern: {e}")))?,
            )
        }
    };
    if let Some(a) = &raw.allowed {
        text_rule("allowed", a.span())?;
        if target == Target::Status {
            for value in a.get_ref() {
                if value.parse::<OrderStatus>().is_err() {
                    return Err((
                        at(a.span()),
                        format!("allowed status {value:?} is not a model status"),
                    ));
                }
            }
        }
    }
    for (name, bound) in [("min", &raw.min), ("max", &raw.max)] {
        if let Some(b) = bound {
            number_rule(name, b.span())?;
        }
    }
    if let (Some(lo), Some(hi)) = (&raw.min, &raw.max)
        && lo.get_ref() > hi.get_ref()
    {
        return Err((at(hi.span()), format!("max {} is below min {}", hi.get_ref(), lo.get_ref())));
    }
    let timestamp_rule = |name: &str, span: Range<usize>| {
        if kind == FieldType::Timestamp {
            Ok(())
        } else {
            Err((
                at(span),
                format!("{name} applies to timestamp fields; {full} is {}", kind.name()),
            ))
        }
    };
    if let Some(f) = &raw.formats {
        timestamp_rule("formats", f.span())?;
    }
    let assume_offset = match &raw.assume_offset {
        None => None,
        Some(o) => {
            timestamp_rule("assume_offset", o.span())?;
            Some(super::parse::offset(o.get_ref()).ok_or_else(|| {
                (
                    at(o.span()),
                    format!("assume_offset {:?} is not an offset such as \"+00:00\"", o.get_ref()),
                )
            })?)
        }
    };
    if let Some(r) = &raw.rounding
        && !matches!(kind, FieldType::Money | FieldType::Percent)
    {
        return Err((
            at(r.span()),
            format!("rounding applies to money and percent fields; {full} is {}", kind.name()),
        ));
    }

    Ok(FieldSpec {
        target,
        column,
        kind,
        required,
        null_values: raw.null.clone().unwrap_or_default(),
        default: raw.default.clone(),
        trim: raw.trim.unwrap_or(false),
        case,
        map: raw.map.clone().unwrap_or_default(),
        min: raw.min.as_ref().map(|m| *m.get_ref()),
        max: raw.max.as_ref().map(|m| *m.get_ref()),
        max_length: raw.max_length.as_ref().map(|m| *m.get_ref()),
        pattern,
        allowed: raw.allowed.as_ref().map(|a| a.get_ref().clone()),
        formats: raw.formats.as_ref().map(|f| f.get_ref().clone()).unwrap_or_default(),
        assume_offset,
        rounding: rounding.unwrap_or(default_rounding),
        line,
    })
}
