//! What input contracts share: their errors with the contract's line,
//! the values and file formats of input records, the reasons a record is
//! refused, and the order schema's contract files.
//!
//! A contract is a flow ([`crate::flow::Flow`]): it names the database's
//! own tables and fills their columns from the fields of input files. The
//! order schema's are built in: [`ORDERS_FLOW`], [`ORDERS_JSONL_FLOW`]
//! (their TOML is in `pipeline/contracts/`) and the checks its catalog
//! cannot state, [`ORDERS_QUALITY`].

mod input;
pub(crate) mod parse;
mod reject;

use std::fmt;
use std::path::Path;

pub use self::input::{Case, Format, RawValue};
pub(crate) use self::parse::offset as parse_offset;
pub use self::reject::{FieldError, Reason, Reject, STORED_TEXT_BYTES, storable_text};

/// The order CSV as a flow contract over the order schema (see
/// [`crate::flow`]).
pub const ORDERS_FLOW: &str = include_str!("../../contracts/orders-flow.toml");
/// The order JSONL as a flow contract over the order schema.
pub const ORDERS_JSONL_FLOW: &str = include_str!("../../contracts/orders-jsonl-flow.toml");
/// The order schema's checks that its catalog cannot state, as a quality
/// report configuration (see [`crate::flow::QualityConfig`]).
pub const ORDERS_QUALITY: &str = include_str!("../../contracts/orders-quality.toml");

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
