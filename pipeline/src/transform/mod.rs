//! Transformation rules that are declared, not coded: exact numbers, the
//! values of a record, and the small expression language that computes
//! fields, aggregates children into their parent and checks one against the
//! other.

pub use self::column::{ColumnKind, ColumnRule};
pub use self::exact::{Exact, ExactError, Round};
pub use self::expr::{EvalError, Expr, Failure, MAX_NESTING, MAX_TOKENS, ParseError, Record};
pub use self::value::Value;

mod column;
pub(crate) mod exact;
mod expr;
mod value;
