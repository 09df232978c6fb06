//! A flow contract as written: its TOML read into plain structs that keep
//! the line of every part, before it meets a database.
//!
//! ```toml
//! name = "billing"
//! rounding = "half_even"            # how computed decimals reach a column's scale
//!
//! [reasons]                         # the contract's own codes for the engine's reasons
//! duplicate_key = "duplicate_item_no"
//!
//! [sources.invoices]                # one input file per source, given at run time
//! format = "csv"                    # or "jsonl"
//! delimiter = "|"
//! header = false
//! fields = ["invoice_no", "site", "issued", "total"]   # names of a headerless file's columns
//! trailing_delimiter = true         # rows may end in the delimiter
//!
//! [tables.invoices]                 # a table of the migrated database
//! source = "invoices"
//! key = ["id"]                      # its natural key: the primary or a unique key
//! columns.id = { field = "invoice_no" }
//! columns.issued_on = { field = "issued", formats = ["%d.%m.%Y"] }
//! columns.currency = { value = "EUR" }
//! columns.total = { expr = "sum(invoice_items.amount)" }
//! inputs.declared = { field = "total", type = "decimal" }   # read, checked, not stored
//! checks = [{ name = "total_matches_items", expr = "declared = total", reason = "total_mismatch" }]
//!
//! [tables.invoice_items]            # a child: written and replaced with its parent
//! source = "items"
//! parent = "invoices"
//! key = ["invoice_id", "item_no"]
//! columns.invoice_id = { field = "invoice_no" }   # links to the parent by the foreign key
//! columns.meter_id = { field = "meter", lookup = "meters.serial" }   # the id of the meter with that serial
//!
//! [tables.order_lines]              # children in an array of the parent's JSON record
//! nested = "lines"
//! parent = "orders"
//! key = ["order_id", "line_no"]
//! columns.order_id = { parent = "id" }            # a column of the parent record
//! ```
//!
//! A child whose `source` is its parent's reads one file with a row per
//! child, the parent's fields repeated (or left empty) on every row.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::contract::ContractError;

/// A contract file as TOML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFlow {
    pub(crate) name: Spanned<String>,
    pub(crate) rounding: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) sources: BTreeMap<Spanned<String>, Spanned<RawSource>>,
    #[serde(default)]
    pub(crate) tables: BTreeMap<Spanned<String>, Spanned<RawTable>>,
    /// The contract's own codes for the engine's reasons
    /// (`rejected_with_parent = "rejected_with_order"`).
    #[serde(default)]
    pub(crate) reasons: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[sources.<name>]`: how one input file is written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSource {
    pub(crate) format: Spanned<String>,
    pub(crate) delimiter: Option<Spanned<String>>,
    pub(crate) header: Option<bool>,
    pub(crate) fields: Option<Spanned<Vec<String>>>,
    pub(crate) trailing_delimiter: Option<bool>,
    /// The rows of one key are together (a file written by key): it is
    /// read as it comes instead of sorted, and a key whose rows reappear
    /// later is refused as `split_key`.
    #[serde(default)]
    pub(crate) grouped: bool,
}

/// `[tables.<name>]`: how one table of the database is filled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTable {
    pub(crate) source: Option<Spanned<String>>,
    pub(crate) parent: Option<Spanned<String>>,
    /// JSONL: the key of the parent record's array that holds this table's records.
    pub(crate) nested: Option<Spanned<String>>,
    pub(crate) key: Spanned<Vec<String>>,
    /// A child joined from a file of its own by these of its fields (the
    /// parent's natural key), when its link column takes the parent's id.
    pub(crate) join: Option<Spanned<Vec<String>>>,
    /// Rows with one key are one record repeated (a customer on each of
    /// its orders): the last one is kept, and they count as records of the
    /// table that owns the file.
    #[serde(default)]
    pub(crate) distinct: bool,
    pub(crate) rounding: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) columns: BTreeMap<Spanned<String>, Spanned<RawValue>>,
    #[serde(default)]
    pub(crate) inputs: BTreeMap<Spanned<String>, Spanned<RawValue>>,
    #[serde(default)]
    pub(crate) checks: Vec<Spanned<RawCheck>>,
}

/// A column (or input) and its rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawValue {
    pub(crate) field: Option<Spanned<String>>,
    pub(crate) value: Option<Spanned<toml::Value>>,
    pub(crate) expr: Option<Spanned<String>>,
    /// A child's column taken from a column of its parent.
    pub(crate) parent: Option<Spanned<String>>,
    /// `table.column`: the field holds that natural key; the column stores
    /// the row's id its foreign key references.
    pub(crate) lookup: Option<Spanned<String>>,
    /// A value of the run: `file` (the source file), `now` (the run's
    /// start, UTC), `fingerprint` (of the family's rows).
    pub(crate) meta: Option<Spanned<String>>,
    /// Whether an upsert of an existing row sets this column (default true).
    pub(crate) update: Option<bool>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) null: Option<Vec<String>>,
    pub(crate) default: Option<String>,
    pub(crate) trim: Option<bool>,
    pub(crate) case: Option<Spanned<String>>,
    pub(crate) map: Option<BTreeMap<String, String>>,
    pub(crate) min: Option<Spanned<toml::Value>>,
    pub(crate) max: Option<Spanned<toml::Value>>,
    pub(crate) max_length: Option<u32>,
    pub(crate) pattern: Option<Spanned<String>>,
    pub(crate) allowed: Option<Vec<String>>,
    pub(crate) formats: Option<Vec<String>>,
    pub(crate) assume_offset: Option<Spanned<String>>,
    pub(crate) rounding: Option<Spanned<String>>,
    pub(crate) minor_units: Option<Spanned<u32>>,
}

/// A check between the values of one record.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck {
    pub(crate) name: Spanned<String>,
    pub(crate) expr: Spanned<String>,
    pub(crate) reason: Option<Spanned<String>>,
}

/// Reads contract text; `origin` names it in errors.
pub(crate) fn read(text: &str, origin: &str) -> Result<RawFlow, ContractError> {
    toml::from_str(text).map_err(|e| ContractError {
        origin: origin.to_owned(),
        line: e.span().map_or(0, |s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })
}

/// The line number (from 1) of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}
